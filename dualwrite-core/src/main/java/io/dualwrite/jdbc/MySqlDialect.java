package io.dualwrite.jdbc;

import java.sql.SQLException;
import java.util.List;
import java.util.Map;

/**
 * MySQL and MariaDB: {@code ON DUPLICATE KEY UPDATE} upsert. MariaDB spells the non-waiting share lock
 * {@code LOCK IN SHARE MODE NOWAIT}, MySQL 8 {@code FOR SHARE NOWAIT}.
 */
final class MySqlDialect extends Dialect {

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
        List<String> updated = columns.stream()
                .filter(c -> keyColumns.stream().noneMatch(c::equalsIgnoreCase))
                .filter(c -> versionColumn == null || !c.equalsIgnoreCase(versionColumn))
                .toList();
        StringBuilder sql = new StringBuilder(MARKER).append(" INSERT INTO ").append(tableName(table)).append(" (")
                .append(columnList(columns, "")).append(") VALUES (")
                .append(String.join(", ", java.util.Collections.nCopies(columns.size(), "?")))
                .append(") ON DUPLICATE KEY UPDATE ");
        if (updated.isEmpty() && versionColumn == null) {
            // Nothing but the key: re-assign a key column to itself, which changes nothing.
            String key = quote(keyColumns.get(0));
            return sql.append(key).append(" = ").append(key).toString();
        }
        String guard = null;
        if (versionColumn != null) {
            String v = quote(versionColumn);
            guard = v + " IS NULL OR VALUES(" + v + ") >= " + v;
        }
        for (int i = 0; i < updated.size(); i++) {
            String column = quote(updated.get(i));
            sql.append(i == 0 ? "" : ", ").append(column).append(" = ");
            if (guard == null) {
                sql.append("VALUES(").append(column).append(')');
            } else {
                sql.append("IF(").append(guard).append(", VALUES(").append(column).append("), ").append(column)
                        .append(')');
            }
        }
        if (versionColumn != null) {
            String v = quote(versionColumn);
            sql.append(updated.isEmpty() ? "" : ", ").append(v).append(" = IF(").append(guard).append(", VALUES(")
                    .append(v).append("), ").append(v).append(')');
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

    @Override
    public Map<String, String> recommendedTargetProperties() {
        return Map.of("rewriteBatchedStatements", "true");
    }
}
