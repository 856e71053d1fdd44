package io.dualwrite.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** PostgreSQL: {@code ON CONFLICT} upsert, {@code FOR SHARE NOWAIT}. */
final class PostgresDialect extends Dialect {

    static final PostgresDialect INSTANCE = new PostgresDialect();

    /** The types pgjdbc sends a {@code String} as without help. */
    private static final java.util.Set<String> PLAIN_TEXT = java.util.Set.of("varchar", "text", "bpchar", "char",
            "name");

    @Override
    public Product product() {
        return Product.POSTGRESQL;
    }

    @Override
    String quoteChar() {
        return "\"";
    }

    @Override
    String shareLockNowait() {
        return "FOR SHARE NOWAIT";
    }

    @Override
    public String forUpdateSkipLocked() {
        return "FOR UPDATE SKIP LOCKED";
    }

    /**
     * PostgreSQL writes a new row version whenever the {@code DO UPDATE ... WHERE} passes, so an
     * equal version passes only when some column really differs.
     */
    @Override
    public String guardedUpsert(TableMetadata table, List<String> columns, List<String> keyColumns,
            String versionColumn) {
        return upsertOf(table, columns, keyColumns, versionColumn,
                "VALUES (" + String.join(", ", java.util.Collections.nCopies(columns.size(), "?")) + ")");
    }

    /**
     * The same guarded upsert as {@link #guardedUpsert}, word for word after its row source, for every row of a
     * staging table at once: {@code INSERT INTO t AS d (cols) SELECT cols FROM staging ON CONFLICT ...}. The
     * staging table's columns have the target's types, so the guard and the change test compare exactly what
     * they compare for bound values.
     *
     * @param stagingTable the staging table, as {@link #quote} takes it (such as {@code pg_temp.name})
     */
    String guardedMerge(TableMetadata table, List<String> columns, List<String> keyColumns, String versionColumn,
            String stagingTable) {
        return upsertOf(table, columns, keyColumns, versionColumn,
                "SELECT " + columnList(columns, "") + " FROM " + quote(stagingTable));
    }

    private String upsertOf(TableMetadata table, List<String> columns, List<String> keyColumns, String versionColumn,
            String rows) {
        List<String> updated = columns.stream().filter(c -> keyColumns.stream().noneMatch(c::equalsIgnoreCase)).toList();
        StringBuilder sql = new StringBuilder(MARKER).append(" INSERT INTO ").append(tableName(table))
                .append(" AS d (").append(columnList(columns, "")).append(") ").append(rows)
                .append(" ON CONFLICT (").append(columnList(keyColumns, "")).append(") DO ");
        if (updated.isEmpty()) {
            return sql.append("NOTHING").toString();
        }
        sql.append("UPDATE SET ");
        for (int i = 0; i < updated.size(); i++) {
            String column = quote(updated.get(i));
            sql.append(i == 0 ? "" : ", ").append(column).append(" = EXCLUDED.").append(column);
        }
        String changed = "(" + comparable(table, updated, "d.") + ") IS DISTINCT FROM ("
                + comparable(table, updated, "EXCLUDED.") + ")";
        if (versionColumn == null) {
            return sql.append(" WHERE ").append(changed).toString();
        }
        String v = quote(versionColumn);
        return sql.append(" WHERE d.").append(v).append(" IS NULL OR d.").append(v).append(" < EXCLUDED.").append(v)
                .append(" OR (d.").append(v).append(" = EXCLUDED.").append(v).append(" AND ").append(changed)
                .append(')').toString();
    }

    /**
     * The columns as the change test compares them: {@code json} has no equality operator, so it is
     * compared as its text, which {@code json} keeps exactly as written.
     */
    private String comparable(TableMetadata table, List<String> columns, String prefix) {
        StringJoiner joined = new StringJoiner(", ");
        for (String column : columns) {
            boolean json = table.column(column).map(c -> "json".equalsIgnoreCase(c.typeName())).orElse(false);
            joined.add(json ? "CAST(" + prefix + quote(column) + " AS text)" : prefix + quote(column));
        }
        return joined.toString();
    }

