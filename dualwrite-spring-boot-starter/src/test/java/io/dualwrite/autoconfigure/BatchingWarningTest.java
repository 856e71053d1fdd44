package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/**
 * Issue 18: the start-up warning about batching settings printed the source's URL as "dualwrite target URL"
 * (it came from the reverse mirror, which writes the source) and advised {@code
 * Dialect.withRecommendedProperties(url)}, which a Boot user cannot call. It now names the store and the
 * property to change.
 */
class BatchingWarningTest {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
        {
            list = new CopyOnWriteArrayList<>();
        }
    };
    private final Logger logger = (Logger) LoggerFactory.getLogger(Mirror.class);
    private TestDatabase source;
    private TestDatabase target;

    @AfterEach
    void release() {
        logger.detachAppender(appender);
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    @Test
    void mariadbSourceWithoutBatching_isNamedAsTheSource_withItsBootProperty() {
        source = TestDatabase.create(Store.MARIADB, "batch_src");
        target = TestDatabase.create(Store.POSTGRESQL, "batch_tgt");
        source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
        target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
        assertThat(source.jdbcUrl()).doesNotContain("rewriteBatchedStatements");
        appender.start();
        logger.addAppender(appender);

        new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        DualWriteAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(),
                        "spring.datasource.username=" + source.username(),
                        "spring.datasource.password=" + source.password(),
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=" + target.username(),
                        "dualwrite.target.password=" + target.password(), "dualwrite.tables.t_order.target-table=t_order",
                        "dualwrite.schema.create=true")
                .run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context).hasBean("dualWriteReverseMirror");
                });

        List<String> warnings = appender.list.stream().filter(e -> e.getLevel() == Level.WARN)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains("batching settings")).toList();
        assertThat(warnings).singleElement().asString()
                .startsWith("dualwrite: the source store's JDBC URL jdbc:mariadb:").contains("dw_batch_src_")
                .contains("lacks the batching settings {rewriteBatchedStatements=true}, so the reverse mirror's writes"
                        + " to the source (target-routed writes carried back during RAMP) will be several times slower."
                        + " Add them to spring.datasource.url: jdbc:mariadb:")
                .contains("rewriteBatchedStatements=true")
                .doesNotContain("target URL").doesNotContain("Dialect.withRecommendedProperties");
    }
}
