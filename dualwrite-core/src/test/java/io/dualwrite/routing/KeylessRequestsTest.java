package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a forced RAMP 100 moved no traffic because the application bound no routing key, and nothing
 * said so. Requests without a key are counted over a sliding minute, a step into or within RAMP is refused
 * while their share is above the threshold (unless forced), and in RAMP they are counted as default-routed.
 */
class KeylessRequestsTest {

    private static final RoutingRules DUAL_WRITE = RoutingRules.initial().withPhase(Phase.DUAL_WRITE)
            .withStrategy(RoutingStrategy.MODULO);

    @Test
    void lastMinute_countsAdmissionsOfTheLastSixtySecondsOnly() {
        AtomicLong nanos = new AtomicLong(1_000);
        KeylessRequests requests = new KeylessRequests(nanos::get);
        requests.admitted(true, DUAL_WRITE);
        requests.admitted(true, DUAL_WRITE);
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(30));
        requests.admitted(false, DUAL_WRITE);
        requests.admitted(true, DUAL_WRITE);
        assertThat(requests.lastMinute()).isEqualTo(new KeylessRequests.Share(4, 3));
        assertThat(requests.lastMinute().ratio()).isEqualTo(0.75);

        nanos.addAndGet(TimeUnit.SECONDS.toNanos(31));
        assertThat(requests.lastMinute()).as("the first two are older than a minute").isEqualTo(
                new KeylessRequests.Share(2, 1));
        nanos.addAndGet(TimeUnit.SECONDS.toNanos(60));
        assertThat(requests.lastMinute()).isEqualTo(new KeylessRequests.Share(0, 0));
        assertThat(requests.lastMinute().ratio()).isZero();
        assertThat(requests.defaultRouted()).as("none was in RAMP").isZero();

        requests.admitted(true, DUAL_WRITE.withPhase(Phase.RAMP));
        requests.admitted(false, DUAL_WRITE.withPhase(Phase.RAMP));
        assertThat(requests.defaultRouted()).isEqualTo(1);
    }

    @Test
    void guard_refusesOnlyStepsIntoOrWithinRampAboveTheThreshold() {
        AtomicLong nanos = new AtomicLong();
        KeylessRequests requests = new KeylessRequests(nanos::get);
        RampGuard guard = RampGuards.keylessShareAtMost(requests, 0.5);
        RoutingRules ramp = DUAL_WRITE.withPhase(Phase.RAMP).withPercent(10);
        assertThat(guard.check(DUAL_WRITE, ramp)).as("a minute without requests passes").isEmpty();
        requests.admitted(true, DUAL_WRITE);
        requests.admitted(true, DUAL_WRITE);
        requests.admitted(false, DUAL_WRITE);
        assertThat(guard.check(DUAL_WRITE, ramp)).hasValueSatisfying(reason -> assertThat(reason)
                .startsWith("2 of 3 (66.7 %) requests on this instance in the last minute carried no routing key")
                .contains("dualwrite.routing.max-keyless-share=0.5"));
        assertThat(guard.check(ramp.withPercent(100), ramp.withPhase(Phase.TARGET_ONLY))).isEmpty();
        requests.admitted(false, DUAL_WRITE);
        assertThat(guard.check(DUAL_WRITE, ramp)).as("2 of 4 is not above 0.5").isEmpty();
        assertThatThrownBy(() -> RampGuards.keylessShareAtMost(requests, 1.5))
                .hasMessage("dualwrite.routing.max-keyless-share: 1.5 is outside 0..1");
    }

    @Test
    void keylessApplication_isRefusedRampUnlessForced_andItsRequestsStayOnTheSource() throws Exception {
        try (RampRig rig = new RampRig(Store.MARIADB, Store.POSTGRESQL, "keyless", DUAL_WRITE)) {
            rig.controller.addGuard(RampGuards.keylessShareAtMost(rig.controller.keylessRequests(), 0.2));
            for (long order = 1; order <= 8; order++) {
                rig.write(null, order, jdbc -> { });
            }
            rig.upsert(7, 9, "keyed");
            rig.upsert(7, 10, "keyed");

            StepResult refused = rig.controller.requestPhase(Phase.RAMP, false);
            assertThat(refused.outcome()).isEqualTo(StepResult.Outcome.REFUSED);
            assertThat(refused.message()).contains("8 of 10 (80.0 %) requests on this instance in the last minute"
                    + " carried no routing key and take the default route SOURCE at every percent");
            assertThat(rig.controller.rules().phase()).isEqualTo(Phase.DUAL_WRITE);

            assertThat(rig.controller.requestPhase(Phase.RAMP, true).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(rig.controller.request(r -> r.withPercent(100), true, "everyone").outcome())
                    .isEqualTo(StepResult.Outcome.ACTIVATED);
            long before = rig.controller.keylessRequests().defaultRouted();
            rig.jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                    + " VALUES (20, 7, 'NEW', 1.00, 'keyless', CURRENT_TIMESTAMP)");
            rig.upsert(7, 21, "keyed");

            assertThat(rig.controller.keylessRequests().defaultRouted() - before).isEqualTo(1);
            assertThat(rig.source.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 20", Long.class))
                    .as("at RAMP 100 the keyless insert still went to the source").isEqualTo(1L);
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 20", Long.class))
                    .as("(it was not recorded, so nothing mirrored it)").isZero();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 21", Long.class))
                    .as("the keyed one went to the target").isEqualTo(1L);
        }
    }

    @Test
    void keyedApplication_passesTheGuard() throws Exception {
        try (RampRig rig = new RampRig(Store.MARIADB, Store.POSTGRESQL, "keyed", DUAL_WRITE)) {
            rig.controller.addGuard(RampGuards.keylessShareAtMost(rig.controller.keylessRequests(), 0.2));
            rig.write(null, 1, jdbc -> { });
            for (long order = 2; order <= 10; order++) {
                rig.upsert(order, order, "keyed");
            }
            assertThat(rig.controller.keylessRequests().lastMinute()).isEqualTo(new KeylessRequests.Share(10, 1));
            assertThat(rig.controller.requestPhase(Phase.RAMP, false).outcome())
                    .isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(Set.of(rig.controller.rules().phase())).containsExactly(Phase.RAMP);
        }
    }
}
