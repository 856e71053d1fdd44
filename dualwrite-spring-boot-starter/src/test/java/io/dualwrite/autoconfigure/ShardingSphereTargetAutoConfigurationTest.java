package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mirror.Mirror;
import io.dualwrite.shard.ShardingSphereTarget;
import io.dualwrite.testing.ShardedOrders;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;
import org.apache.shardingsphere.driver.jdbc.core.datasource.ShardingSphereDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.FilteredClassLoader;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * {@code dualwrite.target.sharding-sphere-config}: MariaDB's {@code t_order} into PostgreSQL split by ShardingSphere-JDBC
 * into 2 per-test databases x 4 tables ({@link ShardedOrders}), through a YAML the test writes to a temp file.
 */
class ShardingSphereTargetAutoConfigurationTest {

    @TempDir
    Path directory;

    private ShardedOrders stores;
    private Path yaml;

    @BeforeEach
    void createStores() throws Exception {
        stores = ShardedOrders.create();
        yaml = directory.resolve("sharding.yaml");
        Files.writeString(yaml, stores.yaml(null));
    }

    @AfterEach
    void dropStores() throws Exception {
        stores.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class, AopAutoConfiguration.class,
                        DualWriteAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + stores.source().jdbcUrl(),
                        "spring.datasource.username=" + stores.source().username(),
                        "spring.datasource.password=" + (stores.source().password() == null ? ""
                                : stores.source().password()),
                        "dualwrite.phase=DUAL_WRITE", "dualwrite.schema.create=true",
                        "dualwrite.tables.t_order.routing-column=user_id",
                        "dualwrite.tables.t_order.immutable-sharding-column=true");
    }

    @Test
    void shardingSphereConfig_buildsTheTarget_andTheMirrorWritesIntoTheRightPhysicalShard() {
        runner().withPropertyValues(ShardingSphereTargets.PROPERTY + "=file:" + yaml).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE))
                    .isInstanceOf(ShardingSphereDataSource.class);
            assertThat(context.getBean(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE))
                    .isInstanceOf(ShardingSphereTarget.class);
            long id = 42;
            long user = ShardedOrders.userOf(id);
            new JdbcTemplate(stores.source().dataSource()).update("INSERT INTO t_order (id, user_id, status, amount,"
                    + " note, gmt_modified) VALUES (?, ?, 'NEW', ?, 'boot', NOW(3))", id, user, new BigDecimal("9.99"));
            Mirror mirror = context.getBean(Mirror.class);
            mirror.recorder().record("t_order", id);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
            int[] shard = ShardedOrders.expectedShard(user);
            assertThat(stores.physicalRows()).containsOnlyKeys(String.valueOf(id));
            assertThat(stores.physicalRows().get(String.valueOf(id))).containsEntry("shard",
                    "ds_" + shard[0] + ".t_order_" + shard[1]).containsEntry("note", "boot");
            assertThat(stores.differencesPerShard()).isEmpty();
        });
    }

    @Test
    void applicationsOwnShardingSphereTargetBean_isWrappedForTheLibrary() throws Exception {
        DataSource own = YamlShardingSphereDataSourceFactory.createDataSource(Files.readAllBytes(yaml));
        try {
            runner().withBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE, DataSource.class, () -> own,
                    definition -> ((AbstractBeanDefinition) definition).setDefaultCandidate(false)).run(context -> {
                        assertThat(context).hasNotFailed();
                        assertThat(context.getBean(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE))
                                .isInstanceOfSatisfying(ShardingSphereTarget.class,
                                        target -> assertThat(target.shardingSphere()).isSameAs(own));
                        assertThat(context.getBean(DualWriteAutoConfiguration.CONTROL_DATA_SOURCE))
                                .isInstanceOf(ShardingSphereTarget.class);
                    });
        } finally {
            ((AutoCloseable) own).close();
        }
    }

    @Test
    void withoutTheProperty_orATargetUrl_theStarterBacksOff() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE)
                    .doesNotHaveBean(Mirror.class);
        });
    }

    @Test
    void missingYaml_failsNamingTheProperty() {
        runner().withPropertyValues(ShardingSphereTargets.PROPERTY + "=classpath:no-such-sharding.yaml")
                .run(context -> assertThat(settingFailure(context)).hasMessageStartingWith(
                        "dualwrite.target.sharding-sphere-config=classpath:no-such-sharding.yaml: the ShardingSphere YAML"
                                + " cannot be read"));
    }

    @Test
    void invalidYaml_failsNamingTheProperty() throws Exception {
        Files.writeString(yaml, "databaseName: broken\ndataSources: [\n");
        runner().withPropertyValues(ShardingSphereTargets.PROPERTY + "=file:" + yaml)
                .run(context -> assertThat(settingFailure(context)).hasMessageStartingWith(
                        "dualwrite.target.sharding-sphere-config=file:" + yaml + ": ShardingSphere refused the YAML"));
    }

    @Test
    void withoutShardingSphereOnTheClassPath_failsNamingTheProperty() {
        runner().withClassLoader(new FilteredClassLoader("org.apache.shardingsphere"))
                .withPropertyValues(ShardingSphereTargets.PROPERTY + "=file:" + yaml)
                .run(context -> assertThat(settingFailure(context)).hasMessage(
                        "dualwrite.target.sharding-sphere-config=file:" + yaml + ": shardingsphere-jdbc is not on the"
                                + " class path, so the starter cannot build the sharded target"));
    }

    @Test
    void urlAndShardingSphereConfigTogether_areRefused() {
        runner().withPropertyValues(ShardingSphereTargets.PROPERTY + "=file:" + yaml,
                "dualwrite.target.url=" + stores.shard(0).jdbcUrl())
                .run(context -> assertThat(settingFailure(context)).hasMessageStartingWith(
                        "dualwrite.target.sharding-sphere-config and dualwrite.target.url are both set"));
    }

    @Test
    void poolSettingsBesideTheShardingSphereConfig_areIgnoredAndSaidSoInOneWarning() {
        ch.qos.logback.classic.Logger logger = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                ShardingSphereTargets.class);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> appender =
                new ch.qos.logback.core.read.ListAppender<>();
        appender.start();
        logger.addAppender(appender);
        try {
            runner().withPropertyValues(ShardingSphereTargets.PROPERTY + "=file:" + yaml,
                    "dualwrite.target.hikari.maximum-pool-size=40", "dualwrite.target.library-hikari.pool-name=mine")
                    .run(context -> assertThat(context).hasNotFailed());
            assertThat(appender.list).singleElement().satisfies(event -> {
                assertThat(event.getLevel()).isEqualTo(ch.qos.logback.classic.Level.WARN);
                assertThat(event.getFormattedMessage()).isEqualTo("dualwrite.target.sharding-sphere-config is set, so"
                        + " the target's connections come from ShardingSphere's own pools, one per real database, and"
                        + " [dualwrite.target.hikari.maximum-pool-size, dualwrite.target.library-hikari.pool-name] are"
                        + " ignored: size the pools in the YAML's dataSources instead (maximumPoolSize,"
                        + " connectionTimeout, ...), and remove those properties");
            });
            appender.list.clear();
            runner().withPropertyValues(ShardingSphereTargets.PROPERTY + "=file:" + yaml)
                    .run(context -> assertThat(context).hasNotFailed());
            assertThat(appender.list).as("nothing to say without pool settings").isEmpty();
        } finally {
            logger.detachAppender(appender);
        }
    }

    private static DualWriteSettingException settingFailure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        Throwable failure = context.getStartupFailure();
        while (failure != null && !(failure instanceof DualWriteSettingException)) {
            failure = failure.getCause();
        }
        assertThat(failure).as("a DualWriteSettingException in %s", context.getStartupFailure()).isNotNull();
        assertThat(((DualWriteSettingException) failure).property()).isEqualTo(ShardingSphereTargets.PROPERTY);
        return (DualWriteSettingException) failure;
    }
}
