package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 16, model finding "a step reads the heartbeats and activates in two statements": instance b, counted
 * out on its lapsed promise, renews and reads between the two, finds the step still pending, and withdraws its
 * promise on the view the step is about to replace. {@link ControlStore#finishStep} makes the read and the
 * write one act: b's heartbeat, sent while the decision is being made, waits for it, and the state b reads
 * after its heartbeat is the decided one. Before, the heartbeat landed in between and b read the step pending.
 */
class JdbcControlStoreFinishStepTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(Store.class)
    void heartbeatSentWhileAStepIsDecided_waitsForTheDecision_andThenReadsIt(Store kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind, "ctlfin")) {
            JdbcControlStore store = JdbcControlStore.open(db.dataSource(), "orders", LeaseFenceTest.rules(Phase.DUAL_WRITE, 0),
                    true);
            Instant lapsed = Instant.now().minusSeconds(1);
            store.heartbeat("b", 0, lapsed, true);
            ControlState pending = store.read().begin(LeaseFenceTest.rules(Phase.RAMP, 0),
                    Instant.now().plusSeconds(60), "a", "into RAMP");
            assertThat(store.compareAndSet(0, pending)).isTrue();

            CompletableFuture<ControlState> bRenewsThenReads = new CompletableFuture<>();
            ControlState decided = store.finishStep(pending.version(), instances -> {
                assertThat(instances).singleElement().satisfies(b -> assertThat(b.fences()).isTrue());
                // b's poll runs now: it renews, withdrawing its promise on its old view, then reads.
                CompletableFuture.runAsync(() -> {
                    try {
                        store.heartbeat("b", 0, Instant.now().plusSeconds(10), false);
                        bRenewsThenReads.complete(store.read());
                    } catch (Exception e) {
                        bRenewsThenReads.completeExceptionally(e);
                    }
                });
                assertThat(waitBriefly(bRenewsThenReads)).as("b's heartbeat lands while the step is being decided")
                        .isNull();
                return pending.activate("a", "b counted out");
            });

            assertThat(decided).isNotNull();
            ControlState bSaw = bRenewsThenReads.get(10, TimeUnit.SECONDS);
            assertThat(bSaw.version()).as("what b read after its renewal").isEqualTo(decided.version());
            assertThat(bSaw.pending()).isNull();
            assertThat(bSaw.active().phase()).isEqualTo(Phase.RAMP);
            assertThat(store.instances()).singleElement().satisfies(b -> assertThat(b.fences()).isFalse());
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Store.class)
    void finishStep_decidesNothing_whenTheStateMovedOn_orTheDecisionIsToWait(Store kind) throws Exception {
        try (TestDatabase db = TestDatabase.create(kind, "ctlfin2")) {
            JdbcControlStore store = JdbcControlStore.open(db.dataSource(), "orders", LeaseFenceTest.rules(Phase.DUAL_WRITE, 0),
                    true);
            ControlState pending = store.read().begin(LeaseFenceTest.rules(Phase.RAMP, 0),
                    Instant.now().plusSeconds(60), "a", "into RAMP");
            assertThat(store.compareAndSet(0, pending)).isTrue();

            assertThat(store.finishStep(pending.version(), instances -> null)).isNull();
            assertThat(store.finishStep(0, instances -> {
                throw new AssertionError("asked to decide on version 0, which is no longer the state");
            })).isNull();
            assertThat(store.read().version()).isEqualTo(pending.version());
            assertThat(store.read().pending()).isEqualTo(pending.pending());

            ControlState reverted = pending.revert("a", "no");
            assertThat(store.finishStep(pending.version(), instances -> reverted)).isEqualTo(reverted);
            assertThat(store.read().version()).isEqualTo(reverted.version());
            assertThat(store.read().pending()).isNull();
        }
    }

    /** @return the value if the future completes within half a second, or null */
    private static ControlState waitBriefly(CompletableFuture<ControlState> future) {
        try {
            return future.get(500, TimeUnit.MILLISECONDS);
        } catch (TimeoutException stillWaiting) {
            return null;
        } catch (InterruptedException | java.util.concurrent.ExecutionException e) {
            throw new AssertionError(e);
        }
    }
}
