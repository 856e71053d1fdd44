package io.dualwrite.autoconfigure;

import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.degrade.DegradeMark;
import io.dualwrite.degrade.Degradation;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.RoutingValues;
import io.dualwrite.verify.IgnoredRows;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * Degradation ({@code dualwrite.degraded.*}): the marks of rows not mirrored, shared by the fleet through the
 * target's marks table and reloaded every control poll; the forward mirror and the backfill skip them, the
 * reconciler and the double read leave them alone, and the endpoint offers mark, purge and unmark.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "dualwrite.degraded.enabled", matchIfMissing = true)
@ConditionalOnBean(name = "dualWriteMirror")
@EnableConfigurationProperties(DegradeProperties.class)
public class DualWriteDegradeAutoConfiguration {

    private static final Log log = LogFactory.getLog(DualWriteDegradeAutoConfiguration.class);

    /** Creates the configuration; Spring does. */
    public DualWriteDegradeAutoConfiguration() {
    }

    /**
     * The marks, not started.
     *
     * @param degraded the degradation settings
     * @param properties the library's settings (schema creation, control poll interval)
     * @param tables the mappings
     * @param source the library's own source pool
     * @param target the library's own target pool, which holds the marks table
     * @param events where skipped changes are published (and counted by the metrics)
     * @param routingValues each row's routing value, which decides whether the target is its primary
     * @return the degradation
     * @throws DualWriteSettingException if the marks table is missing and may not be created, or a setting is bad
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Degradation dualWriteDegradation(DegradeProperties degraded, DualWriteProperties properties,
            MappedTables tables, @Qualifier(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE) DataSource source,
            @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE) DataSource target, EventPublisher events,
            ObjectProvider<RoutingValues> routingValues) {
        Degradation.Builder builder;
        try {
            builder = Degradation.builder(source, target, tables).table(degraded.getTable())
                    .createTable(properties.getSchema().isCreate())
                    .refreshInterval(properties.getControl().getPollInterval())
                    .batchSize(degraded.getBatchSize()).rowsPerSecond(degraded.getRowsPerSecond()).events(events)
                    .routingValues(routingValues.getIfAvailable(RoutingValues::identity));
            if (degraded.getStaleAfter() != null) {
                builder.staleAfter(degraded.getStaleAfter());
            }
        } catch (IllegalArgumentException bad) {
            throw setting(bad);
        }
        try {
            return builder.build();
        } catch (IllegalArgumentException bad) {
            throw setting(bad);
        } catch (IllegalStateException missingTable) {
            throw new DualWriteSettingException("dualwrite.schema.create", missingTable.getMessage(),
                    "Run the DDL above on the target database, set dualwrite.schema.create=true to let dualwrite"
                            + " create its tables at start-up, or set dualwrite.degraded.enabled=false.", missingTable);
        } catch (SQLException e) {
            throw new DualWriteSettingException("dualwrite.target.url", "dualwrite could not read the target database"
                    + " at start-up: " + e.getMessage(), "Check that the target is reachable.", e);
        }
    }

    private static DualWriteSettingException setting(IllegalArgumentException bad) {
        String message = bad.getMessage() == null ? "" : bad.getMessage();
        String property = message.startsWith("dualwrite.") ? message.substring(0, message.indexOf(' ') < 0
                ? message.length() : message.indexOf(' ')).replaceAll("[:,]$", "") : "dualwrite.degraded";
        return new DualWriteSettingException(property, message, "Correct " + property
                + " in the application's configuration.", bad);
    }

    /**
     * Hands the marks to the forward mirror and the backfill, starts reloading them, and resumes the purges a
     * stop interrupted.
     *
     * @param degradation the marks
     * @param mirror the forward mirror (the reverse mirror never skips)
     * @param backfill the backfill, if any
     * @param controller the controller, whose state a resumed purge routes rows by
     * @return the start-up hook
     */
    @Bean
    SmartInitializingSingleton dualWriteDegradationStart(Degradation degradation,
            @Qualifier("dualWriteMirror") Mirror mirror, ObjectProvider<BackfillRunner> backfill,
            MigrationController controller) {
        return () -> {
            mirror.degradation(degradation);
            backfill.ifAvailable(runner -> runner.degradation(degradation));
            try {
                degradation.start();
            } catch (SQLException e) {
                // The refresher keeps trying; until the marks load nothing is skipped.
                log.warn("dualwrite could not load the degradation marks at start-up (will retry): " + e.getMessage());
                return;
            }
            resumePurges(degradation, controller);
        };
    }

    /**
     * Goes on with the purges a stop interrupted, from their checkpoints, on a thread of their own. Several
     * instances starting together may all resume one: each batch locks the mark's row and reads the checkpoint
     * under that lock, so they take turns and no row is looked at twice.
     */
    static void resumePurges(Degradation degradation, MigrationController controller) {
        List<DegradeMark> interrupted = degradation.marks().stream()
                .filter(mark -> mark.purge() == DegradeMark.PurgeState.RUNNING).toList();
        if (interrupted.isEmpty()) {
            return;
        }
        Thread resume = new Thread(() -> {
            for (DegradeMark mark : interrupted) {
                try {
                    degradation.purge(mark.id(), "dualwrite " + controller.instanceId(), "resumed after a restart",
                            controller::state);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } catch (SQLException | RuntimeException e) {
                    log.warn("dualwrite could not resume the purge of mark " + mark.id() + " (" + mark.describe()
                            + "); ask again through the endpoint: " + e.getMessage());
                }
            }
        }, "dualwrite-degraded-resume");
        resume.setDaemon(true);
        resume.start();
    }

    /**
     * What the reconciler and the double read leave alone: the marked rows, when degradation runs.
     *
     * @param degradation the marks, if degradation is on
     * @return the rows to leave alone
     */
    static IgnoredRows ignoredRows(ObjectProvider<Degradation> degradation) {
        Degradation[] found = new Degradation[1];
        return (table, key, sourceRow, targetRow) -> {
            Degradation marks = found[0];
            if (marks == null) {
                marks = degradation.getIfAvailable();
                found[0] = marks;
            }
            return marks != null && marks.ignores(table, key, sourceRow, targetRow);
        };
    }

    /** The endpoint's degradation operations, when the endpoint is there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointView {

        @Bean
        SmartInitializingSingleton dualWriteDegradationOnEndpoint(Degradation degradation, DegradeProperties degraded,
                ObjectProvider<io.dualwrite.autoconfigure.actuate.DualWriteEndpoint> endpoint) {
            Duration timeout = degraded.getRecopyTimeout();
            return () -> endpoint.ifAvailable(e -> e.showDegradation(degradation, timeout));
        }
    }
}
