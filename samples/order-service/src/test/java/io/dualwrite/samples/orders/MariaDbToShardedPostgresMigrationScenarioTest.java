package io.dualwrite.samples.orders;

import io.dualwrite.testing.ShardedOrders;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@link ShardedMigrationScenarioTest} from MariaDB to PostgreSQL split into two real databases (created on the
 * local server for the test, dropped afterwards) through the {@code mariadb-sharded-postgres} profile's
 * {@code sharding-postgres.yaml}; with {@code CI=true} a missing server fails the test instead of skipping it.
 */
class MariaDbToShardedPostgresMigrationScenarioTest extends ShardedMigrationScenarioTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException, IOException {
        TestDatabase old = TestDatabase.create(Store.MARIADB, "shs_old");
        CLOSEABLES.add(old);
        // A PostgreSQL TestDatabase is a schema; ShardingSphere reads a database's own schema, so each shard is a
        // real database of its own, created through the server TestDatabase found.
        TestDatabase server = TestDatabase.create(Store.POSTGRESQL, "shs_admin", 2);
        CLOSEABLES.add(server);
        ShardedOrders.PhysicalDatabase ds0 = ShardedOrders.PhysicalDatabase.create(server, "ds0");
        CLOSEABLES.add(ds0);
        ShardedOrders.PhysicalDatabase ds1 = ShardedOrders.PhysicalDatabase.create(server, "ds1");
        CLOSEABLES.add(ds1);
        stores(old, List.of(ds0.pool(), ds1.pool()), DemoDatabases.shardingYaml(resource("sharding-postgres.yaml"),
                List.of(ds0.jdbcUrl(), ds1.jdbcUrl()), server.username(), server.password()), "",
                "MARIADB -> sharded POSTGRESQL", registry);
    }
}
