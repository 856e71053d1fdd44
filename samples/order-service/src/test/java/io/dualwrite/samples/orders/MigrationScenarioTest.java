package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.expiring.IncrementalMigration;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.SQLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * The sample's whole migration as a test: the service starts on two fresh stores with history in the old
 * one, the scenario plays the migration while simulated users shop, and the report must show no write
 * error and identical stores. Subclasses choose the stores.
 */
@SpringBootTest(classes = OrderServiceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"demo.history.orders=" + MigrationScenarioTest.HISTORY, "demo.users=200",
            "demo.load.threads=4", "demo.step-duration=1s", "dualwrite.backfill.rows-per-second=4000"})
@DirtiesContext
abstract class MigrationScenarioTest {

    static final int HISTORY = 3_000;

    /** The databases of the running subclass; set before its context starts. */
    static TestDatabase source;
    static TestDatabase target;

    @Autowired
    MigrationScenario scenario;

    @Autowired
    IncrementalMigration coupons;

    /** Creates both stores, the old schema with its history and the new one empty, and points the service at them. */
    static void stores(Store sourceStore, Store targetStore, DynamicPropertyRegistry registry) throws SQLException {
        source = TestDatabase.create(sourceStore, "orders_old");
        target = TestDatabase.create(targetStore, "orders_new");
        DemoDatabases.createTables(source.dataSource(), target.dataSource());
        DemoDatabases.seedHistory(source.dataSource(), HISTORY, 200, 42);
        DemoDatabases.seedCoupons(source.dataSource(), 600, 200, 43);
        // As in application.properties: H2's 1 s lock timeout is far below what the servers allow.
        String h2LockTimeout = ";LOCK_TIMEOUT=10000";
        registry.add("spring.datasource.url", () -> source.jdbcUrl() + (sourceStore == Store.H2 ? h2LockTimeout : ""));
        registry.add("spring.datasource.username", source::username);
        registry.add("spring.datasource.password", source::password);
        registry.add("dualwrite.target.url", () -> target.jdbcUrl() + (targetStore == Store.H2 ? h2LockTimeout : ""));
        registry.add("dualwrite.target.username", target::username);
        registry.add("dualwrite.target.password", target::password);
    }

    @AfterAll
    static void dropStores() {
        source.close();
        target.close();
    }

    @Test
    void migrationUnderLoad_endsWithIdenticalStoresAndNoWriteErrors() throws Exception {
        MigrationReport report = scenario.run();
        report.print(System.out);

        assertThat(report.problems()).as("problems").isEmpty();
        assertThat(report.passed()).isTrue();
        assertThat(report.load().writeErrors()).as("application write errors").isZero();
        assertThat(report.load().writes()).as("writes while migrating").isPositive();
        assertThat(report.historyRows()).isEqualTo(HISTORY);
        assertThat(report.rowsCopied()).as("rows copied").isGreaterThanOrEqualTo(HISTORY);
        assertThat(report.lag().count()).as("keys mirrored").isPositive();
        assertThat(report.identical()).as("identical stores").isTrue();
        assertThat(report.sourceRows()).isGreaterThan(HISTORY);
        // DUAL_WRITE, RAMP 0, 1, 10, 50, 100, the rollback to 0, forward to 100, TARGET_ONLY
        assertThat(report.steps()).hasSize(9).allMatch(step -> step.contains("ACTIVATED"));
        assertThat(report.steps().get(5)).contains("100% on the new store");
        assertThat(report.steps().get(6)).contains("  0% on the new store");
        assertThat(report.doubleReads()).as("double reads compared").isPositive();
        assertThat(report.doubleReadMismatches()).as("double-read mismatches").isZero();
        assertThat(report.afterCutOver()).startsWith("TARGET_ONLY: 20 orders created");
        // The coupon drill ran: the old store still holds live coupons, the new store the 100 it issued.
        IncrementalMigration.LiveRows live = coupons.liveRows("coupon");
        assertThat(live.liveInSource()).as("old coupons still valid").isPositive();
        assertThat(live.liveInTarget()).as("coupons issued in the new store").isGreaterThanOrEqualTo(100);
        assertThat(live.archivable()).isFalse();
    }
}
