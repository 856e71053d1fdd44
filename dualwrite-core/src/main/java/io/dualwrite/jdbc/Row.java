package io.dualwrite.jdbc;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One row as read from, or about to be written to, a store: an ordered, immutable map from column
 * name to value. Column names are compared case-insensitively (H2 reports upper case, PostgreSQL lower
 * case), and {@link #columns()} returns them in lower case.
 */
public final class Row {

    private final Map<String, Object> values;

    private Row(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
    }

    /**
     * Creates a row from a map of column names to values; the map's iteration order is kept.
     *
     * @param values column name to value, {@code null} values allowed
     * @return the row
     * @throws IllegalArgumentException if two column names differ only in case
     */
    public static Row of(Map<String, ?> values) {
        Map<String, Object> copy = new LinkedHashMap<>(capacity(values.size()));
        values.forEach((column, value) -> {
            String key = canonical(column);
            if (copy.containsKey(key)) {
                throw new IllegalArgumentException("column '" + column + "' appears twice in a row");
            }
            copy.put(key, value);
        });
        return new Row(copy);
    }

    /**
     * Wraps a map whose keys are already lower case and distinct, without copying it: the storage
     * layer's hot path, one map per row read. The caller must not touch the map afterwards.
     */
    static Row ofCanonical(LinkedHashMap<String, Object> values) {
        return new Row(values);
    }

    static int capacity(int columns) {
        return columns * 4 / 3 + 1;
    }

    /**
     * Returns the value of a column.
     *
     * @param column the column name, in any case
     * @return the value, possibly {@code null}
     * @throws IllegalArgumentException if the row has no such column
     */
    public Object get(String column) {
        // Most callers already pass the lower-case name: look it up before paying for toLowerCase.
        Object value = values.get(column);
        if (value != null || values.containsKey(column)) {
            // A NULL under the exact name is as common as any value (nullable columns); no toLowerCase for it.
            return value;
        }
        String key = canonical(column);
        if (!values.containsKey(key)) {
            throw new IllegalArgumentException("row has no column '" + column + "'; it has " + values.keySet());
        }
        return values.get(key);
    }

    /**
     * Whether the row has a column of this name.
     *
     * @param column the column name, in any case
     * @return true if present (even with a {@code null} value)
     */
    public boolean has(String column) {
        return values.containsKey(canonical(column));
    }

    /** @return the column names, lower case, in order */
    public Set<String> columns() {
        return values.keySet();
    }

    /** @return the row as an unmodifiable map with lower-case column names */
    public Map<String, Object> asMap() {
        return values;
    }

    /**
     * Returns a copy of this row with one column set (added at the end if absent).
     *
     * @param column the column name
     * @param value the value
     * @return the new row
     */
    public Row with(String column, Object value) {
        Map<String, Object> copy = new LinkedHashMap<>(values);
        copy.put(canonical(column), value);
        return new Row(copy);
    }

    static String canonical(String column) {
        return column.toLowerCase(Locale.ROOT);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof Row row && values.equals(row.values);
    }

    @Override
    public int hashCode() {
        return Objects.hash(values);
    }

    @Override
    public String toString() {
        return values.toString();
    }
}
