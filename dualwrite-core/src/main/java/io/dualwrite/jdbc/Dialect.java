package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.StringJoiner;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * What differs between the stores dualwrite supports — MySQL/MariaDB, PostgreSQL and H2 — reduced to
 * the SQL the library needs: identifier quoting, the keyed read under a share lock that never waits,
 * the version-guarded upsert, the delete by key and the keyset scan.
 *
 * <p>Every statement starts with the comment {@value #MARKER}, so that a write on the target that
 * does not carry it can be told apart from the library's own.
 *
 * <p>Column lists passed in are the columns' stored names (see {@link TableMetadata#storedName}); the
 * dialect validates and quotes them. Instances are immutable and thread-safe.
 */
public abstract class Dialect {

    /** The comment that opens every statement the library sends. */
    public static final String MARKER = "/* dualwrite */";

    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    /** The database products dualwrite knows. */
    public enum Product {
        /** H2, the embedded default. */
        H2,
        /** MySQL 8. */
        MYSQL,
        /** MariaDB 10.6 or later. */
        MARIADB,
        /** PostgreSQL 12 or later. */
        POSTGRESQL
    }

    Dialect() {
    }

    /**
     * Chooses the dialect of the database behind a data source.
     *
     * @param dataSource the data source; one connection is borrowed and returned
     * @return the dialect
     * @throws SQLException if no connection can be had
     * @throws IllegalArgumentException if the database is not one dualwrite supports
     */
    public static Dialect of(DataSource dataSource) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            return of(connection);
        }
    }

    /**
     * Chooses the dialect of the database behind a connection.
     *
     * @param connection an open connection
     * @return the dialect
     * @throws SQLException if the metadata cannot be read
     * @throws IllegalArgumentException if the database is not one dualwrite supports
     */
    public static Dialect of(Connection connection) throws SQLException {
        String product = connection.getMetaData().getDatabaseProductName();
        String version = connection.getMetaData().getDatabaseProductVersion();
        String lower = product.toLowerCase(Locale.ROOT);
        if (lower.contains("mariadb") || version.toLowerCase(Locale.ROOT).contains("mariadb")) {
            return forProduct(Product.MARIADB);
        }
        if (lower.contains("mysql")) {
            return forProduct(Product.MYSQL);
        }
        if (lower.contains("postgresql")) {
            return forProduct(Product.POSTGRESQL);
        }
        if (lower.equals("h2")) {
            return forProduct(Product.H2);
        }
        throw new IllegalArgumentException("database '" + product + " " + version
                + "' is not supported; dualwrite supports MySQL, MariaDB, PostgreSQL and H2");
    }

    /**
     * Returns the dialect of a product.
     *
     * @param product the product
     * @return its dialect
     */
    public static Dialect forProduct(Product product) {
        return switch (product) {
            case H2 -> H2Dialect.INSTANCE;
            case MYSQL -> MySqlDialect.MYSQL;
            case MARIADB -> MySqlDialect.MARIADB;
            case POSTGRESQL -> PostgresDialect.INSTANCE;
        };
    }

    /** @return the product this dialect speaks to */
    public abstract Product product();

    /**
     * Validates and quotes an identifier. Only plain identifiers are accepted (letters, digits,
     * {@code _} and {@code $}, starting with a letter or {@code _}), so that a name from configuration
     * can never carry SQL.
     *
     * @param identifier a table or column name, optionally {@code schema.name}
     * @return the quoted identifier
     * @throws IllegalArgumentException if the identifier is not a plain identifier
     */
    public String quote(String identifier) {
        StringJoiner joined = new StringJoiner(".");
        for (String part : identifier.split("\\.", -1)) {
            if (!IDENTIFIER.matcher(part).matches()) {
                throw new IllegalArgumentException("'" + identifier + "' is not a valid identifier: use letters, digits,"
                        + " '_' and '$' (at most 63 characters), optionally qualified as schema.name");
            }
            joined.add(quoteChar() + part + quoteChar());
        }
        return joined.toString();
    }

    abstract String quoteChar();

    /**
     * Returns the quoted, schema-qualified name of a table.
     *
     * @param table the table
     * @return the name to put in SQL
     */
    public String tableName(TableMetadata table) {
        return table.schema() == null ? quote(table.name()) : quote(table.schema() + "." + table.name());
    }

    /**
     * The keyed read: {@code SELECT columns FROM table WHERE key IN (...)}, with a share lock that
     * fails at once instead of waiting when a writer holds the row, if {@code lock} is set.
     *
     * @param table the table
     * @param columns the columns to select
     * @param keyColumns the key columns
     * @param keyCount how many keys the statement binds
     * @param lock whether to take the share lock without waiting
     * @return the SQL; parameters are the key values, key by key
     */
    public String selectByKeys(TableMetadata table, List<String> columns, List<String> keyColumns, int keyCount,
            boolean lock) {
        StringBuilder sql = new StringBuilder(MARKER).append(" SELECT ").append(columnList(columns, ""))
                .append(" FROM ").append(tableName(table)).append(" WHERE ");
        appendKeyIn(sql, keyColumns, keyCount);
        if (lock) {
            sql.append(' ').append(shareLockNowait());
        }
        return sql.toString();
    }

    /**
     * The read of the rows that hold given values of unique indexes:
     * {@code SELECT columns FROM table WHERE u IN (?, ?) OR (a, b) IN ((?, ?))}, plain, without a lock.
     *
     * @param table the table
     * @param columns the columns to select
     * @param uniqueKeys the unique indexes, each as its columns
     * @param valueCounts for each index, how many value tuples the statement binds (0 leaves it out); at
     *     least one must be positive
     * @return the SQL; parameters are the value tuples, index by index
     */
    public String selectByUniqueValues(TableMetadata table, List<String> columns, List<List<String>> uniqueKeys,
            int[] valueCounts) {
        StringBuilder sql = new StringBuilder(MARKER).append(" SELECT ").append(columnList(columns, ""))
                .append(" FROM ").append(tableName(table)).append(" WHERE ");
        boolean first = true;
        for (int i = 0; i < uniqueKeys.size(); i++) {
            if (valueCounts[i] > 0) {
                sql.append(first ? "" : " OR ");
                appendKeyIn(sql, uniqueKeys.get(i), valueCounts[i]);
                first = false;
            }
        }
        if (first) {
            throw new IllegalArgumentException("no values to look up in the unique indexes of '" + table.name() + "'");
        }
        return sql.toString();
    }

    /** @return the clause that takes a share lock and fails at once on a conflicting lock */
    abstract String shareLockNowait();

    /**
     * The column definition of a generated {@code BIGINT} primary key, for the library's own tables.
     *
     * @return for example {@code BIGSERIAL PRIMARY KEY} on PostgreSQL
     */
    public String identityPrimaryKey() {
        return switch (product()) {
            case POSTGRESQL -> "BIGSERIAL PRIMARY KEY";
            case MYSQL, MARIADB -> "BIGINT AUTO_INCREMENT PRIMARY KEY";
            case H2 -> "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY";
        };
    }

    /**
     * Estimates a table's row count from the store's statistics (PostgreSQL {@code reltuples}, InnoDB's
     * {@code TABLE_ROWS}); counts exactly on H2, and where statistics are missing.
     *
     * @param connection an open connection
     * @param table the table
     * @return the estimate
     * @throws SQLException if the store cannot be queried
     */
    public long estimateRows(Connection connection, TableMetadata table) throws SQLException {
        String statistics = switch (product()) {
            case POSTGRESQL -> "SELECT CAST(reltuples AS BIGINT) FROM pg_class WHERE oid = to_regclass(?)";
            case MYSQL, MARIADB -> "SELECT TABLE_ROWS FROM information_schema.TABLES WHERE TABLE_SCHEMA ="
                    + " COALESCE(?, DATABASE()) AND TABLE_NAME = ?";
            case H2 -> null;
        };
        if (statistics != null) {
            try (java.sql.PreparedStatement statement = connection.prepareStatement(MARKER + " " + statistics)) {
                if (product() == Product.POSTGRESQL) {
                    statement.setString(1, tableName(table));
                } else {
                    statement.setString(1, table.schema());
                    statement.setString(2, table.name());
                }
                try (java.sql.ResultSet rs = statement.executeQuery()) {
                    if (rs.next() && rs.getLong(1) > 0) {
                        return rs.getLong(1);
                    }
                }
            }
        }
        try (java.sql.Statement statement = connection.createStatement();
                java.sql.ResultSet rs = statement.executeQuery(MARKER + " SELECT COUNT(*) FROM " + tableName(table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** @return the clause that locks rows for update and skips rows other transactions hold */
    public abstract String forUpdateSkipLocked();

    /**
     * The version-guarded upsert of one row, for batching: inserts the row when its key is missing;
     * otherwise replaces the stored row only when the stored version is older than, or equal to, the
     * new one (equal versions may overwrite; see DESIGN). It never replaces a newer version.
     *
     * @param table the table
     * @param columns all columns written, key columns included
     * @param keyColumns the key columns
     * @param versionColumn the version column, or {@code null} to overwrite unconditionally
     * @return the SQL; parameters are the column values in {@code columns} order
     */
    public abstract String guardedUpsert(TableMetadata table, List<String> columns, List<String> keyColumns,
            String versionColumn);

    /**
     * The delete of one row by key, for batching.
     *
     * @param table the table
     * @param keyColumns the key columns
     * @return the SQL; parameters are the key values
     */
    public String deleteByKey(TableMetadata table, List<String> keyColumns) {
        StringBuilder sql = new StringBuilder(MARKER).append(" DELETE FROM ").append(tableName(table))
                .append(" WHERE ");
        appendKeyEquals(sql, keyColumns, "");
        return sql.toString();
    }

    /**
     * The keyset scan: the next {@code limit} rows in key order after a key (or from the start),
     * optionally restricted by an extra condition and locked in share mode without waiting. Never
     * uses OFFSET.
     *
     * @param table the table
     * @param columns the columns to select
     * @param keyColumns the key columns, in key order
     * @param afterKey whether the statement binds a lower bound (exclusive) as its first parameters
     * @param upToKey whether it then binds an upper bound (inclusive)
     * @param extraCondition a condition ANDed in, with its own bound parameters after the bounds, or
     *     {@code null}
     * @param limit the most rows to return
     * @param lock whether to take the share lock without waiting
     * @return the SQL
     */
    public String keysetScan(TableMetadata table, List<String> columns, List<String> keyColumns, boolean afterKey,
            boolean upToKey, String extraCondition, int limit, boolean lock) {
        if (limit <= 0) {
            throw new IllegalArgumentException("limit must be positive, was " + limit);
        }
        StringBuilder sql = new StringBuilder(MARKER).append(" SELECT ").append(columnList(columns, ""))
                .append(" FROM ").append(tableName(table));
        List<String> conditions = new ArrayList<>();
        if (afterKey) {
            conditions.add(keyComparison(keyColumns, ">"));
        }
        if (upToKey) {
            conditions.add(keyComparison(keyColumns, "<="));
        }
        if (extraCondition != null && !extraCondition.isBlank()) {
            conditions.add("(" + extraCondition + ")");
        }
        if (!conditions.isEmpty()) {
            sql.append(" WHERE ").append(String.join(" AND ", conditions));
        }
        sql.append(" ORDER BY ").append(columnList(keyColumns, "")).append(" LIMIT ").append(limit);
        if (lock) {
            sql.append(' ').append(shareLockNowait());
        }
        return sql.toString();
    }

    /** A comparison of the key columns as a tuple, with bound parameters: {@code (a, b) > (?, ?)}. */
    String keyComparison(List<String> keyColumns, String operator) {
        if (keyColumns.size() == 1) {
            return quote(keyColumns.get(0)) + " " + operator + " ?";
        }
        return "(" + columnList(keyColumns, "") + ") " + operator + " ("
                + String.join(", ", java.util.Collections.nCopies(keyColumns.size(), "?")) + ")";
    }

    /**
     * Whether an exception means a row was locked by someone else (the NOWAIT read gave way), or the
     * database chose this transaction as a deadlock or serialization victim: the work is retried a
     * moment later and is not counted as a failure.
     *
     * @param e the exception
     * @return true if the exception is a lock conflict
     */
    public abstract boolean isLockConflict(SQLException e);

    /**
     * Statements that bound how long this session's writes wait for another transaction's row lock, and
     * that restore the server's default before the connection goes back to its pool. During RAMP both
     * stores take application writes, so a mirror write may meet an application's lock; waiting for it
     * without bound could close a wait cycle across the two stores that neither database can see.
     *
     * @param timeout the longest wait for a row lock
     * @return the statement that sets the bound, and the one that resets it; empty when the store has
     *     no per-session setting
     */
    public List<String> lockTimeoutStatements(java.time.Duration timeout) {
        return List.of();
    }

    /**
     * Whether an exception means an insert hit a unique or primary key that another row already holds.
     *
     * @param e the exception
     * @return true if the exception is a duplicate key violation
     */
    public abstract boolean isDuplicateKey(SQLException e);

    /**
     * Binds one value for a column. Most values go through {@code setObject}; dialects override this
     * for column types whose text form the driver does not send as is, such as JSON.
     */
    void bind(PreparedStatement statement, int index, Object value, ColumnMetadata column) throws SQLException {
        if (value == null) {
            statement.setNull(index, column.jdbcType());
        } else {
            statement.setObject(index, value);
        }
    }

    /**
     * Reads one column's value. Dialects override this where the driver's own object is not a plain
     * Java value another store could take, such as PostgreSQL's {@code PGobject} for JSON.
     */
    Object read(ResultSet rs, int index, ColumnMetadata column) throws SQLException {
        return isWallClock(column) ? rs.getObject(index, java.time.LocalDateTime.class) : rs.getObject(index);
    }

    /**
     * Whether the column holds a date-time without a time zone (MySQL's {@code DATETIME} and {@code TIMESTAMP},
     * PostgreSQL's {@code timestamp}, H2's {@code TIMESTAMP}): a wall-clock reading, read as a
     * {@link java.time.LocalDateTime}. A {@code java.sql.Timestamp} is an instant, built in the JVM's time zone,
     * so it cannot hold a time that zone skips (02:30 on the night Paris moves to summer time becomes 03:30).
     */
    static boolean isWallClock(ColumnMetadata column) {
        // PostgreSQL's driver reports timestamptz as TIMESTAMP too; its values are instants.
        return column.jdbcType() == java.sql.Types.TIMESTAMP && !"timestamptz".equalsIgnoreCase(column.typeName());
    }

    /** Whether the column holds JSON, by its type name ({@code json}, {@code jsonb}). */
    static boolean isJson(ColumnMetadata column) {
        // Called for every value read: compare without building a lower-case copy of the type name.
        String type = column.typeName();
        return "json".equalsIgnoreCase(type) || "jsonb".equalsIgnoreCase(type);
    }

    /**
     * Connection properties a target pool should carry, such as the batch rewriting that makes the
     * guarded upsert fast. Applied by default; a user's own setting wins.
     *
     * @return property name to value
     */
    public abstract Map<String, String> recommendedTargetProperties();

    /**
     * The name of the JDBC URL parameter or property that matters for the batched write path, the
     * way it is spelled in a URL.
     *
     * @param url a JDBC URL
     * @return the URL with the recommended properties added where the URL does not set them
     */
    public String withRecommendedProperties(String url) {
        StringBuilder result = new StringBuilder(url);
        for (Map.Entry<String, String> property : recommendedTargetProperties().entrySet()) {
            if (!url.toLowerCase(Locale.ROOT).contains(property.getKey().toLowerCase(Locale.ROOT) + "=")) {
                result.append(result.indexOf("?") >= 0 ? '&' : '?')
                        .append(property.getKey()).append('=').append(property.getValue());
            }
        }
        return result.toString();
    }

    String columnList(List<String> columns, String prefix) {
        StringJoiner joined = new StringJoiner(", ");
        for (String column : columns) {
            joined.add(prefix + quote(column));
        }
        return joined.toString();
    }

    void appendKeyIn(StringBuilder sql, List<String> keyColumns, int keyCount) {
        sql.append(keyIn(keyColumns.stream().map(this::quote).toList(), keyCount));
    }

    /**
     * The condition that a row's key is one of {@code keyCount} keys: {@code k IN (?, ?)}, and for a composite
     * key {@code (a, b) IN ((?, ?), (?, ?))} or, where the row-value form does not compare as {@code =} does
     * ({@link #rowValueInConvertsCharacterSets}), {@code ((a = ? AND b = ?) OR (a = ? AND b = ?))}. Either way
     * the parameters are the keys' values, key by key, column by column.
     *
     * @param quotedKeyColumns the key columns, quoted and qualified as the statement needs
     * @param keyCount the number of keys bound
     * @return the condition, parenthesised where it has an {@code OR}
     * @throws IllegalArgumentException if {@code keyCount} is not positive
     */
    public String keyIn(List<String> quotedKeyColumns, int keyCount) {
        if (keyCount <= 0) {
            throw new IllegalArgumentException("keyCount must be positive, was " + keyCount);
        }
        int width = quotedKeyColumns.size();
        StringBuilder sql = new StringBuilder(keyCount * width * (width == 1 ? 3 : 16));
        if (width > 1 && !rowValueInConvertsCharacterSets()) {
            sql.append('(');
            for (int i = 0; i < keyCount; i++) {
                sql.append(i == 0 ? "(" : " OR (");
                for (int c = 0; c < width; c++) {
                    sql.append(c == 0 ? "" : " AND ").append(quotedKeyColumns.get(c)).append(" = ?");
                }
                sql.append(')');
            }
            return sql.append(')').toString();
        }
        String tuple = width == 1 ? "?" : "(" + String.join(", ", java.util.Collections.nCopies(width, "?")) + ")";
        sql.append(width == 1 ? quotedKeyColumns.get(0) : "(" + String.join(", ", quotedKeyColumns) + ")")
                .append(" IN (");
        for (int i = 0; i < keyCount; i++) {
            sql.append(i == 0 ? "" : ", ").append(tuple);
        }
        return sql.append(')').toString();
    }

    /**
     * Whether {@code (a, b) IN ((?, ?), (?, ?))} converts each bound value to its column's character set
     * before comparing, as {@code a = ?} does. Where it does not, {@link #appendKeyIn} spells a read of
     * several composite keys as {@code (a = ? AND b = ?) OR ...}, which binds the same values in the same
     * order.
     *
     * @return false for a store whose row-value {@code IN} of several tuples compares a column whose
     *     character set differs from the connection's without converting the value
     */
    boolean rowValueInConvertsCharacterSets() {
        return true;
    }

    void appendKeyEquals(StringBuilder sql, List<String> keyColumns, String prefix) {
        for (int i = 0; i < keyColumns.size(); i++) {
            sql.append(i == 0 ? "" : " AND ").append(prefix).append(quote(keyColumns.get(i))).append(" = ?");
        }
    }

    /**
     * Whether a failure is about reaching a store (refused, killed or timed-out connections) rather
     * than about the rows: retrying later helps, while splitting a batch to find a bad row would only
     * multiply the waiting.
     *
     * @param failure the failure
     * @return true for a connectivity failure
     */
    public static boolean isConnectionFailure(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof java.sql.SQLTransientConnectionException
                    || t instanceof java.sql.SQLNonTransientConnectionException
                    || t instanceof java.sql.SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }

    static boolean hasCode(SQLException e, int... codes) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                for (int code : codes) {
                    if (sql.getErrorCode() == code) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    static boolean hasState(SQLException e, String... states) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && sql.getSQLState() != null) {
                for (String state : states) {
                    if (sql.getSQLState().equals(state)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    @Override
    public String toString() {
        return getClass().getSimpleName();
    }
}
