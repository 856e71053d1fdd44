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
 * databases). The users shop through the whole migration as in the unsharded sample — DUAL_WRITE, the backfill, the
 * reconcile, RAMP 1 -> 10 -> 50 -> 100 through the barrier, the rollback drill and TARGET_ONLY — and at the cut-over
 * every physical shard must equal the old store's orders that belong there. Subclasses choose the stores.
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
        assertThat(report.passed()).isTrue();
        // DUAL_WRITE, RAMP 0, 1, 10, 50, 100, the rollback to 0, forward to 100, TARGET_ONLY: the same steps as the
        // unsharded run, the users' writes going through the ramp barrier into ShardingSphere.
        assertThat(report.steps()).hasSize(9).allMatch(step -> step.contains("ACTIVATED"));
        assertThat(report.steps().get(1)).startsWith("RAMP 0%");
        assertThat(report.steps().get(5)).startsWith("RAMP 100%").contains("100% on the new store");
        assertThat(report.steps().get(6)).startsWith("rollback drill: RAMP 0%").contains("  0% on the new store");
        assertThat(report.steps().get(7)).startsWith("forward again: RAMP 100%").contains("100% on the new store");
        assertThat(report.steps().get(8)).startsWith("TARGET_ONLY");
        assertThat(report.doubleReads()).as("double reads compared").isPositive();
        assertThat(report.doubleReadMismatches()).as("double-read mismatches").isZero();
        assertThat(report.afterCutOver()).startsWith("TARGET_ONLY: 20 orders created");
        // At the cut-over (before TARGET_ONLY's own orders): eight physical shards, each holding exactly the old
        // orders that belong there, and all of them together.
        assertThat(report.shards()).hasSize(8).allSatisfy(shard -> {
            assertThat(shard.differences()).as(shard.toString()).isZero();
            assertThat(shard.found()).as(shard.toString()).isEqualTo(shard.expected()).isPositive();
        });
        assertThat(report.shards().stream().mapToLong(ShardComparison.ShardCount::found).sum())
                .isEqualTo(report.sourceRows());
        assertThat(report.identical()).isTrue();
        // The rows really are in the physical tables: all of them, read directly in their databases, hold what the
        // comparison found plus the 20 orders created after TARGET_ONLY, which the old store never sees.
        long physical = 0;
        for (DataSource database : shards) {
            for (int t = 0; t < 4; t++) {
                physical += new JdbcTemplate(database).queryForObject("SELECT COUNT(*) FROM orders_" + t, Long.class);
            }
        }
        assertThat(physical).isEqualTo(report.sourceRows() + 20);

        // The negative control of the per-shard comparison: after TARGET_ONLY the new store holds 20 orders the old
        // one lacks; once they are set aside, one row changed on one shard behind the library's back is seen there,
        // and nowhere else.
        List<ShardComparison.ShardCount> cutOver = ShardComparison.compare(dao, source.dataSource(),
                (ShardingSphereTarget) libraryTarget);
        assertThat(cutOver.stream().mapToLong(ShardComparison.ShardCount::extra).sum()).isEqualTo(20);
        assertThat(cutOver.stream().mapToLong(shard -> shard.missing() + shard.differing()).sum()).isZero();
        JdbcTemplate ds0 = new JdbcTemplate(shards.get(0));
        Long orderId = ds0.queryForObject("SELECT MIN(order_id) FROM orders_2", Long.class);
        ds0.update("UPDATE orders_2 SET amount_cents = amount_cents + 1 WHERE order_id = ?", orderId);
        List<ShardComparison.ShardCount> after = ShardComparison.compare(dao, source.dataSource(),
                (ShardingSphereTarget) libraryTarget);
        assertThat(after).filteredOn(shard -> shard.differing() != 0).singleElement().satisfies(shard -> {
            assertThat(shard.shard()).isEqualTo("ds_0.orders_2");
            assertThat(shard.differing()).isEqualTo(1);
        });
        assertThat(after.stream().mapToLong(shard -> shard.missing()).sum()).isZero();
    }
}
