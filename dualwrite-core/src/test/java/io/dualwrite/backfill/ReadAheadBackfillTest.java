package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The read ahead ({@link BackfillConfig#readAhead()}): chunk N+1 is read, under its own share lock, while chunk N is
 * written. Its lock lasts until its own target commit (over chunk N's commit), a failure of its read leaves the
 * checkpoint at chunk N, and a chunk N that dies lets go of chunk N+1's lock; a restart then copies every row once.
 * Chunks are 10 rows: chunk 1 is ids 1..10, chunk 2 ids 11..20.
 */
class ReadAheadBackfillTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestDatabase source;
    private TestDatabase target;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private MappedTables orders(Store sourceStore, Store targetStore, int rows) throws Exception {
        return orders(sourceStore, targetStore, rows, TestDatabase.DEFAULT_MAXIMUM_POOL_SIZE);
    }

    private MappedTables orders(Store sourceStore, Store targetStore, int rows, int sourcePool) throws Exception {
        source = TestDatabase.create(sourceStore, "ra_src", sourcePool);
        closeables.add(source);
        target = TestDatabase.create(targetStore, "ra_tgt");
        closeables.add(target);
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        List<Object[]> batch = new ArrayList<>();
        Timestamp modified = Timestamp.valueOf("2026-01-01 12:00:00.000");
        for (int id = 1; id <= rows; id++) {
            batch.add(new Object[] {(long) id, (long) id % 7, "S" + id % 3, BigDecimal.valueOf(id, 2), "note " + id,
                modified});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?)", batch);
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
    }

    private BackfillRunner runner(MappedTables tables, boolean readAhead, String owner) {
        BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().chunkSize(10).chunkSizeBounds(10, 10)
                .rangesPerTable(1).readAhead(readAhead).leaseDuration(Duration.ofMillis(500))
                .lockRetryDelay(Duration.ofMillis(50)).ownerId(owner).createTables(true).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        closeables.add(runner);
        return runner;
    }

    private static boolean holds(List<Row> rows, long id) {
        return rows.stream().anyMatch(row -> ((Number) row.get("id")).longValue() == id);
    }

    /** Deletes a row in the source as the application would, its key recorded for the mirror. */
    private CompletableFuture<Void> deleteAsync(long id, Mirror mirror) {
        JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
        TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source.dataSource()));
        return CompletableFuture.runAsync(() -> transactions.executeWithoutResult(status -> {
            if (source.store() == Store.H2) {
                // H2 gives up on a lock after 1 s by default; this delete is meant to wait for the chunk.
                jdbc.execute("SET LOCK_TIMEOUT 20000");
            }
            jdbc.update("DELETE FROM t_order WHERE id = ?", id);
            mirror.recorder().record("t_order", id);
        }));
    }

    private static boolean finishesWithin(CompletableFuture<?> future, long millis) throws Exception {
        try {
            future.get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (TimeoutException e) {
            return false;
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * DESIGN's delete race on the chunk read ahead: the application deletes row 15 while chunk 1 is being written and
     * chunk 2 (which holds row 15) has been read. The delete must wait through chunk 1's commit until chunk 2's own
     * commit, and the mirror then deletes the row; had chunk 2's read let go of its lock, chunk 2 would write the
     * row back after the mirror found nothing to delete.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aDeleteOfARowReadAhead_waitsForThatChunksOwnCommit_andIsNotResurrected(Store sourceStore, Store targetStore)
            throws Exception {
        assertThat(runDeleteOfARowReadAhead(sourceStore, targetStore, true)).isEmpty();
    }

    /** The control of the test above: without the chunks' lock the same race resurrects row 15. */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withoutTheChunkLock_theRowReadAheadIsResurrected(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runDeleteOfARowReadAhead(sourceStore, targetStore, false)).singleElement().asString()
                .contains("extra in target").contains("id=15");
    }

    private List<String> runDeleteOfARowReadAhead(Store sourceStore, Store targetStore, boolean lock) throws Exception {
        MappedTables tables = orders(sourceStore, targetStore, 20);
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        mirror.start();
        closeables.add(mirror);
        BackfillRunner runner = runner(tables, true, "ahead");
        runner.lockSourceRowsForTesting(lock);
        CountDownLatch firstHeld = new CountDownLatch(1);
        CountDownLatch firstGo = new CountDownLatch(1);
        CountDownLatch secondReadAhead = new CountDownLatch(1);
        CountDownLatch secondHeld = new CountDownLatch(1);
        CountDownLatch secondGo = new CountDownLatch(1);
        runner.hookForTesting(new BackfillRunner.ChunkHook() {
            @Override
            public void afterRead(String table, int range, List<Row> rows) {
                if (holds(rows, 1)) {
                    firstHeld.countDown();
                    await(firstGo);
                } else if (holds(rows, 11)) {
                    secondHeld.countDown();
                    await(secondGo);
                }
            }

            @Override
            public void afterReadAhead(String table, int range, List<Row> rows) {
                if (holds(rows, 11)) {
                    secondReadAhead.countDown();
                }
            }
        });
        runner.start("t_order");
        assertThat(firstHeld.await(20, TimeUnit.SECONDS)).as("chunk 1 read").isTrue();
        assertThat(secondReadAhead.await(20, TimeUnit.SECONDS)).as("chunk 2 read ahead while chunk 1 writes").isTrue();

        CompletableFuture<Void> delete = deleteAsync(15, mirror);
        boolean waitedWhileFirstWrote = !finishesWithin(delete, 400);
        firstGo.countDown();
        assertThat(secondHeld.await(20, TimeUnit.SECONDS)).as("chunk 2 reached after chunk 1 committed").isTrue();
        long copiedBeforeSecond = runner.progress("t_order").rowsCopied();
        boolean waitedAfterFirstCommitted = !finishesWithin(delete, 200);
        secondGo.countDown();
        delete.get(20, TimeUnit.SECONDS);
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

        assertThat(copiedBeforeSecond).as("chunk 1 committed, chunk 2 not yet").isEqualTo(10);
        assertThat(waitedWhileFirstWrote).as("the delete waited for chunk 2's lock while chunk 1 wrote").isEqualTo(lock);
        assertThat(waitedAfterFirstCommitted).as("chunk 2's lock outlived chunk 1's commit").isEqualTo(lock);
        return OrderTable.differences(source, "t_order", target, "t_order", "id");
    }

    /** Without the read ahead a chunk's next rows are free while it writes: the measure of what the option holds. */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withoutReadAhead_theNextChunksRowsAreFreeWhileAChunkWrites(Store sourceStore, Store targetStore)
            throws Exception {
        MappedTables tables = orders(sourceStore, targetStore, 20);
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        mirror.start();
        closeables.add(mirror);
        BackfillRunner runner = runner(tables, false, "sequential");
        CountDownLatch firstHeld = new CountDownLatch(1);
        CountDownLatch firstGo = new CountDownLatch(1);
        List<Long> readAhead = new java.util.concurrent.CopyOnWriteArrayList<>();
        runner.hookForTesting(new BackfillRunner.ChunkHook() {
            @Override
            public void afterRead(String table, int range, List<Row> rows) {
                if (holds(rows, 1)) {
                    firstHeld.countDown();
                    await(firstGo);
                }
            }

            @Override
            public void afterReadAhead(String table, int range, List<Row> rows) {
                readAhead.add((long) rows.size());
            }
        });
        runner.start("t_order");
        assertThat(firstHeld.await(20, TimeUnit.SECONDS)).isTrue();
        CompletableFuture<Void> delete = deleteAsync(15, mirror);
        boolean freeWhileFirstWrote = finishesWithin(delete, 5_000);
        firstGo.countDown();
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

        assertThat(freeWhileFirstWrote).as("row 15 was not locked while chunk 1 wrote").isTrue();
        assertThat(readAhead).as("no chunk read ahead").isEmpty();
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }

    /**
     * Chunk 1's write takes longer than the limit, so the worker backs off for 3 s before chunk 2: the chunk read
     * ahead is let go of before the pause, not held through it. A delete of row 15 issued during the pause goes
     * through at once; chunk 2 is read again after the pause and does not bring the row back.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aBackOffPause_letsGoOfTheChunkReadAhead_andItIsReadAgainAfter(Store sourceStore, Store targetStore)
            throws Exception {
        MappedTables tables = orders(sourceStore, targetStore, 20);
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        mirror.start();
        closeables.add(mirror);
        BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().chunkSize(10).chunkSizeBounds(10, 10)
                .rangesPerTable(1).readAhead(true).maxChunkWriteTime(Duration.ofNanos(1))
                .backoffPause(Duration.ofSeconds(3)).leaseDuration(Duration.ofSeconds(10))
                .lockRetryDelay(Duration.ofMillis(50)).ownerId("backs-off").createTables(true).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        closeables.add(runner);
        CountDownLatch secondReadAhead = new CountDownLatch(1);
        runner.hookForTesting(new BackfillRunner.ChunkHook() {
            @Override
            public void afterRead(String table, int range, List<Row> rows) {
            }

            @Override
            public void afterReadAhead(String table, int range, List<Row> rows) {
                if (holds(rows, 15)) {
                    secondReadAhead.countDown();
                }
            }
        });
        runner.start("t_order");
        assertThat(secondReadAhead.await(20, TimeUnit.SECONDS)).as("chunk 2 read ahead").isTrue();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class) < 10 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        // Chunk 1 committed; the worker is in its 3 s pause.
        CompletableFuture<Void> delete = deleteAsync(15, mirror);
        boolean freeDuringThePause = finishesWithin(delete, 1_500);
        delete.get(20, TimeUnit.SECONDS);
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

        assertThat(freeDuringThePause).as("row 15 was not locked through the back-off pause").isTrue();
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(19);
    }

    /**
     * A writer holds row 15, so chunk 2's read ahead fails on its lock while chunk 1 writes: chunk 1 commits alone,
     * the checkpoint stays after id 10 as long as the writer holds the row, and the job then finishes with every row
     * counted once.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aReadAheadThatMeetsALock_leavesTheCheckpointAtTheChunkBefore(Store sourceStore, Store targetStore)
            throws Exception {
        MappedTables tables = orders(sourceStore, targetStore, 20);
        BackfillRunner runner = runner(tables, true, "ahead");
        List<Integer> aheadRows = new java.util.concurrent.CopyOnWriteArrayList<>();
        runner.hookForTesting(new BackfillRunner.ChunkHook() {
            @Override
            public void afterRead(String table, int range, List<Row> rows) {
            }

            @Override
            public void afterReadAhead(String table, int range, List<Row> rows) {
                aheadRows.add(rows.size());
            }
        });
        try (Connection writer = source.dataSource().getConnection()) {
            writer.setAutoCommit(false);
            try (Statement statement = writer.createStatement()) {
                statement.executeUpdate("UPDATE t_order SET note = 'held' WHERE id = 15");
            }
            runner.start("t_order");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (runner.progress("t_order").rowsCopied() < 10 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            // Chunk 2 keeps meeting the writer's lock (read ahead once, then in its own turn) meanwhile.
            Thread.sleep(1_500);
            BackfillProgress held = runner.progress("t_order");
            assertThat(held.rowsCopied()).as("chunk 1 committed alone").isEqualTo(10);
            assertThat(held.status()).isEqualTo(BackfillStatus.RUNNING);
            assertThat(target.queryForObject("SELECT MAX(id) FROM t_order", Long.class)).isEqualTo(10L);
            assertThat(target.queryForObject("SELECT last_key FROM dualwrite_checkpoint", String.class))
                    .contains("10");
            assertThat(aheadRows).as("no read ahead of chunk 2 got its rows").isEmpty();
            writer.commit();
        }
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
        assertThat(runner.progress("t_order").rowsCopied()).as("no chunk counted twice").isEqualTo(20);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }

    /**
     * Chunk 1 dies after chunk 2 was read ahead, like a killed JVM whose connections the pool still holds: chunk 2's
     * source transaction is rolled back at once (a writer of its rows goes on), nothing was committed, and a second
     * runner that takes the range over when its lease lapses copies every row once.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aChunkThatDies_releasesTheLockOfTheChunkReadAhead_andARestartCopiesEveryRowOnce(Store sourceStore,
            Store targetStore) throws Exception {
        MappedTables tables = orders(sourceStore, targetStore, 25);
        BackfillRunner dying = runner(tables, true, "dying");
        CountDownLatch secondReadAhead = new CountDownLatch(1);
        dying.hookForTesting(new BackfillRunner.ChunkHook() {
            @Override
            public void afterRead(String table, int range, List<Row> rows) {
                if (holds(rows, 1)) {
                    await(secondReadAhead);
                    throw new IllegalStateException("simulated crash inside chunk 1");
                }
            }

            @Override
            public void afterReadAhead(String table, int range, List<Row> rows) {
                if (holds(rows, 11)) {
                    secondReadAhead.countDown();
                }
            }
        });
        dying.start("t_order");
        assertThat(secondReadAhead.await(20, TimeUnit.SECONDS)).isTrue();
        dying.awaitCompletion("t_order", Duration.ofSeconds(20));

        JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
        TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source.dataSource()));
        CompletableFuture<Void> update = CompletableFuture.runAsync(() -> transactions.executeWithoutResult(status -> {
            if (source.store() == Store.H2) {
                jdbc.execute("SET LOCK_TIMEOUT 20000");
            }
            jdbc.update("UPDATE t_order SET note = 'after the crash' WHERE id = 15");
        }));
        assertThat(finishesWithin(update, 5_000)).as("chunk 2's lock was let go of with chunk 1").isTrue();
        assertThat(dying.progress("t_order").rowsCopied()).as("nothing committed").isZero();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();

        BackfillRunner finishing = runner(tables, true, "finishing");
        finishing.start("t_order");
        assertThat(finishing.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
        assertThat(finishing.progress("t_order").rowsCopied()).as("no chunk counted twice").isEqualTo(25);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }

    /**
     * A source pool of one connection: the read ahead waits for the connection chunk N gives back at its commit (or,
     * after the pool's timeout, gives up and leaves the chunk to be read in its turn); every row is copied once.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aSourcePoolOfOneConnection_stillCopiesEveryRowOnce(Store sourceStore, Store targetStore) throws Exception {
        MappedTables tables = orders(sourceStore, targetStore, 95, 1);
        BackfillRunner runner = runner(tables, true, "one");
        runner.start("t_order");
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        assertThat(runner.progress("t_order").rowsCopied()).isEqualTo(95);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }
}
