package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.ChildJvm;
import io.dualwrite.testing.ShardUnitOrders;
import io.dualwrite.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The shards of a sharded source ({@link ShardUnitOrders}' 2 MariaDB databases x 4 tables, given to the library as a
 * {@code ShardedSource}) backfilled into PostgreSQL's single table by three instances that are JVMs of their own
 * ({@link ShardBackfillInstance}), under real faults: one is killed with {@code kill -9} in the middle of a shard,
 * another is frozen with {@code SIGSTOP} for longer than its lease, until a survivor has taken its shard over, then
 * let go with {@code SIGCONT}.
 *
 * <p>What the library promises here: a chunk's rows are written in the same target transaction as its checkpoint's
 * advance, and the advance succeeds only while the writer still owns the shard ({@code owner} and {@code RUNNING} in
 * its checkpoint row). So the killed instance's shard resumes after its last committed chunk, and the frozen one,
 * woken, writes nothing more to the shard it lost: each shard's checkpoint counts its rows exactly once.
 */
class ShardBackfillAcrossJvmsTest {

    private static final int ROWS = 4_800;
    private static final int CHUNK = 50;
    /**
     * Per instance: a shard of ~600 rows takes more than a second (the first second's tokens come at once), the
     * whole job several.
     */
    private static final int RATE = 400;
    private static final long LEASE_MS = 2_000;

    private final List<ChildJvm> children = new ArrayList<>();
    private ShardUnitOrders stores;

    @BeforeEach
    void createStores() {
        stores = ShardUnitOrders.create();
        stores.seed(ROWS);
    }

    @AfterEach
    void closeAll() throws Exception {
        for (ChildJvm child : children) {
            child.close();
        }
        stores.close();
    }

    private ChildJvm instance(String owner) throws Exception {
        // Each instance names its sessions, so that the test can see when the server has noticed one gone.
        String target = stores.target().jdbcUrl() + (stores.target().jdbcUrl().contains("?") ? "&" : "?")
                + "ApplicationName=" + owner;
        List<String> arguments = new ArrayList<>(List.of("owner=" + owner, "tables=" + ShardUnitOrders.TABLES,
                "target=" + target, "user.source=" + credentials(stores.shard(0)),
                "user.target=" + credentials(stores.target()), "chunk=" + CHUNK, "rate=" + RATE, "lease=" + LEASE_MS));
        for (int d = 0; d < ShardUnitOrders.DATABASES; d++) {
            arguments.add("ds" + d + "=" + stores.shard(d).jdbcUrl());
        }
        ChildJvm child = ChildJvm.start(owner, ShardBackfillInstance.class, arguments);
        children.add(child);
        return child;
    }

    private static String credentials(TestDatabase database) {
        return database.username() + ":" + (database.password() == null ? "" : database.password());
    }

    /** The checkpoint row of a range: status, owner, rows_copied. */
    private Map<String, Object> checkpoint(long range) {
        List<Map<String, Object>> rows = stores.target().queryForList("SELECT status, owner, rows_copied FROM"
                + " dualwrite_checkpoint WHERE job = 't_order' AND range_id = ?", range);
        assertThat(rows).as("checkpoint of range %s", range).hasSize(1);
        return rows.get(0);
    }

    private static List<ChildJvm.Report> all(List<ChildJvm> children, String kind, long range) {
        return children.stream().flatMap(c -> c.reports(kind).stream()).filter(r -> r.number("range") == range)
                .toList();
    }

