package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillPlan;
import io.dualwrite.backfill.BackfillPlanRunner;
import io.dualwrite.backfill.PlanProgress;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/** A backfill plan's reconcile gate, run by the real reconciler restricted to each stage's rows. */
class PlanReconcileGateTest {

    private static final LocalDateTime EPOCH = LocalDateTime.of(2026, 1, 1, 0, 0);
    private static final int ORDERS = 600;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestDatabase source;
    private TestDatabase target;

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @AfterEach
    void tearDown() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private MappedTables databases(Store sourceStore, Store targetStore) throws Exception {
        source = TestDatabase.create(sourceStore, "gate_src");
        closeables.add(source);
        target = TestDatabase.create(targetStore, "gate_tgt");
        closeables.add(target);
        for (TestDatabase db : List.of(source, target)) {
            String type = OrderTable.timestampType(db.store());
            db.execute("CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, region VARCHAR(16),"
                    + " amount DECIMAL(12,2), gmt_create " + type + " NOT NULL, gmt_modified " + type + " NOT NULL)");
        }
        List<Object[]> orders = new ArrayList<>();
        for (long id = 1; id <= ORDERS; id++) {
            Timestamp created = Timestamp.valueOf(EPOCH.plusHours(id));
            orders.add(new Object[] {id, id % 10 == 0 ? "test" : "eu", BigDecimal.valueOf(id, 2), created, created});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, region, amount, gmt_create,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?)", orders);
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
    }

    private Reconciler reconciler(MappedTables tables) {
        return Reconciler.create(ReconcileConfig.builder().chunkSize(50).createTables(true).build(), tables,
                source.dataSource(), target.dataSource(), event -> { });
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    private static PlanProgress progress(BackfillPlanRunner runner) {
        try {
            return runner.progress("gated");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void reconcileGate_failsOnAnInjectedDifference_thePlanStopsThereWithTheReason_andARestartPasses(
            Store sourceStore, Store targetStore) throws Exception {
        MappedTables tables = databases(sourceStore, targetStore);
        Reconciler reconciler = reconciler(tables);
        BackfillPlanRunner.StageCheck reconcile = reconciler.asStageCheck();
        AtomicBoolean inject = new AtomicBoolean(true);
        // Between the first stage's copy and its gate, a target row of that stage goes wrong.
        BackfillPlanRunner.StageCheck check = (plan, stage, table, condition, parameters) -> {
            if (inject.getAndSet(false)) {
                target.execute("UPDATE t_order SET amount = 999.99 WHERE id = 20");
            }
            return reconcile.check(plan, stage, table, condition, parameters);
        };
        BackfillPlan plan = BackfillPlan.builder("gated").tables("t_order")
                .stage(BackfillPlan.Stage.builder("test-region").where("region = ?", "test").reconcileGate(true)
                        .approvalGate(true).build())
                .stage(BackfillPlan.Stage.builder("rest").reconcileGate(true).build())
                .build();
        BackfillPlanRunner runner = BackfillPlanRunner.builder(tables, source.dataSource(), target.dataSource())
                .backfill(BackfillConfig.builder().chunkSize(100).createTables(true).build()).plans(List.of(plan))
                .check(check).pollInterval(Duration.ofMillis(50)).build();
        closeables.add(runner);
        runner.open();
        runner.start("gated");

        await("the gate to fail", () -> progress(runner).status() == BackfillPlan.Status.FAILED);
        PlanProgress failed = runner.progress("gated");
        PlanProgress.StageProgress first = failed.stages().get(0);
        assertThat(first.status()).isEqualTo(BackfillPlan.Status.FAILED);
        assertThat(first.reason()).hasValueSatisfying(reason -> assertThat(reason)
                .startsWith("the reconcile gate found differences: t_order: reconcile of t_order")
                .contains("1 different"));
        assertThat(first.gateResult()).hasValueSatisfying(result -> assertThat(result).startsWith("failed: "));
        assertThat(failed.stages().get(1).status()).as("the plan stops at the failed stage")
                .isEqualTo(BackfillPlan.Status.PENDING);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(ORDERS / 10L);
        assertThatThrownBy(() -> runner.approve("gated", "alice", "looks fine")).isInstanceOf(
                IllegalStateException.class).hasMessageContaining("is FAILED");
        assertThatThrownBy(() -> runner.resume("gated")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("restart it once the cause is fixed");

        // Restarting the stage copies its rows again, which mends the row; the gate passes, then waits for approval.
        runner.restart("gated", null);
        await("the gate to pass", () -> progress(runner).stages().get(0).gateResult().map(r -> r.startsWith("passed"))
                .orElse(false));
        assertThat(runner.progress("gated").stages().get(0).status()).isEqualTo(BackfillPlan.Status.GATED);
        runner.approve("gated", "alice", "reconciled clean after the restart");
        await("the plan done", () -> progress(runner).status() == BackfillPlan.Status.DONE);
        assertThat(runner.progress("gated").stages().get(1).gateResult()).hasValueSatisfying(result ->
                assertThat(result).startsWith("passed: t_order: reconcile of t_order: " + (ORDERS - ORDERS / 10)
                        + " rows compared, 0 missing in target, 0 extra in target, 0 different"));
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void runWhere_comparesOnlyTheConditionsRows(Store sourceStore, Store targetStore) throws Exception {
        MappedTables tables = databases(sourceStore, targetStore);
        JdbcTemplate jdbc = new JdbcTemplate(target.dataSource());
        // The target holds the test region's rows only, as after a plan's first stage.
        for (var row : source.queryForList("SELECT id, region, amount, gmt_create, gmt_modified FROM t_order"
                + " WHERE region = 'test'")) {
            jdbc.update("INSERT INTO t_order (id, region, amount, gmt_create, gmt_modified) VALUES (?, ?, ?, ?, ?)",
                    row.values().toArray());
        }
        Reconciler reconciler = reconciler(tables);
        ReconcileReport stage = reconciler.runWhere("t_order", "region = ?", List.of("test"));
        assertThat(stage.compared()).isEqualTo(ORDERS / 10);
        assertThat(stage.differences()).as(stage.toString()).isZero();

        target.execute("UPDATE t_order SET amount = 1.23 WHERE id = 30");
        ReconcileReport different = reconciler.runWhere("t_order", "region = ?", List.of("test"));
        assertThat(different.different()).as(different.toString()).isEqualTo(1);
        assertThat(different.missingInTarget()).isZero();

        ReconcileReport whole = reconciler.run("t_order");
        assertThat(whole.missingInTarget()).as("negative control: the whole table lacks the other rows")
                .isEqualTo(ORDERS - ORDERS / 10);
        assertThatThrownBy(() -> reconciler.runWhere("t_order", "1 = 1; DROP TABLE t_order", List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("without ';'");
    }
}
