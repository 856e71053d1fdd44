package io.dualwrite.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillTestHooks;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OutageProxy;
import io.dualwrite.testing.ShardedOrders;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * MariaDB's single {@code t_order} mirrored and backfilled into PostgreSQL split by ShardingSphere-JDBC into 2
 * databases x 4 tables by {@code user_id} ({@link ShardedOrders}). Every check reads each physical table directly.
 */
class ShardedTargetTest {

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private ShardedOrders stores;

    @BeforeEach
    void createStores() {
        stores = ShardedOrders.create();
    }

    @AfterEach
    void closeStores() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        stores.close();
    }

    @Test
    void layout_namesTheDataNodeShardingSphereItselfWritesTo() throws Exception {
        ShardingSphereTarget target = stores.target(null);
        ShardLayout layout = target.layout("T_ORDER").orElseThrow();
        assertThat(layout.shards()).hasSize(ShardedOrders.DATABASES * ShardedOrders.TABLES);
        assertThat(layout.shardingColumns()).containsExactly("user_id");
        assertThat(target.layout("t_other")).isEmpty();
        JdbcTemplate app = new JdbcTemplate(target.shardingSphere());
        for (long user = 0; user < 16; user++) {
            app.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (?, ?, 'NEW', 1.00,"
                    + " NULL, CURRENT_TIMESTAMP)", 1000 + user, user);
            long id = 1000 + user;
            ShardLayout.Shard named = layout.shardOf(column -> column.equals("user_id") ? id - 1000 : null);
            int database = Integer.parseInt(named.dataSource().substring("ds_".length()));
            assertThat(stores.shard(database).queryForObject("SELECT COUNT(*) FROM " + named.table() + " WHERE id = ?",
                    Long.class, id)).as("user %d: ShardingSphere's insert landed on %s", user, named).isEqualTo(1L);
            assertThat(new int[] {database, Integer.parseInt(named.table().substring("t_order_".length()))})
                    .isEqualTo(ShardedOrders.expectedShard(user));
        }
        assertThatThrownBy(() -> layout.shardOf(column -> null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("logical table 't_order': sharding column 'user_id' is null, so ShardingSphere's rule"
                        + " cannot name the row's shard");
    }

    @Test
    void resolve_namesTheLogicalTableShardAndPropertyOfEveryMisfit() throws Exception {
        ShardingSphereTarget target = stores.target("id");
        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("status")
                .build()), stores.source().dataSource(), target, false))
                .isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order.routing-column: routing column 'status' (target column"
                        + " 'status') is not the sharding column of logical table 't_order' (shards [ds_0.t_order_0 .."
                        + " ds_1.t_order_3, 8 in all]), which shards by [user_id]")
                .hasMessageContaining("dualwrite.tables.t_order.immutable-sharding-column: sharding column [user_id] of"
                        + " logical table 't_order' (shards [ds_0.t_order_0 .. ds_1.t_order_3, 8 in all]) is not part of"
                        + " the key [id], so an update could change it")
                .hasMessageContaining("dualwrite.tables.t_order.target-table: logical table 't_order' (shards"
                        + " [ds_0.t_order_0 .. ds_1.t_order_3, 8 in all]) has ShardingSphere's key generator on key"
                        + " column 'id'");
    }

    @Test
    void resolve_missingPhysicalTable_namesTheShard() throws Exception {
        stores.shard(1).execute("DROP TABLE t_order_2");
        ShardingSphereTarget target = stores.target(null);
        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_order")
                .immutableShardingColumn(true).build()), stores.source().dataSource(), target, false))
                .isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order.target-table: table 't_order_2' does not exist in the"
                        + " target data source 'ds_1' (shard of logical table 't_order') database");
    }

    @ParameterizedTest
    @EnumSource(value = MirrorMode.class, names = {"SYNC", "ASYNC"})
    void mirror_hotKeysAndConcurrentWriters_withBackfillRunning_convergeOnEveryPhysicalShard(MirrorMode mode)
            throws Exception {
        stores.seed(1_500);
        MappedTables tables = stores.orders();
        MirrorConfig config = MirrorConfig.builder().mode(mode).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(20)).build();
        try (Mirror mirror = Mirror.create(config, tables, stores.source().dataSource(), stores.target(),
                new EventPublisher())) {
            mirror.start();
            // History copied while the writers change and delete the same keys: the delete race across shards.
            BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(50)
                    .chunkSizeBounds(50, 50).rangesPerTable(2).threads(2).createTables(true).build(), tables,
                    stores.source().dataSource(), stores.target(), new EventPublisher());
            closeables.add(backfill);
            backfill.start("t_order");
            JdbcTemplate app = new JdbcTemplate(stores.source().dataSource());
            AtomicLong writes = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            for (int w = 0; w < 4; w++) {
                Thread writer = new Thread(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < until) {
                        long id = 1 + random.nextInt(random.nextInt(4) == 0 ? 200 : 12);
                        int op = random.nextInt(10);
                        if (op < 2) {
                            app.update("DELETE FROM t_order WHERE id = ?", id);
                        } else {
                            app.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES"
                                    + " (?, ?, ?, ?, ?, NOW(3)) ON DUPLICATE KEY UPDATE status = VALUES(status),"
                                    + " amount = VALUES(amount), note = VALUES(note), gmt_modified = NOW(3)",
                                    id, ShardedOrders.userOf(id), "S" + op, BigDecimal.valueOf(random.nextInt(100_000), 2),
                                    random.nextBoolean() ? null : "note " + random.nextInt(1000));
                        }
                        mirror.recorder().record("t_order", id);
                        writes.incrementAndGet();
                    }
                });
                writers.add(writer);
                writer.start();
            }
            for (Thread writer : writers) {
                writer.join();
            }
            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).isTrue();
            assertThat(writes.get()).isGreaterThan(200);
            assertThat(mirror.parked()).isZero();
        }
        assertThat(stores.differencesPerShard()).isEmpty();
        assertThat(stores.source().queryForObject("SELECT COUNT(DISTINCT user_id % 2, user_id DIV 2 % 4) FROM t_order",
                Long.class)).as("the rows reached every shard").isEqualTo(8L);
    }

    @Test
    void mirror_oneShardDatabaseUnreachableForAWhile_retriesAndConvergesOnEveryPhysicalShard() throws Exception {
        stores.seed(200);
        OutageProxy network = stores.cuttable(1);
        MappedTables tables = stores.orders();
        // The history is copied first, so every difference afterwards is the mirror's.
        BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(100).createTables(true)
                .build(), tables, stores.source().dataSource(), stores.target(), new EventPublisher());
        closeables.add(backfill);
        backfill.start("t_order");
        assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();

        EventPublisher events = new EventPublisher();
        AtomicLong failedApplies = new AtomicLong();
        AtomicLong parkedKeys = new AtomicLong();
        events.subscribe(event -> {
            if (event instanceof DualWriteEvent.ApplyFailed failed && failed.willRetry()) {
                failedApplies.incrementAndGet();
            } else if (event instanceof DualWriteEvent.KeyParked) {
                parkedKeys.incrementAndGet();
            }
        });
        MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).maxAttempts(100)
                .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(300)).build();
        try (Mirror mirror = Mirror.create(config, tables, stores.source().dataSource(), stores.target(), events)) {
            mirror.start();
            JdbcTemplate app = new JdbcTemplate(stores.source().dataSource());
            AtomicLong writes = new AtomicLong();
            AtomicBoolean writing = new AtomicBoolean(true);
            List<Thread> writers = new ArrayList<>();
            for (int w = 0; w < 4; w++) {
                Thread writer = new Thread(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (writing.get()) {
                        long id = 1 + random.nextInt(random.nextInt(4) == 0 ? 200 : 12);
                        if (random.nextInt(10) < 2) {
                            app.update("DELETE FROM t_order WHERE id = ?", id);
                        } else {
                            app.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES"
                                    + " (?, ?, 'HOT', ?, ?, NOW(3)) ON DUPLICATE KEY UPDATE status = VALUES(status),"
                                    + " amount = VALUES(amount), note = VALUES(note), gmt_modified = NOW(3)",
                                    id, ShardedOrders.userOf(id), BigDecimal.valueOf(random.nextInt(100_000), 2),
                                    random.nextBoolean() ? null : "note " + random.nextInt(1000));
                        }
                        mirror.recorder().record("t_order", id);
                        writes.incrementAndGet();
                    }
                });
                writers.add(writer);
                writer.start();
            }
            Thread.sleep(500);
            network.cut();
            // Two seconds and at least until the mirror has met the cut: on a loaded machine the writers can stall
            // long enough that a fixed window passes with nothing applied to ds_1.
            long outageEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ((System.nanoTime() < outageEnd || failedApplies.get() == 0) && System.nanoTime() < giveUp) {
                Thread.sleep(20);
            }
            network.restore();
            Thread.sleep(1_000);
            writing.set(false);
            for (Thread writer : writers) {
                writer.join();
            }
            assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).as("mirror drained").isTrue();
            assertThat(writes.get()).isGreaterThan(200);
            assertThat(failedApplies.get()).as("applies failed during the cut and were retried").isPositive();
            assertThat(parkedKeys.get()).as("parked keys").isZero();
            assertThat(mirror.parked()).isZero();
        }
        assertThat(stores.differencesPerShard()).isEmpty();
        assertThat(stores.physicalRows().values()).as("the cut database holds rows")
                .anyMatch(row -> String.valueOf(row.get("shard")).startsWith("ds_1."));
    }

    @Test
    void backfill_acrossShards_crashInTheMiddle_resumesAndCopiesEveryRowOnce() throws Exception {
        stores.seed(3_000);
        MappedTables tables = stores.orders();

        BackfillRunner dying = runner(tables, "dying");
        BackfillTestHooks.crashInChunk(dying, 3);
        dying.start("t_order");
        dying.awaitCompletion("t_order", Duration.ofSeconds(30));
        long afterCrash = runner(tables, "reader").progress("t_order").rowsCopied();
        assertThat(afterCrash).as("two chunks committed before the crash").isEqualTo(400);
        assertThat(stores.physicalRows().size()).as("the crashed chunk wrote no shard").isEqualTo(400);

        BackfillRunner finishing = runner(tables, "finishing");
        finishing.start("t_order");
        assertThat(finishing.awaitCompletion("t_order", Duration.ofSeconds(90))).isTrue();
        assertThat(finishing.progress("t_order").rowsCopied()).as("no chunk counted twice").isEqualTo(3_000);
        assertThat(stores.differencesPerShard()).isEmpty();
        assertThat(stores.shard(0).queryForObject("SELECT COUNT(*) FROM dualwrite_checkpoint", Long.class))
                .as("the library's tables live in the home database").isPositive();
    }

    private BackfillRunner runner(MappedTables tables, String owner) {
        BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().chunkSize(200).chunkSizeBounds(200, 200)
                .rangesPerTable(1).leaseDuration(Duration.ofMillis(500)).ownerId(owner).createTables(true).build(),
                tables, stores.source().dataSource(), stores.target(), new EventPublisher());
        closeables.add(runner);
        return runner;
    }

}
