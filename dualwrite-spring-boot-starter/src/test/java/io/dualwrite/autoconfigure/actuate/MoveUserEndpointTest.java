package io.dualwrite.autoconfigure.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** Issue 22, part 2: {@code POST /actuator/dualwrite/move-user}, wired by the starter with both mirrors. */
class MoveUserEndpointTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "moveuser_src");
        target = TestDatabase.create(Store.H2, "moveuser_tgt");
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
                        DualWriteAutoConfiguration.class, DualWriteEndpointAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.tables.t_order.routing-column=user_id",
                        "dualwrite.schema.create=true", "dualwrite.phase=DUAL_WRITE",
                        "dualwrite.management.write-enabled=true", "management.endpoints.web.exposure.include=dualwrite");
    }

    private static WebEndpointResponse<Map<String, Object>> move(DualWriteEndpoint endpoint, String key, String route) {
        return endpoint.write("move-user", null, null, "test", null, null, null, null, null, null, null, null, null, null, key, route, null);
    }

    @Test
    void moveUser_isRefusedOutsideRamp_thenMovesTheUserWithItsRowsInRamp() {
        runner().run(context -> {
            DualWriteEndpoint endpoint = context.getBean(DualWriteEndpoint.class);
            MigrationController controller = context.getBean(MigrationController.class);
            WebEndpointResponse<Map<String, Object>> early = move(endpoint, "42", "TARGET");
            assertThat(early.getStatus()).isEqualTo(409);
            assertThat(early.getBody()).containsEntry("outcome", "REFUSED").extractingByKey("message").asString()
                    .contains("users are moved only in RAMP");
            WebEndpointResponse<Map<String, Object>> bad = move(endpoint, "42", "SIDEWAYS");
            assertThat(bad.getStatus()).isEqualTo(400);
            assertThat(bad.getBody()).containsEntry("error",
                    "move-user: give \"key\": the user's routing key, and \"route\": SOURCE or TARGET");

            // The ramp guards apply to a move to the target as to any step sending traffic there: backfill first.
            assertThat(endpoint.write("backfill", "start", "t_order", null, null, null, null, null, null, null, null)
                    .getStatus()).isEqualTo(200);
            assertThat(context.getBean(io.dualwrite.backfill.BackfillRunner.class)
                    .awaitCompletion("t_order", java.time.Duration.ofSeconds(30))).isTrue();
            assertThat(endpoint.write("phase", null, null, null, "RAMP", null, null, null, null, null, null).getStatus())
                    .isEqualTo(200);
            // A row no mirror carried (written by another program, behind the service's back): the move copies it.
            source.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 42, 'OLD',"
                    + " CURRENT_TIMESTAMP)");
            WebEndpointResponse<Map<String, Object>> moved = move(endpoint, "42", "target");

            assertThat(moved.getStatus()).as(String.valueOf(moved.getBody())).isEqualTo(200);
            assertThat(moved.getBody()).containsEntry("outcome", "ACTIVATED");
            assertThat(controller.route(42L)).isEqualTo(Route.TARGET);
            assertThat(controller.route(43L)).isEqualTo(Route.SOURCE);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE user_id = 42", Long.class))
                    .isEqualTo(1L);
        });
    }
}
