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
}
