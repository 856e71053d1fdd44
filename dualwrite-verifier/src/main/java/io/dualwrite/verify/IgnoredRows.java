package io.dualwrite.verify;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;

/**
 * Rows a comparison leaves alone: neither counted, logged nor repaired. The degradation marks are the one
 * real source ({@code degradation::ignores}, see {@code io.dualwrite.degrade.Degradation}): rows an operator
 * took out of the migration differ on purpose until they are unmarked and copied again.
 */
@FunctionalInterface
public interface IgnoredRows {

    /**
     * @param table the source table
     * @param sourceKey the row's source key, or null when a target row's key does not map back
     * @param sourceRow the source's row, or null when absent
     * @param targetRow the target's row (target shape), or null when absent
     * @return whether the comparison must leave the row alone
     */
    boolean ignores(String table, RowKey sourceKey, Row sourceRow, Row targetRow);

    /** @return nothing ignored (the default) */
    static IgnoredRows none() {
        return (table, sourceKey, sourceRow, targetRow) -> false;
    }
}
