package io.dualwrite.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.DuplicateShardKeyException;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.ShardedSourceOrders;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLNonTransientException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A MariaDB source sharded by hand into 2 databases x 4 tables ({@link ShardedSourceOrders}), given to the library
 * as {@code ds_${0..1}.t_order_${0..3}} with no rule, mirrored and backfilled into one PostgreSQL table.
 */
class ShardedSourceTest {

    private static final String P = "dualwrite.source.shards.tables.t_order.nodes";

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private ShardedSourceOrders stores() {
        ShardedSourceOrders stores = ShardedSourceOrders.create();
        closeables.add(stores);
        return stores;
    }

    @Test
    void inlineNodes_rangesListsAndCommas_expandInShardingSpheresOrder() {
        assertThat(InlineNodes.expand("ds_${0..1}.t_order_${0..3}", P)).extracting(Object::toString)
                .containsExactly("ds_0.t_order_0", "ds_0.t_order_1", "ds_0.t_order_2", "ds_0.t_order_3",
                        "ds_1.t_order_0", "ds_1.t_order_1", "ds_1.t_order_2", "ds_1.t_order_3");
        assertThat(InlineNodes.expand("ds_${['a', 'b']}.t_${[7, 9]}", P)).containsExactly(
                new ShardLayout.Shard("ds_a", "t_7"), new ShardLayout.Shard("ds_a", "t_9"),
                new ShardLayout.Shard("ds_b", "t_7"), new ShardLayout.Shard("ds_b", "t_9"));
        assertThat(InlineNodes.expand(" old.orders, new_db.orders_${0..1} ", P)).containsExactly(
                new ShardLayout.Shard("old", "orders"), new ShardLayout.Shard("new_db", "orders_0"),
                new ShardLayout.Shard("new_db", "orders_1"));
    }

