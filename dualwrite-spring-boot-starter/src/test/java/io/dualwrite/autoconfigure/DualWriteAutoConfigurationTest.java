package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.capture.DualWrite;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.RowTransformer;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.dualwrite.verify.ReconcileReport;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistry;
import io.micrometer.observation.tck.TestObservationRegistryAssert;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.Advisor;
import org.springframework.aop.framework.Advised;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.annotation.Transactional;
import org.springframework.transaction.interceptor.TransactionInterceptor;

/** The auto-configuration against two H2 databases: what it creates, what it honours, when it backs off. */
class DualWriteAutoConfigurationTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "boot_src");
        target = TestDatabase.create(Store.H2, "boot_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "orders"));
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    /** The application's own auto-configuration plus ours, with a mapped table and the library tables allowed. */
    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class, AopAutoConfiguration.class,
                        MetricsAutoConfiguration.class,
                        DualWriteAutoConfiguration.class, DualWriteMetricsAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=orders", "dualwrite.schema.create=true");
    }

    @Test
    void defaults_createEveryBean_andRouteTheApplicationsOwnDataSource() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).hasSingleBean(MappedTables.class).hasBean("dualWriteMirror")
                    .hasBean("dualWriteReverseMirror").hasBean("dualWriteChangeCapture")
                    .hasSingleBean(BackfillRunner.class).hasSingleBean(MigrationController.class)
                    .hasSingleBean(DualWriteAdvisor.class).hasSingleBean(RoutingKeyAdvisor.class)
                    .hasSingleBean(EventPublisher.class).hasSingleBean(ReconcileService.class);
            assertThat(context.getBean(ChangeRecorder.class)).isInstanceOf(PhaseGatedRecorder.class);
            DataSource application = context.getBean(DataSource.class);
            assertThat(application).isInstanceOf(DualWriteRoutingDataSource.class);
            assertThat(((DualWriteRoutingDataSource) application).source()).isInstanceOf(HikariDataSource.class)
                    .isNotSameAs(context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE));
            assertThat(context.getBean(JdbcTemplate.class).getDataSource()).isSameAs(application);
            assertThat(((DataSourceTransactionManager) context.getBean(PlatformTransactionManager.class))
                    .getDataSource()).as("transactions take routed connections").isSameAs(application);
            assertThat(context.getBean(Mirror.class).mode()).isEqualTo(MirrorMode.ASYNC);
            assertThat(context.getBean(DualWriteProperties.class).getPhase().name()).isEqualTo("SOURCE_ONLY");
        });
    }

    @Test
    void properties_areHonoured() {
        runner().withPropertyValues("dualwrite.mirror.mode=sync", "dualwrite.target.hikari.maximum-pool-size=3",
                "dualwrite.target.hikari.pool-name=orders-target", "dualwrite.tables.t_order.ignore-columns=note",
                "dualwrite.tables.t_order.columns.amount=amount")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(Mirror.class).mode()).isEqualTo(MirrorMode.SYNC);
                    HikariDataSource pool = context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE,
                            HikariDataSource.class);
                    assertThat(pool.getMaximumPoolSize()).isEqualTo(3);
                    assertThat(pool.getPoolName()).isEqualTo("orders-target");
                    assertThat(pool.getJdbcUrl()).isEqualTo(target.jdbcUrl());
                    var table = context.getBean(MappedTables.class).get("t_order");
                    assertThat(table.target().table().name()).isEqualToIgnoringCase("orders");
                    assertThat(table.source().columns()).doesNotContain("note");
                });
    }

    /**
     * Issue 18: the library's work now shows in traces. With an ObservationRegistry in the context, applies,
     * backfill chunks and reconcile chunks are observed through it; without one, nothing changes.
     */
    @Test
    void observations_goToTheContextsRegistry() {
        TestObservationRegistry registry = TestObservationRegistry.create();
        runner().withBean(ObservationRegistry.class, () -> registry)
                .withPropertyValues("dualwrite.mirror.mode=sync", "dualwrite.phase=DUAL_WRITE").run(context -> {
                    assertThat(context).hasNotFailed();
                    new JdbcTemplate(context.getBean(DataSource.class)).update("INSERT INTO t_order (id, user_id,"
                            + " status, gmt_modified) VALUES (1, 1, 'NEW', CURRENT_TIMESTAMP)");
                    context.getBean(ChangeRecorder.class).record("t_order", 1);
                    BackfillRunner backfill = context.getBean(BackfillRunner.class);
                    backfill.start("t_order");
                    assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
                    context.getBean(io.dualwrite.verify.Reconciler.class).run("t_order");

                    TestObservationRegistryAssert.assertThat(registry)
                            .hasObservationWithNameEqualTo(MeterNames.MIRROR_APPLY_OBSERVATION).that()
                            .hasLowCardinalityKeyValue("table", "t_order");
                    TestObservationRegistryAssert.assertThat(registry)
                            .hasObservationWithNameEqualTo(MeterNames.BACKFILL_CHUNK_OBSERVATION);
                    TestObservationRegistryAssert.assertThat(registry)
                            .hasObservationWithNameEqualTo(io.dualwrite.verify.VerifyMetrics.RECONCILE_CHUNK_OBSERVATION);
                });
    }

    /**
     * Issue 16, item 2: a SYNC apply ran in afterCommit on a second connection from the application's
     * pool while the caller still held its own; with the pool at its limit the caller waited the pool's
     * connection timeout and the change missed its SYNC apply. The library has its own source pool now.
     */
    @Test
    void syncApply_withTheApplicationsPoolExhausted_usesTheLibrarysOwnSourcePool() {
        runner().withPropertyValues("dualwrite.mirror.mode=sync", "dualwrite.phase=DUAL_WRITE",
                "spring.datasource.hikari.maximum-pool-size=1", "spring.datasource.hikari.connection-timeout=1500",
                "dualwrite.source.hikari.maximum-pool-size=2")
                .withUserConfiguration(OrderDaoConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    HikariDataSource library = context.getBean(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE,
                            HikariDataSource.class);
                    assertThat(library.getPoolName()).isEqualTo("dualwrite-source");
                    assertThat(library.getMaximumPoolSize()).isEqualTo(2);
                    assertThat(library.getJdbcUrl()).isEqualTo(source.jdbcUrl());

                    long started = System.nanoTime();
                    context.getBean(OrderDao.class).insert(1, "NEW");
                    Duration took = Duration.ofNanos(System.nanoTime() - started);

                    assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class))
                            .as("applied before the call returned (SYNC)").isEqualTo(1L);
                    assertThat(took).as("no wait for the application's only connection")
                            .isLessThan(Duration.ofMillis(1_500));
                });
    }

    /**
     * Issue 16, item 2: the mirror took its target connections from the target pool that requests
     * routed to the target use; with that pool saturated a SYNC apply waited for its connection timeout
     * and missed. The library has its own target pool now.
     */
    @Test
    void syncApply_withTheTargetPoolExhausted_usesTheLibrarysOwnTargetPool() {
        runner().withPropertyValues("dualwrite.mirror.mode=sync", "dualwrite.phase=DUAL_WRITE",
                "dualwrite.target.hikari.maximum-pool-size=1", "dualwrite.target.hikari.connection-timeout=1500",
                "dualwrite.target.library-hikari.maximum-pool-size=2")
                .withUserConfiguration(OrderDaoConfig.class)
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    HikariDataSource library = context.getBean(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE,
                            HikariDataSource.class);
                    assertThat(library.getPoolName()).isEqualTo("dualwrite-target-library");
                    assertThat(library.getMaximumPoolSize()).isEqualTo(2);
                    DataSource targetPool = context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE,
                            DataSource.class);
                    try (java.sql.Connection routedRequest = targetPool.getConnection()) {
                        long started = System.nanoTime();
                        context.getBean(OrderDao.class).insert(1, "NEW");
                        Duration took = Duration.ofNanos(System.nanoTime() - started);
                        assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class))
                                .as("applied before the call returned (SYNC)").isEqualTo(1L);
                        assertThat(took).as("no wait for the target pool's only connection")
                                .isLessThan(Duration.ofMillis(1_500));
                    }
                });
    }

    /**
     * Issue 16, item 2: the control store shared the target pool, so with that pool saturated (RAMP
     * traffic, the mirror's lanes) heartbeats waited for a connection, the lease lapsed, and the
     * instance held every request a step could move. It has a pool of its own now.
     */
    @Test
    void controlStore_withTheTargetPoolExhausted_keepsRenewingTheLease_onItsOwnPool() {
        runner().withPropertyValues("dualwrite.phase=DUAL_WRITE", "dualwrite.control.store=TABLE",
                "dualwrite.schema.create=true", "dualwrite.control.poll-interval=100ms",
                "dualwrite.target.hikari.maximum-pool-size=1", "dualwrite.target.hikari.connection-timeout=250")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    HikariDataSource control = context.getBean(DualWriteAutoConfiguration.CONTROL_DATA_SOURCE,
                            HikariDataSource.class);
                    assertThat(control.getPoolName()).isEqualTo("dualwrite-control");
                    assertThat(control.getMaximumPoolSize()).isEqualTo(2);
                    MigrationController controller = context.getBean(MigrationController.class);
                    DataSource targetPool = context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE,
                            DataSource.class);
                    try (java.sql.Connection held = targetPool.getConnection()) {
                        // The lease is five polls (500 ms); hold the target pool's only connection for three.
                        long until = System.nanoTime() + Duration.ofMillis(1_500).toNanos();
                        while (System.nanoTime() < until) {
                            assertThat(controller.leaseValid()).as("lease renewed while the target pool is full")
                                    .isTrue();
                            Thread.sleep(50);
                        }
                    }
                });
    }

    @Test
    void versionGuard_isOffByDefault_andOnWhereThePropertiesSaySo() {
        DualWriteProperties defaults = new DualWriteProperties();
        assertThat(DualWriteAutoConfiguration.mirrorConfig(defaults).versionGuard()).isFalse();
        DualWriteProperties guarded = new DualWriteProperties();
        guarded.getMirror().setVersionGuard(true);
        guarded.getBackfill().setVersionGuard(true);
        assertThat(DualWriteAutoConfiguration.mirrorConfig(guarded).versionGuard()).isTrue();
        Mirror mirror = org.mockito.Mockito.mock(Mirror.class);
        assertThat(DualWriteAutoConfiguration.backfillConfig(guarded, mirror).versionGuard()).isTrue();
        assertThat(DualWriteAutoConfiguration.backfillConfig(defaults, mirror).versionGuard()).isFalse();
    }

    @Test
    void backfillPostgresCopy_isOnByDefault_andOffWhereThePropertiesSaySo() {
        Mirror mirror = org.mockito.Mockito.mock(Mirror.class);
        DualWriteProperties defaults = new DualWriteProperties();
        assertThat(DualWriteAutoConfiguration.backfillConfig(defaults, mirror).postgresCopy()).isTrue();
        DualWriteProperties off = new DualWriteProperties();
        off.getBackfill().setPostgresCopy(false);
        assertThat(DualWriteAutoConfiguration.backfillConfig(off, mirror).postgresCopy()).isFalse();
    }

    @Test
    void backfillMariadbLoadData_isOnByDefault_andOffWhereThePropertiesSaySo() {
        Mirror mirror = org.mockito.Mockito.mock(Mirror.class);
        DualWriteProperties defaults = new DualWriteProperties();
        assertThat(DualWriteAutoConfiguration.backfillConfig(defaults, mirror).mariadbLoadData()).isTrue();
        DualWriteProperties off = new DualWriteProperties();
        off.getBackfill().setMariadbLoadData(false);
        assertThat(DualWriteAutoConfiguration.backfillConfig(off, mirror).mariadbLoadData()).isFalse();
        assertThat(DualWriteAutoConfiguration.backfillConfig(off, mirror).postgresCopy()).isTrue();
    }

    @Test
    void backfillReadAhead_isOnByDefault_andOffWhereThePropertiesSaySo() {
        Mirror mirror = org.mockito.Mockito.mock(Mirror.class);
        assertThat(DualWriteAutoConfiguration.backfillConfig(new DualWriteProperties(), mirror).readAhead()).isTrue();
        DualWriteProperties off = new DualWriteProperties();
        off.getBackfill().setReadAhead(false);
        assertThat(DualWriteAutoConfiguration.backfillConfig(off, mirror).readAhead()).isFalse();
    }

    @Test
    void targetUrl_getsTheDialectsBatchedWriteSettings() {
        assertThat(DualWriteAutoConfiguration.withBatchedWrites("jdbc:mariadb://db/orders"))
                .isEqualTo("jdbc:mariadb://db/orders?rewriteBatchedStatements=true");
        assertThat(DualWriteAutoConfiguration.withBatchedWrites("jdbc:postgresql://db/orders?ssl=true"))
                .isEqualTo("jdbc:postgresql://db/orders?ssl=true&reWriteBatchedInserts=true");
        assertThat(DualWriteAutoConfiguration.withBatchedWrites("jdbc:mariadb://db/o?rewriteBatchedStatements=false"))
                .isEqualTo("jdbc:mariadb://db/o?rewriteBatchedStatements=false");
    }

    @Test
    void transformerProperty_namesARowTransformerBean() {
        runner().withUserConfiguration(TransformerConfig.class)
                .withPropertyValues("dualwrite.tables.t_order.transformer=orderTransformer")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(MappedTables.class).get("t_order").mapping().transformer())
                            .containsSame(context.getBean("orderTransformer", RowTransformer.class));
                });
    }

    @Test
    void userBeans_replaceOurs() {
        runner().withUserConfiguration(UserBeans.class).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(ChangeRecorder.class)).isSameAs(UserBeans.RECORDER);
            assertThat(context.getBean(EventPublisher.class)).isSameAs(UserBeans.EVENTS);
        });
    }

    @Test
    void userTargetDataSource_replacesThePoolAndNeedsNoUrl() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class))
                .withBean(TestDatabase.class, () -> target)
                .withUserConfiguration(UserTarget.class)
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.tables.t_order.target-table=orders", "dualwrite.schema.create=true")
                .run(context -> {
                    assertThat(context).hasNotFailed().hasBean("dualWriteMirror");
                    assertThat(context.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE))
                            .isSameAs(target.dataSource());
                });
    }

    @Test
    void tableMappingBeans_areMappedBesideTheProperties() {
        source.execute(OrderTable.ddl(Store.H2, "t_refund"));
        target.execute(OrderTable.ddl(Store.H2, "t_refund"));
        runner().withBean(TableMapping.class, () -> TableMapping.builder("t_refund").build()).run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(MappedTables.class).contains("t_refund")).isTrue();
            assertThat(context.getBean(MappedTables.class).contains("t_order")).isTrue();
        });
    }

    @Test
    void disabled_backsOffEntirely() {
        runner().withPropertyValues("dualwrite.enabled=false").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context).doesNotHaveBean(Mirror.class).doesNotHaveBean(MappedTables.class)
                    .doesNotHaveBean(DualWriteAdvisor.class).doesNotHaveBean(DualWriteProperties.class)
                    .doesNotHaveBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE);
        });
    }

    @Test
    void noTarget_backsOffEntirely() {
        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(),
                        "dualwrite.tables.t_order.target-table=orders")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).doesNotHaveBean(Mirror.class).doesNotHaveBean(MappedTables.class);
                });
    }

    @Test
    void dualWriteAnnotation_runsInsideTheTransaction() {
        runner().withUserConfiguration(OrderDaoConfig.class).run(context -> {
            assertThat(context).hasNotFailed();
            OrderDao dao = context.getBean(OrderDao.class);
            List<Advisor> chain = List.of(((Advised) dao).getAdvisors());
            int transaction = indexOf(chain, TransactionInterceptor.class);
            int capture = chain.indexOf(context.getBean(DualWriteAdvisor.class));
            assertThat(transaction).isNotNegative();
            assertThat(capture).isGreaterThan(transaction);
        });
    }

    private static int indexOf(List<Advisor> chain, Class<?> adviceType) {
        for (int i = 0; i < chain.size(); i++) {
            if (adviceType.isInstance(chain.get(i).getAdvice())) {
                return i;
            }
        }
        return -1;
    }

    @Test
    void sourceOnly_capturesNothing_dualWrite_mirrorsTheAnnotatedWrite() {
        runner().withUserConfiguration(OrderDaoConfig.class).withPropertyValues("dualwrite.mirror.mode=SYNC")
                .run(context -> {
                    context.getBean(OrderDao.class).insert(1, "NEW");
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class)).isZero();
                });
        runner().withUserConfiguration(OrderDaoConfig.class)
                .withPropertyValues("dualwrite.mirror.mode=SYNC", "dualwrite.phase=dual-write")
                .run(context -> {
                    context.getBean(OrderDao.class).insert(2, "NEW");
                    context.getBean(ChangeRecorder.class).record("t_order", 1);
                    assertThat(target.queryForList("SELECT id FROM orders ORDER BY id"))
                            .extracting(row -> ((Number) row.get("id")).longValue()).containsExactly(1L, 2L);
                    MeterRegistry registry = context.getBean(MeterRegistry.class);
                    assertThat(registry.get(MeterNames.MIRROR_APPLIED).tag("table", "t_order")
                            .tag("operation", "upsert").counter().count()).isEqualTo(2.0);
                });
    }

    @Test
    void transparentCapture_mirrorsUnannotatedJdbcWrites_andRefusesWhatItCannotAttribute() {
        runner().withPropertyValues("dualwrite.mirror.mode=SYNC", "dualwrite.phase=DUAL_WRITE",
                "dualwrite.capture.transparent=true").run(context -> {
                    JdbcTemplate jdbc = context.getBean(JdbcTemplate.class);
                    org.springframework.transaction.support.TransactionTemplate transactions =
                            new org.springframework.transaction.support.TransactionTemplate(
                                    context.getBean(PlatformTransactionManager.class));
                    transactions.executeWithoutResult(status -> jdbc.update("INSERT INTO t_order (id, user_id, status,"
                            + " gmt_modified) VALUES (7, 1, 'NEW', CURRENT_TIMESTAMP)"));
                    jdbc.update("UPDATE t_order SET status = 'PAID' WHERE id = ?", 7);
                    assertThat(target.queryForObject("SELECT status FROM orders WHERE id = 7", String.class))
                            .isEqualTo("PAID");
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> jdbc.update("INSERT INTO t_order"
                            + " (id, user_id, status, gmt_modified) SELECT id + 100, user_id, status, gmt_modified"
                            + " FROM t_order"))
                            .hasMessageContaining("dualwrite.capture.unattributable=WARN");
                    assertThat(source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(1);
                });
    }

    @Test
    void reconcileCron_runsOnSchedule_andRepairs() {
        source.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 1, 'NEW', CURRENT_TIMESTAMP)");
        runner().withPropertyValues("dualwrite.phase=DUAL_WRITE", "dualwrite.verify.reconcile.cron=* * * * * *")
                .run(context -> {
                    VerifyStatus status = context.getBean(VerifyStatus.class);
                    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                    while (!status.lastReports().containsKey("t_order") && System.nanoTime() < deadline) {
                        Thread.sleep(50);
                    }
                    assertThat(status.lastReports().get("t_order").missingInTarget()).isEqualTo(1);
                    assertThat(status.lastReports().get("t_order").repaired()).isEqualTo(1);
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM orders WHERE id = 1", Long.class))
                            .isEqualTo(1);
                });
    }

    @Test
    void reconcile_ofATableAnotherInstanceIsReconciling_isSkippedNotFailed() {
        source.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 1, 'NEW', CURRENT_TIMESTAMP)");
        runner().withPropertyValues("dualwrite.phase=DUAL_WRITE").run(context -> {
            assertThat(context).hasNotFailed();
            target.execute("INSERT INTO dualwrite_reconcile_checkpoint_lease (table_name, owner, valid_until_ms)"
                    + " VALUES ('t_order', 'other-instance', " + (System.currentTimeMillis() + 60_000) + ")");
            ReconcileService service = context.getBean(ReconcileService.class);

            Map<String, Object> busy = service.run("t_order", false);

            assertThat(busy.get("t_order")).asString().startsWith("skipped: table 't_order' is being reconciled by"
                    + " other-instance");
            assertThat(context.getBean(VerifyStatus.class).lastReports()).doesNotContainKey("t_order");

            target.execute("UPDATE dualwrite_reconcile_checkpoint_lease SET valid_until_ms = 0");
            Map<String, Object> free = service.run("t_order", false);

            assertThat(free.get("t_order")).isInstanceOf(ReconcileReport.class);
            assertThat(((ReconcileReport) free.get("t_order")).missingInTarget()).isEqualTo(1);
        });
    }

    /** Issue 17: with {@code repair=false} a reconcile run issued INSERTs. A dry run writes nothing, ever. */
    @Test
    void reconcile_withRepairOff_reportsTheDifference_andWritesNothing() {
        source.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 1, 'NEW', CURRENT_TIMESTAMP)");
        runner().withPropertyValues("dualwrite.phase=DUAL_WRITE", "dualwrite.verify.reconcile.repair=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    Map<String, Object> result = context.getBean(ReconcileService.class).run("t_order", false);

                    ReconcileReport report = (ReconcileReport) result.get("t_order");
                    assertThat(report.missingInTarget()).isEqualTo(1);
                    assertThat(report.repaired()).isZero();
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class)).isZero();
                });
    }

    /**
     * Issue 17: a column the target computes differed on every row. {@code compare-ignore} leaves it out of the
     * reconciler's (and the double reads') comparison; the mirror never writes a generated column.
     */
    @Test
    void compareIgnore_leavesATargetComputedColumnOutOfTheComparison() {
        source.execute("ALTER TABLE t_order ADD COLUMN label VARCHAR(40)",
                "INSERT INTO t_order (id, user_id, status, gmt_modified, label) VALUES (1, 1, 'new', TIMESTAMP"
                        + " '2025-03-01 10:00:00', 'from the source')");
        target.execute("ALTER TABLE orders ADD COLUMN label VARCHAR(40) GENERATED ALWAYS AS (UPPER(status))",
                "INSERT INTO orders (id, user_id, status, gmt_modified) VALUES (1, 1, 'new', TIMESTAMP"
                        + " '2025-03-01 10:00:00')");
        runner().withPropertyValues("dualwrite.phase=DUAL_WRITE", "dualwrite.verify.reconcile.repair=false")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ReconcileReport report = (ReconcileReport) context.getBean(ReconcileService.class)
                            .run("t_order", false).get("t_order");
                    assertThat(report.different()).isEqualTo(1);
                });
        runner().withPropertyValues("dualwrite.phase=DUAL_WRITE", "dualwrite.verify.reconcile.repair=false",
                "dualwrite.tables.t_order.compare-ignore=label")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    ReconcileReport report = (ReconcileReport) context.getBean(ReconcileService.class)
                            .run("t_order", false).get("t_order");
                    assertThat(report.differences()).isZero();
                    assertThat(context.getBean(Mirror.class).repair("t_order", List.of(io.dualwrite.jdbc.RowKey.of(1L)),
                            Duration.ofSeconds(5))).isEmpty();
                    assertThat(target.queryForObject("SELECT label FROM orders", String.class)).isEqualTo("NEW");
                });
    }

    @Test
    void compareIgnore_ofAnUnknownColumn_failsStartUpNamingTheProperty() {
        runner().withPropertyValues("dualwrite.tables.t_order.compare-ignore=lable").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.tables.t_order.compare-ignore: column 'lable' does not exist in target table"
                                + " 'ORDERS'"));
    }

    @Test
    void backfillOrder_namingAnUnmappedTable_failsStartUpNamingTheProperty() {
        runner().withPropertyValues("dualwrite.backfill.order=t_customer,t_order").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.backfill.order: tables [t_customer] are not mapped; mapped tables: [t_order]"));
    }

    @Test
    void badCron_failsStartUpNamingTheKey() {
        runner().withPropertyValues("dualwrite.verify.reconcile.cron=every night").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.verify.reconcile.cron: 'every night' is not a cron expression"));
    }

    @Test
    void outbox_writesTheOutboxRowInTheApplicationsTransaction() {
        runner().withUserConfiguration(OrderDaoConfig.class)
                .withPropertyValues("dualwrite.mirror.mode=OUTBOX", "dualwrite.phase=DUAL_WRITE",
                        "dualwrite.mirror.outbox.poll-interval=50ms")
                .run(context -> {
                    OrderDao dao = context.getBean(OrderDao.class);
                    // A rolled-back write leaves no outbox row: the capture ran inside the transaction.
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> dao.insertThenFail(3))
                            .isInstanceOf(IllegalStateException.class);
                    assertThat(source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();
                    assertThat(source.queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class)).isZero();
                    dao.insert(4, "NEW");
                    assertThat(context.getBean(Mirror.class).awaitDrained(Duration.ofSeconds(10))).isTrue();
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class)).isEqualTo(1L);
                });
    }

    @Test
    void backfillAutoStart_copiesTheHistory() {
        JdbcTemplate history = new JdbcTemplate(source.dataSource());
        for (long id = 1; id <= 50; id++) {
            history.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'OLD', ?)", id,
                    new Timestamp(System.currentTimeMillis()));
        }
        runner().withPropertyValues("dualwrite.backfill.auto-start=true", "dualwrite.backfill.chunk-size=7",
                "dualwrite.backfill.min-chunk-size=5",
                "dualwrite.phase=DUAL_WRITE").run(context -> {
                    assertThat(context).hasNotFailed();
                    BackfillRunner backfill = context.getBean(BackfillRunner.class);
                    assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
                    assertThat(backfill.progress("t_order").status()).isEqualTo(BackfillStatus.DONE);
                    assertThat(OrderTable.differences(source, "t_order", target, "orders", "id")).isEmpty();
                });
    }

    @Test
    void backfillAutoStart_inRamp_startsNothingAndTheEndpointsStartIsRefused() {
        JdbcTemplate history = new JdbcTemplate(source.dataSource());
        for (long id = 1; id <= 20; id++) {
            history.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'OLD', ?)", id,
                    new Timestamp(System.currentTimeMillis()));
        }
        runner().withPropertyValues("dualwrite.backfill.auto-start=true", "dualwrite.phase=RAMP",
                "dualwrite.routing.percent=50", "dualwrite.routing.force-initial=true").run(context -> {
                    assertThat(context).hasNotFailed();
                    BackfillRunner backfill = context.getBean(BackfillRunner.class);
                    assertThat(backfill.progress("t_order").ranges()).as("no job planned").isZero();
                    org.assertj.core.api.Assertions.assertThatThrownBy(() -> backfill.start("t_order"))
                            .isInstanceOf(io.dualwrite.backfill.BackfillGate.Refused.class)
                            .hasMessageContaining("refused in phase RAMP");
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class)).isZero();
                });
    }

    @Test
    void rampFromProperties_onAFreshTarget_refusesToStartNamingTheGuardAndTheOverride() {
        runner().withPropertyValues("dualwrite.phase=RAMP", "dualwrite.routing.percent=50").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context.getStartupFailure()).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("dualwrite.phase=RAMP: the control store holds the initial setting")
                    .hasMessageContaining("the guards refuse it: ")
                    .hasMessageContaining("backfill")
                    .hasMessageContaining("dualwrite.routing.force-initial=true");
        });
        runner().withPropertyValues("dualwrite.phase=RAMP", "dualwrite.routing.percent=50",
                "dualwrite.routing.force-initial=true").run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(io.dualwrite.routing.MigrationController.class).rules().percent())
                            .isEqualTo(50);
                });
    }

    /** A DAO as applications write them: plain JdbcTemplate, transactional, annotated. */
    public static class OrderDao {

        private final JdbcTemplate jdbc;

        public OrderDao(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional
        @DualWrite(table = "t_order", key = "#id")
        public void insert(long id, String status) {
            jdbc.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 7, ?, ?)", id, status,
                    new Timestamp(System.currentTimeMillis()));
        }

        @Transactional
        @DualWrite(table = "t_order", key = "#id")
        public void insertThenFail(long id) {
            insert(id, "DOOMED");
            throw new IllegalStateException("the application's own failure after the write");
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class OrderDaoConfig {

        @Bean
        OrderDao orderDao(JdbcTemplate jdbc) {
            return new OrderDao(jdbc);
        }

        @Bean
        MeterRegistry meterRegistry() {
            return new SimpleMeterRegistry();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class UserBeans {

        static final ChangeRecorder RECORDER = (table, key) -> { };
        static final EventPublisher EVENTS = new EventPublisher();

        @Bean
        ChangeRecorder myRecorder() {
            return RECORDER;
        }

        @Bean
        EventPublisher myEvents() {
            return EVENTS;
        }
    }

    /** Brings its own target pool, the way the auto-configuration's Javadoc says. */
    @Configuration(proxyBeanMethods = false)
    static class UserTarget {

        @Bean(name = DualWriteAutoConfiguration.TARGET_DATA_SOURCE, defaultCandidate = false)
        DataSource myTarget(TestDatabase target) {
            return target.dataSource();
        }
    }

    @Configuration(proxyBeanMethods = false)
    static class TransformerConfig {

        @Bean
        RowTransformer orderTransformer() {
            return source -> Row.of(source.asMap());
        }
    }
}
