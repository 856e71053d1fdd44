package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Instant;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 16: the instance table gained the {@code fences} column (an instance's promise to fence itself). A
 * table created by an earlier version is upgraded when the store opens, or the statement is named when
 * dualwrite may not change the schema.
 */
class JdbcControlStoreUpgradeTest {

    /** The instance table as versions before issue 16 created it. */
    private static final String INSTANCE_TABLE_BEFORE_ISSUE_16 = "CREATE TABLE dualwrite_instance (\n"
            + "  migration VARCHAR(64) NOT NULL,\n"
            + "  instance_id VARCHAR(128) NOT NULL,\n"
            + "  acknowledged BIGINT NOT NULL,\n"
            + "  lease_until_ms BIGINT NOT NULL,\n"
            + "  PRIMARY KEY (migration, instance_id)\n"
            + ")";

    @ParameterizedTest(name = "{0}")
    @EnumSource(Store.class)
    void instanceTableOfAnOlderVersion_isUpgradedAtOpen_itsInstancesNotPromising(Store kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind, "ctlup")) {
            db.execute(JdbcControlStore.ddl().get(0), INSTANCE_TABLE_BEFORE_ISSUE_16);
            long leaseUntil = Instant.now().plusSeconds(60).toEpochMilli();
            db.execute("INSERT INTO dualwrite_instance (migration, instance_id, acknowledged, lease_until_ms)"
                    + " VALUES ('orders', 'old', 3, " + leaseUntil + ")");

            assertThatThrownBy(() -> JdbcControlStore.open(db.dataSource(), "orders", RoutingRules.initial(), false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("ALTER TABLE dualwrite_instance ADD COLUMN fences SMALLINT DEFAULT 0 NOT NULL")
                    .hasMessageContaining("dualwrite.schema.create=true");

            JdbcControlStore store = JdbcControlStore.open(db.dataSource(), "orders", RoutingRules.initial(), true);
            assertThat(store.instances()).containsExactly(
                    new InstanceStatus("old", 3, Instant.ofEpochMilli(leaseUntil), false));
            store.heartbeat("new", 4, Instant.ofEpochMilli(leaseUntil), true);
            store.heartbeat("old", 4, Instant.ofEpochMilli(leaseUntil), false);
            assertThat(store.instances()).extracting(InstanceStatus::instanceId, InstanceStatus::fences)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("new", true),
                            org.assertj.core.groups.Tuple.tuple("old", false));

            JdbcControlStore again = JdbcControlStore.open(db.dataSource(), "orders", RoutingRules.initial(), false);
            assertThat(again.instances()).hasSize(2);
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Store.class)
    void controlTableFromBeforeUserMoves_isUpgradedAtOpen_andKeepsItsState(Store kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind, "ctlmove")) {
            String before22 = JdbcControlStore.ddl().get(0)
                    .replaceAll("  (pending_)?move_(key|route) VARCHAR\\(\\d+\\),\n", "");
            assertThat(before22).doesNotContain("move_");
            db.execute(before22, JdbcControlStore.ddl().get(1));
            RoutingRules ramp = RoutingRules.initial().withPhase(Phase.RAMP).withPercent(30);
            db.execute("INSERT INTO dualwrite_control (migration, version, phase, percent, strategy, allow_list,"
                    + " deny_list, default_route, changed_by, message, updated_ms) VALUES ('orders', 7, 'RAMP', 30,"
                    + " 'HASH', '', '', 'SOURCE', 'old', 'before issue 22', 0)");

            assertThatThrownBy(() -> JdbcControlStore.open(db.dataSource(), "orders", RoutingRules.initial(), false))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("ALTER TABLE dualwrite_control ADD COLUMN move_key VARCHAR(255)")
                    .hasMessageContaining("ALTER TABLE dualwrite_control ADD COLUMN pending_move_route VARCHAR(16)")
                    .hasMessageContaining("CREATE TABLE dualwrite_user_route");

            JdbcControlStore store = JdbcControlStore.open(db.dataSource(), "orders", RoutingRules.initial(), true);
            ControlState state = store.read();
            assertThat(state.version()).isEqualTo(7);
            assertThat(state.active()).isEqualTo(ramp);
            RoutingRules moving = ramp.withMove(new RoutingRules.UserMove("42", Route.TARGET));
            ControlState pending = state.begin(moving, Instant.ofEpochMilli(System.currentTimeMillis() + 30_000), "test",
                    "move");
            assertThat(store.compareAndSet(7, pending)).isTrue();
            assertThat(store.read()).isEqualTo(pending);
            ControlState active = store.finishStep(8, instances -> pending.activate("test", "moved"));
            assertThat(active.active().move()).isEqualTo(new RoutingRules.UserMove("42", Route.TARGET));
            assertThat(store.read()).isEqualTo(active);
            assertThat(store.userRoute("42")).contains(Route.TARGET);
            assertThat(store.userRoute("43")).isEmpty();
        }
    }
}
