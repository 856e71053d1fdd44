package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.ShardUnitOrders;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The reconciler over a sharded source ({@link ShardUnitOrders}: MariaDB split by ShardingSphere-JDBC into 2
 * databases x 4 tables by {@code user_id}) and PostgreSQL's single table: each physical shard, and the walk of the
 * target, is a unit of work that two instances share through leases and checkpoints.
 */
class ShardUnitReconcileTest {

    private static final int ROWS = 800;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private ShardUnitOrders stores;

    @BeforeEach
    void createStores() throws Exception {
        stores = ShardUnitOrders.create();
        stores.seed(ROWS);
        DataSource source = stores.source();
        try (BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(),
                stores.orders(source), source, stores.target().dataSource(), new EventPublisher())) {
            backfill.start("t_order");
            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
        }
        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).isEmpty();
        }
    }

    @AfterEach
    void closeStores() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
        stores.close();
    }

    /** One instance's reconciler: its own sharded source, mappings and mirror to repair through. */
    private Reconciler instance(String owner, boolean repair) throws Exception {
        DataSource source = stores.source();
        MappedTables tables = stores.orders(source);
        // Throttled so that the two instances overlap and both take units.
        ReconcileConfig.Builder config = ReconcileConfig.builder().owner(owner).chunkSize(20).rowsPerSecond(1_000)
                .createTables(true);
        if (repair) {
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source, stores.target().dataSource(),
                    new EventPublisher());
            closeables.add(mirror);
            config.repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10)));
        } else {
            config.dryRun(true);
        }
        return Reconciler.create(config.build(), tables, source, stores.target().dataSource(), event -> { });
    }

    @Test
    void twoInstancesShareTheShards_findAndRepairDifferencesOnTwoShards_andReportEachShard() throws Exception {
        // A row of one shard changed in the target, a row of another deleted there, and a row no shard holds.
        long changed = 7;
        long deleted = 8;
        String changedShard = ShardUnitOrders.shardOf(ShardUnitOrders.userOf(changed));
        String deletedShard = ShardUnitOrders.shardOf(ShardUnitOrders.userOf(deleted));
        assertThat(changedShard).isNotEqualTo(deletedShard);
        stores.target().execute("UPDATE t_order SET note = 'changed' WHERE id = " + changed,
                "DELETE FROM t_order WHERE id = " + deleted,
                "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (10000, 3, 'X', 1.00,"
                + " NULL, TIMESTAMP '2026-01-01 12:00:00')");

        // No table of the reconciler's yet: the two create them at the same moment.
        List<ReconcileReport> reports = runTogether(instance("rec-a", true), instance("rec-b", true));

        for (ReconcileReport report : reports) {
            assertThat(report.complete()).as(report.toString()).isTrue();
            assertThat(List.of(report.compared(), report.missingInTarget(), report.extraInTarget(), report.different(),
                    report.repaired(), report.unrepaired())).as("the round's totals, %s", report)
                    .containsExactly((long) ROWS, 1L, 1L, 1L, 3L, 0L);
        }
        ReconcileReport report = reports.get(0);
        List<String> units = new ArrayList<>(ShardUnitOrders.shardNames());
        units.add("target");
        assertThat(report.shards()).extracting(ReconcileReport.Shard::unit).containsExactlyElementsOf(units);
        Map<String, Long> differences = new TreeMap<>();
        Set<String> owners = new TreeSet<>();
        for (ReconcileReport.Shard unit : report.shards()) {
            assertThat(unit.done()).as(unit.unit()).isTrue();
            differences.put(unit.unit(), unit.differences());
            unit.owner().ifPresent(owners::add);
            if (!unit.unit().equals("target")) {
                assertThat(unit.compared()).as("rows of %s", unit.unit()).isEqualTo(stores.count(unit.unit()));
            }
        }
        assertThat(differences).containsEntry(changedShard, 1L).containsEntry(deletedShard, 1L)
                .containsEntry("target", 1L);
        assertThat(differences.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(3);
        assertThat(owners).as("both instances took units").containsExactly("rec-a", "rec-b");
        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).as("shard %s", shard).isEmpty();
        }
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo((long) ROWS);

        // Every unit done: the next run is a new round, and finds nothing.
        ReconcileReport again = instance("rec-c", false).run("t_order");
        assertThat(again.differences()).isZero();
        assertThat(again.compared()).isEqualTo(ROWS);
        assertThat(again.shards()).allMatch(unit -> unit.owner().equals(Optional.of("rec-c")));
    }

    /**
     * Two instances start together after a finished round, and rec-a wins the table's lease to begin the new one: at
     * that moment rec-b still sees every unit done, by the old round. It must wait and look again, not return the old
     * round's report, unchanged and compared by nobody, as if it were its own.
     */
    @Test
    void anInstanceThatLosesTheRoundsLease_waitsAndReportsTheRoundRun_notTheFinishedOne() throws Exception {
        assertThat(instance("rec-old", false).run("t_order").complete()).isTrue();
        // rec-a holds the table's lease, as it does while it forgets the old round's checkpoints.
        stores.target().execute("UPDATE dualwrite_reconcile_checkpoint_lease SET owner = 'rec-a', valid_until_ms = "
                + (System.currentTimeMillis() + 60_000) + " WHERE table_name = 't_order'");
        Reconciler late = instance("rec-b", false);
        ExecutorService pool = Executors.newSingleThreadExecutor();
        try {
            Future<ReconcileReport> lateRun = pool.submit(() -> late.run("t_order"));
            Thread.sleep(500);
            assertThat(lateRun.isDone()).as("rec-b waits while rec-a holds the table's lease").isFalse();
            ReconcileReport first = instance("rec-a", false).run("t_order");
            ReconcileReport second = lateRun.get(120, TimeUnit.SECONDS);
            for (ReconcileReport report : List.of(first, second)) {
                assertThat(report.complete()).as(report.toString()).isTrue();
                assertThat(report.compared()).isEqualTo(ROWS);
                assertThat(report.shards()).as("units compared in this round, not rec-old's").allSatisfy(unit ->
                        assertThat(unit.owner()).get().isIn("rec-a", "rec-b"));
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void aDryRunInterruptedByItsBudget_resumesShardByShard_withoutComparingADoneShardAgain() throws Exception {
        resumeAfterABudgetStop(false);
    }

    @Test
    void aUnitLeftLeasedByADeadInstance_isTakenOverWhenTheLeaseRunsOut_andResumedFromItsCheckpoint() throws Exception {
        resumeAfterABudgetStop(true);
    }

    /**
     * A run stopped by its time budget leaves some units done and one part way; a second run finishes them. With
     * {@code deadHolder} the part-way unit's lease is left held (as by an instance that died), so the second run
     * does the other units and takes that one over only once the lease has run out.
     */
    private void resumeAfterABudgetStop(boolean deadHolder) throws Exception {
        stores.target().execute("DELETE FROM t_order WHERE id = 7");
        Reconciler first = Reconciler.create(ReconcileConfig.builder().owner("budgeted").chunkSize(20)
                .rowsPerSecond(400).timeBudget(Duration.ofMillis(300)).dryRun(true).createTables(true).build(),
                stores.orders(stores.source()), stores.source(), stores.target().dataSource(), event -> { });
        ReconcileReport interrupted = first.run("t_order");
        assertThat(interrupted.complete()).isFalse();
        List<String> doneBefore = interrupted.shards().stream().filter(ReconcileReport.Shard::done)
                .map(ReconcileReport.Shard::unit).toList();
        long comparedBefore = interrupted.compared();
        assertThat(comparedBefore).isPositive().isLessThan(ROWS);
        String partWay = interrupted.shards().stream().filter(unit -> !unit.done() && unit.compared() > 0)
                .map(ReconcileReport.Shard::unit).findFirst().orElseThrow();
        long leaseRunsOut = System.currentTimeMillis() + 1_500;
        if (deadHolder) {
            stores.target().execute("UPDATE dualwrite_reconcile_checkpoint_lease SET owner = 'dead', valid_until_ms = "
                    + leaseRunsOut + " WHERE table_name = 't_order#" + partWay + "'");
        }

        java.util.concurrent.atomic.AtomicLong rowsReadByResumed = new java.util.concurrent.atomic.AtomicLong();
        Reconciler resumed = Reconciler.create(ReconcileConfig.builder().owner("resumed").chunkSize(20).dryRun(true)
                .createTables(true).build(), stores.orders(stores.source()), stores.source(),
                stores.target().dataSource(), event -> {
                    if (event instanceof VerifyEvent.ChunkReconciled chunk) {
                        rowsReadByResumed.addAndGet(chunk.rows());
                    }
                });
        ReconcileReport rest = resumed.run("t_order");
        if (deadHolder) {
            assertThat(System.currentTimeMillis()).as("waited for the dead holder's lease").isGreaterThanOrEqualTo(
                    leaseRunsOut);
        }
        assertThat(rest.complete()).isTrue();
        assertThat(rest.compared()).isEqualTo(ROWS);
        assertThat(rest.missingInTarget()).isEqualTo(1);
        for (ReconcileReport.Shard unit : rest.shards()) {
            assertThat(unit.owner()).as(unit.unit()).contains(doneBefore.contains(unit.unit()) ? "budgeted" : "resumed");
        }
        // The resumed run read only the source rows the first had not checkpointed (a budget stop checkpoints where it
        // stands), and the target's rows once if the first had not walked them: a shard started over would read more.
        long targetRows = ROWS - 1;
        assertThat(rowsReadByResumed.get()).isEqualTo(ROWS - comparedBefore
                + (doneBefore.contains("target") ? 0 : targetRows));
    }

    private static List<ReconcileReport> runTogether(Reconciler... reconcilers) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(reconcilers.length);
        try {
            List<Future<ReconcileReport>> runs = new ArrayList<>();
            for (Reconciler reconciler : reconcilers) {
                runs.add(pool.submit(() -> reconciler.run("t_order")));
            }
            List<ReconcileReport> reports = new ArrayList<>();
            for (Future<ReconcileReport> run : runs) {
                reports.add(run.get(120, TimeUnit.SECONDS));
            }
            return reports;
        } finally {
            pool.shutdownNow();
        }
    }
}
