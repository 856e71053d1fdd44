package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The control table shared by instances, cross-route writes, and the guards against real stores. */
class RoutingIntegrationTest {

    private static final Duration POLL = Duration.ofMillis(200);

    @ParameterizedTest
    @EnumSource(Store.class)
    void twoInstancesOnOneControlTable_convergeWithinThePollInterval(Store store) throws Exception {
        RoutingRules initial = BarrierTest.rampAt(0).withPhase(Phase.DUAL_WRITE);
        try (TestDatabase db = TestDatabase.create(store, "control");
                MigrationController a = controller(JdbcControlStore.open(db.dataSource(), "orders", initial, true), "a");
                MigrationController b = controller(JdbcControlStore.open(db.dataSource(), "orders",
                        RoutingRules.initial(), false), "b")) {
            assertThat(b.rules()).as("the second instance finds the first one's row").isEqualTo(initial);

            assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
            awaitRules(b, a.rules());
            RoutingRules listed = a.rules().withPercent(25).withLists(List.of("1001", "1002"), List.of("3"));
            assertThat(b.request(listed, false, "operator: allow two users").outcome())
                    .isEqualTo(StepResult.Outcome.ACTIVATED);
            awaitRules(a, listed);
            assertThat(a.route(1001L)).isEqualTo(Route.TARGET);
            assertThat(a.route(3L)).isEqualTo(Route.SOURCE);
            assertThat(a.route(24L)).isEqualTo(Route.TARGET);
            assertThat(a.state().message()).contains("operator: allow two users");
            assertThat(a.instances()).extracting(InstanceStatus::instanceId).containsExactly("a", "b");
        }
    }

    @Test
    void controlTable_missing_stopsStartUpWithTheDdl() {
        try (TestDatabase db = TestDatabase.create(Store.H2, "noctl")) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> JdbcControlStore.open(db.dataSource(), "orders",
                    RoutingRules.initial(), false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("dualwrite.control.store=TABLE needs these tables")
                    .hasMessageContaining("CREATE TABLE dualwrite_control (")
                    .hasMessageContaining("dualwrite.schema.create=true");
        }
    }

    @Test
    void crossRouteWrite_isCounted_andOnlyThatOne() throws Exception {
        try (RampRig rig = new RampRig(Store.H2, Store.H2, "cross", BarrierTest.rampAt(50))) {
            rig.upsert(10, 1001, "by the user, on the target");
            rig.upsert(60, 6001, "by the user, on the source");
            assertThat(rig.drain()).isTrue();
            assertThat(rig.crossRoute.count()).isZero();

            // A merchant (routing key 77, source) updates user 10's order, whose route is the target.
            rig.write(77L, 1001, jdbc -> jdbc.update("UPDATE t_order SET status = 'SHIPPED' WHERE id = 1001"));
            assertThat(rig.drain()).isTrue();

            assertThat(rig.crossRoute.count()).isEqualTo(1);
        }
    }

