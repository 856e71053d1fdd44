package io.dualwrite.mapping;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * A {@link TableMapping} checked against both stores: the statements for each side and the row
 * mapping between them. Obtained from {@link MappedTables}; immutable and thread-safe.
 *
 * <p>This is the one place rows and keys change shape between the stores — renames, converters,
 * splits, constants, the transformer and the key mapping — for every path that moves rows: the
 * mirror, the backfill and the verifier. A row whose value does not convert fails as a whole with an
 * {@link IllegalArgumentException} naming the table, the key, the column and the value; no row is ever
 * returned half-converted.
 *
 * <p>With {@link KeyMapping#idMap()}, mapping a key the first time writes it to
 * {@value KeyMapping#ID_MAP_TABLE} on a connection of its own from the target pool.
 */
public final class MappedTable {

    private static final int MAX_VALUE_LENGTH_SHOWN = 100;

    private final TableMapping mapping;
    private final TableOps source;
    private final TableOps target;
    private final Map<String, String> columnMap;
    private final KeyMapping keyMapping;
    /** Source column to its converter: the declared ones, and those the column types imply. */
    private final Map<String, ColumnConverter> converters;
    private final Map<String, ColumnConverter> implied;
    private final List<String> sourceKeyColumns;
    private final List<String> targetKeyColumns;
    private final String property;
    /** For a reversed view, the table it reverses; null for a table as declared. */
    private final MappedTable forward;
    private final MappedTable reversed;
    /** Same columns in the same order, nothing converted: a row is its own image on the other side. */
    private final boolean identity;

    MappedTable(TableMapping mapping, TableOps source, TableOps target, Map<String, String> columnMap,
            KeyMapping keyMapping, Map<String, ColumnConverter> implied) {
        this.forward = null;
        this.mapping = mapping;
        Map<String, ColumnConverter> inEffect = new LinkedHashMap<>(implied);
        inEffect.putAll(mapping.converters());
        this.converters = Collections.unmodifiableMap(inEffect);
        this.implied = Map.copyOf(implied);
        this.source = source;
        this.target = target;
        this.columnMap = columnMap;
        this.keyMapping = keyMapping;
        this.sourceKeyColumns = source.keyColumns().stream().map(c -> c.toLowerCase(Locale.ROOT)).toList();
        this.targetKeyColumns = target.keyColumns().stream().map(c -> c.toLowerCase(Locale.ROOT)).toList();
        this.property = "dualwrite.tables." + mapping.sourceTable();
        this.identity = mapping.transformer().isEmpty() && converters.isEmpty() && mapping.splits().isEmpty()
                && mapping.constants().isEmpty() && keyMapping == KeyMapping.identity()
                && columnMap.entrySet().stream().allMatch(e -> e.getKey().equals(e.getValue()))
                && new ArrayList<>(columnMap.keySet()).equals(target.columns())
                && source.columns().equals(target.columns());
        this.reversed = new MappedTable(this);
    }

    private MappedTable(MappedTable forward) {
        this.forward = forward;
        this.reversed = forward;
        this.mapping = forward.mapping;
        this.converters = forward.converters;
        this.implied = forward.implied;
        this.source = forward.target;
        this.target = forward.source;
        this.columnMap = forward.columnMap;
        this.keyMapping = forward.keyMapping;
        this.sourceKeyColumns = forward.targetKeyColumns;
        this.targetKeyColumns = forward.sourceKeyColumns;
        this.property = forward.property;
        this.identity = forward.identity;
    }

    /**
     * The same table with the stores' roles swapped, for mirroring from the target back to the source
     * during RAMP: {@link #source()} is the target table, {@link #toTarget(Row)} maps a target row back
     * to its source row, {@link #toTargetKey} maps a target key to its source key, and so on.
     * {@link #name()} stays the source table's configured name. Reversing twice gives this table.
     *
     * @return the reversed view
     */
    public MappedTable reversed() {
        return reversed;
    }

    /** @return whether this is a {@link #reversed()} view, whose {@link #source()} is the target store */
    public boolean isReversed() {
        return forward != null;
    }

    /** @return the declared mapping */
    public TableMapping mapping() {
        return mapping;
    }

    /** @return the logical table name changes are recorded under: the source table as configured */
    public String name() {
        return mapping.sourceTable();
    }

    /** @return the statements for the source table */
    public TableOps source() {
        return source;
    }

    /** @return the statements for the target table */
    public TableOps target() {
        return target;
    }

    /** @return the target columns written, as stored */
    public List<String> targetColumns() {
        return target.columns();
    }

    /**
     * Whether rows can also be mapped from the target back to the source, as RAMP needs. Only a
     * {@link RowTransformer} that does not implement {@link RowTransformer#toSource} makes a table
     * one-way; declarative mappings always go both ways.
     *
     * @return true unless the table is one-way
     */
    public boolean reversible() {
        if (forward != null) {
            return true;
        }
        return mapping.transformer().map(RowTransformer::reversible).orElse(true);
    }

    /**
     * Maps a source row to its target row.
     *
     * @param sourceRow a row read with {@link #source()}
     * @return the row to write with {@link #target()}
     * @throws IllegalArgumentException if a value does not convert, the key cannot be mapped, or the
     *     transformer rejects the row or leaves out a target column; the message names the table, the
     *     key, the column and the value
     * @throws IllegalStateException if the id map cannot be read or written
     */
    public Row toTarget(Row sourceRow) {
        return toTarget(List.of(sourceRow)).get(0);
    }

    /**
     * Maps source rows to their target rows, mapping their keys in as few round trips as the key
     * mapping allows. Fails as a whole on the first row that does not map; callers that must isolate
     * bad rows map them one by one.
     *
     * @param sourceRows rows read with {@link #source()}
     * @return the rows to write with {@link #target()}, in the same order
     * @throws IllegalArgumentException if a row does not map (see {@link #toTarget(Row)})
     * @throws IllegalStateException if the id map cannot be read or written
     */
    public List<Row> toTarget(Collection<Row> sourceRows) {
        if (forward != null) {
            List<Row> back = new ArrayList<>(sourceRows.size());
            for (Row row : sourceRows) {
                back.add(forward.toSource(row));
            }
            return back;
        }
        if (identity) {
            return new ArrayList<>(sourceRows);
        }
        List<Row> mapped = new ArrayList<>(sourceRows.size());
        List<RowKey> sourceKeys = new ArrayList<>(sourceRows.size());
        for (Row row : sourceRows) {
            mapped.add(mapRow(row));
            sourceKeys.add(source.keyOf(row));
        }
        if (keyMapping == KeyMapping.identity()) {
            return mapped;
        }
        // Keys last, so that a row that does not convert never takes a number from the id map.
        Map<RowKey, RowKey> targetKeys = mapKeys(sourceKeys);
        List<Row> keyed = new ArrayList<>(mapped.size());
        for (int i = 0; i < mapped.size(); i++) {
            keyed.add(withKey(mapped.get(i), targetKeyColumns, targetKeys.get(sourceKeys.get(i))));
        }
        return keyed;
    }

    /**
     * Maps a target row back to its source row, for rows that travel from the target to the source
     * during RAMP. Constants are dropped, splits merged, converters inverted.
     *
     * @param targetRow a row read with {@link #target()}
     * @return the row to write with {@link #source()}
     * @throws IllegalArgumentException if a value does not convert back, or the key cannot be mapped
     *     back (an id-mapped row created in the target)
     * @throws IllegalStateException if the table is one-way (see {@link #reversible()}), or the id map
     *     cannot be read
     */
    public Row toSource(Row targetRow) {
        if (forward != null) {
            return forward.toTarget(targetRow);
        }
        if (identity) {
            return targetRow;
        }
        RowKey targetKey = target.keyOf(targetRow);
        Row mapped;
        if (mapping.transformer().isPresent()) {
            RowTransformer transformer = mapping.transformer().get();
            if (!transformer.reversible()) {
                throw new IllegalStateException(property + ".transformer: table '" + name() + "' is one-way: "
                        + transformer.getClass().getName() + " cannot map target rows back to the source");
            }
            mapped = transformer.toSource(targetRow);
            for (String column : source.columns()) {
                if (!mapped.has(column) && !leftToTheStore(source, column)) {
                    throw new IllegalArgumentException(property + ".transformer: the transformer returned no value for"
                            + " source column '" + column + "' of table '" + source.table().name() + "' (target key "
                            + targetKey + ")");
                }
            }
        } else {
            Map<String, Object> values = new LinkedHashMap<>();
            columnMap.forEach((sourceColumn, targetColumn) -> values.put(sourceColumn,
                    convert(sourceColumn, targetRow.get(targetColumn), false, () -> "target key " + targetKey)));
            mapping.splits().forEach((column, split) -> values.put(column, merge(column, split, targetRow, targetKey)));
            mapped = Row.of(values);
        }
        return keyMapping == KeyMapping.identity() ? mapped
                : withKey(mapped, sourceKeyColumns, toSourceKey(targetKey));
    }

    /**
     * Maps a source key to the target key, as deletes need: through the key mapping, or through the
     * converters of key columns.
     *
     * @param sourceKey a source row's key, in any form its columns accept (see {@link TableOps#canonicalKey})
     * @return the target row's key, in the target columns' canonical form
     * @throws IllegalArgumentException if the key cannot be mapped, or does not fit the key columns
     * @throws IllegalStateException if the id map cannot be read or written
     */
    public RowKey toTargetKey(RowKey sourceKey) {
        if (forward != null) {
            return forward.toSourceKey(sourceKey);
        }
        RowKey canonical = source.canonicalKey(sourceKey);
        if (keyMapping != KeyMapping.identity()) {
            return target.canonicalKey(mapKeys(List.of(canonical)).get(canonical));
        }
        return target.canonicalKey(convertKey(canonical, true));
    }

    /**
     * Maps a target key back to the source key.
     *
     * @param targetKey a target row's key, in any form its columns accept
     * @return the source row's key, in the source columns' canonical form
     * @throws IllegalArgumentException if the key cannot be mapped back, or does not fit the key columns
     * @throws IllegalStateException if the id map cannot be read
     */
    public RowKey toSourceKey(RowKey targetKey) {
        if (forward != null) {
            return forward.toTargetKey(targetKey);
        }
        RowKey canonical = target.canonicalKey(targetKey);
        if (keyMapping == KeyMapping.identity()) {
            return source.canonicalKey(convertKey(canonical, false));
        }
        try {
            return source.canonicalKey(keyMapping.toSource(canonical));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(property + ".key-mapping: cannot map target key " + targetKey
                    + " of table '" + name() + "' back to the source: " + e.getMessage(), e);
        }
    }

    /**
     * Whether a transformer may leave a column out of its rows, as the declarative mapping leaves out the
     * columns nothing maps to: a generated column, or one with a default, which the store fills on insert and
     * keeps on update ({@link TableOps#overwrite}). A column that merely takes {@code NULL} must be returned
     * (a forgotten column would silently stay stale), and so must key and version columns.
     */
    private static boolean leftToTheStore(TableOps ops, String column) {
        if (ops.keyColumns().contains(column) || column.equals(ops.versionColumn())) {
            return false;
        }
        return ops.table().isGenerated(column)
                || ops.table().column(column).map(ColumnMetadata::hasDefault).orElse(false);
    }

    private Row mapRow(Row sourceRow) {
        if (mapping.transformer().isPresent()) {
            Row mapped = mapping.transformer().get().toTarget(sourceRow);
            for (String column : target.columns()) {
                if (!mapped.has(column) && !leftToTheStore(target, column)) {
                    throw new IllegalArgumentException(property + ".transformer: "
                            + "the transformer returned no value for target column '" + column + "' of table '"
                            + target.table().name() + "' (row key " + source.keyOf(sourceRow) + "); only generated columns"
                            + " and columns with a default may be left to the target");
                }
            }
            return mapped;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        columnMap.forEach((sourceColumn, targetColumn) -> values.put(targetColumn,
                convert(sourceColumn, sourceRow.get(sourceColumn), true, () -> "key " + source.keyOf(sourceRow))));
        mapping.splits().forEach((column, split) -> {
            List<?> parts = split(column, split, sourceRow);
            for (int i = 0; i < parts.size(); i++) {
                values.put(split.targetColumns().get(i), parts.get(i));
            }
        });
        values.putAll(mapping.constants());
        return Row.of(values);
    }

    private Object convert(String column, Object value, boolean toTarget, Supplier<String> key) {
        ColumnConverter converter = converters.get(column);
        if (converter == null || value == null) {
            return value;
        }
        try {
            Object converted = toTarget ? converter.toTarget(value) : converter.toSource(value);
            if (converted == null) {
                throw new IllegalArgumentException(converter + " returned null");
            }
            return converted;
        } catch (RuntimeException e) {
            if (implied.get(column) == converter) {
                throw conversionFailure(".convert." + column + ".type", column, value, toTarget, key,
                        new IllegalArgumentException(e.getMessage() + " (" + converter + ", implied by the column"
                                + " types; declare another conversion to change it)", e));
            }
            throw conversionFailure(".columns." + column + ".converter", column, value, toTarget, key, e);
        }
    }

    /**
     * Which column each mapped column is written to by the declarative mapping, lower case: source column to
     * target column, or for a {@link #reversed()} view target column to source column. Columns that splits
     * and constants fill are not in it, and it is empty for a {@link RowTransformer}.
     *
     * @return this view's source column to this view's target column
     */
    public Map<String, String> columnMap() {
        if (forward == null) {
            return Collections.unmodifiableMap(columnMap);
        }
        Map<String, String> back = new LinkedHashMap<>();
        columnMap.forEach((sourceColumn, targetColumn) -> back.put(targetColumn, sourceColumn));
        return Collections.unmodifiableMap(back);
    }

    /**
     * The converters in effect, by source column (lower case): the declared ones
     * ({@link TableMapping#converters()}) and those the pair of column types implies where none is declared,
     * such as a boolean written as {@code 0}/{@code 1} or a {@code SET} as an array (see
     * {@code dualwrite.tables.<table>.convert}). Keys are never converted by an implied converter.
     *
     * @return source column to converter
     */
    public Map<String, ColumnConverter> converters() {
        return converters;
    }

    private List<?> split(String column, TableMapping.Split split, Row sourceRow) {
        Object value = sourceRow.get(column);
        int count = split.targetColumns().size();
        if (value == null) {
            return Collections.nCopies(count, null);
        }
        try {
            if (split.converter().toTarget(value) instanceof List<?> parts && parts.size() == count) {
                return parts;
            }
            throw new IllegalArgumentException(split.converter() + " did not return a list of " + count + " values");
        } catch (RuntimeException e) {
            throw conversionFailure(".columns." + column + ".split", column, value, true,
                    () -> "key " + source.keyOf(sourceRow), e);
        }
    }

    private Object merge(String column, TableMapping.Split split, Row targetRow, RowKey targetKey) {
        List<Object> parts = new ArrayList<>();
        for (String targetColumn : split.targetColumns()) {
            parts.add(targetRow.get(targetColumn));
        }
        if (parts.stream().allMatch(Objects::isNull)) {
            return null;
        }
        try {
            Object merged = split.converter().toSource(parts);
            if (merged == null) {
                throw new IllegalArgumentException(split.converter() + " returned null");
            }
            return merged;
        } catch (RuntimeException e) {
            throw conversionFailure(".columns." + column + ".split", column, parts, false,
                    () -> "target key " + targetKey, e);
        }
    }

    private IllegalArgumentException conversionFailure(String setting, String column, Object value, boolean toTarget,
            Supplier<String> key, RuntimeException cause) {
        return new IllegalArgumentException(property + setting + ": table '" + name() + "', " + key.get() + ", column '"
                + column + "': value " + show(value) + " does not convert " + (toTarget ? "to the target" : "back to the"
                + " source") + ": " + cause.getMessage(), cause);
    }

    private Map<RowKey, RowKey> mapKeys(List<RowKey> sourceKeys) {
        try {
            return keyMapping.toTargetAll(sourceKeys);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(property + ".key-mapping: table '" + name() + "', "
                    + (sourceKeys.size() == 1 ? "key " + sourceKeys.get(0) : "keys " + sourceKeys)
                    + ": the key does not map to the target: " + e.getMessage(), e);
        }
    }

    private RowKey convertKey(RowKey key, boolean toTarget) {
        List<Object> values = new ArrayList<>(key.size());
        boolean changed = false;
        for (int i = 0; i < key.size(); i++) {
            Object value = convert(sourceKeyColumns.get(i), key.get(i), toTarget,
                    () -> (toTarget ? "key " : "target key ") + key);
            changed |= value != key.get(i);
            values.add(value);
        }
        return changed ? RowKey.of(values) : key;
    }

    private static Row withKey(Row row, List<String> keyColumns, RowKey key) {
        Row keyed = row;
        for (int i = 0; i < keyColumns.size(); i++) {
            keyed = keyed.with(keyColumns.get(i), key.get(i));
        }
        return keyed;
    }

    private static String show(Object value) {
        String text = String.valueOf(value);
        if (text.length() > MAX_VALUE_LENGTH_SHOWN) {
            text = text.substring(0, MAX_VALUE_LENGTH_SHOWN) + "... (" + text.length() + " characters)";
        }
        return value instanceof String ? "'" + text + "'" : text;
    }

    @Override
    public String toString() {
        return source.table().name() + " -> " + target.table().name();
    }
}