    @Override
    public boolean isLockConflict(SQLException e) {
        // 55P03 lock_not_available, 40P01 deadlock_detected, 40001 serialization_failure
        return hasState(e, "55P03", "40P01", "40001");
    }

    @Override
    public List<String> lockTimeoutStatements(java.time.Duration timeout) {
        return List.of("SET lock_timeout = " + Math.max(1, timeout.toMillis()), "RESET lock_timeout");
    }

    @Override
    public boolean isDuplicateKey(SQLException e) {
        return hasState(e, "23505");
    }

    /**
     * Values are bound with the target column's type, so that no connection needs
     * {@code stringtype=unspecified}: a string for a column that is not plain text (an enum type,
     * {@code jsonb}, {@code uuid}, {@code inet}, {@code interval}, {@code bit}, an array literal) is sent
     * untyped and the server reads it as the column's type, instead of refusing {@code character varying};
     * a {@link List} or an array for an array column becomes an array of the column's element type.
     */
    @Override
    void bind(PreparedStatement statement, int index, Object value, ColumnMetadata column) throws SQLException {
        if (value == null && takesText(column)) {
            statement.setNull(index, Types.OTHER);
        } else if (value instanceof String text && takesText(column)) {
            statement.setObject(index, text, Types.OTHER);
        } else if (value instanceof java.math.BigDecimal decimal && isDecimal(column)) {
            // As its exact text, which the server reads as the column's numeric: the driver's own binary encoding
            // of a BigDecimal does BigInteger arithmetic per value, about a tenth of the mirror's lane CPU per row.
            statement.setObject(index, decimal.toPlainString(), Types.OTHER);
        } else if (value instanceof List<?> || value instanceof Object[]) {
            Object[] elements = value instanceof List<?> list ? list.toArray() : (Object[]) value;
            String type = column.typeName();
            String elementType = type != null && type.startsWith("_") ? type.substring(1) : "text";
            statement.setArray(index, statement.getConnection().createArrayOf(elementType, elements));
        } else {
            super.bind(statement, index, value, column);
        }
    }

    private static boolean isDecimal(ColumnMetadata column) {
        return column.jdbcType() == Types.NUMERIC || column.jdbcType() == Types.DECIMAL;
    }

    /** Whether a string for this column must go untyped: any type the driver does not send text as. */
    private static boolean takesText(ColumnMetadata column) {
        return switch (column.jdbcType()) {
            case Types.OTHER, Types.BIT, Types.DISTINCT, Types.ARRAY -> true;
            case Types.VARCHAR -> !PLAIN_TEXT.contains(column.typeName());
            default -> false;
        };
    }

    /**
     * Values come back as plain Java values another store can take, never as the driver's own objects: JSON,
     * {@code inet}, {@code interval}, {@code bit} and other types the driver hands out as a {@code PGobject}
     * as their text (the text the server prints, which it also reads back), arrays as a {@link List} of
     * their elements.
     */
    @Override
    Object read(ResultSet rs, int index, ColumnMetadata column) throws SQLException {
        if (isJson(column) || isBits(column)) {
            return rs.getString(index);
        }
        if (isWallClock(column)) {
            return rs.getObject(index, java.time.LocalDateTime.class);
        }
        Object value = rs.getObject(index);
        if (value instanceof java.sql.Array array) {
            return elements(array);
        }
        if (value != null && value.getClass().getName().startsWith("org.postgresql.")) {
            return rs.getString(index);
        }
        return value;
    }

    private static List<Object> elements(java.sql.Array array) throws SQLException {
        Object[] elements = (Object[]) array.getArray();
        List<Object> list = new java.util.ArrayList<>(elements.length);
        for (Object element : elements) {
            // An element the driver keeps in its own class (inet, a nested array) is kept as its text.
            list.add(element == null || !element.getClass().getName().startsWith("org.postgresql.") ? element
                    : element.toString());
        }
        return java.util.Collections.unmodifiableList(list);
    }

    private static boolean isBits(ColumnMetadata column) {
        return "bit".equalsIgnoreCase(column.typeName()) || "varbit".equalsIgnoreCase(column.typeName());
    }

    @Override
    public Map<String, String> recommendedTargetProperties() {
        return Map.of("reWriteBatchedInserts", "true");
    }
}
