package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillPlan;
import io.dualwrite.backfill.BackfillPlanRunner;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.testing.Store;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The staged-plan scenario on embedded H2: test region, its gates, the rest, then RAMP. */
class H2StagedPlanScenarioTest extends StrategyScenarioTest {

    @Autowired
    BackfillPlanRunner plans;

    @Autowired
    MigrationController controller;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException {
        stores(Store.H2, Store.H2, registry);
    }

    @Test
    void testRegionFirst_gatedByAZeroDifferenceReconcileAndAnApproval_thenTheRest_thenRamp() throws Exception {
        StrategyScenarios.Result plan = runAndCheck("staged-plan").get(0);

        assertThat(plan.lines()).anyMatch(line -> line.startsWith("reconcile gate: passed"))
                .anyMatch(line -> line.startsWith("stage 2 waits for the approval: PENDING"))
                .anyMatch(line -> line.startsWith("the table's backfill after the plan: DONE"))
                .anyMatch(line -> line.startsWith("RAMP 0% (the backfill guard reads the table's status): ACTIVATED"));
        assertThat(plans.progress("rollout").status()).isEqualTo(BackfillPlan.Status.DONE);
        assertThat(plans.progress("rollout").stages().get(0).approvedBy()).contains("demo-operator");
        assertThat(controller.rules().phase()).isEqualTo(Phase.RAMP);
    }
}
