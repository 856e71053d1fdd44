package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DESIGN invariant 5, forced deterministically: a forward apply of a user's row is held (after it read
 * the row, before it wrote the target) across a ramp step that moves the user to the target; the user
 * then updates and deletes the row on the target. The barrier keeps the step pending until the late
 * apply has landed, so the row stays deleted everywhere. Without the barrier the late apply resurrects
 * the deleted row with an older version (and the reverse mirror then copies it back to the source) — the
 * negative control shows the scenario really bites.
 */
class BarrierTest {

    private static final long USER = 7;
    private static final long ORDER = 701;

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void lateForwardApplyAcrossARampStep_doesNotResurrectTheDeletedRow(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "barrier", rampAt(0))) {
            Outcome outcome = play(rig, true);

            assertThat(outcome.stepPendingWhileApplyHeld).as("the step waits for the late apply").isTrue();
            assertThat(outcome.sourceRows).as("source").isZero();
            assertThat(outcome.targetRows).as("target").isZero();
            assertThat(rig.differences()).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void withoutTheBarrier_theLateApplyResurrectsTheRow(Store sourceStore, Store targetStore) throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "nobarrier", rampAt(0))) {
            rig.controller.barrierForTesting(false);

            Outcome outcome = play(rig, false);

            assertThat(outcome.stepPendingWhileApplyHeld).isFalse();
            assertThat(outcome.targetRows).as("resurrected on the target by the late forward apply").isEqualTo(1);
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = ?", String.class, ORDER))
                    .as("an older version than the user's last write").isEqualTo("v2");
        }
    }

    private record Outcome(boolean stepPendingWhileApplyHeld, long sourceRows, long targetRows) {
    }

    private static Outcome play(RampRig rig, boolean barrier) throws Exception {
        rig.upsert(USER, ORDER, "v1");
        assertThat(rig.drain()).isTrue();
        assertThat(rig.differences()).isEmpty();

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
        long sourceRows = rig.source.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER);
        long targetRows = rig.target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER);
        return new Outcome(pending, sourceRows, targetRows);
    }

    static RoutingRules rampAt(int percent) {
        return new RoutingRules(Phase.RAMP, percent, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE);
    }

}
