package io.dualwrite.autoconfigure;

import io.dualwrite.expiring.ExpiringTable;
import io.dualwrite.expiring.IncrementalMigration;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Incremental-only migration of expiring data ({@code dualwrite.incremental.tables.*}): the
 * {@link IncrementalMigration} on the application's own source and target data sources (the routes and
 * merged reads serve requests, so they never take the library's pools), and its live-row report, counted
 * every {@code dualwrite.incremental.report-interval} and shown under {@code incremental} on the endpoint
 * and as the meter {@code dualwrite.incremental.live.rows}.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBean(name = DualWriteAutoConfiguration.TARGET_DATA_SOURCE)
@Conditional(DualWriteIncrementalAutoConfiguration.TablesConfigured.class)
@EnableConfigurationProperties(IncrementalProperties.class)
public class DualWriteIncrementalAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteIncrementalAutoConfiguration() {
    }

    /**
     * The incremental migration, checked against both stores.
     *
     * @param incremental its settings
     * @param properties the mirror's settings, whose tables may not also be migrated incrementally
     * @param application the application's data source (the routing one): its source is used
     * @param target the application's target data source
     * @return the migration
     * @throws io.dualwrite.mapping.MappingException listing every property that does not fit the stores
     * @throws SQLException if a store cannot be read
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public IncrementalMigration dualWriteIncrementalMigration(IncrementalProperties incremental,
            DualWriteProperties properties, DataSource application,
            @Qualifier(DualWriteAutoConfiguration.TARGET_DATA_SOURCE) DataSource target) throws SQLException {
        IncrementalMigration.Builder builder = IncrementalMigration.builder(
                DualWriteAutoConfiguration.source(application, properties), ShardingSphereTargets.forLibrary(target))
                .mirroredTables(properties.getTables().keySet())
                .queryTimeout(incremental.getQueryTimeout());
        incremental.getTables().forEach((name, settings) -> builder.table(table(name, settings)));
        return builder.build();
    }

    private static ExpiringTable table(String name, IncrementalProperties.Table settings) {
        ExpiringTable.Builder table = ExpiringTable.builder(name).sourceTable(settings.getSourceTable())
                .targetTable(settings.getTargetTable()).keyColumn(settings.getKeyColumn())
                .expiresColumn(settings.getExpiresColumn());
        if (settings.getNewKeysAbove() != null) {
            table.newKeysAbove(settings.getNewKeysAbove());
        }
        if (settings.getCreatedColumn() != null || settings.getCreatedFrom() != null) {
            table.createdFrom(settings.getCreatedColumn(), settings.getCreatedFrom());
        }
        try {
            return table.build();
        } catch (IllegalArgumentException e) {
            throw new DualWriteSettingException("dualwrite.incremental.tables." + name, e.getMessage(),
                    "Fix the properties named above, or remove dualwrite.incremental.tables." + name + ".");
        }
    }

    /**
     * Counts the live rows of every table in the background, so that the endpoint and the meter read memory.
     *
     * @param migration the migration
     * @param incremental its settings
     * @return the report
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public LiveRowsReport dualWriteLiveRowsReport(IncrementalMigration migration, IncrementalProperties incremental) {
        return new LiveRowsReport(migration, incremental.getReportInterval());
    }

    /** The report under {@code incremental} in {@code GET /actuator/dualwrite}, when the endpoint is there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointView {

        @Bean
        SmartInitializingSingleton dualWriteIncrementalOnEndpoint(LiveRowsReport report,
                ObjectProvider<io.dualwrite.autoconfigure.actuate.DualWriteEndpoint> endpoint) {
            return () -> endpoint.ifAvailable(e -> e.showSection("incremental", report::details));
        }
    }

    /** One gauge of live rows per table and store, when the application has a registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class Metrics {

        @Bean
        SmartInitializingSingleton dualWriteLiveRowsMeters(LiveRowsReport report, IncrementalMigration migration,
                ObjectProvider<MeterRegistry> registry) {
            return () -> registry.ifAvailable(meters -> {
                for (ExpiringTable table : migration.tables()) {
                    for (String store : List.of("source", "target")) {
                        Gauge.builder(io.dualwrite.metrics.MeterNames.INCREMENTAL_LIVE_ROWS, report,
                                r -> r.liveRows(table.name(), store)).tag("table", table.name()).tag("store", store)
                                .description("Rows not yet expired, as last counted").register(meters);
                    }
                }
            });
        }
    }

    /** The last live-row count of every table, refreshed on a thread of its own. */
    public static final class LiveRowsReport implements AutoCloseable {

        private static final Log log = LogFactory.getLog(LiveRowsReport.class);

        private final IncrementalMigration migration;
        private final ScheduledExecutorService timer;
        private volatile List<IncrementalMigration.LiveRows> last = List.of();
        private volatile String failure;

        LiveRowsReport(IncrementalMigration migration, Duration interval) {
            this.migration = migration;
            this.timer = Executors.newSingleThreadScheduledExecutor(runnable -> {
                Thread thread = new Thread(runnable, "dualwrite-live-rows");
                thread.setDaemon(true);
                return thread;
            });
            timer.scheduleWithFixedDelay(this::count, 0, Math.max(1, interval.toMillis()), TimeUnit.MILLISECONDS);
        }

        /** Counts now, on the caller's thread. */
        public void count() {
            try {
                List<IncrementalMigration.LiveRows> counted = migration.liveRows();
                for (IncrementalMigration.LiveRows rows : counted) {
                    boolean was = last.stream().anyMatch(r -> r.table().equals(rows.table()) && r.archivable());
                    if (rows.archivable() && !was) {
                        log.info("dualwrite: the source holds no live row of '" + rows.table() + "' any more ("
                                + rows.rowsInSource() + " expired rows): its table can be archived");
                    }
                }
                last = counted;
                failure = null;
            } catch (SQLException | RuntimeException e) {
                failure = e.getMessage();
                log.warn("dualwrite: the live rows of the incrementally migrated tables could not be counted", e);
            }
        }

        /** @return the last counts, one per table */
        public List<IncrementalMigration.LiveRows> last() {
            return last;
        }

        double liveRows(String table, String store) {
            return last.stream().filter(r -> r.table().equals(table)).findFirst()
                    .map(r -> (double) ("source".equals(store) ? r.liveInSource() : r.liveInTarget()))
                    .orElse(Double.NaN);
        }

        Map<String, Object> details() {
            Map<String, Object> details = new LinkedHashMap<>();
            for (IncrementalMigration.LiveRows rows : last) {
                Map<String, Object> table = new LinkedHashMap<>();
                table.put("liveInSource", rows.liveInSource());
                table.put("neverExpiringInSource", rows.neverExpiringInSource());
                table.put("rowsInSource", rows.rowsInSource());
                table.put("lastExpiryInSource", rows.lastExpiryInSource() == null ? null
                        : rows.lastExpiryInSource().toString());
                table.put("liveInTarget", rows.liveInTarget());
                table.put("archivable", rows.archivable());
                table.put("countedAt", rows.at().toString());
                details.put(rows.table(), table);
            }
            if (failure != null) {
                details.put("error", failure);
            }
            details.put("duplicateKeysFound", migration.duplicatesFound());
            return details;
        }

        @Override
        public void close() {
            timer.shutdownNow();
        }
    }

    /** Matches when at least one table is configured under {@code dualwrite.incremental.tables}. */
    static final class TablesConfigured extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            boolean any = Binder.get(context.getEnvironment())
                    .bind("dualwrite.incremental.tables", Bindable.mapOf(String.class, Object.class))
                    .map(tables -> !tables.isEmpty()).orElse(false);
            return any ? ConditionOutcome.match("dualwrite.incremental.tables is set")
                    : ConditionOutcome.noMatch("no dualwrite.incremental.tables");
        }
    }
}
