package io.dualwrite.samples.bench;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableMetadata;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/**
 * The baseline a backfill is measured against: the copy a developer would write by hand with plain
 * JDBC. Keyset reads ({@code WHERE id > ? AND id <= ? ORDER BY id LIMIT n}) in autocommit, without any
 * lock, each chunk bound straight from the result set into one batch of the backfill's upsert statement,
 * then one commit on the target. No checkpoint, no savepoint, no row objects, no overlap of reading and writing.
 *
 * <p>The upsert is the library's own SQL, {@code Dialect.guardedUpsert} over the target's metadata, in the
 * form the backfill sends under the same configuration (with or without the version guard), so the
 * comparison measures what the backfill does around that statement, not a different statement. With
 * several threads the key span is cut into equal, contiguous slices, one per thread.
 *
 * <p>For {@code --ablation}, the same loop can add, one {@link Step} at a time, what the backfill does
 * around each chunk, so that the gap between this baseline and the backfill can be attributed.
 */
final class PlainCopy {

    /** How much of the backfill's chunk work the copy does; each step includes the ones before it. */
    enum Step {
        /** The baseline. */
        PLAIN,
        /**
         * The source read becomes the backfill's: a READ COMMITTED transaction, the dialect's keyset scan
         * with the non-waiting share lock, held until the target has committed.
         */
        LOCKED,
        /** Plus a savepoint before the batch and a checkpoint row updated in the target transaction. */
        CHECKPOINTED,
        /**
         * Plus the library's row path, as the backfill takes it: {@link TableOps#scan} into {@link Row}s,
         * {@link MappedTable#toTarget} of the chunk, the key of every row, and {@link TableOps#overwrite} (or
         * {@link TableOps#upsert} with the version guard).
         */
        LIBRARY_ROWS
    }

    /** One copy: rows written, wall time, chunks committed. */
    record Result(long rows, long nanos, long chunks) {

        double rowsPerSecond() {
            return rows / (nanos / 1e9);
        }
    }

    private static final String CHECKPOINTS = "bench_checkpoint";

    private final DataSource source;
    private final DataSource target;
    private final int chunk;
    private final Step step;
    private final boolean versionGuard;
    private final String select;
    private final String upsert;
    private final int[] types;
    private final MappedTable mapped;

    /**
     * Prepares the baseline's statements.
     *
     * @param source the source pool, plain
     * @param target the target pool, with the dialect's batching properties
     * @param targetStore the target's store, whose dialect writes the upsert
     * @param chunk rows per read and per batch
     * @param versionGuard whether the upsert carries the version guard, as the backfill's
     *     {@code BackfillConfig.versionGuard()}; without it, a stored row is replaced only when it differs
     * @throws SQLException if the target table cannot be read
     */
    PlainCopy(DataSource source, DataSource target, Store targetStore, int chunk, boolean versionGuard)
            throws SQLException {
        this(source, target, targetStore, chunk, versionGuard, Step.PLAIN);
    }

