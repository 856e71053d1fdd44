package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/** Control and bad input: start twice, pause and resume, filters, the breaker and failed rows. */
class BackfillControlTest {

    private TestDatabase source;
    private TestDatabase target;
    private MappedTables tables;
    private final List<BackfillRunner> runners = new ArrayList<>();
    private final List<DualWriteEvent> events = new CopyOnWriteArrayList<>();

    @BeforeEach
    void setUp() throws Exception {
        source = TestDatabase.create(Store.H2, "bfc_src");
        target = TestDatabase.create(Store.H2, "bfc_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
        List<Object[]> rows = new ArrayList<>();
        for (int id = 1; id <= 1_000; id++) {
            rows.add(new Object[] {(long) id, id % 10 == 0 ? "BAD-" + id : "OK", Timestamp.valueOf(
                    id <= 500 ? "2026-11-20 08:00:00" : "2026-11-21 08:00:00")});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, user_id, status, gmt_modified)"
                + " VALUES (?, 1, ?, ?)", rows);
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
    }

    @AfterEach
    void tearDown() {
        runners.forEach(BackfillRunner::close);
        source.close();
        target.close();
    }

    private BackfillRunner runner(BackfillConfig.Builder config) {
        BackfillRunner runner = BackfillRunner.create(config.build(), tables, source.dataSource(),
                target.dataSource(), new EventPublisher().subscribe(events::add));
        runners.add(runner);
        return runner;
    }

    @Test
    void start_withoutLibraryTables_failsWithTheDdlToRun() {
        BackfillRunner runner = runner(BackfillConfig.builder());
        assertThatThrownBy(() -> runner.start("t_order")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CREATE TABLE dualwrite_checkpoint")
                .hasMessageContaining("CREATE TABLE dualwrite_backfill_failure")
                .hasMessageContaining("dualwrite.schema.create=true");
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();
    }

    @Test
    void start_unknownTable_namesIt() {
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true));
        assertThatThrownBy(() -> runner.start("t_ordr")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("table 't_ordr' is not mapped");
    }

