package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** {@link Mirror#repair}: the reconciler's way of bringing keys to the target through the locked apply. */
class MirrorRepairTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void repair_missingExtraAndChangedRows_makesTheStoresEqual(Store sourceStore, Store targetStore)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "repair_src");
                TestDatabase target = TestDatabase.create(targetStore, "repair_tgt")) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            for (long id = 1; id <= 3; id++) {
                source.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (" + id
                        + ", 7, 'PAID', TIMESTAMP '2025-03-01 10:00:00')");
            }
            target.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (2, 7, 'NEW',"
                    + " TIMESTAMP '2025-03-01 09:00:00')");
            target.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (9, 7, 'NEW',"
                    + " TIMESTAMP '2025-03-01 09:00:00')");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                    target.dataSource(), new EventPublisher())) {
                assertThat(mirror.repair("t_order", List.of(RowKey.of(1), RowKey.of(2), RowKey.of(9)),
                        Duration.ofSeconds(5))).isEmpty();

                assertThat(target.queryForList("SELECT id, status FROM t_order ORDER BY id").stream()
                        .map(row -> row.values().stream().map(String::valueOf).toList()))
                        .as("keys 1, 2 and 9 follow the source; key 3 was not asked for")
                        .containsExactly(List.of("1", "PAID"), List.of("2", "PAID"));
                assertThat(mirror.repair("t_order", List.of(RowKey.of(3)), Duration.ofSeconds(5))).isEmpty();
                assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
            }
        }
    }

    @Test
    void repair_keyHeldByAWriter_isReturnedAfterTheTimeoutAndAppliedOnceReleased() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "repair_lock_src");
                TestDatabase target = TestDatabase.create(Store.H2, "repair_lock_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            source.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (1, 7, 'PAID',"
                    + " TIMESTAMP '2025-03-01 10:00:00')");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            MirrorConfig config = MirrorConfig.builder().lockRetryDelay(Duration.ofMillis(20)).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                    new EventPublisher());
                    Connection writer = source.dataSource().getConnection()) {
                writer.setAutoCommit(false);
                try (Statement statement = writer.createStatement()) {
                    statement.executeUpdate("UPDATE t_order SET status = 'SHIPPED' WHERE id = 1");
                }

                assertThat(mirror.repair("t_order", List.of(RowKey.of(1)), Duration.ofMillis(300)))
                        .containsExactly(RowKey.of(1));
                assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();

                writer.commit();
                assertThat(mirror.repair("t_order", List.of(RowKey.of(1)), Duration.ofSeconds(5))).isEmpty();
                assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 1", String.class))
                        .isEqualTo("SHIPPED");
            }
        }
    }

    @Test
    void repair_unmappedTable_namesIt() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "repair_bad_src");
                TestDatabase target = TestDatabase.create(Store.H2, "repair_bad_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                    target.dataSource(), new EventPublisher())) {
                assertThatThrownBy(() -> mirror.repair("t_user", List.of(RowKey.of(1)), Duration.ofSeconds(1)))
                        .isInstanceOf(IllegalArgumentException.class)
                        .hasMessageContaining("table 't_user' is not mapped");
            }
        }
    }
}