    /**
     * Prepares the statements of a copy that goes {@code step} of the way to the backfill.
     *
     * @throws SQLException if a table cannot be read or the checkpoint table cannot be created
     */
    PlainCopy(DataSource source, DataSource target, Store targetStore, int chunk, boolean versionGuard, Step step)
            throws SQLException {
        this.source = source;
        this.target = target;
        this.chunk = chunk;
        this.step = step;
        this.versionGuard = versionGuard;
        TableMetadata table;
        try (Connection connection = target.getConnection()) {
            table = TableMetadata.read(connection, OrderTable.NAME).orElseThrow(() -> new IllegalStateException(
                    "table " + OrderTable.NAME + " is missing in the " + targetStore.label() + " target"));
        }
        TableOps ops = new TableOps(targetStore.dialect(), table, OrderTable.COLUMNS, List.of("id"), "gmt_modified");
        // The statement the backfill sends: TableOps.upsert with the guard, TableOps.overwrite without it.
        this.upsert = targetStore.dialect().guardedUpsert(table, ops.columns(), ops.keyColumns(),
                versionGuard ? ops.versionColumn() : null);
        this.types = ops.columns().stream().mapToInt(c -> table.column(c).orElseThrow().jdbcType()).toArray();
        if (step == Step.PLAIN) {
            this.mapped = null;
            this.select = "SELECT " + String.join(", ", OrderTable.COLUMNS) + " FROM " + OrderTable.NAME
                    + " WHERE id > ? AND id <= ? ORDER BY id LIMIT " + chunk;
            return;
        }
        this.mapped = MappedTables.resolve(List.of(TableMapping.builder(OrderTable.NAME).build()), source, target,
                false).get(OrderTable.NAME);
        TableOps from = mapped.source();
        this.select = from.dialect().keysetScan(from.table(), from.columns(), from.keyColumns(), true, true, null,
                chunk, true);
        if (step.compareTo(Step.CHECKPOINTED) >= 0) {
            try (Connection connection = target.getConnection(); Statement statement = connection.createStatement()) {
                if (TableMetadata.read(connection, CHECKPOINTS).isEmpty()) {
                    statement.execute("CREATE TABLE " + CHECKPOINTS + " (slice INT PRIMARY KEY,"
                            + " last_key VARCHAR(2000), rows_copied BIGINT NOT NULL, updated_ms BIGINT NOT NULL)");
                }
                statement.execute("DELETE FROM " + CHECKPOINTS);
                if (!connection.getAutoCommit()) {
                    connection.commit();
                }
            }
        }
    }

    /** @return the upsert statement the copy sends, for the report */
    String upsertSql() {
        return upsert;
    }

    /**
     * Copies ids {@code min..max} with {@code threads} threads.
     *
     * @throws SQLException the first failure of any thread
     * @throws InterruptedException if interrupted while waiting for the threads
     */
    Result run(int threads, long min, long max) throws SQLException, InterruptedException {
        return inSlices(threads, min, max, "bench-copy-" + step.name().toLowerCase(Locale.ROOT),
                (slot, after, upTo) -> step == Step.PLAIN ? copySlice(after, upTo)
                        : copySliceStepwise(slot, after, upTo));
    }

    /** Copies one slice of the key span: ids after {@code after} up to {@code upTo}. */
    @FunctionalInterface
    interface SliceCopy {

        /** @return {rows copied, chunks committed} */
        long[] copy(int slot, long after, long upTo) throws SQLException;
    }

    /**
     * Cuts ids {@code min..max} into {@code threads} equal slices and copies each on its own thread.
     *
     * @throws SQLException the first failure of any thread
     * @throws InterruptedException if interrupted while waiting for the threads
     */
    static Result inSlices(int threads, long min, long max, String threadName, SliceCopy slice)
            throws SQLException, InterruptedException {
        long[] copied = new long[threads];
        long[] chunks = new long[threads];
        AtomicReference<Exception> failure = new AtomicReference<>();
        List<Thread> workers = new ArrayList<>();
        long started = System.nanoTime();
        for (int i = 0; i < threads; i++) {
            int slot = i;
            long after = min - 1 + (long) Math.ceil((double) (max - min + 1) * i / threads);
            long upTo = i == threads - 1 ? max
                    : min - 1 + (long) Math.ceil((double) (max - min + 1) * (i + 1) / threads);
            Thread worker = new Thread(() -> {
                try {
                    long[] done = slice.copy(slot, after, upTo);
                    copied[slot] = done[0];
                    chunks[slot] = done[1];
                } catch (SQLException | RuntimeException e) {
                    failure.compareAndSet(null, e);
                }
            }, threadName + "-" + i);
            workers.add(worker);
            worker.start();
        }
        for (Thread worker : workers) {
            worker.join();
        }
        long nanos = System.nanoTime() - started;
        Exception failed = failure.get();
        if (failed instanceof SQLException sql) {
            throw sql;
        }
        if (failed != null) {
            throw (RuntimeException) failed;
        }
        long rows = 0;
        long chunkCount = 0;
        for (int i = 0; i < threads; i++) {
            rows += copied[i];
            chunkCount += chunks[i];
        }
        return new Result(rows, nanos, chunkCount);
    }

