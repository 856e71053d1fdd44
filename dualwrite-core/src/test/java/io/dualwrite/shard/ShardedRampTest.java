package io.dualwrite.shard;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.ControllerTestHooks;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingStrategy;
import io.dualwrite.routing.StepResult;
import io.dualwrite.routing.UserCopy;
import io.dualwrite.testing.ShardedOrders;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * RAMP through a sharded target ({@link ShardedRampRig}: MariaDB's single {@code t_order} -> PostgreSQL split by
 * ShardingSphere into 2 databases x 4 tables by {@code user_id}). Requests routed to the target write through
 * ShardingSphere; the reverse mirror reads their rows under the share lock on the physical shard that holds them
 * and writes the source; the barrier keeps a late forward apply from undoing a moved user's write on a shard. Every
 * check compares each physical table directly with the source rows it should hold.
 */
class ShardedRampTest {

    private static final int WRITERS = 4;
    private static final int USERS = 32;
    private static final int ORDERS_PER_USER = 3;
    private static final long STEP_WRITE_MILLIS = 700;

    @ParameterizedTest
    @EnumSource(value = MirrorMode.class, names = {"ASYNC", "OUTBOX"})
    void rampUpAndRollBack_writersOnBothRoutesWithHotKeys_loseNothingOnAnyShard(MirrorMode mode) throws Exception {
        try (ShardedRampRig rig = new ShardedRampRig(mode, rampAt(0).withPhase(Phase.DUAL_WRITE))) {
            Map<Long, String> expected = new ConcurrentHashMap<>();
            ReentrantReadWriteLock pause = new ReentrantReadWriteLock(true);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            AtomicLong writes = new AtomicLong();
            AtomicLong targetRouted = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            List<Future<?>> writers = new ArrayList<>();
            AtomicBoolean stop = new AtomicBoolean();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    Random random = new Random(writer);
                    while (!stop.get()) {
                        // Writer w owns the users u with u % WRITERS == w, so its record of them is the truth; half
                        // of its writes go to its two hottest users, one below and one above 50.
                        int slot = random.nextBoolean() ? random.nextInt(2) * (USERS / WRITERS / 2)
                                : random.nextInt(USERS / WRITERS);
                        long user = writer + (long) WRITERS * slot + (slot >= USERS / WRITERS / 2 ? 50 : 0);
                        long order = user * 100 + random.nextInt(ORDERS_PER_USER);
                        pause.readLock().lock();
                        try {
                            if (rig.controller.route(user) == Route.TARGET) {
                                targetRouted.incrementAndGet();
                            }
                            if (random.nextInt(4) == 0) {
                                rig.delete(user, order);
                                expected.remove(order);
                            } else {
                                String note = "w" + writer + "-" + writes.incrementAndGet();
                                rig.upsert(user, order, note);
                                expected.put(order, note);
                            }
                        } catch (RuntimeException e) {
                            errors.add(e);
                        } finally {
                            pause.readLock().unlock();
                        }
                    }
                }));
            }
            List<String> steps = new ArrayList<>();
            try {
                check(rig, pause, expected, "DUAL_WRITE");
                step(rig.controller.requestPhase(Phase.RAMP, false), steps);
                check(rig, pause, expected, "RAMP 0");
                for (int percent : new int[] {50, 100, 0}) {
                    step(rig.controller.requestPercent(percent, false), steps);
                    check(rig, pause, expected, "RAMP " + percent);
                }
                step(rig.controller.requestPhase(Phase.DUAL_WRITE, false), steps);
                check(rig, pause, expected, "back to DUAL_WRITE");
            } finally {
                stop.set(true);
                for (Future<?> writer : writers) {
                    writer.get(60, TimeUnit.SECONDS);
                }
                pool.shutdown();
            }
            check(rig, pause, expected, "end");
            assertThat(errors).as("application write errors").isEmpty();
            assertThat(steps).hasSize(5).allMatch(s -> s.startsWith("ACTIVATED"));
            assertThat(writes.get()).as("writes").isGreaterThan(200);
            assertThat(targetRouted.get()).as("writes routed to the sharded target").isGreaterThan(50);
            assertThat(rig.forward.parked() + rig.reverse.parked()).as("parked keys").isZero();
            assertThat(rig.crossRoute.count()).as("no writer touches another user's orders").isZero();
            assertThat(rig.stores.physicalRows().values()).as("rows on both real databases")
                    .anyMatch(row -> String.valueOf(row.get("shard")).startsWith("ds_0."))
                    .anyMatch(row -> String.valueOf(row.get("shard")).startsWith("ds_1."));
        }
    }

    /** DESIGN invariant 5 on a shard: a late forward apply held across the step that moves its user. */
    @Test
    void lateForwardApplyAcrossARampStep_doesNotResurrectTheDeletedRowOnItsShard() throws Exception {
        try (ShardedRampRig rig = new ShardedRampRig(MirrorMode.ASYNC, rampAt(0))) {
            Outcome outcome = play(rig, true);

            assertThat(outcome.stepPendingWhileApplyHeld).as("the step waits for the late apply").isTrue();
            assertThat(outcome.sourceRows).as("source").isZero();
            assertThat(outcome.physicalCopies).as("physical shards").isZero();
            assertThat(rig.stores.differencesPerShard()).isEmpty();
        }
    }

    /**
     * A per-user move into the sharded target and back (issue 22's moves on issue 21's stores): the move finds the
     * user's rows on every physical table, and what the user wrote while routed to the shards comes back.
     * Without the per-shard look-up the move reverts: the library's connection to the sharded store reaches its
     * home database only, where the logical table does not exist.
     */
    @Test
    void userMovedToTheShardedTargetAndBack_losesNothingWrittenOnItsShard() throws Exception {
        try (ShardedRampRig rig = new ShardedRampRig(MirrorMode.ASYNC, rampAt(0))) {
            rig.controller.useUserCopy(UserCopy.throughMirrors(rig.tables, List.of(), rig.forward, rig.reverse,
                    rig.stores.source().dataSource(), rig.target));
            long user = 5;
            for (long order = 1; order <= 3; order++) {
                rig.upsert(user, user * 100 + order, "before the move");
            }
            rig.upsert(6, 600, "another user");
            assertThat(rig.drain()).isTrue();

            StepResult there = rig.controller.moveUser(user, Route.TARGET, "test", "sharded move",
                    java.time.Duration.ofSeconds(30));
            assertThat(there.outcome()).as(there.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(rig.controller.route(user)).isEqualTo(Route.TARGET);
            rig.upsert(user, 501, "written on its shard");
            rig.delete(user, 502);
            rig.upsert(user, 504, "new on its shard");
            assertThat(rig.drain()).isTrue();

            StepResult back = rig.controller.moveUser(user, Route.SOURCE, "test", "back",
                    java.time.Duration.ofSeconds(30));
            assertThat(back.outcome()).as(back.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(rig.drain()).isTrue();
            assertThat(rig.sourceNotes()).containsEntry(501L, "written on its shard").doesNotContainKey(502L)
                    .containsEntry(503L, "before the move").containsEntry(504L, "new on its shard")
                    .containsEntry(600L, "another user");
            assertThat(rig.stores.differencesPerShard()).isEmpty();
        }
    }

    /** The negative control: without the barrier the same play resurrects the row on its physical shard. */
    @Test
    void withoutTheBarrier_theLateApplyResurrectsTheRowOnItsShard() throws Exception {
        try (ShardedRampRig rig = new ShardedRampRig(MirrorMode.ASYNC, rampAt(0))) {
            ControllerTestHooks.barrier(rig.controller, false);

            Outcome outcome = play(rig, false);

            assertThat(outcome.stepPendingWhileApplyHeld).isFalse();
            assertThat(outcome.physicalCopies).as("resurrected by the late forward apply").isEqualTo(1);
            int[] shard = ShardedOrders.expectedShard(USER);
            assertThat(rig.stores.shard(shard[0]).queryForObject("SELECT note FROM t_order_" + shard[1]
                    + " WHERE id = ?", String.class, ORDER)).as("an older version than the user's last write")
                    .isEqualTo("v2");
        }
    }

    /**
     * The outbox row of a transaction routed to the sharded target goes on the home database in that very
     * transaction: invisible until the commit, gone with a rollback, and carried back to the source after the commit.
     */
    @Test
    void outboxRowsOfATargetRoutedTransaction_commitWithItOnTheHomeDatabase() throws Exception {
        try (ShardedRampRig rig = new ShardedRampRig(MirrorMode.OUTBOX, rampAt(100))) {
            long user = 3;
            int[] shard = ShardedOrders.expectedShard(user);
            assertThat(shard[0]).as("the row lives on another database than the home").isEqualTo(1);
            for (boolean commit : new boolean[] {false, true}) {
                long order = commit ? 9002 : 9001;
                try (java.sql.Connection app = rig.shardingSphere.getConnection()) {
                    app.setAutoCommit(false);
                    try (java.sql.PreparedStatement insert = app.prepareStatement("INSERT INTO t_order (id, user_id,"
                            + " status, amount, note, gmt_modified) VALUES (?, ?, 'NEW', 1.00, 'outbox',"
                            + " CURRENT_TIMESTAMP)")) {
                        insert.setLong(1, order);
                        insert.setLong(2, user);
                        insert.executeUpdate();
                    }
                    rig.reverse.beforeCommit(List.of(new io.dualwrite.capture.Change("t_order",
                            io.dualwrite.jdbc.RowKey.of(order))), app);
                    assertThat(rig.stores.shard(0).queryForObject("SELECT COUNT(*) FROM dualwrite_outbox",
                            Long.class)).as("the outbox row is not visible before the commit").isZero();
                    if (commit) {
                        app.commit();
                    } else {
                        app.rollback();
                    }
                }
            }
            assertThat(rig.drain()).isTrue();
            assertThat(rig.sourceNotes()).as("only the committed order reached the source")
                    .containsOnlyKeys(9002L).containsEntry(9002L, "outbox");
            assertThat(rig.stores.differencesPerShard()).isEmpty();
            assertThat(rig.stores.shard(0).queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class))
                    .as("the relay deleted what it applied").isZero();
        }
    }

    /**
     * The reverse mirror reads a target-routed row under the share lock NOWAIT on the physical shard that holds it:
     * while a writer holds the row there, the apply gives way (deferred, retried) and no library session waits on
     * the shard's lock; once the writer commits, its state reaches the source.
     */
    @Test
    void reverseApply_rowHeldByAWriterOnItsShard_givesWayWithoutWaiting() throws Exception {
        try (ShardedRampRig rig = new ShardedRampRig(MirrorMode.ASYNC, rampAt(100))) {
            long user = 5;
            long order = 501;
            rig.upsert(user, order, "v1");
            assertThat(rig.drain()).isTrue();
            assertThat(rig.sourceNotes()).containsEntry(order, "v1");

            AtomicLong deferred = new AtomicLong();
            rig.events.subscribe(event -> {
                if (event instanceof io.dualwrite.event.DualWriteEvent.ApplyDeferred) {
                    deferred.incrementAndGet();
                }
            });
            int[] shard = ShardedOrders.expectedShard(user);
            ShardedOrders.PhysicalDatabase database = rig.stores.shard(shard[0]);
            try (java.sql.Connection writer = database.pool().getConnection()) {
                writer.setAutoCommit(false);
                try (java.sql.Statement update = writer.createStatement()) {
                    update.executeUpdate("UPDATE t_order_" + shard[1] + " SET note = 'held', gmt_modified ="
                            + " gmt_modified + INTERVAL '1 millisecond' WHERE id = " + order);
                }
                rig.reverse.recorder().record("t_order", order);
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (deferred.get() < 2 && System.nanoTime() < until) {
                    assertThat(database.queryForObject("SELECT COUNT(*) FROM pg_stat_activity WHERE datname ="
                            + " current_database() AND wait_event_type = 'Lock'", Long.class))
                            .as("sessions waiting on a lock on " + database.name()).isZero();
                    Thread.sleep(20);
                }
                assertThat(deferred.get()).as("applies that gave way to the writer").isGreaterThanOrEqualTo(2);
                assertThat(rig.sourceNotes()).as("nothing read past the writer's lock").containsEntry(order, "v1");
                writer.commit();
            }
            assertThat(rig.drain()).isTrue();
            assertThat(rig.sourceNotes()).containsEntry(order, "held");
            assertThat(rig.stores.differencesPerShard()).isEmpty();
        }
    }

    private static final long USER = 7;
    private static final long ORDER = 701;

    private record Outcome(boolean stepPendingWhileApplyHeld, long sourceRows, long physicalCopies) {
    }

    private static Outcome play(ShardedRampRig rig, boolean barrier) throws Exception {
        rig.upsert(USER, ORDER, "v1");
        assertThat(rig.drain()).isTrue();
        assertThat(rig.stores.differencesPerShard()).isEmpty();

        CountDownLatch applyHeld = new CountDownLatch(1);
        CountDownLatch releaseApply = new CountDownLatch(1);
        rig.forward.observeRows((table, rows) -> {
            if (rows.stream().anyMatch(row -> "v2".equals(row.get("note")))) {
                applyHeld.countDown();
                try {
                    releaseApply.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        rig.upsert(USER, ORDER, "v2");
        assertThat(applyHeld.await(10, TimeUnit.SECONDS)).as("forward apply of v2 is held").isTrue();

        // User 7 is in bucket 7: ramping to 10 % moves them to the target.
        CompletableFuture<StepResult> step = CompletableFuture.supplyAsync(() -> {
            try {
                return rig.controller.requestPercent(10, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        boolean pending = false;
        if (barrier) {
            Thread.sleep(600);
            pending = !step.isDone() && rig.controller.state().pending() != null;
            releaseApply.countDown();
        }
        assertThat(step.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThat(rig.controller.route(USER)).isEqualTo(Route.TARGET);

        rig.upsert(USER, ORDER, "v3");
        rig.delete(USER, ORDER);
        releaseApply.countDown();
        assertThat(rig.drain()).isTrue();
        long sourceRows = rig.stores.source().queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class,
                ORDER);
        return new Outcome(pending, sourceRows, rig.physicalCopies(ORDER));
    }

    private static void step(StepResult result, List<String> steps) throws InterruptedException {
        steps.add(result.outcome() + " " + result.message());
        assertThat(result.outcome()).as(result.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
        Thread.sleep(STEP_WRITE_MILLIS);
    }

    private static void check(ShardedRampRig rig, ReentrantReadWriteLock pause, Map<Long, String> expected,
            String when) throws InterruptedException {
        pause.writeLock().lock();
        try {
            assertThat(rig.drain()).as("drained at " + when).isTrue();
            assertThat(rig.stores.differencesPerShard()).as("source vs every physical shard at " + when).isEmpty();
            assertThat(rig.sourceNotes()).as("source vs the writers' record at " + when)
                    .isEqualTo(new TreeMap<>(expected));
        } finally {
            pause.writeLock().unlock();
        }
    }

    static RoutingRules rampAt(int percent) {
        return new RoutingRules(Phase.RAMP, percent, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE);
    }
}
