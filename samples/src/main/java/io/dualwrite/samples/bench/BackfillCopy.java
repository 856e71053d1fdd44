package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.TableMetadata;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.shard.ShardingSphereTarget;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;

/**
 * One run of dualwrite's {@link BackfillRunner} over {@code t_order}, unthrottled, as an application would
 * set it up: a plain source pool, a target pool whose URL carries
 * {@link io.dualwrite.jdbc.Dialect#withRecommendedProperties}, the table mapped by name, and
 * {@code threads(n).rangesPerTable(16).createTables(true)}, the version guard as the library's default
 * unless the benchmark asks otherwise. Every run is a new job: the checkpoint and
 * failure tables are emptied first, so a second run over a copied table really reads and upserts every row
 * again.
 */
final class BackfillCopy {

    private static final String CHECKPOINTS = "dualwrite_checkpoint";
    private static final String FAILURES = "dualwrite_backfill_failure";
    private static final AtomicInteger RUNS = new AtomicInteger();

    /**
     * One backfill's figures.
     *
     * @param rows rows the job reports copied (summed over its ranges)
     * @param nanos from {@code start} until {@code awaitCompletion} returned
     * @param chunks chunks copied, from {@code ChunkCopied} events
     * @param chunkNanos the chunks' own time summed over threads (read to commit)
     * @param largestChunk the most rows one chunk carried
     * @param failedRows rows the job recorded as failed
     * @param status the job's final status
     * @param lastError the job's last error or pause reason, or empty
     * @param cpu the machine's CPU during the job, or {@code null} when not measured
     */
    record Result(long rows, long nanos, long chunks, long chunkNanos, int largestChunk, long failedRows,
            BackfillStatus status, String lastError, CpuMeter.Usage cpu) {

        double rowsPerSecond() {
            return rows / (nanos / 1e9);
        }

        /** @return the share of the threads' time spent inside chunks; the rest is claims, checks, start and end */
        double inChunks(int threads) {
            return chunkNanos / (nanos * (double) threads);
        }

        boolean done() {
            return status == BackfillStatus.DONE && failedRows == 0;
        }
    }

    private BackfillCopy() {
    }

    /**
     * Runs a new backfill job and waits for it.
     *
     * @param versionGuard {@code BackfillConfig.versionGuard}: the guarded upsert, or the overwrite of changed rows
     * @param upToId copy only ids up to this one (a filter, as {@code BackfillConfig.where}), or {@code null}
     * @param timeout the longest wait
     * @param cpu measures the machine's CPU from start to completion, or {@code null}
     * @throws SQLException if a store fails outside the job (set-up, progress)
     * @throws InterruptedException if interrupted
     */
    static Result run(BenchDatabase source, BenchDatabase target, int threads, boolean versionGuard, Long upToId,
            Duration timeout, CpuMeter cpu) throws SQLException, InterruptedException {
        return run(source, target, threads, versionGuard, true, upToId, timeout, cpu);
    }

    /**
     * As {@link #run(BenchDatabase, BenchDatabase, int, boolean, Long, Duration, CpuMeter)}, choosing whether the
     * target's bulk path is used (COPY into PostgreSQL, LOAD DATA into MariaDB: {@code BackfillConfig.postgresCopy}
     * and {@code mariadbLoadData}) or every chunk is written in batches.
     */
    static Result run(BenchDatabase source, BenchDatabase target, int threads, boolean versionGuard,
            boolean postgresCopy, Long upToId, Duration timeout, CpuMeter cpu)
            throws SQLException, InterruptedException {
        resetJob(target);
        int run = RUNS.incrementAndGet();
        // A second source connection per thread: the chunk read ahead while the one before is written.
        HikariDataSource sourcePool = source.pool("bench-backfill-source-" + run, 2 * threads + 1, false);
        HikariDataSource targetPool = target.pool("bench-backfill-target-" + run, threads + 1, true);
        try {
            return copy(sourcePool, targetPool, TableMapping.builder(OrderTable.NAME).build(), threads, versionGuard,
                    postgresCopy, upToId, timeout, cpu);
        } finally {
            // Closing the pools ends the server sessions, which also flushes PostgreSQL's table statistics.
            sourcePool.close();
            targetPool.close();
        }
    }

