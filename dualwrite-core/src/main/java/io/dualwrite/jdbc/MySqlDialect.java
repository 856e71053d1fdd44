package io.dualwrite.jdbc;

import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * MySQL and MariaDB: {@code ON DUPLICATE KEY UPDATE} upsert. MariaDB spells the non-waiting share lock
 * {@code LOCK IN SHARE MODE NOWAIT}, MySQL 8 {@code FOR SHARE NOWAIT}.
 */
final class MySqlDialect extends Dialect {

    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    static final MySqlDialect MYSQL = new MySqlDialect(false);
    static final MySqlDialect MARIADB = new MySqlDialect(true);

    private final boolean mariadb;

    private MySqlDialect(boolean mariadb) {
        this.mariadb = mariadb;
    }

    @Override
    public Product product() {
        return mariadb ? Product.MARIADB : Product.MYSQL;
    }

    @Override
    String quoteChar() {
        return "`";
    }

    @Override
    String shareLockNowait() {
        return mariadb ? "LOCK IN SHARE MODE NOWAIT" : "FOR SHARE NOWAIT";
    }

    /**
     * MariaDB (seen on 10.11) compares {@code (u, l) IN ((?, ?), (?, ?))} over a {@code latin1} column {@code l}
     * with the connection's {@code utf8mb4} values unconverted, so {@code 'é'} matches no row and a present row
     * reads as absent; a single tuple, a single column and {@code l = ?} convert. MySQL gets the same spelling:
     * it is equivalent wherever the row-value form is right, and its optimizer reads it as the same key ranges.
     */
    @Override
    boolean rowValueInConvertsCharacterSets() {
        return false;
    }

    @Override
    public String forUpdateSkipLocked() {
        return "FOR UPDATE SKIP LOCKED";
    }

    /**
     * MySQL evaluates {@code ON DUPLICATE KEY UPDATE} assignments left to right, each seeing the
     * columns already assigned, so every column tests the stored version before the version column
     * itself is assigned last.
     */
    @Override
    public String guardedUpsert(TableMetadata table, List<String> columns, List<String> keyColumns,
            String versionColumn) {
        return upsertOf(table, columns, keyColumns, versionColumn, "VALUES ("
                + String.join(", ", java.util.Collections.nCopies(columns.size(), "?")) + ")", "");
    }

    /**
     * The guarded upsert of {@link #guardedUpsert} with its rows selected from a staging table of the same columns
     * ({@code INSERT ... SELECT ... ON DUPLICATE KEY UPDATE}): the same guard and the same assignments, the stored
     * columns qualified by the table's name, since the staging table's columns have the same names.
     *
     * @param stagingTable the staging table's quoted name
     */
    String guardedMerge(TableMetadata table, List<String> columns, List<String> keyColumns, String versionColumn,
            String stagingTable) {
        return upsertOf(table, columns, keyColumns, versionColumn, "SELECT " + columnList(columns, "") + " FROM "
                + stagingTable, tableName(table) + ".");
    }

    private String upsertOf(TableMetadata table, List<String> columns, List<String> keyColumns, String versionColumn,
            String rows, String stored) {
        List<String> updated = columns.stream()
                .filter(c -> keyColumns.stream().noneMatch(c::equalsIgnoreCase))
                .filter(c -> versionColumn == null || !c.equalsIgnoreCase(versionColumn))
                .toList();
        StringBuilder sql = new StringBuilder(MARKER).append(" INSERT INTO ").append(tableName(table)).append(" (")
                .append(columnList(columns, "")).append(") ").append(rows).append(" ON DUPLICATE KEY UPDATE ");
        if (updated.isEmpty() && versionColumn == null) {
            // Nothing but the key: re-assign a key column to itself, which changes nothing.
            String key = stored + quote(keyColumns.get(0));
            return sql.append(key).append(" = ").append(key).toString();
        }
        String guard = null;
        if (versionColumn != null) {
            String v = quote(versionColumn);
            guard = stored + v + " IS NULL OR VALUES(" + v + ") >= " + stored + v;
        }
        for (int i = 0; i < updated.size(); i++) {
            String column = quote(updated.get(i));
            sql.append(i == 0 ? "" : ", ").append(stored).append(column).append(" = ");
            if (guard == null) {
                sql.append("VALUES(").append(column).append(')');
            } else {
                sql.append("IF(").append(guard).append(", VALUES(").append(column).append("), ").append(stored)
                        .append(column).append(')');
            }
        }
        if (versionColumn != null) {
            String v = quote(versionColumn);
            sql.append(updated.isEmpty() ? "" : ", ").append(stored).append(v).append(" = IF(").append(guard)
                    .append(", VALUES(").append(v).append("), ").append(stored).append(v).append(')');
        }
        return sql.toString();
    }

