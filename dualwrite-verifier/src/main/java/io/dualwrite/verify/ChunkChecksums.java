package io.dualwrite.verify;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;

/**
 * Chunk checksums computed in the database, for tables of the same dialect and schema: the key that ends a
 * chunk of about {@code n} rows, and the row count plus an order-independent or key-ordered hash of a key range.
 * Both sides run the same SQL, so only the dialect's own text forms of the values matter. NULL is told from an
 * empty string by a flag per column that may hold NULL on either side.
 *
 * <p>The hashes: MariaDB and MySQL take {@code BIT_XOR} of each row's {@code CRC32} multiplied by an odd 32-bit
 * constant; H2 {@code BIT_XOR} and {@code SUM} of a per-row {@code ORA_HASH}; PostgreSQL {@code md5} of the rows'
 * text in key order. A {@code BIT_XOR} of plain CRC32s (pt-table-checksum's) cannot see two rows of equal length
 * swap a value: CRC32 is affine over GF(2), so the four rows' hashes XOR to zero. The product's carries are not
 * affine, so one aggregate of one CRC32 a row sees the swap, where a second aggregate (a {@code SUM}) would make
 * MariaDB evaluate the row's text and CRC32 twice, or materialise them in a derived table.
 *
 * <p>Chunks: on MariaDB and MySQL with one integer key column, once a chunk after a key was found by rows (the keys
 * its rows took are the first span), a chunk is a span of key values, as pt-table-checksum takes it, so the source's
 * statement walks its rows once, in the same range statement as the target's. The span follows the rows the last
 * span held, and a span that held more than twice the rows asked for is taken again by rows (a dense stretch after
 * a sparse one), so no chunk whose rows are compared holds more than that. Near the largest key, and for every
 * other key and dialect, a chunk is found by rows: on MariaDB and MySQL with one key column in one walk (a derived
 * table whose {@code LIMIT} yields the count, the hash and the last key), otherwise by its end key first
 * ({@link #chunkEnd}) and its range's sum after.
 */
final class ChunkChecksums {

    /** A chunk's count and hash. */
    record Sum(long rows, String hash) {
    }

    /** The sum of the chunk after {@code after}, and its last key: null when the chunk runs to the end. */
    record Chunk(RowKey after, RowKey end, Sum sum) {
    }

    /** An odd constant below 2^32 that each row's CRC32 is multiplied by on MariaDB and MySQL (the class comment). */
    private static final long MIX = 2_654_435_761L;

    private final TableOps ops;
    private final Dialect dialect;
    private final List<String> keyColumns;
    private final String keyList;
    private final String rowHash;
    private final String window;
    private final List<Object> windowParameters;
    /** Chunks by key span ({@link #byKeySpan}): MariaDB or MySQL with one signed integer key column. */
    private final boolean keySpans;
    /** Key values in the next chunk by span, following the rows the last chunk held; 0 until a chunk by rows. */
    private long span;
    /** The largest key when it was last read; a span reaching it reads it again. Null until then. */
    private Long largestKey;

    /**
     * @param columns the columns hashed, in order
     * @param nullable those of them that may hold NULL on either side (the only ones that need a NULL flag)
     */
    ChunkChecksums(TableOps ops, List<String> columns, Set<String> nullable, String window,
            List<Object> windowParameters) {
        this.ops = ops;
        this.dialect = ops.dialect();
        this.keyColumns = ops.keyColumns();
        this.keyList = String.join(", ", keyColumns.stream().map(dialect::quote).toList());
        this.window = window;
        this.windowParameters = windowParameters;
        Function<String, String> quote = c -> dialect.quote(ops.table().storedName(c));
        this.rowHash = rowHash(dialect.product(), columns.stream().map(quote).toList(),
                columns.stream().filter(nullable::contains).map(quote).toList());
        boolean mariaDb = dialect.product() == Dialect.Product.MARIADB || dialect.product() == Dialect.Product.MYSQL;
        this.keySpans = mariaDb && keyColumns.size() == 1 && ops.table().column(keyColumns.get(0))
                .filter(ChunkChecksums::signedInteger).isPresent();
    }

    private static boolean signedInteger(ColumnMetadata column) {
        return switch (column.jdbcType()) {
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER -> true;
            case Types.BIGINT -> !column.typeName().toUpperCase(Locale.ROOT).contains("UNSIGNED");
            default -> false;
        };
    }

    /** The row's text: its values joined by '#', then a flag per nullable column that tells NULL from ''. */
    private String rowHash(Dialect.Product product, List<String> quoted, List<String> nullable) {
        List<String> flags = new ArrayList<>();
        switch (product) {
            case MARIADB, MYSQL -> {
                nullable.forEach(c -> flags.add("ISNULL(" + c + ")"));
                // Below 2^32 times below 2^32: the product fits BIGINT UNSIGNED, the type MariaDB gives it.
                return "CRC32(" + joined("CONCAT_WS", "CONCAT", quoted, flags) + ") * " + MIX;
            }
            case POSTGRESQL -> {
                nullable.forEach(c -> flags.add("(" + c + " IS NULL)::int"));
                return joined("concat_ws", "concat", quoted, flags);
            }
            case H2 -> {
                nullable.forEach(c -> flags.add("CASE WHEN " + c + " IS NULL THEN '1' ELSE '0' END"));
                return "ORA_HASH(" + joined("CONCAT_WS", "CONCAT", quoted, flags) + ")";
            }
            default -> throw new IllegalStateException("no checksum for " + product);
        }
    }

