package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Staged backfill plans on H2 and MariaDB -> PostgreSQL: each stage copies exactly its rows, in order, through
 * its own checkpoints; the approval gate holds the next stage; a crash mid-stage resumes that stage; a second
 * instance takes over; pause and resume; triggers.
 */
class BackfillPlanTest {

    /** The first order's creation time; order {@code id} was created {@code id} hours later. */
    private static final LocalDateTime EPOCH = LocalDateTime.of(2026, 1, 1, 0, 0);
    private static final int ORDERS = 1_000;

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
        source = TestDatabase.create(sourceStore, "plan_src");
        closeables.add(source);
        target = TestDatabase.create(targetStore, "plan_tgt");
        closeables.add(target);
        for (TestDatabase db : List.of(source, target)) {
            String type = OrderTable.timestampType(db.store());
            db.execute("CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, region VARCHAR(16),"
                    + " amount DECIMAL(12,2), gmt_create " + type + " NOT NULL, gmt_modified " + type + " NOT NULL)",
                    "CREATE TABLE t_item (id BIGINT NOT NULL PRIMARY KEY, order_id BIGINT NOT NULL,"
                    + " region VARCHAR(16), gmt_create " + type + " NOT NULL, gmt_modified " + type + " NOT NULL)");
        }
        List<Object[]> orders = new ArrayList<>();
        List<Object[]> items = new ArrayList<>();
        for (long id = 1; id <= ORDERS; id++) {
            Timestamp created = Timestamp.valueOf(EPOCH.plusHours(id));
            // Every tenth order is the test region's; a few have no region at all, which only the rest takes.
            String region = id % 10 == 0 ? "test" : id % 7 == 0 ? null : "eu";
            orders.add(new Object[] {id, region, BigDecimal.valueOf(id, 2), created, created});
            items.add(new Object[] {id, id, region, created, created});
        }
        JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
        jdbc.batchUpdate("INSERT INTO t_order (id, region, amount, gmt_create, gmt_modified) VALUES (?, ?, ?, ?, ?)",
                orders);
        jdbc.batchUpdate("INSERT INTO t_item (id, order_id, region, gmt_create, gmt_modified) VALUES (?, ?, ?, ?, ?)",
                items);
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build(),
                TableMapping.builder("t_item").build()), source.dataSource(), target.dataSource(), false);
    }

    /** The stage a source row belongs to, by the plan of {@link #threeStages}: 0 test region, 1 window, 2 rest. */
    private static int stageOf(Row row) {
        if ("test".equals(row.get("region"))) {
            return 0;
        }
        LocalDateTime created = ((Timestamp) toTimestamp(row.get("gmt_create"))).toLocalDateTime();
        return created.isBefore(EPOCH.plusDays(10)) ? 1 : 2;
    }

    private static Object toTimestamp(Object value) {
        if (value instanceof LocalDateTime local) {
            return Timestamp.valueOf(local);
        }
        if (value instanceof java.time.OffsetDateTime offset) {
            return Timestamp.valueOf(offset.toLocalDateTime());
        }
        return value;
    }

    /** Ids of orders in a stage, by the same rule as {@link #stageOf}. */
    private static Set<Long> idsOfStage(int stage) {
        Set<Long> ids = new TreeSet<>();
        for (long id = 1; id <= ORDERS; id++) {
            int of = id % 10 == 0 ? 0 : EPOCH.plusHours(id).isBefore(EPOCH.plusDays(10)) ? 1 : 2;
            if (of == stage) {
                ids.add(id);
            }
        }
        return ids;
    }

    private static BackfillPlan threeStages(boolean approveFirst) {
        return BackfillPlan.builder("rollout").tables("t_order", "t_item")
                .stage(BackfillPlan.Stage.builder("test-region").where("region = ?", "test").approvalGate(approveFirst)
                        .build())
                .stage(BackfillPlan.Stage.builder("oldest").timeWindow("gmt_create", null, EPOCH.plusDays(10))
                        .rowsPerSecond(5_000).build())
                .stage(BackfillPlan.Stage.builder("rest").build())
                .build();
    }

    private BackfillConfig.Builder backfill(String owner) {
        return BackfillConfig.builder().chunkSize(100).chunkSizeBounds(100, 100).rangesPerTable(2)
                .leaseDuration(Duration.ofMillis(500)).createTables(true).ownerId(owner);
    }

    private BackfillPlanRunner plans(MappedTables tables, BackfillConfig.Builder config, BackfillPlan... plans) {
        BackfillPlanRunner runner = BackfillPlanRunner.builder(tables, source.dataSource(), target.dataSource())
                .backfill(config.build()).plans(List.of(plans)).events(new EventPublisher())
                .pollInterval(Duration.ofMillis(50)).build();
        closeables.add(runner);
        return runner;
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

    private static PlanProgress progress(BackfillPlanRunner runner, String plan) {
        try {
            return runner.progress(plan);
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private Set<Long> targetIds(String table) {
        return new TreeSet<>(target.queryForList("SELECT id FROM " + table).stream()
                .map(row -> ((Number) row.values().iterator().next()).longValue()).toList());
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void threeStages_copyExactlyEachStagesRowsInOrder_andTheApprovalGateHoldsTheNextStage(Store sourceStore,
            Store targetStore) throws Exception {
        MappedTables tables = databases(sourceStore, targetStore);
        BackfillPlanRunner runner = plans(tables, backfill("only"), threeStages(true));
        List<String> chunks = new CopyOnWriteArrayList<>();
        runner.hookForTesting((table, range, rows) -> {
            Set<Integer> stages = new TreeSet<>();
            rows.forEach(row -> stages.add(stageOf(row)));
            chunks.add(table + " " + stages);
        });
        assertThat(runner.progress("rollout").status()).isEqualTo(BackfillPlan.Status.NOT_STARTED);
        runner.open();
        Thread.sleep(200);
        assertThat(runner.progress("rollout").status()).as("a manual plan waits for start").isEqualTo(
                BackfillPlan.Status.NOT_STARTED);
        assertThatThrownBy(() -> runner.approve("rollout", "alice", "too early"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("has not started");

        runner.start("rollout");
        await("the first stage at its gate", () -> progress(runner, "rollout").stages().get(0).status()
                == BackfillPlan.Status.GATED);
        assertThat(targetIds("t_order")).isEqualTo(idsOfStage(0));
        assertThat(targetIds("t_item")).isEqualTo(idsOfStage(0));
        Thread.sleep(300);
        PlanProgress gated = runner.progress("rollout");
        assertThat(gated.status()).isEqualTo(BackfillPlan.Status.GATED);
        assertThat(gated.stages().get(1).status()).as("held by the gate").isEqualTo(BackfillPlan.Status.PENDING);
        assertThat(targetIds("t_order")).as("nothing of the next stage copied").isEqualTo(idsOfStage(0));
        assertThat(gated.stages().get(0).rowsCopied()).isEqualTo(2L * idsOfStage(0).size());

        assertThatThrownBy(() -> runner.approve("rollout", " ", "no one")).isInstanceOf(
                IllegalArgumentException.class).hasMessageContaining("name who approves");
        runner.approve("rollout", "alice", "test region checked by hand");
        await("the plan done", () -> progress(runner, "rollout").status() == BackfillPlan.Status.DONE);

        PlanProgress done = runner.progress("rollout");
        assertThat(done.stages()).extracting(PlanProgress.StageProgress::rowsCopied).containsExactly(
                2L * idsOfStage(0).size(), 2L * idsOfStage(1).size(), 2L * idsOfStage(2).size());
        assertThat(done.rowsCopied()).isEqualTo(2L * ORDERS);
        assertThat(done.stages().get(0).approvedBy()).contains("alice");
        assertThat(done.stages().get(0).approvalReason()).contains("test region checked by hand");
        assertThat(done.stages().get(0).approvedAt()).isPresent();
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(OrderTable.differences(source, "t_item", target, "t_item", "id")).isEmpty();

        // Each chunk holds one stage's rows, and the stages (and, within one, the tables) come in order.
        List<String> expectedOrder = List.of("t_order [0]", "t_item [0]", "t_order [1]", "t_item [1]",
                "t_order [2]", "t_item [2]");
        List<String> seen = new ArrayList<>();
        for (String chunk : chunks) {
            if (chunk.endsWith("[]")) {
                continue;
            }
            assertThat(expectedOrder).as("chunk " + chunk).contains(chunk);
            if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(chunk)) {
                seen.add(chunk);
            }
        }
        assertThat(seen).isEqualTo(expectedOrder);
        // Each stage kept its own checkpoints: one job per table and stage.
        assertThat(target.queryForObject("SELECT COUNT(DISTINCT job) FROM dualwrite_checkpoint WHERE job LIKE"
                + " '%@%'", Long.class)).isEqualTo(6L);
        assertThatThrownBy(() -> runner.start("rollout")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already started");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void crashMidStage_aRestartedInstanceResumesThatStageFromItsCheckpoint(Store sourceStore, Store targetStore)
            throws Exception {
        MappedTables tables = databases(sourceStore, targetStore);
        BackfillPlan plan = threeStages(false);
        BackfillPlanRunner dying = plans(tables, backfill("dying").rangesPerTable(1), plan);
        AtomicInteger windowChunks = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean dead = new java.util.concurrent.atomic.AtomicBoolean();
        // From the third chunk of the last stage on, every chunk of this instance dies before it writes, as if
        // its JVM were gone: its loop may try again, but it commits nothing more.
        dying.hookForTesting((table, range, rows) -> {
            if (dead.get() || table.equals("t_order") && !rows.isEmpty() && stageOf(rows.get(0)) == 2
                    && windowChunks.incrementAndGet() == 3) {
                dead.set(true);
                throw new IllegalStateException("simulated crash inside a chunk of the last stage");
            }
        });
        dying.start("rollout");
        dying.open();
        await("the crash", dead::get);
        Thread.sleep(700);
        dying.close();
        PlanProgress crashed = dying.progress("rollout");
        assertThat(crashed.stages().get(2).status()).isEqualTo(BackfillPlan.Status.RUNNING);
        assertThat(crashed.stages().get(2).rowsCopied()).as("two chunks of the last stage committed").isEqualTo(200);

        BackfillPlanRunner restarted = plans(tables, backfill("restarted").rangesPerTable(1), plan);
        AtomicInteger copiedAfterRestart = new AtomicInteger();
        restarted.hookForTesting((table, range, rows) -> copiedAfterRestart.addAndGet(rows.size()));
        restarted.open();
        await("the plan done", () -> progress(restarted, "rollout").status() == BackfillPlan.Status.DONE);

        PlanProgress done = restarted.progress("rollout");
        int rest = idsOfStage(2).size();
        assertThat(done.stages()).extracting(PlanProgress.StageProgress::rowsCopied).containsExactly(
                2L * idsOfStage(0).size(), 2L * idsOfStage(1).size(), 2L * rest);
        assertThat(copiedAfterRestart.get()).as("only the rest of the stage: its t_order rows after the two"
                + " committed chunks, and its t_item rows").isEqualTo(rest - 200 + rest);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(OrderTable.differences(source, "t_item", target, "t_item", "id")).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void twoInstancesShareAStage_andTheSecondFinishesAfterTheFirstStops(Store sourceStore, Store targetStore)
            throws Exception {
        MappedTables tables = databases(sourceStore, targetStore);
        BackfillPlan plan = threeStages(false);
        BackfillPlanRunner first = plans(tables, backfill("first").rangesPerTable(4).rowsPerSecond(2_000), plan);
        BackfillPlanRunner second = plans(tables, backfill("second").rangesPerTable(4).rowsPerSecond(2_000), plan);
        AtomicInteger firstChunks = new AtomicInteger();
        AtomicInteger secondChunks = new AtomicInteger();
        first.hookForTesting((table, range, rows) -> firstChunks.incrementAndGet());
        second.hookForTesting((table, range, rows) -> secondChunks.incrementAndGet());
        first.open();
        second.open();
        first.start("rollout");
        assertThatThrownBy(() -> second.start("rollout")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("already started");
        await("both instances copying the last stage", () -> secondChunks.get() > 0 && firstChunks.get() > 0
                && progress(first, "rollout").currentStage() == 2);
        first.close();
        await("the plan done by the second", () -> progress(second, "rollout").status() == BackfillPlan.Status.DONE);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(OrderTable.differences(source, "t_item", target, "t_item", "id")).isEmpty();
        assertThat(second.progress("rollout").rowsCopied()).as("no chunk copied twice").isEqualTo(2L * ORDERS);
    }

    @Test
    void pause_stopsTheStageOnEveryInstance_andResumeFinishesIt() throws Exception {
        MappedTables tables = databases(Store.H2, Store.H2);
        BackfillPlan plan = threeStages(false);
        BackfillPlanRunner runner = plans(tables, backfill("pausing").rowsPerSecond(500), plan);
        runner.open();
        runner.start("rollout");
        await("the second stage copying", () -> progress(runner, "rollout").stages().get(1).rowsCopied() > 0);
        runner.pause("rollout", "the target is busy");
        PlanProgress paused = runner.progress("rollout");
        assertThat(paused.status()).isEqualTo(BackfillPlan.Status.PAUSED);
        assertThat(paused.stages().get(1).reason()).contains("the target is busy");
        Thread.sleep(500);
        long copied = runner.progress("rollout").rowsCopied();
        Thread.sleep(500);
        assertThat(runner.progress("rollout").rowsCopied()).as("no chunk after the pause").isEqualTo(copied);
        assertThatThrownBy(() -> runner.approve("rollout", "bob", null)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has no approval gate");

        runner.resume("rollout");
        await("the plan done", () -> progress(runner, "rollout").status() == BackfillPlan.Status.DONE);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        assertThat(runner.progress("rollout").rowsCopied()).isEqualTo(2L * ORDERS);
    }

    @Test
    void triggers_anInstant_andAfterAnotherPlan() throws Exception {
        MappedTables tables = databases(Store.H2, Store.H2);
        MutableClock clock = new MutableClock(Instant.parse("2026-03-01T10:00:00Z"));
        BackfillPlan orders = BackfillPlan.builder("orders").tables("t_order")
                .stage(BackfillPlan.Stage.builder("all").build())
                .trigger(BackfillPlan.Trigger.at(Instant.parse("2026-03-01T22:00:00Z"))).build();
        BackfillPlan items = BackfillPlan.builder("items").tables("t_item")
                .stage(BackfillPlan.Stage.builder("test").where("region = ?", "test").build())
                .stage(BackfillPlan.Stage.builder("rest").trigger(BackfillPlan.Trigger.cron("0 0 3 * * *",
                        ZoneOffset.UTC)).build())
                .trigger(BackfillPlan.Trigger.after("orders")).build();
        BackfillPlanRunner runner = plans(tables, backfill("clocked").clock(clock), orders, items);
        runner.tickAll();
        assertThat(runner.progress("orders").status()).isEqualTo(BackfillPlan.Status.NOT_STARTED);

        clock.set(Instant.parse("2026-03-01T22:00:00Z"));
        runner.tickAll();
        assertThat(runner.progress("orders").status()).isIn(BackfillPlan.Status.RUNNING, BackfillPlan.Status.DONE);
        assertThat(runner.progress("items").status()).as("waits for orders").isEqualTo(
                BackfillPlan.Status.NOT_STARTED);
        await("orders done", () -> {
            runner.tickAll();
            return progress(runner, "orders").status() == BackfillPlan.Status.DONE;
        });
        await("the first stage of items done", () -> {
            runner.tickAll();
            return progress(runner, "items").stages().get(0).status() == BackfillPlan.Status.DONE;
        });
        runner.tickAll();
        assertThat(runner.progress("items").stages().get(1).status()).as("waits for 03:00").isEqualTo(
                BackfillPlan.Status.PENDING);
        assertThat(targetIds("t_item")).isEqualTo(idsOfStage(0));
        // Paused and resumed while it waits, the stage waits for its trigger again rather than starting.
        runner.pause("items", "not tonight");
        assertThat(runner.progress("items").status()).isEqualTo(BackfillPlan.Status.PAUSED);
        runner.resume("items");
        runner.tickAll();
        assertThat(runner.progress("items").stages().get(1).status()).isEqualTo(BackfillPlan.Status.PENDING);
        assertThat(targetIds("t_item")).isEqualTo(idsOfStage(0));

        clock.set(Instant.parse("2026-03-02T03:00:00Z"));
        await("items done", () -> {
            runner.tickAll();
            return progress(runner, "items").status() == BackfillPlan.Status.DONE;
        });
        assertThat(OrderTable.differences(source, "t_item", target, "t_item", "id")).isEmpty();
    }

    @Test
    void aPlanThatTakesEveryRow_marksItsTablesBackfillDone_andAPlanOfFiltersOnlyDoesNot() throws Exception {
        MappedTables tables = databases(Store.H2, Store.H2);
        BackfillPlan testRegionOnly = BackfillPlan.builder("pilot").tables("t_order")
                .stage(BackfillPlan.Stage.builder("test-region").where("region = ?", "test").build()).build();
        BackfillPlan everything = threeStages(false);
        assertThat(testRegionOnly.coversEveryRow()).isFalse();
        assertThat(everything.coversEveryRow()).isTrue();
        BackfillPlanRunner runner = plans(tables, backfill("closing"), testRegionOnly, everything);
        BackfillRunner own = BackfillRunner.create(backfill("own").build(), tables, source.dataSource(),
                target.dataSource(), new EventPublisher());
        closeables.add(own);
        io.dualwrite.routing.RampGuard guard = io.dualwrite.routing.RampGuards.backfillDone(own,
                List.of("t_order", "t_item"));
        io.dualwrite.routing.RoutingRules dualWrite = io.dualwrite.routing.RoutingRules.initial()
                .withPhase(io.dualwrite.routing.Phase.DUAL_WRITE);
        io.dualwrite.routing.RoutingRules ramp = dualWrite.withPhase(io.dualwrite.routing.Phase.RAMP);
        runner.open();

        runner.start("pilot");
        await("the pilot done", () -> progress(runner, "pilot").status() == BackfillPlan.Status.DONE);
        runner.tickAll();
        assertThat(own.progress("t_order").status()).as("the test region is not the table").isEqualTo(
                BackfillStatus.PENDING);
        assertThat(guard.check(dualWrite, ramp)).get().asString().contains("t_order is PENDING");

        runner.start("rollout");
        await("the plan done", () -> progress(runner, "rollout").status() == BackfillPlan.Status.DONE);
        runner.tickAll();
        BackfillProgress order = own.progress("t_order");
        assertThat(order.status()).as("closed by the plan's last, filterless stage").isEqualTo(BackfillStatus.DONE);
        assertThat(order.rowsCopied()).isEqualTo(ORDERS);
        assertThat(order.failedRows()).isZero();
        assertThat(own.progress("t_item").status()).isEqualTo(BackfillStatus.DONE);
        assertThat(guard.check(dualWrite, ramp)).as("the RAMP guard passes").isEmpty();
        runner.tickAll();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_checkpoint WHERE job = 't_order'",
                Long.class)).as("closed once").isEqualTo(1L);
    }

    @Test
    void build_namesEveryProblemWithItsProperty() throws Exception {
        MappedTables tables = databases(Store.H2, Store.H2);
        BackfillPlan bad = BackfillPlan.builder("bad").tables("t_order", "t_nope")
                .stage(BackfillPlan.Stage.builder("window").timeWindow("created_at", null, EPOCH).build())
                .stage(BackfillPlan.Stage.builder("checked").where("region = ?", "x").reconcileGate(true).build())
                .trigger(BackfillPlan.Trigger.after("ghost")).build();
        assertThatThrownBy(() -> BackfillPlanRunner.builder(tables, source.dataSource(), target.dataSource())
                .plans(List.of(bad)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.backfill.plans.bad.tables: table 't_nope' is not mapped")
                .hasMessageContaining("dualwrite.backfill.plans.bad.stages.window.time-window: column 'created_at'"
                        + " does not exist in source table 't_order'")
                .hasMessageContaining("dualwrite.backfill.plans.bad.stages.checked.reconcile-gate: no stage check")
                .hasMessageContaining("waits for plan 'ghost'");
        assertThatThrownBy(() -> BackfillPlan.builder("p").tables("t_order")
                .stage(BackfillPlan.Stage.builder("all").build())
                .stage(BackfillPlan.Stage.builder("late").where("region = ?", "x").build()).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.backfill.plans.p.stages.all: a stage without a filter");
        assertThatThrownBy(() -> BackfillPlan.Stage.builder("s").where("region = ? AND id > ?", "x"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("has 2 '?' but 1 parameters");
        assertThatThrownBy(() -> BackfillPlan.builder("bad name!")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a valid name");
        assertThatThrownBy(() -> BackfillPlan.Trigger.cron("every night", ZoneOffset.UTC))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cron 'every night' does not parse");
    }
}
