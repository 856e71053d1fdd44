package io.dualwrite.autoconfigure.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.autoconfigure.DualWriteBackfillPlanAutoConfiguration;
import io.dualwrite.backfill.BackfillPlanRunner;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.security.Principal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.SecurityContext;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.jdbc.core.JdbcTemplate;

/** Staged backfill plans from properties: the endpoint's actions and status, the approval, meters, bad input. */
class BackfillPlanEndpointTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "plan_ep_src");
        target = TestDatabase.create(Store.H2, "plan_ep_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
        JdbcTemplate history = new JdbcTemplate(source.dataSource());
        for (long id = 1; id <= 30; id++) {
            history.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, ?, ?)", id,
                    id % 3 == 0 ? "TEST" : "OLD", new Timestamp(System.currentTimeMillis()));
        }
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class, DualWriteEndpointAutoConfiguration.class,
                        DualWriteBackfillPlanAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "management.endpoints.web.exposure.include=dualwrite",
                        "dualwrite.management.write-enabled=true",
                        "dualwrite.backfill.plan-poll-interval=50ms",
                        "dualwrite.backfill.plans.rollout.tables=t_order",
                        "dualwrite.backfill.plans.rollout.stages[0].name=test-orders",
                        "dualwrite.backfill.plans.rollout.stages[0].where=status = ?",
                        "dualwrite.backfill.plans.rollout.stages[0].parameters=TEST",
                        "dualwrite.backfill.plans.rollout.stages[0].approval-gate=true",
                        "dualwrite.backfill.plans.rollout.stages[0].rows-per-second=1000",
                        "dualwrite.backfill.plans.rollout.stages[1].name=rest");
    }

    private static WebEndpointResponse<Map<String, Object>> plan(DualWriteEndpoint endpoint, String action,
            String plan, String actor, String reason, SecurityContext security) {
        return endpoint.write("plan", action, null, reason, null, null, null, null, null, null, null, plan, null,
                actor, null, null, security);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> rollout(DualWriteEndpoint endpoint) {
        return (Map<String, Object>) ((Map<String, Object>) endpoint.status().get("plans")).get("rollout");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> stage(Map<String, Object> plan, int index) {
        return ((List<Map<String, Object>>) plan.get("stages")).get(index);
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting for " + what);
            }
            Thread.sleep(20);
        }
    }

    @Test
    void startApproveAndStatus_throughTheEndpoint() {
        runner().run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            await("the first look", () -> "NOT_STARTED".equals(rollout(endpoint).get("status")));

            WebEndpointResponse<Map<String, Object>> unknown = plan(endpoint, "start", "nope", null, null, null);
            assertThat(unknown.getStatus()).isEqualTo(400);
            assertThat(unknown.getBody()).extractingByKey("error").asString()
                    .startsWith("no backfill plan is named 'nope'");
            assertThat(plan(endpoint, "launch", "rollout", null, null, null).getBody())
                    .containsEntry("error", "plan: unknown action 'launch'; expected one of [start, pause, resume,"
                            + " restart, approve]");

            assertThat(plan(endpoint, "start", "rollout", null, null, null).getStatus()).isEqualTo(200);
            await("the first stage at its gate", () -> "GATED".equals(stage(rollout(endpoint), 0).get("status")));
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(10L);
            assertThat(stage(rollout(endpoint), 0)).containsEntry("rowsCopied", 10L);
            assertThat(stage(rollout(endpoint), 1)).containsEntry("status", "PENDING");

            WebEndpointResponse<Map<String, Object>> anonymous = plan(endpoint, "approve", "rollout", null, "ok",
                    null);
            assertThat(anonymous.getStatus()).isEqualTo(400);
            assertThat(anonymous.getBody()).containsEntry("error", "plan: approve needs who approves: sign in, or"
                    + " give \"actor\"");

            SecurityContext alice = new SecurityContext() {
                @Override
                public Principal getPrincipal() {
                    return () -> "alice";
                }

                @Override
                public boolean isUserInRole(String role) {
                    return true;
                }
            };
            WebEndpointResponse<Map<String, Object>> approved = plan(endpoint, "approve", "rollout", "mallory",
                    "ten test orders look right", alice);
            assertThat(approved.getStatus()).isEqualTo(200);
            @SuppressWarnings("unchecked")
            Map<String, Object> body = (Map<String, Object>) approved.getBody().get("plan");
            assertThat(stage(body, 0)).as("the signed-in user, not the actor given").containsEntry("approvedBy", "alice")
                    .containsEntry("approvalReason", "ten test orders look right");

            await("the plan done", () -> "DONE".equals(rollout(endpoint).get("status")));
            assertThat(rollout(endpoint)).containsEntry("rowsCopied", 30L).containsEntry("stageIndex", 2);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(30L);
            WebEndpointResponse<Map<String, Object>> again = plan(endpoint, "approve", "rollout", "bob", null, null);
            assertThat(again.getStatus()).isEqualTo(409);
            assertThat(again.getBody()).extractingByKey("error").asString().contains("is done");

            MeterRegistry meters = context.getBean(MeterRegistry.class);
            assertThat(meters.get(MeterNames.BACKFILL_PLAN_STAGE).tag("plan", "rollout").gauge().value())
                    .isEqualTo(2.0);
            assertThat(meters.get(MeterNames.BACKFILL_PLAN_ROWS).tag("plan", "rollout").tag("stage", "rest").gauge()
                    .value()).isEqualTo(20.0);
        });
    }

    @Test
    void noPlans_noRunner_andTheEndpointSaysSo() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class, DualWriteEndpointAutoConfiguration.class,
                        DualWriteBackfillPlanAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "dualwrite.management.write-enabled=true",
                        "management.endpoints.web.exposure.include=dualwrite")
                .run(context -> {
                    assertThat(context).doesNotHaveBean(BackfillPlanRunner.class);
                    DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
                    assertThat(plan(endpoint, "start", "rollout", null, null, null).getBody()).containsEntry("error",
                            "plan: no backfill plan is configured; define one under dualwrite.backfill.plans");
                });
    }

    @Test
    void badTriggerOrColumn_failsStartUpNamingTheProperty() {
        runner().withPropertyValues("dualwrite.backfill.plans.rollout.trigger=tomorrow").run(context ->
                assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining(
                        "dualwrite.backfill.plans.rollout.trigger: 'tomorrow' is not a trigger"));
        runner().withPropertyValues("dualwrite.backfill.plans.rollout.stages[1].time-column=created",
                "dualwrite.backfill.plans.rollout.stages[1].time-to=2026-01-01T00:00:00").run(context ->
                assertThat(context).hasFailed().getFailure().rootCause().hasMessageContaining(
                        "dualwrite.backfill.plans.rollout.stages.rest.time-window: column 'created' does not exist in"
                                + " source table 't_order'"));
    }
}
