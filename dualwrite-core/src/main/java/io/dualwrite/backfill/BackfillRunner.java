package io.dualwrite.backfill;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.jdbc.RestoringDataSource;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import io.dualwrite.jdbc.SqlErrors;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.UniqueMoves;
import io.dualwrite.metrics.MeterNames;
import io.micrometer.observation.Observation;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLTransactionRollbackException;
import java.sql.Savepoint;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Copies the rows that existed before dual-write started, table by table, in key order.
 *
 * <pre>{@code
 * BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().rowsPerSecond(5_000).build(),
 *         tables, source, target, events);
 * backfill.start("t_order");
 * backfill.progress("t_order");   // rows copied, estimated total, rate, ETA
 * }</pre>
 *
 * <p>Each chunk is read from the source in a short transaction under the mirror's non-waiting share
 * lock (a writer holding a row makes the chunk retry, smaller, a moment later: the backfill gives way,
 * never the application), transformed, written to the target (in commit order, like the mirror), and
 * its checkpoint is updated in the same target transaction; only then is the source transaction ended. So a row deleted while its
 * chunk is in flight waits for the chunk and is then deleted by the mirror, and a restart resumes after
 * the last committed chunk with no row skipped.
 *
 * <p>Read ahead ({@link BackfillConfig#readAhead()}, on by default): once chunk N's rows are read, the key after which
 * chunk N+1 starts is known, so N+1 is read on a thread and a source connection of its own, in its own source
 * transaction under the same share lock, while N is written. The order of commits does not change: N+1 is written
 * only after N's target transaction (with its checkpoint) committed, by the same worker, so the checkpoint never
 * passes a chunk that did not commit and a restart resumes after the last committed chunk as before. N+1's lock is
 * held from its read until its own target commit, over N's commit: a writer of one of its rows waits up to two
 * chunks' time (not one), and is then mirrored after the chunk, as any writer of a chunk's row. A read ahead that
 * fails (a writer's lock) is chunk N+1's failure, handled after N committed; if N does not commit (a failure, a lost
 * lease, a stop, a back-off pause for a slow target write or the mirror's lag), N+1's source transaction is rolled
 * back unwritten and the rows it reserved go back to the rate limiter; it is read again in its turn. N+1's gate pass is entered after its read, before
 * anything of it is written: its rows, locked since the read, are still the source's then. A worker holds at most two
 * chunks and two source connections.
 *
 * <p>Several instances may run the same job: they share its key ranges through leases in the checkpoint
 * table; {@link #pause}, {@link #resume} and {@link #cancel} act on every instance through it.
 *
 * <p>A sharded source table (its {@code TableOps} sharded over the physical tables, see
 * {@code io.dualwrite.shard}) is not cut into key ranges: each physical shard is one range of its own, named in
 * its checkpoint row, walked on that physical table alone through its real database's connection in the source
 * transaction. The share lock and the commit order are those above, per shard; the lease, the checkpoint and the
 * resume are the ranges' own, so instances share the shards and a restart resumes shard by shard.
 */
public final class BackfillRunner implements AutoCloseable {

    private static final Log log = LogFactory.getLog(BackfillRunner.class);

    /** A test hook between a chunk's read and its write. */
    interface ChunkHook {
        void afterRead(String table, int range, List<Row> rows);

        /** Called on the reading thread once a chunk read ahead holds its rows (and their lock). */
        default void afterReadAhead(String table, int range, List<Row> rows) {
        }
    }

    private final BackfillConfig config;
    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final EventPublisher events;
    private final CheckpointStore store;
    private final RateLimiter limiter;
    private final BackfillGate gate;
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    /** Tables whose chunks go the batched way: COPY met a value or a row it does not take. */
    private final java.util.Set<String> batchedOnly = ConcurrentHashMap.newKeySet();
    /** Chunks (and failed-row retries) written through COPY or LOAD DATA, for tests. */
    private final AtomicLong copiedChunks = new AtomicLong();
    /** Set when the target refused {@code LOAD DATA LOCAL INFILE}: every chunk goes the batched way, said once. */
    private final java.util.concurrent.atomic.AtomicBoolean loadDataRefused =
            new java.util.concurrent.atomic.AtomicBoolean();
    private volatile ChunkHook hook;
    private volatile io.dualwrite.degrade.Degradation degradation;
    private volatile boolean lockSourceRows = true;
    /** Off only in tests: a range taken over starts again at its first key, as if it had no checkpoint. */
    private volatile boolean resumeFromCheckpoint = true;
    private volatile boolean tablesChecked;
    private volatile boolean closed;
    /** How often {@link #startAll} looks whether the tables before a waiting one are done. */
    private static final long SEQUENCER_POLL_MILLIS = 500;

    private BackfillRunner(BackfillConfig config, MappedTables tables, DataSource source, DataSource target,
            EventPublisher events, BackfillGate gate) {
        this.config = config;
        this.gate = gate;
        this.tables = tables;
        // The library's own connections go back to the pool with the settings they came out with.
        this.source = RestoringDataSource.of(source);
        this.target = RestoringDataSource.of(target);
        this.events = events;
        this.store = new CheckpointStore(tables.targetDialect(), config.checkpointTable(), config.failureTable());
        this.limiter = new RateLimiter(config.rowsPerSecond(), config.hourlyLimits(), config.clock(), config.zone());
    }

    /**
     * Creates a runner; nothing runs until {@link #start}.
     *
     * @param config the settings
     * @param tables the checked table mappings
     * @param source the source store
     * @param target the target store, where checkpoints are kept
     * @param events where chunk and state events go
     * @return the runner
     */
    public static BackfillRunner create(BackfillConfig config, MappedTables tables, DataSource source,
            DataSource target, EventPublisher events) {
        return create(config, tables, source, target, events, BackfillGate.OPEN);
    }

    /**
     * Creates a runner whose chunks pass a gate, as in a service that routes: the routing controller's
     * {@code backfillGate()} keeps chunks out of RAMP, where target-routed users write the target.
     *
     * @param config the settings
     * @param tables the checked table mappings
     * @param source the source store
     * @param target the target store, where checkpoints are kept
     * @param events where chunk and state events go
     * @param gate what every chunk, and {@link #retryFailedRows}, must pass
     * @return the runner
     */
    public static BackfillRunner create(BackfillConfig config, MappedTables tables, DataSource source,
            DataSource target, EventPublisher events, BackfillGate gate) {
        return new BackfillRunner(Objects.requireNonNull(config, "config"), Objects.requireNonNull(tables, "tables"),
                Objects.requireNonNull(source, "source"), Objects.requireNonNull(target, "target"),
                Objects.requireNonNull(events, "events"), Objects.requireNonNull(gate, "gate"));
    }

    /** @return the checkpoint and failure table DDL for the target store */
    public List<String> ddl() {
        return store.ddl();
    }

    /**
     * Starts (or, after a restart, continues) a table's backfill in the background. A job already
     * finished does nothing; a cancelled one starts over.
     *
     * @param table the source table, as mapped
     * @throws IllegalArgumentException if the table is not mapped or its filter names an unknown column
     * @throws IllegalStateException if the job already runs in this runner, is paused (use {@link #resume}),
     *     or the library tables are missing and may not be created (the message holds the DDL)
     * @throws BackfillGate.Refused if the gate refuses for good, as in RAMP (a passing refusal, such as
     *     a step under way, only makes the chunks wait)
     * @throws SQLException if a store cannot be reached
     */
    public synchronized void start(String table) throws SQLException {
        MappedTable mapped = tables.get(table);
        refuseIfGateClosedForGood(mapped.name());
        String job = jobName(mapped);
        Job running = jobs.get(job);
        if (running != null && running.isAlive()) {
            throw new IllegalStateException("the backfill of table '" + table + "' is already running in this runner;"
                    + " pause or cancel it first");
        }
        Query query = query(mapped);
        ensureTables();
        long estimate;
        try (Connection connection = source.getConnection()) {
            estimate = mapped.source().estimateRows(connection);
        }
        long now = config.clock().millis();
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            List<CheckpointStore.Range> ranges = store.load(connection, job);
            // A cancelled job starts afresh, over the shards there are now.
            if (ranges.stream().anyMatch(r -> r.status() == BackfillStatus.CANCELLED)) {
                store.deleteJob(connection, job);
                ranges = List.of();
            }
            List<String> unknown = ranges.stream().map(CheckpointStore.Range::shard).filter(Objects::nonNull)
                    .filter(shard -> physicalShard(mapped, shard).isEmpty()).distinct().toList();
            if (!unknown.isEmpty()) {
                connection.rollback();
                throw new IllegalStateException("the backfill of table '" + table + "' has checkpoints for source shards "
                        + unknown + " that the source's sharding rule no longer names (its shards are "
                        + mapped.source().shardLayout().map(ShardLayout::shards).orElse(List.of()) + "); call cancel(\""
                        + table + "\") and start it again to walk the shards there are now");
            }
            // A shard the rule names now that the job has no checkpoint for (nodes extended, a table added): the job
            // gains a unit for it, or resuming would end DONE without its rows.
            java.util.Set<String> walked = ranges.stream().map(CheckpointStore.Range::shard).filter(Objects::nonNull)
                    .collect(java.util.stream.Collectors.toSet());
            // Only a shard the job lacks costs its bounds query; a restart of a whole job reads the layout alone.
            boolean lacksAShard = !walked.isEmpty() && mapped.source().shardLayout().map(ShardLayout::shards)
                    .orElse(List.of()).stream().anyMatch(shard -> !walked.contains(shard.toString()));
            if (lacksAShard) {
                List<CheckpointStore.Bounds> added = splitRanges(mapped, estimate).stream()
                        .filter(bounds -> bounds.shard() != null && !walked.contains(bounds.shard())).toList();
                if (!added.isEmpty()) {
                    int next = ranges.stream().mapToInt(CheckpointStore.Range::id).max().orElse(-1) + 1;
                    if (store.insertRanges(connection, job, added, now, next)) {
                        log.info("dualwrite backfill of " + table + ": the source's sharding rule names shards the job"
                                + " had not walked; added " + added.stream().map(CheckpointStore.Bounds::shard).toList());
                        connection.commit();
                        ranges = store.load(connection, job);
                    } else {
                        connection.rollback();
                        ranges = store.load(connection, job);
                    }
                }
            }
            if (ranges.stream().anyMatch(r -> r.status() == BackfillStatus.PAUSED)) {
                connection.rollback();
                throw new IllegalStateException("the backfill of table '" + table + "' is paused ("
                        + ranges.stream().map(CheckpointStore.Range::lastError).filter(Objects::nonNull).findFirst()
                                .orElse("no reason given") + "); call resume(\"" + table + "\") to continue it");
            }
            if (ranges.isEmpty() && !store.insertRanges(connection, job, splitRanges(mapped, estimate), now)) {
                connection.rollback();
                log.info("dualwrite backfill of " + table + ": another runner created the job first; joining it");
            } else {
                connection.commit();
            }
        }
        Job started = new Job(mapped, job, query, estimate);
        jobs.put(job, started);
        events.publish(new DualWriteEvent.BackfillStateChanged(mapped.name(), BackfillStatus.RUNNING.name(), ""));
        started.start();
    }

    /**
     * Starts several tables' backfills in the order their rows need: a table that references another through a
     * foreign key of the target starts once that table is done (so no chunk meets a missing referenced row),
     * or in {@link BackfillConfig#order()} when given. Tables whose turn has come start now; the others are
     * started by a background thread as the tables before them finish. A table already done is left alone;
     * a paused one stays paused, and the tables after it wait until it is resumed and done.
     *
     * @param tables source tables as mapped; empty for every mapped table
     * @return the tables started now; the rest start as their turn comes
     * @throws IllegalArgumentException if a table (or one of {@link BackfillConfig#order()}) is not mapped
     * @throws IllegalStateException if the target's foreign keys form a cycle and no order was given by hand:
     *     the message names the constraints and what to do; nothing is started
     * @throws SQLException if a store cannot be reached
     */
    public synchronized List<String> startAll(java.util.Collection<String> tables) throws SQLException {
        List<String> names = new ArrayList<>();
        if (tables.isEmpty()) {
            this.tables.all().forEach(t -> names.add(t.name()));
        } else {
            tables.forEach(t -> names.add(this.tables.get(t).name()));
        }
        Map<String, java.util.Set<String>> before;
        try (Connection connection = target.getConnection()) {
            before = BackfillOrder.prerequisites(this.tables, names, config.order(), connection);
        }
        List<String> started = new ArrayList<>();
        Map<String, java.util.Set<String>> waiting = new java.util.LinkedHashMap<>();
        for (Map.Entry<String, java.util.Set<String>> table : before.entrySet()) {
            if (table.getValue().isEmpty()) {
                if (startInTurn(table.getKey())) {
                    started.add(table.getKey());
                }
            } else {
                waiting.put(table.getKey(), table.getValue());
                log.info("dualwrite backfill of " + table.getKey() + " starts once " + table.getValue() + " are done"
                        + (config.order().isEmpty() ? " (the target's foreign keys)" : " (dualwrite.backfill.order)"));
            }
        }
        if (!waiting.isEmpty()) {
            Thread sequencer = new Thread(() -> startInOrder(waiting), "dualwrite-backfill-order");
            sequencer.setDaemon(true);
            sequencer.start();
        }
        return started;
    }

    /** Starts a table unless it is done or paused. @return whether it was started */
    private boolean startInTurn(String table) throws SQLException {
        BackfillStatus status = progress(table).status();
        if (status == BackfillStatus.DONE) {
            return false;
        }
        if (status == BackfillStatus.PAUSED) {
            log.info("dualwrite backfill of " + table + " stays paused; resume it to continue, and the tables after"
                    + " it follow");
            return false;
        }
        start(table);
        return true;
    }

    /** Starts each waiting table once every table before it is done; gives up when the runner is closed. */
    private void startInOrder(Map<String, java.util.Set<String>> waiting) {
        while (!waiting.isEmpty() && !closed) {
            try {
                Thread.sleep(SEQUENCER_POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            for (Map.Entry<String, java.util.Set<String>> table : List.copyOf(waiting.entrySet())) {
                try {
                    boolean ready = true;
                    for (String first : table.getValue()) {
                        ready &= progress(first).status() == BackfillStatus.DONE;
                    }
                    if (ready && !closed) {
                        waiting.remove(table.getKey());
                        synchronized (this) {
                            startInTurn(table.getKey());
                        }
                    }
                } catch (SQLException | RuntimeException e) {
                    waiting.remove(table.getKey());
                    log.error("dualwrite could not start the backfill of " + table.getKey() + " in its turn", e);
                }
            }
        }
    }

    /**
     * Pauses a table's backfill on every runner: the chunk in flight finishes, the rest waits for
     * {@link #resume}.
     *
     * @param table the source table
     * @param reason why, kept in the checkpoint table
     * @throws IllegalArgumentException if the table is not mapped
     * @throws SQLException if the target cannot be reached
     */
    public void pause(String table, String reason) throws SQLException {
        MappedTable mapped = tables.get(table);
        changeStatus(mapped, List.of(BackfillStatus.PENDING, BackfillStatus.RUNNING), BackfillStatus.PAUSED,
                reason == null ? "paused by an operator" : reason);
        stopLocal(jobName(mapped));
    }

    /**
     * Resumes a paused backfill here; other runners join when they call {@code resume} or {@code start}.
     *
     * @param table the source table
     * @throws IllegalArgumentException if the table is not mapped
     * @throws BackfillGate.Refused if the gate refuses for good, as in RAMP; the job stays paused
     * @throws SQLException if a store cannot be reached
     */
    public void resume(String table) throws SQLException {
        MappedTable mapped = tables.get(table);
        refuseIfGateClosedForGood(mapped.name());
        ensureTables();
        changeStatus(mapped, List.of(BackfillStatus.PAUSED), BackfillStatus.PENDING, null);
        start(table);
    }

    /**
     * Cancels a table's backfill on every runner. Rows already copied stay; {@link #start} begins again. A job
     * already done is cancelled too, so that it can be started over: the way out {@link #start} names for a job
     * whose checkpoints name shards the source's sharding rule no longer has.
     *
     * @param table the source table
     * @throws IllegalArgumentException if the table is not mapped
     * @throws SQLException if the target cannot be reached
     */
    public void cancel(String table) throws SQLException {
        MappedTable mapped = tables.get(table);
        // DONE as well: start deletes a job with any cancelled range, and a job all DONE would otherwise stay as it is.
        changeStatus(mapped, List.of(BackfillStatus.PENDING, BackfillStatus.RUNNING, BackfillStatus.PAUSED,
                BackfillStatus.DONE), BackfillStatus.CANCELLED, "cancelled by an operator");
        stopLocal(jobName(mapped));
    }

    /**
     * Reads a table's progress over every runner from the checkpoint table.
     *
     * @param table the source table
     * @return the progress; status PENDING with no ranges if the job never started
     * @throws IllegalArgumentException if the table is not mapped
     * @throws SQLException if the target cannot be reached
     */
    public BackfillProgress progress(String table) throws SQLException {
        MappedTable mapped = tables.get(table);
        String job = jobName(mapped);
        List<CheckpointStore.Range> ranges;
        long failed = 0;
        try (Connection connection = target.getConnection()) {
            boolean tablesThere = tablesChecked || store.missingTables(connection).isEmpty();
            ranges = tablesThere ? store.load(connection, job) : List.of();
            if (!ranges.isEmpty()) {
                // The rows failing now, not the ranges' running count: retryFailedRows takes copied rows off.
                failed = store.countFailures(connection, job);
            }
        }
        Job local = jobs.get(job);
        long copied = ranges.stream().mapToLong(CheckpointStore.Range::rowsCopied).sum();
        int done = (int) ranges.stream().filter(r -> r.status() == BackfillStatus.DONE).count();
        Optional<String> lastError = ranges.stream().map(CheckpointStore.Range::lastError).filter(Objects::nonNull)
                .findFirst();
        return new BackfillProgress(mapped.name(), overall(ranges), copied, failed,
                local == null ? -1 : local.estimate, local == null ? 0 : local.rate.recent(),
                local == null ? 0 : local.rate.average(local.isAlive()), done, ranges.size(), lastError,
                shardProgress(ranges));
    }

    /** Each physical source shard's progress over its ranges, in the order the job created them. */
    private static List<BackfillProgress.Shard> shardProgress(List<CheckpointStore.Range> ranges) {
        Map<String, List<CheckpointStore.Range>> byShard = new java.util.LinkedHashMap<>();
        for (CheckpointStore.Range range : ranges) {
            if (range.shard() != null) {
                byShard.computeIfAbsent(range.shard(), shard -> new ArrayList<>()).add(range);
            }
        }
        List<BackfillProgress.Shard> shards = new ArrayList<>();
        byShard.forEach((shard, own) -> shards.add(new BackfillProgress.Shard(shard, overall(own),
                own.stream().mapToLong(CheckpointStore.Range::rowsCopied).sum(),
                own.stream().filter(r -> r.status() == BackfillStatus.RUNNING).map(CheckpointStore.Range::owner)
                        .filter(Objects::nonNull).findFirst())));
        return shards;
    }

    /**
     * The last progress this runner read for a table, refreshed every progress-log interval and when the
     * job stops; cheap enough for a metrics gauge.
     *
     * @param table the source table
     * @return the snapshot, or empty if this runner never started the table
     */
    public Optional<BackfillProgress> lastProgress(String table) {
        Job job = jobs.get(jobName(tables.get(table)));
        return job == null ? Optional.empty() : Optional.ofNullable(job.snapshot);
    }

    /**
     * Waits until this runner's workers for a table have stopped (finished, paused or cancelled).
     *
     * @param table the source table
     * @param timeout the longest wait
     * @return true if the job is DONE
     * @throws InterruptedException if interrupted
     * @throws SQLException if the target cannot be reached
     */
    public boolean awaitCompletion(String table, Duration timeout) throws InterruptedException, SQLException {
        Job job = jobs.get(jobName(tables.get(table)));
        if (job != null) {
            job.join(timeout);
        }
        return progress(table).status() == BackfillStatus.DONE;
    }

    /**
     * Copies again the rows recorded as failed (after their cause was fixed), by key, under the same
     * lock and guard; rows that still fail stay recorded.
     *
     * @param table the source table
     * @return how many rows were copied
     * @throws BackfillGate.Refused if the gate refuses the copy now (RAMP, a step under way)
     * @throws SQLException if a store cannot be reached
     */
    public int retryFailedRows(String table) throws SQLException {
        MappedTable mapped = tables.get(table);
        String job = jobName(mapped);
        List<RowKey> keys;
        try (Connection connection = target.getConnection()) {
            keys = store.failedKeys(connection, job);
        }
        if (keys.isEmpty()) {
            return 0;
        }
        try (LibraryWork.Scope own = LibraryWork.enter();
                BackfillGate.Pass pass = gate.enter(mapped.name());
                Connection targetConnection = target.getConnection();
                Connection sourceConnection = source.getConnection()) {
            targetConnection.setAutoCommit(false);
            sourceConnection.setAutoCommit(false);
            Map<RowKey, Row> rows = mapped.source().readByKeys(sourceConnection, keys, lockSourceRows);
            Written written = write(mapped, sourceConnection, targetConnection, new ArrayList<>(rows.values()));
            try (var statement = targetConnection.prepareStatement(Dialect.MARKER + " DELETE FROM "
                    + config.failureTable() + " WHERE job = ?")) {
                statement.setString(1, job);
                statement.executeUpdate();
            }
            store.recordFailures(targetConnection, job, written.failedKeys, written.errors, config.clock().millis());
            if (!pass.stillValid()) {
                targetConnection.rollback();
                sourceConnection.rollback();
                throw new BackfillGate.Refused("dualwrite did not retry the failed rows of " + table + ": this"
                        + " instance lost its lease in the control store while copying; call it again", false);
            }
            targetConnection.commit();
            sourceConnection.rollback();
            return written.rows;
        }
    }

    private void refuseIfGateClosedForGood(String table) {
        try {
            gate.enter(table).close();
        } catch (BackfillGate.Refused refused) {
            if (refused.lasting()) {
                throw refused;
            }
        }
    }

    /** Stops this runner's workers and hands their ranges back so that other runners continue at once. */
    @Override
    public void close() {
        closed = true;
        for (Job job : jobs.values()) {
            job.stop();
        }
        for (Job job : jobs.values()) {
            try {
                job.join(Duration.ofSeconds(30));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Leaves rows an operator marked as not mirrored out of every chunk (see {@code io.dualwrite.degrade}).
     *
     * @param marks the marks, or null to copy every row
     */
    public void degradation(io.dualwrite.degrade.Degradation marks) {
        this.degradation = marks;
    }

    void hookForTesting(ChunkHook chunkHook) {
        this.hook = chunkHook;
    }

    long copiedChunksForTesting() {
        return copiedChunks.get();
    }

    void lockSourceRowsForTesting(boolean lock) {
        this.lockSourceRows = lock;
    }

    void resumeFromCheckpointForTesting(boolean resume) {
        this.resumeFromCheckpoint = resume;
    }

    /** The job's name in the checkpoint table: the table's, or {@code table@run} for a run such as a plan stage. */
    private String jobName(MappedTable mapped) {
        String table = mapped.name().toLowerCase(Locale.ROOT);
        return config.runName().map(run -> table + "@" + run).orElse(table);
    }

    /** Stops this runner's workers for a table and forgets its job everywhere: a plan's restart of a stage. */
    void forget(String table) throws SQLException {
        MappedTable mapped = tables.get(table);
        String job = jobName(mapped);
        stopLocal(job);
        ensureTables();
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            store.deleteJob(connection, job);
            connection.commit();
        }
    }

    /**
     * Closes a table's own backfill after a plan whose stages together took every row of it (its last stage has
     * no filter): the table's job gets one DONE range holding the rows the stages copied, and the rows still
     * failing in the stages are recorded as the table's, so that {@link #progress} says DONE exactly as after
     * a backfill of its own, the RAMP guard and double reads see it, and {@link #retryFailedRows} copies the
     * failures. A job of the table's own that exists already (started by hand) is left to finish, unless it was
     * cancelled. Idempotent, and safe when several instances close the same plan at once.
     *
     * @param table the source table, as mapped
     * @param stageRuns the run names of the plan's stages ({@link BackfillConfig#runName()})
     * @param plan the plan's name, for the log
     * @return the table's own status afterwards
     * @throws IllegalStateException if this runner is a stage's rather than the table's own
     * @throws SQLException if the target cannot be reached
     */
    BackfillStatus closeAfterPlan(String table, List<String> stageRuns, String plan) throws SQLException {
        if (config.runName().isPresent()) {
            throw new IllegalStateException("closeAfterPlan needs the table's own runner, not run "
                    + config.runName().get());
        }
        MappedTable mapped = tables.get(table);
        String job = jobName(mapped);
        List<String> stageJobs = stageRuns.stream().map(run -> job + "@" + run).toList();
        ensureTables();
        boolean closedHere;
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            try {
                List<CheckpointStore.Range> own = store.load(connection, job);
                if (!own.isEmpty() && own.stream().anyMatch(r -> r.status() != BackfillStatus.CANCELLED)) {
                    connection.rollback();
                    BackfillStatus status = overall(own);
                    if (status != BackfillStatus.DONE) {
                        log.info("dualwrite backfill plan " + plan + " took every row of " + mapped.name() + ", whose"
                                + " own backfill was started as well and is " + status + "; that one closes the table");
                    }
                    return status;
                }
                store.deleteJob(connection, job);
                long rows = 0;
                for (String stageJob : stageJobs) {
                    rows += store.load(connection, stageJob).stream().mapToLong(CheckpointStore.Range::rowsCopied).sum();
                }
                store.copyFailures(connection, stageJobs, job);
                long failed = store.countFailures(connection, job);
                closedHere = store.insertDone(connection, job, rows, failed, config.clock().millis());
                if (closedHere) {
                    connection.commit();
                    log.info("dualwrite backfill of " + mapped.name() + ": DONE by plan " + plan + " (" + rows
                            + " rows copied by its stages" + (failed > 0 ? ", " + failed + " rows still failing" : "")
                            + ")");
                } else {
                    connection.rollback();
                }
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        if (closedHere) {
            events.publish(new DualWriteEvent.BackfillStateChanged(mapped.name(), BackfillStatus.DONE.name(),
                    "plan " + plan));
        }
        return progress(table).status();
    }

    /** @return whether this runner's workers for a table are still alive (a plan asks before it starts them) */
    boolean runningHere(String table) {
        Job job = jobs.get(jobName(tables.get(table)));
        return job != null && job.isAlive();
    }

    private void stopLocal(String job) {
        Job local = jobs.get(job);
        if (local != null) {
            local.stop();
        }
    }

    private void changeStatus(MappedTable mapped, List<BackfillStatus> from, BackfillStatus to, String reason)
            throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            int changed = store.setStatus(connection, jobName(mapped), from, to, reason, config.clock().millis());
            connection.commit();
            if (changed > 0) {
                log.info("dualwrite backfill of " + mapped.name() + ": " + to + (reason == null ? "" : " (" + reason + ")"));
                events.publish(new DualWriteEvent.BackfillStateChanged(mapped.name(), to.name(),
                        reason == null ? "" : reason));
            }
        }
    }

    /**
     * Checks that the checkpoint and failure tables exist in the target, creating them when
     * {@link BackfillConfig#createTables()} allows; {@link #start} does the same, so call this only to
     * fail at start-up rather than at the first start.
     *
     * @throws IllegalStateException if a table is missing and may not be created; the message holds the
     *     DDL to run
     * @throws SQLException if the target cannot be reached or the tables cannot be created
     */
    public void ensureTables() throws SQLException {
        if (tablesChecked) {
            return;
        }
        try (Connection connection = target.getConnection()) {
            List<String> missing = store.missingTables(connection);
            if (!missing.isEmpty()) {
                if (!config.createTables()) {
                    throw new IllegalStateException("the backfill needs its tables in the target database. Create them"
                            + " with:\n" + String.join(";\n", missing) + ";\nor set dualwrite.schema.create=true to let"
                            + " dualwrite create them.");
                }
                // One by one: instances starting together each create what the others have not yet, and another
                // instance's table made a moment before this one's CREATE is no failure.
                for (String ddl : missing) {
                    try {
                        store.create(connection, List.of(ddl));
                        if (!connection.getAutoCommit()) {
                            connection.commit();
                        }
                    } catch (SQLException raced) {
                        if (!connection.getAutoCommit()) {
                            connection.rollback();
                        }
                        if (store.missingTables(connection).contains(ddl)) {
                            throw raced;
                        }
                    }
                }
            }
        }
        tablesChecked = true;
    }

    /** The filter of a table, checked against its columns. */
    private record Query(String condition, List<Object> parameters) {
    }

    private Query query(MappedTable mapped) {
        Optional<BackfillConfig.Filter> filter = config.filter(mapped.name());
        if (filter.isEmpty()) {
            return new Query(null, List.of());
        }
        List<String> conditions = new ArrayList<>();
        List<Object> parameters = new ArrayList<>();
        BackfillConfig.Filter f = filter.get();
        if (f.timeColumn() != null) {
            String column = mapped.source().table().column(f.timeColumn()).map(ColumnMetadata::name)
                    .orElseThrow(() -> new IllegalArgumentException("dualwrite.backfill.tables." + mapped.name()
                            + ".time-window: column '" + f.timeColumn() + "' does not exist in source table '"
                            + mapped.name() + "'"));
            String quoted = mapped.source().dialect().quote(column);
            if (f.from() != null) {
                conditions.add(quoted + " >= ?");
                parameters.add(f.from());
            }
            if (f.to() != null) {
                conditions.add(quoted + " < ?");
                parameters.add(f.to());
            }
        }
        if (f.condition() != null) {
            conditions.add("(" + f.condition() + ")");
            parameters.addAll(f.parameters());
        }
        return new Query(String.join(" AND ", conditions), parameters);
    }

    /**
     * Splits a single integral key's span into ranges; anything else is one range. A range holds at least a
     * chunk's worth of rows ({@link BackfillConfig#chunkSize()}) by the row estimate, so a small table is not
     * cut into as many ranges as a big one (16 ranges of a 7-row table were 16 leases and checkpoints for
     * nothing). The last range ends at
     * the largest key there is now: a row inserted later is mirrored (the backfill runs in DUAL_WRITE), so
     * chasing new keys would only copy it twice, and a backfill throttled below the insert rate would never
     * end. A composite key has no such bound (MAX per column is not the last key), so its range stays open.
     */
    private List<CheckpointStore.Bounds> splitRanges(MappedTable mapped, long estimate) throws SQLException {
        TableOps ops = mapped.source();
        List<CheckpointStore.Bounds> ranges = new ArrayList<>();
        Optional<ShardLayout> layout = ops.shardLayout();
        if (layout.isPresent()) {
            return shardRanges(mapped, layout.get());
        }
        if (ops.keyColumns().size() != 1) {
            ranges.add(new CheckpointStore.Bounds(null, null, null));
            return ranges;
        }
        boolean integral = integralKey(ops);
        Object[] firstAndLast;
        try (Connection connection = source.getConnection()) {
            firstAndLast = firstAndLastKey(ops, connection);
        }
        Object min = firstAndLast[0];
        Object max = firstAndLast[1];
        if (max == null) {
            ranges.add(new CheckpointStore.Bounds(null, null, null));
            return ranges;
        }
        if (!integral || config.rangesPerTable() == 1) {
            ranges.add(new CheckpointStore.Bounds(null, null, ops.canonicalKey(RowKey.of(max))));
            return ranges;
        }
        long low = ((Number) min).longValue();
        long high = ((Number) max).longValue();
        long byRows = estimate < 0 ? config.rangesPerTable() : Math.max(1, estimate / config.chunkSize());
        int count = (int) Math.max(1, Math.min(Math.min(config.rangesPerTable(), byRows), high - low + 1));
        RowKey previous = null;
        for (int i = 1; i <= count; i++) {
            RowKey end = RowKey.of(i == count ? high : low - 1 + (long) Math.ceil((double) (high - low + 1) * i / count));
            ranges.add(new CheckpointStore.Bounds(null, previous, end));
            previous = end;
        }
        return ranges;
    }

    /**
     * One range per physical shard of a sharded source, walked on that table alone: the shard is the unit that
     * instances share, lease, checkpoint and resume. Each ends at the shard's largest key now, for the reason
     * {@link #splitRanges} gives; a shard with a composite key stays open, an empty one is done at its first chunk.
     */
    private List<CheckpointStore.Bounds> shardRanges(MappedTable mapped, ShardLayout layout) throws SQLException {
        List<CheckpointStore.Bounds> ranges = new ArrayList<>();
        try (Connection connection = source.getConnection()) {
            ShardedStore store = connection.unwrap(ShardedStore.class);
            for (ShardLayout.Shard shard : layout.shards()) {
                String name = shard.toString();
                if (name.length() > CheckpointStore.MAX_SHARD_LENGTH) {
                    throw new IllegalArgumentException("source shard " + name + " of table '" + mapped.name()
                            + "': the name is longer than the checkpoint table's " + CheckpointStore.MAX_SHARD_LENGTH
                            + " characters");
                }
                TableOps ops = mapped.source().shardOps(shard);
                Object last = ops.keyColumns().size() != 1 ? null
                        : firstAndLastKey(ops, store.shard(shard.dataSource()))[1];
                ranges.add(new CheckpointStore.Bounds(name, null, last == null ? null : ops.canonicalKey(RowKey.of(last))));
            }
        }
        return ranges;
    }

    private static boolean integralKey(TableOps ops) {
        int type = ops.table().column(ops.keyColumns().get(0)).orElseThrow().jdbcType();
        return type == Types.BIGINT || type == Types.INTEGER || type == Types.SMALLINT || type == Types.TINYINT;
    }

    /** @return a single-column key's first and last value in a table (each null when it is empty) */
    private static Object[] firstAndLastKey(TableOps ops, Connection connection) throws SQLException {
        String key = ops.dialect().quote(ops.keyColumns().get(0));
        // PostgreSQL has no MIN or MAX of uuid or bytea; the first and last key in key order are the same thing.
        String bounds = integralKey(ops)
                ? "SELECT MIN(" + key + "), MAX(" + key + ") FROM " + ops.dialect().tableName(ops.table())
                : "SELECT " + key + ", " + key + " FROM " + ops.dialect().tableName(ops.table()) + " ORDER BY " + key
                        + " DESC LIMIT 1";
        try (var statement = connection.createStatement();
                var rs = statement.executeQuery(Dialect.MARKER + " " + bounds)) {
            boolean any = rs.next();
            return new Object[] {any ? rs.getObject(1) : null, any ? rs.getObject(2) : null};
        }
    }

    /** @return the source shard a checkpoint names ({@code dataSource.table}), if the source's layout still has it */
    private static Optional<ShardLayout.Shard> physicalShard(MappedTable mapped, String name) {
        return mapped.source().shardLayout().flatMap(layout -> layout.shards().stream()
                .filter(shard -> shard.toString().equals(name)).findFirst());
    }

    private static BackfillStatus overall(List<CheckpointStore.Range> ranges) {
        if (ranges.isEmpty()) {
            return BackfillStatus.PENDING;
        }
        if (ranges.stream().allMatch(r -> r.status() == BackfillStatus.DONE)) {
            return BackfillStatus.DONE;
        }
        for (BackfillStatus status : List.of(BackfillStatus.CANCELLED, BackfillStatus.PAUSED, BackfillStatus.RUNNING)) {
            if (ranges.stream().anyMatch(r -> r.status() == status)) {
                return status;
            }
        }
        return BackfillStatus.PENDING;
    }

    /** What one write of a chunk did. */
    private static final class Written {
        int rows;
        final List<RowKey> failedKeys = new ArrayList<>();
        final List<String> errors = new ArrayList<>();
    }

    /**
     * Transforms and writes rows in one batch; if the batch fails on a row (not on the connection), falls
     * back to row by row under savepoints so that one bad row does not stop its chunk.
     */
    private Written write(MappedTable mapped, Connection sourceConnection, Connection targetConnection, List<Row> rows)
            throws SQLException {
        Written written = new Written();
        List<Row> targetRows = new ArrayList<>(rows.size());
        // Each written row's source key, for the failure table; worked out only when rows are written one by one.
        List<RowKey> keys = null;
        try {
            // The whole chunk at once, so that a key mapping looks its keys up in a few round trips, not one a row.
            targetRows.addAll(mapped.toTarget(rows));
        } catch (RuntimeException someRowDoesNotMap) {
            keys = new ArrayList<>(rows.size());
            targetRows.clear();
            for (Row row : rows) {
                RowKey key = mapped.source().keyOf(row);
                try {
                    targetRows.add(mapped.toTarget(row));
                    keys.add(key);
                } catch (RuntimeException conversion) {
                    written.failedKeys.add(key);
                    written.errors.add(describe(conversion));
                }
            }
        }
        if (writeMoves(mapped, sourceConnection, targetConnection, targetRows)) {
            written.rows = targetRows.size();
            return written;
        }
        Savepoint beforeBatch = targetConnection.setSavepoint();
        boolean postgres = tables.targetDialect().product() == Dialect.Product.POSTGRESQL;
        if (copies(mapped, targetConnection)) {
            try {
                Optional<String> notCopied = postgres
                        ? mapped.target().copyUpsert(targetConnection, targetRows, config.versionGuard())
                        : mapped.target().loadDataUpsert(targetConnection, targetRows, config.versionGuard());
                if (notCopied.isEmpty()) {
                    copiedChunks.incrementAndGet();
                    written.rows = targetRows.size();
                    return written;
                }
                // A value type or a row shape this path does not take: it would not take the next chunk either.
                if (batchedOnly.add(mapped.name())) {
                    log.info("dualwrite backfill of " + mapped.name() + ": chunks are written with the batched upsert,"
                            + " not " + (postgres ? "COPY" : "LOAD DATA") + ": " + notCopied.get());
                }
                targetConnection.rollback(beforeBatch);
            } catch (SQLException copyFailure) {
                if (Dialect.isConnectionFailure(copyFailure) || tables.targetDialect().isLockConflict(copyFailure)) {
                    throw copyFailure;
                }
                if (!postgres && TableOps.isLoadDataRefused(copyFailure)
                        && loadDataRefused.compareAndSet(false, true)) {
                    log.warn("dualwrite backfill: the target refuses LOAD DATA LOCAL INFILE (" + describe(copyFailure)
                            + "); every chunk is written with the batched upsert, several times slower. Set"
                            + " local_infile=ON on the target server and keep allowLocalInfile=true (Connector/J's"
                            + " default) on the target's URL, or set dualwrite.backfill.mariadb-load-data=false"
                            + " (BackfillConfig.mariadbLoadData) to write batched without trying.");
                }
                // A bad value (or a key twice in the chunk): the batched way finds and records the failing rows.
                log.debug("dualwrite backfill of " + mapped.name() + ": " + (postgres ? "COPY" : "LOAD DATA")
                        + " of a chunk failed, writing it batched: "
                        + describe(copyFailure));
                rollBackTo(targetConnection, beforeBatch, copyFailure);
            }
        }
        try {
            writeRows(mapped, targetConnection, targetRows);
            written.rows = targetRows.size();
            return written;
        } catch (SQLException batchFailure) {
            if (Dialect.isConnectionFailure(batchFailure) || tables.targetDialect().isLockConflict(batchFailure)) {
                throw batchFailure;
            }
            rollBackTo(targetConnection, beforeBatch, batchFailure);
        }
        if (keys == null) {
            keys = new ArrayList<>(rows.size());
            for (Row row : rows) {
                keys.add(mapped.source().keyOf(row));
            }
        }
        for (int i = 0; i < targetRows.size(); i++) {
            Savepoint beforeRow = targetConnection.setSavepoint();
            try {
                writeRows(mapped, targetConnection, List.of(targetRows.get(i)));
                written.rows++;
            } catch (SQLException rowFailure) {
                if (Dialect.isConnectionFailure(rowFailure)) {
                    throw rowFailure;
                }
                rollBackTo(targetConnection, beforeRow, rowFailure);
                written.failedKeys.add(keys.get(i));
                written.errors.add(describe(rowFailure));
            }
        }
        return written;
    }

    /**
     * Rolls back to a savepoint after a write failed. A pool may have closed the connection because of that
     * very failure (HikariCP evicts on SQLSTATE {@code 0A000}, which PostgreSQL raises for an {@code ON
     * CONFLICT} on a table with rules): then the write's failure is what the job must report, not the
     * "connection is closed" of the rollback, which goes along as a suppressed exception.
     */
    private static void rollBackTo(Connection connection, Savepoint savepoint, SQLException writeFailure)
            throws SQLException {
        try {
            connection.rollback(savepoint);
        } catch (SQLException rollbackFailure) {
            writeFailure.addSuppressed(rollbackFailure);
            throw writeFailure;
        }
    }

    /**
     * The chunk is one consistent state of its range, but the target also holds rows the mirror wrote, and
     * one of them may still hold a unique value the source has since given to a row of this chunk (its
     * own apply still to come), or belong to a key the source has deleted. As the mirror does
     * ({@link UniqueMoves}), such holders are read from the source under the chunk's lock and written
     * (or deleted) with the chunk, after the rows that give values up have been deleted.
     *
     * @return true if unique values moved and the chunk is written; false to write it the ordinary way
     *     (no value moves, or the moves failed on a row, which the row-by-row fallback then isolates)
     */
    private boolean writeMoves(MappedTable mapped, Connection sourceConnection, Connection targetConnection,
            List<Row> targetRows) throws SQLException {
        if (mapped.target().uniqueKeys().isEmpty()) {
            // Only another unique index can hold a value of this chunk's rows: no plan to make.
            return false;
        }
        UniqueMoves plan;
        try {
            plan = UniqueMoves.plan(mapped, sourceConnection, targetConnection, targetRows, List.of(), lockSourceRows);
        } catch (IllegalArgumentException holderDoesNotMap) {
            return false;
        }
        if (!plan.moves()) {
            return false;
        }
        Savepoint beforeMoves = targetConnection.setSavepoint();
        try {
            mapped.target().delete(targetConnection, plan.deleteFirst());
            writeRows(mapped, targetConnection, plan.rows());
        } catch (SQLException movesFailure) {
            if (Dialect.isConnectionFailure(movesFailure) || tables.targetDialect().isLockConflict(movesFailure)) {
                throw movesFailure;
            }
            targetConnection.rollback(beforeMoves);
            return false;
        }
        // PostgreSQL locks no absent row: a key deleted here may have come back since (see MirrorApplier).
        if (lockSourceRows && !plan.absentKeys().isEmpty()
                && !mapped.source().readByKeys(sourceConnection, plan.absentKeys(), true).isEmpty()) {
            throw new SQLTransactionRollbackException("table '" + mapped.name() + "': keys " + plan.absentKeys()
                    + " deleted from the target for their unique values came back in the source; the chunk is"
                    + " retried", "40001");
        }
        return true;
    }

    /**
     * Whether a chunk of this table goes through {@code COPY} ({@link BackfillConfig#postgresCopy()}) or {@code LOAD
     * DATA} ({@link BackfillConfig#mariadbLoadData()}): a PostgreSQL target reached through its own driver, or a
     * MariaDB or MySQL target through MariaDB Connector/J that has not refused {@code LOCAL INFILE}, with no unique
     * index besides the key (rows that move unique values are written by {@link #writeMoves}), and no earlier chunk
     * that this path could not take.
     */
    private boolean copies(MappedTable mapped, Connection targetConnection) {
        if (!mapped.target().uniqueKeys().isEmpty() || batchedOnly.contains(mapped.name())) {
            return false;
        }
        return switch (tables.targetDialect().product()) {
            case POSTGRESQL -> config.postgresCopy() && mapped.target().canCopy(targetConnection);
            case MARIADB, MYSQL -> config.mariadbLoadData() && !loadDataRefused.get()
                    && mapped.target().canLoadData(targetConnection);
            default -> false;
        };
    }

    private void writeRows(MappedTable mapped, Connection targetConnection, List<Row> rows) throws SQLException {
        if (config.versionGuard()) {
            mapped.target().upsert(targetConnection, rows);
        } else {
            mapped.target().overwrite(targetConnection, rows);
        }
    }

    /** The database's SQLSTATE and message first, the statement after (see {@link SqlErrors}). */
    private static String describe(Throwable failure) {
        return SqlErrors.describe(failure);
    }

    /**
     * A chunk read from the source in a transaction of its own that holds the chunk's share lock until {@link #end}
     * or {@link #close}: after the chunk's target commit, or when the chunk is given up.
     */
    private static final class Read implements AutoCloseable {
        final Connection source;
        final List<Row> rows;
        private final java.util.concurrent.atomic.AtomicBoolean ended = new java.util.concurrent.atomic.AtomicBoolean();

        Read(Connection source, List<Row> rows) {
            this.source = source;
            this.rows = rows;
        }

        /** Ends the source transaction (a read-only one: rolled back) and gives the connection back. */
        void end() throws SQLException {
            if (!ended.compareAndSet(false, true)) {
                return;
            }
            try (Connection own = source) {
                own.rollback();
            }
        }

        /** As {@link #end}, for a chunk given up: a failure here is logged, not thrown. */
        @Override
        public void close() {
            try {
                end();
            } catch (SQLException e) {
                log.debug("dualwrite backfill could not end a chunk's source transaction", e);
            }
        }
    }

    /** One table's backfill in this runner: its worker threads and local state. */
    private final class Job {
        final MappedTable mapped;
        final String name;
        final Query query;
        final long estimate;
        final ErrorBreaker breaker;
        final AtomicInteger chunkSize = new AtomicInteger(config.chunkSize());
        final AtomicLong copied = new AtomicLong();
        final List<Thread> workers = new CopyOnWriteArrayList<>();
        final CopyRate rate = new CopyRate(BackfillProgress.RATE_WINDOW, System::nanoTime);
        volatile boolean stopped;
        volatile BackfillProgress snapshot;
        long lastLogMillis;

        Job(MappedTable mapped, String name, Query query, long estimate) {
            this.mapped = mapped;
            this.name = name;
            this.query = query;
            this.estimate = estimate;
            this.breaker = new ErrorBreaker(config.breakerWindowRows(), config.breakerMaxErrorRate());
            this.lastLogMillis = config.clock().millis();
        }

        void start() {
            for (int i = 0; i < config.threads(); i++) {
                Thread worker = new Thread(this::work, "dualwrite-backfill-" + mapped.name() + "-" + i);
                worker.setDaemon(true);
                workers.add(worker);
                worker.start();
            }
        }

        boolean isAlive() {
            return workers.stream().anyMatch(Thread::isAlive);
        }

        void stop() {
            stopped = true;
        }

        void join(Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (Thread worker : workers) {
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left > 0) {
                    worker.join(left);
                }
            }
        }

        private void work() {
            try (LibraryWork.Scope own = LibraryWork.enter()) {
                while (!stopped) {
                    CheckpointStore.Range range = claim();
                    if (range == null) {
                        if (!othersStillWorking()) {
                            break;
                        }
                        // Ranges still leased (to this runner or another): look again soon, as the last
                        // range may free up or its lease expire; a long sleep here delays the end of the job.
                        sleep(Math.min(config.leaseDuration().toMillis() / 4, 100));
                        continue;
                    }
                    copyRange(range);
                }
                if (!stopped && workers.get(0) == Thread.currentThread()) {
                    reportIfDone();
                }
            } catch (SQLException e) {
                log.error("dualwrite backfill of " + mapped.name() + " stopped: the checkpoint table could not be"
                        + " reached; start it again when the target is back", e);
            }
        }

        private CheckpointStore.Range claim() throws SQLException {
            try (Connection connection = target.getConnection()) {
                connection.setAutoCommit(false);
                connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                long now = config.clock().millis();
                CheckpointStore.Range range = store.claim(connection, name, config.ownerId(), now,
                        now + config.leaseDuration().toMillis());
                connection.commit();
                return range;
            }
        }

        private boolean othersStillWorking() throws SQLException {
            try (Connection connection = target.getConnection()) {
                return store.load(connection, name).stream().anyMatch(
                        r -> r.status() == BackfillStatus.PENDING || r.status() == BackfillStatus.RUNNING);
            }
        }

        private void reportIfDone() throws SQLException {
            BackfillProgress progress = progress(mapped.name());
            snapshot = progress;
            if (progress.status() == BackfillStatus.DONE) {
                log.info("dualwrite " + progress);
                events.publish(new DualWriteEvent.BackfillStateChanged(mapped.name(), BackfillStatus.DONE.name(), ""));
            }
        }

        /**
         * Copies one leased range chunk by chunk until it is done, the lease is lost or the job stops. With
         * {@link BackfillConfig#readAhead()} the next chunk is read while the current one is written (see
         * {@link #copyChunk}); its rows were reserved from the rate limiter when its read began.
         */
        private void copyRange(CheckpointStore.Range range) throws SQLException {
            RowKey after = resumeFromCheckpoint ? range.resumeAfter() : range.start();
            // The next chunk, read (or being read) ahead, and the rows it asked for; null when none is.
            java.util.concurrent.CompletableFuture<Read> ahead = null;
            int aheadChunk = 0;
            while (true) {
                if (stopped) {
                    drop(ahead, aheadChunk);
                    release(range);
                    return;
                }
                if (ahead != null && mustBackOff()) {
                    // The mirror lags: the next chunk's rows are not kept locked through the pause; read again after.
                    drop(ahead, aheadChunk);
                    ahead = null;
                }
                int chunk;
                if (ahead != null) {
                    chunk = aheadChunk;
                } else {
                    if (mustBackOff()) {
                        sleep(config.backoffPause().toMillis());
                        continue;
                    }
                    chunk = chunkSize.get();
                    long wait = limiter.reserve(chunk);
                    if (wait > 0) {
                        sleep(TimeUnit.NANOSECONDS.toMillis(wait));
                    }
                }
                java.util.concurrent.CompletableFuture<Read> read = ahead;
                ahead = null;
                long started = System.nanoTime();
                ChunkResult result;
                try {
                    result = observedChunk(range, after, chunk, read);
                } catch (BackfillGate.Refused refused) {
                    discard(read);
                    if (refused.lasting()) {
                        pauseJob(refused.getMessage());
                        return;
                    }
                    limiter.refund(chunk);
                    sleep(config.backoffPause().toMillis());
                    continue;
                } catch (SQLException e) {
                    discard(read);
                    if (mapped.source().dialect().isLockConflict(e) || tables.targetDialect().isLockConflict(e)
                            || Dialect.isConnectionFailure(e)) {
                        // Nothing of the chunk was copied: its tokens go back to the bucket.
                        limiter.refund(chunk);
                    }
                    if (mapped.source().dialect().isLockConflict(e) || tables.targetDialect().isLockConflict(e)) {
                        // A writer holds a row of this chunk: give way, and come back with a smaller chunk.
                        chunkSize.set(Math.max(config.minChunkSize(), chunk / 2));
                        sleep(config.lockRetryDelay().toMillis());
                        continue;
                    }
                    if (Dialect.isConnectionFailure(e)) {
                        log.warn("dualwrite backfill of " + mapped.name() + " lost a connection; retrying in "
                                + config.backoffPause() + ": " + e.getMessage());
                        sleep(config.backoffPause().toMillis());
                        continue;
                    }
                    log.warn("dualwrite backfill of " + mapped.name() + ": " + chunkName(range, after) + " failed",
                            e);
                    pauseJob(chunkName(range, after) + " failed: " + describe(e));
                    return;
                } catch (RuntimeException | Error e) {
                    discard(read);
                    throw e;
                }
                if (result == null) {
                    return;
                }
                ahead = result.next;
                aheadChunk = result.nextChunk;
                Duration took = Duration.ofNanos(System.nanoTime() - started);
                limiter.refund(chunk - result.read);
                copied.addAndGet(result.written.rows);
                events.publish(new DualWriteEvent.ChunkCopied(mapped.name(), range.id(), result.written.rows,
                        result.written.failedKeys.size(), took, range.shard() == null ? "" : range.shard()));
                rate.record(result.written.rows);
                logProgress();
                if (breaker.record(result.written.rows, result.written.failedKeys.size())) {
                    drop(ahead, aheadChunk);
                    pauseJob(String.format("error breaker: %.1f%% of the last %d rows failed (limit %.1f%%); the"
                            + " failed keys are in %s", 100 * breaker.rate(), config.breakerWindowRows(),
                            100 * config.breakerMaxErrorRate(), config.failureTable()));
                    return;
                }
                adapt(chunk, took);
                if (result.writeNanos > config.maxChunkWriteTime().toNanos()) {
                    // Backing off for the target: the next chunk's rows are not kept locked through the pause either.
                    drop(ahead, aheadChunk);
                    ahead = null;
                    sleep(config.backoffPause().toMillis());
                }
                if (result.done) {
                    drop(ahead, aheadChunk);
                    return;
                }
                after = result.lastKey;
            }
        }

        /**
         * Reads a chunk of a range in key order under the share lock. A range of a sharded source walks its one
         * physical table alone, through that real database's connection in the source transaction: the lock is held
         * on it until {@code sourceConnection} rolls back, after the target commits, as on an unsharded source.
         */
        private List<Row> scanUnit(CheckpointStore.Range range, Connection sourceConnection, RowKey after, int chunk)
                throws SQLException {
            if (range.shard() == null) {
                return mapped.source().scan(sourceConnection, after, range.end(), chunk, lockSourceRows,
                        query.condition(), query.parameters());
            }
            // start() checked every stored shard against the layout.
            ShardLayout.Shard shard = physicalShard(mapped, range.shard()).orElseThrow();
            return mapped.source().shardOps(shard).scan(
                    sourceConnection.unwrap(ShardedStore.class).shard(shard.dataSource()), after, range.end(), chunk,
                    lockSourceRows, query.condition(), query.parameters());
        }

        /** Names a chunk by where it starts (a range other than the first starts after a key), for the log. */
        private static String chunkName(CheckpointStore.Range range, RowKey after) {
            String chunk = after == null ? "the first chunk" : "the chunk after key " + after;
            return range.shard() == null ? chunk : chunk + " of source shard " + range.shard();
        }

        /** One chunk through the gate, observed as {@link MeterNames#BACKFILL_CHUNK_OBSERVATION}. */
        private ChunkResult observedChunk(CheckpointStore.Range range, RowKey after, int chunk,
                java.util.concurrent.CompletableFuture<Read> ahead) throws SQLException {
            Observation observation = Observation.createNotStarted(MeterNames.BACKFILL_CHUNK_OBSERVATION,
                    config.observationRegistry()).contextualName("dualwrite backfill chunk " + mapped.name())
                    .lowCardinalityKeyValue("table", mapped.name())
                    .highCardinalityKeyValue("range", String.valueOf(range.id())).start();
            try (Observation.Scope scope = observation.openScope();
                    BackfillGate.Pass pass = gate.enter(mapped.name())) {
                ChunkResult result = copyChunk(range, after, chunk, pass, ahead);
                if (result != null) {
                    observation.highCardinalityKeyValue("rows", String.valueOf(result.written.rows))
                            .highCardinalityKeyValue("failed.rows", String.valueOf(result.written.failedKeys.size()));
                }
                return result;
            } catch (SQLException | RuntimeException e) {
                observation.error(e);
                throw e;
            } finally {
                observation.stop();
            }
        }

        /** A chunk's outcome; {@code next} is the following chunk being read ahead ({@code nextChunk} rows asked), or null. */
        private record ChunkResult(Written written, int read, RowKey lastKey, boolean done, long writeNanos,
                java.util.concurrent.CompletableFuture<Read> next, int nextChunk) {
        }

        /** The chunk without the rows an operator marked as not mirrored; {@code last} still moves past them. */
        private List<Row> notDegraded(List<Row> rows) {
            io.dualwrite.degrade.Degradation marks = degradation;
            return marks == null ? rows : marks.notMarked(mapped, rows);
        }

        /**
         * Writes one chunk: read here, or taken from the read started ahead by the chunk before. Once the chunk's rows
         * are known, and so the key after which the next chunk starts, the next chunk's read begins on a source
         * connection of its own ({@link #readAhead}); it is handed back with the outcome and written only after this
         * chunk committed, or discarded (its source transaction rolled back) if this chunk does not commit.
         *
         * @return the chunk's outcome, or {@code null} if the range is no longer ours (lease lost, paused)
         * @throws BackfillGate.Refused if the pass lapsed before the commit; nothing was written
         */
        private ChunkResult copyChunk(CheckpointStore.Range range, RowKey after, int chunk, BackfillGate.Pass pass,
                java.util.concurrent.CompletableFuture<Read> ahead) throws SQLException {
            java.util.concurrent.CompletableFuture<Read> next = null;
            int nextChunk = 0;
            Read aheadRead = ahead != null ? joinRead(ahead) : null;
            try (Read read = aheadRead != null ? aheadRead : readChunk(range, source.getConnection(), after, chunk);
                    Connection targetConnection = target.getConnection()) {
                targetConnection.setAutoCommit(false);
                try {
                    List<Row> rows = read.rows;
                    RowKey last = rows.isEmpty() ? after : mapped.source().keyOf(rows.get(rows.size() - 1));
                    boolean done = rows.size() < chunk;
                    if (!done) {
                        nextChunk = chunkSize.get();
                        next = readAhead(range, last, nextChunk);
                    }
                    ChunkHook current = hook;
                    if (current != null) {
                        current.afterRead(mapped.name(), range.id(), rows);
                    }
                    long writeStarted = System.nanoTime();
                    Written written = write(mapped, read.source, targetConnection, notDegraded(rows));
                    long now = config.clock().millis();
                    store.recordFailures(targetConnection, name, written.failedKeys, written.errors, now);
                    if (!store.advance(targetConnection, name, range.id(), config.ownerId(), last, written.rows,
                            written.failedKeys.size(), done, now, now + config.leaseDuration().toMillis())) {
                        targetConnection.rollback();
                        drop(next, nextChunk);
                        return null;
                    }
                    if (!pass.stillValid()) {
                        throw new BackfillGate.Refused("dualwrite backfill of " + mapped.name() + ": this instance"
                                + " lost its lease in the control store during a chunk; the chunk is rolled back", false);
                    }
                    targetConnection.commit();
                    long writeNanos = System.nanoTime() - writeStarted;
                    // Only now may writers touch the chunk's rows: their own applies follow ours.
                    read.end();
                    return new ChunkResult(written, rows.size(), last, done, writeNanos, next, nextChunk);
                } catch (SQLException | RuntimeException | Error e) {
                    rollbackQuietly(targetConnection, e);
                    drop(next, nextChunk);
                    throw e;
                }
            }
        }

        /**
         * Starts reading the chunk after {@code last} on a thread and a source connection of its own, unless
         * {@link BackfillConfig#readAhead()} is off, the job stops or backs off, or the rate limiter has no tokens for
         * it now (then the next chunk is read in its turn, after its wait). A read ahead that gets no source connection
         * (the library's source pool is busy, say with mirror applies) ends with null, and the chunk is read in its turn.
         *
         * @return the read under way, or null
         */
        private java.util.concurrent.CompletableFuture<Read> readAhead(CheckpointStore.Range range, RowKey last,
                int chunk) {
            if (!config.readAhead() || stopped || mustBackOff()) {
                return null;
            }
            if (limiter.reserve(chunk) > 0) {
                limiter.refund(chunk);
                return null;
            }
            ChunkHook current = hook;
            return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try (LibraryWork.Scope own = LibraryWork.enter()) {
                    Connection sourceConnection;
                    try {
                        sourceConnection = source.getConnection();
                    } catch (SQLException noConnection) {
                        log.debug("dualwrite backfill of " + mapped.name() + ": no source connection to read ahead"
                                + " with; the next chunk is read in its turn: " + noConnection.getMessage());
                        return null;
                    }
                    Read read = readChunk(range, sourceConnection, last, chunk);
                    if (current != null) {
                        try {
                            current.afterReadAhead(mapped.name(), range.id(), read.rows);
                        } catch (RuntimeException | Error e) {
                            read.close();
                            throw e;
                        }
                    }
                    return read;
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            }, this::startReader);
        }

        /**
         * Begins a source transaction on a connection and reads a chunk in it under the share lock, which the returned
         * read holds; the connection is closed if the read fails.
         */
        private Read readChunk(CheckpointStore.Range range, Connection sourceConnection, RowKey after, int chunk)
                throws SQLException {
            try {
                sourceConnection.setAutoCommit(false);
                sourceConnection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                return new Read(sourceConnection, scanUnit(range, sourceConnection, after, chunk));
            } catch (SQLException | RuntimeException | Error e) {
                rollbackQuietly(sourceConnection, e);
                try {
                    sourceConnection.close();
                } catch (SQLException closeFailure) {
                    e.addSuppressed(closeFailure);
                }
                throw e;
            }
        }

        private boolean mustBackOff() {
            return config.mirrorLag().map(lag -> {
                Duration current = lag.get();
                return current != null && current.compareTo(config.maxMirrorLag()) > 0;
            }).orElse(false);
        }

        private void adapt(int chunk, Duration took) {
            double factor = (double) config.targetChunkTime().toNanos() / Math.max(1, took.toNanos());
            factor = Math.max(0.5, Math.min(2.0, factor));
            int next = (int) Math.max(config.minChunkSize(), Math.min(config.maxChunkSize(), chunk * factor));
            chunkSize.set(next);
        }

        private void logProgress() {
            long now = config.clock().millis();
            if (now - lastLogMillis >= config.progressLogInterval().toMillis()) {
                lastLogMillis = now;
                try {
                    snapshot = progress(mapped.name());
                    log.info("dualwrite " + snapshot);
                } catch (SQLException e) {
                    log.debug("dualwrite could not read backfill progress", e);
                }
            }
        }

        private void pauseJob(String reason) throws SQLException {
            log.warn("dualwrite backfill of " + mapped.name() + " paused: " + reason);
            changeStatus(mapped, List.of(BackfillStatus.PENDING, BackfillStatus.RUNNING), BackfillStatus.PAUSED, reason);
            stopped = true;
        }

        private void release(CheckpointStore.Range range) throws SQLException {
            try (Connection connection = target.getConnection()) {
                connection.setAutoCommit(false);
                store.release(connection, name, range.id(), config.ownerId(), config.clock().millis());
                connection.commit();
            }
        }

        /** Runs a read ahead on a daemon thread of its own: one a chunk, at most one per worker at a time. */
        private void startReader(Runnable read) {
            Thread reader = new Thread(read, Thread.currentThread().getName() + "-ahead");
            reader.setDaemon(true);
            reader.start();
        }

        /**
         * Waits for a chunk read ahead; its failure is the chunk's, as if it had been read here.
         *
         * @return the read, or null if the read ahead found no connection (the chunk is then read in its turn)
         */
        private static Read joinRead(java.util.concurrent.CompletableFuture<Read> ahead) throws SQLException {
            try {
                return ahead.join();
            } catch (java.util.concurrent.CompletionException e) {
                throw io.dualwrite.jdbc.SqlErrors.rethrowCause(e.getCause());
            }
        }

        /**
         * Lets go of a chunk read ahead that will not be written: its source transaction is rolled back (its lock
         * released) as soon as the read ends, without waiting for it here. Safe on a read already written or ended.
         */
        /** Discards a chunk read ahead that will not be written, and gives the rows it reserved back to the limiter. */
        private void drop(java.util.concurrent.CompletableFuture<Read> ahead, int reserved) {
            if (ahead != null) {
                discard(ahead);
                limiter.refund(reserved);
            }
        }

        private static void discard(java.util.concurrent.CompletableFuture<Read> ahead) {
            if (ahead != null) {
                ahead.whenComplete((read, failure) -> {
                    if (read != null) {
                        read.close();
                    }
                });
            }
        }

        private static void sleep(long millis) {
            if (millis <= 0) {
                return;
            }
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private static void rollbackQuietly(Connection connection, Throwable cause) {
            try {
                connection.rollback();
            } catch (SQLException rollbackFailure) {
                cause.addSuppressed(rollbackFailure);
            }
        }
    }
}
