package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.cdc.kafka.DebeziumKafkaCapture;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.kafka.test.utils.KafkaTestUtils;

/**
 * {@code dualwrite.capture.cdc.kafka.*}: off by default, its required settings named, refused together with the
 * direct log reader, and end to end against a real (embedded KRaft) broker: a Debezium event for an outside
 * write on a MariaDB source is mirrored to PostgreSQL, and health and the endpoint show the consumer.
 */
class DualWriteCdcKafkaAutoConfigurationTest {

    private static EmbeddedKafkaKraftBroker broker;

    @BeforeAll
    static void startBroker() {
        broker = new EmbeddedKafkaKraftBroker(1, 1);
        broker.brokerProperty("group.initial.rebalance.delay.ms", "0");
        broker.afterPropertiesSet();
    }

    @AfterAll
    static void stopBroker() {
        if (broker != null) {
            broker.destroy();
        }
    }

    private static ApplicationContextRunner runner(TestDatabase source, TestDatabase target) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        AopAutoConfiguration.class, DualWriteAutoConfiguration.class,
                        DualWriteCdcAutoConfiguration.class, DualWriteCdcKafkaAutoConfiguration.class,
                        io.dualwrite.autoconfigure.actuate.DualWriteEndpointAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(),
                        "spring.datasource.username=" + source.username(),
                        "spring.datasource.password=" + source.password(), "dualwrite.target.url=" + target.jdbcUrl(),
                        "dualwrite.target.username=" + target.username(),
                        "dualwrite.target.password=" + target.password(),
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "management.endpoints.web.exposure.include=dualwrite");
    }

    @Test
    void offByDefault_requiredSettingsNamed_andNotTogetherWithTheLogReader() {
        try (TestDatabase source = TestDatabase.create(Store.H2, "kcdc_boot_src");
                TestDatabase target = TestDatabase.create(Store.H2, "kcdc_boot_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            runner(source, target).run(context -> {
                assertThat(context).hasNotFailed();
                assertThat(context).doesNotHaveBean(DebeziumKafkaCapture.class);
            });
            runner(source, target).withPropertyValues("dualwrite.capture.cdc.kafka.enabled=true").run(context -> {
                var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                assertThat(analysis.getDescription()).isEqualTo("the Debezium topic consumer needs:\n  -"
                        + " dualwrite.capture.cdc.kafka.bootstrap-servers: the Kafka brokers (host:port,...)");
                assertThat(analysis.getAction()).contains("dualwrite.capture.cdc.kafka.enabled=false");
            });
            runner(source, target).withPropertyValues("dualwrite.capture.cdc.kafka.enabled=true",
                    "dualwrite.capture.cdc.kafka.bootstrap-servers=" + broker.getBrokersAsString()).run(context -> {
                        var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                        assertThat(analysis.getDescription()).startsWith("the Debezium topic consumer cannot start:\n"
                                + "  - dualwrite.capture.cdc.kafka.topics.t_order: table 't_order' has no topic");
                    });
        }
    }

    @Test
    void enabled_consumesTheDebeziumTopic_andMirrorsAnOutsideWrite_withHealthAndEndpoint() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "kcdc_boot");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "kcdc_boot_t")) {
            source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            String topic = "shop." + source.name() + ".t_order";
            broker.addTopics(new NewTopic(topic, 1, (short) 1));
            runner(source, target)
                    .withPropertyValues("dualwrite.capture.cdc.kafka.enabled=true",
                            "dualwrite.capture.cdc.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
                            "dualwrite.capture.cdc.kafka.group-id=" + source.name(),
                            "dualwrite.capture.cdc.kafka.topic-prefix=shop",
                            "dualwrite.capture.cdc.kafka.start-from=earliest",
                            "dualwrite.capture.cdc.kafka.commit-interval=50ms",
                            "dualwrite.capture.cdc.kafka.poll-timeout=50ms",
                            "dualwrite.capture.cdc.kafka.properties[session.timeout.ms]=6000")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        DebeziumKafkaCapture capture = context.getBean(DebeziumKafkaCapture.class);
                        assertThat(capture.topics()).containsExactly(Map.entry("t_order", topic));
                        try (Connection outside = DriverManager.getConnection(source.jdbcUrl(), source.username(),
                                source.password()); Statement statement = outside.createStatement()) {
                            statement.executeUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                                    + " gmt_modified) VALUES (42, 1, 'NEW', 3.00, 'outside', NOW(3))");
                        }
                        Map<String, Object> producerProperties = KafkaTestUtils.producerProps(broker.getBrokersAsString());
                        producerProperties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
                        producerProperties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
                        try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProperties)) {
                            producer.send(new ProducerRecord<>(topic, "{\"schema\":{\"type\":\"struct\",\"fields\":"
                                    + "[{\"type\":\"int64\",\"optional\":false,\"field\":\"id\"}],\"optional\":false,"
                                    + "\"name\":\"" + topic + ".Key\"},\"payload\":{\"id\":42}}", "{\"schema\":null,"
                                    + "\"payload\":{\"before\":null,\"after\":{\"id\":42,\"note\":\"outside\"},"
                                    + "\"source\":{\"connector\":\"mysql\",\"db\":\"" + source.name() + "\",\"table\":"
                                    + "\"t_order\"},\"op\":\"c\",\"ts_ms\":1}}")).get();
                        }
                        assertThat(capture.awaitCommittedPastEnd(Duration.ofSeconds(30))).isEmpty();
                        assertThat(target.queryForObject("SELECT note FROM t_order WHERE id = 42", String.class))
                                .isEqualTo("outside");
                        var health = context.getBean("dualwriteCdcHealthIndicator",
                                org.springframework.boot.health.contributor.HealthIndicator.class).health();
                        assertThat(health.getStatus().getCode()).isEqualTo("UP");
                        assertThat(health.getDetails()).containsEntry("source", "kafka")
                                .containsEntry("keysHanded", 1L).containsKeys("recordsBehind", "applyLag");
                        var registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
                        // Spring Boot's metrics auto-configuration binds it to every registry; this runner has none.
                        context.getBean(io.dualwrite.metrics.KafkaCdcMetrics.class).bindTo(registry);
                        assertThat(registry.get(io.dualwrite.metrics.MeterNames.CDC_KEYS).tag("log", "source")
                                .functionCounter().count())
                                .isEqualTo(1.0);
                        assertThat(registry.get(io.dualwrite.metrics.MeterNames.CDC_RECORDS_BEHIND).gauge().value())
                                .isZero();
                        assertThat(registry.get(io.dualwrite.metrics.MeterNames.CDC_RUNNING).gauge().value())
                                .isEqualTo(1.0);
                        assertThat(context.getBean(io.dualwrite.autoconfigure.actuate.DualWriteEndpoint.class).status())
                                .extractingByKey("cdc").asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                                .containsEntry("state", "RUNNING").containsEntry("keysHanded", 1L);
                    });
            runner(source, target)
                    .withPropertyValues("dualwrite.capture.cdc.kafka.enabled=true", "dualwrite.capture.cdc.enabled=true",
                            "dualwrite.capture.cdc.server-id=7301", "dualwrite.capture.cdc.required=false",
                            "dualwrite.capture.cdc.kafka.bootstrap-servers=" + broker.getBrokersAsString(),
                            "dualwrite.capture.cdc.kafka.topic-prefix=shop")
                    .run(context -> {
                        var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                        assertThat(analysis.getDescription()).startsWith("dualwrite.capture.cdc.enabled and"
                                + " dualwrite.capture.cdc.kafka.enabled are both true");
                    });
        }
    }
}
