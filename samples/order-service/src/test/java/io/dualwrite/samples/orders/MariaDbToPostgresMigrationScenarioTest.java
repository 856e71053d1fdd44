package io.dualwrite.samples.orders;

import io.dualwrite.testing.Store;
import java.sql.SQLException;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@link MigrationScenarioTest} from MariaDB to PostgreSQL on the local servers (a fresh database and schema,
 * dropped afterwards); with {@code CI=true} a missing server fails the test instead of skipping it.
 */
class MariaDbToPostgresMigrationScenarioTest extends MigrationScenarioTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException {
        stores(Store.MARIADB, Store.POSTGRESQL, registry);
    }
}