    /**
     * Runs a new backfill job into the sharded target and waits for it. The library is given the ShardingSphere
     * data source wrapped as a {@link ShardingSphereTarget}, and the table mapped as an application with that target
     * maps it: routed and sharded by {@code user_id}, which no update changes. Building ShardingSphere's data source
     * (it reads the databases' metadata) is not timed.
     *
     * @see #run
     */
    static Result runSharded(BenchDatabase source, ShardedTarget target, int threads, boolean versionGuard,
            Long upToId, Duration timeout, CpuMeter cpu) throws SQLException, InterruptedException {
        try (Connection home = target.connectHome()) {
            resetJob(home);
        }
        int run = RUNS.incrementAndGet();
        HikariDataSource sourcePool = source.pool("bench-backfill-source-" + run, 2 * threads + 1, false);
        DataSource sharding = target.open(threads + 1);
        try {
            return copy(sourcePool, ShardingSphereTarget.of(sharding), TableMapping.builder(OrderTable.NAME)
                    .routingColumn("user_id").immutableShardingColumn(true).build(), threads, versionGuard, true,
                    upToId, timeout, cpu);
        } finally {
            sourcePool.close();
            try {
                ((AutoCloseable) sharding).close();
            } catch (Exception e) {
                throw new SQLException("could not close ShardingSphere's data source: " + e.getMessage(), e);
            }
        }
    }

    /** {@code BackfillConfig.readAhead} of every backfill this JVM runs; {@code --no-read-ahead} turns it off. */
    private static volatile boolean readAhead = BackfillConfig.defaults().readAhead();

    static void readAhead(boolean ahead) {
        readAhead = ahead;
    }

    private static Result copy(DataSource sourcePool, DataSource targetPool, TableMapping mapping, int threads,
            boolean versionGuard, boolean postgresCopy, Long upToId, Duration timeout, CpuMeter cpu)
            throws SQLException, InterruptedException {
        AtomicLong chunks = new AtomicLong();
        AtomicLong chunkNanos = new AtomicLong();
        AtomicInteger largest = new AtomicInteger();
        AtomicReference<String> pauseReason = new AtomicReference<>("");
        EventPublisher events = new EventPublisher().subscribe(event -> {
            if (event instanceof DualWriteEvent.ChunkCopied chunk) {
                chunks.incrementAndGet();
                chunkNanos.addAndGet(chunk.took().toNanos());
                largest.accumulateAndGet(chunk.rows(), Math::max);
            } else if (event instanceof DualWriteEvent.BackfillStateChanged state && !state.reason().isEmpty()) {
                pauseReason.set(state.status() + ": " + state.reason());
            }
        });
        MappedTables tables = MappedTables.resolve(List.of(mapping), sourcePool, targetPool, false);
        BackfillConfig.Builder config = BackfillConfig.builder().threads(threads).rangesPerTable(16)
                .createTables(true).versionGuard(versionGuard).postgresCopy(postgresCopy).mariadbLoadData(postgresCopy)
                .readAhead(readAhead)
                .progressLogInterval(Duration.ofHours(1));
        if (upToId != null) {
            config.where(OrderTable.NAME, "id <= ?", upToId);
        }
        try (BackfillRunner runner = BackfillRunner.create(config.build(), tables, sourcePool, targetPool,
                events)) {
            CpuMeter.Snapshot before = cpu == null ? null : cpu.snapshot();
            long started = System.nanoTime();
            runner.start(OrderTable.NAME);
            runner.awaitCompletion(OrderTable.NAME, timeout);
            long nanos = System.nanoTime() - started;
            CpuMeter.Usage usage = cpu == null ? null : cpu.between(before, cpu.snapshot());
            BackfillProgress progress = runner.progress(OrderTable.NAME);
            String error = progress.lastError().orElse(pauseReason.get());
            return new Result(progress.rowsCopied(), nanos, chunks.get(), chunkNanos.get(), largest.get(),
                    progress.failedRows(), progress.status(), error, usage);
        }
    }

    /** Empties the library's tables in the target, if they exist, so that the next start is a new job. */
    static void resetJob(BenchDatabase target) throws SQLException {
        try (Connection connection = target.connect()) {
            resetJob(connection);
        }
    }

    private static void resetJob(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String table : List.of(CHECKPOINTS, FAILURES)) {
                if (TableMetadata.read(connection, table).isPresent()) {
                    statement.execute("DELETE FROM " + table);
                }
            }
        }
    }
}
