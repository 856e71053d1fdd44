package io.dualwrite.verify;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Chunk checksums computed in the database, for tables of the same dialect and schema: the key that ends a
 * chunk of {@code n} rows, and the row count plus an order-independent (MariaDB, H2: {@code BIT_XOR} and
 * {@code SUM} of a per-row CRC) or key-ordered (PostgreSQL: {@code md5} of the rows' text) hash of a key
 * range. Both sides run the same SQL, so only the dialect's own text forms of the values matter. NULL is
 * told from an empty string by a flag per column.
 */
final class ChunkChecksums {

    /** A chunk's count and hash. */
    record Sum(long rows, String hash) {
    }

    /** The sum of the chunk after {@code after}, and its last key: null when the chunk runs to the end. */
    record Chunk(RowKey after, RowKey end, Sum sum) {
    }

    private final TableOps ops;
    private final Dialect dialect;
    private final List<String> keyColumns;
    private final String keyList;
    private final String rowHash;
    private final String window;
    private final List<Object> windowParameters;

    ChunkChecksums(TableOps ops, List<String> columns, String window, List<Object> windowParameters) {
        this.ops = ops;
        this.dialect = ops.dialect();
        this.keyColumns = ops.keyColumns();
        this.keyList = String.join(", ", keyColumns.stream().map(dialect::quote).toList());
        this.window = window;
        this.windowParameters = windowParameters;
        List<String> quoted = columns.stream().map(c -> dialect.quote(ops.table().storedName(c))).toList();
        this.rowHash = rowHash(dialect.product(), quoted);
    }

    private String rowHash(Dialect.Product product, List<String> quoted) {
        List<String> flags = new ArrayList<>();
        switch (product) {
            case MARIADB, MYSQL -> {
                quoted.forEach(c -> flags.add("ISNULL(" + c + ")"));
                return "CRC32(CONCAT_WS('#', " + String.join(", ", quoted) + ", CONCAT(''," + String.join(", ", flags)
                        + ")))";
            }
            case POSTGRESQL -> {
                quoted.forEach(c -> flags.add("(" + c + " IS NULL)::int"));
                return "concat_ws('#', " + String.join(", ", quoted) + ", concat(''," + String.join(", ", flags) + "))";
            }
            case H2 -> {
                quoted.forEach(c -> flags.add("CASE WHEN " + c + " IS NULL THEN '1' ELSE '0' END"));
                return "ORA_HASH(CONCAT_WS('#', " + String.join(", ", quoted) + ", CONCAT(''," + String.join(", ", flags)
                        + ")))";
            }
            default -> throw new IllegalStateException("no checksum for " + product);
        }
    }

    /** The aggregates taken over the rows themselves: PostgreSQL's one md5 of the key-ordered text; H2's two. */
    private String aggregate() {
        return switch (dialect.product()) {
            case POSTGRESQL -> "COALESCE(md5(string_agg(" + rowHash + ", E'\\n' ORDER BY " + keyList + ")), ''), ''";
            case H2 -> "COALESCE(BIT_XOR_AGG(" + rowHash + "), 0), COALESCE(SUM(" + rowHash + "), 0)";
            default -> throw new IllegalStateException("no checksum for " + dialect.product());
        };
    }

    /**
     * Sums the chunk of {@code rows} rows after {@code after} and finds its last key. On MariaDB and MySQL with a
     * one-column key one statement walks the chunk once, hashing each row once and taking the last key as the
     * largest; otherwise the chunk's end is found first ({@link #chunkEnd}) and its range summed after.
     *
     * @return the chunk
     */
    Chunk next(Connection connection, RowKey after, int rows) throws SQLException {
        boolean oneWalk = keyColumns.size() == 1
                && (dialect.product() == Dialect.Product.MARIADB || dialect.product() == Dialect.Product.MYSQL);
        if (!oneWalk) {
            RowKey end = chunkEnd(connection, after, rows);
            return new Chunk(after, end, sum(connection, after, end));
        }
        String sql = Dialect.MARKER + " SELECT COUNT(*), MAX(" + keyList + "), COALESCE(BIT_XOR(dw_h), 0),"
                + " COALESCE(SUM(dw_h), 0) FROM (SELECT " + keyList + ", " + rowHash + " AS dw_h FROM "
                + dialect.tableName(ops.table()) + where(after != null, false) + " ORDER BY " + keyList + " LIMIT "
                + rows + ") d";
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, after, null);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                long count = rs.getLong(1);
                // Fewer rows than asked: the chunk runs to the end, and the other side's range must too.
                RowKey end = count < rows ? null : RowKey.of(List.of(rs.getObject(2)));
                return new Chunk(after, end, new Sum(count, rs.getString(3) + "/" + rs.getString(4)));
            }
        }
    }

    /**
     * Finds the key that ends the chunk of {@code rows} rows after {@code after}.
     *
     * @return the chunk's last key, or null when fewer rows are left (the chunk runs to the end)
     */
    RowKey chunkEnd(Connection connection, RowKey after, int rows) throws SQLException {
        String sql = Dialect.MARKER + " SELECT " + keyList + " FROM " + dialect.tableName(ops.table())
                + where(after != null, false) + " ORDER BY " + keyList + " LIMIT 1 OFFSET " + (rows - 1);
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, after, null);
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                List<Object> values = new ArrayList<>(keyColumns.size());
                for (int i = 1; i <= keyColumns.size(); i++) {
                    values.add(rs.getObject(i));
                }
                return RowKey.of(values);
            }
        }
    }

    /** Counts and hashes the rows in {@code (after, upTo]}. */
    Sum sum(Connection connection, RowKey after, RowKey upTo) throws SQLException {
        String rows = dialect.tableName(ops.table()) + where(after != null, upTo != null);
        String sql = switch (dialect.product()) {
            // Both aggregates read one hash per row from a derived table that its LIMIT keeps the optimiser from
            // merging into the outer query: merged, the server evaluates CRC32 and the row's text twice a row.
            case MARIADB, MYSQL -> Dialect.MARKER + " SELECT COUNT(*), COALESCE(BIT_XOR(h), 0), COALESCE(SUM(h), 0)"
                    + " FROM (SELECT " + rowHash + " AS h FROM " + rows + " LIMIT " + Long.MAX_VALUE + ") d";
            default -> Dialect.MARKER + " SELECT COUNT(*), " + aggregate() + " FROM " + rows;
        };
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, after, upTo);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return new Sum(rs.getLong(1), rs.getString(2) + "/" + rs.getString(3));
            }
        }
    }

    private String where(boolean after, boolean upTo) {
        List<String> conditions = new ArrayList<>();
        if (after) {
            conditions.add(comparison(">"));
        }
        if (upTo) {
            conditions.add(comparison("<="));
        }
        if (window != null) {
            conditions.add("(" + window + ")");
        }
        return conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions);
    }

    private String comparison(String operator) {
        if (keyColumns.size() == 1) {
            return keyList + " " + operator + " ?";
        }
        return "(" + keyList + ") " + operator + " (" + String.join(", ", java.util.Collections.nCopies(
                keyColumns.size(), "?")) + ")";
    }

    private void bind(PreparedStatement statement, RowKey after, RowKey upTo) throws SQLException {
        int index = 1;
        for (RowKey key : new RowKey[] {after, upTo}) {
            if (key != null) {
                for (Object value : key.values()) {
                    statement.setObject(index++, value);
                }
            }
        }
        for (Object parameter : windowParameters) {
            statement.setObject(index++, Objects.requireNonNull(parameter));
        }
    }
}
