package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Issue 16, item 2: a target outage longer than the retries last (here 30 times their whole back-off)
 * parked every key waiting in the queue or the outbox, leaving them to the reconciler. An unreachable
 * store costs the keys no attempt: the outage parks nothing, and everything is applied once it ends.
 */
class LongOutageTest {

    @ParameterizedTest(name = "{0}")
    @EnumSource(value = MirrorMode.class, names = {"ASYNC", "OUTBOX"})
    void targetDownFarLongerThanTheRetries_parksNothing_andConvergesWhenItIsBack(MirrorMode mode) throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "outage_src");
                TestDatabase target = TestDatabase.create(Store.H2, "outage_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            FailingDataSource failingTarget = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            // Two attempts, 10 then 20 ms apart: without the outage rule a key is parked within 50 ms.
            MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(2)
                    .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(20))
                    .outboxPollInterval(Duration.ofMillis(20)).createOutboxTable(true).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), failingTarget,
                    new EventPublisher())) {
                mirror.start();
                JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
                TransactionTemplate tx = new TransactionTemplate(new DataSourceTransactionManager(source.dataSource()));
                failingTarget.setDown(true);
                for (int id = 1; id <= 40; id++) {
                    long key = id;
                    tx.executeWithoutResult(status -> {
                        jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                                + " VALUES (?, 1, 'NEW', ?, NULL, ?)", key, BigDecimal.ONE,
                                new Timestamp(System.currentTimeMillis()));
                        mirror.recorder().record("t_order", key);
                    });
                }
                Thread.sleep(1_500);
                assertThat(failingTarget.refusals()).as("the mirror kept trying").isGreaterThan(10);
                assertThat(mirror.parked()).as("parked during the outage").isZero();

                failingTarget.setDown(false);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(15))).isTrue();
                assertThat(mirror.parked()).isZero();
            }
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        }
    }
}