    /**
     * Runs the keyset read and adds each row it returns to the write batch.
     *
     * @param lastKey in: unused; out: the id of the last row read, unchanged when none was
     * @return how many rows were added
     */
    private int batchRows(PreparedStatement read, PreparedStatement write, long[] lastKey) throws SQLException {
        int n = 0;
        try (ResultSet rs = read.executeQuery()) {
            while (rs.next()) {
                for (int c = 0; c < types.length; c++) {
                    Object value = rs.getObject(c + 1);
                    if (value == null) {
                        write.setNull(c + 1, types[c]);
                    } else {
                        write.setObject(c + 1, value);
                    }
                }
                write.addBatch();
                lastKey[0] = rs.getLong(1);
                n++;
            }
        }
        return n;
    }

    /** @return rows copied and chunks committed for ids in {@code (after, upTo]} */
    private long[] copySlice(long after, long upTo) throws SQLException {
        long rows = 0;
        long chunks = 0;
        try (Connection from = source.getConnection(); Connection to = target.getConnection();
                PreparedStatement read = from.prepareStatement(select);
                PreparedStatement write = to.prepareStatement(upsert)) {
            to.setAutoCommit(false);
            long last = after;
            while (true) {
                read.setLong(1, last);
                read.setLong(2, upTo);
                long[] lastKey = {last};
                int n = batchRows(read, write, lastKey);
                last = lastKey[0];
                if (n > 0) {
                    write.executeBatch();
                    to.commit();
                    rows += n;
                    chunks++;
                }
                if (n < chunk) {
                    return new long[] {rows, chunks};
                }
            }
        }
    }

    /** The {@link Step}s beyond the baseline, for ids in {@code (after, upTo]}: rows copied and chunks committed. */
    private long[] copySliceStepwise(int slice, long after, long upTo) throws SQLException {
        long rows = 0;
        long chunks = 0;
        boolean checkpoint = step.compareTo(Step.CHECKPOINTED) >= 0;
        try (Connection from = source.getConnection(); Connection to = target.getConnection();
                PreparedStatement read = from.prepareStatement(select);
                PreparedStatement write = to.prepareStatement(upsert);
                PreparedStatement advance = to.prepareStatement("UPDATE " + CHECKPOINTS + " SET last_key = ?,"
                        + " rows_copied = rows_copied + ?, updated_ms = ? WHERE slice = ?")) {
            from.setAutoCommit(false);
            from.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            to.setAutoCommit(false);
            if (checkpoint) {
                try (Statement statement = to.createStatement()) {
                    statement.executeUpdate("INSERT INTO " + CHECKPOINTS + " (slice, rows_copied, updated_ms) VALUES ("
                            + slice + ", 0, 0)");
                }
                to.commit();
            }
            long last = after;
            while (true) {
                if (checkpoint) {
                    // Like the backfill, which rolls back to it if the batch fails on a row; commit releases it.
                    to.setSavepoint();
                }
                int n;
                if (step == Step.LIBRARY_ROWS) {
                    List<Row> found = mapped.source().scan(from, RowKey.of(last), RowKey.of(upTo), chunk, true, null,
                            List.of());
                    List<Row> converted = new ArrayList<>(mapped.toTarget(found));
                    List<RowKey> keys = new ArrayList<>(found.size());
                    for (Row row : found) {
                        keys.add(mapped.source().keyOf(row));
                    }
                    if (versionGuard) {
                        mapped.target().upsert(to, converted);
                    } else {
                        mapped.target().overwrite(to, converted);
                    }
                    n = found.size();
                    if (n > 0) {
                        last = ((Number) keys.get(n - 1).get(0)).longValue();
                    }
                } else {
                    read.setLong(1, last);
                    read.setLong(2, upTo);
                    long[] lastKey = {last};
                    n = batchRows(read, write, lastKey);
                    last = lastKey[0];
                    if (n > 0) {
                        write.executeBatch();
                    }
                }
                if (checkpoint) {
                    advance.setString(1, "[" + last + "]");
                    advance.setLong(2, n);
                    advance.setLong(3, System.currentTimeMillis());
                    advance.setInt(4, slice);
                    advance.executeUpdate();
                }
                to.commit();
                // As in the backfill: the source rows stay share-locked until the target has committed.
                from.rollback();
                if (n > 0) {
                    rows += n;
                    chunks++;
                }
                if (n < chunk) {
                    return new long[] {rows, chunks};
                }
            }
        }
    }
}
