package io.dualwrite.samples.orders;

import io.dualwrite.testing.Store;
import java.sql.SQLException;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link MigrationScenarioTest} on two embedded H2 databases: what the one-command demo runs. */
class H2MigrationScenarioTest extends MigrationScenarioTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException {
        stores(Store.H2, Store.H2, registry);
    }
}
