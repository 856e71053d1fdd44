package io.dualwrite.routing;

/**
 * What became of a requested change of the routing setting.
 *
 * @param outcome the outcome
 * @param message why, in words for an operator
 * @param state the control state afterwards
 */
public record StepResult(Outcome outcome, String message, ControlState state) {

    /** The outcomes of a step. */
    public enum Outcome {
        /** Every live instance acknowledged; the new setting is in force. */
        ACTIVATED,
        /** The step did not complete before its deadline; the previous setting stays. */
        REVERTED,
        /** A guard or a step already under way refused it; nothing changed. */
        REFUSED,
        /** The setting was already the one asked for. */
        UNCHANGED
    }

    /** @return whether the asked-for setting is now in force */
    public boolean inForce() {
        return outcome == Outcome.ACTIVATED || outcome == Outcome.UNCHANGED;
    }
}
