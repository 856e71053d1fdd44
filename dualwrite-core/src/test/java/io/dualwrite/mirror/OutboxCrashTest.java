package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.KeyKinds;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * DESIGN invariant 4: OUTBOX loses nothing when the JVM dies between commit and apply. The first
 * mirror records and commits but its relay never runs (the process "died"); a second mirror, as after
 * a restart, applies every committed change and nothing that was rolled back.
 */
class OutboxCrashTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void relayNeverRan_newRelayAppliesEverythingCommitted(Store sourceStore, Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "obx_src");
                TestDatabase target = TestDatabase.create(targetStore, "obx_tgt")) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).build();

            Mirror dying = Mirror.create(config, tables, source.dataSource(), target.dataSource(), new EventPublisher());
            source.execute(dying.outboxDdl().toArray(String[]::new));
            JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
            TransactionTemplate transactions = new TransactionTemplate(
                    new DataSourceTransactionManager(source.dataSource()));
            Timestamp now = new Timestamp(System.currentTimeMillis());
            for (int id = 1; id <= 120; id++) {
                long key = id;
                transactions.executeWithoutResult(status -> {
                    jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (?, ?, 'NEW', ?, NULL, ?)", key, key % 7, BigDecimal.valueOf(key, 2), now);
                    dying.recorder().record("t_order", key);
                });
            }
            transactions.executeWithoutResult(status -> {
                jdbc.update("DELETE FROM t_order WHERE id <= 10");
                dying.recorder().recordAll("t_order", List.of(1, 2, 3, 4, 5, 6, 7, 8, 9, 10));
            });
            transactions.executeWithoutResult(status -> {
                jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (999, 1, 'ROLLED_BACK', 1, NULL, ?)", now);
                dying.recorder().record("t_order", 999);
                status.setRollbackOnly();
            });
            // The process dies here: the first mirror was never started, so nothing was applied.
            assertThat(source.queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class)).isEqualTo(130L);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();

            Mirror restarted = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                    new EventPublisher());
            restarted.start();
            try {
                assertThat(restarted.awaitDrained(Duration.ofSeconds(30))).isTrue();
            } finally {
                restarted.close();
            }
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(110L);
            assertThat(source.queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class)).isZero();
        }
    }

    static Stream<Arguments> keyKinds() {
        return Stores.pairs().flatMap(pair -> Arrays.stream(KeyKinds.values())
                .map(kind -> Arguments.of(pair.get()[0], pair.get()[1], kind)));
    }

    /**
     * The same crash with keys that are not integers: the outbox stores them as JSON, so the restarted
     * relay reads text back for a uuid, a date, a timestamp or bytes, and must still find each row.
     */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("keyKinds")
    void relayNeverRan_keysThatAreNotIntegers_newRelayAppliesEverythingCommitted(Store sourceStore,
            Store targetStore, KeyKinds kind) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "obx_key_src");
                TestDatabase target = TestDatabase.create(targetStore, "obx_key_tgt")) {
            source.execute(kind.ddl(sourceStore, "t_key"));
            target.execute(kind.ddl(targetStore, "t_key"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").build()),
                    source.dataSource(), target.dataSource(), false);
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).build();

            Mirror dying = Mirror.create(config, tables, source.dataSource(), target.dataSource(), new EventPublisher());
            source.execute(dying.outboxDdl().toArray(String[]::new));
            JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
            TransactionTemplate transactions = new TransactionTemplate(
                    new DataSourceTransactionManager(source.dataSource()));
            Timestamp now = Timestamp.valueOf("2026-03-04 05:06:07.890");
            int rows = 20;
            kind.insertThenDeleteAndUpdate(sourceStore, source.dataSource(), "t_key", dying.recorder(), rows);
            transactions.executeWithoutResult(status -> {
                jdbc.update(kind.insert("t_key"), withNoteAndTime(kind.stored(sourceStore, rows), "rolled back", now));
                dying.recorder().record("t_key", kind.recorded(rows, 0));
                status.setRollbackOnly();
            });
            // The process dies here; a new process starts its relay.
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_key", Long.class)).isZero();

            Mirror restarted = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                    new EventPublisher());
            restarted.start();
            try {
                assertThat(restarted.awaitDrained(Duration.ofSeconds(30)))
                        .as(() -> "drained; outbox now " + outboxRows(source) + "; relay threads " + relayStacks())
                        .isTrue();
                assertThat(restarted.parked()).as("parked").isZero();
            } finally {
                restarted.close();
            }
            assertThat(kind.rows(target, "t_key")).isEqualTo(kind.rows(source, "t_key")).hasSize(rows - rows / 4);
            assertThat(source.queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class)).isZero();
        }
    }

    /** What is left in the outbox, for a failure message: why a relay did not drain it. */
    private static String outboxRows(TestDatabase source) {
        return source.queryForList("SELECT id, row_key, attempts, next_attempt_ms, parked, last_error"
                + " FROM dualwrite_outbox ORDER BY id").toString() + " at " + System.currentTimeMillis();
    }

    private static String relayStacks() {
        StringBuilder stacks = new StringBuilder();
        Thread.getAllStackTraces().forEach((thread, frames) -> {
            if (thread.getName().startsWith("dualwrite-outbox-relay")) {
                stacks.append('\n').append(thread.getName()).append(' ').append(thread.getState());
                for (StackTraceElement frame : frames) {
                    stacks.append("\n  at ").append(frame);
                }
            }
        });
        return stacks.toString();
    }

    private static Object[] withNoteAndTime(Object[] key, String note, Timestamp time) {
        Object[] values = Arrays.copyOf(key, key.length + 2);
        values[key.length] = note;
        values[key.length + 1] = time;
        return values;
    }
}
