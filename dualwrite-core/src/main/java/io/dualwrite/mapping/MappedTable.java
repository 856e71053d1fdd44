package io.dualwrite.mapping;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link TableMapping} checked against both stores: the statements for each side and the row
 * mapping between them. Obtained from {@link MappedTables}; immutable and thread-safe.
 */
public final class MappedTable {

    private final TableMapping mapping;
    private final TableOps source;
    private final TableOps target;
    private final Map<String, String> columnMap;

    MappedTable(TableMapping mapping, TableOps source, TableOps target, Map<String, String> columnMap) {
        this.mapping = mapping;
        this.source = source;
        this.target = target;
        this.columnMap = columnMap;
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

    /** @return whether rows can also be mapped from the target back to the source (needed by RAMP) */
    public boolean reversible() {
        return mapping.transformer().map(RowTransformer::reversible).orElse(true);
    }

    /**
     * Maps a source row to its target row.
     *
     * @param sourceRow a row read with {@link #source()}
     * @return the row to write with {@link #target()}
     * @throws IllegalArgumentException if the transformer rejects the row or leaves out a target column
     */
    public Row toTarget(Row sourceRow) {
        if (mapping.transformer().isPresent()) {
            Row mapped = mapping.transformer().get().toTarget(sourceRow);
            for (String column : target.columns()) {
                if (!mapped.has(column)) {
                    throw new IllegalArgumentException("dualwrite.tables." + mapping.sourceTable() + ".transformer: "
                            + "the transformer returned no value for target column '" + column + "' of table '"
                            + target.table().name() + "' (row key " + source.keyOf(sourceRow) + ")");
                }
            }
            return mapped;
        }
        Map<String, Object> values = new LinkedHashMap<>();
        columnMap.forEach((sourceColumn, targetColumn) -> values.put(targetColumn, sourceRow.get(sourceColumn)));
        return Row.of(values);
    }

    /**
     * Maps a source key to the target key. Keys keep their values; only column names change.
     *
     * @param sourceKey a source row's key
     * @return the target row's key
     */
    public RowKey toTargetKey(RowKey sourceKey) {
        return sourceKey;
    }

    @Override
    public String toString() {
        return source.table().name() + " -> " + target.table().name();
    }
}
