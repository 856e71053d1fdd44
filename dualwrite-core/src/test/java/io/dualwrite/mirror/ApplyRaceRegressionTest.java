package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The concrete interleavings the apply's locking prevents, forced step by step. Each scenario runs
 * twice: with the protection (the stores converge) and with it switched off (they diverge — the proof
 * that the scenario really exercises the race, and that the protection is what prevents it).
 */
class ApplyRaceRegressionTest {

    private static final RowKey X = RowKey.of(1L);

    /**
     * Applier A reads X at version 1 and stalls before writing the target. The application updates X
     * to version 2 with the <em>same</em> gmt_modified (a tie the version guard cannot order), another
     * instance's applier B applies it, then A wakes up and writes version 1 over it.
     *
     * <p>With the share lock, the application's update waits until A has written, so B writes last.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void staleApplyAfterTiedUpdate_neverOverwritesTheNewerRow(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runTiedUpdateRace(sourceStore, targetStore, true)).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withoutTheSourceLock_theTiedUpdateIsLost(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runTiedUpdateRace(sourceStore, targetStore, false)).singleElement().asString()
                .contains("differs").contains("status=V1");
    }

    /**
     * Applier A reads X as deleted and stalls. The application re-inserts X, another applier B copies
     * it to the target, then A wakes up and deletes X from the target. PostgreSQL and H2 lock nothing
     * for an absent row, and our READ COMMITTED apply takes no gap lock on MariaDB either.
     *
     * <p>With the re-check, A sees X is back after its delete, rolls the delete back and retries.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void staleDeleteAfterReinsert_neverRemovesTheNewRow(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runReinsertRace(sourceStore, targetStore, true)).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withoutTheRecheck_theReinsertedRowIsDeleted(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runReinsertRace(sourceStore, targetStore, false)).singleElement().asString()
                .contains("missing in target");
    }

    /**
     * The model's finding (model/README.md): the version is the application's, taken when it likes —
     * PostgreSQL's {@code now()} is its transaction's start — so a later commit can carry an older
     * {@code gmt_modified}. The source lock already applies changes in commit order; a version guard
     * would refuse the later commit and leave the stores apart for good.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void laterCommitWithAnOlderVersion_stillReachesTheTarget(Store sourceStore, Store targetStore) throws Exception {
        assertThat(runBackwardsVersion(sourceStore, targetStore, false)).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withTheVersionGuard_aLaterCommitWithAnOlderVersionIsRefused(Store sourceStore, Store targetStore)
            throws Exception {
        assertThat(runBackwardsVersion(sourceStore, targetStore, true)).singleElement().asString()
                .contains("differs").contains("status=C");
    }

    private static List<String> runBackwardsVersion(Store sourceStore, Store targetStore, boolean guard)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "clock_src");
                TestDatabase target = TestDatabase.create(targetStore, "clock_tgt")) {
            MappedTable table = setUp(source, target);
            JdbcTemplate app = new JdbcTemplate(source.dataSource());
            MirrorApplier applier = new MirrorApplier(source.dataSource(), target.dataSource(), guard);
            app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 7, 'A', ?)",
                    Timestamp.valueOf("2026-01-01 10:00:05"));
            apply(applier, table);
            app.update("UPDATE t_order SET status = 'B', gmt_modified = ? WHERE id = 1",
                    Timestamp.valueOf("2026-01-01 10:00:09"));
            apply(applier, table);
            // Commits after B, but its transaction started earlier: its now() is older.
            app.update("UPDATE t_order SET status = 'C', gmt_modified = ? WHERE id = 1",
                    Timestamp.valueOf("2026-01-01 10:00:07"));
            apply(applier, table);
            return OrderTable.differences(source, "t_order", target, "t_order", "id");
        }
    }

    private static List<String> runTiedUpdateRace(Store sourceStore, Store targetStore, boolean lock)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "race_src");
                TestDatabase target = TestDatabase.create(targetStore, "race_tgt")) {
            MappedTable table = setUp(source, target);
            Timestamp tie = Timestamp.valueOf("2026-01-01 10:00:00.123");
            JdbcTemplate app = new JdbcTemplate(source.dataSource());
            app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 7, 'V1', ?)", tie);

            MirrorApplier a = new MirrorApplier(source.dataSource(), target.dataSource());
            a.lockPrimaryRowsForTesting(lock);
            MirrorApplier b = new MirrorApplier(source.dataSource(), target.dataSource());
            b.lockPrimaryRowsForTesting(lock);
            CountDownLatch aHasRead = new CountDownLatch(1);
            CountDownLatch aMayWrite = new CountDownLatch(1);
            a.hookForTesting((t, keys) -> {
                aHasRead.countDown();
                await(aMayWrite);
            });

            CompletableFuture<MirrorApplier.Outcome> applyA = CompletableFuture.supplyAsync(() -> apply(a, table));
            await(aHasRead);
            CompletableFuture<Integer> update = CompletableFuture.supplyAsync(() -> app.update(
                    "UPDATE t_order SET status = 'V2', gmt_modified = ? WHERE id = 1", tie));
            boolean updateWaited = !completesWithin(update, 700);
            if (!updateWaited) {
                apply(b, table);
            }
            aMayWrite.countDown();
            assertThat(applyA.get(10, TimeUnit.SECONDS).applied()).containsExactly(X);
            update.get(10, TimeUnit.SECONDS);
            if (updateWaited) {
                // The update could only commit after A released its lock; B then applies its state.
                apply(b, table);
            }
            assertThat(updateWaited).as("the application's update waited for the apply's share lock").isEqualTo(lock);
            return OrderTable.differences(source, "t_order", target, "t_order", "id");
        }
    }

    private static List<String> runReinsertRace(Store sourceStore, Store targetStore, boolean recheck)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "race_src");
                TestDatabase target = TestDatabase.create(targetStore, "race_tgt")) {
            MappedTable table = setUp(source, target);
            JdbcTemplate app = new JdbcTemplate(source.dataSource());
            Timestamp t1 = Timestamp.valueOf("2026-01-01 10:00:00.000");
            Timestamp t2 = Timestamp.valueOf("2026-01-01 10:00:01.000");
            app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 7, 'OLD', ?)", t1);
            apply(new MirrorApplier(source.dataSource(), target.dataSource()), table);
            app.update("DELETE FROM t_order WHERE id = 1");

            MirrorApplier a = new MirrorApplier(source.dataSource(), target.dataSource());
            a.recheckAbsentForTesting(recheck);
            MirrorApplier b = new MirrorApplier(source.dataSource(), target.dataSource());
            CountDownLatch aHasRead = new CountDownLatch(1);
            CountDownLatch aMayWrite = new CountDownLatch(1);
            a.hookForTesting((t, keys) -> {
                aHasRead.countDown();
                await(aMayWrite);
            });
            CompletableFuture<MirrorApplier.Outcome> applyA = CompletableFuture.supplyAsync(() -> apply(a, table));
            await(aHasRead);
            app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 7, 'REBORN', ?)", t2);
            assertThat(apply(b, table).applied()).containsExactly(X);
            aMayWrite.countDown();
            MirrorApplier.Outcome outcomeA = applyA.get(10, TimeUnit.SECONDS);
            if (recheck) {
                assertThat(outcomeA.deferred()).as("A saw the row come back and gave way").containsExactly(X);
                // The lanes would retry A's key a moment later; its retry reads the current row.
                a.hookForTesting(null);
                apply(a, table);
            }
            return OrderTable.differences(source, "t_order", target, "t_order", "id");
        }
    }

    private static MappedTable setUp(TestDatabase source, TestDatabase target) throws Exception {
        source.execute(OrderTable.ddl(source.store(), "t_order"));
        target.execute(OrderTable.ddl(target.store(), "t_order"));
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false).get("t_order");
    }

    private static MirrorApplier.Outcome apply(MirrorApplier applier, MappedTable table) {
        try {
            return applier.apply(table, List.of(X));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertThat(latch.await(10, TimeUnit.SECONDS)).as("latch released").isTrue();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static boolean completesWithin(CompletableFuture<?> future, long millis) {
        try {
            future.get(millis, TimeUnit.MILLISECONDS);
            return true;
        } catch (java.util.concurrent.TimeoutException e) {
            return false;
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
