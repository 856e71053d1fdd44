package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Timestamp;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import io.dualwrite.testing.Store;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 15, item 7: a merchant's request (routing key 55, which no step here moves) updates user 7's order
 * on the source, and is still open when a step moves user 7 to the target. A step that waited only for
 * the older transactions of moving keys went active around it; the merchant then committed, its forward
 * apply came late, after user 7 had updated and deleted the order on the target, and resurrected the row
 * on both stores. A step now waits for every transaction admitted before it, and for its mirrors to apply
 * what those committed. The negative control ({@code movingKeysOnlyForTesting}) shows the resurrection.
 */
class CrossRouteStepTest {

    private static final long USER = 7;
    private static final long MERCHANT = 55;
    private static final long ORDER = 701;

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL),
                Arguments.of(Store.POSTGRESQL, Store.MARIADB));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void merchantWriteOpenAcrossAStep_isAppliedBeforeTheMovedUserWrites(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "xroute", BarrierTest.rampAt(0))) {
            Play play = new Play(rig);
            play.merchantOpensATransactionOnUsersOrder();
            CompletableFuture<StepResult> step = play.stepMovingTheUser();

            Thread.sleep(600);
            boolean pendingWhileMerchantOpen = !step.isDone() && rig.controller.state().pending() != null;
            play.merchantCommits();
            Thread.sleep(600);
            boolean pendingWhileItsApplyHeld = !step.isDone();
            play.releaseApply.countDown();
            assertThat(step.get(30, TimeUnit.SECONDS).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
            play.userUpdatesThenDeletesOnTheTarget();

            assertThat(pendingWhileMerchantOpen).as("the step waits for the merchant's transaction").isTrue();
            assertThat(pendingWhileItsApplyHeld).as("and for its forward apply").isTrue();
            assertThat(play.rows()).as("source and target rows of the deleted order").isEqualTo("0/0");
            assertThat(rig.differences()).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void stepWaitingForMovingKeysOnly_letsTheMerchantsLateApplyResurrectTheOrder(Store sourceStore,
            Store targetStore) throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "xroneg", BarrierTest.rampAt(0))) {
            rig.controller.movingKeysOnlyForTesting(true);
            Play play = new Play(rig);
            play.merchantOpensATransactionOnUsersOrder();

            assertThat(play.stepMovingTheUser().get(30, TimeUnit.SECONDS).outcome())
                    .as("the step goes active around the open merchant transaction")
                    .isEqualTo(StepResult.Outcome.ACTIVATED);
            play.merchantCommits();
            play.userUpdatesThenDeletesOnTheTarget();

            assertThat(play.rows()).as("the order the user deleted is back on both stores").isEqualTo("1/1");
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = ?", String.class, ORDER))
                    .isEqualTo("merchant");
        }
    }

    /** The interleaving both tests force; only the step's rule differs. */
    private static final class Play {
        final RampRig rig;
        final CountDownLatch merchantWrote = new CountDownLatch(1);
        final CountDownLatch merchantMayCommit = new CountDownLatch(1);
        final CountDownLatch applyHeld = new CountDownLatch(1);
        final CountDownLatch releaseApply = new CountDownLatch(1);
        CompletableFuture<Void> merchant;

        Play(RampRig rig) throws Exception {
            this.rig = rig;
            rig.upsert(USER, ORDER, "v1");
            assertThat(rig.drain()).isTrue();
            // The merchant's change, once committed, waits in its forward apply (read and locked, not yet written).
            rig.forward.observeRows((table, rows) -> {
                if (rows.stream().anyMatch(row -> "merchant".equals(row.get("note")))) {
                    applyHeld.countDown();
                    await(releaseApply);
                }
            });
        }

        void merchantOpensATransactionOnUsersOrder() throws InterruptedException {
            merchant = CompletableFuture.runAsync(() -> rig.write(MERCHANT, ORDER, jdbc -> {
                jdbc.update("UPDATE t_order SET note = 'merchant', gmt_modified = ? WHERE id = ?",
                        new Timestamp(System.currentTimeMillis()), ORDER);
                merchantWrote.countDown();
                await(merchantMayCommit);
            }));
            assertThat(merchantWrote.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(rig.controller.route(MERCHANT)).isEqualTo(Route.SOURCE);
        }

        CompletableFuture<StepResult> stepMovingTheUser() {
            // User 7 is in bucket 7 and merchant 55 in bucket 55: 10 % moves the user only.
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return rig.controller.requestPercent(10, false);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }

        void merchantCommits() throws Exception {
            merchantMayCommit.countDown();
            merchant.get(30, TimeUnit.SECONDS);
            assertThat(applyHeld.await(10, TimeUnit.SECONDS)).as("the merchant's forward apply is held").isTrue();
        }

        void userUpdatesThenDeletesOnTheTarget() throws InterruptedException {
            assertThat(rig.controller.route(USER)).isEqualTo(Route.TARGET);
            rig.upsert(USER, ORDER, "v3");
            rig.delete(USER, ORDER);
            releaseApply.countDown();
            assertThat(rig.drain()).isTrue();
        }

        String rows() {
            return rig.source.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER) + "/"
                    + rig.target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER);
        }

        private static void await(CountDownLatch latch) {
            try {
                latch.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
