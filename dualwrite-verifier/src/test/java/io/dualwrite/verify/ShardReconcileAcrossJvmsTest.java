package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.ChildJvm;
import io.dualwrite.testing.ShardUnitOrders;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The reconcile with repair of a sharded source ({@link ShardUnitOrders}' 2 MariaDB databases x 4 tables, given to
 * the library as a {@code ShardedSource}) against PostgreSQL's single table, by three instances that are JVMs of
 * their own ({@link ShardReconcileInstance}): one is killed with {@code kill -9} part way through a shard, another
 * frozen with {@code SIGSTOP} part way through a shard until a survivor has taken that shard over and finished it,
 * then let go with {@code SIGCONT}.
 *
 * <p>What the library promises here: each unit (a physical shard, or the walk of the target) is leased and
 * checkpointed; a unit whose holder stops renewing is taken over once its lease runs out and resumed from its
 * checkpoint; an instance that lost its unit's lease stops ({@link ReconcileBusyException}) without writing that
 * unit's checkpoint, so the taker's record of the unit stands.
 */
class ShardReconcileAcrossJvmsTest {

    private static final int ROWS = 2_400;
    private static final int CHUNK = 20;
    private static final int RATE = 300;
    /** The shortest lease the reconciler takes. */
    private static final long LEASE_MS = 3_000;
    private static final String CHECKPOINTS = "dualwrite_reconcile_checkpoint";
    private static final String LEASES = "dualwrite_reconcile_checkpoint_lease";

    private final List<ChildJvm> children = new ArrayList<>();
    private ShardUnitOrders stores;

