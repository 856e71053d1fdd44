package io.dualwrite.jdbc;

import java.nio.charset.StandardCharsets;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/** H2: {@code MERGE ... USING} upsert, {@code FOR UPDATE NOWAIT} as H2 has no share lock. */
final class H2Dialect extends Dialect {

    static final H2Dialect INSTANCE = new H2Dialect();

    @Override
    public Product product() {
        return Product.H2;
    }

    @Override
    String quoteChar() {
        return "\"";
    }

    @Override
    String shareLockNowait() {
        return "FOR UPDATE NOWAIT";
    }

    @Override
    public String forUpdateSkipLocked() {
        return "FOR UPDATE SKIP LOCKED";
    }

    @Override
    public String guardedUpsert(TableMetadata table, List<String> columns, List<String> keyColumns,
            String versionColumn) {
        List<String> updated = columns.stream().filter(c -> keyColumns.stream().noneMatch(c::equalsIgnoreCase)).toList();
        StringBuilder sql = new StringBuilder(MARKER).append(" MERGE INTO ").append(tableName(table))
                .append(" d USING (VALUES (");
        for (int i = 0; i < columns.size(); i++) {
            sql.append(i == 0 ? "" : ", ").append(typedParameter(table.column(columns.get(i)).orElse(null)));
        }
        sql.append(")) s (").append(columnList(columns, "")).append(") ON ");
        for (int i = 0; i < keyColumns.size(); i++) {
            String key = quote(keyColumns.get(i));
            sql.append(i == 0 ? "" : " AND ").append("d.").append(key).append(" = s.").append(key);
        }
        if (!updated.isEmpty()) {
            sql.append(" WHEN MATCHED");
            if (versionColumn != null) {
                String v = quote(versionColumn);
                sql.append(" AND (d.").append(v).append(" IS NULL OR d.").append(v).append(" <= s.").append(v)
                        .append(')');
            }
            sql.append(" THEN UPDATE SET ");
            for (int i = 0; i < updated.size(); i++) {
                String column = quote(updated.get(i));
                sql.append(i == 0 ? "" : ", ").append(column).append(" = s.").append(column);
            }
        }
        return sql.append(" WHEN NOT MATCHED THEN INSERT (").append(columnList(columns, "")).append(") VALUES (")
                .append(columnList(columns, "s.")).append(')').toString();
    }

    /**
     * A parameter cast to its column's declared type. H2 types an untyped parameter of a derived
     * table from the values bound to it, and under concurrent use a batch was seen to write NULL for a
     * whole VARCHAR column that way; the cast fixes the type before any value is bound. A JSON
     * parameter is cast too: left to itself it is typed as text, and the document is stored as one
     * JSON string.
     */
    static String typedParameter(ColumnMetadata column) {
        if (column == null || column.typeName() == null) {
            return "?";
        }
        if (isJson(column)) {
            return "CAST(? AS JSON)";
        }
        String type = column.typeName().toUpperCase(java.util.Locale.ROOT);
        if (type.equals("CHARACTER VARYING") || type.equals("VARCHAR") || type.equals("CHARACTER")
                || type.equals("CHAR") || type.equals("BINARY VARYING") || type.equals("VARBINARY")
                || type.equals("BINARY") || type.equals("VARCHAR_IGNORECASE")) {
            return column.size() > 0 ? "CAST(? AS " + type + "(" + column.size() + "))" : "CAST(? AS " + type + ")";
        }
        if (type.equals("NUMERIC") || type.equals("DECIMAL")) {
            return column.size() > 0 ? "CAST(? AS " + type + "(" + column.size() + ", " + column.scale() + "))"
                    : "CAST(? AS " + type + ")";
        }
        if (type.startsWith("TIMESTAMP") || type.startsWith("TIME")) {
            String base = type.startsWith("TIMESTAMP") ? "TIMESTAMP" : "TIME";
            return "CAST(? AS " + base + "(" + column.scale() + ")" + type.substring(base.length()) + ")";
        }
        if (type.matches("[A-Z ]+") && !type.equals("ENUM") && !type.equals("ARRAY") && !type.equals("ROW")
                && !type.equals("GEOMETRY") && !type.equals("INTERVAL") && !type.equals("JSON")) {
            return "CAST(? AS " + type + ")";
        }
        return "?";
    }

    @Override
    public boolean isLockConflict(SQLException e) {
        // 50200 lock timeout, 90131 concurrent update, 40001 deadlock
        return hasCode(e, 50200, 90131, 40001) || hasState(e, "40001", "HYT00");
    }

    @Override
    public boolean isDuplicateKey(SQLException e) {
        // 23505 DUPLICATE_KEY_1
        return hasCode(e, 23505) || hasState(e, "23505");
    }

    /**
     * H2 stores a string bound to a JSON column as a JSON string literal ({@code "{\"a\":1}"}); bytes
     * are parsed as JSON text, which is what a JSON document read from another store is.
     */
    @Override
    void bind(PreparedStatement statement, int index, Object value, ColumnMetadata column) throws SQLException {
        if (value instanceof String text && isJson(column)) {
            statement.setBytes(index, text.getBytes(StandardCharsets.UTF_8));
        } else {
            super.bind(statement, index, value, column);
        }
    }

    /** JSON comes back as its text rather than as bytes. */
    @Override
    Object read(ResultSet rs, int index, ColumnMetadata column) throws SQLException {
        return isJson(column) ? rs.getString(index) : super.read(rs, index, column);
    }

    @Override
    public Map<String, String> recommendedTargetProperties() {
        return Map.of();
    }
}
