package io.dualwrite.verify;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.routing.Route;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One confirmed difference between the stores for one row. Values of masked columns are never held here,
 * so a mismatch can be logged or handed to any listener as it is.
 *
 * @param table the source table
 * @param key the row's source key
 * @param kind what differs
 * @param primary the store that was primary for the row (whose state a repair keeps)
 * @param columns for {@link Kind#DIFFERENT}, the differing target columns, masked ones included; else empty
 * @param maskedColumns the differing columns whose values are withheld
 * @param sourceValues the mapped source values of the differing unmasked columns
 * @param targetValues the target values of the differing unmasked columns
 * @param sourceVersion the source row's version, or {@code null} if absent or the table has none
 * @param targetVersion the target row's version, or {@code null} if absent or the table has none
 */
public record Mismatch(String table, RowKey key, Kind kind, Route primary, List<String> columns,
        Set<String> maskedColumns, Map<String, Object> sourceValues, Map<String, Object> targetValues,
        Object sourceVersion, Object targetVersion) {

    /** What differs about a row. */
    public enum Kind {
        /** The source has the row, the target does not. */
        MISSING_IN_TARGET,
        /** The target has a row the source does not. */
        EXTRA_IN_TARGET,
        /** Both have the row, with different values. */
        DIFFERENT
    }

    /** Copies the collections, keeping {@code null} values. */
    public Mismatch {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(primary, "primary");
        columns = List.copyOf(columns);
        maskedColumns = Collections.unmodifiableSet(new LinkedHashSet<>(maskedColumns));
        sourceValues = Collections.unmodifiableMap(new LinkedHashMap<>(sourceValues));
        targetValues = Collections.unmodifiableMap(new LinkedHashMap<>(targetValues));
    }
}
