package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class MigrationControllerTest {

    private static final Duration POLL = Duration.ofMillis(100);

    private final PropertiesControlStore store = new PropertiesControlStore(RoutingRules.initial()
            .withPhase(Phase.DUAL_WRITE).withStrategy(RoutingStrategy.MODULO));
    private final List<MigrationController> controllers = new java.util.ArrayList<>();

    @AfterEach
    void closeControllers() {
        controllers.forEach(MigrationController::close);
    }

    private MigrationController controller(String id, RampGuard... guards) throws Exception {
        MigrationController.Builder builder = MigrationController.builder(store).instanceId(id).pollInterval(POLL)
                .stepTimeout(Duration.ofSeconds(2)).holdTimeout(Duration.ofSeconds(5));
        MigrationController controller = builder.build();
        for (RampGuard guard : guards) {
            controller.addGuard(guard);
        }
        controller.start();
        controllers.add(controller);
        return controller;
    }

    @Test
    void step_becomesActiveOnEveryInstance() throws Exception {
        MigrationController a = controller("a");
        MigrationController b = controller("b");

        StepResult result = a.requestPhase(Phase.RAMP, false);

        assertThat(result.outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThat(a.rules().phase()).isEqualTo(Phase.RAMP);
        awaitPhase(b, Phase.RAMP);
        assertThat(a.requestPercent(30, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        awaitPercent(b, 30);
        assertThat(b.route(29L)).isEqualTo(Route.TARGET);
        assertThat(b.route(30L)).isEqualTo(Route.SOURCE);
    }

    @Test
    void step_revertsWithTheReason_whenALiveInstanceNeverAcknowledges() throws Exception {
        MigrationController a = controller("a");
        store.heartbeat("silent", -1, Instant.now().plusSeconds(600), false);

        StepResult result = a.requestPhase(Phase.RAMP, false);

        assertThat(result.outcome()).isEqualTo(StepResult.Outcome.REVERTED);
        assertThat(result.message()).contains("reverted").contains("[silent]").contains("did not acknowledge");
        assertThat(a.rules().phase()).isEqualTo(Phase.DUAL_WRITE);
        assertThat(store.read().pending()).isNull();
    }

    @Test
    void deadInstanceThatPromisedToFenceItself_dropsOutWhenItsLeaseExpires() throws Exception {
        MigrationController a = controller("a");
        store.heartbeat("crashed", -1, Instant.now().minusSeconds(1), true);

        assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
    }

    @Test
    void keyParkedWhileDraining_keepsTheStepFromGoingActive() throws Exception {
        MigrationController a = controller("a");
        java.util.concurrent.atomic.AtomicLong parked = new java.util.concurrent.atomic.AtomicLong(3);
        a.addDrain(new MigrationController.Drain() {
            @Override
            public boolean awaitAppliedUpTo(long committedUpToNanos, Duration timeout) {
                return true;
            }

            @Override
            public long parked() {
                // Parks one more key each time it is asked: one while the step drains.
                return parked.getAndIncrement();
            }
        });

        StepResult result = a.requestPhase(Phase.RAMP, false);

        assertThat(result.outcome()).isEqualTo(StepResult.Outcome.REVERTED);
        assertThat(a.rules().phase()).isEqualTo(Phase.DUAL_WRITE);
    }

    @Test
    void instanceThatLostItsLease_takesNoRampRequests_untilItRenews() throws Exception {
        AtomicBoolean reachable = new AtomicBoolean(true);
        ControlStore flaky = new ControlStore() {
            @Override
            public ControlState read() throws java.sql.SQLException {
                check();
                return store.read();
            }

            @Override
            public boolean compareAndSet(long expectedVersion, ControlState next) throws java.sql.SQLException {
                check();
                return store.compareAndSet(expectedVersion, next);
            }

            @Override
            public ControlState finishStep(long expectedVersion,
                    java.util.function.Function<List<InstanceStatus>, ControlState> decide) throws java.sql.SQLException {
                check();
                return store.finishStep(expectedVersion, decide);
            }

            @Override
            public void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences)
                    throws java.sql.SQLException {
                check();
                store.heartbeat(instanceId, acknowledged, leaseUntil, fences);
            }

            @Override
            public List<InstanceStatus> instances() throws java.sql.SQLException {
                check();
                return store.instances();
            }

            @Override
            public void leave(String instanceId) {
                store.leave(instanceId);
            }

            @Override
            public boolean drop(String instanceId, Instant lapsedBefore) throws java.sql.SQLException {
                check();
                return store.drop(instanceId, lapsedBefore);
            }

            private void check() throws java.sql.SQLException {
                if (!reachable.get()) {
                    throw new java.sql.SQLException("control store down");
                }
            }
        };
        MigrationController a = MigrationController.builder(flaky).instanceId("a").pollInterval(POLL)
                .lease(Duration.ofMillis(400)).holdTimeout(Duration.ofMillis(300)).build();
        a.start();
        controllers.add(a);
        assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThat(a.admit(1L).route()).isEqualTo(Route.SOURCE);

        reachable.set(false);
        Thread.sleep(500);

        assertThatThrownBy(() -> a.admit(1L)).isInstanceOf(RouteHeldException.class)
                .hasMessageContaining("has not renewed its lease in the control store");
        reachable.set(true);
        Thread.sleep(3 * POLL.toMillis());
        assertThat(a.admit(1L).route()).isEqualTo(Route.SOURCE);
    }

    /**
     * Issue 16, item 1: an instance whose lease lapsed (B) renews it at its next poll. Had it read the state
     * before renewing, a step activated without it between that read and the renewal would be routed by
     * B's old view, with a valid lease, for a whole poll interval. B renews first, then reads.
     */
    @Test
    void lapsedInstance_renewsBeforeItReads_soItNeverRoutesByAViewOlderThanItsLease() throws Exception {
        MigrationController a = MigrationController.builder(store).instanceId("a").pollInterval(POLL)
                .stepTimeout(Duration.ofSeconds(10)).build();
        a.start();
        controllers.add(a);
        assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        AtomicBoolean cutOff = new AtomicBoolean();
        AtomicBoolean stepOnRead = new AtomicBoolean();
        CompletableFuture<StepResult> step = new CompletableFuture<>();
        ControlStore seenByB = new ForwardingControlStore(store) {
            @Override
            public ControlState read() throws java.sql.SQLException {
                ControlState read = super.read();
                if (stepOnRead.getAndSet(false)) {
                    // A ramps to 10 % (user 7 moves) right after B's read: at once if B counts as dead.
                    CompletableFuture.runAsync(() -> {
                        try {
                            step.complete(a.requestPercent(10, false));
                        } catch (Exception e) {
                            step.completeExceptionally(e);
                        }
                    });
                    try {
                        step.get(1, TimeUnit.SECONDS);
                    } catch (Exception notYet) {
                        // B is live: A waits for its acknowledgement.
                    }
                }
                return read;
            }

            @Override
            public void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences)
                    throws java.sql.SQLException {
                if (cutOff.get()) {
                    throw new java.sql.SQLException("control store unreachable from b");
                }
                super.heartbeat(instanceId, acknowledged, leaseUntil, fences);
            }
        };
        MigrationController b = MigrationController.builder(seenByB).instanceId("b").pollInterval(POLL)
                .lease(Duration.ofMillis(400)).holdTimeout(Duration.ofMillis(300)).build();
        b.start();
        controllers.add(b);

        cutOff.set(true);
        Thread.sleep(500);
        assertThat(b.leaseValid()).isFalse();
        stepOnRead.set(true);
        cutOff.set(false);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!b.leaseValid() && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }

        // The first admission b takes with its renewed lease.
        MigrationController.Admission admission = b.admit(7L);
        int activePercent = store.read().active().percent();
        assertThat(admission.route() == Route.SOURCE && activePercent == 10)
                .as("b admits user 7 to the source while the others route it to the target (active percent %d)",
                        activePercent)
                .isFalse();
        admission.release();
        assertThat(step.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        awaitPercent(b, 10);
        assertThat(b.route(7L)).isEqualTo(Route.TARGET);
    }

    /** A control store that passes every call on; tests override what they fault. */
    /**
     * Issue 16, the lease model's finding (model/lease.pml, R1): the heartbeat that acknowledges a step was
     * trusted as a renewal although no read followed it. An instance paused between its read and its
     * acknowledgement (here: a drain that takes longer than the lease) then trusted a view older than its
     * lease for a whole poll. Only renew-then-read extends trust.
     */
    @Test
    void acknowledgingHeartbeat_isNoRenewal_soAViewReadBeforeAPauseIsNotTrusted() throws Exception {
        MigrationController a = controller("a");
        MigrationController b = MigrationController.builder(store).instanceId("b").pollInterval(Duration.ofMillis(50))
                .lease(Duration.ofMillis(200)).stepTimeout(Duration.ofSeconds(10)).build();
        controllers.add(b);
        AtomicBoolean paused = new AtomicBoolean();
        b.addDrain((upTo, timeout) -> {
            if (paused.getAndSet(false)) {
                Thread.sleep(300);
            }
            return true;
        });
        b.tick();
        CompletableFuture<StepResult> step = CompletableFuture.supplyAsync(() -> {
            try {
                return a.requestPhase(Phase.RAMP, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        awaitPending(a);

        paused.set(true);
        b.tick();

        assertThat(b.leaseValid()).as("trust after a read 300 ms old, with a 200 ms lease").isFalse();
        assertThat(step.get(10, TimeUnit.SECONDS).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
    }

    private static class ForwardingControlStore implements ControlStore {
        private final ControlStore delegate;

        ForwardingControlStore(ControlStore delegate) {
            this.delegate = delegate;
        }

        @Override
        public ControlState read() throws java.sql.SQLException {
            return delegate.read();
        }

        @Override
        public boolean compareAndSet(long expectedVersion, ControlState next) throws java.sql.SQLException {
            return delegate.compareAndSet(expectedVersion, next);
        }

        @Override
        public ControlState finishStep(long expectedVersion,
                java.util.function.Function<List<InstanceStatus>, ControlState> decide) throws java.sql.SQLException {
            return delegate.finishStep(expectedVersion, decide);
        }

        @Override
        public void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences)
                throws java.sql.SQLException {
            delegate.heartbeat(instanceId, acknowledged, leaseUntil, fences);
        }

        @Override
        public List<InstanceStatus> instances() throws java.sql.SQLException {
            return delegate.instances();
        }

        @Override
        public void leave(String instanceId) throws java.sql.SQLException {
            delegate.leave(instanceId);
        }

        @Override
        public boolean drop(String instanceId, Instant lapsedBefore) throws java.sql.SQLException {
            return delegate.drop(instanceId, lapsedBefore);
        }
    }

    @Test
    void badChanges_areRefused_andNothingChanges() throws Exception {
        MigrationController a = controller("a");
        ControlState before = store.read();

        assertThatThrownBy(() -> a.requestPhase(Phase.TARGET_ONLY, true))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.phase: DUAL_WRITE -> TARGET_ONLY skips a phase; go through RAMP first");
        assertThatThrownBy(() -> a.requestPercent(-1, false)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.routing.percent: -1 is outside 0..100");
        assertThatThrownBy(() -> a.request(a.rules().withLists(List.of("abc"), List.of()), false, "allow a name"))
                .hasMessageStartingWith("dualwrite.routing.allow: dualwrite.routing.strategy=MODULO needs whole-number");
        assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThatThrownBy(() -> a.requestPhase(Phase.TARGET_ONLY, false))
                .hasMessageContaining("TARGET_ONLY needs RAMP at 100 percent");
        assertThat(store.read().active()).isEqualTo(before.active().withPhase(Phase.RAMP));
    }

    @Test
    void eachGuard_refusesAdvancing_andForceOverrides() throws Exception {
        AtomicBoolean backfillDone = new AtomicBoolean(false);
        AtomicBoolean mismatchesLow = new AtomicBoolean(false);
        RampGuard backfill = (from, to) -> backfillDone.get() ? Optional.empty() : Optional.of("backfill of t_order RUNNING");
        RampGuard mismatches = RampGuards.mismatchRateAtMost(() -> mismatchesLow.get() ? 0.0 : 0.05, 0.001);
        MigrationController a = controller("a", backfill, mismatches);

        StepResult refused = a.requestPhase(Phase.RAMP, false);
        assertThat(refused.outcome()).isEqualTo(StepResult.Outcome.REFUSED);
        assertThat(refused.message()).contains("backfill of t_order RUNNING")
                .contains("confirmed mismatch rate 0.0500 is above 0.0010").contains("force overrides");
        assertThat(a.rules().phase()).isEqualTo(Phase.DUAL_WRITE);

        backfillDone.set(true);
        assertThat(a.requestPhase(Phase.RAMP, false).message()).doesNotContain("backfill").contains("mismatch rate");
        assertThat(a.requestPhase(Phase.RAMP, true).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);

        assertThat(a.requestPercent(10, false).outcome()).as("raising is guarded").isEqualTo(StepResult.Outcome.REFUSED);
        mismatchesLow.set(true);
        assertThat(a.requestPercent(10, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        mismatchesLow.set(false);
        assertThat(a.requestPercent(0, false).outcome()).as("rolling back is never guarded")
                .isEqualTo(StepResult.Outcome.ACTIVATED);
    }

    @Test
    void movingKey_isHeldUntilTheStepIsActive_andOthersAreNot() throws Exception {
        MigrationController a = controller("a");
        assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        // An instance-owned transaction on a key that moves keeps the step from going active.
        MigrationController.Admission open = a.admit(5L);
        CompletableFuture<StepResult> step = CompletableFuture.supplyAsync(() -> {
            try {
                return a.requestPercent(10, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        awaitPending(a);
        assertThat(a.admit(50L).route()).as("a key that does not move goes on").isEqualTo(Route.SOURCE);
        CountDownLatch admitted = new CountDownLatch(1);
        CompletableFuture<Route> held = CompletableFuture.supplyAsync(() -> {
            try {
                Route route = a.admit(7L).route();
                admitted.countDown();
                return route;
            } catch (RouteHeldException e) {
                throw new IllegalStateException(e);
            }
        });
        assertThat(admitted.await(500, TimeUnit.MILLISECONDS)).as("moving key held").isFalse();
        assertThat(step).isNotDone();

        open.release();

        assertThat(step.get(5, TimeUnit.SECONDS).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThat(held.get(5, TimeUnit.SECONDS)).isEqualTo(Route.TARGET);
        assertThat(a.heldRequests()).isEqualTo(1);
    }

    @Test
    void heldRequest_failsAfterTheHoldTimeout_ratherThanTakeTheOldRoute() throws Exception {
        MigrationController a = MigrationController.builder(store).instanceId("a").pollInterval(POLL)
                .stepTimeout(Duration.ofSeconds(3)).holdTimeout(Duration.ofMillis(300)).build();
        a.start();
        controllers.add(a);
        assertThat(a.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        MigrationController.Admission open = a.admit(5L);
        CompletableFuture<StepResult> step = CompletableFuture.supplyAsync(() -> {
            try {
                return a.requestPercent(10, false);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        awaitPending(a);

        CompletableFuture<MigrationController.Admission> other = CompletableFuture.supplyAsync(() -> {
            try {
                return a.admit(6L);
            } catch (RouteHeldException e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        assertThatThrownBy(() -> other.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(RouteHeldException.class)
                .hasMessageContaining("routing key 6").hasMessageContaining("dualwrite.routing.hold-timeout");
        // The thread that holds the pre-step admission is not held: it would wait for a step waiting for it.
        MigrationController.Admission nested = a.admit(6L);
        assertThat(nested.route()).isEqualTo(Route.SOURCE);
        nested.release();
        assertThat(step.get(10, TimeUnit.SECONDS).outcome()).as("the open transaction never ended")
                .isEqualTo(StepResult.Outcome.REVERTED);
        open.release();
        assertThat(a.admit(6L).route()).isEqualTo(Route.SOURCE);
    }

    private static void awaitPending(MigrationController controller) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (controller.state().pending() == null && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        assertThat(controller.state().pending()).isNotNull();
    }

    private static void awaitPhase(MigrationController controller, Phase phase) throws InterruptedException {
        long deadline = System.nanoTime() + 2 * POLL.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
        while (controller.rules().phase() != phase && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(controller.rules().phase()).isEqualTo(phase);
    }

    private static void awaitPercent(MigrationController controller, int percent) throws InterruptedException {
        long deadline = System.nanoTime() + 2 * POLL.toNanos() + TimeUnit.MILLISECONDS.toNanos(200);
        while (controller.rules().percent() != percent && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(controller.rules().percent()).isEqualTo(percent);
    }
}
