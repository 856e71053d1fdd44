package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mirror.Mirror;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.ShardedSourceOrders;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.assertj.AssertableApplicationContext;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;

/**
 * {@code dualwrite.source.shards.*}: a MariaDB source sharded by hand into 2 databases x 4 tables
 * ({@link ShardedSourceOrders}) mirrored into one PostgreSQL {@code t_order}.
 */
class ShardedSourceAutoConfigurationTest {

    private ShardedSourceOrders stores;

    @BeforeEach
    void createStores() {
        stores = ShardedSourceOrders.create();
    }

    @AfterEach
    void dropStores() throws Exception {
        stores.close();
    }

    private ApplicationContextRunner runner() {
        TestDatabase app = stores.shard(0);
        TestDatabase target = stores.target();
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class, AopAutoConfiguration.class,
                        DualWriteShardedSourceAutoConfiguration.class, DualWriteAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + app.jdbcUrl(),
                        "spring.datasource.username=" + app.username(),
                        "spring.datasource.password=" + (app.password() == null ? "" : app.password()),
                        "dualwrite.target.url=" + target.jdbcUrl(),
                        "dualwrite.target.username=" + target.username(),
                        "dualwrite.target.password=" + (target.password() == null ? "" : target.password()),
                        "dualwrite.phase=DUAL_WRITE", "dualwrite.schema.create=true",
                        "dualwrite.tables.t_order.target-table=t_order");
    }

    private String[] dataSources() {
        return new String[] {
            "dualwrite.source.shards.data-sources.ds_0.url=" + stores.shard(0).jdbcUrl(),
            "dualwrite.source.shards.data-sources.ds_0.username=" + stores.shard(0).username(),
            "dualwrite.source.shards.data-sources.ds_0.password=" + nullToEmpty(stores.shard(0).password()),
            "dualwrite.source.shards.data-sources.ds_1.url=" + stores.shard(1).jdbcUrl(),
            "dualwrite.source.shards.data-sources.ds_1.username=" + stores.shard(1).username(),
            "dualwrite.source.shards.data-sources.ds_1.password=" + nullToEmpty(stores.shard(1).password())};
    }

    private static String nullToEmpty(String text) {
        return text == null ? "" : text;
    }

    @Test
    void shardsProperties_makeTheLibrarysSourceSharded_andTheMirrorReadsTheRowFromItsShard() {
        runner().withPropertyValues(dataSources())
                .withPropertyValues("dualwrite.source.shards.tables.t_order.nodes=" + ShardedSourceOrders.NODES)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE))
                            .isInstanceOfSatisfying(ShardedSource.class, source -> assertThat(source.layout("t_order")
                                    .orElseThrow().shards()).hasSize(8));
                    long id = 42;
                    stores.upsert(id, "NEW", new BigDecimal("9.99"), "boot");
                    Mirror mirror = context.getBean(Mirror.class);
                    mirror.recorder().record("t_order", id);
                    assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
                    assertThat(stores.target().queryForObject("SELECT note FROM t_order WHERE id = 42", String.class))
                            .isEqualTo("boot");
                    assertThat(stores.differences()).isEmpty();
                });
    }

    @Test
    void aMissingUrlAndAnUndeclaredDataSource_failNamingTheirProperties() {
        runner().withPropertyValues("dualwrite.source.shards.data-sources.ds_0.url=" + stores.shard(0).jdbcUrl(),
                "dualwrite.source.shards.data-sources.ds_1.username=root",
                "dualwrite.source.shards.tables.t_order.nodes=ds_${0..2}.t_order_${0..3}").run(context -> {
                    DualWriteSettingException failure = settingFailure(context);
                    assertThat(failure.property()).isEqualTo("dualwrite.source.shards");
                    assertThat(failure).hasMessageContaining("dualwrite.source.shards.data-sources.ds_1.url: not set");
                });
        runner().withPropertyValues(dataSources())
                .withPropertyValues("dualwrite.source.shards.tables.t_order.nodes=ds_${0..2}.t_order_${0..3}")
                .run(context -> assertThat(settingFailure(context)).hasMessageContaining(
                        "dualwrite.source.shards.tables.t_order.nodes: data node 'ds_2.t_order_0' names data source"
                                + " 'ds_2', which is not declared; the data sources are [ds_0, ds_1]"));
    }

    @Test
    void aMissingPhysicalTable_failsNamingTheShardAndTheProperty() {
        stores.shard(1).execute("DROP TABLE t_order_3");
        runner().withPropertyValues(dataSources())
                .withPropertyValues("dualwrite.source.shards.tables.t_order.nodes=ds_$->{0..1}.t_order_$->{0..3}")
                .run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(
                            "dualwrite.source.shards.tables.t_order.nodes (ShardedSource.Builder.table in code): table"
                                    + " 't_order_3' does not exist in the source data source 'ds_1' (shard of logical"
                                    + " table 't_order') database");
                });
    }

    @Test
    void shardsAndShardingSphereConfigTogether_areRefused() {
        runner().withPropertyValues(dataSources())
                .withPropertyValues("dualwrite.source.sharding-sphere-config=classpath:sharding.yaml")
                .run(context -> assertThat(settingFailure(context)).hasMessageStartingWith(
                        "dualwrite.source.sharding-sphere-config and dualwrite.source.shards.* are both set"));
    }

    @Test
    void withoutShardProperties_theLibraryReadsTheApplicationsOwnSource_whichHasNoLogicalTable() {
        runner().run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).rootCause().hasMessageContaining(
                    "dualwrite.tables.t_order: table 't_order' does not exist in the source database");
        });
    }

    private static DualWriteSettingException settingFailure(AssertableApplicationContext context) {
        assertThat(context).hasFailed();
        Throwable failure = context.getStartupFailure();
        while (failure != null && !(failure instanceof DualWriteSettingException)) {
            failure = failure.getCause();
        }
        assertThat(failure).as("a DualWriteSettingException in %s", context.getStartupFailure()).isNotNull();
        return (DualWriteSettingException) failure;
    }
}
