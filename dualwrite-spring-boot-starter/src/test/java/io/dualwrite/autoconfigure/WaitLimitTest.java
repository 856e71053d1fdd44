package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.autoconfigure.aop.AopAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration;
import org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration;

/**
 * {@code dualwrite.wait-limit} (issue 16, item 2): the one bound on every wait the library imposes on an
 * application thread. The timeouts of those waits default to it, and start-up refuses one set above it,
 * naming both properties.
 */
class WaitLimitTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "wait_src");
        target = TestDatabase.create(Store.H2, "wait_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DataSourceTransactionManagerAutoConfiguration.class, TransactionAutoConfiguration.class,
                        JdbcTemplateAutoConfiguration.class, AopAutoConfiguration.class,
                        DualWriteAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.tables.t_order.target-table=t_order", "dualwrite.schema.create=true");
    }

    @Test
    void defaults_boundEveryApplicationThreadWaitByTwoSeconds() {
        runner().run(context -> {
            assertThat(context).hasNotFailed();
            DualWriteProperties properties = context.getBean(DualWriteProperties.class);
            assertThat(properties.getWaitLimit()).isEqualTo(Duration.ofSeconds(2));
            assertThat(DualWriteAutoConfiguration.holdTimeout(properties)).isEqualTo(Duration.ofSeconds(2));
            assertThat(DualWriteAutoConfiguration.mirrorConfig(properties).applyTimeout())
                    .isEqualTo(Duration.ofSeconds(2));
            assertThat(context.getBean(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE, HikariDataSource.class)
                    .getConnectionTimeout()).isEqualTo(2_000);
        });
    }

    @Test
    void sync_libraryPoolsWaitAtMostTheWaitLimitForAConnection() {
        runner().withPropertyValues("dualwrite.mirror.mode=SYNC", "dualwrite.wait-limit=1500ms").run(context -> {
            assertThat(context).hasNotFailed();
            assertThat(context.getBean(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE, HikariDataSource.class)
                    .getConnectionTimeout()).isEqualTo(1_500);
            assertThat(context.getBean(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE, HikariDataSource.class)
                    .getConnectionTimeout()).isEqualTo(1_500);
        });
    }

    @Test
    void holdTimeoutAboveTheWaitLimit_failsStartUpNamingBoth() {
        runner().withPropertyValues("dualwrite.routing.hold-timeout=10s").run(context -> {
            assertThat(context).hasFailed();
            assertThat(context).getFailure().rootCause().hasMessageStartingWith(
                    "dualwrite.routing.hold-timeout (PT10S) exceeds dualwrite.wait-limit (PT2S): ")
                    .hasMessageContaining("Lower dualwrite.routing.hold-timeout or raise dualwrite.wait-limit");
        });
    }

    @Test
    void syncTimeoutAboveTheWaitLimit_failsStartUpNamingBoth() {
        runner().withPropertyValues("dualwrite.mirror.mode=SYNC", "dualwrite.mirror.sync-timeout=3s").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.mirror.sync-timeout (PT3S) exceeds dualwrite.wait-limit (PT2S)"));
    }

    @Test
    void applyTimeoutAboveTheWaitLimit_failsStartUpNamingBoth() {
        runner().withPropertyValues("dualwrite.mirror.apply-timeout=10s").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.mirror.apply-timeout (PT10S) exceeds dualwrite.wait-limit (PT2S)"));
    }

    @Test
    void sourcePoolConnectionTimeoutAboveTheWaitLimit_failsStartUpNamingBoth() {
        runner().withPropertyValues("dualwrite.source.hikari.connection-timeout=5000").run(context ->
                assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.source.hikari.connection-timeout (5000 ms) exceeds dualwrite.wait-limit (PT2S)"));
    }

    @Test
    void syncWithLibraryTargetPoolConnectionTimeoutAboveTheWaitLimit_failsStartUpNamingBoth() {
        runner().withPropertyValues("dualwrite.mirror.mode=SYNC",
                "dualwrite.target.library-hikari.connection-timeout=30000")
                .run(context -> assertThat(context).getFailure().hasStackTraceContaining(
                        "dualwrite.target.library-hikari.connection-timeout (30000 ms) exceeds dualwrite.wait-limit"
                        + " (PT2S)"));
    }

    @Test
    void syncWithTheTargetPoolsOwnConnectionTimeout_starts_forTheMirrorDoesNotUseIt() {
        runner().withPropertyValues("dualwrite.mirror.mode=SYNC", "dualwrite.target.hikari.connection-timeout=30000")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void asyncWithTheTargetPoolsOwnConnectionTimeout_starts() {
        runner().withPropertyValues("dualwrite.target.hikari.connection-timeout=30000")
                .run(context -> assertThat(context).hasNotFailed());
    }

    @Test
    void nonPositiveWaitLimit_failsStartUpNamingIt() {
        runner().withPropertyValues("dualwrite.wait-limit=0s").run(context ->
                assertThat(context).getFailure()
                        .hasStackTraceContaining("dualwrite.wait-limit: must be positive, was PT0S"));
    }

    @Test
    void higherWaitLimit_allowsLongerTimeouts() {
        runner().withPropertyValues("dualwrite.wait-limit=10s", "dualwrite.routing.hold-timeout=10s",
                "dualwrite.mirror.apply-timeout=10s", "dualwrite.source.hikari.connection-timeout=5000")
                .run(context -> assertThat(context).hasNotFailed());
    }
}
