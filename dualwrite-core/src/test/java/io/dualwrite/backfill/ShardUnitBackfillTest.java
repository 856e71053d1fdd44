package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.testing.ShardUnitOrders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The backfill of a sharded source ({@link ShardUnitOrders}: MariaDB split by ShardingSphere-JDBC into 2 databases x
 * 4 tables by {@code user_id}) into PostgreSQL's single table: each physical shard is a unit of work of its own,
 * leased, checkpointed and resumed. Every runner has its own ShardingSphere data source and target pool, as separate
 * instances of the service do.
 */
class ShardUnitBackfillTest {

    private static final int ROWS = 2_000;
    private static final int CHUNK = 50;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    /** Rows each owner copied from each shard, from the ChunkCopied events: a row copied twice is counted twice. */
    private final Map<String, Map<String, AtomicInteger>> copiedByShard = new ConcurrentHashMap<>();
    private ShardUnitOrders stores;

    @BeforeEach
    void createStores() {
        stores = ShardUnitOrders.create();
        stores.seed(ROWS);
    }

    @AfterEach
    void closeStores() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        stores.close();
    }

    /** One instance: its own sharded source, target pool, mappings and runner. */
    private BackfillRunner instance(String owner) throws Exception {
        DataSource source = stores.source();
        MappedTables tables = stores.orders(source);
        com.zaxxer.hikari.HikariDataSource target = new com.zaxxer.hikari.HikariDataSource();
        target.setJdbcUrl(stores.target().jdbcUrl());
        target.setUsername(stores.target().username());
        target.setPassword(stores.target().password());
        target.setMaximumPoolSize(4);
        closeables.add(target);
        EventPublisher events = new EventPublisher().subscribe(event -> {
            if (event instanceof DualWriteEvent.ChunkCopied chunk) {
                copiedByShard.computeIfAbsent(chunk.shard(), shard -> new ConcurrentHashMap<>())
                        .computeIfAbsent(owner, o -> new AtomicInteger()).addAndGet(chunk.rows());
            }
        });
        // Throttled so that the two live instances overlap and both take shards.
        BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().ownerId(owner).chunkSize(CHUNK)
                .chunkSizeBounds(CHUNK, CHUNK).threads(1).rowsPerSecond(1_500).leaseDuration(Duration.ofSeconds(1))
                .createTables(true).build(), tables, source, target, events);
        closeables.add(runner);
        return runner;
    }

    /** What the scenario left. */
    private record Outcome(String deadShard, int copiedBeforeCrash, Map<String, Long> checkpointRows,
            long rowsWritten) {
    }

    /**
     * An instance dies inside the third chunk of its first shard (holding the lease, like a killed JVM); two
     * instances then share the shards, and the dead one's shard is taken over once its lease expires.
     */
    private Outcome crashMidShardThenTwoInstancesFinish(boolean resumeFromCheckpoint) throws Exception {
        BackfillRunner dying = instance("dying");
        AtomicInteger chunks = new AtomicInteger();
        AtomicReference<String> deadShard = new AtomicReference<>();
        CountDownLatch died = new CountDownLatch(1);
        dying.hookForTesting((table, range, rows) -> {
            if (chunks.incrementAndGet() == 3) {
                deadShard.set(ShardUnitOrders.shardOf(((Number) rows.get(0).get("user_id")).longValue()));
                died.countDown();
                throw new IllegalStateException("simulated crash inside a chunk");
            }
        });
        dying.start("t_order");
        assertThat(died.await(30, TimeUnit.SECONDS)).isTrue();
        dying.awaitCompletion("t_order", Duration.ofSeconds(30));

        BackfillProgress afterCrash = dying.progress("t_order");
        assertThat(afterCrash.shards()).extracting(BackfillProgress.Shard::shard)
                .as("one unit of work per physical shard").containsExactlyElementsOf(ShardUnitOrders.shardNames());
        BackfillProgress.Shard dead = afterCrash.shards().stream().filter(s -> s.shard().equals(deadShard.get()))
                .findFirst().orElseThrow();
        assertThat(dead.status()).isEqualTo(BackfillStatus.RUNNING);
        assertThat(dead.owner()).contains("dying");
        assertThat(dead.rowsCopied()).as("two chunks committed before the crash").isEqualTo(2L * CHUNK);
        assertThat(afterCrash.rowsCopied()).isEqualTo(2L * CHUNK);

        List<BackfillRunner> live = List.of(instance("instance-a"), instance("instance-b"));
        for (BackfillRunner runner : live) {
            runner.resumeFromCheckpointForTesting(resumeFromCheckpoint);
            runner.start("t_order");
        }
        for (BackfillRunner runner : live) {
            assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(90))).isTrue();
        }
        Map<String, Long> checkpointRows = new TreeMap<>();
        for (Map<String, Object> row : stores.target().queryForList("SELECT shard, status, rows_copied FROM"
                + " dualwrite_checkpoint WHERE job = 't_order'")) {
            assertThat(row.get("status")).as("shard %s", row.get("shard")).isEqualTo("DONE");
            Long previous = checkpointRows.put((String) row.get("shard"), ((Number) row.get("rows_copied")).longValue());
            assertThat(previous).as("one checkpoint row per shard").isNull();
        }
        long written = copiedByShard.values().stream().flatMap(owners -> owners.values().stream())
                .mapToLong(AtomicInteger::get).sum();
        return new Outcome(deadShard.get(), dead.rowsCopied() > 0 ? (int) dead.rowsCopied() : 0, checkpointRows,
                written);
    }

    @Test
    void shardsAreUnitsOfWork_twoInstancesShareThem_andADeadInstancesShardResumesFromItsCheckpoint()
            throws Exception {
        Outcome outcome = crashMidShardThenTwoInstancesFinish(true);

        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).as("shard %s", shard).isEmpty();
            assertThat(outcome.checkpointRows()).as("checkpoint of %s", shard).containsEntry(shard, stores.count(shard));
        }
        assertThat(outcome.checkpointRows().keySet()).containsExactlyInAnyOrderElementsOf(ShardUnitOrders.shardNames());
        assertThat(outcome.rowsWritten()).as("every row written exactly once, the crashed chunk not at all")
                .isEqualTo(ROWS);
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo((long) ROWS);

        Set<String> ownersOfDeadShard = copiedByShard.get(outcome.deadShard()).keySet();
        assertThat(ownersOfDeadShard).as("the dead instance's shard was taken over").hasSize(2).contains("dying");
        String taker = new TreeSet<>(ownersOfDeadShard).stream().filter(o -> !o.equals("dying")).findFirst()
                .orElseThrow();
        assertThat(copiedByShard.get(outcome.deadShard()).get(taker).get()).as("resumed after its last checkpoint")
                .isEqualTo(stores.count(outcome.deadShard()) - outcome.copiedBeforeCrash());
        Map<String, Set<String>> shardsByOwner = new TreeMap<>();
        copiedByShard.forEach((shard, owners) -> owners.keySet().forEach(owner ->
                shardsByOwner.computeIfAbsent(owner, o -> new TreeSet<>()).add(shard)));
        assertThat(shardsByOwner.get("instance-a")).as("both live instances took shards: %s", shardsByOwner).isNotEmpty();
        assertThat(shardsByOwner.get("instance-b")).as("both live instances took shards: %s", shardsByOwner).isNotEmpty();
        copiedByShard.forEach((shard, owners) -> {
            if (!shard.equals(outcome.deadShard())) {
                assertThat(owners).as("shard %s walked by one instance", shard).hasSize(1);
            }
        });
    }

    @Test
    void withoutItsCheckpoint_theTakenOverShardIsCopiedAgain_andTheRewriteCountCatchesIt() throws Exception {
        Outcome outcome = crashMidShardThenTwoInstancesFinish(false);

        // The target converges either way (the upsert is idempotent): only the count of rows written tells.
        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).as("shard %s", shard).isEmpty();
        }
        assertThat(outcome.rowsWritten()).isEqualTo(ROWS + outcome.copiedBeforeCrash());
        assertThat(outcome.checkpointRows()).containsEntry(outcome.deadShard(),
                stores.count(outcome.deadShard()) + outcome.copiedBeforeCrash());
    }

    /**
     * A chunk read from one physical shard holds its rows' share lock until the target has committed, as on an
     * unsharded source: an application update of a chunk's row on that shard waits. Without the lock (the negative
     * control) the update goes through at once.
     */
    @ParameterizedTest(name = "lock source rows: {0}")
    @ValueSource(booleans = {true, false})
    void aChunkOfAShard_holdsItsRowsShareLockUntilTheTargetCommits(boolean lock) throws Exception {
        BackfillRunner runner = instance("locking");
        runner.lockSourceRowsForTesting(lock);
        AtomicReference<String> update = new AtomicReference<>();
        runner.hookForTesting((table, range, rows) -> {
            if (update.get() != null) {
                return;
            }
            long id = Long.parseLong(String.valueOf(rows.get(0).get("id")));
            String shard = ShardUnitOrders.shardOf(Long.parseLong(String.valueOf(rows.get(0).get("user_id"))));
            try (var connection = stores.physical(shard).getDataSource().getConnection();
                    var statement = connection.createStatement()) {
                statement.execute("SET SESSION innodb_lock_wait_timeout = 1");
                statement.executeUpdate("UPDATE " + ShardUnitOrders.table(shard) + " SET note = 'app' WHERE id = " + id);
                update.set("went through");
            } catch (java.sql.SQLException e) {
                update.set("waited: " + e.getMessage());
            }
        });
        runner.start("t_order");
        assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        if (lock) {
            assertThat(update.get()).startsWith("waited: ").contains("Lock wait timeout");
        } else {
            assertThat(update.get()).isEqualTo("went through");
        }
    }
}