    @Test
    void guards_backfillAndReversePath_refuseUntilMet() throws Exception {
        try (RampRig rig = new RampRig(Store.H2, Store.H2, "guards", BarrierTest.rampAt(0).withPhase(Phase.DUAL_WRITE))) {
            rig.source.execute("INSERT INTO t_order VALUES (1, 10, 'NEW', 1.00, 'old', CURRENT_TIMESTAMP)");
            BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(), rig.tables,
                    rig.source.dataSource(), rig.target.dataSource(), new EventPublisher());
            RampGuard backfillGuard = RampGuards.backfillDone(backfill, List.of("t_order"));
            RampGuard reverseGuard = RampGuards.reversePathProven(rig.tables, rig.reverse);
            RoutingRules from = rig.controller.rules();
            RoutingRules to = from.withPhase(Phase.RAMP);

            assertThat(backfillGuard.check(from, to)).get().asString().contains("backfill unfinished: t_order is PENDING");
            backfill.start("t_order");
            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
            assertThat(backfillGuard.check(from, to)).isEmpty();

            assertThat(reverseGuard.check(from, to)).as("target rows map back and write to the source").isEmpty();
            // The source schema changed under the running service: the reverse path no longer writes.
            rig.source.execute("ALTER TABLE t_order DROP COLUMN note");
            assertThat(reverseGuard.check(from, to)).get().asString()
                    .startsWith("reverse path unproven: probe of the reverse path for table 't_order' failed");
            assertThat(RampGuards.reversePathProven(rig.tables, null).check(from, to)).get().asString()
                    .contains("no mirror from the target back to the source");
            backfill.close();
        }
        try (TestDatabase source = TestDatabase.create(Store.H2, "nover_src");
                TestDatabase target = TestDatabase.create(Store.H2, "nover_tgt")) {
            source.execute("CREATE TABLE t_log (id BIGINT PRIMARY KEY, text VARCHAR(10))");
            target.execute("CREATE TABLE t_log (id BIGINT PRIMARY KEY, text VARCHAR(10))");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_log").noVersionColumn().build()),
                    source.dataSource(), target.dataSource(), false);
            RoutingRules ramp = RoutingRules.initial().withPhase(Phase.RAMP);
            assertThat(RampGuards.reversePathProven(tables, null).check(RoutingRules.initial(), ramp.withPercent(10)))
                    .get().asString().contains("dualwrite.tables.t_log.version-column: table 't_log' has no version"
                            + " column, so it may not take writes on both stores at once");
            assertThat(RampGuards.reversePathProven(tables, null).check(RoutingRules.initial(),
                    ramp.withLists(java.util.Set.of("7"), java.util.Set.of()))).get().asString()
                    .contains("has no version column");
            // Issue 18: RAMP needs the barrier, not the version column: one step moving every request is allowed.
            assertThat(RampGuards.reversePathProven(tables, null).check(RoutingRules.initial(),
                    ramp.withPercent(100))).get().asString()
                    .doesNotContain("version-column").contains("no mirror from the target back to the source");
            assertThat(RampGuards.reversePathProven(tables, null).check(RoutingRules.initial(), ramp)).get().asString()
                    .as("RAMP 0 still sends every key to the source").doesNotContain("version-column");
            assertThat(RampGuards.reversePathProven(tables, null).check(RoutingRules.initial(),
                    ramp.withPercent(100).withLists(java.util.Set.of(), java.util.Set.of("3")))).get().asString()
                    .as("a deny-list keeps some keys on the source").contains("has no version column");
        }
    }

    /**
     * Issue 22: users moved one at a time split the traffic at any percent, so the version-column guard must
     * count them: a first user moved to the target at RAMP 0, and RAMP 100 while a user moved back writes the
     * source. Without the reverse mirror the guard refuses either way; what matters is for which reason.
     */
    @Test
    void movedUsers_splitTheTraffic_forTheVersionColumnGuard() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "moved_src");
                TestDatabase target = TestDatabase.create(Store.H2, "moved_tgt");
                MigrationController controller = controller(new PropertiesControlStore(BarrierTest.rampAt(0)), "m")) {
            source.execute("CREATE TABLE t_log (id BIGINT PRIMARY KEY, text VARCHAR(10))");
            target.execute("CREATE TABLE t_log (id BIGINT PRIMARY KEY, text VARCHAR(10))");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_log").noVersionColumn().build()),
                    source.dataSource(), target.dataSource(), false);
            RampGuard rulesOnly = RampGuards.reversePathProven(tables, null);
            RampGuard withMovedUsers = RampGuards.reversePathProven(tables, null, controller);
            RoutingRules rampZero = BarrierTest.rampAt(0);
            String versionColumn = "dualwrite.tables.t_log.version-column";

            RoutingRules movingSeven = rampZero.withMove(new RoutingRules.UserMove("7", Route.TARGET));
            assertThat(movingSeven.splitsTraffic()).as("the step's own move counts").isTrue();
            assertThat(rulesOnly.check(rampZero, movingSeven)).get().asString().contains(versionColumn);
            assertThat(controller.splitsTraffic(rampZero)).as("no user moved yet").isFalse();

            // Moves made (the guard is not registered on this controller): 7 to the target at 0 %, then at 100 %
            // user 9 back to the source.
            controller.useUserCopy((key, from, to, timeout) -> { });
            StepResult seven = controller.moveUser(7L, Route.TARGET, "test", "login", Duration.ofSeconds(5));
            assertThat(seven.outcome()).as(seven.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            RoutingRules zeroNoMove = rampZero.withMove(null);
            assertThat(controller.splitsTraffic(zeroNoMove)).as("user 7 writes the target at 0 %").isTrue();
            assertThat(withMovedUsers.check(rampZero, zeroNoMove)).get().asString().contains(versionColumn);
            StepResult all = controller.requestPercent(100, true);
            assertThat(all.outcome()).as(all.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            StepResult nine = controller.moveUser(9L, Route.SOURCE, "test", "back", Duration.ofSeconds(5));
            assertThat(nine.outcome()).as(nine.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            RoutingRules hundred = BarrierTest.rampAt(100);
            assertThat(hundred.splitsTraffic()).as("the rules alone say every key is on the target").isFalse();
            assertThat(rulesOnly.check(rampZero, hundred)).get().asString().doesNotContain(versionColumn);
            assertThat(controller.splitsTraffic(hundred)).as("user 9 still writes the source").isTrue();
            assertThat(withMovedUsers.check(rampZero, hundred)).get().asString().contains(versionColumn)
                    .contains("no user moved back to the source");
            assertThat(controller.splitsTraffic(hundred.withPhase(Phase.DUAL_WRITE))).isFalse();
        }
    }

    private static MigrationController controller(ControlStore store, String id) throws Exception {
        MigrationController controller = MigrationController.builder(store).instanceId(id).pollInterval(POLL)
                .stepTimeout(Duration.ofSeconds(10)).build();
        controller.start();
        return controller;
    }

    private static void awaitRules(MigrationController controller, RoutingRules rules) throws InterruptedException {
        long deadline = System.nanoTime() + POLL.toNanos() + TimeUnit.MILLISECONDS.toNanos(150);
        while (!controller.rules().equals(rules) && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(controller.rules()).as("within a poll interval").isEqualTo(rules);
    }

}
