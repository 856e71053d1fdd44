package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.Store;
import java.time.Duration;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * DESIGN invariant 1 during RAMP, on MariaDB -> PostgreSQL: the target (which also holds the control table)
 * goes down while writers work at RAMP 50.
 *
 * <p>For less than the lease, requests routed to the source go on as if nothing happened; those routed to
 * the target fail, since their store is down; both mirrors catch up when it returns. For longer than the
 * lease, the instance can no longer tell which route a key has (the others may have stepped without it),
 * so it holds every request and fails it at the hold timeout, the source-routed ones included: the RAMP
 * lease fence, chosen over serving a route that may be stale. It serves again as soon as it renews its
 * lease.
 */
class RampTargetOutageTest {

    private static final int WRITERS = 4;
    private static final int USERS_PER_WRITER = 8;
    private static final int ORDERS_PER_USER = 4;

    @Test
    void targetDownForLessThanTheLease_sourceRoutedWritesAllSucceed_andBothStoresConverge() throws Exception {
        AtomicReference<FailingDataSource> view = new AtomicReference<>();
        try (RampRig rig = rig("outage", view, Duration.ofSeconds(8), Duration.ofSeconds(1))) {
            FailingDataSource target = view.get();
            Writers writers = new Writers(rig);
            assertThat(writers.routes.values()).as("users on both routes").contains(Route.SOURCE, Route.TARGET);
            try {
                Thread.sleep(1000);
                long sourceOkBefore = writers.ok(Route.SOURCE);
                long targetFailedBefore = writers.failed(Route.TARGET);
                target.setDown(true);
                Thread.sleep(2000);
                long sourceOkDuring = writers.ok(Route.SOURCE) - sourceOkBefore;
                long targetFailedDuring = writers.failed(Route.TARGET) - targetFailedBefore;
                target.setDown(false);
                Thread.sleep(1500);

                assertThat(targetFailedDuring).as("target-routed writes that failed while it was down").isPositive();
                assertThat(sourceOkDuring).as("source-routed writes that succeeded while the target was down")
                        .isGreaterThan(20);
            } finally {
                writers.stop();
            }
            assertThat(writers.errors(Route.SOURCE)).as("source-routed writes that failed").isEmpty();
            assertThat(target.refusals()).as("calls the outage refused").isPositive();
            assertThat(rig.controller.heldTimeouts()).as("requests the controller held until they failed").isZero();

            assertThat(rig.drain()).as("both mirrors drained").isTrue();
            Map<Long, String> expected = new TreeMap<>(writers.expected);
            assertThat(rig.notes(rig.source)).as("source vs the writers' record").isEqualTo(expected);
            assertThat(rig.notes(rig.target)).as("target vs the writers' record").isEqualTo(expected);
            assertThat(rig.differences()).isEmpty();
        }
    }

    @Test
    void targetDownForLongerThanTheLease_rampHoldsEveryRequest_thenServesAgainWhenItReturns() throws Exception {
        AtomicReference<FailingDataSource> view = new AtomicReference<>();
        try (RampRig rig = rig("fence", view, Duration.ofSeconds(1), Duration.ofMillis(300))) {
            FailingDataSource target = view.get();
            long sourceUser = firstUser(rig, Route.SOURCE);
            long targetUser = firstUser(rig, Route.TARGET);
            rig.upsert(sourceUser, sourceUser * 100, "before");
            assertThat(rig.drain()).isTrue();

            target.setDown(true);
            awaitLease(rig, false);
            Throwable fenced = failure(() -> rig.upsert(sourceUser, sourceUser * 100, "while fenced"));

            assertThat(causes(fenced)).as("why the source-routed write failed")
                    .anyMatch(RouteHeldException.class::isInstance);
            assertThat(rig.source.queryForObject("SELECT note FROM t_order WHERE id = ?", String.class,
                    sourceUser * 100)).as("nothing of the held write reached the source").isEqualTo("before");
            assertThat(rig.controller.heldTimeouts()).isPositive();

            target.setDown(false);
            awaitLease(rig, true);
            rig.upsert(sourceUser, sourceUser * 100, "after");
            rig.upsert(targetUser, targetUser * 100, "after");

            assertThat(rig.drain()).isTrue();
            assertThat(rig.notes(rig.source)).containsEntry(sourceUser * 100, "after")
                    .containsEntry(targetUser * 100, "after");
            assertThat(rig.differences()).isEmpty();
        }
    }

