package io.dualwrite.verify;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.SqlErrors;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.routing.Route;
import io.micrometer.observation.Observation;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * One run of the {@link Reconciler} over one table: the chunk loop, the comparison and the repairs.
 *
 * <p>Two reader threads, one per store, overlap the stores' work with each other and with the comparison. On the row
 * path over unsharded tables each store is one {@link KeysetStream}: its reader walks the store in key order, a
 * statement per {@link #segmentRows} rows whose rows are handed over as the driver decodes them, up to two segments
 * ahead, without waiting for the other store; this thread takes the next {@code chunkSize} source rows and merges
 * them with the target's rows up to the chunk's last key ({@link #streamedChunk}). Chunks, checkpoints and the
 * settling of candidates are the same as chunk by chunk: only the reads differ. A stream's reader uses its
 * connection only inside a segment, and {@link #withConnections} keeps it off while this thread writes a checkpoint,
 * renews the lease or re-reads candidates by key.
 *
 * <p>With a sharded store (a chunk merges several physical tables) the row path reads chunk by chunk ahead instead:
 * while this thread compares chunk N, the source reader reads the next chunks one after the other (each starts after
 * the previous one's last key) and, as soon as a chunk's last key is known, the target reader reads the target's rows
 * of the same key range ({@link #readAfter}), up to {@value #READ_AHEAD_CHUNKS} chunks and {@value #READ_AHEAD_ROWS}
 * rows ahead (at least one chunk); on
 * the checksum path the target reader computes the target's sum of chunk N while this thread sums the source's
 * chunk N+1. Each connection is used by one thread at a time: the readers hold {@code src} and {@code tgt} while
 * reads are queued ahead, until {@link #quiesce}, which every other use of either connection on this thread calls
 * first (checkpoints, the lease, re-reads by key, further pages of a chunk), and {@code tgt} inside
 * {@link #targetSumWhileSourceSumsNext}, which waits for it. At most the chunk being compared and the chunks read
 * ahead are held in memory. However the run ends, {@link #stopReaders} and {@link #closeStreams} stop the reads ahead
 * and wait for the one under way before the connections close.
 */
final class ReconcileRun {

    private static final Log log = LogFactory.getLog(Reconciler.class);
    /** At most one checkpoint write per this many nanoseconds, besides the first, the last and a budget stop. */
    private static final long CHECKPOINT_INTERVAL_NANOS = 1_000_000_000L;

    private final ReconcileConfig config;
    private final MappedTable table;
    private final RowDiff diff;
    private final TableOps sourceOps;
    private final TableOps targetOps;
    private final Connection src;
    private final Connection tgt;
    private final ReconcileCheckpoints checkpoints;
    private final String job;
    private final MismatchLog mismatchLog;
    private final VerifyEvent.Listener listener;
    private final Throttle throttle;
    private final boolean ordered;
    private final ChunkChecksums sourceSums;
    private final ChunkChecksums targetSums;
    private final String sourceWindow;
    private final String targetWindow;
    private final List<Object> windowParameters = new ArrayList<>();
    /** A run restricted to some source rows ({@link Reconciler#runWhere}): its condition, or null. */
    private final String where;
    private final List<Object> sourceParameters = new ArrayList<>();
    private final Set<String> repairProblems = new LinkedHashSet<>();
    /** Rows whose repair failed on their own are named in the report up to this many, the rest in the log. */
    private static final int MAX_ROW_PROBLEMS = 10;
    private int rowsNotRepaired;
    private final Lease lease;
    /** The unit of a sharded source this run covers, or null for the whole table. */
    private final Unit unit;
    private ReconcileCheckpoints.State state;
    private long chunks;
    private long checksumChunks;
    private ExecutorService sourceReader;
    private ExecutorService targetReader;
    /**
     * How many source rows the readers may read ahead of the comparison (and as many target rows): three chunks of
     * 5,000, enough that neither reader waits on the comparison's turn; a larger chunk is read fewer chunks ahead,
     * at least one, so memory stays near this bound whatever the chunk size.
     */
    private static final int READ_AHEAD_ROWS = 15_000;
    /** Never more chunks ahead than this: small chunks must not let the readers run far ahead of a throttle. */
    private static final int READ_AHEAD_CHUNKS = 3;
    /** Chunks read ahead: {@link #READ_AHEAD_ROWS} in chunks of the configured size, 1 to {@link #READ_AHEAD_CHUNKS}. */
    private final int readAhead;
    /** The next chunks' reads, queued or under way on the reader threads, in key order. */
    private final java.util.ArrayDeque<Ahead> ahead = new java.util.ArrayDeque<>();
    /**
     * Whether the row path reads each store as one stream ({@link KeysetStream}): an ordered walk of unsharded tables
     * without checksums. Otherwise (a sharded store, whose chunk merges several physical tables) it reads chunk by
     * chunk ahead ({@link #readAfter}).
     */
    private final boolean streamed;
    /** Rows per statement of a stream: two chunks, at most {@value #STREAM_SEGMENT_ROWS}. */
    private final int segmentRows;
    /** At most this many rows per streamed statement, and twice as many held ahead per store. */
    private static final int STREAM_SEGMENT_ROWS = 10_000;
    private KeysetStream sourceStream;
    private KeysetStream targetStream;
    /** Checksum path: the source's sum of the chunk after the one being compared, or null. */
    private ChunkChecksums.Chunk sourceAhead;

    /** A chunk's source rows and the key they follow; {@code rows} is null when the table ended before it. */
    private record SourceChunk(RowKey after, List<Row> rows) {
    }

    /** The reads of one chunk: its source rows, then the target's first page of its key range (null: no chunk). */
    private record Ahead(CompletableFuture<SourceChunk> source, CompletableFuture<List<Row>> target) {
    }
    private long lastCheckpointNanos;

    /** How long a few still-differing rows wait for in-flight mirror applies before they count. */
    private static final java.time.Duration LAG_RECHECK = java.time.Duration.ofMillis(500);
    /** After the pause, the longest wait for this instance's mirrors to apply what was committed before. */
    private static final java.time.Duration LAG_CATCH_UP = java.time.Duration.ofSeconds(10);
    /** More differing rows than this in one batch are drift, not lag: they count without the wait. */
    private static final int LAG_RECHECK_MAX_ROWS = 32;

    /** A row that differs in a first reading, to be read again by key before it counts. */
    private record Candidate(RowKey sourceKey, RowKey targetKey) {
    }

    /**
     * A part of a sharded source's reconcile that one instance leases and checkpoints on its own: a physical source
     * shard, walked alone and each row looked up in the target by key; or, with no shard, the walk of the target
     * for rows no shard holds.
     *
     * @param name the unit's name: the shard's {@code dataSource.table}, or {@link #TARGET_WALK}
     * @param shard the physical source shard, or null for the target walk
     */
    record Unit(String name, io.dualwrite.jdbc.ShardLayout.Shard shard) {

        /** The name of the unit that walks the target for extra rows. */
        static final String TARGET_WALK = "target";
    }

    /** Keeps the table's (or unit's) lease while the run goes on, and fences its checkpoint writes. */
    interface Lease {
        /**
         * Renews it now and then; called with every checkpoint.
         *
         * @throws ReconcileBusyException if another instance has taken the table over
         */
        void keep() throws SQLException;

        /** @return the lease every checkpoint write of the run is conditioned on */
        ReconcileLeases.Fence fence();

        /** @return the error that stops a run whose checkpoint write was refused: the lease is another's */
        ReconcileBusyException lost() throws SQLException;
    }

    ReconcileRun(ReconcileConfig config, MappedTable table, RowDiff diff, boolean sameProduct, Connection src,
            Connection tgt, ReconcileCheckpoints checkpoints, String job, MismatchLog mismatchLog,
            VerifyEvent.Listener listener, Lease lease, String where, List<Object> whereParameters) {
        this(config, table, diff, sameProduct, src, tgt, checkpoints, job, mismatchLog, listener, lease, where,
                whereParameters, null);
    }

    /** A run of one unit of a sharded source ({@code unit}), or of the whole table ({@code null}). */
    ReconcileRun(ReconcileConfig config, MappedTable table, RowDiff diff, boolean sameProduct, Connection src,
            Connection tgt, ReconcileCheckpoints checkpoints, String job, MismatchLog mismatchLog,
            VerifyEvent.Listener listener, Lease lease, String where, List<Object> whereParameters, Unit unit) {
        this.lease = lease;
        this.unit = unit;
        this.where = where;
        this.config = config;
        this.table = table;
        this.diff = diff;
        this.sourceOps = table.source();
        this.targetOps = table.target();
        this.src = src;
        this.tgt = tgt;
        this.checkpoints = checkpoints;
        this.job = job;
        this.mismatchLog = mismatchLog;
        this.listener = listener;
        this.throttle = new Throttle(config.rowsPerSecond(), config.clock());
        this.readAhead = Math.max(1, Math.min(READ_AHEAD_CHUNKS, READ_AHEAD_ROWS / config.chunkSize()));
        config.windowFrom().ifPresent(windowParameters::add);
        config.windowTo().ifPresent(windowParameters::add);
        sourceParameters.addAll(windowParameters);
        String sourceVersions = window(sourceOps);
        if (where != null) {
            sourceParameters.addAll(whereParameters);
        }
        this.sourceWindow = where == null ? sourceVersions
                : sourceVersions == null ? "(" + where + ")" : sourceVersions + " AND (" + where + ")";
        this.targetWindow = window(targetOps);
        // A unit walks one side only (a shard, or the target): the look-up path, which splits that way.
        this.ordered = unit == null && keysKeepTheirOrder();
        // The condition is the source's; the target's sums would cover other rows too. A sharded target's rows are
        // on several physical tables, which one checksum statement cannot cover: rows are compared instead.
        if (ordered && where == null && config.checksums() && sameProduct && diff.plain() && sameSchema()
                && targetOps.shardLayout().isEmpty() && sourceOps.shardLayout().isEmpty()) {
            List<String> columns = diff.comparedColumns();
            Set<String> nullable = columns.stream().filter(c -> sourceOps.table().column(c).orElseThrow().nullable()
                    || targetOps.table().column(c).orElseThrow().nullable()).collect(Collectors.toSet());
            this.sourceSums = new ChunkChecksums(sourceOps, columns, nullable, sourceWindow, sourceParameters);
            this.targetSums = new ChunkChecksums(targetOps, columns, nullable, targetWindow, windowParameters);
        } else {
            this.sourceSums = null;
            this.targetSums = null;
        }
        this.streamed = ordered && sourceSums == null && targetOps.shardLayout().isEmpty()
                && sourceOps.shardLayout().isEmpty();
        this.segmentRows = (int) Math.min(STREAM_SEGMENT_ROWS, 2L * config.chunkSize());
    }

    private String window(TableOps ops) {
        if (windowParameters.isEmpty()) {
            return null;
        }
        String column = ops.dialect().quote(ops.versionColumn());
        List<String> conditions = new ArrayList<>();
        config.windowFrom().ifPresent(from -> conditions.add(column + " >= ?"));
        config.windowTo().ifPresent(to -> conditions.add(column + " < ?"));
        return String.join(" AND ", conditions);
    }

    /**
     * Integral keys that the mapping leaves as they are sort the same on both sides, so both can be read by
     * key range. Text keys cannot be trusted to (collations differ between stores), nor mapped keys.
     */
    private boolean keysKeepTheirOrder() {
        TableMapping mapping = table.mapping();
        if (mapping.transformer().isPresent() || mapping.keyMapping() != io.dualwrite.mapping.KeyMapping.identity()) {
            return false;
        }
        for (String key : sourceOps.keyColumns()) {
            if (mapping.converters().containsKey(key.toLowerCase(java.util.Locale.ROOT))) {
                return false;
            }
        }
        return allIntegral(sourceOps) && allIntegral(targetOps);
    }

    private static boolean allIntegral(TableOps ops) {
        for (String key : ops.keyColumns()) {
            ColumnMetadata column = ops.table().column(key).orElseThrow();
            boolean integral = switch (column.jdbcType()) {
                case Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.TINYINT -> true;
                case Types.NUMERIC, Types.DECIMAL -> column.scale() == 0;
                default -> false;
            };
            if (!integral) {
                return false;
            }
        }
        return true;
    }

    /** Same columns, same types, same sizes: the stores render equal rows as equal text. */
    private boolean sameSchema() {
        for (String column : diff.comparedColumns()) {
            var s = sourceOps.table().column(column);
            var t = targetOps.table().column(column);
            if (s.isEmpty() || t.isEmpty() || s.get().jdbcType() != t.get().jdbcType()
                    || !s.get().typeName().equalsIgnoreCase(t.get().typeName()) || s.get().size() != t.get().size()
                    || s.get().scale() != t.get().scale()) {
                return false;
            }
        }
        return true;
    }

    ReconcileReport execute() throws SQLException {
        long started = System.nanoTime();
        long deadline = config.timeBudget().map(b -> config.clock().millis() + b.toMillis()).orElse(Long.MAX_VALUE);
        state = config.resume() ? checkpoints.load(tgt, job) : null;
        if (state == null || state.done) {
            state = new ReconcileCheckpoints.State();
            if (unit != null && unit.shard() == null) {
                state.phase = "TARGET";
            }
        }
        boolean finished = false;
        boolean first = true;
        if (ordered && !streamed) {
            sourceReader = Executors.newSingleThreadExecutor(task -> readerThread(task, "source"));
            targetReader = Executors.newSingleThreadExecutor(task -> readerThread(task, "target"));
        }
        try {
            while (!finished) {
                if (!first && config.clock().millis() >= deadline) {
                    quiesce();
                    withConnections(this::saveCheckpoint);
                    return report(false, started);
                }
                first = false;
                finished = observedChunk();
                chunks++;
                saveCheckpointNowAndThen(chunks == 1);
                pause(throttle.take(config.chunkSize()));
            }
        } finally {
            if (sourceReader != null) {
                stopReaders();
            }
            closeStreams();
        }
        state.done = true;
        saveCheckpoint();
        // A unit may be an empty shard; the reconciler checks the units' sum instead.
        if (unit == null && state.compared + state.extra == 0) {
            throw new IllegalStateException("reconcile of table '" + table.name() + "' compared no rows: both sides"
                    + " are empty" + (windowParameters.isEmpty() ? "" : " in the window " + config.windowFrom()
                    .map(String::valueOf).orElse("-") + " .. " + config.windowTo().map(String::valueOf).orElse("-"))
                    + (where == null ? "" : " where " + where + " " + sourceParameters)
                    + "; a check that sees nothing proves nothing (check dualwrite.verify.reconcile.window and the"
                    + " data sources)");
        }
        return report(true, started);
    }

    /**
     * A checkpoint write is a commit on the target; once per chunk it costs more than the chunk's compare on
     * a fast pair, so it is written at most once a second. A failed run resumes up to a second further back.
     */
    private void saveCheckpointNowAndThen(boolean force) throws SQLException {
        long now = System.nanoTime();
        if (force || now - lastCheckpointNanos >= CHECKPOINT_INTERVAL_NANOS) {
            quiesce();
            withConnections(() -> {
                saveCheckpoint();
                lease.keep();
            });
            lastCheckpointNanos = now;
        }
    }

    /** A use of {@code src} or {@code tgt} on this thread. */
    @FunctionalInterface
    private interface Use {
        void run() throws SQLException;
    }

    /**
     * Runs {@code use} while the streams (if any) keep off the connections: it waits for a segment under way to end,
     * and no segment starts until {@code use} is done. The rows already read ahead stay.
     */
    private void withConnections(Use use) throws SQLException {
        if (sourceStream == null) {
            use.run();
            return;
        }
        sourceStream.hold();
        try {
            targetStream.hold();
            try {
                use.run();
            } finally {
                targetStream.release();
            }
        } finally {
            sourceStream.release();
        }
    }

    /** Stops the streams before the connections close, however the run ends. */
    private void closeStreams() {
        if (sourceStream != null) {
            sourceStream.close();
        }
        if (targetStream != null) {
            targetStream.close();
        }
    }

    /**
     * Writes the checkpoint while this instance holds the lease, or stops the run: an instance frozen past its lease
     * (a long pause, a stalled VM) wakes with a state the new holder has moved on from, and writing it would undo the
     * holder's progress, or mark a unit the holder finished as running with counts that miss its repairs.
     */
    private void saveCheckpoint() throws SQLException {
        if (!checkpoints.save(tgt, job, state, config.clock().millis(), lease.fence())) {
            throw lease.lost();
        }
    }

    private static Thread readerThread(Runnable task, String side) {
        Thread thread = new Thread(task, "dualwrite-reconcile-" + side + "-reader");
        thread.setDaemon(true);
        return thread;
    }

    /**
     * Stops the readers before the connections close, which the caller does once this run returns, however it ends:
     * the reads queued ahead are cancelled and never start, a read under way is interrupted, and this thread waits
     * until it has ended, even when this thread was interrupted itself (which is often why the run ends): a read left
     * going on would use a connection being closed.
     */
    private void stopReaders() {
        for (Ahead pending : ahead) {
            // Cancelled, a read's dependent reads fail rather than being queued on a reader.
            pending.source().cancel(true);
            pending.target().cancel(true);
        }
        ahead.clear();
        sourceReader.shutdownNow();
        targetReader.shutdownNow();
        boolean interrupted = Thread.interrupted();
        try {
            interrupted |= awaitReader(sourceReader);
            interrupted |= awaitReader(targetReader);
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** @return whether this thread was interrupted while it waited (the wait goes on regardless) */
    private boolean awaitReader(ExecutorService reader) {
        long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
        boolean interrupted = false;
        while (true) {
            try {
                if (!reader.awaitTermination(deadline - System.nanoTime(), java.util.concurrent.TimeUnit.NANOSECONDS)) {
                    log.warn("dualwrite reconciler: a read of table '" + table.name() + "' did not stop within a"
                            + " minute; its connection is closed under it");
                }
                return interrupted;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
    }

    /** A read on a reader thread. */
    @FunctionalInterface
    private interface Read<T> {
        T run() throws SQLException;
    }

    private static <T> T unchecked(Read<T> read) {
        try {
            return read.run();
        } catch (SQLException e) {
            throw new CompletionException(e);
        }
    }

    /**
     * Queues the reads of one chunk: its source rows on the source reader (after {@code previous}'s last key, or
     * after {@code first} when there is no previous chunk) and, once they are in (their last key ends the chunk's
     * key range), the target's first page of that range on the target reader.
     */
    private Ahead readAfter(Ahead previous, RowKey first) {
        CompletableFuture<SourceChunk> source = previous == null
                ? CompletableFuture.supplyAsync(() -> readSource(first), sourceReader)
                : previous.source().thenApplyAsync(before -> {
                    RowKey after = before.rows() == null ? null : chunkEnd(before.rows());
                    return after == null ? new SourceChunk(null, null) : readSource(after);
                }, sourceReader);
        CompletableFuture<List<Row>> target = source.thenApplyAsync(chunk -> chunk.rows() == null ? null
                : unchecked(() -> targetOps.scan(tgt, chunk.after(), chunkEnd(chunk.rows()), config.chunkSize(), false,
                        targetWindow, windowParameters)), targetReader);
        return new Ahead(source, target);
    }

    private SourceChunk readSource(RowKey after) {
        return new SourceChunk(after, unchecked(() -> sourceOps.scan(src, after, null, config.chunkSize(), false,
                sourceWindow, sourceParameters)));
    }

    /** @return the key that ends a chunk of source rows, or null when it is the last chunk */
    private RowKey chunkEnd(List<Row> sourceRows) {
        return sourceRows.size() < config.chunkSize() ? null : sourceOps.keyOf(sourceRows.get(sourceRows.size() - 1));
    }

    /**
     * Waits until every read queued ahead is done (keeping its rows, or its failure, for when the chunk is taken):
     * frees {@code src} and {@code tgt} for this thread. No read starts again until this thread queues one.
     */
    private void quiesce() {
        for (Ahead pending : ahead) {
            try {
                // A chunk's target read follows its source read, and fails at once when that failed.
                pending.target().join();
            } catch (CompletionException | java.util.concurrent.CancellationException seenWhenTaken) {
                // The failure is thrown when the chunk is taken.
            }
        }
    }

    private static <T> T await(Future<T> pending) throws SQLException {
        try {
            return pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            pending.cancel(true);
            throw new SQLException("interrupted while reading the next chunk", e);
        } catch (ExecutionException e) {
            throw io.dualwrite.jdbc.SqlErrors.rethrowCause(e.getCause());
        }
    }

    /**
     * The target's sum of {@code (after, end]}, taken on the target reader while this thread sums the source's
     * next chunk into {@link #sourceAhead} (a chunk ahead is only a sum of a key range: if this one differs and
     * its rows are compared and repaired first, that range is untouched).
     */
    private ChunkChecksums.Sum targetSumWhileSourceSumsNext(RowKey after, RowKey end) throws SQLException {
        Future<ChunkChecksums.Sum> right = targetReader.submit(() -> targetSums.sum(tgt, after, end));
        if (end != null) {
            try {
                sourceAhead = sourceSums.next(src, end, config.chunkSize());
            } catch (SQLException | RuntimeException e) {
                try {
                    await(right);
                } catch (SQLException | RuntimeException ignored) {
                    e.addSuppressed(ignored);
                }
                throw e;
            }
        }
        return await(right);
    }

    private ReconcileReport report(boolean complete, long started) {
        Map<Mismatch.Kind, List<RowKey>> samples = new EnumMap<>(Mismatch.Kind.class);
        samples.putAll(state.samples);
        return new ReconcileReport(table.name(), complete, state.compared, state.missing, state.extra,
                state.different, state.repaired, state.unrepaired, samples, chunks, checksumChunks,
                new ArrayList<>(repairProblems), Duration.ofNanos(System.nanoTime() - started));
    }

    private static void pause(long millis) {
        if (millis <= 0) {
            return;
        }
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One chunk, observed as {@link VerifyMetrics#RECONCILE_CHUNK_OBSERVATION}.
     *
     * @return true when it was the last
     */
    private boolean observedChunk() throws SQLException {
        long checksummed = checksumChunks;
        long compared = state.compared;
        Observation observation = Observation.createNotStarted(VerifyMetrics.RECONCILE_CHUNK_OBSERVATION,
                config.observationRegistry()).contextualName("dualwrite reconcile chunk " + table.name())
                .lowCardinalityKeyValue("table", table.name()).start();
        try (Observation.Scope scope = observation.openScope()) {
            return streamed ? streamedChunk() : ordered ? orderedChunk() : lookupChunk();
        } catch (SQLException | RuntimeException e) {
            observation.error(e);
            throw e;
        } finally {
            observation.lowCardinalityKeyValue("path", checksumChunks > checksummed ? "checksum" : "rows")
                    .highCardinalityKeyValue("compared", String.valueOf(state.compared - compared));
            observation.stop();
        }
    }

    /** One chunk of the key-range path. @return true when it was the last */
    private boolean orderedChunk() throws SQLException {
        RowKey after = state.lastKey;
        if (sourceSums != null) {
            ChunkChecksums.Chunk chunk = sourceAhead != null && java.util.Objects.equals(sourceAhead.after(), after)
                    ? sourceAhead : sourceSums.next(src, after, config.chunkSize());
            sourceAhead = null;
            RowKey end = chunk.end();
            ChunkChecksums.Sum left = chunk.sum();
            if (left.equals(targetSumWhileSourceSumsNext(after, end))) {
                state.compared += left.rows();
                checksumChunks++;
                listener.onEvent(new VerifyEvent.ChunkReconciled(table.name(), (int) left.rows(), true));
                state.lastKey = end;
                return end == null;
            }
            List<Row> sourceRows = scanRange(sourceOps, src, after, end, sourceWindow, sourceParameters);
            compareRange(sourceRows, after, end, null);
            state.lastKey = end;
            return end == null;
        }
        Ahead chunk = ahead.poll();
        SourceChunk read = chunk == null ? null : await(chunk.source());
        if (read == null || read.rows() == null || !java.util.Objects.equals(read.after(), after)) {
            // Nothing read ahead from this key (the first chunk): start afresh.
            quiesce();
            ahead.clear();
            chunk = readAfter(null, after);
            read = await(chunk.source());
        }
        // The next chunks are read while this one is compared.
        while (ahead.size() < readAhead) {
            ahead.add(readAfter(ahead.isEmpty() ? chunk : ahead.peekLast(), null));
        }
        List<Row> sourceRows = read.rows();
        RowKey end = chunkEnd(sourceRows);
        compareRange(sourceRows, after, end, await(chunk.target()));
        state.lastKey = end;
        return end == null;
    }

    /**
     * One chunk of the streamed row path: the next {@code chunkSize} source rows of the source's stream, merged
     * with the target's stream up to the chunk's last key (to its end for the last chunk). Chunks and checkpoints
     * are the same as on the chunk-by-chunk path; only the reads differ: each store is read ahead by its own
     * reader, which neither waits for the other's chunk boundaries nor starts a statement per chunk.
     *
     * @return true when it was the last
     */
    private boolean streamedChunk() throws SQLException {
        RowKey after = state.lastKey;
        if (sourceStream == null) {
            // Both streams start after the checkpoint's key, and are taken chunk by chunk from there on.
            sourceStream = new KeysetStream(sourceOps, src, after, sourceWindow, sourceParameters, segmentRows,
                    "source");
            targetStream = new KeysetStream(targetOps, tgt, after, targetWindow, windowParameters, segmentRows,
                    "target");
        }
        List<Row> sourceRows = new ArrayList<>(Math.min(config.chunkSize(), 8_192));
        while (sourceRows.size() < config.chunkSize()) {
            Row row = sourceStream.next();
            if (row == null) {
                break;
            }
            sourceRows.add(row);
        }
        RowKey end = chunkEnd(sourceRows);
        List<Row> mapped = diff.toTargetShape(sourceRows);
        RowKey[] sourceKeys = sourceKeys(sourceRows);
        List<Candidate> candidates = new ArrayList<>();
        int next = 0;
        int targetRows = 0;
        for (Row targetRow = targetStream.peek(); targetRow != null; targetRow = targetStream.peek()) {
            RowKey targetKey = targetOps.keyOf(targetRow);
            if (end != null && compareKeys(targetKey, end) > 0) {
                break;
            }
            targetStream.next();
            targetRows++;
            next = pair(sourceKeys, mapped, next, targetRow, targetKey, candidates);
            // A run of target-only rows must not pile up in memory. Every candidate's key is behind both streams.
            if (candidates.size() >= config.chunkSize()) {
                settle(candidates);
                candidates.clear();
            }
        }
        finishChunk(sourceKeys, next, targetRows, candidates);
        state.lastKey = end;
        return end == null;
    }

    /**
     * One step of the walk along both sides in key order: the source rows before a target row are missing in
     * the target, a source row with its key is compared with it, and a target row without one is extra.
     *
     * @param sourceKeys the chunk's source keys, ascending
     * @param mapped the chunk's source rows in the target's shape, in the same order
     * @param next the first source row not yet paired
     * @param candidates where a row that differs on this reading goes
     * @return the first source row still not paired after this target row
     */
    private int pair(RowKey[] sourceKeys, List<Row> mapped, int next, Row targetRow, RowKey targetKey,
            List<Candidate> candidates) {
        int count = sourceKeys.length;
        while (next < count && compareKeys(sourceKeys[next], targetKey) < 0) {
            candidates.add(new Candidate(sourceKeys[next], sourceKeys[next]));
            next++;
        }
        if (next < count && compareKeys(sourceKeys[next], targetKey) == 0) {
            if (!diff.differences(mapped.get(next), targetRow).isEmpty()) {
                candidates.add(new Candidate(sourceKeys[next], targetKey));
            }
            return next + 1;
        }
        candidates.add(new Candidate(sourceKeyOrNull(targetKey), targetKey));
        return next;
    }

    private RowKey[] sourceKeys(List<Row> sourceRows) {
        RowKey[] keys = new RowKey[sourceRows.size()];
        for (int i = 0; i < keys.length; i++) {
            keys[i] = sourceOps.keyOf(sourceRows.get(i));
        }
        return keys;
    }

    /**
     * Ends a chunk's walk once the target side is read: the source rows left are missing in the target, and every
     * candidate is settled.
     */
    private void finishChunk(RowKey[] sourceKeys, int next, int targetRows, List<Candidate> candidates)
            throws SQLException {
        int count = sourceKeys.length;
        for (; next < count; next++) {
            candidates.add(new Candidate(sourceKeys[next], sourceKeys[next]));
        }
        state.compared += count;
        settle(candidates);
        listener.onEvent(new VerifyEvent.ChunkReconciled(table.name(), Math.max(count, targetRows), false));
    }

    private List<Row> scanRange(TableOps ops, Connection connection, RowKey after, RowKey end, String window,
            List<Object> parameters) throws SQLException {
        List<Row> rows = new ArrayList<>();
        RowKey cursor = after;
        while (true) {
            List<Row> page = ops.scan(connection, cursor, end, config.chunkSize(), false, window, parameters);
            rows.addAll(page);
            if (page.size() < config.chunkSize()) {
                return rows;
            }
            cursor = ops.keyOf(page.get(page.size() - 1));
        }
    }

    /**
     * Merges a chunk of source rows with the target's rows of the same key range, page by page. Both sides
     * come in key order and the keys map as they are (see {@link #keysKeepTheirOrder}), so one walk along
     * both lists pairs the rows, without a map of the chunk.
     */
    private void compareRange(List<Row> sourceRows, RowKey after, RowKey end, List<Row> firstPage)
            throws SQLException {
        List<Row> mapped = diff.toTargetShape(sourceRows);
        RowKey[] sourceKeys = sourceKeys(sourceRows);
        List<Candidate> candidates = new ArrayList<>();
        RowKey cursor = after;
        int next = 0;
        int targetRows = 0;
        List<Row> page = firstPage;
        while (true) {
            if (page == null) {
                // Only when the range holds more target rows than a page (or on the checksum path): rare.
                quiesce();
                page = targetOps.scan(tgt, cursor, end, config.chunkSize(), false, targetWindow, windowParameters);
            }
            targetRows += page.size();
            for (Row targetRow : page) {
                RowKey targetKey = targetOps.keyOf(targetRow);
                next = pair(sourceKeys, mapped, next, targetRow, targetKey, candidates);
            }
            if (page.size() < config.chunkSize()) {
                break;
            }
            cursor = targetOps.keyOf(page.get(page.size() - 1));
            if (end != null && compareKeys(cursor, end) == 0) {
                // The page ends on the range's last key: nothing is left of it, no need to ask.
                break;
            }
            page = null;
            // A run of target-only rows must not pile up in memory: settle them page by page.
            if (candidates.size() >= config.chunkSize()) {
                settle(candidates);
                candidates.clear();
            }
        }
        finishChunk(sourceKeys, next, targetRows, candidates);
    }

    /** Orders integral keys (Long after {@link RowKey}'s normalisation, or wider numbers) column by column. */
    private static int compareKeys(RowKey a, RowKey b) {
        for (int i = 0; i < a.size(); i++) {
            Object x = a.get(i);
            Object y = b.get(i);
            int order = x instanceof Long lx && y instanceof Long ly ? Long.compare(lx, ly)
                    : new java.math.BigDecimal(x.toString()).compareTo(new java.math.BigDecimal(y.toString()));
            if (order != 0) {
                return order;
            }
        }
        return 0;
    }

    /** One chunk of the look-up path. @return true when the whole table was walked */
    private boolean lookupChunk() throws SQLException {
        if ("SOURCE".equals(state.phase)) {
            List<Row> sourceRows = unit == null
                    ? sourceOps.scan(src, state.lastKey, null, config.chunkSize(), false, sourceWindow, sourceParameters)
                    : sourceOps.shardOps(unit.shard()).scan(src.unwrap(io.dualwrite.jdbc.ShardedStore.class)
                            .shard(unit.shard().dataSource()), state.lastKey, null, config.chunkSize(), false,
                            sourceWindow, sourceParameters);
            List<Row> mapped = diff.toTargetShape(sourceRows);
            List<RowKey> targetKeys = new ArrayList<>(mapped.size());
            mapped.forEach(row -> targetKeys.add(targetOps.keyOf(row)));
            Map<RowKey, Row> targetRows = targetOps.readByKeys(tgt, targetKeys, false);
            List<Candidate> candidates = new ArrayList<>();
            for (int i = 0; i < mapped.size(); i++) {
                Row targetRow = targetRows.get(targetKeys.get(i));
                if (targetRow == null || !diff.differences(mapped.get(i), targetRow).isEmpty()) {
                    candidates.add(new Candidate(sourceOps.keyOf(sourceRows.get(i)), targetKeys.get(i)));
                }
            }
            state.compared += sourceRows.size();
            settle(candidates);
            listener.onEvent(new VerifyEvent.ChunkReconciled(table.name(), sourceRows.size(), false));
            if (sourceRows.size() < config.chunkSize()) {
                if (unit != null) {
                    // A shard's unit ends with its shard; the target walk is a unit of its own.
                    return true;
                }
                state.phase = "TARGET";
                state.lastKey = null;
            } else {
                state.lastKey = sourceOps.keyOf(sourceRows.get(sourceRows.size() - 1));
            }
            return false;
        }
        List<Row> targetRows = targetOps.scan(tgt, state.lastKey, null, config.chunkSize(), false, targetWindow,
                windowParameters);
        Map<RowKey, Candidate> bySourceKey = new LinkedHashMap<>();
        List<Candidate> candidates = new ArrayList<>();
        for (Row targetRow : targetRows) {
            RowKey targetKey = targetOps.keyOf(targetRow);
            RowKey sourceKey = sourceKeyOrNull(targetKey);
            if (sourceKey == null) {
                candidates.add(new Candidate(null, targetKey));
            } else {
                bySourceKey.put(sourceKey, new Candidate(sourceKey, targetKey));
            }
        }
        Map<RowKey, Row> sourceRows = sourceOps.readByKeys(src, bySourceKey.keySet(), false);
        for (Map.Entry<RowKey, Candidate> entry : bySourceKey.entrySet()) {
            Row sourceRow = sourceRows.get(entry.getKey());
            // Rows the source holds were compared while walking the source, unless their source version lies
            // outside the window: those are compared now.
            if (sourceRow == null || !windowParameters.isEmpty() && !inWindow(diff.version(diff.toTargetShape(
                    sourceRow)))) {
                candidates.add(entry.getValue());
            }
        }
        settle(candidates);
        listener.onEvent(new VerifyEvent.ChunkReconciled(table.name(), targetRows.size(), false));
        if (targetRows.size() < config.chunkSize()) {
            return true;
        }
        state.lastKey = targetOps.keyOf(targetRows.get(targetRows.size() - 1));
        return false;
    }

    /** @return the source key of a target key, or null for a row created in the target that maps to none */
    private RowKey sourceKeyOrNull(RowKey targetKey) {
        try {
            return table.toSourceKey(targetKey);
        } catch (RuntimeException unmapped) {
            return null;
        }
    }

    private boolean inWindow(Object version) {
        if (version == null) {
            return false;
        }
        java.time.ZoneId zone = config.rules().zone();
        boolean afterFrom = config.windowFrom().map(from -> Values.compareVersions(version, from, zone) >= 0)
                .orElse(true);
        boolean beforeTo = config.windowTo().map(to -> Values.compareVersions(version, to, zone) < 0).orElse(true);
        return afterFrom && beforeTo;
    }

    /**
     * Reads the candidates again by key on both sides and counts, logs and repairs those that still differ:
     * a row live traffic changed between the two scans is not reported, and rows outside the window on one
     * side are compared whole. A few rows that still differ are read once more after a short pause and once
     * this instance's mirrors have applied every change committed before that reading ({@link
     * ReconcileConfig#mirrorCatchUp}), for they are most likely changes whose mirror apply was still in flight:
     * lag, not drift.
     */
    private void settle(List<Candidate> candidates) throws SQLException {
        if (candidates.isEmpty()) {
            return;
        }
        // Both connections are about to be used here: the reads of the next chunk must be done with them.
        quiesce();
        withConnections(() -> settleHeld(candidates));
    }

    private void settleHeld(List<Candidate> candidates) throws SQLException {
        List<Found> found = compare(candidates);
        long readAt = System.nanoTime();
        if (!found.isEmpty() && found.size() <= LAG_RECHECK_MAX_ROWS) {
            try {
                Thread.sleep(LAG_RECHECK.toMillis());
                if (!config.mirrorCatchUp().awaitAppliedUpTo(readAt, LAG_CATCH_UP)) {
                    log.debug("dualwrite reconciler: the mirrors did not catch up in " + LAG_CATCH_UP + "; table '"
                            + table.name() + "' reads " + found.size() + " differing rows again anyway");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            found = compare(found.stream().map(Found::candidate).toList());
        }
        Map<Route, List<RowKey>> repairs = new EnumMap<>(Route.class);
        for (Found difference : found) {
            Candidate candidate = difference.candidate();
            RowKey key = candidate.sourceKey() != null ? candidate.sourceKey() : candidate.targetKey();
            Route primary = routeOf(difference.sourceRow(), difference.targetRow());
            record(diff.mismatch(key, difference.kind(), primary, orEmpty(difference.mapped()),
                    orEmpty(difference.targetRow()), difference.columns()));
            if (candidate.sourceKey() != null) {
                repairs.computeIfAbsent(primary, r -> new ArrayList<>()).add(candidate.sourceKey());
            } else {
                state.unrepaired++;
                repairProblems.add("table '" + table.name() + "': target rows whose key does not map back to the"
                        + " source cannot be repaired, e.g. target key " + candidate.targetKey());
            }
        }
        repair(repairs);
    }

    /** A candidate that differs on a reading by key. */
    private record Found(Candidate candidate, Mismatch.Kind kind, List<String> columns, Row sourceRow, Row mapped,
            Row targetRow) {
    }

    private List<Found> compare(List<Candidate> candidates) throws SQLException {
        Set<RowKey> sourceKeys = new LinkedHashSet<>();
        Set<RowKey> targetKeys = new LinkedHashSet<>();
        for (Candidate candidate : candidates) {
            if (candidate.sourceKey() != null) {
                sourceKeys.add(candidate.sourceKey());
            }
            targetKeys.add(candidate.targetKey());
        }
        // The target first, as in the double read: what it holds came from a state the source had before.
        Map<RowKey, Row> targetRows = targetOps.readByKeys(tgt, targetKeys, false);
        Map<RowKey, Row> sourceRows = sourceOps.readByKeys(src, sourceKeys, false);
        List<Found> found = new ArrayList<>();
        for (Candidate candidate : candidates) {
            Row sourceRow = candidate.sourceKey() == null ? null : sourceRows.get(candidate.sourceKey());
            Row targetRow = targetRows.get(candidate.targetKey());
            if (config.ignoredRows().ignores(table.name(), candidate.sourceKey(), sourceRow, targetRow)) {
                // Marked as not mirrored: it differs on purpose until it is unmarked and copied again.
                continue;
            }
            Row mapped = sourceRow == null ? null : diff.toTargetShape(sourceRow);
            if (mapped != null && targetRow == null) {
                found.add(new Found(candidate, Mismatch.Kind.MISSING_IN_TARGET, List.of(), sourceRow, mapped, null));
            } else if (mapped == null && targetRow != null) {
                found.add(new Found(candidate, Mismatch.Kind.EXTRA_IN_TARGET, List.of(), null, null, targetRow));
            } else if (mapped != null) {
                List<String> columns = diff.differences(mapped, targetRow);
                if (!columns.isEmpty()) {
                    found.add(new Found(candidate, Mismatch.Kind.DIFFERENT, columns, sourceRow, mapped, targetRow));
                }
            }
        }
        return found;
    }

    private Route routeOf(Row sourceRow, Row targetRow) {
        Row row = sourceRow;
        if (row == null && table.reversible()) {
            try {
                row = table.toSource(targetRow);
            } catch (RuntimeException unmapped) {
                row = null;
            }
        }
        if (row == null) {
            return Route.SOURCE;
        }
        Route route = config.rowRoutes().routeOf(table.name(), row);
        return route == null ? Route.SOURCE : route;
    }

    private void record(Mismatch mismatch) {
        switch (mismatch.kind()) {
            case MISSING_IN_TARGET -> state.missing++;
            case EXTRA_IN_TARGET -> state.extra++;
            case DIFFERENT -> state.different++;
        }
        List<RowKey> samples = state.samples.computeIfAbsent(mismatch.kind(), k -> new ArrayList<>());
        if (samples.size() < config.sampleKeys()) {
            samples.add(mismatch.key());
        }
        boolean logged = mismatchLog.write(VerifyEvent.Check.RECONCILE, mismatch);
        listener.onEvent(new VerifyEvent.MismatchFound(table.name(), VerifyEvent.Check.RECONCILE, mismatch, logged));
    }

    private void repair(Map<Route, List<RowKey>> repairs) throws SQLException {
        for (Map.Entry<Route, List<RowKey>> group : repairs.entrySet()) {
            int count = group.getValue().size();
            if (config.dryRun()) {
                state.unrepaired += count;
                continue;
            }
            try {
                Set<RowKey> failed = repairSplitting(group.getKey(), group.getValue());
                state.repaired += count - failed.size();
                state.unrepaired += failed.size();
                listener.onEvent(new VerifyEvent.Repaired(table.name(), VerifyEvent.Check.RECONCILE,
                        count - failed.size(), failed.size()));
            } catch (IllegalStateException refused) {
                log.warn("dualwrite reconciler could not repair " + count + " rows of table '" + table.name() + "': "
                        + refused.getMessage());
                repairProblems.add(refused.getMessage());
                state.unrepaired += count;
                listener.onEvent(new VerifyEvent.Repaired(table.name(), VerifyEvent.Check.RECONCILE, 0, count));
            }
        }
    }

    /**
     * Repairs keys; a batch that fails on a row (the target refuses it, or it does not map) rather than on a
     * connection is split in halves until the rows that fail alone are found. Those count as unrepaired, are
     * named in the log and the report, and the rest of the table's reconcile goes on: one row the target
     * refuses must not leave every other difference of the table in place.
     *
     * @return the keys left unrepaired
     * @throws SQLException if a store cannot be reached
     */
    private Set<RowKey> repairSplitting(Route primary, List<RowKey> keys) throws SQLException {
        try {
            return config.repairer().repair(table.name(), primary, keys);
        } catch (SQLException | IllegalArgumentException failure) {
            if (Dialect.isConnectionFailure(failure)) {
                throw failure;
            }
            if (keys.size() == 1) {
                rowNotRepaired(keys.get(0), failure);
                return Set.of(keys.get(0));
            }
            int half = keys.size() / 2;
            Set<RowKey> failed = new LinkedHashSet<>(repairSplitting(primary, keys.subList(0, half)));
            failed.addAll(repairSplitting(primary, keys.subList(half, keys.size())));
            return failed;
        }
    }

    private void rowNotRepaired(RowKey key, Exception failure) {
        rowsNotRepaired++;
        if (rowsNotRepaired > MAX_ROW_PROBLEMS) {
            if (rowsNotRepaired == MAX_ROW_PROBLEMS + 1) {
                repairProblems.add("table '" + table.name() + "': more rows could not be repaired; the log of"
                        + " io.dualwrite.verify.Reconciler names them at DEBUG");
            }
            log.debug("dualwrite reconciler could not repair table '" + table.name() + "', key " + key + ": "
                    + SqlErrors.describe(failure));
            return;
        }
        String problem = "table '" + table.name() + "', key " + key + ": the repair failed: "
                + SqlErrors.describe(failure);
        log.warn("dualwrite reconciler could not repair " + problem);
        repairProblems.add(problem);
    }

    private static Row orEmpty(Row row) {
        return row == null ? Row.of(Map.of()) : row;
    }
}