    @Test
    void threeJvms_oneKilledMidShard_oneFrozenPastItsLease_everyShardCopiedOnce_theKilledShardResumedFromItsCheckpoint()
            throws Exception {
        List<ChildJvm> started = List.of(instance("jvm-a"), instance("jvm-b"), instance("jvm-c"));

        // kill -9 the first instance seen two chunks into a shard: it holds that shard's lease, part way.
        ChildJvm victim = null;
        long killedRange = -1;
        long deadline = System.currentTimeMillis() + 60_000;
        while (victim == null) {
            assertThat(System.currentTimeMillis()).as("an instance two chunks into a shard").isLessThan(deadline);
            for (ChildJvm child : started) {
                List<ChildJvm.Report> chunks = child.reports("chunk");
                if (chunks.size() >= 2 && chunks.get(chunks.size() - 2).number("range")
                        == chunks.get(chunks.size() - 1).number("range")) {
                    child.kill();
                    victim = child;
                    killedRange = chunks.get(chunks.size() - 1).number("range");
                    break;
                }
            }
            Thread.sleep(1);
        }
        long killedAt = System.currentTimeMillis();
        // A commit it had sent just before it died still lands: read its checkpoint once the server saw it gone.
        awaitDisconnected(victim);
        String killedShard = shardOfRange(killedRange);
        Map<String, Object> atKill = checkpoint(killedRange);
        long committedByVictim = ((Number) atKill.get("rows_copied")).longValue();
        assertThat(atKill.get("status")).as("the killed instance's shard %s", killedShard).isEqualTo("RUNNING");
        assertThat(atKill.get("owner")).isEqualTo(victim.name());
        assertThat(committedByVictim).as("killed mid-shard").isGreaterThanOrEqualTo(2L * CHUNK)
                .isLessThan(stores.count(killedShard));

        // SIGSTOP a second instance part way through a shard, and keep it frozen until the third has taken that shard
        // over. Frozen between its checkpoint's advance and its commit it holds the checkpoint row's lock, and nobody
        // may take the shard (by design: the claim skips a locked row): then it is let go and frozen again.
        ChildJvm victimFinal = victim;
        List<ChildJvm> living = started.stream().filter(c -> c != victimFinal).toList();
        ChildJvm frozen = null;
        ChildJvm survivor = null;
        long frozenRange = -1;
        long frozenAt = 0;
        for (int attempt = 0; frozen == null; attempt++) {
            assertThat(attempt).as("an instance frozen part way through a shard").isLessThan(20);
            ChildJvm candidate = living.get(attempt % 2);
            long since = System.currentTimeMillis();
            ChildJvm.Report chunk = candidate.await("a chunk", r -> r.kind().equals("chunk") && r.atMillis() >= since,
                    30_000);
            candidate.freeze();
            frozenAt = System.currentTimeMillis();
            long range = chunk.number("range");
            Map<String, Object> held = checkpoint(range);
            if ("RUNNING".equals(held.get("status")) && candidate.name().equals(held.get("owner"))
                    && !checkpointLocked(range)) {
                frozen = candidate;
                survivor = living.get((attempt + 1) % 2);
                frozenRange = range;
            } else {
                candidate.thaw();
            }
        }
        long rangeOfFrozen = frozenRange;
        String frozenShard = shardOfRange(frozenRange);
        long frozenSince = frozenAt;
        String taker = survivor.name();
        deadline = System.currentTimeMillis() + 40_000;
        while (!taker.equals(checkpoint(frozenRange).get("owner"))) {
            assertThat(System.currentTimeMillis()).as("%s takes over %s\n%s", taker, frozenShard, survivor.tail())
                    .isLessThan(deadline);
            Thread.sleep(10);
        }
        long thawedAt = System.currentTimeMillis();
        assertThat(thawedAt - frozenAt).as("frozen longer than its lease").isGreaterThan(LEASE_MS);
        frozen.thaw();

        for (ChildJvm child : living) {
            assertThat(child.awaitExit(45_000)).as(child.tail()).isZero();
        }

        // Progress per shard and in total, as each surviving instance reported it at its end.
        for (ChildJvm child : living) {
            ChildJvm.Report end = child.await("its end", r -> r.kind().equals("end"), 1_000);
            assertThat(end.get("status")).as(child.name()).isEqualTo("DONE");
            assertThat(end.number("rows")).as(child.name()).isEqualTo(ROWS);
            assertThat(end.get("shards")).isEqualTo(ShardUnitOrders.shardNames().stream()
                    .map(shard -> shard + ":DONE:" + stores.count(shard)).collect(Collectors.joining(",")));
        }
        // Every shard's rows in the target exactly, and each counted once by its checkpoint: a chunk committed twice
        // (a shard started over, or a write by the instance that lost it) would count its rows twice.
        Map<String, Long> checkpointRows = new TreeMap<>();
        for (Map<String, Object> row : stores.target().queryForList("SELECT shard, status, rows_copied FROM"
                + " dualwrite_checkpoint WHERE job = 't_order'")) {
            assertThat(row.get("status")).as("shard %s", row.get("shard")).isEqualTo("DONE");
            assertThat(checkpointRows.put((String) row.get("shard"), ((Number) row.get("rows_copied")).longValue()))
                    .as("one checkpoint row per shard").isNull();
        }
        for (String shard : ShardUnitOrders.shardNames()) {
            assertThat(stores.differences(shard)).as("shard %s", shard).isEmpty();
            assertThat(checkpointRows).as("rows of %s written once", shard).containsEntry(shard, stores.count(shard));
        }
        assertThat(checkpointRows).hasSize(ShardUnitOrders.shardNames().size());
        assertThat(stores.target().queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo((long) ROWS);

        // The shards were spread over the processes.
        Map<String, Set<String>> shardsByOwner = new TreeMap<>();
        for (ChildJvm child : started) {
            for (ChildJvm.Report chunk : child.reports("chunk")) {
                shardsByOwner.computeIfAbsent(child.name(), o -> new TreeSet<>()).add(chunk.get("shard"));
            }
        }
        assertThat(shardsByOwner).as("shards committed by each instance").hasSizeGreaterThan(1);

        // The killed instance's shard was taken over where its checkpoint stood: the taker's first chunk starts after
        // the rows the victim committed, and the takers committed exactly the rest.
        List<ChildJvm.Report> takerReads = all(living, "read", killedRange).stream()
                .filter(r -> r.atMillis() > killedAt).toList();
        assertThat(takerReads).as("the killed instance's shard %s taken over", killedShard).isNotEmpty();
        long resumedAt = Long.parseLong(takerReads.get(0).get("first"));
        List<Long> ids = stores.physical(killedShard).queryForList("SELECT id FROM "
                + ShardUnitOrders.table(killedShard) + " ORDER BY id", Long.class);
        long before = ids.stream().filter(id -> id < resumedAt).count();
        assertThat(before).as("rows of %s before the take-over's first chunk: the killed instance's", killedShard)
                .isEqualTo(committedByVictim);
        assertThat(all(List.of(victim), "chunk", killedRange).stream().mapToLong(r -> r.number("rows")).sum())
                .as("the killed instance's own reports").isLessThanOrEqualTo(committedByVictim);
        assertThat(all(living, "chunk", killedRange).stream().mapToLong(r -> r.number("rows")).sum())
                .as("rows the takers committed on %s", killedShard).isEqualTo(ids.size() - before);

        // The frozen instance, woken, went on with the chunk of the shard it had lost (the same rows the taker
        // started at), and that chunk, and any after it there, were refused: it committed nothing more on the shard.
        long takerStart = Long.parseLong(survivor.reports("read").stream().filter(r -> r.number("range")
                == rangeOfFrozen && r.atMillis() > frozenSince).findFirst().orElseThrow().get("first"));
        List<ChildJvm.Report> frozenLines = frozen.reports().stream().filter(r -> r.words().contains(
                "range=" + rangeOfFrozen)).toList();
        int refused = -1;
        for (int i = 0; i < frozenLines.size(); i++) {
            if (frozenLines.get(i).kind().equals("read") && frozenLines.get(i).get("first").equals(
                    String.valueOf(takerStart))) {
                refused = i;
            }
        }
        assertThat(refused).as("%s read the rows %s resumed %s at (%s)\n%s", frozen.name(), taker, frozenShard,
                takerStart, frozen.tail()).isNotNegative();
        assertThat(frozenLines.subList(refused, frozenLines.size())).as("%s's lines on %s from that chunk on",
                frozen.name(), frozenShard).extracting(ChildJvm.Report::kind).doesNotContain("chunk");
        assertThat(all(living, "chunk", frozenRange).stream().mapToLong(r -> r.number("rows")).sum())
                .as("rows committed on %s by the frozen instance and its taker", frozenShard)
                .isEqualTo(stores.count(frozenShard));

        // A second pass over the finished job reads and rewrites nothing: every target row keeps its version.
        List<Map<String, Object>> versions = stores.target().queryForList("SELECT id, xmin::text AS version FROM"
                + " t_order ORDER BY id");
        ChildJvm again = instance("jvm-again");
        assertThat(again.awaitExit(45_000)).as(again.tail()).isZero();
        assertThat(again.await("its end", r -> r.kind().equals("end"), 1_000).get("status")).isEqualTo("DONE");
        assertThat(again.reports("read")).isEmpty();
        assertThat(again.reports("chunk")).isEmpty();
        assertThat(stores.target().queryForList("SELECT id, xmin::text AS version FROM t_order ORDER BY id"))
                .isEqualTo(versions);
    }

    /** Whether an instance's open transaction holds a range's checkpoint row (between its advance and commit). */
    private boolean checkpointLocked(long range) {
        try {
            stores.target().queryForList("SELECT range_id FROM dualwrite_checkpoint WHERE job = 't_order' AND"
                    + " range_id = ? FOR UPDATE NOWAIT", range);
            return false;
        } catch (RuntimeException locked) {
            return true;
        }
    }

    /** Waits until PostgreSQL has no session of the instance left (each names itself in ApplicationName). */
    private void awaitDisconnected(ChildJvm child) throws InterruptedException {
        long deadline = System.currentTimeMillis() + 10_000;
        while (stores.target().queryForObject("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ?",
                Long.class, child.name()) > 0) {
            assertThat(System.currentTimeMillis()).as("%s's sessions closed by the server", child.name())
                    .isLessThan(deadline);
            Thread.sleep(10);
        }
    }

    private String shardOfRange(long range) {
        return stores.target().queryForObject("SELECT shard FROM dualwrite_checkpoint WHERE job = 't_order' AND"
                + " range_id = ?", String.class, range);
    }
}
