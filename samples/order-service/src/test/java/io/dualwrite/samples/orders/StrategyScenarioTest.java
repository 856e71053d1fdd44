package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;

/**
 * One of {@link StrategyScenarios} as a test, on two fresh stores with history in the old one while simulated
 * users shop; the scenario's checks and the closing comparison (identical stores, no failed write) must pass.
 * Subclasses choose the scenario and the stores.
 */
@SpringBootTest(classes = OrderServiceApplication.class, webEnvironment = SpringBootTest.WebEnvironment.NONE,
        properties = {"demo.history.orders=" + StrategyScenarioTest.HISTORY, "demo.users=" + StrategyScenarioTest.USERS,
            "demo.load.threads=4", "demo.step-duration=1s", "demo.login.users=40",
            "dualwrite.backfill.rows-per-second=4000"})
@DirtiesContext
abstract class StrategyScenarioTest {

    static final int HISTORY = 3_000;
    static final int USERS = 200;

    /** The databases of the running subclass; set before its context starts. */
    static TestDatabase source;
    static TestDatabase target;

    @Autowired
    StrategyScenarios scenarios;

    @Autowired
    LoadGenerator load;

    /** Creates both stores, the old schema with its history and the new one empty, and points the service at them. */
    static void stores(Store sourceStore, Store targetStore, DynamicPropertyRegistry registry) throws SQLException {
        source = TestDatabase.create(sourceStore, "strat_old");
        target = TestDatabase.create(targetStore, "strat_new");
        DemoDatabases.createTables(source.dataSource(), target.dataSource());
        DemoDatabases.seedHistory(source.dataSource(), HISTORY, USERS, 42);
        DemoDatabases.seedCoupons(source.dataSource(), 300, USERS, 43);
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

    /**
     * Runs scenarios and checks that each passed, and the closing comparison.
     *
     * @return the scenarios' results, the closing comparison last
     */
    List<StrategyScenarios.Result> runAndCheck(String... names) throws Exception {
        List<StrategyScenarios.Result> results = scenarios.run(List.of(names));
        assertThat(results).hasSize(names.length == 1 && names[0].equals("strategies")
                ? StrategyScenarios.NAMES.size() + 1 : names.length + 1);
        for (StrategyScenarios.Result result : results) {
            assertThat(result.problems()).as(result.name() + " " + result.lines()).isEmpty();
        }
        StrategyScenarios.Result stores = results.get(results.size() - 1);
        assertThat(stores.name()).isEqualTo("stores");
        assertThat(load.stats().writeErrors()).as("application write errors").isZero();
        assertThat(load.stats().writes()).as("users wrote meanwhile").isPositive();
        return results;
    }
}
