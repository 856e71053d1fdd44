package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillGate;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.backfill.BackfillTestHooks;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.testing.Store;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 15, item 5: a backfill chunk writes source rows over the target without a version guard, which is
 * right only while nothing but the library writes the target. In RAMP a target-routed user writes there
 * first; a chunk (or {@code retryFailedRows}) that copies the source's older row over it loses the write,
 * and the reverse mirror copies the stale row back. The controller's gate refuses chunks in RAMP, and a
 * step into RAMP waits for the chunk in flight. The negative control shows the loss without the gate.
 */
class BackfillInRampTest {

    private static final int HISTORY = 10;

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL),
                Arguments.of(Store.POSTGRESQL, Store.MARIADB));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void backfillStartedAtRamp100_isRefusedAndTheTargetRoutedWriteStays(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "bframp", dualWrite())) {
            userWroteOnTheTargetAtRamp100(rig);
            BackfillRunner backfill = runner(rig, rig.controller.backfillGate());

            assertThatThrownBy(() -> backfill.start("t_order")).isInstanceOf(BackfillGate.Refused.class)
                    .hasMessageStartingWith("dualwrite backfill of t_order refused in phase RAMP: users routed to the"
                            + " target write there")
                    .hasMessageContaining("step back to DUAL_WRITE");

            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 3", String.class))
                    .isEqualTo("newer");
            assertThat(backfill.progress("t_order").ranges()).as("no job was planned").isZero();
            backfill.close();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void withoutTheGate_aBackfillAtRamp100_revertsTheTargetRoutedWrite(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "bfnogate", dualWrite())) {
            userWroteOnTheTargetAtRamp100(rig);
            BackfillRunner backfill = runner(rig, BackfillGate.OPEN);

            backfill.start("t_order");

            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 3", String.class))
                    .as("the user's write on the target, lost to the source's older row").isEqualTo("history");
            backfill.close();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void retryFailedRowsAtRamp100_isRefusedAndTheTargetRoutedWriteStays(Store sourceStore, Store targetStore)
            throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "bfretry", dualWrite())) {
            BackfillRunner backfill = runner(rig, rig.controller.backfillGate());
            backfill.ensureTables();
            rig.target.execute("INSERT INTO dualwrite_backfill_failure (job, row_key, error, created_ms)"
                    + " VALUES ('t_order', '[3]', 'a failure', 0)");
            userWroteOnTheTargetAtRamp100(rig);

            assertThatThrownBy(() -> backfill.retryFailedRows("t_order")).isInstanceOf(BackfillGate.Refused.class)
                    .hasMessageContaining("refused in phase RAMP");

            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 3", String.class))
                    .isEqualTo("newer");
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM dualwrite_backfill_failure", Long.class))
                    .as("the failed row stays recorded").isEqualTo(1L);
            backfill.close();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void stepIntoRampDuringAChunk_waitsForTheChunkThenTheJobPausesNamingThePhase(Store sourceStore,
            Store targetStore) throws Exception {
        try (RampRig rig = new RampRig(sourceStore, targetStore, "bfstep", dualWrite())) {
            seedHistory(rig);
            BackfillRunner backfill = runner(rig, rig.controller.backfillGate());
            CountDownLatch held = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            BackfillTestHooks.holdAfterRead(backfill, held, release);
            backfill.start("t_order");
            assertThat(held.await(10, TimeUnit.SECONDS)).as("a chunk is in flight").isTrue();

            CompletableFuture<StepResult> step = CompletableFuture.supplyAsync(() -> {
                try {
                    return rig.controller.requestPhase(Phase.RAMP, true);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            Thread.sleep(1_500);
            boolean pendingWhileChunkHeld = !step.isDone() && rig.controller.state().pending() != null;
            release.countDown();
            StepResult result = step.get(30, TimeUnit.SECONDS);

            assertThat(pendingWhileChunkHeld).as("the step waits for the chunk in flight").isTrue();
            assertThat(result.state().active().phase()).isEqualTo(Phase.RAMP);
            backfill.awaitCompletion("t_order", Duration.ofSeconds(30));
            BackfillProgress progress = backfill.progress("t_order");
            assertThat(progress.status()).isEqualTo(BackfillStatus.PAUSED);
            assertThat(progress.lastError()).hasValueSatisfying(reason -> assertThat(reason)
                    .contains("refused in phase RAMP"));
            assertThat(progress.rowsCopied()).as("only what chunks admitted before the step copied").isPositive()
                    .isLessThan(HISTORY);
            assertThatThrownBy(() -> backfill.resume("t_order")).isInstanceOf(BackfillGate.Refused.class);
            assertThat(backfill.progress("t_order").status()).as("still paused").isEqualTo(BackfillStatus.PAUSED);
            backfill.close();
        }
    }

    /** History in the source only; then RAMP 100 and user 3's newer row on the target, not yet mirrored back. */
    private static void userWroteOnTheTargetAtRamp100(RampRig rig) throws Exception {
        seedHistory(rig);
        assertThat(rig.controller.requestPhase(Phase.RAMP, true).state().active().phase()).isEqualTo(Phase.RAMP);
        assertThat(rig.controller.requestPercent(100, true).state().active().percent()).isEqualTo(100);
        // The reverse mirror lags (or cannot reach the source): the user's write is on the target only.
        new JdbcTemplate(rig.target.dataSource()).update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                + " VALUES (3, 3, 'PAID', 10.00, 'newer', ?)", new Timestamp(System.currentTimeMillis() + 60_000));
    }

    private static void seedHistory(RampRig rig) {
        Timestamp old = new Timestamp(System.currentTimeMillis() - 3_600_000);
        JdbcTemplate history = new JdbcTemplate(rig.source.dataSource());
        for (long id = 1; id <= HISTORY; id++) {
            history.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                    + " VALUES (?, ?, 'NEW', 10.00, 'history', ?)", id, id, old);
        }
    }

    private static BackfillRunner runner(RampRig rig, BackfillGate gate) {
        BackfillConfig config = BackfillConfig.builder().createTables(true).chunkSize(2).chunkSizeBounds(2, 2)
                .backoffPause(Duration.ofMillis(50)).build();
        return BackfillRunner.create(config, rig.tables, rig.source.dataSource(), rig.target.dataSource(),
                new EventPublisher(), gate);
    }

    private static RoutingRules dualWrite() {
        return new RoutingRules(Phase.DUAL_WRITE, 0, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE);
    }
}