    @Test
    void inlineNodes_badInput_namesThePropertyAndTheExpression() {
        assertThatThrownBy(() -> InlineNodes.expand("ds_${0..}.t_order_${0..3}", P))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(P + ": cannot evaluate inline expression 'ds_${0..}.t_order_${0..3}'"
                        + " (ShardingSphere's parser: ");
        assertThatThrownBy(() -> InlineNodes.expand("ds_${0..1}", P)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage(P + ": inline expression 'ds_${0..1}' gives 'ds_0', which is not data-source.table (one"
                        + " dot; a data source's name of letters, digits, _ and -, a table's of letters, digits, _ and"
                        + " $, at most 63 characters); write ranges as ${0..7} and lists as ${['a', 'b']}");
        assertThatThrownBy(() -> InlineNodes.expand("ds_0.public.t_order", P))
                .hasMessageContaining("gives 'ds_0.public.t_order', which is not data-source.table");
        assertThatThrownBy(() -> InlineNodes.expand("ds_0.t_order; DROP TABLE x", P))
                .hasMessageContaining("which is not data-source.table");
        assertThatThrownBy(() -> InlineNodes.expand("ds_${0..1}.t, ds_1.t", P))
                .hasMessage(P + ": inline expression 'ds_${0..1}.t, ds_1.t' names data node 'ds_1.t' twice");
        assertThatThrownBy(() -> InlineNodes.expand("  ", P))
                .hasMessage(P + ": no data nodes given; list them as data-source.table, for example"
                        + " ds_${0..1}.t_order_${0..7}");
    }

    /**
     * ShardingSphere splits a data node at its dot and takes the data source's name as configured, so {@code ds-0}
     * is a data source as good as {@code ds_0}; a table's name goes into SQL unquoted by ShardingSphere and quoted
     * by ours, which refuses {@code -}: such a node is refused here, naming the property, not later by the SQL.
     */
    @Test
    void inlineNodes_aDashInTheDataSource_isKept_butInTheTable_isRefusedNamingTheProperty() {
        assertThat(InlineNodes.expand("ds-${0..1}.t_order_${0..1}", P)).containsExactly(
                new ShardLayout.Shard("ds-0", "t_order_0"), new ShardLayout.Shard("ds-0", "t_order_1"),
                new ShardLayout.Shard("ds-1", "t_order_0"), new ShardLayout.Shard("ds-1", "t_order_1"));
        assertThatThrownBy(() -> InlineNodes.expand("ds_0.t-order_${0..1}", P))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(P + ": inline expression 'ds_0.t-order_${0..1}' gives 'ds_0.t-order_0', which is not"
                        + " data-source.table (one dot; a data source's name of letters, digits, _ and -, a table's"
                        + " of letters, digits, _ and $, at most 63 characters); write ranges as ${0..7} and lists as"
                        + " ${['a', 'b']}");
    }

    @Test
    void build_listsEveryProblemWithItsProperty() {
        javax.sql.DataSource any = new org.springframework.jdbc.datasource.SimpleDriverDataSource();
        assertThatThrownBy(() -> ShardedSource.builder().dataSource("ds_0", any).home("ds_9")
                .table("t_order", "ds_${0..1}.t_order_${0..1}")
                .table("t_item", List.of(new ShardLayout.Shard("ds_0", "T_ORDER_0")))
                .table("t_bad", "ds_${0..").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.source.shards.home: data source 'ds_9' is not declared; the data"
                        + " sources are [ds_0]")
                .hasMessageContaining(P + ": data node 'ds_1.t_order_0' names data source 'ds_1', which is not"
                        + " declared; the data sources are [ds_0] (dualwrite.source.shards.data-sources.<name>)")
                .hasMessageContaining("dualwrite.source.shards.tables.t_item.nodes: data node 'ds_0.T_ORDER_0' is"
                        + " already a shard of logical table 't_order'")
                .hasMessageContaining("dualwrite.source.shards.tables.t_bad.nodes: cannot evaluate inline expression");
    }

    @Test
    void resolve_missingOrDifferentPhysicalTable_namesLogicalTableShardAndProperty() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.shard(1).execute("DROP TABLE t_order_2", "ALTER TABLE t_order_3 ADD COLUMN extra INT");
        assertThatThrownBy(() -> stores.orders(stores.source()))
                .isInstanceOf(MappingException.class)
                .hasMessageContaining(P + " (ShardedSource.Builder.table in code): table 't_order_2' does not exist in"
                        + " the source data source 'ds_1' (shard of logical table 't_order') database")
                .hasMessageContaining(P + " (ShardedSource.Builder.table in code): shard ds_1.t_order_3 of logical"
                        + " table 't_order' has columns [id, user_id, status, amount, note, gmt_modified, extra]");
    }

