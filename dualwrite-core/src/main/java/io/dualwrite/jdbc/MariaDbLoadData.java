package io.dualwrite.jdbc;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import java.util.Iterator;

/**
 * MariaDB Connector/J's side of {@link TableOps#loadDataUpsert}: rows streamed into a per-session temporary staging
 * table with {@code LOAD DATA LOCAL INFILE} fed from {@code org.mariadb.jdbc.Statement#setLocalInfileInputStream},
 * then merged into the table by one guarded {@code INSERT ... SELECT ... ON DUPLICATE KEY UPDATE}, or (see
 * {@link TableOps#loadDataUpsert}) straight into a table that holds none or few of the rows' keys. The only class of
 * the library that names Connector/J's own types, so that the library runs without that driver as long as no
 * MariaDB target is written through it.
 *
 * <p>The staging table is made for each chunk ({@code CREATE TEMPORARY TABLE ... AS SELECT <columns> FROM <table>
 * LIMIT 0}: the target columns' exact types and character sets, no index) and dropped after the merge: neither
 * commits the caller's transaction, and both cost far less than emptying the table (MariaDB's {@code TRUNCATE}
 * would commit). Rows are encoded as the driver reads the stream, at most {@value #FLUSH_CHARS} characters at a
 * time, so the heap holds no chunk-sized text.
 *
 * <p>{@code LOAD DATA LOCAL} cannot stop the client's stream, so the server reads every field it cannot take whole
 * as a warning rather than an error (as with {@code IGNORE}). A load that leaves any warning, or loads a different
 * number of rows than were sent, is therefore a failure here: the caller rolls back and writes the chunk the
 * batched way, where the same value fails loudly or is written as the batched upsert writes it.
 */
final class MariaDbLoadData {

    /** Characters encoded before they are handed to the driver. */
    static final int FLUSH_CHARS = 1 << 16;

    /**
     * The server or the client refuses {@code LOAD DATA LOCAL}: 1148 {@code ER_NOT_ALLOWED_COMMAND}, 4166
     * {@code ER_LOAD_INFILE_CAPABILITY_DISABLED} (MariaDB 10.5+), 3948 (MySQL 8: disabled on either side).
     */
    private static final int[] REFUSED = {1148, 4166, 3948};

    private MariaDbLoadData() {
    }

    /** Whether the connection is MariaDB Connector/J's (false if the driver's classes are missing). */
    static boolean available(Connection connection) {
        try {
            return connection.isWrapperFor(org.mariadb.jdbc.Connection.class);
        } catch (SQLException | LinkageError e) {
            return false;
        }
    }

    /** Whether the error is the server's (or the session's) refusal of {@code LOAD DATA LOCAL}. */
    static boolean isRefused(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql) {
                for (int code : REFUSED) {
                    if (sql.getErrorCode() == code) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Writes one row's fields into the load's text, without the row's end. */
    interface RowEncoder<R> {
        void encode(R row, LoadDataText text);
    }

    /**
     * Makes the staging table, loads the rows into it, runs the merge and drops the staging table.
     *
     * @return the merge's update count (MariaDB's: 1 per row inserted, 2 per row changed, 0 per row left alone)
     * @throws LoadDataText.Unsupported if a value has no exact text; the staging table holds part of the rows and
     *     the caller's transaction must be rolled back to a savepoint taken before
     * @throws SQLException if any statement fails or the load left a warning; the same holds
     */
    static <R> int loadAndMerge(Connection connection, String dropStaging, String createStaging, String loadSql,
            String mergeSql, Collection<R> rows, RowEncoder<R> encoder) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(dropStaging);
            statement.execute(createStaging);
        }
        load(connection, loadSql, rows, encoder);
        try (Statement statement = connection.createStatement()) {
            int merged = statement.executeUpdate(mergeSql);
            statement.execute(dropStaging);
            return merged;
        }
    }

