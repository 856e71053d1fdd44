package io.dualwrite.routing;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * The migration's shared setting as a control store holds it: the active rules every instance routes
 * by, and the step under way, if any. Each change gets the next version, so a store can update it with
 * compare-and-set.
 *
 * @param version increases by one with every change
 * @param active the rules in force
 * @param pending the rules a step is moving to, or null when no step is under way
 * @param deadline when the pending step reverts if not every live instance has acknowledged it, or null
 * @param changedBy who made the last change (an instance id, or an operator's note)
 * @param message what the last change did, for the log and the actuator endpoint
 */
public record ControlState(long version, RoutingRules active, RoutingRules pending, Instant deadline,
        String changedBy, String message) {

    /** Checks the parts. */
    public ControlState {
        Objects.requireNonNull(active, "active");
        if ((pending == null) != (deadline == null)) {
            throw new IllegalArgumentException("a pending step needs a deadline, and only a pending step has one");
        }
        changedBy = changedBy == null ? "" : changedBy;
        message = message == null ? "" : message;
    }

    /**
     * @param rules the rules in force
     * @return a first state: version 0, no step under way
     */
    public static ControlState initial(RoutingRules rules) {
        return new ControlState(0, rules, null, null, "initial", "initial rules " + rules);
    }

    /** @return the rules a step is moving to, if one is under way */
    public Optional<RoutingRules> pendingRules() {
        return Optional.ofNullable(pending);
    }

    /**
     * @param next the rules to move to
     * @param until the deadline
     * @param by who asks
     * @param why what for
     * @return the next version, with a step to {@code next} under way
     */
    ControlState begin(RoutingRules next, Instant until, String by, String why) {
        return new ControlState(version + 1, active, next, until, by, why);
    }

    /** @return the next version, the pending rules in force */
    ControlState activate(String by, String why) {
        return new ControlState(version + 1, pending, null, null, by, why);
    }

    /**
     * The per-user move that {@code next} makes active, if it is the activation of this state's pending move:
     * a control store writes it to its user-route table in the same act as {@code next}.
     *
     * @param next the state that follows this one
     * @return the move, or null
     */
    RoutingRules.UserMove moveActivatedBy(ControlState next) {
        if (pending == null || pending.move() == null || next.pending() != null || !next.active().equals(pending)) {
            return null;
        }
        return pending.move();
    }

    /** @return the next version, the pending step dropped */
    ControlState revert(String by, String why) {
        return new ControlState(version + 1, active, null, null, by, why);
    }
}
