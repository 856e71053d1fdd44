package io.dualwrite.routing;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * What a pending step comes to, given every instance the control store knows: the judgement
 * {@link MigrationController} makes inside {@link ControlStore#finishStep}, apart so it can be read and tested
 * on its own.
 *
 * <p>An instance that has not acknowledged the step holds it back while its lease is live. Once the lease
 * has run out it is counted out only if its last heartbeat promised to fence itself, and only once every
 * change committed before that lease ran out has been applied ({@code drained}): what it committed before it
 * lapsed is not behind the acknowledgements. An instance that did not promise is waited for until an operator
 * drops it. Past the deadline a step still held back reverts, and the reason names each instance and what to
 * do about it.
 *
 * @param next the state to write: the step activated or reverted; null to leave it pending
 * @param awaitsDrain whether the step waits only because lapsed instances' changes may still be unapplied,
 *     so the caller should measure the drains again
 */
record StepDecision(ControlState next, boolean awaitsDrain) {

    /**
     * @param current the pending state
     * @param instances every registered instance
     * @param now this instance's wall clock
     * @param drained every change committed before this instant, by any instance, was found applied
     * @param lease the lease length, to say when a lapsed instance last renewed
     * @param by this instance's id, as the author of the change
     * @return the decision
     */
    static StepDecision of(ControlState current, List<InstanceStatus> instances, Instant now, Instant drained,
            Duration lease, String by) {
        List<String> unacknowledged = new ArrayList<>();
        List<InstanceStatus> unpromised = new ArrayList<>();
        List<String> undrained = new ArrayList<>();
        for (InstanceStatus instance : instances) {
            if (instance.acknowledged() >= current.version()) {
                continue;
            }
            if (instance.liveAt(now)) {
                unacknowledged.add(instance.instanceId());
            } else if (!instance.fences()) {
                unpromised.add(instance);
            } else if (instance.leaseUntil().isAfter(drained)) {
                undrained.add(instance.instanceId());
            }
        }
        String step = "step " + current.active() + " -> " + current.pending();
        if (unacknowledged.isEmpty() && unpromised.isEmpty() && undrained.isEmpty()) {
            return new StepDecision(current.activate(by, step + " active (" + current.message() + ")"), false);
        }
        boolean awaitsDrain = !undrained.isEmpty();
        if (!now.isAfter(current.deadline())) {
            return new StepDecision(null, awaitsDrain);
        }
        List<String> reasons = new ArrayList<>();
        for (InstanceStatus instance : unpromised) {
            reasons.add("instance " + instance.instanceId() + " has not renewed its lease since "
                    + instance.leaseUntil().minus(lease) + " (it ran out at " + instance.leaseUntil() + ") and"
                    + " did not promise to fence itself (it last saw the source primary of every row, where an"
                    + " instance without the control store goes on writing the source, or its mirror keeps changes"
                    + " in memory), so it may still write by the old routes; once you know it is stopped or dead, drop"
                    + " it (MigrationController.dropInstance(\"" + instance.instanceId() + "\"), or the endpoint's"
                    + " drop-instance) and ask again");
        }
        if (!unacknowledged.isEmpty()) {
            reasons.add("instances " + unacknowledged + " did not acknowledge before " + current.deadline()
                    + " (they hold requests on moving keys until their transactions end and their mirrors drain)");
        }
        if (!undrained.isEmpty()) {
            reasons.add("instances " + undrained + " lapsed and may be counted out, but the outbox still held changes"
                    + " committed before they lapsed (see the mirror's health: an apply that keeps failing holds the"
                    + " step back)");
        }
        return new StepDecision(current.revert(by, step + " reverted: " + String.join("; ", reasons)), awaitsDrain);
    }
}
