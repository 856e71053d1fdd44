package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableMetadata;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.routing.Route;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * A mapped table as statements on one side name it: that side's table, key columns and column order,
 * and the way back to the change the mirror understands (the source table's name and a source key).
 */
final class CapturedTable {

    private final MappedTable mapped;
    private final Route side;
    private final Dialect dialect;
    private final List<String> keyColumns;
    private final List<String> storedKeyColumns;
    private final int[] keyTypes;
    private final List<String> columnOrder;

    CapturedTable(MappedTable mapped, Route side) {
        this.mapped = mapped;
        this.side = side;
        TableOps ops = side == Route.SOURCE ? mapped.source() : mapped.target();
        TableMetadata table = ops.table();
        this.dialect = ops.dialect();
        this.keyColumns = ops.keyColumns().stream().map(c -> c.toLowerCase(Locale.ROOT)).toList();
        this.storedKeyColumns = keyColumns.stream().map(table::storedName).toList();
        Map<String, ColumnMetadata> columns = table.columnsByCanonicalName();
        this.keyTypes = keyColumns.stream().mapToInt(c -> columns.get(c).jdbcType()).toArray();
        this.columnOrder = new ArrayList<>(columns.keySet());
    }

    /** @return the name changes are recorded under */
    String name() {
        return mapped.name();
    }

    /** @return the table as this side's mapping names it, for messages */
    String sideName() {
        return side == Route.SOURCE ? mapped.name() : mapped.mapping().targetTable();
    }

    /** @return the names SQL may use for this table on this side, in lower case */
    List<String> namesInSql() {
        List<String> names = new ArrayList<>();
        names.add((side == Route.SOURCE ? mapped.source() : mapped.target()).table().name().toLowerCase(Locale.ROOT));
        String configured = sideName().toLowerCase(Locale.ROOT);
        names.add(configured);
        int dot = configured.lastIndexOf('.');
        if (dot >= 0) {
            names.add(configured.substring(dot + 1));
        }
        return names;
    }

    /**
     * The physical tables of a sharded source table (an application with its own sharding code writes
     * {@code t_order_3}, not {@code t_order}), in lower case; empty for a table that is not sharded, and on the
     * target side, whose writes are the library's own.
     */
    List<String> physicalNamesInSql() {
        if (side != Route.SOURCE) {
            return List.of();
        }
        return mapped.source().shardLayout()
                .map(layout -> layout.shards().stream().map(s -> s.table().toLowerCase(Locale.ROOT)).distinct()
                        .toList())
                .orElse(List.of());
    }

    Dialect dialect() {
        return dialect;
    }

    /** @return this side's key columns, lower case */
    List<String> keyColumns() {
        return keyColumns;
    }

    /** @return this side's key columns as stored, for SQL and result set labels */
    List<String> storedKeyColumns() {
        return storedKeyColumns;
    }

    /** @return every column, lower case, in table order: what {@code INSERT ... VALUES} without a list fills */
    List<String> columnOrder() {
        return columnOrder;
    }

    /**
     * Brings one key value to the form the mirror's reads produce, so that a key bound as a string or
     * an int equals the same key read back from a {@code BIGINT} column, and repeated changes coalesce.
     */
    Object normalise(int keyIndex, Object value) {
        switch (keyTypes[keyIndex]) {
            case Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.TINYINT -> {
                if (value instanceof Number number && !(value instanceof java.math.BigDecimal)) {
                    return number.longValue();
                }
                if (value instanceof String text) {
                    try {
                        return Long.parseLong(text.trim());
                    } catch (NumberFormatException notANumber) {
                        return value;
                    }
                }
                return value;
            }
            default -> {
                return value;
            }
        }
    }

    /**
     * Turns a key named on this side into the change the mirror handles.
     *
     * @throws IllegalArgumentException if a target key cannot be mapped back to the source
     * @throws IllegalStateException if the id map cannot be read
     */
    Change change(RowKey key) {
        return new Change(mapped.name(), side == Route.SOURCE ? key : mapped.toSourceKey(key));
    }
}
