package io.dualwrite.routing;

import java.sql.SQLException;
import java.util.Optional;

/**
 * Work that readies the stores for a step before any instance routes by it: moving the target's identity
 * and sequence counters past the source's when the target starts taking inserts, for one
 * ({@link io.dualwrite.ids.IdAlignment}). A {@link RampGuard} only looks; a preparation changes something.
 *
 * <p>The instance that asks for a step runs every preparation once, after the guards have passed (or were
 * forced) and before the step is written as pending — so before any instance holds a request for it, and
 * before any request takes the new route. It runs for every change of rules, rollbacks included (a rollback
 * hands inserts back to the source, which may need the same care), and for the setting a new control store
 * was seeded with ({@link MigrationController#checkUnsteppedSetting}). It must be idempotent and may only
 * move counters forward: two instances asking at once both run it, and a step it prepared may still be
 * refused (another step won) or revert at its deadline.
 */
@FunctionalInterface
public interface StepPreparation {

    /**
     * Readies the stores for a step.
     *
     * @param from the rules in force
     * @param to the rules asked for
     * @return the reason the step cannot be made safe, or empty when it is ready; the step is then refused
     *     unless forced (the override is logged)
     * @throws SQLException if a store cannot be reached; the step is refused with the error's message
     */
    Optional<String> prepare(RoutingRules from, RoutingRules to) throws SQLException;
}
