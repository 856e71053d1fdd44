package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.Store;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 22, part 2: per-user live moves ({@link MigrationController#moveUser}, {@link UserMoves}). A move is a
 * barrier step for one routing key; the user's rows are copied through the locked apply; a failed copy leaves
 * the user where it was; moving back loses nothing; every instance honours the move.
 */
class UserMoveTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    /**
     * 300 users on H2, 150 from MariaDB to PostgreSQL. Every move is the same one-key barrier step, so more users
     * only repeat it: 300 still fail 30 injected copies and move 39 users back under the eight writers.
     */
    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2, 300), Arguments.of(Store.MARIADB, Store.POSTGRESQL, 150));
    }

    private static MirrorUserCopy copyFor(RampRig rig) {
        MirrorUserCopy copy = new MirrorUserCopy(rig.tables, List.of("t_order"), rig.forward, rig.reverse,
                rig.source.dataSource(), rig.target.dataSource());
        rig.controller.useUserCopy(copy);
        return copy;
    }

    /** Which route a write of this user took: the store its transaction was admitted to. */
    private static Route write(RampRig rig, long user, long order, boolean delete) {
        Route[] taken = new Route[1];
        rig.write(user, order, jdbc -> {
            taken[0] = rig.controller.currentRoute();
            if (delete) {
                jdbc.update("DELETE FROM t_order WHERE id = ?", order);
            } else {
                java.sql.Timestamp now = new java.sql.Timestamp(System.currentTimeMillis());
                String note = "u" + user + "-" + System.nanoTime();
                if (jdbc.update("UPDATE t_order SET note = ?, gmt_modified = ? WHERE id = ?", note, now, order) == 0) {
                    jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (?, ?, 'NEW', 10.00, ?, ?)", order, user, note, now);
                }
            }
        });
        return taken[0];
    }

    @ParameterizedTest(name = "{0} -> {1}, {2} users")
    @MethodSource("pairs")
    void usersMovedOneAtATimeUnderEightWriters_convergeAndEveryWriteTakesItsUsersRoute(Store sourceStore,
            Store targetStore, int users) throws Exception {
        // A move acknowledges once the lanes applied what was committed before it. The barrier ends the linger
        // for those keys (Lanes.hurry); a 1 ms linger also keeps the eight writers' later keys from waiting a
        // batch's linger behind them, which says nothing this test checks.
        try (RampRig rig = new RampRig(sourceStore, targetStore, "umove", BarrierTest.rampAt(0),
                UnaryOperator.identity(), UnaryOperator.identity(), null, Duration.ofSeconds(20), MirrorMode.ASYNC,
                mirror -> mirror.batchLinger(Duration.ofMillis(1)))) {
            MirrorUserCopy copy = copyFor(rig);
            AtomicBoolean failNext = new AtomicBoolean();
            copy.afterBatchForTesting(table -> {
                if (failNext.getAndSet(false)) {
                    throw new IllegalStateException("injected failure after copying a batch of " + table);
                }
            });
            for (long user = 0; user < users; user++) {
                write(rig, user, user * 10, false);
            }
            // Per user: the route it must be on, and a counter that is odd while a move of it is under way.
            AtomicReferenceArray<Route> expected = new AtomicReferenceArray<>(users);
            AtomicLongArray moving = new AtomicLongArray(users);
            for (int user = 0; user < users; user++) {
                expected.set(user, Route.SOURCE);
            }
            AtomicBoolean stop = new AtomicBoolean();
            List<String> offRoute = Collections.synchronizedList(new ArrayList<>());
            ExecutorService writers = Executors.newFixedThreadPool(8);
            List<Future<Long>> written = new ArrayList<>();
            for (int w = 0; w < 8; w++) {
                written.add(writers.submit(() -> {
                    long count = 0;
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (!stop.get()) {
                        int user = random.nextInt(users);
                        long before = moving.get(user);
                        Route should = expected.get(user);
                        Route took;
                        int order = random.nextInt(3);
                        try {
                            // Order 0 of each user is never deleted, so every copy has a batch the injection can fail.
                            took = write(rig, user, user * 10L + order, order > 0 && random.nextInt(3) == 0);
                        } catch (RuntimeException heldOrBusy) {
                            continue;
                        }
                        if (before % 2 == 0 && moving.get(user) == before && took != should) {
                            offRoute.add("user " + user + " wrote on " + took + ", its route is " + should);
                        }
                        count++;
                    }
                    return count;
                }));
            }
            int activated = 0;
            int failed = 0;
            int movedBack = 0;
            for (int user = 0; user < users; user++) {
                boolean inject = user % 10 == 3;
                failNext.set(inject);
                moving.incrementAndGet(user);
                StepResult result = rig.controller.moveUser((long) user, Route.TARGET, "test", "issue 22", TIMEOUT);
                if (inject) {
                    assertThat(result.outcome()).as(result.message()).isEqualTo(StepResult.Outcome.REVERTED);
                    assertThat(result.message()).contains("copying the user's rows failed", "injected failure");
                    failed++;
                } else {
                    assertThat(result.outcome()).as(result.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
                    expected.set(user, Route.TARGET);
                    activated++;
                }
                moving.incrementAndGet(user);
                assertThat(rig.controller.route((long) user)).isEqualTo(expected.get(user));
                if (user % 7 == 0 && expected.get(user) == Route.TARGET) {
                    moving.incrementAndGet(user);
                    StepResult back = rig.controller.moveUser((long) user, Route.SOURCE, "test", "back", TIMEOUT);
                    assertThat(back.outcome()).as(back.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
                    expected.set(user, Route.SOURCE);
                    moving.incrementAndGet(user);
                    movedBack++;
                }
            }
            stop.set(true);
            long writes = 0;
            for (Future<Long> f : written) {
                writes += f.get(60, TimeUnit.SECONDS);
            }
            writers.shutdown();
            assertThat(rig.drain()).isTrue();

            assertThat(offRoute).as("writes off their user's route").isEmpty();
            assertThat(writes).as("writes during the moves").isGreaterThan(users);
            assertThat(failed).isEqualTo(users / 10);
            assertThat(activated + failed).isEqualTo(users);
            assertThat(movedBack).isPositive();
            for (int user = 0; user < users; user++) {
                assertThat(rig.controller.route((long) user)).as("user " + user).isEqualTo(expected.get(user));
            }
            assertThat(rig.differences()).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void moveFailingMidCopy_leavesTheUserOnItsRouteWithNothingOfTheMoveInForce(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "umfail", BarrierTest.rampAt(0))) {
            MirrorUserCopy copy = copyFor(rig);
            for (long order = 0; order < 450; order++) {
                write(rig, 5, 50_000 + order, false);
            }
            assertThat(rig.drain()).isTrue();
            // The user's row the mirror never carried: only the copy brings it to the target.
            rig.source.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                    + " VALUES (59999, 5, 'NEW', 1.00, 'uncaptured', CURRENT_TIMESTAMP)");
            List<Integer> batches = new ArrayList<>();
            copy.afterBatchForTesting(table -> {
                batches.add(1);
                if (batches.size() == 2) {
                    throw new IllegalStateException("injected failure after two batches");
                }
            });
            long version = rig.controller.state().version();

            StepResult result = rig.controller.moveUser(5L, Route.TARGET, "test", "fails", TIMEOUT);

            assertThat(result.outcome()).isEqualTo(StepResult.Outcome.REVERTED);
            assertThat(result.message()).contains("move of user 5 to TARGET", "copying the user's rows failed",
                    "injected failure after two batches");
            assertThat(batches).as("the copy failed in the middle").hasSize(2);
            assertThat(rig.controller.state().active().move()).isNull();
            assertThat(rig.controller.state().version()).isEqualTo(version + 2);
            assertThat(rig.controller.route(5L)).isEqualTo(Route.SOURCE);
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM dualwrite_user_route", Long.class)).isZero();
            assertThat(write(rig, 5, 50_001, false)).as("the user's next write").isEqualTo(Route.SOURCE);

            copy.afterBatchForTesting(table -> { });
            StepResult retried = rig.controller.moveUser(5L, Route.TARGET, "test", "retry", TIMEOUT);
            assertThat(retried.outcome()).as(retried.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 59999", String.class))
                    .as("the row no mirror carried was copied").isEqualTo("uncaptured");
            assertThat(write(rig, 5, 50_001, false)).isEqualTo(Route.TARGET);
            assertThat(rig.drain()).isTrue();
            assertThat(rig.differences()).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void movingBack_losesNothingTheUserWroteOnTheTarget(Store sourceStore, Store targetStore) throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "umback", BarrierTest.rampAt(0))) {
            copyFor(rig);
            for (long order = 0; order < 5; order++) {
                write(rig, 8, 800 + order, false);
                write(rig, 9, 900 + order, false);
            }
            assertThat(rig.controller.moveUser(8L, Route.TARGET, "test", "there", TIMEOUT).outcome())
                    .isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(write(rig, 8, 801, false)).isEqualTo(Route.TARGET);
            assertThat(write(rig, 8, 802, true)).isEqualTo(Route.TARGET);
            assertThat(write(rig, 8, 805, false)).isEqualTo(Route.TARGET);
            assertThat(write(rig, 9, 901, false)).as("another user stays").isEqualTo(Route.SOURCE);
            Map<Long, String> onTarget = ordersOfUser8(rig.notes(rig.target));

            StepResult back = rig.controller.moveUser(8L, Route.SOURCE, "test", "back", TIMEOUT);

            assertThat(back.outcome()).as(back.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(ordersOfUser8(rig.notes(rig.source))).as("everything user 8 wrote on the target is on the source")
                    .isEqualTo(onTarget);
            assertThat(rig.notes(rig.source)).containsKey(805L).doesNotContainKey(802L);
            assertThat(write(rig, 8, 803, false)).isEqualTo(Route.SOURCE);
            assertThat(rig.drain()).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT route FROM dualwrite_user_route WHERE routing_key = '8'",
                    String.class)).isEqualTo("SOURCE");
        }
    }

    private static Map<Long, String> ordersOfUser8(Map<Long, String> notes) {
        return new java.util.TreeMap<>(new java.util.TreeMap<>(notes).subMap(800L, 810L));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void secondInstance_holdsTheMovingUserAcknowledgesAndRoutesByTheMove(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "umtwo", BarrierTest.rampAt(0))) {
            MirrorUserCopy copy = copyFor(rig);
            JdbcControlStore store = JdbcControlStore.open(rig.target.dataSource(), "orders", BarrierTest.rampAt(0),
                    false);
            try (MigrationController second = MigrationController.builder(store).instanceId("second")
                    .pollInterval(Duration.ofMillis(100)).holdTimeout(Duration.ofSeconds(10)).build()) {
                second.start();
                // The move activates only after its copy: the copy waits until the probe's request for the
                // moving user is held, so the probe cannot arrive after activation and find nothing to hold.
                rig.controller.useUserCopy((key, from, to, timeout) -> {
                    long giveUp = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (second.heldRequests() < 1 && System.nanoTime() < giveUp) {
                        Thread.sleep(5);
                    }
                    copy.copy(key, from, to, timeout);
                });
                assertThat(second.route(21L)).isEqualTo(Route.SOURCE);
                assertThat(second.route(22L)).isEqualTo(Route.SOURCE);
                List<Route> routes = Collections.synchronizedList(new ArrayList<>());
                Thread probe = new Thread(() -> {
                    while (second.state().pending() == null) {
                        Thread.onSpinWait();
                    }
                    try {
                        MigrationController.Admission other = second.admit(22L);
                        routes.add(other.route());
                        other.release();
                        MigrationController.Admission admission = second.admit(21L);
                        routes.add(admission.route());
                        admission.release();
                    } catch (RouteHeldException e) {
                        throw new IllegalStateException(e);
                    }
                });
                probe.start();

                StepResult moved = rig.controller.moveUser(21L, Route.TARGET, "test", "second", TIMEOUT);

                probe.join(20_000);
                assertThat(moved.outcome()).as(moved.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
                assertThat(routes).as("another user is not held; the moving user's held request goes on, on its new"
                        + " route").containsExactly(Route.SOURCE, Route.TARGET);
                assertThat(second.heldRequests()).as("requests the second instance held").isEqualTo(1);
                assertThat(second.instances()).extracting(InstanceStatus::instanceId).contains("second", "umtwo");
                assertThat(second.route(21L)).isEqualTo(Route.TARGET);
                long loads = second.userRouteLoads();
                assertThat(second.route(22L)).isEqualTo(Route.SOURCE);
                assertThat(second.userRouteLoads()).as("only the moved user's cached route was dropped").isEqualTo(loads);
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void moveOutsideRamp_isRefusedWithTheReason(Store sourceStore, Store targetStore) throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "umrefuse",
                BarrierTest.rampAt(0).withPhase(Phase.DUAL_WRITE))) {
            copyFor(rig);
            StepResult result = rig.controller.moveUser(3L, Route.TARGET, "test", "too early", TIMEOUT);
            assertThat(result.outcome()).isEqualTo(StepResult.Outcome.REFUSED);
            assertThat(result.message()).isEqualTo("move of user 3 to TARGET refused: users are moved only in RAMP,"
                    + " where both stores take writes and both directions are mirrored; the phase is DUAL_WRITE");
            assertThatThrownBy(() -> rig.controller.moveUser(3L, Route.TARGET, "test", "", Duration.ZERO))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("timeout");
        }
    }
}