    @Override
    public boolean isLockConflict(SQLException e) {
        // 1205 lock wait timeout (what NOWAIT raises), 3572 ER_LOCK_NOWAIT (MySQL), 1213 deadlock
        return hasCode(e, 1205, 3572, 1213) || hasState(e, "40001");
    }

    @Override
    public List<String> lockTimeoutStatements(java.time.Duration timeout) {
        // Whole seconds only; a second is the shortest wait InnoDB offers.
        long seconds = Math.max(1, (timeout.toMillis() + 999) / 1000);
        return List.of("SET SESSION innodb_lock_wait_timeout = " + seconds,
                "SET SESSION innodb_lock_wait_timeout = DEFAULT");
    }

    @Override
    public boolean isDuplicateKey(SQLException e) {
        // 1062 ER_DUP_ENTRY; SQL state 23000 alone would also match NOT NULL and foreign key errors
        return hasCode(e, 1062);
    }

    /**
     * An IPv4 address for an {@code INET6} column (PostgreSQL's {@code inet} writes {@code 10.0.0.1}) is sent as
     * the IPv4-mapped address {@code ::ffff:10.0.0.1}, the form MariaDB keeps and the only one it takes there.
     */
    @Override
    void bind(PreparedStatement statement, int index, Object value, ColumnMetadata column) throws SQLException {
        if (value instanceof String text && "INET6".equalsIgnoreCase(column.typeName())
                && IPV4.matcher(text).matches()) {
            super.bind(statement, index, "::ffff:" + text, column);
        } else {
            super.bind(statement, index, value, column);
        }
    }

    /**
     * The values Connector/J would bend are read as what the column holds: {@code YEAR} as its number (not
     * the first of January of that year), {@code TINYINT(1)} as its number (it may hold 2, and is a boolean
     * only by convention), and {@code TIME}, a span of -838..838 hours, as a {@link Duration} (not a
     * {@code java.sql.Time}, which keeps neither the fraction nor more than a day). {@code DATETIME} and
     * {@code TIMESTAMP} are read as {@code LocalDateTime}, as every dialect reads a date-time without zone.
     */
    @Override
    Object read(ResultSet rs, int index, ColumnMetadata column) throws SQLException {
        String type = column.typeName();
        if ("YEAR".equalsIgnoreCase(type) || "BOOLEAN".equalsIgnoreCase(type) || "BOOL".equalsIgnoreCase(type)) {
            int number = rs.getInt(index);
            return rs.wasNull() ? null : number;
        }
        if ("TIME".equalsIgnoreCase(type)) {
            String text = rs.getString(index);
            return text == null ? null : span(text);
        }
        return super.read(rs, index, column);
    }

    /** Reads {@code [-]HHH:MM:SS[.ffffff]}. */
    static Duration span(String text) {
        boolean negative = text.startsWith("-");
        String[] parts = (negative ? text.substring(1) : text).split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("'" + text + "' is not a TIME value");
        }
        Duration span = Duration.ofHours(Long.parseLong(parts[0])).plusMinutes(Long.parseLong(parts[1]))
                .plusNanos(new java.math.BigDecimal(parts[2]).movePointRight(9).longValueExact());
        return negative ? span.negated() : span;
    }

    @Override
    public Map<String, String> recommendedTargetProperties() {
        return Map.of("rewriteBatchedStatements", "true");
    }
}
