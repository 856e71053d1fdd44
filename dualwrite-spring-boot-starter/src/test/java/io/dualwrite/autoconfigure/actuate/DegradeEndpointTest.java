package io.dualwrite.autoconfigure.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.autoconfigure.DualWriteDegradeAutoConfiguration;
import io.dualwrite.degrade.Degradation;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The endpoint's degradation operations: refused without the write switch, off when disabled, the DDL named. */
class DegradeEndpointTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "dgep_src");
        target = TestDatabase.create(Store.H2, "dgep_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
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
                        DualWriteDegradeAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.routing-column=user_id", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "management.endpoints.web.exposure.include=dualwrite");
    }

    private static WebEndpointResponse<Map<String, Object>> mark(DualWriteEndpoint endpoint, String actor) {
        return endpoint.degraded("degraded", "mark", "t_order", "7", null, null, null, null, actor, "broken row");
    }

    @Test
    void writes_areRefusedWithoutTheEnablingProperty() {
        runner().run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            WebEndpointResponse<Map<String, Object>> refused = mark(endpoint, "alice");
            assertThat(refused.getStatus()).isEqualTo(403);
            assertThat(refused.getBody()).containsEntry("error", "dualwrite write operations are disabled; set"
                    + " dualwrite.management.write-enabled=true to allow 'degraded/mark'");
            assertThat(context.getBean(Degradation.class).history()).isEmpty();
        });
    }

    @Test
    void mark_recordsWhoAndWhy_andTheStatusShowsIt_badInputGets400() {
        runner().withPropertyValues("dualwrite.management.write-enabled=true").run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            WebEndpointResponse<Map<String, Object>> marked = mark(endpoint, "alice");
            assertThat(marked.getStatus()).isEqualTo(200);
            assertThat(context.getBean(Degradation.class).history()).singleElement().satisfies(mark -> {
                assertThat(mark.markedBy()).isEqualTo("alice");
                assertThat(mark.markReason()).isEqualTo("broken row");
            });
            @SuppressWarnings("unchecked")
            Map<String, Object> degraded = (Map<String, Object>) endpoint.status().get("degraded");
            assertThat(degraded.get("marks")).asString().contains("key=[7]").contains("markedBy=alice");

            assertThat(mark(endpoint, null).getStatus()).isEqualTo(400);
            WebEndpointResponse<Map<String, Object>> both = endpoint.degraded("degraded", "mark", "t_order", "7", "1",
                    "9", null, null, "alice", "x");
            assertThat(both.getStatus()).isEqualTo(400);
            assertThat(both.getBody()).extractingByKey("error").asString().contains("one of \"key\"");
            assertThat(endpoint.degraded("degraded", "purge", null, null, null, null, null, "99", "alice", "x")
                    .getBody()).extractingByKey("error").asString().contains("there is no mark 99");
            assertThat(endpoint.degraded("degraded", "explode", null, null, null, null, null, null, "a", "x")
                    .getStatus()).isEqualTo(400);
        });
    }

    @Test
    void disabled_noMarksAndTheEndpointSaysSo() {
        runner().withPropertyValues("dualwrite.management.write-enabled=true", "dualwrite.degraded.enabled=false")
                .run(context -> {
                    assertThat(context).doesNotHaveBean(Degradation.class);
                    WebEndpointResponse<Map<String, Object>> off = mark(context.getBean(DualWriteEndpoint.class), "a");
                    assertThat(off.getStatus()).isEqualTo(404);
                    assertThat(off.getBody()).extractingByKey("error").asString()
                            .contains("dualwrite.degraded.enabled");
                });
    }

    @Test
    void missingMarksTable_withoutSchemaCreate_failsStartUpWithTheDdl() {
        runner().run(context -> assertThat(context).hasNotFailed());
        target.execute("DROP TABLE " + Degradation.DEFAULT_TABLE);
        runner().withPropertyValues("dualwrite.schema.create=false").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("CREATE TABLE dualwrite_degraded")
                    .hasMessageContaining("dualwrite.schema.create=true");
        });
        assertThat(List.of(Degradation.ddl("dualwrite_degraded"))).singleElement().asString()
                .startsWith("CREATE TABLE dualwrite_degraded (");
    }

    @Test
    void purgeInterruptedByAStop_resumesFromItsCheckpointAtStartUp() throws Exception {
        for (long id = 1; id <= 60; id++) {
            target.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (" + id + ", " + (id % 10)
                    + ", 'OLD', TIMESTAMP '2025-03-01 10:00:00')");
        }
        long markId;
        io.dualwrite.mapping.MappedTables tables = io.dualwrite.mapping.MappedTables.resolve(
                List.of(io.dualwrite.mapping.TableMapping.builder("t_order").routingColumn("user_id").build()),
                source.dataSource(), target.dataSource(), false);
        try (Degradation before = Degradation.builder(source.dataSource(), target.dataSource(), tables)
                .createTable(true).batchSize(5).rowsPerSecond(2).build()) {
            markId = before.mark(io.dualwrite.degrade.DegradeMark.routingValue("t_order", 4), "alice", "user 4").id();
            Thread purge = new Thread(() -> {
                try {
                    before.purge(markId, "alice", "free the target", null);
                } catch (Exception stopped) {
                    // The stop: the checkpoint holds.
                }
            });
            purge.start();
            Thread.sleep(1200);
            purge.interrupt();
            purge.join();
        }
        long left = target.queryForObject("SELECT COUNT(*) FROM t_order WHERE user_id = 4", Long.class);
        assertThat(left).as("stopped half-way").isBetween(1L, 5L);

        runner().run(context -> {
            Degradation degradation = context.getBean(Degradation.class);
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
            while (degradation.history().get(0).purge() != io.dualwrite.degrade.DegradeMark.PurgeState.DONE
                    && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(degradation.history()).singleElement().satisfies(mark -> {
                assertThat(mark.purge()).isEqualTo(io.dualwrite.degrade.DegradeMark.PurgeState.DONE);
                assertThat(mark.purgedRows()).isEqualTo(6);
            });
        });
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE user_id = 4", Long.class)).isZero();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(54L);
    }
}
