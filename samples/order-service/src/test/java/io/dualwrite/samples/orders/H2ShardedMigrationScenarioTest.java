package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.shard.ShardingSphereTarget;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.springframework.test.context.DynamicPropertySource;

/**
 * The {@code sharded} profile as a test: the old store's single {@code t_order} on H2, the new store's
 * {@code orders} split by ShardingSphere-JDBC into 2 H2 databases x 4 tables by buyer (the profile's own
 * {@code sharding-h2.yaml}, pointed at this test's databases). The users shop through DUAL_WRITE, the backfill and
 * the reconcile; the run stops before RAMP, and every physical shard must equal the old store's orders that
 * belong there.
 */
@SpringBootTest(classes = OrderServiceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"demo.history.orders=" + H2ShardedMigrationScenarioTest.HISTORY, "demo.users=200",
            "demo.load.threads=4", "demo.step-duration=1s", "dualwrite.backfill.rows-per-second=4000"})
@ActiveProfiles("sharded")
@DirtiesContext
class H2ShardedMigrationScenarioTest {

    static final int HISTORY = 3_000;

    private static final Pattern JDBC_URL = Pattern.compile("jdbcUrl: .*");

    static TestDatabase source;
    static TestDatabase shard0;
    static TestDatabase shard1;
    static Path yaml;

    @Autowired
    MigrationScenario scenario;

    @Autowired
    OrderDao dao;

    @Autowired
    @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE)
    DataSource libraryTarget;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException, IOException {
        source = TestDatabase.create(Store.H2, "shs_old");
        shard0 = TestDatabase.create(Store.H2, "shs_new0");
        shard1 = TestDatabase.create(Store.H2, "shs_new1");
        yaml = Files.createTempFile("sharding-", ".yaml");
        Files.writeString(yaml, profileYamlOn(List.of(shard0.jdbcUrl(), shard1.jdbcUrl())));
        DemoDatabases.createSourceTables(source.dataSource());
        DemoDatabases.seedHistory(source.dataSource(), HISTORY, 200, 42);
        DemoDatabases.seedCoupons(source.dataSource(), 600, 200, 43);
        assertThat(DemoDatabases.createShards(Files.readAllBytes(yaml), 4)).containsExactly("ds_0", "ds_1");
        registry.add("spring.datasource.url", () -> source.jdbcUrl() + ";LOCK_TIMEOUT=10000");
        registry.add("spring.datasource.username", source::username);
        registry.add("spring.datasource.password", source::password);
        registry.add("dualwrite.target.sharding-sphere-config", () -> "file:" + yaml);
    }

    /** The profile's YAML, its two databases' URLs replaced by this test's, in order. */
    private static String profileYamlOn(List<String> urls) throws IOException {
        String profile;
        try (InputStream in = H2ShardedMigrationScenarioTest.class.getResourceAsStream("/sharding-h2.yaml")) {
            profile = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        Matcher matcher = JDBC_URL.matcher(profile);
        StringBuilder yaml = new StringBuilder();
        int next = 0;
        while (matcher.find()) {
            matcher.appendReplacement(yaml, Matcher.quoteReplacement("jdbcUrl: " + urls.get(next++)
                    + ";LOCK_TIMEOUT=10000"));
        }
        matcher.appendTail(yaml);
        assertThat(next).as("data sources in sharding-h2.yaml").isEqualTo(urls.size());
        return yaml.toString();
    }

    @AfterAll
    static void dropStores() throws IOException {
        source.close();
        shard0.close();
        shard1.close();
        Files.deleteIfExists(yaml);
    }

    @Test
    void migrationUnderLoad_intoTwoDatabasesTimesFourTables_endsWithEveryPhysicalShardIdentical() throws Exception {
        MigrationReport report = scenario.run();
        report.print(System.out);

        assertThat(libraryTarget).isInstanceOf(ShardingSphereTarget.class);
        assertThat(report.stores()).isEqualTo("H2 -> sharded H2");
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
        assertThat(new JdbcTemplate(shard1.dataSource()).queryForObject("SELECT COUNT(*) FROM orders_3", Long.class))
                .isEqualTo(report.shards().get(7).found());

        // The negative control of the per-shard comparison: one row changed on one shard behind the library's back
        // is seen there, and nowhere else.
        JdbcTemplate ds0 = new JdbcTemplate(shard0.dataSource());
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