    @ParameterizedTest
    @EnumSource(value = MirrorMode.class, names = {"SYNC", "ASYNC"})
    void mirror_hotKeysAndConcurrentWriters_withBackfillOfEveryShardRunning_converge(MirrorMode mode)
            throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(1_500);
        ShardedSource source = stores.source();
        MappedTables tables = stores.orders(source);
        MirrorConfig config = MirrorConfig.builder().mode(mode).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(20)).build();
        try (Mirror mirror = Mirror.create(config, tables, source, stores.target().dataSource(),
                new EventPublisher())) {
            mirror.start();
            BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(50)
                    .chunkSizeBounds(50, 50).threads(2).createTables(true).build(), tables, source,
                    stores.target().dataSource(), new EventPublisher());
            closeables.add(backfill);
            backfill.start("t_order");
            AtomicLong writes = new AtomicLong();
            runWriters(stores, mirror, writes, deadline(Duration.ofSeconds(4)));
            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).isTrue();
            assertThat(writes.get()).isGreaterThan(200);
            assertThat(mirror.parked()).isZero();
        }
        assertThat(stores.differences()).isEmpty();
        assertThat(stores.sourceRows().values().stream().map(copies -> copies.get(0).get("shard")).distinct())
                .as("the rows came from every shard").hasSize(8);
    }

    @Test
    void mirror_targetUnreachableForAWhile_retriesAndConverges() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(200);
        ShardedSourceOrders.Cuttable target = stores.cuttableTarget();
        ShardedSource source = stores.source();
        MappedTables tables = stores.orders(source, target.dataSource());
        BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(100).createTables(true)
                .build(), tables, source, target.dataSource(), new EventPublisher());
        closeables.add(backfill);
        backfill.start("t_order");
        assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        assertThat(stores.differences()).as("the backfill copied every shard").isEmpty();

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
        try (Mirror mirror = Mirror.create(config, tables, source, target.dataSource(), events)) {
            mirror.start();
            AtomicLong writes = new AtomicLong();
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writers = new Thread(() -> {
                try {
                    runWriters(stores, mirror, writes, () -> writing.get());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            writers.start();
            Thread.sleep(500);
            target.network().cut();
            long outageEnd = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ((System.nanoTime() < outageEnd || failedApplies.get() == 0) && System.nanoTime() < giveUp) {
                Thread.sleep(20);
            }
            target.network().restore();
            Thread.sleep(1_000);
            writing.set(false);
            writers.join();
            assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).as("mirror drained").isTrue();
            assertThat(writes.get()).isGreaterThan(200);
            assertThat(failedApplies.get()).as("applies failed during the cut and were retried").isPositive();
            assertThat(parkedKeys.get()).as("parked keys").isZero();
        }
        assertThat(stores.differences()).isEmpty();
    }

    @Test
    void apply_aWriterHoldsTheRowOnItsShard_isDeferredNotCopiedStale_andThenCarriesTheCommittedState()
            throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(20);
        ShardedSource source = stores.source();
        MappedTables tables = stores.orders(source);
        EventPublisher events = new EventPublisher();
        AtomicLong deferred = new AtomicLong();
        events.subscribe(event -> {
            if (event instanceof DualWriteEvent.ApplyDeferred) {
                deferred.incrementAndGet();
            }
        });
        int[] shard = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(7));
        try (Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.ASYNC).maxAttempts(1_000)
                .initialBackoff(Duration.ofMillis(5)).maxBackoff(Duration.ofMillis(20)).build(), tables, source,
                stores.target().dataSource(), events)) {
            mirror.start();
            try (Connection writer = stores.shard(shard[0]).dataSource().getConnection()) {
                writer.setAutoCommit(false);
                try (var update = writer.prepareStatement("UPDATE t_order_" + shard[1] + " SET note = 'held',"
                        + " gmt_modified = NOW(3) WHERE id = 7")) {
                    assertThat(update.executeUpdate()).isEqualTo(1);
                }
                mirror.recorder().record("t_order", 7L);
                long giveUp = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (deferred.get() == 0 && System.nanoTime() < giveUp) {
                    Thread.sleep(10);
                }
                // The share lock NOWAIT reached the physical shard: the apply gave way instead of copying the
                // state the writer is replacing.
                assertThat(deferred.get()).as("applies deferred by the writer's lock").isPositive();
                assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 7", Long.class))
                        .isZero();
                writer.commit();
            }
            assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(stores.target().queryForObject("SELECT note FROM t_order WHERE id = 7", String.class))
                .isEqualTo("held");
    }

    @Test
    void keyOnTwoSourceShards_isReportedByTheApplyAndTheScan_neverMerged() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(20);
        // Id 5 lives on its user's shard; an operator's stray copy sits on another database.
        int[] home = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(5));
        int strayDatabase = 1 - home[0];
        stores.app(strayDatabase).update("INSERT INTO t_order_0 (id, user_id, status, amount, note, gmt_modified)"
                + " VALUES (5, 99, 'STRAY', 1.00, NULL, ?)", Timestamp.valueOf("2026-02-01 00:00:00"));
        ShardedSource source = stores.source();
        MappedTables tables = stores.orders(source);
        TableOps ops = tables.get("t_order").source();

        String expected = "logical table 't_order': key 5 is on 2 shards at once";
        try (Connection connection = source.getConnection()) {
            assertThatThrownBy(() -> ops.readByKeys(connection, List.of(RowKey.of(5L)), false))
                    .isInstanceOf(DuplicateShardKeyException.class).hasMessageContaining(expected)
                    .hasMessageContaining("ds_" + home[0] + ".t_order_" + home[1])
                    .hasMessageContaining("ds_" + strayDatabase + ".t_order_0");
            assertThatThrownBy(() -> ops.scan(connection, null, null, 100, false, null, List.of()))
                    .isInstanceOf(DuplicateShardKeyException.class).hasMessageContaining(expected);
            assertThat(ops.readByKeys(connection, List.of(RowKey.of(6L)), false)).hasSize(1);
        }

        EventPublisher events = new EventPublisher();
        List<Throwable> failures = new CopyOnWriteArrayList<>();
        events.subscribe(event -> {
            if (event instanceof DualWriteEvent.ApplyFailed failed) {
                failures.add(failed.cause());
            }
        });
        try (Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.ASYNC).maxAttempts(2)
                .initialBackoff(Duration.ofMillis(5)).maxBackoff(Duration.ofMillis(10)).build(), tables, source,
                stores.target().dataSource(), events)) {
            mirror.start();
            mirror.recorder().record("t_order", 5L);
            mirror.recorder().record("t_order", 6L);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
            assertThat(mirror.parked()).as("key 5 parked, reported").isEqualTo(1L);
        }
        assertThat(failures).isNotEmpty().allSatisfy(failure -> assertThat(failure)
                .isInstanceOf(DuplicateShardKeyException.class).hasMessageContaining(expected));
        assertThat(stores.target().queryForList("SELECT id FROM t_order ORDER BY id")).as("6 applied, 5 not")
                .extracting(row -> ((Number) row.get("id")).longValue()).containsExactly(6L);

        BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(50).createTables(true)
                .build(), tables, source, stores.target().dataSource(), new EventPublisher());
        closeables.add(backfill);
        backfill.start("t_order");
        // Each physical shard is the backfill's own unit, walked alone: a shard's walk cannot see its rows' keys on
        // the other shards, so the key is copied as one shard holds it, once (the target has one row per key). The
        // reconciler, whose repair reads the key across the shards, is where it is reported
        // (ShardedSourceReconcileTest.aKeyOnTwoSourceShards_failsTheReconcileNamingItAndBothShards).
        assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).as("every shard walked").isTrue();
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 5", Long.class))
                .as("the key on two shards, once in the target").isEqualTo(1L);
    }

    /**
     * A job done over half the shards (the nodes then corrected to all of them) must not stay DONE without the
     * others: started again, it gains a unit for each shard it had not walked and copies their rows.
     */
    @Test
    void shardsAddedAfterTheJobWasDone_areWalkedWhenItStartsAgain() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(40);
        ShardedSource half = ShardedSource.builder().dataSource("ds_0", stores.shard(0).dataSource())
                .dataSource("ds_1", stores.shard(1).dataSource()).table("t_order", "ds_0.t_order_${0..3}").build();
        BackfillConfig config = BackfillConfig.builder().chunkSize(50).createTables(true).build();
        BackfillRunner first = BackfillRunner.create(config, stores.orders(half), half,
                stores.target().dataSource(), new EventPublisher());
        closeables.add(first);
        first.start("t_order");
        assertThat(first.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
        long copiedFromHalf = stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class);
        assertThat(copiedFromHalf).isLessThan(40L);

        ShardedSource all = stores.source();
        BackfillRunner second = BackfillRunner.create(config, stores.orders(all), all, stores.target().dataSource(),
                new EventPublisher());
        closeables.add(second);
        second.start("t_order");
        assertThat(second.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
        assertThat(second.progress("t_order").shards()).as("a unit per shard").hasSize(8);
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class))
                .as("every shard's rows, not only the first half's " + copiedFromHalf).isEqualTo(40L);
        assertThat(stores.differences()).isEmpty();
    }

    /**
     * A job done over every shard whose rule then loses some is refused at start, naming them, "until it is
     * cancelled": cancel must clear a DONE job too (it left DONE ranges alone, so the advice led nowhere but to
     * deleting checkpoint rows by hand), and the job started again copies the shards there are now.
     */
    @Test
    void shardsRemovedAfterTheJobWasDone_refuseTheStart_untilCancelClearsTheJob() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(40);
        BackfillConfig config = BackfillConfig.builder().chunkSize(50).createTables(true).build();
        ShardedSource all = stores.source();
        BackfillRunner first = BackfillRunner.create(config, stores.orders(all), all, stores.target().dataSource(),
                new EventPublisher());
        closeables.add(first);
        first.start("t_order");
        assertThat(first.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
        assertThat(first.progress("t_order").status()).isEqualTo(BackfillStatus.DONE);
        // Emptied so that the copy of the job started again shows in the target.
        stores.target().execute("DELETE FROM t_order");

        ShardedSource half = ShardedSource.builder().dataSource("ds_0", stores.shard(0).dataSource())
                .dataSource("ds_1", stores.shard(1).dataSource()).table("t_order", "ds_0.t_order_${0..3}").build();
        BackfillRunner second = BackfillRunner.create(config, stores.orders(half), half,
                stores.target().dataSource(), new EventPublisher());
        closeables.add(second);
        assertThatThrownBy(() -> second.start("t_order")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("has checkpoints for source shards [ds_1.t_order_0, ds_1.t_order_1,"
                        + " ds_1.t_order_2, ds_1.t_order_3] that the source's sharding rule no longer names")
                .hasMessageContaining("call cancel(\"t_order\") and start it again");

        second.cancel("t_order");
        assertThat(second.progress("t_order").status()).isEqualTo(BackfillStatus.CANCELLED);
        second.start("t_order");
        assertThat(second.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
        assertThat(second.progress("t_order").status()).isEqualTo(BackfillStatus.DONE);
        assertThat(second.progress("t_order").shards()).extracting(BackfillProgress.Shard::shard)
                .containsExactly("ds_0.t_order_0", "ds_0.t_order_1", "ds_0.t_order_2", "ds_0.t_order_3");
        long onFirstDatabase = 0;
        for (int table = 0; table < ShardedSourceOrders.TABLES; table++) {
            onFirstDatabase += stores.shard(0).queryForObject("SELECT COUNT(*) FROM t_order_" + table, Long.class);
        }
        assertThat(onFirstDatabase).isPositive().isLessThan(40L);
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class))
                .as("the rows of the shards the rule names now").isEqualTo(onFirstDatabase);
    }

    /**
     * OUTBOX over a source given as its physical tables: an application transaction on one shard's database would
     * write its outbox rows where the relay never reads, so the mirror refuses to start, naming the property.
     */
    @Test
    void outboxMode_withASourceGivenAsItsPhysicalTables_isRefusedAtStartNamingTheProperty() throws Exception {
        ShardedSourceOrders stores = stores();
        ShardedSource source = stores.source();
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.OUTBOX).createOutboxTable(true).build(),
                stores.orders(source), source, stores.target().dataSource(), new EventPublisher());
        closeables.add(mirror);
        assertThatThrownBy(mirror::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dualwrite.mirror.mode=OUTBOX").hasMessageContaining("dualwrite.source.shards")
                .hasMessageContaining("dualwrite.mirror.mode=ASYNC");
    }

    @Test
    void writeToTheSource_goesToTheShardHoldingTheKey_andANewKeyIsRefusedNamingTheProperty() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(10);
        ShardedSource source = stores.source();
        TableOps ops = stores.orders(source).get("t_order").source();
        int[] of7 = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(7));
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(false);
            Row seven = ops.readByKeys(connection, List.of(RowKey.of(7L)), false).get(RowKey.of(7L));
            Map<String, Object> changed = new LinkedHashMap<>(seven.asMap());
            changed.put("note", "repaired");
            ops.overwrite(connection, List.of(Row.of(changed)));
            Map<String, Object> fresh = new LinkedHashMap<>(seven.asMap());
            fresh.put("id", 500L);
            assertThatThrownBy(() -> ops.overwrite(connection, List.of(Row.of(fresh))))
                    .isInstanceOf(SQLNonTransientException.class)
                    .hasMessageContaining("logical table 't_order' (shards [ds_0.t_order_0 .. ds_1.t_order_3, 8 in"
                            + " all], declared by " + P + " (ShardedSource.Builder.table in code)) has no sharding"
                            + " rule, so the library cannot tell which shard new key 500 belongs on")
                    .hasMessageContaining("dualwrite.source.sharding-sphere-config");
            connection.commit();
        }
        assertThat(stores.shard(of7[0]).queryForObject("SELECT note FROM t_order_" + of7[1] + " WHERE id = 7",
                String.class)).isEqualTo("repaired");
        assertThat(stores.sourceRows()).doesNotContainKey("500");
        assertThat(stores.sourceRows().get("7")).hasSize(1);
    }

    @Test
    void ofShardingSphere_readsTheShardsAndTheRule_andANewKeyGoesWhereTheRuleSays() throws Exception {
        ShardedSourceOrders stores = stores();
        stores.seed(300);
        javax.sql.DataSource shardingSphere = org.apache.shardingsphere.driver.api.yaml
                .YamlShardingSphereDataSourceFactory.createDataSource(stores.shardingSphereYaml()
                        .getBytes(java.nio.charset.StandardCharsets.UTF_8));
        closeables.add((AutoCloseable) shardingSphere);
        ShardedSource source = ShardedSource.ofShardingSphere(shardingSphere);
        assertThat(source.layout("t_order").orElseThrow().shardingColumns()).containsExactly("user_id");
        MappedTables tables = stores.orders(source);
        BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(64).createTables(true)
                .build(), tables, source, stores.target().dataSource(), new EventPublisher());
        closeables.add(backfill);
        backfill.start("t_order");
        assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        assertThat(stores.differences()).isEmpty();

        // A row the source never had (the reverse mirror's insert) goes to the shard ShardingSphere's rule names.
        TableOps ops = tables.get("t_order").source();
        long id = 900;
        long user = ShardedSourceOrders.userOf(id);
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(false);
            Map<String, Object> row = new LinkedHashMap<>(ops.readByKeys(connection, List.of(RowKey.of(7L)), false)
                    .get(RowKey.of(7L)).asMap());
            row.put("id", id);
            row.put("user_id", user);
            ops.overwrite(connection, List.of(Row.of(row)));
            connection.commit();
        }
        int[] shard = ShardedSourceOrders.shardOf(user);
        assertThat(stores.sourceRows().get(String.valueOf(id))).singleElement()
                .satisfies(copy -> assertThat(copy).containsEntry("shard", "ds_" + shard[0] + ".t_order_" + shard[1]));
    }

    private interface Until {
        boolean writing();
    }

    private static Until deadline(Duration length) {
        long until = System.nanoTime() + length.toNanos();
        return () -> System.nanoTime() < until;
    }

    /** Four writers on hot keys (mostly 12 ids, some of 200), inserting, updating and deleting on each key's shard. */
    private static void runWriters(ShardedSourceOrders stores, Mirror mirror, AtomicLong writes, Until until)
            throws InterruptedException {
        List<Thread> writers = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            Thread writer = new Thread(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (until.writing()) {
                    long id = 1 + random.nextInt(random.nextInt(4) == 0 ? 200 : 12);
                    if (random.nextInt(10) < 2) {
                        stores.delete(id);
                    } else {
                        stores.upsert(id, "S" + random.nextInt(10), BigDecimal.valueOf(random.nextInt(100_000), 2),
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
    }
}
