package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.DualWriteEvent;
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
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/** The backfill on every store pair: full copies, crashes and restarts, sharing, the delete race. */
class BackfillRunnerTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<DualWriteEvent> events = new CopyOnWriteArrayList<>();
    private TestDatabase source;
    private TestDatabase target;

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private void databases(Store sourceStore, Store targetStore) {
        source = TestDatabase.create(sourceStore, "bf_src");
        closeables.add(source);
        target = TestDatabase.create(targetStore, "bf_tgt");
        closeables.add(target);
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        target.execute(OrderTable.ddl(targetStore, "t_order"));
    }

    private void seedOrders(int rows) {
        List<Object[]> batch = new ArrayList<>();
        Timestamp modified = Timestamp.valueOf("2026-01-01 12:00:00.000");
        for (int id = 1; id <= rows; id++) {
            batch.add(new Object[] {(long) id, (long) id % 97, "S" + id % 5, BigDecimal.valueOf(id, 2),
                    id % 3 == 0 ? null : "note " + id, modified});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?)", batch);
    }

    private MappedTables orders() throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
    }

    private BackfillRunner runner(BackfillConfig.Builder config, MappedTables tables) {
        BackfillRunner runner = BackfillRunner.create(config.createTables(true).build(), tables, source.dataSource(),
                target.dataSource(), new EventPublisher().subscribe(events::add));
        closeables.add(runner);
        return runner;
    }

    private static BackfillConfig.Builder smallChunks() {
        return BackfillConfig.builder().chunkSize(200).chunkSizeBounds(50, 400).rangesPerTable(4)
                .leaseDuration(Duration.ofMillis(500));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void start_copiesSingleCompositeAndStringKeyTablesCompletely(Store sourceStore, Store targetStore)
            throws Exception {
        databases(sourceStore, targetStore);
        seedOrders(2_500);
        for (TestDatabase db : List.of(source, target)) {
            String type = OrderTable.timestampType(db.store());
            db.execute("CREATE TABLE t_item (order_id BIGINT NOT NULL, line VARCHAR(20) NOT NULL, qty INT NOT NULL,"
                    + " gmt_modified " + type + " NOT NULL, PRIMARY KEY (order_id, line))",
                    "CREATE TABLE t_code (code VARCHAR(40) NOT NULL PRIMARY KEY, label VARCHAR(100),"
                    + " gmt_modified " + type + " NOT NULL)");
        }
        JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
        List<Object[]> items = new ArrayList<>();
        List<Object[]> codes = new ArrayList<>();
        Timestamp modified = Timestamp.valueOf("2026-02-03 04:05:06.789");
        for (int i = 0; i < 900; i++) {
            items.add(new Object[] {(long) i / 3, "line-" + (char) ('a' + i % 3) + i % 7, i, modified});
            codes.add(new Object[] {"code-" + Integer.toString(i * 7919, 36), "label " + i, modified});
        }
        jdbc.batchUpdate("INSERT INTO t_item (order_id, line, qty, gmt_modified) VALUES (?, ?, ?, ?)", items);
        jdbc.batchUpdate("INSERT INTO t_code (code, label, gmt_modified) VALUES (?, ?, ?)", codes);
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build(),
                TableMapping.builder("t_item").build(), TableMapping.builder("t_code").build()),
                source.dataSource(), target.dataSource(), false);
        BackfillRunner runner = runner(smallChunks().threads(2), tables);
        for (String table : List.of("t_order", "t_item", "t_code")) {
            runner.start(table);
        }
        for (String table : List.of("t_order", "t_item", "t_code")) {
            assertThat(runner.awaitCompletion(table, Duration.ofSeconds(60))).as(table + " done").isTrue();
        }

        assertThat(target.queryForList("SELECT status FROM dualwrite_checkpoint")).as("every range of every job")
                .allMatch(row -> row.get("status").equals("DONE"));
        // Regression: H2's MERGE once wrote NULL into a whole VARCHAR column of a batch (H2Dialect.typedParameter).
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(OrderTable.differences(source, "t_item", target, "t_item", "order_id", "line")).isEmpty();
        assertThat(OrderTable.differences(source, "t_code", target, "t_code", "code")).isEmpty();
        BackfillProgress progress = runner.progress("t_order");
        assertThat(progress.rowsCopied()).as("no chunk counted twice").isEqualTo(2_500);
        assertThat(progress.ranges()).isEqualTo(4);
        assertThat(progress.rangesDone()).isEqualTo(4);
        assertThat(progress.eta()).contains(Duration.ZERO);
        assertThat(runner.progress("t_item").ranges()).as("composite keys are one range").isEqualTo(1);
        assertThat(events).anyMatch(e -> e instanceof DualWriteEvent.BackfillStateChanged s && s.status().equals("DONE"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void crashInsideAChunk_andStopBetweenChunks_restartCopiesEveryRowOnce(Store sourceStore, Store targetStore)
            throws Exception {
        databases(sourceStore, targetStore);
        seedOrders(3_000);
        MappedTables tables = orders();

        // First runner: dies inside its third chunk, holding its lease, like a killed JVM.
        BackfillRunner dying = runner(smallChunks().chunkSizeBounds(200, 200).ownerId("dying"), tables);
        AtomicInteger chunks = new AtomicInteger();
        dying.hookForTesting((table, range, rows) -> {
            if (chunks.incrementAndGet() == 3) {
                throw new IllegalStateException("simulated crash inside a chunk");
            }
        });
        dying.start("t_order");
        dying.awaitCompletion("t_order", Duration.ofSeconds(30));
        long afterCrash = runner(smallChunks(), tables).progress("t_order").rowsCopied();
        assertThat(afterCrash).as("two chunks committed before the crash").isEqualTo(400);

        // Second runner: takes the dead runner's range over once its lease expires, then is stopped
        // between chunks.
        BackfillRunner stopped = runner(smallChunks().ownerId("stopped"), tables);
        CountDownLatch fiveChunks = new CountDownLatch(5);
        stopped.hookForTesting((table, range, rows) -> fiveChunks.countDown());
        stopped.start("t_order");
        assertThat(fiveChunks.await(30, TimeUnit.SECONDS)).isTrue();
        stopped.close();
        assertThat(runner(smallChunks(), tables).progress("t_order").status()).isNotEqualTo(BackfillStatus.DONE);

        // Third runner: finishes.
        BackfillRunner finishing = runner(smallChunks().ownerId("finishing"), tables);
        finishing.start("t_order");
        assertThat(finishing.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();

        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(3_000L);
        assertThat(finishing.progress("t_order").rowsCopied()).as("no chunk counted twice").isEqualTo(3_000);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void twoRunnersOnOneJob_coverEverythingAndNeverCopyARangeAtTheSameTime(Store sourceStore, Store targetStore)
            throws Exception {
        databases(sourceStore, targetStore);
        seedOrders(4_000);
        MappedTables tables = orders();
        Map<Integer, String> active = new ConcurrentHashMap<>();
        ConcurrentLinkedQueue<String> overlaps = new ConcurrentLinkedQueue<>();
        Map<String, AtomicInteger> chunksByOwner = new ConcurrentHashMap<>();
        // Each instance's first chunk waits (10 s at most, well within its lease) until the other has one too, so
        // a loaded machine that starts the second instance late cannot let the first copy every range alone; an
        // instance that never gets a range still fails the test below.
        CountDownLatch bothCopying = new CountDownLatch(2);
        List<BackfillRunner> runners = new ArrayList<>();
        for (String owner : List.of("instance-a", "instance-b")) {
            BackfillRunner runner = runner(smallChunks().rangesPerTable(8).leaseDuration(Duration.ofSeconds(30))
                    .ownerId(owner), tables);
            runner.hookForTesting((table, range, rows) -> {
                String previous = active.put(range, owner);
                if (previous != null && !previous.equals(owner)) {
                    overlaps.add("range " + range + " copied by " + previous + " and " + owner);
                }
                if (chunksByOwner.computeIfAbsent(owner, o -> new AtomicInteger()).incrementAndGet() == 1) {
                    bothCopying.countDown();
                    awaitQuietly(bothCopying);
                }
                sleepQuietly(5);
                active.remove(range, owner);
            });
            runners.add(runner);
        }
        for (BackfillRunner runner : runners) {
            runner.start("t_order");
        }
        for (BackfillRunner runner : runners) {
            runner.awaitCompletion("t_order", Duration.ofSeconds(60));
        }

        assertThat(runners.get(0).progress("t_order").status()).isEqualTo(BackfillStatus.DONE);
        assertThat(overlaps).isEmpty();
        assertThat(chunksByOwner).as("both instances took ranges").containsKeys("instance-a", "instance-b");
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(runners.get(0).progress("t_order").rowsCopied()).isEqualTo(4_000);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void backfillWhileEightWritersChangeRowsThroughTheMirror_converges(Store sourceStore, Store targetStore)
            throws Exception {
        databases(sourceStore, targetStore);
        seedOrders(3_000);
        MappedTables tables = orders();
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.ASYNC).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        mirror.start();
        closeables.add(mirror);
        BackfillRunner runner = runner(smallChunks(), tables);
        JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
        TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source.dataSource()));
        // Writers sharing gaps of the key space deadlock each other under InnoDB's REPEATABLE READ gap locks
        // (update-nothing then insert); that is the application's own contention, so they use READ COMMITTED.
        transactions.setIsolationLevel(TransactionTemplate.ISOLATION_READ_COMMITTED);
        String insert = "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (?, 1, 'NEW', 1, NULL, ?)";

        ExecutorService writers = Executors.newFixedThreadPool(8);
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        List<Future<?>> futures = new ArrayList<>();
        runner.start("t_order");
        for (int w = 0; w < 8; w++) {
            int writer = w;
            futures.add(writers.submit(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (System.nanoTime() < end) {
                    // Each writer owns the ids congruent to it mod 8, spread over the whole key range.
                    long id = writer + 8L * random.nextInt(450);
                    Timestamp now = new Timestamp(System.currentTimeMillis());
                    try {
                        transactions.executeWithoutResult(status -> {
                            int choice = random.nextInt(3);
                            if (choice == 0) {
                                jdbc.update("DELETE FROM t_order WHERE id = ?", id);
                            } else if (jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?",
                                    "W" + random.nextInt(100), now, id) == 0) {
                                jdbc.update(insert, id, now);
                            }
                            mirror.recorder().record("t_order", id);
                        });
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (Future<?> future : futures) {
            future.get(60, TimeUnit.SECONDS);
        }
        writers.shutdown();
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).isTrue();

        assertThat(failures).isEmpty();
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }

    /**
     * DESIGN's famous race, forced: the backfill reads row X, the application deletes X and its mirror
     * deletes nothing (X is not in the target yet), then the backfill writes the stale X. With the
     * chunk's share lock the delete waits for the chunk to commit, and its mirror then deletes X.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void deleteDuringBackfillChunk_isNotResurrected(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runDeleteRace(sourceStore, targetStore, true)).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withoutTheChunkLock_theDeletedRowIsResurrected(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runDeleteRace(sourceStore, targetStore, false)).singleElement().asString()
                .contains("extra in target").contains("id=7");
    }

    private List<String> runDeleteRace(Store sourceStore, Store targetStore, boolean lock) throws Exception {
        databases(sourceStore, targetStore);
        seedOrders(20);
        MappedTables tables = orders();
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        mirror.start();
        closeables.add(mirror);
        BackfillRunner runner = runner(BackfillConfig.builder().rangesPerTable(1).chunkSize(100), tables);
        runner.lockSourceRowsForTesting(lock);
        CountDownLatch chunkRead = new CountDownLatch(1);
        CountDownLatch mayWrite = new CountDownLatch(1);
        runner.hookForTesting((table, range, rows) -> {
            if (rows.stream().map(Row::columns).findAny().isPresent()) {
                chunkRead.countDown();
                awaitQuietly(mayWrite);
            }
        });
        runner.start("t_order");
        assertThat(chunkRead.await(10, TimeUnit.SECONDS)).isTrue();

        JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
        TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source.dataSource()));
        CompletableFuture<Void> delete = CompletableFuture.runAsync(() -> transactions.executeWithoutResult(status -> {
            jdbc.update("DELETE FROM t_order WHERE id = 7");
            mirror.recorder().record("t_order", 7);
        }));
        boolean deleteWaited;
        try {
            delete.get(600, TimeUnit.MILLISECONDS);
            deleteWaited = false;
        } catch (java.util.concurrent.TimeoutException e) {
            deleteWaited = true;
        }
        mayWrite.countDown();
        delete.get(10, TimeUnit.SECONDS);
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(10))).isTrue();
        assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
        assertThat(deleteWaited).as("the delete waited for the chunk's lock").isEqualTo(lock);
        return OrderTable.differences(source, "t_order", target, "t_order", "id");
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
