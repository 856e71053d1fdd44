package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The count-out rule on its own: who holds a pending step back, and what a reverted step says. */
class StepDecisionTest {

    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");
    private static final Duration LEASE = Duration.ofSeconds(10);
    private static final ControlState PENDING = ControlState.initial(LeaseFenceTest.rules(Phase.DUAL_WRITE, 0))
            .begin(LeaseFenceTest.rules(Phase.RAMP, 0), NOW.plusSeconds(30), "a", "into RAMP");

    @Test
    void everyInstanceAcknowledged_activates() {
        StepDecision decision = decide(NOW, Instant.MIN, acked("a"), acked("b"));

        assertThat(decision.next().pending()).isNull();
        assertThat(decision.next().active().phase()).isEqualTo(Phase.RAMP);
        assertThat(decision.awaitsDrain()).isFalse();
    }

    @Test
    void liveInstanceNotYetAcknowledged_holdsTheStep_untilTheDeadline() {
        InstanceStatus b = new InstanceStatus("b", 0, NOW.plusSeconds(5), true);

        assertThat(decide(NOW, Instant.MIN, acked("a"), b).next()).isNull();
        StepDecision late = decide(NOW.plusSeconds(31), Instant.MIN, acked("a"),
                new InstanceStatus("b", 0, NOW.plusSeconds(40), true));
        assertThat(late.next().pending()).isNull();
        assertThat(late.next().active().phase()).isEqualTo(Phase.DUAL_WRITE);
        assertThat(late.next().message()).contains("instances [b] did not acknowledge");
    }

    @Test
    void lapsedInstanceThatPromised_isCountedOut_onlyOnceWhatItCommittedIsApplied() {
        InstanceStatus b = new InstanceStatus("b", 0, NOW.minusSeconds(1), true);

        StepDecision undrained = decide(NOW, Instant.MIN, acked("a"), b);
        assertThat(undrained.next()).isNull();
        assertThat(undrained.awaitsDrain()).isTrue();
        assertThat(decide(NOW, NOW.minusSeconds(2), acked("a"), b).awaitsDrain()).as("drained before it expired")
                .isTrue();

        StepDecision drained = decide(NOW, NOW, acked("a"), b);
        assertThat(drained.next().active().phase()).isEqualTo(Phase.RAMP);
    }

    @Test
    void lapsedInstanceThatDidNotPromise_isWaitedFor_andTheRevertNamesItAndTheAction() {
        InstanceStatus b = new InstanceStatus("b", 0, NOW.minusSeconds(1), false);

        assertThat(decide(NOW, NOW, acked("a"), b).next()).isNull();
        StepDecision late = decide(NOW.plusSeconds(31), NOW.plusSeconds(31), acked("a"), b);
        assertThat(late.next().active().phase()).isEqualTo(Phase.DUAL_WRITE);
        assertThat(late.next().message()).contains("instance b has not renewed its lease since 2026-12-02T11:59:49Z")
                .contains("did not promise to fence itself").contains("dropInstance(\"b\")");
        assertThat(late.awaitsDrain()).isFalse();
    }

    private static InstanceStatus acked(String id) {
        return new InstanceStatus(id, PENDING.version(), NOW.plusSeconds(5), false);
    }

    private static StepDecision decide(Instant now, Instant drained, InstanceStatus... instances) {
        return StepDecision.of(PENDING, List.of(instances), now, drained, LEASE, "a");
    }
}