    @BeforeEach
    void createStores() throws Exception {
        stores = ShardUnitOrders.create();
        stores.seed(ROWS);
        ShardedSource.Builder sharded = ShardedSource.builder();
        List<ShardLayout.Shard> nodes = new ArrayList<>();
        for (int d = 0; d < ShardUnitOrders.DATABASES; d++) {
            sharded.dataSource("ds_" + d, stores.shard(d).dataSource());
            for (int t = 0; t < ShardUnitOrders.TABLES; t++) {
                nodes.add(new ShardLayout.Shard("ds_" + d, "t_order_" + t));
            }
        }
        ShardedSource source = sharded.table("t_order", nodes).build();
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source,
                stores.target().dataSource(), false);
        try (BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(),
                tables, source, stores.target().dataSource(), new EventPublisher())) {
            backfill.start("t_order");
            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        for (ChildJvm child : children) {
            child.close();
        }
        stores.close();
    }

    private ChildJvm instance(String owner, boolean repair) throws Exception {
        return instance(owner, repair, RATE);
    }

    private ChildJvm instance(String owner, boolean repair, int rate) throws Exception {
        String target = stores.target().jdbcUrl() + (stores.target().jdbcUrl().contains("?") ? "&" : "?")
                + "ApplicationName=" + owner;
        List<String> arguments = new ArrayList<>(List.of("owner=" + owner, "tables=" + ShardUnitOrders.TABLES,
                "target=" + target, "user.source=" + credentials(stores.shard(0)),
                "user.target=" + credentials(stores.target()), "chunk=" + CHUNK, "rate=" + rate, "lease=" + LEASE_MS,
                "repair=" + repair));
        for (int d = 0; d < ShardUnitOrders.DATABASES; d++) {
            arguments.add("ds" + d + "=" + stores.shard(d).jdbcUrl());
        }
        ChildJvm child = ChildJvm.start(owner, ShardReconcileInstance.class, arguments);
        children.add(child);
        return child;
    }

    private static String credentials(TestDatabase database) {
        return database.username() + ":" + (database.password() == null ? "" : database.password());
    }

    /** The physical shard whose lease an instance holds now, or null (none, the target walk, no tables yet). */
    private String shardHeldBy(ChildJvm child) {
        if (!stores.target().queryForObject("SELECT to_regclass(?) IS NOT NULL AND to_regclass(?) IS NOT NULL",
                Boolean.class, LEASES, CHECKPOINTS)) {
            return null;
        }
        List<String> held = new JdbcTemplate(stores.target().dataSource()).queryForList("SELECT table_name FROM " + LEASES + " WHERE owner = ? AND"
                + " valid_until_ms > ? AND table_name LIKE 't_order#ds%'", String.class, child.name(),
                System.currentTimeMillis());
        return held.isEmpty() ? null : held.get(0).substring("t_order#".length());
    }

    /** A unit's checkpoint row, or null before its first checkpoint. */
    private Map<String, Object> checkpoint(String unit) {
        List<Map<String, Object>> rows = stores.target().queryForList("SELECT status, compared, missing, extra,"
                + " different, repaired, unrepaired, last_key, updated_ms FROM " + CHECKPOINTS + " WHERE job = ?",
                "t_order||#" + unit);
        return rows.isEmpty() ? null : rows.get(0);
    }

    private static long compared(Map<String, Object> checkpoint) {
        return checkpoint == null ? 0 : ((Number) checkpoint.get("compared")).longValue();
    }

    @Test
    void threeJvms_oneKilledMidShard_oneFrozenUntilItsShardIsDone_everyShardRepaired_andTheWokenOneLeavesItsLostShardAlone()
            throws Exception {
        // Differences on every shard, at its largest ids (after where any instance is stopped), and a row no shard has.
        int planted = 0;
        for (String shard : ShardUnitOrders.shardNames()) {
            List<Long> last = stores.physical(shard).queryForList("SELECT id FROM " + ShardUnitOrders.table(shard)
                    + " ORDER BY id DESC LIMIT 2", Long.class);
            stores.target().execute("UPDATE t_order SET note = 'changed' WHERE id = " + last.get(0),
                    "DELETE FROM t_order WHERE id = " + last.get(1));
            planted += 2;
        }
        stores.target().execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES"
                + " (100000, 3, 'X', 1.00, NULL, TIMESTAMP '2026-01-01 12:00:00')");
        planted++;
        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).as(shard).hasSize(shard.equals(ShardUnitOrders.shardOf(3)) ? 3 : 2);
        }

        List<ChildJvm> started = List.of(instance("rec-a", true), instance("rec-b", true), instance("rec-c", true));

        // kill -9 the first instance seen holding a shard it has checkpointed part way.
        ChildJvm victim = null;
        String killedShard = null;
        long deadline = System.currentTimeMillis() + 60_000;
        while (victim == null) {
            assertThat(System.currentTimeMillis()).as("an instance part way through a shard").isLessThan(deadline);
            for (ChildJvm child : started) {
                assertThat(child.isAlive()).as("%s runs\n%s", child.name(), child.tail()).isTrue();
                String shard = shardHeldBy(child);
                long compared = shard == null ? 0 : compared(checkpoint(shard));
                if (compared > 0 && compared < stores.count(shard) / 2) {
                    child.kill();
                    victim = child;
                    killedShard = shard;
                    break;
                }
            }
            Thread.sleep(5);
        }
        assertThat(checkpoint(killedShard).get("status")).isEqualTo("RUNNING");

        // SIGSTOP a second instance part way through a shard, until the third has taken it over and finished it.
        ChildJvm victimFinal = victim;
        List<ChildJvm> living = started.stream().filter(c -> c != victimFinal).toList();
        ChildJvm frozen = null;
        ChildJvm survivor = null;
        String frozenShard = null;
        long frozenAt = 0;
        for (int attempt = 0; frozen == null; attempt++) {
            assertThat(attempt).as("an instance frozen part way through a shard").isLessThan(40);
            ChildJvm candidate = living.get(attempt % 2);
            long since = System.currentTimeMillis();
            candidate.await("a chunk", r -> r.kind().equals("chunk") && r.atMillis() >= since, 30_000);
            candidate.freeze();
            frozenAt = System.currentTimeMillis();
            String shard = shardHeldBy(candidate);
            Map<String, Object> checkpoint = shard == null ? null : checkpoint(shard);
            if (checkpoint != null && checkpoint.get("status").equals("RUNNING")
                    && compared(checkpoint) < stores.count(shard) / 2) {
                frozen = candidate;
                survivor = living.get((attempt + 1) % 2);
                frozenShard = shard;
            } else {
                candidate.thaw();
            }
        }
        deadline = System.currentTimeMillis() + 40_000;
        while (!"DONE".equals(checkpoint(frozenShard).get("status"))) {
            assertThat(survivor.isAlive()).as("%s runs\n%s", survivor.name(), survivor.tail()).isTrue();
            assertThat(System.currentTimeMillis()).as("%s finishes %s\n%s", survivor.name(), frozenShard,
                    survivor.tail()).isLessThan(deadline);
            Thread.sleep(10);
        }
        Map<String, Object> asTheTakerLeftIt = checkpoint(frozenShard);
        assertThat(System.currentTimeMillis() - frozenAt).as("frozen longer than its lease").isGreaterThan(LEASE_MS);
        frozen.thaw();

        assertThat(survivor.awaitExit(45_000)).as(survivor.tail()).isZero();
        int frozenExit = frozen.awaitExit(45_000);
        assertThat(frozenExit).as("the woken instance ends, done or told its unit was taken\n%s", frozen.tail())
                .isIn(0, 3);

        // The woken instance wrote nothing to the shard it had lost: its checkpoint is as the taker left it.
        assertThat(checkpoint(frozenShard)).as("checkpoint of %s", frozenShard).isEqualTo(asTheTakerLeftIt);
        // Every difference repaired, and the round's report, per unit and in total, as the survivor saw it end.
        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).as("shard %s", shard).isEmpty();
        }
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo((long) ROWS);
        ChildJvm.Report end = survivor.await("its end", r -> r.kind().equals("end"), 1_000);
        assertThat(end.get("complete")).isEqualTo("true");
        assertThat(end.number("compared")).as("every row compared once").isEqualTo(ROWS);
        assertThat(end.number("differences")).isEqualTo(end.number("repaired")).isPositive().isLessThanOrEqualTo(planted);
        for (String unit : end.get("units").split(",")) {
            String[] fields = unit.split(":");
            assertThat(fields[1]).as("unit %s done", fields[0]).isEqualTo("true");
            if (!fields[0].equals("target")) {
                assertThat(Long.parseLong(fields[2])).as("rows of %s compared once", fields[0])
                        .isEqualTo(stores.count(fields[0]));
            }
        }
        assertThat(new JdbcTemplate(stores.target().dataSource()).queryForList("SELECT status FROM " + CHECKPOINTS,
                String.class))
                .hasSize(ShardUnitOrders.shardNames().size() + 1).containsOnly("DONE");
        assertThat(started.stream().filter(c -> !c.reports("chunk").isEmpty()).count())
                .as("instances that compared chunks").isGreaterThan(1);

        // A second pass, unthrottled and dry, finds nothing left to repair.
        ChildJvm again = instance("rec-again", false, 50_000);
        assertThat(again.awaitExit(45_000)).as(again.tail()).isZero();
        ChildJvm.Report second = again.await("its end", r -> r.kind().equals("end"), 1_000);
        assertThat(second.get("complete")).isEqualTo("true");
        assertThat(second.number("compared")).isEqualTo(ROWS);
        assertThat(second.number("differences")).isZero();
    }
}