    @Test
    void start_filterOnUnknownColumn_namesTheSettingAndStartsNothing() throws Exception {
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true)
                .timeWindow("t_order", "gmt_create", Timestamp.valueOf("2026-11-21 00:00:00"), null));
        assertThatThrownBy(() -> runner.start("t_order")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.backfill.tables.t_order.time-window: column 'gmt_create' does not exist in"
                        + " source table 't_order'");
        assertThat(runner.progress("t_order").ranges()).isZero();
    }

    @Test
    void start_whileRunning_isRefused() throws Exception {
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true).chunkSize(50).chunkSizeBounds(50, 50));
        CountDownLatch release = new CountDownLatch(1);
        runner.hookForTesting((table, range, rows) -> awaitQuietly(release));
        runner.start("t_order");
        try {
            assertThatThrownBy(() -> runner.start("t_order")).isInstanceOf(IllegalStateException.class)
                    .hasMessage("the backfill of table 't_order' is already running in this runner; pause or cancel"
                            + " it first");
        } finally {
            release.countDown();
        }
    }

    /**
     * Rows inserted during the backfill are the mirror's (it runs in DUAL_WRITE): a backfill that chased
     * them would never end while inserts outpace it, which a throttled backfill on a busy table does.
     */
    @Test
    void rowsInsertedFasterThanItCopies_doNotKeepTheBackfillRunning() throws Exception {
        for (int ranges : new int[] {1, 4}) {
            BackfillRunner runner = runner(BackfillConfig.builder().createTables(true).chunkSize(50)
                    .chunkSizeBounds(50, 50).rangesPerTable(ranges));
            if (ranges > 1) {
                // A new job: the first one's checkpoint says DONE.
                target.execute("DELETE FROM t_order", "DELETE FROM dualwrite_checkpoint");
            }
            JdbcTemplate writer = new JdbcTemplate(source.dataSource());
            long[] next = {source.queryForObject("SELECT MAX(id) FROM t_order", Long.class) + 1};
            runner.hookForTesting((table, range, rows) -> {
                // Two chunks' worth of new orders for every chunk read.
                for (int i = 0; i < 100; i++) {
                    writer.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'NEW',"
                            + " CURRENT_TIMESTAMP)", next[0]++);
                }
            });
            long before = source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class);

            runner.start("t_order");

            assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(30)))
                    .as("backfill over " + ranges + " range(s) ended").isTrue();
            assertThat(runner.progress("t_order").rowsCopied()).as("rows copied, " + ranges + " range(s)")
                    .isEqualTo(before);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(before);
            runner.close();
        }
    }

    @Test
    void timeWindowAndWhere_copyOnlyMatchingRows() throws Exception {
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true)
                .timeWindow("t_order", "gmt_modified", Timestamp.valueOf("2026-11-21 00:00:00"),
                        Timestamp.valueOf("2026-11-22 00:00:00"))
                .where("t_order", "id <= ?", 900));
        runner.start("t_order");
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(400L);
        assertThat(target.queryForObject("SELECT MIN(id) FROM t_order", Long.class)).isEqualTo(501L);
        assertThat(target.queryForObject("SELECT MAX(id) FROM t_order", Long.class)).isEqualTo(900L);
    }

    @Test
    void pause_stopsEveryRunner_startIsRefused_resumeFinishes() throws Exception {
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true).rangesPerTable(2).chunkSize(50)
                .chunkSizeBounds(50, 50));
        CountDownLatch firstChunk = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        runner.hookForTesting((table, range, rows) -> {
            firstChunk.countDown();
            awaitQuietly(release);
        });
        runner.start("t_order");
        assertThat(firstChunk.await(10, TimeUnit.SECONDS)).isTrue();
        runner.pause("t_order", "maintenance window");
        release.countDown();
        runner.awaitCompletion("t_order", Duration.ofSeconds(10));

        BackfillProgress paused = runner.progress("t_order");
        assertThat(paused.status()).isEqualTo(BackfillStatus.PAUSED);
        assertThat(paused.lastError()).contains("maintenance window");
        assertThat(paused.rowsCopied()).isLessThan(1_000);
        assertThatThrownBy(() -> runner.start("t_order")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is paused (maintenance window); call resume(\"t_order\")");

        runner.hookForTesting(null);
        runner.resume("t_order");
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(events).anyMatch(e -> e instanceof DualWriteEvent.BackfillStateChanged s
                && s.status().equals("PAUSED") && s.reason().equals("maintenance window"));
    }

    @Test
    void cancel_thenStart_beginsAgain() throws Exception {
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true).chunkSize(50)
                .chunkSizeBounds(50, 50));
        CountDownLatch firstChunk = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        runner.hookForTesting((table, range, rows) -> {
            firstChunk.countDown();
            awaitQuietly(release);
        });
        runner.start("t_order");
        assertThat(firstChunk.await(10, TimeUnit.SECONDS)).isTrue();
        runner.cancel("t_order");
        release.countDown();
        runner.awaitCompletion("t_order", Duration.ofSeconds(10));
        assertThat(runner.progress("t_order").status()).isEqualTo(BackfillStatus.CANCELLED);

        runner.hookForTesting(null);
        runner.start("t_order");
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(runner.progress("t_order").rowsCopied()).isEqualTo(1_000);
    }

    @Test
    void failingRows_areRecordedAndSkipped_breakerPausesTheJob_retryCopiesThemOnceFixed() throws Exception {
        target.execute("ALTER TABLE t_order ADD CONSTRAINT no_bad CHECK (status NOT LIKE 'BAD-%')");
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true).rangesPerTable(1).chunkSize(100)
                .chunkSizeBounds(100, 100).errorBreaker(200, 0.05));
        runner.start("t_order");
        runner.awaitCompletion("t_order", Duration.ofSeconds(20));

        BackfillProgress progress = runner.progress("t_order");
        assertThat(progress.status()).as("10 of the first 100 rows failed").isEqualTo(BackfillStatus.PAUSED);
        assertThat(progress.lastError()).get().asString().contains("error breaker").contains("dualwrite_backfill_failure");
        assertThat(progress.failedRows()).isEqualTo(10);
        assertThat(target.queryForList("SELECT row_key FROM dualwrite_backfill_failure ORDER BY id"))
                .extracting(row -> row.get("row_key")).containsExactly("[10]", "[20]", "[30]", "[40]", "[50]",
                        "[60]", "[70]", "[80]", "[90]", "[100]");
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class))
                .as("the good rows of the chunk went on").isEqualTo(90L);

        target.execute("ALTER TABLE t_order DROP CONSTRAINT no_bad");
        assertThat(runner.retryFailedRows("t_order")).isEqualTo(10);
        assertThat(runner.progress("t_order").failedRows()).as("failed rows once retried").isZero();
        runner.resume("t_order");
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_backfill_failure", Long.class)).isZero();
    }

    @Test
    void hourlyLimit_throttlesTheRealRunner() throws Exception {
        MutableClock clock = new MutableClock(java.time.Instant.parse("2026-11-22T12:00:00Z"));
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true).rangesPerTable(1).chunkSize(100)
                .chunkSizeBounds(100, 100).clock(clock).zone(java.time.ZoneOffset.UTC).hourlyLimit(12, 100));
        CountDownLatch chunks = new CountDownLatch(3);
        runner.hookForTesting((table, range, rows) -> chunks.countDown());
        runner.start("t_order");
        // At 100 rows/s on a clock that does not move, the bucket allows one chunk, then the runner waits.
        assertThat(chunks.await(1_500, TimeUnit.MILLISECONDS)).isFalse();
        assertThat(chunks.getCount()).isEqualTo(1);
        clock.set(java.time.Instant.parse("2026-11-22T22:00:00Z"));
        runner.cancel("t_order");
    }

    @Test
    void highMirrorLag_holdsTheBackfillUntilTheMirrorCatchesUp() throws Exception {
        java.util.concurrent.atomic.AtomicReference<Duration> lag = new java.util.concurrent.atomic.AtomicReference<>(
                Duration.ofSeconds(5));
        BackfillRunner runner = runner(BackfillConfig.builder().createTables(true)
                .backOffOnMirrorLag(lag::get, Duration.ofSeconds(1)).backoffPause(Duration.ofMillis(50)));
        runner.start("t_order");
        Thread.sleep(400);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();
        lag.set(Duration.ofMillis(10));
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(1_000L);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
