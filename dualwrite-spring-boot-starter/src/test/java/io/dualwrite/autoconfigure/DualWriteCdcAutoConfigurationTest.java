package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.cdc.BinlogCapture;
import io.dualwrite.cdc.CdcStatus;
import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.testing.CdcMariaDb;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;

/**
 * {@code dualwrite.capture.cdc.*}: off by default, its required settings named, and end to end on a binlog server
 * and on a PostgreSQL source (logical decoding).
 */
class DualWriteCdcAutoConfigurationTest {

    private static ApplicationContextRunner runner(String sourceUrl, String user, String password, TestDatabase target) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        AopAutoConfiguration.class, DualWriteAutoConfiguration.class,
                        DualWriteCdcAutoConfiguration.class,
                        io.dualwrite.autoconfigure.actuate.DualWriteEndpointAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("spring.datasource.url=" + sourceUrl, "spring.datasource.username=" + user,
                        "spring.datasource.password=" + password, "dualwrite.target.url=" + target.jdbcUrl(),
                        "dualwrite.target.username=" + target.username(),
                        "dualwrite.target.password=" + target.password(),
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "management.endpoints.web.exposure.include=dualwrite");
    }

    @Test
    void offByDefault_andWithoutServerIdStartUpNamesTheProperty() {
        try (TestDatabase source = TestDatabase.create(Store.H2, "cdc_boot_src");
                TestDatabase target = TestDatabase.create(Store.H2, "cdc_boot_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            runner(source.jdbcUrl(), "sa", "", target).run(context -> {
                assertThat(context).hasNotFailed();
                assertThat(context).doesNotHaveBean(BinlogCapture.class);
            });
            runner(source.jdbcUrl(), "sa", "", target)
                    .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.host=127.0.0.1",
                            "dualwrite.capture.cdc.port=3307")
                    .run(context -> {
                        var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                        assertThat(analysis.getDescription()).isEqualTo("change-data capture needs:\n  -"
                                + " dualwrite.capture.cdc.server-id: a replica id unique among the source server's"
                                + " replicas");
                        assertThat(analysis.getAction()).contains("dualwrite.capture.cdc.enabled=false");
                    });
        }
    }

    @Test
    void enabled_readsBothStoresLogs_mirrorsAnOutsideSourceWrite_andOnlyCountsATargetOneBeforeRamp() throws Exception {
        try (CdcMariaDb source = CdcMariaDb.create("cdc_boot");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "cdc_boot_t")) {
            org.junit.jupiter.api.Assumptions.assumeTrue("logical".equals(target.queryForObject("SHOW wal_level",
                    String.class)) || "true".equalsIgnoreCase(System.getenv("CI")), "the test PostgreSQL needs"
                    + " wal_level=logical for the target's reader");
            source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            String slot = target.name().toLowerCase(java.util.Locale.ROOT);
            try {
                runWithBothReaders(source, target, slot);
                runner(source.jdbcUrl(), source.username(), source.password(), target)
                        .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.server-id=7201",
                                "dualwrite.capture.cdc.target.slot-name=Not-A-Slot")
                        .run(context -> assertThat(new DualWriteFailureAnalyzer().analyze(context.getStartupFailure())
                                .getDescription()).contains("dualwrite.capture.cdc.target.slot-name: must be 1 to 63"
                                        + " lower-case letters"));
                runner(source.jdbcUrl(), source.username(), source.password(), target)
                        .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.server-id=7201",
                                "dualwrite.capture.cdc.target.slot-name=" + slot,
                                "dualwrite.capture.cdc.target.reader-name=default")
                        .run(context -> assertThat(new DualWriteFailureAnalyzer().analyze(context.getStartupFailure())
                                .getDescription()).contains("dualwrite.capture.cdc.target.reader-name: 'default' is"
                                        + " also dualwrite.capture.cdc.reader-name"));
            } finally {
                dropSlotAndPublication(target, slot);
            }
        }
    }

    private void runWithBothReaders(CdcMariaDb source, TestDatabase target, String slot) {
        runner(source.jdbcUrl(), source.username(), source.password(), target)
                .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.server-id=7201",
                        "dualwrite.capture.cdc.checkpoint-interval=100ms",
                        "dualwrite.capture.cdc.target.slot-name=" + slot,
                        "dualwrite.capture.cdc.target.publication-name=" + slot)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    BinlogCapture capture = context.getBean(BinlogCapture.class);
                    assertThat(capture.status().state()).isEqualTo(BinlogCapture.State.RUNNING);
                    try (Connection outside = source.connect(); Statement statement = outside.createStatement()) {
                        statement.executeUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                                + " gmt_modified) VALUES (42, 1, 'NEW', 3.00, 'outside', NOW(3))");
                    }
                    assertThat(capture.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
                    assertThat(context.getBean("dualWriteMirror", io.dualwrite.mirror.Mirror.class)
                            .awaitDrained(Duration.ofSeconds(30))).isTrue();
                    assertThat(target.queryForObject("SELECT note FROM t_order WHERE id = 42", String.class))
                            .isEqualTo("outside");
                    CdcStatus status = capture.status();
                    assertThat(status.keysHanded()).isEqualTo(1);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(context).hasSingleBean(io.dualwrite.metrics.CdcMetrics.class)
                            .hasBean("dualwriteCdcHealthIndicator");
                    // Spring Boot's metrics auto-configuration binds it to every registry; this runner has none.
                    context.getBean(io.dualwrite.metrics.CdcMetrics.class).bindTo(registry);
                    assertThat(registry.get(MeterNames.CDC_KEYS).tag("log", "source").functionCounter().count())
                            .isEqualTo(1.0);
                    assertThat(registry.get(MeterNames.CDC_RUNNING).tag("log", "source").gauge().value())
                            .isEqualTo(1.0);
                    assertThat(registry.get(MeterNames.CDC_RUNNING).tag("log", "target").gauge().value())
                            .isEqualTo(1.0);
                    var health = context.getBean("dualwriteCdcHealthIndicator",
                            org.springframework.boot.health.contributor.HealthIndicator.class).health();
                    assertThat(health.getStatus().getCode()).isEqualTo("UP");
                    assertThat(health.getDetails()).containsEntry("keysHanded", 1L);
                    assertThat(context.getBean(io.dualwrite.autoconfigure.actuate.DualWriteEndpoint.class).status())
                            .extractingByKey("cdc").asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                            .containsEntry("state", "RUNNING").containsEntry("keysHanded", 1L)
                            .containsKeys("logLagBytes", "applyLag");

                    // The target's reader: its own slot, running, shown beside the source's; before RAMP an
                    // outside write on the target is read and only counted.
                    ChangeLogCapture targetCapture = context.getBean(DualWriteCdcAutoConfiguration.TARGET_CAPTURE,
                            ChangeLogCapture.class);
                    assertThat(targetCapture).isInstanceOf(io.dualwrite.cdc.PgLogicalCapture.class);
                    assertThat(targetCapture.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM pg_replication_slots WHERE"
                            + " slot_name = ?", Long.class, slot)).isEqualTo(1L);
                    target.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (43, 1, 'NEW', 3.00, 'outside on target', LOCALTIMESTAMP(3))");
                    assertThat(targetCapture.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
                    assertThat(targetCapture.status().keysNotHanded()).isEqualTo(1);
                    assertThat(targetCapture.status().keysHanded()).isZero();
                    var targetHealth = context.getBean("dualwriteCdcTargetHealthIndicator",
                            org.springframework.boot.health.contributor.HealthIndicator.class).health();
                    assertThat(targetHealth.getStatus().getCode()).isEqualTo("UP");
                    assertThat(targetHealth.getDetails()).containsEntry("state", "RUNNING")
                            .containsEntry("keysNotHanded", 1L);
                    assertThat(context.getBean(io.dualwrite.autoconfigure.actuate.DualWriteEndpoint.class).status())
                            .extractingByKey("cdcTarget")
                            .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                            .containsEntry("state", "RUNNING").containsEntry("keysNotHanded", 1L);
                });
    }

    private static void dropSlotAndPublication(TestDatabase db, String slot) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                db.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                        + " WHERE slot_name = '" + slot + "'");
                break;
            } catch (RuntimeException active) {
                if (System.nanoTime() > deadline) {
                    throw active;
                }
                Thread.sleep(100);
            }
        }
        db.execute("DROP PUBLICATION IF EXISTS " + slot);
    }

    @Test
    void aPostgresSource_selectsLogicalDecoding_withTheNamedSlotAndPublication_andMirrorsAnOutsideWrite()
            throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.POSTGRESQL, "cdc_boot_pg");
                TestDatabase target = TestDatabase.create(Store.MARIADB, "cdc_boot_pg_t")) {
            String walLevel = source.queryForObject("SHOW wal_level", String.class);
            org.junit.jupiter.api.Assumptions.assumeTrue("logical".equals(walLevel)
                    || "true".equalsIgnoreCase(System.getenv("CI")), "the test PostgreSQL runs with wal_level="
                    + walLevel + "; DUALWRITE_PG_LOGICAL=yes .ci/start-databases.sh switches it to logical");
            source.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            target.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            String slot = source.name();
            try {
                runner(source.jdbcUrl(), source.username(), source.password(), target)
                        .withPropertyValues("dualwrite.capture.cdc.enabled=true",
                                "dualwrite.capture.cdc.target.enabled=false",
                                "dualwrite.capture.cdc.checkpoint-interval=100ms",
                                "dualwrite.capture.cdc.slot-name=" + slot,
                                "dualwrite.capture.cdc.publication-name=" + slot)
                        .run(context -> {
                            assertThat(context).hasNotFailed();
                            var capture = context.getBean(io.dualwrite.cdc.ChangeLogCapture.class);
                            assertThat(capture).isInstanceOf(io.dualwrite.cdc.PgLogicalCapture.class);
                            assertThat(capture.status().state())
                                    .isEqualTo(io.dualwrite.cdc.ChangeLogCapture.State.RUNNING);
                            assertThat(source.queryForObject("SELECT COUNT(*) FROM pg_replication_slots WHERE"
                                    + " slot_name = ?", Long.class, slot)).isEqualTo(1L);
                            assertThat(source.queryForObject("SELECT COUNT(*) FROM pg_publication_tables WHERE"
                                    + " pubname = ? AND tablename = 't_order'", Long.class, slot)).isEqualTo(1L);
                            try (Connection outside = java.sql.DriverManager.getConnection(source.jdbcUrl(),
                                    source.username(), source.password());
                                    Statement statement = outside.createStatement()) {
                                statement.executeUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                                        + " gmt_modified) VALUES (42, 1, 'NEW', 3.00, 'outside', LOCALTIMESTAMP(3))");
                            }
                            assertThat(capture.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
                            assertThat(context.getBean("dualWriteMirror", io.dualwrite.mirror.Mirror.class)
                                    .awaitDrained(Duration.ofSeconds(30))).isTrue();
                            assertThat(target.queryForObject("SELECT note FROM t_order WHERE id = 42", String.class))
                                    .isEqualTo("outside");
                            var health = context.getBean("dualwriteCdcHealthIndicator",
                                    org.springframework.boot.health.contributor.HealthIndicator.class).health();
                            assertThat(health.getStatus().getCode()).isEqualTo("UP");
                            assertThat(health.getDetails()).containsEntry("keysHanded", 1L);
                        });
                runner(source.jdbcUrl(), source.username(), source.password(), target)
                        .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.server-id=7203",
                                "dualwrite.capture.cdc.target.enabled=false", "dualwrite.capture.cdc.slot-name=" + slot)
                        .run(context -> {
                            var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                            assertThat(analysis.getDescription()).startsWith("dualwrite.capture.cdc.server-id: a"
                                    + " PostgreSQL source is read through a logical replication slot");
                        });
                // The target's reader is on by default: a MariaDB target needs its own replica id.
                runner(source.jdbcUrl(), source.username(), source.password(), target)
                        .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.slot-name=" + slot,
                                "dualwrite.capture.cdc.publication-name=" + slot)
                        .run(context -> {
                            var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                            assertThat(analysis.getDescription()).contains("dualwrite.capture.cdc.target.server-id");
                            assertThat(analysis.getAction()).contains("dualwrite.capture.cdc.target.enabled=false");
                        });
                // The context closed the capture; the slot is left for a restart, and dropped here by hand.
                assertThat(source.queryForObject("SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = ?",
                        Long.class, slot)).isEqualTo(1L);
            } finally {
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (true) {
                    try {
                        source.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                                + " WHERE slot_name = '" + slot + "'");
                        break;
                    } catch (RuntimeException active) {
                        if (System.nanoTime() > deadline) {
                            throw active;
                        }
                        Thread.sleep(100);
                    }
                }
                source.execute("DROP PUBLICATION IF EXISTS " + slot);
            }
        }
    }

    @Test
    void binaryLogOff_notRequired_startsWithoutCdc() {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "cdc_boot_off");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "cdc_boot_off_t")) {
            org.junit.jupiter.api.Assumptions.assumeFalse(
                    source.queryForObject("SELECT @@log_bin", Integer.class) == 1, "the shared MariaDB logs");
            source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            runner(source.jdbcUrl(), source.username(), source.password(), target)
                    .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.server-id=7202",
                            "dualwrite.capture.cdc.target.enabled=false", "dualwrite.capture.cdc.required=false")
                    .run(context -> {
                        assertThat(context).hasNotFailed();
                        CdcStatus status = context.getBean(BinlogCapture.class).status();
                        assertThat(status.state()).isEqualTo(BinlogCapture.State.DISABLED);
                        assertThat(status.problem()).contains("log_bin=OFF");
                    });
            runner(source.jdbcUrl(), source.username(), source.password(), target)
                    .withPropertyValues("dualwrite.capture.cdc.enabled=true", "dualwrite.capture.cdc.server-id=7202",
                            "dualwrite.capture.cdc.target.enabled=false")
                    .run(context -> {
                        assertThat(context).getFailure().rootCause()
                                .isInstanceOf(io.dualwrite.cdc.CdcUnavailableException.class)
                                .hasMessageContaining("the binary log is off (log_bin=OFF)");
                        var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                        assertThat(analysis.getDescription()).contains("log_bin=OFF");
                        assertThat(analysis.getAction()).contains("dualwrite.capture.cdc.required=false");
                    });
        }
    }

    /**
     * A sharded source ({@code dualwrite.source.shards.*}) with the capture on: the reader takes the server and user
     * of the home data source, and mirrors an outside write on a shard in the other database; a shard on another
     * server fails start-up naming the properties.
     */
    @Test
    void shardedSource_capturesEveryShardOfTheServer_andAShardElsewhereFailsStartUpNamingTheProperties()
            throws Exception {
        try (CdcMariaDb ds0 = CdcMariaDb.create("cdc_boot_sh0"); CdcMariaDb ds1 = CdcMariaDb.create("cdc_boot_sh1");
                TestDatabase elsewhere = TestDatabase.create(Store.MARIADB, "cdc_boot_sh2");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "cdc_boot_sh_t")) {
            ds0.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            ds1.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            elsewhere.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            shardedRunner(ds0, target, ds1.jdbcUrl(), ds1.username(), ds1.password()).run(context -> {
                assertThat(context).hasNotFailed();
                BinlogCapture capture = context.getBean(BinlogCapture.class);
                assertThat(capture.status().state()).isEqualTo(BinlogCapture.State.RUNNING);
                try (Connection outside = ds1.connect(); Statement statement = outside.createStatement()) {
                    statement.executeUpdate("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (43, 1, 'NEW', 3.00, 'outside, on ds_1', NOW(3))");
                }
                assertThat(capture.awaitCaughtUp(Duration.ofSeconds(30))).isTrue();
                assertThat(context.getBean("dualWriteMirror", io.dualwrite.mirror.Mirror.class)
                        .awaitDrained(Duration.ofSeconds(30))).isTrue();
                assertThat(target.queryForObject("SELECT note FROM t_order WHERE id = 43", String.class))
                        .isEqualTo("outside, on ds_1");
            });
            shardedRunner(ds0, target, elsewhere.jdbcUrl(), elsewhere.username(), elsewhere.password())
                    .run(context -> {
                        var analysis = new DualWriteFailureAnalyzer().analyze(context.getStartupFailure());
                        assertThat(analysis.getDescription()).startsWith("change-data capture of a sharded store:"
                                + " dualwrite.capture.cdc: shard ds_1.t_order of table 't_order' is in ")
                                .contains("dualwrite.source.shards.tables.t_order.nodes");
                        assertThat(analysis.getAction()).contains("dualwrite.capture.cdc.enabled=false");
                    });
        }
    }

    private static ApplicationContextRunner shardedRunner(CdcMariaDb home, TestDatabase target, String otherUrl,
            String otherUser, String otherPassword) {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        AopAutoConfiguration.class, DualWriteShardedSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class, DualWriteCdcAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + home.jdbcUrl(),
                        "spring.datasource.username=" + home.username(),
                        "spring.datasource.password=" + home.password(),
                        "dualwrite.source.shards.data-sources.ds_0.url=" + home.jdbcUrl(),
                        "dualwrite.source.shards.data-sources.ds_0.username=" + home.username(),
                        "dualwrite.source.shards.data-sources.ds_0.password=" + home.password(),
                        "dualwrite.source.shards.data-sources.ds_1.url=" + otherUrl,
                        "dualwrite.source.shards.data-sources.ds_1.username=" + otherUser,
                        "dualwrite.source.shards.data-sources.ds_1.password=" + (otherPassword == null ? ""
                                : otherPassword),
                        "dualwrite.source.shards.tables.t_order.nodes=ds_0.t_order, ds_1.t_order",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=" + target.username(),
                        "dualwrite.target.password=" + target.password(),
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true",
                        "dualwrite.phase=DUAL_WRITE", "dualwrite.capture.cdc.enabled=true",
                        "dualwrite.capture.cdc.server-id=7221", "dualwrite.capture.cdc.checkpoint-interval=100ms",
                        "dualwrite.capture.cdc.target.enabled=false");
    }
}
