package io.dualwrite.autoconfigure.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.ControlStore;
import io.dualwrite.routing.InstanceStatus;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;

/** The endpoint's status and controls, and the health indicator's thresholds. */
class DualWriteEndpointTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "endpoint_src");
        target = TestDatabase.create(Store.H2, "endpoint_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
        JdbcTemplate history = new JdbcTemplate(source.dataSource());
        for (long id = 1; id <= 30; id++) {
            history.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'OLD', ?)", id,
                    new Timestamp(System.currentTimeMillis()));
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
                        DualWriteAutoConfiguration.class, DualWriteEndpointAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "management.endpoints.web.exposure.include=dualwrite");
    }

    @Test
    void writeOperations_areRefusedWithoutTheEnablingProperty() {
        runner().run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            WebEndpointResponse<Map<String, Object>> response = backfill(endpoint, "start", "t_order", null);
            assertThat(response.getStatus()).isEqualTo(403);
            assertThat(response.getBody()).containsEntry("error", "dualwrite write operations are disabled; set"
                    + " dualwrite.management.write-enabled=true to allow 'backfill'");
            assertThat(context.getBean(BackfillRunner.class).progress("t_order").ranges()).isZero();
            assertThat(endpoint.status()).containsEntry("writeEnabled", false);
        });
    }

    @Test
    void backfill_beforeDualWrite_isRefusedNamingThePhase() {
        runner().withPropertyValues("dualwrite.management.write-enabled=true", "dualwrite.phase=SOURCE_ONLY")
                .run(context -> {
                    DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
                    WebEndpointResponse<Map<String, Object>> response = backfill(endpoint, "start", "t_order", null);
                    assertThat(response.getStatus()).isEqualTo(409);
                    assertThat(response.getBody()).extractingByKey("error").asString()
                            .startsWith("backfill: phase SOURCE_ONLY does not mirror writes");
                    assertThat(context.getBean(BackfillRunner.class).progress("t_order").ranges()).isZero();
                });
    }

    @Test
    void backfill_startsPausesAndResumes_andTheStatusShowsIt() {
        runner().withPropertyValues("dualwrite.management.write-enabled=true", "dualwrite.backfill.rows-per-second=10",
                "dualwrite.backfill.chunk-size=5", "dualwrite.backfill.min-chunk-size=5",
                "dualwrite.backfill.ranges-per-table=1").run(context -> {
                    DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
                    assertThat(backfill(endpoint, "start", "t_order", null).getStatus()).isEqualTo(200);
                    assertThat(backfill(endpoint, "start", "t_order", null).getStatus()).isEqualTo(409);
                    WebEndpointResponse<Map<String, Object>> paused = backfill(endpoint, "pause", null,
                            "maintenance window");
                    assertThat(paused.getStatus()).isEqualTo(200);
                    assertThat(backfillOf(endpoint.status())).containsEntry("status", "PAUSED")
                            .containsEntry("lastError", "maintenance window").containsKey("estimatedTotal");
                    assertThat(backfill(endpoint, "resume", "t_order", null).getStatus()).isEqualTo(200);
                    BackfillRunner backfill = context.getBean(BackfillRunner.class);
                    assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
                    assertThat(backfillOf(endpoint.status())).containsEntry("status", "DONE")
                            .containsEntry("rowsCopied", 30L).containsEntry("eta", "PT0S");
                    assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
                });
    }

    /**
     * Rows the target refused are recorded and the table still finishes; once their cause is gone, 'retry'
     * copies them and the failed count the RAMP guard reads goes back to zero (it once kept the count of
     * every row that ever failed, so the guard refused for good).
     */
    @Test
    void backfill_retry_copiesTheFailedRowsOnceTheirCauseIsGone_andTheirCountGoesToZero() {
        source.execute("UPDATE t_order SET status = 'BAD' WHERE id <= 3");
        target.execute("ALTER TABLE t_order ADD CONSTRAINT no_bad CHECK (status <> 'BAD')");
        runner().withPropertyValues("dualwrite.management.write-enabled=true").run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            BackfillRunner backfill = context.getBean(BackfillRunner.class);
            assertThat(backfill(endpoint, "start", "t_order", null).getStatus()).isEqualTo(200);
            assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
            assertThat(backfillOf(endpoint.status())).containsEntry("status", "DONE").containsEntry("failedRows", 3L);

            target.execute("ALTER TABLE t_order DROP CONSTRAINT no_bad");
            WebEndpointResponse<Map<String, Object>> retried = backfill(endpoint, "retry", "t_order", null);

            assertThat(retried.getStatus()).isEqualTo(200);
            assertThat(retried.getBody()).extractingByKey("t_order").asInstanceOf(
                    org.assertj.core.api.InstanceOfAssertFactories.MAP).containsEntry("retried", 3)
                    .containsEntry("failedRows", 0L);
            assertThat(backfillOf(endpoint.status())).containsEntry("failedRows", 0L);
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        });
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> backfillOf(Map<String, Object> status) {
        Map<String, Object> tables = (Map<String, Object>) status.get("tables");
        return (Map<String, Object>) ((Map<String, Object>) tables.get("t_order")).get("backfill");
    }

    @Test
    void badRequests_sayWhatIsAccepted() {
        runner().withPropertyValues("dualwrite.management.write-enabled=true").run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            assertThat(endpoint.write("rollout", null, null, null, null, null, null, null, null, null, null).getBody())
                    .containsEntry("error", "unknown operation 'rollout'; expected one of [backfill, plan, phase,"
                            + " percent, lists, reconcile, drop-instance, move-user]");
            assertThat(endpoint.write("phase", null, null, null, "HALFWAY", null, null, null, null, null, null).getBody())
                    .containsEntry("error", "dualwrite.phase: unknown phase 'HALFWAY'; expected one of SOURCE_ONLY,"
                            + " DUAL_WRITE, RAMP, TARGET_ONLY");
            assertThat(endpoint.write("percent", null, null, null, null, "140", null, null, null, null, null, null,
                    null, null, null, null, null).getBody())
                    .containsEntry("error", "dualwrite.routing.percent: 140 is outside 0..100");
            // Issue 18: a percent that is no number got the web layer's anonymous 400, not this named refusal.
            WebEndpointResponse<Map<String, Object>> notANumber = endpoint.write("percent", null, null, null, null,
                    "ten", null, null, null, null, null, null, null, null, null, null, null);
            assertThat(notANumber.getStatus()).isEqualTo(400);
            assertThat(notANumber.getBody()).containsEntry("error",
                    "dualwrite.routing.percent: 'ten' is not a whole number in 0..100");
            assertThat(backfill(endpoint, "explode", null, null).getBody())
                    .containsEntry("error", "backfill: unknown action 'explode'; expected one of [start, pause, resume, retry]");
            WebEndpointResponse<Map<String, Object>> unmapped = backfill(endpoint, "start", "t_user", null);
            assertThat(unmapped.getStatus()).isEqualTo(400);
            assertThat(unmapped.getBody()).containsEntry("error",
                    "backfill: table 't_user' is not mapped; mapped tables: [t_order]");
        });
    }

    @Test
    void dropInstance_removesAStoppedInstanceStepsWaitFor_andRefusesALiveOne() {
        runner().withPropertyValues("dualwrite.management.write-enabled=true").run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            ControlStore store = context.getBean(ControlStore.class);
            store.heartbeat("stopped", -1, Instant.now().minusSeconds(5), false);
            store.heartbeat("running", -1, Instant.now().plusSeconds(60), false);

            WebEndpointResponse<Map<String, Object>> live = dropInstance(endpoint, "running");
            assertThat(live.getStatus()).isEqualTo(409);
            assertThat(live.getBody()).extractingByKey("error").asString()
                    .startsWith("dualwrite drop-instance: instance running holds its lease until");
            WebEndpointResponse<Map<String, Object>> dropped = dropInstance(endpoint, "stopped");
            assertThat(dropped.getStatus()).isEqualTo(200);
            assertThat(dropped.getBody()).containsEntry("outcome", "DROPPED").extractingByKey("message").asString()
                    .startsWith("dropped instance stopped (lease ran out at");
            assertThat(store.instances()).extracting(InstanceStatus::instanceId).contains("running")
                    .doesNotContain("stopped");
            WebEndpointResponse<Map<String, Object>> unnamed = dropInstance(endpoint, null);
            assertThat(unnamed.getStatus()).isEqualTo(400);
            assertThat(unnamed.getBody()).extractingByKey("error").asString().startsWith("drop-instance: give");
            assertThat(String.valueOf(((Map<?, ?>) endpoint.status().get("routing")).get("instances")))
                    .contains("id=running").contains("fences=false");
        });
    }

    private static WebEndpointResponse<Map<String, Object>> dropInstance(DualWriteEndpoint endpoint, String id) {
        return endpoint.write("drop-instance", null, null, null, null, null, null, null, null, null, id, null, null, null, null, null,
                null);
    }

    @Test
    void status_showsPhaseAndMirror() {
        runner().run(context -> {
            Map<String, Object> status = context.getBean(DualWriteEndpoint.class).status();
            assertThat(status).containsEntry("phase", "DUAL_WRITE");
            assertThat(status.get("mirror")).isEqualTo(Map.of("mode", "ASYNC", "pending", 0L, "lag", "PT0S",
                    "lagMillis", 0L, "parked", 0L));
            assertThat(backfillOf(status)).containsEntry("status", "PENDING").containsEntry("rowsCopied", 0L);
        });
    }

    /**
     * Issue 18: there was no documented way to wait for the mirrors to drain. The drained read waits for
     * everything committed before it, and says when its wait ran out.
     */
    @Test
    void drained_waitsForWhatWasCommittedBefore_andSaysWhenTheWaitRanOut() {
        runner().withUserConfiguration(FlakyTarget.class).withBean(TestDatabase.class, () -> target)
                .withPropertyValues("dualwrite.mirror.initial-backoff=10ms", "dualwrite.mirror.max-backoff=100ms")
                .run(context -> {
                    DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
                    assertThat(endpoint.drained("drained", null).getStatus()).isEqualTo(200);
                    FailingDataSource flaky = context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE,
                            FailingDataSource.class);
                    flaky.setDown(true);
                    new JdbcTemplate(context.getBean(DataSource.class))
                            .update("UPDATE t_order SET status = 'NEW' WHERE id = 1");
                    context.getBean(ChangeRecorder.class).record("t_order", 1);

                    WebEndpointResponse<Map<String, Object>> waiting = endpoint.drained("drained", 1);
                    assertThat(waiting.getStatus()).isEqualTo(503);
                    assertThat(waiting.getBody()).containsEntry("drained", false).containsKeys("committedBefore",
                            "waitedMillis", "mirror", "reverseMirror");
                    assertThat((Long) waiting.getBody().get("waitedMillis")).isGreaterThanOrEqualTo(1_000);
                    assertThat(waiting.getBody().get("mirror")).asString().contains("pending=1,");

                    flaky.setDown(false);
                    WebEndpointResponse<Map<String, Object>> drained = endpoint.drained("drained", 30);
                    assertThat(drained.getStatus()).isEqualTo(200);
                    assertThat(drained.getBody()).containsEntry("drained", true);
                    assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 1", String.class))
                            .isEqualTo("NEW");

                    assertThat(endpoint.drained("drained", 301).getBody()).containsEntry("error",
                            "drained: waitSeconds must be 0..300, was 301");
                    assertThat(endpoint.drained("queue", null).getStatus()).isEqualTo(404);
                });
    }

    /**
     * Issue 18: an "all tables" backfill action. The table left out starts every mapped table, in the
     * order of the mappings, and the answer holds each one's progress.
     */
    @Test
    void backfill_withoutATable_startsEveryMappedTable() {
        source.execute("CREATE TABLE t_line (id BIGINT NOT NULL PRIMARY KEY, gmt_modified TIMESTAMP(3) NOT NULL)",
                "INSERT INTO t_line SELECT X, CURRENT_TIMESTAMP FROM SYSTEM_RANGE(1, 40)");
        target.execute("CREATE TABLE t_line (id BIGINT NOT NULL PRIMARY KEY, gmt_modified TIMESTAMP(3) NOT NULL)");
        runner().withPropertyValues("dualwrite.management.write-enabled=true", "dualwrite.tables.t_line.target-table="
                + "t_line").run(context -> {
                    DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
                    WebEndpointResponse<Map<String, Object>> started = backfill(endpoint, "start", null, null);
                    assertThat(started.getStatus()).isEqualTo(200);
                    assertThat(started.getBody()).containsOnlyKeys("t_order", "t_line");
                    assertThat(List.copyOf(started.getBody().keySet())).containsExactly("t_order", "t_line");
                    BackfillRunner backfill = context.getBean(BackfillRunner.class);
                    assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
                    assertThat(backfill.awaitCompletion("t_line", Duration.ofSeconds(30))).isTrue();
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM t_line", Long.class)).isEqualTo(40L);
                    assertThat(backfillOf(endpoint.status())).containsEntry("status", "DONE")
                            .containsEntry("rateWindowSeconds", 10L).containsKeys("rowsPerSecond",
                                    "averageRowsPerSecond");
                });
    }

    @Test
    void health_isDownWhenMoreKeysParkThanAllowed() {
        runner().withUserConfiguration(FlakyTarget.class).withBean(TestDatabase.class, () -> target)
                .withPropertyValues("dualwrite.mirror.max-attempts=1", "dualwrite.mirror.mode=SYNC")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    DualWriteHealthIndicator health = context.getBean(DualWriteHealthIndicator.class);
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                    parkOneKey(context);
                    assertThat(health.health().getStatus()).isEqualTo(Status.DOWN);
                    assertThat(health.health().getDetails()).containsEntry("parked", 1L)
                            .containsEntry("problems", List.of("1 parked keys exceed dualwrite.health.max-parked=0;"
                                    + " the reconciler repairs them"));
                    assertThat(String.valueOf(health.health().getDetails().get("mirrorFailing")))
                            .as("the library's own failure, said in health").contains("REFUSE_PARKED");
                });
    }

    /**
     * Issue 18: with the target down, 38 failed applies and 24 s of lag left health UP, and nothing was
     * logged. Applies failing for longer than dualwrite.health.max-failing now turn it DOWN, or
     * OUT_OF_SERVICE when so configured, and it is UP again once they succeed.
     */
    @ParameterizedTest
    @ValueSource(strings = {"DOWN", "OUT_OF_SERVICE"})
    void health_isDownWhileAppliesFailLongerThanAllowed_andUpOnceTheyApply(String status) {
        runner().withUserConfiguration(FlakyTarget.class).withBean(TestDatabase.class, () -> target)
                .withPropertyValues("dualwrite.health.max-failing=300ms", "dualwrite.health.exceeded-status=" + status,
                        "dualwrite.mirror.initial-backoff=10ms", "dualwrite.mirror.max-backoff=50ms")
                .run(context -> {
                    DualWriteHealthIndicator health = context.getBean(DualWriteHealthIndicator.class);
                    FailingDataSource flaky = context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE,
                            FailingDataSource.class);
                    flaky.setDown(true);
                    new JdbcTemplate(context.getBean(DataSource.class))
                            .update("UPDATE t_order SET status = 'NEW' WHERE id = 2");
                    context.getBean(ChangeRecorder.class).record("t_order", 2);
                    Mirror mirror = context.getBean(Mirror.class);
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (mirror.failingFor().compareTo(Duration.ofMillis(400)) < 0
                            && System.nanoTime() < deadline) {
                        Thread.sleep(20);
                    }

                    assertThat(health.health().getStatus()).isEqualTo(new Status(status));
                    assertThat(String.valueOf(health.health().getDetails().get("problems")))
                            .contains("mirror applies have failed for ")
                            .contains("more than dualwrite.health.max-failing=PT0.3S");
                    assertThat(String.valueOf(health.health().getDetails().get("mirrorFailing")))
                            .contains("table 't_order', key 2");

                    flaky.setDown(false);
                    assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
                    assertThat(health.health().getStatus()).isEqualTo(Status.UP);
                });
    }

    @Test
    void health_thresholdsComeFromTheProperties() {
        runner().withUserConfiguration(FlakyTarget.class).withBean(TestDatabase.class, () -> target)
                .withPropertyValues("dualwrite.mirror.max-attempts=1", "dualwrite.mirror.mode=SYNC",
                        "dualwrite.health.max-parked=1")
                .run(context -> {
                    parkOneKey(context);
                    assertThat(context.getBean(DualWriteHealthIndicator.class).health().getStatus())
                            .isEqualTo(Status.UP);
                });
    }

    /**
     * Issue 16, item 3: with the target hanging (as its pool does for the connection timeout when the
     * server is gone), the status answered only once the target came back. Now it answers within its
     * budget and names what it could not read.
     */
    @Test
    void status_whileTheTargetHangs_answersWithinASecond_namingWhatItCouldNotRead() {
        runner().withUserConfiguration(HangingTarget.class).withBean(TestDatabase.class, () -> target)
                .withPropertyValues("dualwrite.control.store=TABLE").run(context -> {
                    HangingDataSource hanging = context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE,
                            HangingDataSource.class);
                    DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
                    hanging.hanging = true;
                    long started = System.nanoTime();
                    Map<String, Object> status;
                    try {
                        status = endpoint.status();
                    } finally {
                        hanging.hanging = false;
                    }
                    Duration took = Duration.ofNanos(System.nanoTime() - started);

                    // The budget is 800 ms, against a 5 s hang; the rest is slack for a loaded machine.
                    assertThat(took).isLessThan(Duration.ofMillis(1_500));
                    assertThat(status).containsEntry("phase", "DUAL_WRITE");
                    assertThat(String.valueOf(status.get("tables"))).contains("not read within 800 ms: the"
                            + " checkpoint table (in the target) did not answer");
                    assertThat(String.valueOf(((Map<?, ?>) status.get("routing")).get("instances")))
                            .contains("not read within 800 ms: the control store (in the target) did not answer");
                    assertThat(String.valueOf(endpoint.status().get("tables"))).as("answers again once it is back")
                            .contains("PENDING");
                });
    }

    /** The target pool, wrapped so that a test can make every new connection wait, as a dead server's pool does. */
    @Configuration(proxyBeanMethods = false)
    static class HangingTarget {

        @Bean(name = DualWriteAutoConfiguration.TARGET_DATA_SOURCE, defaultCandidate = false)
        HangingDataSource hangingTarget(TestDatabase target) {
            return new HangingDataSource(target.dataSource());
        }
    }

    /** Waits up to 5 s for a connection while {@link #hanging}, then gives one. */
    static final class HangingDataSource extends org.springframework.jdbc.datasource.DelegatingDataSource {
        volatile boolean hanging;

        HangingDataSource(DataSource delegate) {
            super(delegate);
        }

        @Override
        public java.sql.Connection getConnection() throws java.sql.SQLException {
            long until = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (hanging && System.nanoTime() < until) {
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new java.sql.SQLException("interrupted");
                }
            }
            return super.getConnection();
        }
    }

    /**
     * Writes one row the target refuses, whose single apply attempt fails and parks it. (A target that is
     * down costs no attempt: its keys wait for it, they are not parked.)
     */
    private static void parkOneKey(ApplicationContext context) throws InterruptedException {
        context.getBean(TestDatabase.class).execute("ALTER TABLE t_order ADD CONSTRAINT refuse_parked CHECK"
                + " (status <> 'REFUSED')");
        new JdbcTemplate(context.getBean(DataSource.class)).update("UPDATE t_order SET status = 'REFUSED' WHERE id = 1");
        context.getBean(ChangeRecorder.class).record("t_order", 1);
        Mirror mirror = context.getBean(Mirror.class);
        assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
        assertThat(mirror.parked()).isEqualTo(1);
    }

    /** The target pool, wrapped so that a test can take the target down. */
    @Configuration(proxyBeanMethods = false)
    static class FlakyTarget {

        @Bean(name = DualWriteAutoConfiguration.TARGET_DATA_SOURCE, defaultCandidate = false)
        FailingDataSource flakyTarget(TestDatabase target) {
            return new FailingDataSource(target.dataSource());
        }
    }

    private static WebEndpointResponse<Map<String, Object>> backfill(DualWriteEndpoint endpoint, String action,
            String table, String reason) {
        return endpoint.write("backfill", action, table, reason, null, null, null, null, null, null, null, null, null,
                null, null, null, null);
    }
}
