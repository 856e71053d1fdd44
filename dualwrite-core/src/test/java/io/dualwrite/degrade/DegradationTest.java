package io.dualwrite.degrade;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.routing.ControlState;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Degradation end to end on real pairs: marks skip and count while writers write, the rest converges,
 * purge deletes exactly the marked rows (resuming after an interruption, refusing target-routed rows),
 * and unmark's re-copy brings the whole table back to zero differences.
 */
class DegradationTest {

    private static final int ROWS = 200;
    private static final Duration REFRESH = Duration.ofMillis(100);
    private static final Duration STALE = Duration.ofMillis(400);

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void markedRangeAndUser_skippedWhileWritersWrite_restConverges_unmarkRecopiesEverything(Store sourceStore,
            Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "degrade_src");
                TestDatabase target = TestDatabase.create(targetStore, "degrade_tgt")) {
            createAndSeed(source, sourceStore, target, targetStore);
            MappedTables tables = tables(source, target);
            List<DualWriteEvent.ChangesSkipped> skippedEvents = java.util.Collections.synchronizedList(new ArrayList<>());
            EventPublisher events = new EventPublisher().subscribe(event -> {
                if (event instanceof DualWriteEvent.ChangesSkipped skipped) {
                    skippedEvents.add(skipped);
                }
            });
            MirrorConfig config = MirrorConfig.builder().lockRetryDelay(Duration.ofMillis(5)).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(), events);
                    Degradation degradation = degradation(source, target, tables, events)) {
                mirror.start();
                mirror.degradation(degradation);
                degradation.start();
                DegradeMark range = degradation.mark(DegradeMark.range("t_order", RowKey.of(50), RowKey.of(100)),
                        "alice", "rows 50..99 hold a bad import");
                DegradeMark user = degradation.mark(DegradeMark.routingValue("t_order", 3L), "bob", "user 3 complained");

                AtomicBoolean stop = new AtomicBoolean();
                AtomicReference<Throwable> failure = new AtomicReference<>();
                List<Thread> writers = new ArrayList<>();
                for (int w = 0; w < 2; w++) {
                    Thread writer = new Thread(() -> write(source, mirror, stop, failure));
                    writer.start();
                    writers.add(writer);
                }
                Thread.sleep(1500);
                stop.set(true);
                for (Thread writer : writers) {
                    writer.join();
                }
                assertThat(failure.get()).isNull();
                // One more change each, known to land in a mark: the skip is seen, not only likely.
                replace(source, 60, "MARKED-RANGE");
                mirror.recorder().record("t_order", 60L);
                replace(source, 13, "MARKED-USER");
                mirror.recorder().record("t_order", 13L);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();

                List<String> differences = OrderTable.differences(source, "t_order", target, "t_order", "id");
                assertThat(differences).as("the marked rows were not mirrored")
                        .anyMatch(line -> line.contains("MARKED-RANGE")).anyMatch(line -> line.contains("MARKED-USER"));
                assertThat(differences).as("every difference is a marked row").allMatch(DegradationTest::marked);
                assertThat(degradation.skipped().get("t_order")).isPositive();
                assertThat(skippedEvents).isNotEmpty().allMatch(e -> e.by().equals("mirror"));

                Degradation.Recopied first = degradation.unmark(range.id(), "alice", "import fixed",
                        (table, keys) -> mirror.repair(table, keys, Duration.ofSeconds(10)));
                Degradation.Recopied second = degradation.unmark(user.id(), "bob", "user 3 fixed",
                        (table, keys) -> mirror.repair(table, keys, Duration.ofSeconds(10)));
                assertThat(first.notApplied()).isEmpty();
                assertThat(second.notApplied()).isEmpty();
                assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                        .as("unmark and re-copy leave the whole table equal").isEmpty();
                assertThat(degradation.marks()).isEmpty();
                assertThat(degradation.history()).extracting(DegradeMark::state)
                        .containsOnly(DegradeMark.State.UNMARKED);

                // Unmarked rows are mirrored again.
                replace(source, 61, "AFTER-UNMARK");
                mirror.recorder().record("t_order", 61L);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
                assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 61", String.class))
                        .isEqualTo("AFTER-UNMARK");
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void purge_deletesExactlyTheMarkedRows_andResumesAfterAnInterruption(Store sourceStore, Store targetStore)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "purge_src");
                TestDatabase target = TestDatabase.create(targetStore, "purge_tgt")) {
            createAndSeed(source, sourceStore, target, targetStore);
            MappedTables tables = tables(source, target);
            long markId;
            try (Degradation first = Degradation.builder(source.dataSource(), target.dataSource(), tables)
                    .createTable(true).refreshInterval(REFRESH).staleAfter(STALE).batchSize(10).rowsPerSecond(50)
                    .build()) {
                markId = first.mark(DegradeMark.range("t_order", RowKey.of(100), RowKey.of(150)), "carol",
                        "purge test").id();
                AtomicReference<Throwable> outcome = new AtomicReference<>();
                Thread purger = new Thread(() -> {
                    try {
                        first.purge(markId, "carol", "free space", null);
                    } catch (Throwable e) {
                        outcome.set(e);
                    }
                });
                purger.start();
                Thread.sleep(400);
                purger.interrupt();
                purger.join();
                assertThat(outcome.get()).isInstanceOf(InterruptedException.class);
            }
            long left = target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id >= 100 AND id < 150", Long.class);
            assertThat(left).as("interrupted half-way").isBetween(1L, 49L);

            // A new instance (a restart) goes on from the checkpoint.
            try (Degradation second = degradation(source, target, tables, new EventPublisher())) {
                Degradation.Purged purged = second.purge(markId, "carol", "finish", null);
                assertThat(purged.finished()).isTrue();
                assertThat(purged.purged()).isEqualTo(left);
                assertThat(second.history()).singleElement().satisfies(mark -> {
                    assertThat(mark.purgedRows()).isEqualTo(50);
                    assertThat(mark.purge()).isEqualTo(DegradeMark.PurgeState.DONE);
                });
            }
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id >= 100 AND id < 150", Long.class))
                    .isZero();
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(ROWS - 50L);
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                    .allMatch(line -> line.startsWith("missing in target") && inRange(line, 100, 150))
                    .hasSize(50);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void backfill_leavesMarkedRowsOut_andCountsThem(Store sourceStore, Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "degrade_bf_src");
                TestDatabase target = TestDatabase.create(targetStore, "degrade_bf_tgt")) {
            createAndSeed(source, sourceStore, target, targetStore);
            target.execute("DELETE FROM t_order");
            MappedTables tables = tables(source, target);
            List<DualWriteEvent.ChangesSkipped> skipped = java.util.Collections.synchronizedList(new ArrayList<>());
            EventPublisher events = new EventPublisher().subscribe(event -> {
                if (event instanceof DualWriteEvent.ChangesSkipped each) {
                    skipped.add(each);
                }
            });
            try (Degradation degradation = degradation(source, target, tables, events);
                    io.dualwrite.backfill.BackfillRunner runner = io.dualwrite.backfill.BackfillRunner.create(
                            io.dualwrite.backfill.BackfillConfig.builder().chunkSize(30).chunkSizeBounds(10, 60)
                                    .createTables(true).build(),
                            tables, source.dataSource(), target.dataSource(), new EventPublisher())) {
                degradation.start();
                degradation.mark(DegradeMark.range("t_order", RowKey.of(100), RowKey.of(120)), "fay", "bad rows");
                degradation.mark(DegradeMark.routingValue("t_order", 7), "fay", "user 7");
                runner.degradation(degradation);
                runner.start("t_order");
                assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            }
            // 20 rows of the range (2 of them user 7's) and 20 rows of user 7: 38 rows left out.
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(ROWS - 38L);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE user_id = 7 OR (id >= 100 AND id < 120)",
                    Long.class)).isZero();
            assertThat(skipped.stream().mapToInt(DualWriteEvent.ChangesSkipped::keys).sum()).isEqualTo(38);
            assertThat(skipped).allMatch(e -> e.by().equals("backfill"));
        }
    }

    @ParameterizedTest(name = "wait before the re-copy: {0}")
    @org.junit.jupiter.params.provider.ValueSource(booleans = {true, false})
    void unmark_waitsUntilNoInstanceCanStillSkip_withoutTheWaitAStaleInstanceLosesAChange(boolean wait)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "degrade_race_src");
                TestDatabase target = TestDatabase.create(Store.H2, "degrade_race_tgt")) {
            createAndSeed(source, Store.H2, target, Store.H2);
            MappedTables tables = tables(source, target);
            Duration stale = Duration.ofMillis(1500);
            // Two instances sharing the marks table; B does not refresh (a slow poll) within the test.
            try (Degradation a = Degradation.builder(source.dataSource(), target.dataSource(), tables).createTable(true)
                    .refreshInterval(Duration.ofMillis(100)).staleAfter(stale).build();
                    Degradation b = Degradation.builder(source.dataSource(), target.dataSource(), tables)
                            .refreshInterval(Duration.ofMillis(100)).staleAfter(stale).build();
                    Mirror mirrorA = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                            target.dataSource(), new EventPublisher());
                    Mirror mirrorB = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                            target.dataSource(), new EventPublisher())) {
                mirrorA.start();
                mirrorB.start();
                mirrorA.degradation(a);
                mirrorB.degradation(b);
                DegradeMark mark = a.mark(DegradeMark.key("t_order", RowKey.of(7)), "gus", "race");
                b.refresh();
                a.waitBeforeRecopyForTesting(wait);

                a.unmark(mark.id(), "gus", "fixed", (table, keys) -> mirrorA.repair(table, keys, Duration.ofSeconds(5)));
                replace(source, 7, "AFTER-RECOPY");
                mirrorB.recorder().record("t_order", 7L);
                assertThat(mirrorB.awaitDrained(Duration.ofSeconds(10))).isTrue();

                String inTarget = target.queryForObject("SELECT status FROM t_order WHERE id = 7", String.class);
                if (wait) {
                    assertThat(inTarget).as("B's view went stale before the re-copy: B applies").isEqualTo("AFTER-RECOPY");
                } else {
                    assertThat(inTarget).as("negative control: B still skips after the re-copy").isEqualTo("NEW");
                }
            }
        }
    }

    @Test
    void purge_inRamp_refusesTargetRoutedRows_andInTargetOnlyRefusesAll() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "purge_ramp_src");
                TestDatabase target = TestDatabase.create(Store.H2, "purge_ramp_tgt")) {
            createAndSeed(source, Store.H2, target, Store.H2);
            MappedTables tables = tables(source, target);
            try (Degradation degradation = degradation(source, target, tables, new EventPublisher())) {
                DegradeMark mark = degradation.mark(DegradeMark.range("t_order", RowKey.of(1), RowKey.of(41)), "dan",
                        "ramp purge");
                RoutingRules onlyUser5 = RoutingRules.initial().withPhase(Phase.RAMP).withPercent(0)
                        .withLists(List.of("5"), List.of());
                ControlState ramp = ControlState.initial(onlyUser5);
                ControlState targetOnly = ControlState.initial(RoutingRules.initial().withPhase(Phase.TARGET_ONLY));

                assertThatThrownBy(() -> degradation.purge(mark.id(), "dan", "try", () -> targetOnly))
                        .isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("cannot be purged in phase TARGET_ONLY");
                assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo((long) ROWS);

                Degradation.Purged purged = degradation.purge(mark.id(), "dan", "ramp", () -> ramp);
                assertThat(purged.refused()).isEqualTo(4);
                assertThat(purged.purged()).isEqualTo(36);
                assertThat(target.queryForList("SELECT id FROM t_order WHERE id < 41 ORDER BY id"))
                        .extracting(row -> ((Number) row.values().iterator().next()).longValue())
                        .as("user 5's rows are the target's own in RAMP: left")
                        .containsExactly(5L, 15L, 25L, 35L);
            }
        }
    }

    @Test
    void purge_afterUnmark_isRefused_andMarkValidatesItsInput() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "degrade_bad_src");
                TestDatabase target = TestDatabase.create(Store.H2, "degrade_bad_tgt")) {
            createAndSeed(source, Store.H2, target, Store.H2);
            MappedTables tables = tables(source, target);
            MappedTables noRouting = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            try (Degradation degradation = degradation(source, target, tables, new EventPublisher());
                    Degradation plain = degradation(source, target, noRouting, new EventPublisher())) {
                assertThatThrownBy(() -> degradation.mark(DegradeMark.key("t_user", RowKey.of(1)), "eve", "x"))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("table 't_user' is not mapped");
                assertThatThrownBy(() -> degradation.mark(DegradeMark.key("t_order", RowKey.of(1)), " ", "x"))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("actor");
                assertThat(degradation.mark(DegradeMark.range("t_order", RowKey.of("50"), RowKey.of("100")), "eve",
                        "keys given as text are taken in the column's form: 50 < 100").from()).isEqualTo(RowKey.of(50L));
                assertThatThrownBy(() -> degradation.mark(DegradeMark.key("t_order", RowKey.of(1, 2)), "eve", "x"))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("key of 1 column(s)");
                assertThatThrownBy(() -> plain.mark(DegradeMark.routingValue("t_order", 7), "eve", "x"))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("dualwrite.tables.t_order.routing-column");
                assertThatThrownBy(() -> degradation.mark(DegradeMark.range("t_order", RowKey.of(5), RowKey.of(5)),
                        "eve", "x"))
                        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("empty key range");

                DegradeMark mark = degradation.mark(DegradeMark.key("t_order", RowKey.of(7)), "eve", "one row");
                degradation.unmark(mark.id(), "eve", "done", (table, keys) -> java.util.Set.of());
                assertThatThrownBy(() -> degradation.purge(mark.id(), "eve", "late", null))
                        .isInstanceOf(IllegalStateException.class).hasMessageContaining("only a mark in force");
                assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 7", Long.class)).isOne();
            }
        }
    }

    @Test
    void staleView_skipsNothing() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "degrade_stale_src");
                TestDatabase target = TestDatabase.create(Store.H2, "degrade_stale_tgt")) {
            createAndSeed(source, Store.H2, target, Store.H2);
            MappedTables tables = tables(source, target);
            try (Degradation degradation = degradation(source, target, tables, new EventPublisher())) {
                degradation.mark(DegradeMark.key("t_order", RowKey.of(7)), "eve", "one row");
                assertThat(degradation.ignores("t_order", RowKey.of(7L), null, null)).isTrue();
                // Not started: nothing reloads the marks, so the view goes stale and lets every change through.
                Thread.sleep(STALE.toMillis() + 50);
                assertThat(degradation.ignores("t_order", RowKey.of(7L), null, null)).isFalse();
                degradation.refresh();
                assertThat(degradation.ignores("t_order", RowKey.of(7L), null, null)).isTrue();
            }
        }
    }

    static Degradation degradation(TestDatabase source, TestDatabase target, MappedTables tables, EventPublisher events)
            throws Exception {
        return Degradation.builder(source.dataSource(), target.dataSource(), tables).createTable(true)
                .refreshInterval(REFRESH).staleAfter(STALE).batchSize(25).rowsPerSecond(100_000).events(events).build();
    }

    static MappedTables tables(TestDatabase source, TestDatabase target) throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id").build()),
                source.dataSource(), target.dataSource(), false);
    }

    /** Both stores hold rows 1..ROWS, user id = id mod 10. */
    static void createAndSeed(TestDatabase source, Store sourceStore, TestDatabase target, Store targetStore) {
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        StringBuilder values = new StringBuilder();
        for (int id = 1; id <= ROWS; id++) {
            values.append(id == 1 ? "" : ", ").append("(").append(id).append(", ").append(id % 10)
                    .append(", 'NEW', 1.00, 'seed', TIMESTAMP '2025-03-01 10:00:00')");
        }
        String insert = "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES " + values;
        source.execute(insert);
        target.execute(insert);
    }

    private static void write(TestDatabase source, Mirror mirror, AtomicBoolean stop, AtomicReference<Throwable> failure) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        AtomicLong n = new AtomicLong();
        try {
            while (!stop.get()) {
                long id = 1 + random.nextInt(ROWS + 40);
                int action = random.nextInt(10);
                try {
                    if (action == 0) {
                        source.execute("DELETE FROM t_order WHERE id = " + id);
                    } else if (id > ROWS || action == 1) {
                        source.execute("DELETE FROM t_order WHERE id = " + id);
                        source.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES ("
                                + id + ", " + (id % 10) + ", 'INS" + n.incrementAndGet() + "', 2.00, 'w', TIMESTAMP '"
                                + new Timestamp(System.currentTimeMillis()) + "')");
                    } else {
                        update(source, id, "UPD" + n.incrementAndGet());
                    }
                } catch (RuntimeException raceWithTheOtherWriter) {
                    // Both writers inserted one id: the change that won is recorded all the same.
                }
                mirror.recorder().record("t_order", id);
            }
        } catch (Throwable e) {
            failure.set(e);
        }
    }

    /** Writes the row whatever the writers left of it. */
    private static void replace(TestDatabase source, long id, String status) {
        source.execute("DELETE FROM t_order WHERE id = " + id);
        source.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (" + id + ", "
                + (id % 10) + ", '" + status + "', 3.00, 'final', TIMESTAMP '" + new Timestamp(System.currentTimeMillis())
                + "')");
    }

    private static void update(TestDatabase source, long id, String status) {
        source.execute("UPDATE t_order SET status = '" + status + "', gmt_modified = TIMESTAMP '"
                + new Timestamp(System.currentTimeMillis()) + "' WHERE id = " + id);
    }

    /** Whether a line of {@link OrderTable#differences} is about a row in 50..99 or of user 3. */
    private static boolean marked(String line) {
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("\\bid=(\\d+)", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(line);
        java.util.regex.Matcher user = java.util.regex.Pattern.compile("\\buser_id=(\\d+)", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(line);
        if (!id.find() || !user.find()) {
            return false;
        }
        long key = Long.parseLong(id.group(1));
        return (key >= 50 && key < 100) || Long.parseLong(user.group(1)) == 3;
    }

    private static boolean inRange(String line, long from, long to) {
        java.util.regex.Matcher id = java.util.regex.Pattern.compile("\\bid=(\\d+)", java.util.regex.Pattern.CASE_INSENSITIVE).matcher(line);
        return id.find() && Long.parseLong(id.group(1)) >= from && Long.parseLong(id.group(1)) < to;
    }
}
