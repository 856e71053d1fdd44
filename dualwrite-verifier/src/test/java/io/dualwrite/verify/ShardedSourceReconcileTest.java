package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.ShardedSourceOrders;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reconciler compares a MariaDB source sharded by hand into 2 databases x 4 tables (given as
 * {@code ds_${0..1}.t_order_${0..3}}) with one PostgreSQL {@code t_order}, and repairs the target.
 */
class ShardedSourceReconcileTest {

    @Test
    void reconcileWithRepair_fromEveryShardOfTheSource_leavesZeroDifferences() throws Exception {
        try (ShardedSourceOrders stores = ShardedSourceOrders.create()) {
            stores.seed(600);
            ShardedSource source = stores.source();
            MappedTables tables = stores.orders(source);
            try (BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(70)
                    .createTables(true).build(), tables, source, stores.target().dataSource(), new EventPublisher())) {
                backfill.start("t_order");
                assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
                assertThat(backfill.progress("t_order").rowsCopied()).isEqualTo(600L);
            }
            assertThat(stores.differences()).isEmpty();

            stores.target().execute("UPDATE t_order SET note = 'changed' WHERE id = 7",
                    "DELETE FROM t_order WHERE id = 8",
                    "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (10000, 3, 'X', 1.00,"
                            + " NULL, TIMESTAMP '2026-01-01 12:00:00')");
            // And one change on a source shard that nothing mirrored.
            stores.upsert(9, "LATE", java.math.BigDecimal.ONE, "not mirrored");
            assertThat(stores.differences()).hasSize(4);

            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source,
                    stores.target().dataSource(), new EventPublisher())) {
                ReconcileReport repaired = Reconciler.create(ReconcileConfig.builder().chunkSize(50).createTables(true)
                        .repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables, source,
                        stores.target().dataSource(), event -> { }).run("t_order");
                assertThat(List.of(repaired.compared(), repaired.missingInTarget(), repaired.extraInTarget(),
                        repaired.different(), repaired.repaired(), repaired.unrepaired()))
                        .containsExactly(600L, 1L, 1L, 2L, 4L, 0L);
            }
            assertThat(stores.differences()).isEmpty();
            ReconcileReport second = Reconciler.create(ReconcileConfig.builder().chunkSize(50).createTables(true)
                    .build(), tables, source, stores.target().dataSource(), event -> { }).run("t_order");
            assertThat(second.differences()).isZero();
            assertThat(second.compared()).isEqualTo(600L);
        }
    }

    @Test
    void aKeyOnTwoSourceShards_failsTheReconcileNamingItAndBothShards() throws Exception {
        try (ShardedSourceOrders stores = ShardedSourceOrders.create()) {
            stores.seed(100);
            int[] home = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(40));
            stores.app(1 - home[0]).update("INSERT INTO t_order_1 (id, user_id, status, amount, note, gmt_modified)"
                    + " VALUES (40, 99, 'STRAY', 1.00, NULL, NOW(3))");
            ShardedSource source = stores.source();
            MappedTables tables = stores.orders(source);
            Reconciler reconciler = Reconciler.create(ReconcileConfig.builder().chunkSize(50).createTables(true)
                    .build(), tables, source, stores.target().dataSource(), event -> { });
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> reconciler.run("t_order"))
                    .hasStackTraceContaining("logical table 't_order': key 40 is on 2 shards at once")
                    .hasStackTraceContaining("ds_" + (1 - home[0]) + ".t_order_1");
        }
    }
}
