package io.dualwrite.capture.jdbc;

/**
 * What a {@link CapturingDataSource} does with DDL on a mapped table ({@code CREATE TABLE}, {@code ALTER},
 * {@code DROP}, {@code RENAME}, {@code CREATE INDEX}, {@code TRUNCATE}) in a phase that mirrors (DUAL_WRITE,
 * RAMP, or a step into or out of them). In SOURCE_ONLY and TARGET_ONLY nothing is mirrored, so such DDL
 * always runs. Set with {@code dualwrite.capture.schema-changes}.
 *
 * <p>A schema change during a migration must reach both stores and the mapping together: the README's
 * "Schema tools and schema changes" gives the order.
 */
public enum SchemaChangePolicy {

    /**
     * Throw an {@link java.sql.SQLException} before the statement runs, saying how to roll the change out.
     * The default: a change made on one store only breaks the mirror or leaves the other store behind.
     */
    FAIL,

    /**
     * Run the statement, log it once per SQL text with what to do next, and publish
     * {@link io.dualwrite.event.DualWriteEvent.UnattributedWrite} for the table, so that it is reconciled
     * (a {@code TRUNCATE} or a column default writes rows the mirror never hears of).
     */
    WARN
}
