package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.Test;

/**
 * DESIGN invariant 5 under load, on MariaDB -> PostgreSQL with identical schemas: eight writers insert,
 * update and delete the orders of random users while the migration goes DUAL_WRITE -> RAMP 0 -> 10 -> 50
 * -> 100 -> 0 (the rollback) -> DUAL_WRITE. After every step the writers pause, both mirrors drain, and
 * both stores must equal each other and every writer's own record of what it wrote: a write lost in a
 * rollback, or undone by a late mirror apply, shows up as a difference.
 */
class RampScenarioTest {

    private static final int WRITERS = 8;
    private static final int USERS = 64;
    private static final int ORDERS_PER_USER = 4;
    private static final long STEP_WRITE_MILLIS = 800;

    @Test
    void rampUpAndRollBack_underEightWriters_losesNothing() throws Exception {
        RoutingRules dualWrite = BarrierTest.rampAt(0).withPhase(Phase.DUAL_WRITE);
        try (RampRig rig = new RampRig(Store.MARIADB, Store.POSTGRESQL, "ramp", dualWrite)) {
            Map<Long, String> expected = new ConcurrentHashMap<>();
            ReentrantReadWriteLock pause = new ReentrantReadWriteLock(true);
            ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
            AtomicLong writes = new AtomicLong();
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            List<Future<?>> writers = new ArrayList<>();
            java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                writers.add(pool.submit(() -> {
                    Random random = new Random(writer);
                    while (!stop.get()) {
                        // Writer w owns the users u with u % 8 == w, so its record of them is the truth.
                        long user = writer + (long) WRITERS * random.nextInt(USERS / WRITERS);
                        long order = user * 100 + random.nextInt(ORDERS_PER_USER);
                        pause.readLock().lock();
                        try {
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
                step(rig, rig.controller.requestPhase(Phase.RAMP, false), steps);
                check(rig, pause, expected, "RAMP 0");
                for (int percent : new int[] {10, 50, 100, 0}) {
                    step(rig, rig.controller.requestPercent(percent, false), steps);
                    check(rig, pause, expected, "RAMP " + percent);
                }
                step(rig, rig.controller.requestPhase(Phase.DUAL_WRITE, false), steps);
                check(rig, pause, expected, "back to DUAL_WRITE");
            } finally {
                stop.set(true);
                for (Future<?> writer : writers) {
                    writer.get(30, TimeUnit.SECONDS);
                }
                pool.shutdown();
            }
            check(rig, pause, expected, "end");
            assertThat(errors).as("application write errors").isEmpty();
            assertThat(steps).hasSize(6).allMatch(s -> s.startsWith("ACTIVATED"));
            assertThat(writes.get()).as("writes").isGreaterThan(200);
            assertThat(rig.crossRoute.count()).as("no writer touches another user's orders").isZero();
        }
    }

    private static void step(RampRig rig, StepResult result, List<String> steps) throws InterruptedException {
        steps.add(result.outcome() + " " + result.message());
        assertThat(result.outcome()).as(result.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
        Thread.sleep(STEP_WRITE_MILLIS);
    }

    private static void check(RampRig rig, ReentrantReadWriteLock pause, Map<Long, String> expected, String when)
            throws InterruptedException {
        pause.writeLock().lock();
        try {
            assertThat(rig.drain()).as("drained at " + when).isTrue();
            assertThat(rig.differences()).as("source vs target at " + when).isEmpty();
            assertThat(rig.notes(rig.source)).as("source vs the writers' record at " + when)
                    .isEqualTo(new TreeMap<>(expected));
        } finally {
            pause.writeLock().unlock();
        }
    }
}
