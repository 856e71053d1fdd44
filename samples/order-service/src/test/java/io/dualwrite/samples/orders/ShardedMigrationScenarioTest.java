package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.shard.ShardingSphereTarget;
import io.dualwrite.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The {@code sharded} profile as a test: the old store's single {@code t_order}, the new store's {@code orders}
 * split by ShardingSphere-JDBC into 2 databases x 4 tables by buyer (the profile's own YAML, pointed at this test's
 * databases). The users shop through DUAL_WRITE, the backfill and the reconcile; the run stops before RAMP, and every
 * physical shard must equal the old store's orders that belong there. Subclasses choose the stores.
 */
@SpringBootTest(classes = OrderServiceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"demo.history.orders=" + ShardedMigrationScenarioTest.HISTORY, "demo.users=200",
            "demo.load.threads=4", "demo.step-duration=1s", "dualwrite.backfill.rows-per-second=4000"})
@ActiveProfiles("sharded")
@DirtiesContext
abstract class ShardedMigrationScenarioTest {

    static final int HISTORY = 3_000;

    /** The running subclass's stores; set before its context starts, closed in reverse order after it. */
    static TestDatabase source;
    static List<DataSource> shards;
    static String stores;
    static final List<AutoCloseable> CLOSEABLES = new ArrayList<>();

    @Autowired
    MigrationScenario scenario;

    @Autowired
    OrderDao dao;

    @Autowired
    @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE)
    DataSource libraryTarget;

    /**
     * Fills the old store, creates the shards' tables through ShardingSphere, and points the service at both.
     *
     * @param yaml the new store's ShardingSphere YAML, naming this test's databases
     * @param lockTimeout appended to the source's URL (H2's), or empty
     */
    static void stores(TestDatabase old, List<DataSource> databases, String yaml, String lockTimeout,
            String expectedStores, DynamicPropertyRegistry registry) throws SQLException, IOException {
        source = old;
        shards = databases;
        stores = expectedStores;
        Path file = Files.createTempFile("sharding-", ".yaml");
        CLOSEABLES.add(() -> Files.deleteIfExists(file));
        Files.writeString(file, yaml);
        DemoDatabases.createSourceTables(source.dataSource());
        DemoDatabases.seedHistory(source.dataSource(), HISTORY, 200, 42);
        DemoDatabases.seedCoupons(source.dataSource(), 600, 200, 43);
        assertThat(DemoDatabases.createShards(yaml.getBytes(StandardCharsets.UTF_8), 4)).containsExactly("ds_0", "ds_1");
        registry.add("spring.datasource.url", () -> source.jdbcUrl() + lockTimeout);
        registry.add("spring.datasource.username", source::username);
        registry.add("spring.datasource.password", source::password);
        registry.add("dualwrite.target.sharding-sphere-config", () -> "file:" + file);
    }

    /** @return a YAML of the sample's resources */
    static String resource(String name) throws IOException {
        try (InputStream in = ShardedMigrationScenarioTest.class.getResourceAsStream("/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @AfterAll
    static void dropStores() throws Exception {
        for (int i = CLOSEABLES.size() - 1; i >= 0; i--) {
            CLOSEABLES.get(i).close();
        }
        CLOSEABLES.clear();
    }

    @Test
    void migrationUnderLoad_intoTwoDatabasesTimesFourTables_endsWithEveryPhysicalShardIdentical() throws Exception {
        MigrationReport report = scenario.run();
        report.print(System.out);

        assertThat(libraryTarget).isInstanceOf(ShardingSphereTarget.class);
        assertThat(report.stores()).isEqualTo(stores);
        assertThat(report.problems()).as("problems").isEmpty();
        assertThat(report.load().writeErrors()).as("application write errors").isZero();
        assertThat(report.load().writes()).as("writes while migrating").isPositive();
        assertThat(report.rowsCopied()).as("rows copied").isGreaterThanOrEqualTo(HISTORY);
        assertThat(report.lag().count()).as("keys mirrored").isPositive();
        assertThat(report.sourceRows()).isGreaterThan(HISTORY);
        // DUAL_WRITE, then the users go on after the backfill, opening single orders (double reads through
        // ShardingSphere's engine); no RAMP.
        assertThat(report.steps()).hasSize(2);
        assertThat(report.steps().get(0)).startsWith("DUAL_WRITE").contains("ACTIVATED");
        assertThat(report.steps().get(1)).startsWith("DUAL_WRITE, after backfill").contains("still in force");
        assertThat(report.doubleReads()).as("double reads compared").isPositive();
        assertThat(report.doubleReadMismatches()).as("double-read mismatches").isZero();
        assertThat(report.afterCutOver()).startsWith("not reached: the run stops before RAMP");
        // Eight physical shards, each holding exactly the old orders that belong there, and all of them together.
        assertThat(report.shards()).hasSize(8).allSatisfy(shard -> {
            assertThat(shard.differences()).as(shard.toString()).isZero();
            assertThat(shard.found()).as(shard.toString()).isEqualTo(shard.expected()).isPositive();
        });
        assertThat(report.shards().stream().mapToLong(ShardComparison.ShardCount::found).sum())
                .isEqualTo(report.sourceRows());
        assertThat(report.identical()).isTrue();
        // The rows really are in the physical tables: one of them, read directly in its database.
        assertThat(new JdbcTemplate(shards.get(1)).queryForObject("SELECT COUNT(*) FROM orders_3", Long.class))
                .isEqualTo(report.shards().get(7).found());

        // The negative control of the per-shard comparison: one row changed on one shard behind the library's back
        // is seen there, and nowhere else.
        JdbcTemplate ds0 = new JdbcTemplate(shards.get(0));
        Long orderId = ds0.queryForObject("SELECT MIN(order_id) FROM orders_2", Long.class);
        ds0.update("UPDATE orders_2 SET amount_cents = amount_cents + 1 WHERE order_id = ?", orderId);
        List<ShardComparison.ShardCount> after = ShardComparison.compare(dao, source.dataSource(),
                (ShardingSphereTarget) libraryTarget);
        assertThat(after).filteredOn(shard -> shard.differences() != 0).singleElement().satisfies(shard -> {
            assertThat(shard.shard()).isEqualTo("ds_0.orders_2");
            assertThat(shard.differing()).isEqualTo(1);
        });
    }
}
