package io.dualwrite.jdbc;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One row as read from, or about to be written to, a store: an ordered, immutable map from column
 * name to value. Rows read by the storage layer keep their values in an array beside their statement's shared
 * column layout, not in a map of their own. Column names are compared case-insensitively (H2 reports upper case, PostgreSQL lower
 * case), and {@link #columns()} returns them in lower case.
 */
public final class Row {

    private final Map<String, Object> values;
    /** The values by position, for a row read by the storage layer; null for a row built from a map. */
    private final Positional positional;

    private Row(Map<String, Object> values) {
        this.values = Collections.unmodifiableMap(values);
        this.positional = values instanceof Positional p ? p : null;
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

    /**
     * Wraps the values of one row read by a statement whose columns are {@code layout}'s, in that order, without a
     * map per row: the storage layer's hot path. The caller must not touch the array afterwards.
     */
    static Row ofPositional(Layout layout, Object[] values) {
        return new Row(new Positional(layout, values));
    }

    /**
     * The values in {@code layout}'s column order, when this row was read with that very layout; else {@code null},
     * and the caller looks its columns up by name. The array is the row's own: it must not be changed.
     */
    Object[] positional(Layout layout) {
        return positional != null && positional.layout == layout ? positional.values : null;
    }

    /** @return the layout this row was read with, or {@code null} for a row built from a map */
    Layout layout() {
        return positional == null ? null : positional.layout;
    }

    /**
     * The column layout of a row read by the storage layer, to be compared by identity: rows that return the same
     * object hold the same columns at the same positions, so a caller comparing many rows can look each column's
     * {@link #position} up once per layout instead of once per row.
     *
     * @return an opaque object, or {@code null} for a row built from a map
     */
    public Object sharedLayout() {
        return positional == null ? null : positional.layout;
    }

    /**
     * @param canonicalColumn a lower-case column name
     * @return its position among {@link #columns()}, or -1 when the row has no such column
     */
    public int position(String canonicalColumn) {
        if (positional != null) {
            Integer position = positional.layout.positions.get(canonicalColumn);
            return position == null ? -1 : position;
        }
        int i = 0;
        for (String column : values.keySet()) {
            if (column.equals(canonicalColumn)) {
                return i;
            }
            i++;
        }
        return -1;
    }

    /**
     * @param position a position among {@link #columns()}, as {@link #position} returns it
     * @return the value there, possibly {@code null}
     * @throws IndexOutOfBoundsException if the row has fewer columns
     */
    public Object valueAt(int position) {
        if (positional != null) {
            return positional.values[position];
        }
        if (position < 0 || position >= values.size()) {
            throw new IndexOutOfBoundsException("row of " + values.size() + " columns has no position " + position);
        }
        int i = 0;
        for (Object value : values.values()) {
            if (i++ == position) {
                return value;
            }
        }
        throw new IndexOutOfBoundsException(position);
    }

    /** The lower-case column names shared by every row one statement reads, with each name's position. */
    static final class Layout {
        private final String[] names;
        private final Map<String, Integer> positions;

        Layout(String[] canonicalNames) {
            this.names = canonicalNames.clone();
            Map<String, Integer> index = new java.util.HashMap<>(capacity(names.length));
            for (int i = 0; i < names.length; i++) {
                if (index.put(names[i], i) != null) {
                    throw new IllegalArgumentException("column '" + names[i] + "' appears twice in a row");
                }
            }
            this.positions = index;
        }

        /** Whether rows of this layout carry exactly these lower-case columns, in this order. */
        boolean sameColumns(String[] canonicalNames) {
            return java.util.Arrays.equals(names, canonicalNames);
        }
    }

    /** A read-only, ordered map over a layout and one row's values. */
    private static final class Positional extends java.util.AbstractMap<String, Object> {
        private final Layout layout;
        private final Object[] values;

        Positional(Layout layout, Object[] values) {
            if (values.length != layout.names.length) {
                throw new IllegalArgumentException("a row of " + layout.names.length + " columns has " + values.length
                        + " values");
            }
            this.layout = layout;
            this.values = values;
        }

        @Override
        public Object get(Object column) {
            Integer position = layout.positions.get(column);
            return position == null ? null : values[position];
        }

        @Override
        public boolean containsKey(Object column) {
            return layout.positions.containsKey(column);
        }

        @Override
        public int size() {
            return values.length;
        }

        @Override
        public Set<Map.Entry<String, Object>> entrySet() {
            return new java.util.AbstractSet<>() {
                @Override
                public java.util.Iterator<Map.Entry<String, Object>> iterator() {
                    return new java.util.Iterator<>() {
                        private int next;

                        @Override
                        public boolean hasNext() {
                            return next < values.length;
                        }

                        @Override
                        public Map.Entry<String, Object> next() {
                            if (next >= values.length) {
                                throw new java.util.NoSuchElementException();
                            }
                            int i = next++;
                            return new java.util.AbstractMap.SimpleImmutableEntry<>(layout.names[i], values[i]);
                        }
                    };
                }

                @Override
                public int size() {
                    return values.length;
                }
            };
        }
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