    /**
     * Streams rows into one {@code LOAD DATA LOCAL INFILE}.
     *
     * @throws LoadDataText.Unsupported if a value has no exact text; the load ended early with the rows before it
     * @throws SQLException if the load fails, the server refuses it ({@link #isRefused}), or it leaves a warning
     */
    static <R> void load(Connection connection, String loadSql, Collection<R> rows, RowEncoder<R> encoder)
            throws SQLException {
        RowStream<R> stream = new RowStream<>(rows.iterator(), encoder);
        try (Statement plain = connection.createStatement()) {
            org.mariadb.jdbc.Statement statement = plain.unwrap(org.mariadb.jdbc.Statement.class);
            statement.setLocalInfileInputStream(stream);
            long loaded = statement.executeLargeUpdate(loadSql);
            if (stream.failure != null) {
                throw stream.failure;
            }
            if (statement.getWarnings() != null) {
                failOnWarning(connection, rows.size());
            }
            if (loaded != rows.size()) {
                throw new SQLException("LOAD DATA loaded " + loaded + " rows of " + rows.size(), "01000");
            }
        }
    }

    /**
     * Fails on the load's first warning. A note is not one: it is what the batched upsert's {@code INSERT} also
     * meets and accepts in strict mode (a decimal rounded to the column's scale); a warning is what strict mode
     * would have refused, which {@code LOAD DATA LOCAL} only reports.
     */
    private static void failOnWarning(Connection connection, int rows) throws SQLException {
        long total;
        try (Statement count = connection.createStatement();
                java.sql.ResultSet counted = count.executeQuery("SHOW COUNT(*) WARNINGS")) {
            total = counted.next() ? counted.getLong(1) : 0;
        }
        long listed = 0;
        try (Statement show = connection.createStatement();
                java.sql.ResultSet warnings = show.executeQuery("SHOW WARNINGS")) {
            while (warnings.next()) {
                listed++;
                if (!"Note".equalsIgnoreCase(warnings.getString(1))) {
                    int code = warnings.getInt(2);
                    throw new SQLException("LOAD DATA of " + rows + " rows left a warning: " + warnings.getString(3)
                            + " (code " + code + ")", "01000", code);
                }
            }
        }
        if (listed < total) {
            // The server lists at most max_error_count of them: a warning past the notes listed (a truncated
            // string) cannot be ruled out, so the chunk goes the batched way, which refuses such a row.
            throw new SQLException("LOAD DATA of " + rows + " rows left " + total + " notes and warnings, of which the"
                    + " server lists " + listed + " (max_error_count): the others cannot be checked", "01000");
        }
    }

    /**
     * The rows' text, encoded as the driver reads it. An encoding failure ends the stream, so that the driver and the
     * server finish the load in step (throwing into the driver's read would leave the connection mid-protocol); the
     * failure is then thrown by {@link #load}.
     */
    private static final class RowStream<R> extends InputStream {
        private final Iterator<R> rows;
        private final RowEncoder<R> encoder;
        private final StringBuilder text = new StringBuilder(FLUSH_CHARS + 4096);
        private final LoadDataText out = new LoadDataText(text);
        private byte[] bytes = new byte[0];
        private int position;
        RuntimeException failure;

        RowStream(Iterator<R> rows, RowEncoder<R> encoder) {
            this.rows = rows;
            this.encoder = encoder;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            int n = read(one, 0, 1);
            return n < 0 ? -1 : one[0] & 0xFF;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (length == 0) {
                return 0;
            }
            if (position == bytes.length && !fill()) {
                return -1;
            }
            int n = Math.min(length, bytes.length - position);
            System.arraycopy(bytes, position, buffer, offset, n);
            position += n;
            return n;
        }

        private boolean fill() {
            if (failure != null) {
                return false;
            }
            text.setLength(0);
            try {
                while (text.length() < FLUSH_CHARS && rows.hasNext()) {
                    int rowStart = text.length();
                    try {
                        encoder.encode(rows.next(), out);
                    } catch (RuntimeException e) {
                        text.setLength(rowStart);
                        throw e;
                    }
                    out.endRow();
                }
            } catch (RuntimeException e) {
                failure = e;
            }
            bytes = text.toString().getBytes(StandardCharsets.UTF_8);
            position = 0;
            return bytes.length > 0;
        }
    }
}
