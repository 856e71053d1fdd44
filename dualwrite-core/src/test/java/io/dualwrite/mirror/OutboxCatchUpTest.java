package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.Change;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * OUTBOX catching up after the target was away (issue 19 item 4: 9.5k outbox rows for 200 keys took 9.3 s
 * to catch up where ASYNC took 0.5 s). A hot key changed many times has many outbox rows; the relay applies
 * it once and deletes them all, rather than once per batch the rows are spread over. And the relay finds the
 * target back within a second, rather than putting every row off by the longest back-off.
 */
class OutboxCatchUpTest {

    private static final int KEYS = 5;
    private static final int CHANGES_PER_KEY = 20;

    @ParameterizedTest(name = "source {0}")
    @EnumSource(value = Store.class, names = {"H2", "MARIADB", "POSTGRESQL"})
    void rowsOfOneKeySpreadOverManyBatches_areAppliedOnce_andAllDeleted(Store sourceStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "coalesce_src");
                TestDatabase target = TestDatabase.create(Store.H2, "coalesce_tgt")) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            for (int id = 1; id <= KEYS; id++) {
                source.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES ("
                        + id + ", 7, 'PAID', 10.00, 'n', CURRENT_TIMESTAMP)");
            }
            // The outbox as an outage leaves it: the keys' changes interleaved, as many rows as batches hold.
            OutboxStore outbox = new OutboxStore(Dialect.of(source.dataSource()), "dualwrite_outbox");
            try (Connection connection = source.dataSource().getConnection()) {
                outbox.create(connection);
                assertThat(outbox.hasKeyIndex(connection)).as("key index made with the table").isTrue();
                List<Change> changes = new ArrayList<>();
                for (int round = 0; round < CHANGES_PER_KEY; round++) {
                    for (long id = 1; id <= KEYS; id++) {
                        changes.add(new Change("t_order", RowKey.of(id)));
                    }
                }
                outbox.insert(connection, changes, System.currentTimeMillis());
                if (!connection.getAutoCommit()) {
                    connection.commit();
                }
            }
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            AtomicInteger applies = new AtomicInteger();
            EventPublisher events = new EventPublisher().subscribe(event -> {
                if (event instanceof DualWriteEvent.ChangesApplied applied) {
                    applies.addAndGet(applied.lags().size());
                }
            });
            // Ten rows a batch, and up to 100 more of its keys: one claim takes all 100 rows, where without
            // coalescing 10 batches of two rows per key make 50 applies.
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).outboxBatchSize(10)
                    .outboxPollInterval(Duration.ofMillis(50)).createOutboxTable(true).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(), events)) {
                mirror.start();
                assertThat(mirror.awaitDrained(Duration.ofSeconds(15))).as("drained").isTrue();
            }

            assertThat(applies.get()).as("applies for %d keys changed %d times each", KEYS, CHANGES_PER_KEY)
                    .isEqualTo(KEYS);
            assertThat(source.queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class)).isZero();
            assertThat(OrderTable.differences(source, "t_order", target, "t_order")).isEmpty();
        }
    }

    /**
     * Rows the relay could not apply because the target was away stay due, and the relay looks for the target
     * again within a second: they were once put off by the longest back-off (30 s by default), so a blip of
     * the target cost OUTBOX half a minute of lag.
     */
    @Test
    void afterAnOutage_theRelayCatchesUpWithinASecondOrTwo_notAfterTheLongestBackOff() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "catchup_src");
                TestDatabase target = TestDatabase.create(Store.H2, "catchup_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            FailingDataSource reachable = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), reachable, false);
            AtomicInteger failures = new AtomicInteger();
            EventPublisher events = new EventPublisher().subscribe(event -> {
                if (event instanceof DualWriteEvent.ApplyFailed) {
                    failures.incrementAndGet();
                }
            });
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).maxBackoff(Duration.ofSeconds(30))
                    .outboxPollInterval(Duration.ofMillis(50)).createOutboxTable(true).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), reachable, events)) {
                mirror.start();
                reachable.setDown(true);
                TransactionTemplate transactions = new TransactionTemplate(
                        new DataSourceTransactionManager(source.dataSource()));
                for (int id = 1; id <= KEYS; id++) {
                    int key = id;
                    transactions.executeWithoutResult(status -> {
                        source.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES ("
                                + key + ", 7, 'PAID', 10.00, 'n', CURRENT_TIMESTAMP)");
                        mirror.recorder().record("t_order", key);
                    });
                }
                Thread.sleep(1_500);
                assertThat(failures.get()).as("applies that found the target away").isPositive();
                reachable.setDown(false);

                assertThat(mirror.awaitDrained(Duration.ofSeconds(5))).as("drained within 5 s of the return").isTrue();
            }
            assertThat(OrderTable.differences(source, "t_order", target, "t_order")).isEmpty();
        }
    }

    /** An outbox table from before the key index gets it at start-up when the library may create its tables. */
    @Test
    void outboxTableWithoutTheKeyIndex_getsItAtStartUp() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "coalesce_old_src");
                TestDatabase target = TestDatabase.create(Store.H2, "coalesce_old_tgt")) {
            source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            OutboxStore outbox = new OutboxStore(Dialect.of(source.dataSource()), "dualwrite_outbox");
            String tableOnly = outbox.ddl().substring(0, outbox.ddl().indexOf(';'));
            source.execute(tableOnly);
            try (Connection connection = source.dataSource().getConnection()) {
                assertThat(outbox.hasKeyIndex(connection)).isFalse();
            }
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).createOutboxTable(true).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                    new EventPublisher())) {
                mirror.start();
            }
            try (Connection connection = source.dataSource().getConnection()) {
                assertThat(outbox.hasKeyIndex(connection)).isTrue();
            }
        }
    }
}
