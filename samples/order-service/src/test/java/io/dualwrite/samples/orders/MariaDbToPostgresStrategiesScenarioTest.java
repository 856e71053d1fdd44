package io.dualwrite.samples.orders;

import io.dualwrite.testing.Store;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * The three strategy scenarios in a row ({@code demo.scenario=strategies}) from MariaDB to PostgreSQL on the
 * local servers; with {@code CI=true} a missing server fails the test instead of skipping it.
 */
class MariaDbToPostgresStrategiesScenarioTest extends StrategyScenarioTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException {
        stores(Store.MARIADB, Store.POSTGRESQL, registry);
    }

    @Test
    void stagedPlanThenUserMovesThenDegradation_allPass() throws Exception {
        runAndCheck("strategies");
    }
}
