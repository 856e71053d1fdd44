package io.dualwrite.ids;

/**
 * How {@link IdAlignment} keeps the ids the two stores generate apart while both take inserts (RAMP).
 * Whatever the strategy, the store that takes every insert after a step (the target at TARGET_ONLY, the
 * source after a rollback from RAMP) is first moved past every id either store holds or has handed out.
 */
public enum IdStrategy {

    /** Ids are left to the stores and the application; no step is prepared or refused for them. */
    NONE,

    /**
     * Disjoint ranges. On entering RAMP one store keeps counting from a new start high above every id in
     * use, and the other gets the range below it, capped with the sequence's {@code MAXVALUE} so that
     * running out fails an insert instead of colliding. A MariaDB {@code AUTO_INCREMENT} counter follows
     * the explicit ids the mirror writes, so MariaDB always takes the high range and the capped range goes
     * to a sequence (PostgreSQL, H2); between two stores that are both MariaDB this strategy is refused. A
     * step within RAMP is refused when the capped range has less than a tenth of
     * {@code dualwrite.ids.range} left.
     */
    DISJOINT,

    /**
     * Interleaving: the source generates odd ids, the target even ones. Sequences (PostgreSQL, H2) are set
     * to {@code INCREMENT BY 2} at a start of the right parity; MariaDB cannot set this per table, so its
     * sessions must carry {@code auto_increment_increment=2} and {@code auto_increment_offset=1} (source) or
     * {@code 2} (target), e.g. through the JDBC URL's {@code sessionVariables}: a step into or within RAMP is
     * refused while a connection of that store's pool does not. No range runs out; MariaDB's counter still
     * follows explicit ids, but only onto its own parity.
     */
    INTERLEAVE
}
