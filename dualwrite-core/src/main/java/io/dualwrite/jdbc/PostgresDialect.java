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
        List<String> updated = columns.stream().filter(c -> keyColumns.stream().noneMatch(c::equalsIgnoreCase)).toList();
        StringBuilder sql = new StringBuilder(MARKER).append(" INSERT INTO ").append(tableName(table))
                .append(" AS d (").append(columnList(columns, "")).append(") VALUES (")
                .append(String.join(", ", java.util.Collections.nCopies(columns.size(), "?")))
                .append(") ON CONFLICT (").append(columnList(keyColumns, "")).append(") DO ");
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
     * A string bound to a column the driver reports as {@link Types#OTHER} ({@code jsonb}, {@code json},
     * {@code uuid}, enum types) is sent untyped, so that the server casts it to the column's type
     * instead of refusing {@code character varying}.
     */
    @Override
    void bind(PreparedStatement statement, int index, Object value, ColumnMetadata column) throws SQLException {
        if (value instanceof String text && column.jdbcType() == Types.OTHER) {
            statement.setObject(index, text, Types.OTHER);
        } else {
            super.bind(statement, index, value, column);
        }
    }

    /** JSON comes back as its text rather than the driver's {@code PGobject}. */
    @Override
    Object read(ResultSet rs, int index, ColumnMetadata column) throws SQLException {
        return isJson(column) ? rs.getString(index) : rs.getObject(index);
    }

    @Override
    public Map<String, String> recommendedTargetProperties() {
        return Map.of("reWriteBatchedInserts", "true");
    }
}
