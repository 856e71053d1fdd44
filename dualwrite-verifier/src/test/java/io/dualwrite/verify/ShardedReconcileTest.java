package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.ShardedOrders;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reconciler compares MariaDB's {@code t_order} with PostgreSQL split by ShardingSphere into 2 databases x 4
 * tables, and repairs through the mirror what an operator broke on single physical shards.
 */
class ShardedReconcileTest {

    @Test
    void reconcileWithRepair_throughTheShardedTarget_leavesEveryPhysicalShardEqual() throws Exception {
        try (ShardedOrders stores = ShardedOrders.create()) {
            stores.seed(600);
            MappedTables tables = stores.orders();
            try (BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(),
                    tables, stores.source().dataSource(), stores.target(), new EventPublisher())) {
                backfill.start("t_order");
                assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            }
            assertThat(stores.differencesPerShard()).isEmpty();

            // Broken on the shards that hold them, as ShardingSphere's expressions place them.
            int[] of7 = ShardedOrders.expectedShard(ShardedOrders.userOf(7));
            stores.shard(of7[0]).execute("UPDATE t_order_" + of7[1] + " SET note = 'changed' WHERE id = 7");
            int[] of8 = ShardedOrders.expectedShard(ShardedOrders.userOf(8));
            stores.shard(of8[0]).execute("DELETE FROM t_order_" + of8[1] + " WHERE id = 8");
            int[] ofExtra = ShardedOrders.expectedShard(3);
            stores.shard(ofExtra[0]).execute("INSERT INTO t_order_" + ofExtra[1] + " (id, user_id, status, amount,"
                    + " note, gmt_modified) VALUES (10000, 3, 'X', 1.00, NULL, TIMESTAMP '"
                    + Timestamp.valueOf("2026-01-01 12:00:00") + "')");
            assertThat(stores.differencesPerShard()).hasSize(3);

            ReconcileConfig.Builder config = ReconcileConfig.builder().chunkSize(50).createTables(true);
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, stores.source().dataSource(),
                    stores.target(), new EventPublisher())) {
                ReconcileReport repaired = Reconciler.create(
                        config.repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables,
                        stores.source().dataSource(), stores.target(), event -> { }).run("t_order");
                assertThat(List.of(repaired.compared(), repaired.missingInTarget(), repaired.extraInTarget(),
                        repaired.different(), repaired.repaired(), repaired.unrepaired()))
                        .containsExactly(600L, 1L, 1L, 1L, 3L, 0L);
            }
            assertThat(stores.differencesPerShard()).isEmpty();
            ReconcileReport second = Reconciler.create(ReconcileConfig.builder().chunkSize(50).createTables(true)
                    .build(), tables, stores.source().dataSource(), stores.target(), event -> { }).run("t_order");
            assertThat(second.differences()).isZero();
            assertThat(second.compared()).isEqualTo(600L);
        }
    }
}