    private static String joined(String concatWs, String concat, List<String> values, List<String> flags) {
        return concatWs + "('#', " + String.join(", ", values)
                + (flags.isEmpty() ? "" : ", " + concat + "(''," + String.join(", ", flags) + ")") + ")";
    }

    /** The aggregates over the rows: MariaDB's one XOR, PostgreSQL's md5 of the key-ordered text, H2's two. */
    private String aggregate() {
        return switch (dialect.product()) {
            case MARIADB, MYSQL -> "COALESCE(BIT_XOR(" + rowHash + "), 0), ''";
            case POSTGRESQL -> "COALESCE(md5(string_agg(" + rowHash + ", E'\\n' ORDER BY " + keyList + ")), ''), ''";
            case H2 -> "COALESCE(BIT_XOR_AGG(" + rowHash + "), 0), COALESCE(SUM(" + rowHash + "), 0)";
            default -> throw new IllegalStateException("no checksum for " + dialect.product());
        };
    }

    /**
     * Sums the next chunk after {@code after}, of about {@code rows} rows, and finds its last key: a span of key
     * values where the class comment says so, else {@code rows} rows.
     *
     * @return the chunk
     */
    Chunk next(Connection connection, RowKey after, int rows) throws SQLException {
        Long from = keySpans && after != null && after.values().get(0) instanceof Long key ? key : null;
        if (from != null && span > 0) {
            Chunk spanned = byKeySpan(connection, from, rows);
            if (spanned != null) {
                return spanned;
            }
        }
        Chunk chunk = byRows(connection, after, rows);
        if (from != null && chunk.end() != null && chunk.end().values().get(0) instanceof Long end) {
            // The keys those rows took: the next span's first guess (the first chunk, from no key, gives none).
            span = Math.max(1, end - from);
        }
        return chunk;
    }

    /**
     * The chunk of keys {@code (after, after + span]}, or null when it is to be found by rows instead: it would
     * reach the largest key (the walk by rows finds the end, and rows added after it), or it held more than twice
     * {@code rows} rows.
     */
    private Chunk byKeySpan(Connection connection, long after, int rows) throws SQLException {
        long upTo = after + span;
        if (upTo < after) {
            return null;
        }
        if (largestKey == null || upTo >= largestKey) {
            largestKey = largestKey(connection);
            if (largestKey == null || upTo >= largestKey) {
                return null;
            }
        }
        RowKey from = RowKey.of(after);
        RowKey end = RowKey.of(upTo);
        Sum sum = sum(connection, from, end);
        // The next span aims at this many rows at this span's density and grows at most fourfold a chunk (an empty
        // span quadruples it); one that meets a dense stretch holds more than twice the rows and is taken by rows.
        double wanted = sum.rows() == 0 ? span * 4.0 : (double) span * rows / sum.rows();
        span = (long) Math.max(1, Math.min(wanted, span * 4.0));
        return sum.rows() > 2L * rows ? null : new Chunk(from, end, sum);
    }

    /**
     * The chunk of {@code rows} rows after {@code after}: on MariaDB and MySQL with a one-column key one statement
     * walks it once, hashing each row once and taking the last key as the largest; otherwise its end is found
     * first ({@link #chunkEnd}) and its range summed after.
     */
    private Chunk byRows(Connection connection, RowKey after, int rows) throws SQLException {
        boolean oneWalk = keyColumns.size() == 1
                && (dialect.product() == Dialect.Product.MARIADB || dialect.product() == Dialect.Product.MYSQL);
        if (!oneWalk) {
            RowKey end = chunkEnd(connection, after, rows);
            return new Chunk(after, end, sum(connection, after, end));
        }
        String sql = Dialect.MARKER + " SELECT COUNT(*), MAX(" + keyList + "), COALESCE(BIT_XOR(dw_h), 0)"
                + " FROM (SELECT " + keyList + ", " + rowHash + " AS dw_h FROM " + dialect.tableName(ops.table())
                + where(after != null, false) + " ORDER BY " + keyList + " LIMIT " + rows + ") d";
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, after, null);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                long count = rs.getLong(1);
                // Fewer rows than asked: the chunk runs to the end, and the other side's range must too.
                RowKey end = count < rows ? null : RowKey.of(List.of(rs.getObject(2)));
                return new Chunk(after, end, new Sum(count, rs.getString(3) + "/"));
            }
        }
    }

    private Long largestKey(Connection connection) throws SQLException {
        String sql = Dialect.MARKER + " SELECT MAX(" + keyList + ") FROM " + dialect.tableName(ops.table())
                + where(false, false);
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            bind(statement, null, null);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                long largest = rs.getLong(1);
                return rs.wasNull() ? null : largest;
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
        String sql = Dialect.MARKER + " SELECT COUNT(*), " + aggregate() + " FROM " + dialect.tableName(ops.table())
                + where(after != null, upTo != null);
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
