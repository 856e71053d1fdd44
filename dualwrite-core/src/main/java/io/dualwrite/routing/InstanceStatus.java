package io.dualwrite.routing;

import java.time.Instant;

/**
 * One service instance as the control store knows it.
 *
 * @param instanceId the instance's id
 * @param acknowledged the highest control-state version it has acknowledged (held moving requests,
 *     finished the transactions that started before, and applied what they committed)
 * @param leaseUntil when it counts as gone unless it renews its heartbeat
 * @param fences whether its last heartbeat promised that it fences itself once its lease lapses: only such
 *     an instance may be counted out by a step when its lease runs out; any other is waited for, until an
 *     operator drops it ({@link MigrationController#dropInstance})
 */
public record InstanceStatus(String instanceId, long acknowledged, Instant leaseUntil, boolean fences) {

    /**
     * @param now the present
     * @return whether the instance still counts as live
     */
    public boolean liveAt(Instant now) {
        return leaseUntil.isAfter(now);
    }
}
