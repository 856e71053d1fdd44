package io.dualwrite.jdbc;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Collection;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The PostgreSQL driver's side of {@link TableOps#copyUpsert}: rows streamed into a per-session temporary
 * staging table with {@code COPY ... FROM STDIN} in text format, then merged into the table by one guarded
 * {@code INSERT ... SELECT ... ON CONFLICT}. The only class of the library that names pgjdbc's own types,
 * so that the library runs without that driver as long as no PostgreSQL target is written.
 *
 * <p>The staging table is {@code CREATE TEMPORARY TABLE IF NOT EXISTS ... ON COMMIT DELETE ROWS AS SELECT
 * <columns> FROM <table> WITH NO DATA}: it lives as long as the pooled session, has the target columns' exact
 * types (so the merge compares what the batched upsert compares), and is emptied by every commit, and by the
 * rollback of the caller's savepoint when anything fails. Rows are encoded into a buffer of at most
 * {@value #FLUSH_CHARS} characters and sent as they are encoded, so the heap holds no chunk-sized text.
 *
 * <p>When the table holds none or few of the rows' keys (see {@link TableOps#copyUpsert}), the rows whose keys are
 * missing are copied straight into the table instead: each is an insert, which is what the merge would do with it;
 * the others take the staging table and its merge, or the batched guarded upsert when they are very few; a row that
 * another transaction inserts meanwhile fails the COPY with a duplicate key, after which all the rows go through the
 * staging table.
 */
final class PostgresCopy {

    /** Characters encoded before they are sent to the server. */
    static final int FLUSH_CHARS = 1 << 16;

    private PostgresCopy() {
    }

    /** Whether the connection is pgjdbc's (false if the driver's classes are missing). */
    static boolean available(Connection connection) {
        try {
            return connection.isWrapperFor(PGConnection.class);
        } catch (SQLException | LinkageError e) {
            return false;
        }
    }

    /** Writes one row's fields into the COPY text. */
    interface RowEncoder<R> {
        void encode(R row, CopyText text);
    }

    /**
     * Creates the staging table if the session lacks it, copies the rows into it and runs the merge.
     *
     * @return the merge's update count
     * @throws CopyText.Unsupported if a value has no exact COPY text; the COPY was cancelled and the caller's
     *     transaction must be rolled back to a savepoint taken before
     * @throws SQLException if any statement fails; the same holds for the transaction
     */
    static <R> int copyAndMerge(Connection connection, String createStaging, String copySql, String mergeSql,
            Collection<R> rows, RowEncoder<R> encoder) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(createStaging);
        }
        copy(connection, copySql, rows, encoder);
        try (Statement statement = connection.createStatement()) {
            return statement.executeUpdate(mergeSql);
        }
    }

    /**
     * Streams rows into one {@code COPY ... FROM STDIN}.
     *
     * @throws CopyText.Unsupported if a value has no exact COPY text; the COPY was cancelled, which aborts the
     *     caller's transaction
     * @throws SQLException if the COPY fails (a bad value, a duplicate key); the transaction is aborted
     */
    static <R> void copy(Connection connection, String copySql, Collection<R> rows, RowEncoder<R> encoder)
            throws SQLException {
        CopyIn copy = connection.unwrap(PGConnection.class).getCopyAPI().copyIn(copySql);
        try {
            StringBuilder buffer = new StringBuilder(FLUSH_CHARS + 4096);
            CopyText text = new CopyText(buffer);
            for (R row : rows) {
                encoder.encode(row, text);
                buffer.append('\n');
                if (buffer.length() >= FLUSH_CHARS) {
                    flush(copy, buffer);
                }
            }
            flush(copy, buffer);
            copy.endCopy();
        } catch (SQLException | RuntimeException e) {
            if (copy.isActive()) {
                try {
                    copy.cancelCopy();
                } catch (SQLException cancelled) {
                    // The server confirms the cancel with an error; the cause is the one to report.
                    if (e != cancelled) {
                        e.addSuppressed(cancelled);
                    }
                }
            }
            throw e;
        }
    }

    private static void flush(CopyIn copy, StringBuilder buffer) throws SQLException {
        if (buffer.length() == 0) {
            return;
        }
        byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
        copy.writeToCopy(bytes, 0, bytes.length);
        buffer.setLength(0);
    }
}
