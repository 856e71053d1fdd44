package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.routing.DesiredSettings.Desired;
import io.dualwrite.routing.DesiredSettings.Report;
import io.dualwrite.testing.Store;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a desired setting (from a feature flag or a refreshed property) becomes barrier steps of the
 * controller, guarded and never forced, and its outcome is reported; the control store holds what is in
 * force. On MariaDB -> PostgreSQL, with the control table in the target.
 */
class DesiredSettingsTest {

    private static final RoutingRules DUAL_WRITE = RoutingRules.initial().withPhase(Phase.DUAL_WRITE)
            .withStrategy(RoutingStrategy.MODULO);

    @Test
    void nextStep_goesOnePhaseAtATime_andThroughRampAtFullBeforeTargetOnly() {
        RoutingRules ramp50 = DUAL_WRITE.withPhase(Phase.RAMP).withPercent(50).withLists(Set.of(), Set.of("9"));
        assertThat(DesiredSettings.nextStep(DUAL_WRITE, new Desired(Phase.RAMP, 50, null, null)))
                .isEqualTo(DUAL_WRITE.withPhase(Phase.RAMP).withPercent(50));
        assertThat(DesiredSettings.nextStep(DUAL_WRITE, new Desired(Phase.TARGET_ONLY, null, null, null)).phase())
                .isEqualTo(Phase.RAMP);
        assertThat(DesiredSettings.nextStep(ramp50, new Desired(Phase.TARGET_ONLY, null, null, null)))
                .isEqualTo(ramp50.withPercent(100).withLists(Set.of(), Set.of()));
        assertThat(DesiredSettings.nextStep(ramp50, new Desired(null, null, Set.of("7"), null)))
                .as("a desire names only what it changes").isEqualTo(ramp50.withLists(Set.of("7"), Set.of("9")));
    }

    @Test
    void desires_runAsGuardedSteps_andReportTheirOutcome() throws Exception {
        try (RampRig rig = new RampRig(Store.MARIADB, Store.POSTGRESQL, "desired", DUAL_WRITE);
                DesiredSettings desired = new DesiredSettings(rig.controller, Duration.ofSeconds(20))) {
            List<Report> reports = new CopyOnWriteArrayList<>();
            desired.onReport(reports::add);

            Report ramp = desired.apply(new Desired(Phase.RAMP, 50, null, null), "flags");
            assertThat(ramp.outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(ramp.steps()).isEqualTo(1);
            JdbcControlStore store = JdbcControlStore.open(rig.target.dataSource(), "orders", DUAL_WRITE, false);
            assertThat(store.read().active()).as("the control table holds the actual setting")
                    .isEqualTo(DUAL_WRITE.withPhase(Phase.RAMP).withPercent(50));
            assertThat(store.read().message()).contains("desired by flags");

            assertThat(desired.apply(new Desired(Phase.RAMP, 50, null, null), "flags").outcome())
                    .isEqualTo(StepResult.Outcome.UNCHANGED);

            rig.controller.addGuard((from, to) -> to.percent() > 60 ? Optional.of("mismatches seen") : Optional.empty());
            Report refused = desired.apply(new Desired(null, 80, null, null), "flags");
            assertThat(refused.outcome()).isEqualTo(StepResult.Outcome.REFUSED);
            assertThat(refused.message()).contains("mismatches seen").contains("(force overrides)");
            assertThat(refused.actual().percent()).as("a desire is never forced").isEqualTo(50);
            assertThat(store.read().active().percent()).isEqualTo(50);

            assertThat(reports).extracting(Report::outcome).containsExactly(StepResult.Outcome.ACTIVATED,
                    StepResult.Outcome.UNCHANGED, StepResult.Outcome.REFUSED);
        }
    }

    @Test
    void targetOnly_isWalkedThroughRampAtFull_andLeavingItIsRefused() throws Exception {
        try (RampRig rig = new RampRig(Store.MARIADB, Store.POSTGRESQL, "desiredto", DUAL_WRITE);
                DesiredSettings desired = new DesiredSettings(rig.controller, Duration.ofSeconds(20))) {
            Report done = desired.apply(new Desired(Phase.TARGET_ONLY, null, null, null), "flags");
            assertThat(done.outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(done.steps()).as("RAMP, RAMP 100, TARGET_ONLY").isEqualTo(3);
            assertThat(rig.controller.rules().phase()).isEqualTo(Phase.TARGET_ONLY);

            Report back = desired.apply(new Desired(Phase.RAMP, null, null, null), "flags");
            assertThat(back.outcome()).isEqualTo(StepResult.Outcome.REFUSED);
            assertThat(back.message()).startsWith("dualwrite.phase: leaving TARGET_ONLY would lose the writes made since");
            assertThat(rig.controller.rules().phase()).isEqualTo(Phase.TARGET_ONLY);
        }
    }

    @Test
    void offer_returnsAtOnce_andTheLatestDesireWins() throws Exception {
        try (RampRig rig = new RampRig(Store.MARIADB, Store.POSTGRESQL, "desiredoff",
                DUAL_WRITE.withPhase(Phase.RAMP));
                DesiredSettings desired = new DesiredSettings(rig.controller, Duration.ofSeconds(20))) {
            desired.offer(new Desired(null, 10, null, null), "flags");
            desired.offer(new Desired(null, 20, null, null), "flags");
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (rig.controller.rules().percent() != 20 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(rig.controller.rules().percent()).isEqualTo(20);
            while (desired.last().map(r -> r.desired().percent() != 20).orElse(true) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(desired.last()).hasValueSatisfying(report -> {
                assertThat(report.desired().percent()).isEqualTo(20);
                assertThat(report.outcome()).isIn(StepResult.Outcome.ACTIVATED, StepResult.Outcome.UNCHANGED);
            });
        }
    }
}
