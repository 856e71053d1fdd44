package io.dualwrite.autoconfigure;

import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.metrics.BackfillMetrics;
import io.dualwrite.metrics.DualWriteMetrics;
import io.dualwrite.metrics.RoutingMetrics;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.verify.VerifyMetrics;
import io.micrometer.core.instrument.MeterRegistry;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Micrometer meters for the mirror, the routing, the backfill and the verifier (names in {@link io.dualwrite.metrics.MeterNames}),
 * when the application has a {@link MeterRegistry}. The binders are beans, so Spring Boot binds them to
 * every registry; the event counters are fed by the subscription of {@link DualWriteAutoConfiguration}.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class, afterName = {
        "org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.CompositeMeterRegistryAutoConfiguration",
        "org.springframework.boot.micrometer.metrics.autoconfigure.export.simple.SimpleMetricsExportAutoConfiguration"})
@ConditionalOnClass(MeterRegistry.class)
@ConditionalOnBean({MeterRegistry.class, Mirror.class})
public class DualWriteMetricsAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteMetricsAutoConfiguration() {
    }

    /**
     * Counters and timers of applies, failures and parked keys, and the queue depth gauge.
     *
     * @param mirror the mirror whose queue is gauged
     * @return the binder, also an event listener
     */
    @Bean
    @ConditionalOnMissingBean
    public DualWriteMetrics dualWriteMetrics(Mirror mirror) {
        return new DualWriteMetrics(mirror, Mirror::pending);
    }

    /**
     * Routing meters: requests without a routing key ({@code dualwrite.routing.keyless*}) and the outcomes of
     * desired settings ({@code dualwrite.routing.desired}).
     *
     * @param controller this instance's controller
     * @param desired the executor of desired settings, if any, whose outcomes are counted
     * @return the binder
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(MigrationController.class)
    public RoutingMetrics dualWriteRoutingMetrics(MigrationController controller,
            ObjectProvider<DesiredSettings> desired) {
        return new RoutingMetrics(controller, desired.getIfAvailable());
    }

    /**
     * Per-table backfill progress gauges.
     *
     * @param backfill the runner
     * @param tables the mapped tables
     * @return the binder
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(BackfillRunner.class)
    public BackfillMetrics dualWriteBackfillMetrics(BackfillRunner backfill, MappedTables tables) {
        return new BackfillMetrics(backfill, tables.all().stream().map(MappedTable::name).toList());
    }

    /**
     * Double-read and reconcile meters ({@code dualwrite.verify.*}), fed by every verifier event.
     *
     * @param status the verification status the events pass through
     * @return the binder
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBean(VerifyStatus.class)
    public VerifyMetrics dualWriteVerifyMetrics(VerifyStatus status) {
        VerifyMetrics metrics = new VerifyMetrics();
        status.forwardTo(metrics);
        return metrics;
    }
}
