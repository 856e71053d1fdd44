package io.dualwrite.capture.jdbc;

/**
 * What a {@link CapturingDataSource} does with a statement that writes a mapped table but whose
 * changed keys it cannot tell: a multi-table update, {@code INSERT ... SELECT}, a stored procedure,
 * DDL on a mapped table, or text it cannot parse. Set with {@code dualwrite.capture.unattributable}.
 */
public enum UnattributablePolicy {

    /**
     * Throw an {@link java.sql.SQLException} before the statement runs, naming it. The default: a write
     * the mirror never hears of is a silent difference between the stores.
     */
    FAIL,

    /**
     * Run the statement, log it once per SQL text, count it and publish
     * {@link io.dualwrite.event.DualWriteEvent.UnattributedWrite}, so that the table is reconciled.
     */
    WARN
}
