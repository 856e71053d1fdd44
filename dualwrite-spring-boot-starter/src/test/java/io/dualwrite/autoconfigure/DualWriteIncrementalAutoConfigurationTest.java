package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.actuate.DualWriteEndpoint;
import io.dualwrite.autoconfigure.actuate.DualWriteEndpointAutoConfiguration;
import io.dualwrite.expiring.IncrementalMigration;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Issue 22, incremental-only migration in the starter: {@code dualwrite.incremental.tables.*} builds the
 * migration on the application's stores, its live-row report reaches the endpoint and a meter, a table also
 * mirrored is refused, and nothing is created without tables.
 */
class DualWriteIncrementalAutoConfigurationTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "inc_src");
        target = TestDatabase.create(Store.H2, "inc_tgt");
        for (TestDatabase db : new TestDatabase[] {source, target}) {
            db.execute(OrderTable.ddl(Store.H2, "t_order"),
                    "CREATE TABLE coupon (id BIGINT PRIMARY KEY, code VARCHAR(20), expires_at TIMESTAMP NULL)");
        }
        source.execute("INSERT INTO coupon VALUES (1, 'old-live', DATEADD('DAY', 3, CURRENT_TIMESTAMP))",
                "INSERT INTO coupon VALUES (2, 'old-dead', DATEADD('DAY', -3, CURRENT_TIMESTAMP))");
        target.execute("INSERT INTO coupon VALUES (1001, 'new', DATEADD('DAY', 3, CURRENT_TIMESTAMP))");
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class, DualWriteEndpointAutoConfiguration.class,
                        DualWriteIncrementalAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.routing-column=user_id", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "management.endpoints.web.exposure.include=dualwrite");
    }

    @Test
    void tablesConfigured_theMigrationRoutesAndReportsLiveRows() {
        runner().withPropertyValues("dualwrite.incremental.tables.coupon.key-column=id",
                "dualwrite.incremental.tables.coupon.new-keys-above=1000",
                "dualwrite.incremental.tables.coupon.expires-column=expires_at").run(context -> {
                    assertThat(context).hasNotFailed();
                    IncrementalMigration migration = context.getBean(IncrementalMigration.class);
                    assertThat(migration.routeOf("coupon", 2L)).isEqualTo(Route.SOURCE);
                    assertThat(migration.routeOf("coupon", 1001L)).isEqualTo(Route.TARGET);
                    assertThat(migration.query("coupon", "SELECT id FROM {table}").rows()).hasSize(3);

                    DualWriteIncrementalAutoConfiguration.LiveRowsReport report =
                            context.getBean(DualWriteIncrementalAutoConfiguration.LiveRowsReport.class);
                    report.count();
                    assertThat(report.last()).singleElement().satisfies(rows -> {
                        assertThat(rows.liveInSource()).isEqualTo(1);
                        assertThat(rows.rowsInSource()).isEqualTo(2);
                        assertThat(rows.liveInTarget()).isEqualTo(1);
                    });
                    @SuppressWarnings("unchecked")
                    Map<String, Object> section = (Map<String, Object>) context.getBean(DualWriteEndpoint.class)
                            .status().get("incremental");
                    assertThat(section).containsKey("coupon");
                    assertThat((Map<String, Object>) section.get("coupon")).containsEntry("archivable", false)
                            .containsEntry("liveInSource", 1L);
                    assertThat(context.getBean(MeterRegistry.class).get(MeterNames.INCREMENTAL_LIVE_ROWS)
                            .tag("table", "coupon").tag("store", "source").gauge().value()).isEqualTo(1.0);
                });
    }

    @Test
    void aMirroredTable_cannotAlsoBeMigratedIncrementally() {
        runner().withPropertyValues("dualwrite.incremental.tables.t_order.key-column=id",
                "dualwrite.incremental.tables.t_order.new-keys-above=1000",
                "dualwrite.incremental.tables.t_order.expires-column=gmt_modified").run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause().isInstanceOf(MappingException.class)
                            .hasMessageContaining("dualwrite.incremental.tables.t_order.: table 't_order' is also"
                                    + " mapped for mirroring (dualwrite.tables.t_order)");
                });
    }

    @Test
    void aTableWithoutItsSplit_failsNamingTheProperty() {
        runner().withPropertyValues("dualwrite.incremental.tables.coupon.key-column=id",
                "dualwrite.incremental.tables.coupon.expires-column=expires_at").run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause()
                            .hasMessageContaining("dualwrite.incremental.tables.coupon.new-keys-above or");
                });
    }

    @Test
    void noTables_noMigration() {
        runner().run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(IncrementalMigration.class));
    }
}
