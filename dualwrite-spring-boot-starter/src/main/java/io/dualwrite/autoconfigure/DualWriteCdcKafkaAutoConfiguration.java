package io.dualwrite.autoconfigure;

import io.dualwrite.cdc.kafka.DebeziumKafkaCapture;
import io.dualwrite.cdc.kafka.KafkaCdcConfig;
import io.dualwrite.cdc.kafka.KafkaCdcStatus;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ClassUtils;

/**
 * Change-data capture from Debezium change topics on Kafka ({@code dualwrite.capture.cdc.kafka.enabled=true}):
 * for teams that already run Debezium on Kafka Connect, a {@link DebeziumKafkaCapture} consumes the mapped
 * tables' topics and hands their keys to the forward mirror, while the migration mirrors source writes
 * (DUAL_WRITE, and a step into or out of it), as the log readers of {@link DualWriteCdcAutoConfiguration} do.
 * It is configured by {@code dualwrite.capture.cdc.kafka.*} only (Spring Boot's {@code spring.kafka.*} is not
 * read), needs {@code org.springframework.kafka:spring-kafka}, and replaces reading the log directly: the two
 * are not enabled together. Health ({@code dualwriteCdc}), the endpoint's {@code cdc} and the {@code dualwrite.cdc.*}
 * meters show its status.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBooleanProperty("dualwrite.capture.cdc.kafka.enabled")
@ConditionalOnBean(name = "dualWriteMirror")
public class DualWriteCdcKafkaAutoConfiguration {

    private static final String SPRING_KAFKA = "org.springframework.kafka.core.DefaultKafkaConsumerFactory";

    /** Creates the configuration; Spring does. */
    public DualWriteCdcKafkaAutoConfiguration() {
    }

    /**
     * The started consumer of the Debezium topics.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param source the library's own source pool: names the database or schema in the default topic names
     * @param mirror the forward mirror
     * @param controller whose phase decides whether keys read are handed over
     * @return the consumer, started
     * @throws IllegalStateException if spring-kafka is not on the classpath
     * @throws DualWriteSettingException if a setting is missing or wrong, or the log reader is enabled too
     * @throws SQLException if the source cannot be reached
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public DebeziumKafkaCapture dualWriteDebeziumKafkaCapture(DualWriteProperties properties, MappedTables tables,
            @Qualifier(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE) DataSource source,
            @Qualifier("dualWriteMirror") Mirror mirror, MigrationController controller) throws SQLException {
        if (!ClassUtils.isPresent(SPRING_KAFKA, DualWriteCdcKafkaAutoConfiguration.class.getClassLoader())) {
            throw new IllegalStateException("dualwrite.capture.cdc.kafka.enabled=true needs spring-kafka on the"
                    + " classpath: add the dependency org.springframework.kafka:spring-kafka (its version is managed"
                    + " by Spring Boot), or set dualwrite.capture.cdc.kafka.enabled=false");
        }
        DualWriteProperties.Cdc cdc = properties.getCapture().getCdc();
        if (cdc.isEnabled()) {
            throw new DualWriteSettingException("dualwrite.capture.cdc.kafka.enabled", "dualwrite.capture.cdc.enabled"
                    + " and dualwrite.capture.cdc.kafka.enabled are both true: the source's log would be read twice,"
                    + " directly and through Debezium's topics", "Enable one of them: the Kafka consumer where"
                    + " Debezium already publishes the source's changes, else the direct log reader.");
        }
        DebeziumKafkaCapture capture;
        try {
            capture = DebeziumKafkaCapture.create(config(cdc.getKafka()), tables, source, mirror);
        } catch (IllegalArgumentException e) {
            throw new DualWriteSettingException("dualwrite.capture.cdc.kafka", e.getMessage(), "Set each property"
                    + " named above, or dualwrite.capture.cdc.kafka.enabled=false.", e);
        }
        capture.handOverWhile(() -> controller.mirroring() && controller.state().active().phase() != Phase.RAMP);
        capture.start();
        // As for the log readers: a step out of DUAL_WRITE waits until the topics read so far are applied.
        controller.addPreparation((from, to) -> {
            if (from.phase() != Phase.DUAL_WRITE || to.phase() == Phase.DUAL_WRITE) {
                return Optional.empty();
            }
            try {
                return capture.awaitCommittedPastEnd(DualWriteCdcAutoConfiguration.STEP_CATCH_UP);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of("interrupted while waiting for the Debezium topic consumer to catch up");
            }
        });
        return capture;
    }

    static KafkaCdcConfig config(DualWriteProperties.Kafka kafka) {
        try {
            KafkaCdcConfig.Builder builder = KafkaCdcConfig.builder().startFrom(kafka.getStartFrom())
                    .commitInterval(kafka.getCommitInterval()).pollTimeout(kafka.getPollTimeout());
            if (kafka.getBootstrapServers() != null) {
                builder.bootstrapServers(kafka.getBootstrapServers());
            }
            if (kafka.getGroupId() != null) {
                builder.groupId(kafka.getGroupId());
            }
            if (kafka.getTopicPrefix() != null) {
                builder.topicPrefix(kafka.getTopicPrefix());
            }
            kafka.getTopics().forEach(builder::topic);
            kafka.getProperties().forEach(builder::consumerProperty);
            return builder.build();
        } catch (IllegalArgumentException e) {
            throw new DualWriteSettingException("dualwrite.capture.cdc.kafka", e.getMessage(), "Set each property"
                    + " named above, or dualwrite.capture.cdc.kafka.enabled=false.", e);
        }
    }

    /** What health and the endpoint show of the consumer. */
    static Map<String, Object> details(KafkaCdcStatus status) {
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("source", "kafka");
        details.put("state", status.state().name());
        if (status.problem() != null) {
            details.put("problem", status.problem());
        }
        if (!status.stoppedTables().isEmpty()) {
            details.put("stoppedTables", status.stoppedTables());
        }
        details.put("committed", status.committed());
        details.put("recordsBehind", status.recordsBehind());
        details.put("applyLag", status.applyLag().toString());
        details.put("keysHanded", status.keysHanded());
        details.put("keysNotHanded", status.keysNotHanded());
        details.put("tombstones", status.tombstones());
        details.put("echoesSkipped", status.echoesSkipped());
        details.put("records", status.records());
        return details;
    }

    /** Health as component {@code dualwriteCdc}: DOWN when the consumer failed or a table's capture stopped. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class HealthCheck {

        @Bean
        @ConditionalOnMissingBean(name = "dualwriteCdcHealthIndicator")
        org.springframework.boot.health.contributor.HealthIndicator dualwriteCdcHealthIndicator(
                DebeziumKafkaCapture capture) {
            return () -> {
                KafkaCdcStatus status = capture.status();
                boolean down = status.state() == DebeziumKafkaCapture.State.FAILED
                        || !status.stoppedTables().isEmpty();
                var health = down ? org.springframework.boot.health.contributor.Health.down()
                        : org.springframework.boot.health.contributor.Health.up();
                return health.withDetails(details(status)).build();
            };
        }
    }

    /** The consumer's meters, when the application has a registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "io.micrometer.core.instrument.MeterRegistry")
    static class Metrics {

        @Bean
        @ConditionalOnMissingBean
        io.dualwrite.metrics.KafkaCdcMetrics dualWriteKafkaCdcMetrics(DebeziumKafkaCapture capture) {
            return new io.dualwrite.metrics.KafkaCdcMetrics(capture::status);
        }
    }

    /** The consumer's state under {@code cdc} in {@code GET /actuator/dualwrite}, when the endpoint is there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointView {

        @Bean
        org.springframework.beans.factory.SmartInitializingSingleton dualWriteCdcKafkaOnEndpoint(
                DebeziumKafkaCapture capture,
                org.springframework.beans.factory.ObjectProvider<io.dualwrite.autoconfigure.actuate.DualWriteEndpoint>
                        endpoint) {
            return () -> endpoint.ifAvailable(e -> e.showCdc(() -> details(capture.status())));
        }
    }
}
