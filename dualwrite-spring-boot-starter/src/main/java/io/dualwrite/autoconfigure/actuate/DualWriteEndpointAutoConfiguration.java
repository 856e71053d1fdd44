package io.dualwrite.autoconfigure.actuate;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.autoconfigure.DualWriteProperties;
import io.dualwrite.autoconfigure.ReconcileService;
import io.dualwrite.autoconfigure.VerifyStatus;
import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.MigrationController;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import org.springframework.boot.actuate.autoconfigure.endpoint.condition.ConditionalOnAvailableEndpoint;
import org.springframework.boot.actuate.endpoint.annotation.Endpoint;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/**
 * The {@code dualwrite} endpoint and health indicator, when the application has Spring Boot Actuator
 * and dualwrite is configured. Expose the endpoint as any other
 * ({@code management.endpoints.web.exposure.include=dualwrite}); its write operations stay refused
 * until {@code dualwrite.management.write-enabled=true}.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBean({Mirror.class, MappedTables.class, BackfillRunner.class, MigrationController.class})
public class DualWriteEndpointAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteEndpointAutoConfiguration() {
    }

    /** The endpoint, when actuator's endpoint support is present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({Endpoint.class, ConditionalOnAvailableEndpoint.class})
    @ConditionalOnAvailableEndpoint(DualWriteEndpoint.class)
    static class EndpointConfiguration {

        @Bean
        @ConditionalOnMissingBean
        DualWriteEndpoint dualWriteEndpoint(DualWriteProperties properties, Mirror mirror,
                @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse, MappedTables tables,
                BackfillRunner backfill, MigrationController controller, ReconcileService reconcile,
                VerifyStatus verify, ObjectProvider<DesiredSettings> desired) {
            DualWriteEndpoint endpoint = new DualWriteEndpoint(properties, mirror, reverse.getIfAvailable(), tables,
                    backfill, controller, reconcile, verify);
            endpoint.showDesired(desired.getIfAvailable());
            return endpoint;
        }
    }

    /** The health indicator, when Spring Boot's health support is present. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass({HealthIndicator.class, ConditionalOnEnabledHealthIndicator.class})
    @ConditionalOnEnabledHealthIndicator("dualwrite")
    static class HealthConfiguration {

        @Bean
        @ConditionalOnMissingBean(name = "dualwriteHealthIndicator")
        DualWriteHealthIndicator dualwriteHealthIndicator(Mirror mirror,
                @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse, DualWriteProperties properties) {
            return new DualWriteHealthIndicator(mirror, reverse.getIfAvailable(), properties.getHealth());
        }
    }
}