    /** A rig at RAMP 50 whose migration sees the target through a data source the test can take down. */
    private static RampRig rig(String prefix, AtomicReference<FailingDataSource> view, Duration lease,
            Duration holdTimeout) throws Exception {
        return new RampRig(Store.MARIADB, Store.POSTGRESQL, prefix, BarrierTest.rampAt(50), target -> {
            view.set(new FailingDataSource(target));
            return view.get();
        }, lease, holdTimeout);
    }

    private static long firstUser(RampRig rig, Route route) {
        for (long user = 1; user < 1000; user++) {
            if (rig.controller.route(user) == route) {
                return user;
            }
        }
        throw new AssertionError("no user routed to " + route);
    }

    private static void awaitLease(RampRig rig, boolean valid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (rig.controller.leaseValid() != valid) {
            assertThat(System.nanoTime() - deadline).as("lease valid = " + valid + " within 10 s").isNegative();
            Thread.sleep(20);
        }
    }

    private static Throwable failure(Runnable write) {
        try {
            write.run();
        } catch (RuntimeException e) {
            return e;
        }
        throw new AssertionError("the write succeeded while the instance had no lease");
    }

    private static List<Throwable> causes(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    /** Writers that each own a set of users, so that each one's record of its users' orders is the truth. */
    private static final class Writers {
        final Map<Long, String> expected = new ConcurrentHashMap<>();
        final Map<Long, Route> routes = new TreeMap<>();
        private final Map<Route, AtomicLong> ok = Map.of(Route.SOURCE, new AtomicLong(), Route.TARGET, new AtomicLong());
        private final Map<Route, AtomicLong> failed =
                Map.of(Route.SOURCE, new AtomicLong(), Route.TARGET, new AtomicLong());
        private final Map<Route, ConcurrentLinkedQueue<Throwable>> errors =
                Map.of(Route.SOURCE, new ConcurrentLinkedQueue<>(), Route.TARGET, new ConcurrentLinkedQueue<>());
        private final AtomicBoolean stop = new AtomicBoolean();
        private final ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
        private final List<Future<?>> running = new ArrayList<>();

        Writers(RampRig rig) {
            for (int w = 0; w < WRITERS; w++) {
                for (int i = 0; i < USERS_PER_WRITER; i++) {
                    long user = user(w, i);
                    routes.put(user, rig.controller.route(user));
                }
            }
            for (int w = 0; w < WRITERS; w++) {
                int writer = w;
                running.add(pool.submit(() -> {
                    Random random = new Random(writer);
                    long writes = 0;
                    while (!stop.get()) {
                        long user = user(writer, random.nextInt(USERS_PER_WRITER));
                        long order = user * 100 + random.nextInt(ORDERS_PER_USER);
                        Route route = routes.get(user);
                        try {
                            if (random.nextInt(4) == 0) {
                                rig.delete(user, order);
                                expected.remove(order);
                            } else {
                                String note = "w" + writer + "-" + ++writes;
                                rig.upsert(user, order, note);
                                expected.put(order, note);
                            }
                            ok.get(route).incrementAndGet();
                        } catch (RuntimeException e) {
                            // A failed transaction rolled back: the record keeps the order's last committed note.
                            failed.get(route).incrementAndGet();
                            errors.get(route).add(e);
                        }
                    }
                }));
            }
        }

        /** Spreads a writer's users over many routing buckets (MODULO takes the user id modulo 100). */
        private static long user(int writer, int index) {
            return 1 + 13L * (writer + (long) WRITERS * index);
        }

        long ok(Route route) {
            return ok.get(route).get();
        }

        long failed(Route route) {
            return failed.get(route).get();
        }

        List<Throwable> errors(Route route) {
            return List.copyOf(errors.get(route));
        }

        void stop() throws Exception {
            stop.set(true);
            for (Future<?> writer : running) {
                writer.get(30, TimeUnit.SECONDS);
            }
            pool.shutdown();
        }
    }
}
