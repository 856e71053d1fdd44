package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.Store;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 16, item 1, R7: instance B commits user 7's change v2 on the source in RAMP 0, and loses the
 * target (its mirror and its control store) before the change reaches it. B's lease lapses. Were A to count
 * B out and ramp user 7 to the target, where the user writes v3, B's mirror would apply v2 over v3 when the
 * target comes back, or never, if B died.
 *
 * <p>With an ASYNC mirror B never promises to fence itself (v2 lives only in its memory), so A's step waits
 * for it and reverts, naming it; once B is back and has applied v2, the step goes through and v3 stands.
 * Before, B promised in RAMP, A counted it out, and the target ended with v2 (H2 -> H2, 2026-12-02). With
 * OUTBOX, v2 is in the source's outbox: A counts B out, but its relay applies v2 before the step activates,
 * and B finds nothing left to apply when it comes back.
 */
class LapsedMirrorApplyTest {

    private static final long USER = 7;
    private static final long ORDER = 701;
    private static final Duration LEASE = Duration.ofSeconds(1);

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void asyncInstanceHoldingAnUnappliedChange_isNotCountedOut_andTheStepWaitsForIt(Store sourceStore,
            Store targetStore) throws Exception {
        AtomicReference<FailingDataSource> bTarget = new AtomicReference<>();
        try (RampRig b = rig(sourceStore, targetStore, "lapsedasync", bTarget, MirrorMode.ASYNC);
                MigrationController a = instanceA(b)) {
            b.upsert(USER, ORDER, "v1");
            assertThat(b.drain()).isTrue();

            bTarget.get().setDown(true);
            b.upsert(USER, ORDER, "v2");
            LeaseFenceTest.await(() -> !b.controller.leaseValid(), "b's lease lapses");
            Thread.sleep(LEASE.toMillis());

            StepResult refused = a.requestPercent(10, false);
            assertThat(refused.outcome()).as("b holds v2 in memory, so nobody may count it out")
                    .isEqualTo(StepResult.Outcome.REVERTED);
            assertThat(refused.message()).contains("instance " + b.controller.instanceId() + " has not renewed")
                    .contains("its mirror keeps changes in memory");
            assertThat(a.route(USER)).isEqualTo(Route.SOURCE);

            bTarget.get().setDown(false);
            LeaseFenceTest.await(b.controller::leaseValid, "b renews its lease");
            assertThat(b.drain()).isTrue();
            assertThat(note(b)).as("b's change reached the target").isEqualTo("v2");

            assertThat(a.requestPercent(10, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
            writeOnTheNewPrimary(a, b);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void outboxInstanceHoldingAnUnappliedChange_isCountedOut_afterTheOthersApplyIt(Store sourceStore,
            Store targetStore) throws Exception {
        AtomicReference<FailingDataSource> bTarget = new AtomicReference<>();
        try (RampRig b = rig(sourceStore, targetStore, "lapsedoutbox", bTarget, MirrorMode.OUTBOX);
                MigrationController a = instanceA(b);
                Mirror aRelay = Mirror.create(MirrorConfig.builder().mode(MirrorMode.OUTBOX).build(), b.tables,
                        b.source.dataSource(), b.target.dataSource(), b.source.dataSource(), new EventPublisher())) {
            a.addDrain(MigrationController.Drain.of(aRelay));
            b.upsert(USER, ORDER, "v1");
            assertThat(b.drain()).isTrue();

            bTarget.get().setDown(true);
            b.upsert(USER, ORDER, "v2");
            LeaseFenceTest.await(() -> !b.controller.leaseValid(), "b's lease lapses");
            Thread.sleep(LEASE.toMillis());
            assertThat(note(b)).as("v2 waits in the outbox").isEqualTo("v1");
            aRelay.start();

            assertThat(a.requestPercent(10, false).outcome()).as("b is counted out on its promise")
                    .isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(note(b)).as("a's relay applied b's change before the step").isEqualTo("v2");
            writeOnTheNewPrimary(a, b);

            bTarget.get().setDown(false);
            LeaseFenceTest.await(b.controller::leaseValid, "b renews its lease");
            assertThat(b.drain()).isTrue();
            assertThat(note(b)).as("the moved user's write on its new primary").isEqualTo("v3");
        }
    }

    private static RampRig rig(Store sourceStore, Store targetStore, String prefix,
            AtomicReference<FailingDataSource> bTarget, MirrorMode mode) throws Exception {
        return new RampRig(sourceStore, targetStore, prefix, BarrierTest.rampAt(0), target -> {
            bTarget.set(new FailingDataSource(target));
            return bTarget.get();
        }, UnaryOperator.identity(), LEASE, Duration.ofMillis(300), mode);
    }

    private static MigrationController instanceA(RampRig b) throws Exception {
        MigrationController a = MigrationController.builder(
                JdbcControlStore.open(b.target.dataSource(), "orders", BarrierTest.rampAt(0), true))
                .instanceId("a").pollInterval(Duration.ofMillis(100)).lease(LEASE)
                .stepTimeout(Duration.ofSeconds(3)).build();
        a.start();
        return a;
    }

    /** User 7, now routed to the target, writes v3 there; it stands. */
    private static void writeOnTheNewPrimary(MigrationController a, RampRig b) {
        assertThat(a.route(USER)).isEqualTo(Route.TARGET);
        b.target.execute("UPDATE t_order SET note = 'v3' WHERE id = " + ORDER);
        assertThat(note(b)).isEqualTo("v3");
    }

    private static String note(RampRig b) {
        return b.target.queryForObject("SELECT note FROM t_order WHERE id = ?", String.class, ORDER);
    }
}
