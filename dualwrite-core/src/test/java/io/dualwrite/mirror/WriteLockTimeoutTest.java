package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

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
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * During RAMP the store a mirror writes also takes application writes. A mirror write that meets an
 * application's row lock gives way after {@link MirrorConfig#writeLockTimeout()} and is retried, rather
 * than wait without bound (PostgreSQL's default) in what could be a wait cycle across the two stores;
 * and the bound never leaks to the pool's next user.
 */
class WriteLockTimeoutTest {

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.MARIADB, Store.POSTGRESQL), Arguments.of(Store.POSTGRESQL, Store.MARIADB));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void writeMeetingAnApplicationLock_givesWayAndLeavesThePoolClean(Store sourceStore, Store targetStore)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "wlt_src");
                TestDatabase target = TestDatabase.create(targetStore, "wlt_tgt")) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            String row = "INSERT INTO t_order VALUES (1, 10, 'NEW', 1.00, 'x', CURRENT_TIMESTAMP)";
            source.execute(row);
            target.execute(row);
            source.execute("UPDATE t_order SET status = 'PAID' WHERE id = 1");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            String defaultTimeout = currentLockTimeout(target);
            try (Mirror mirror = Mirror.create(MirrorConfig.builder().writeLockTimeout(Duration.ofSeconds(1)).build(),
                    tables, source.dataSource(), target.dataSource(), new EventPublisher());
                    Connection application = target.dataSource().getConnection()) {
                application.setAutoCommit(false);
                try (Statement statement = application.createStatement()) {
                    statement.executeUpdate("UPDATE t_order SET note = 'held by the application' WHERE id = 1");
                }

                // Without the bound, PostgreSQL waits for ever: the timeout turns that hang into a failure.
                MirrorApplier.Outcome outcome = org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(
                        Duration.ofSeconds(15),
                        () -> mirror.applier().apply(tables.get("t_order"), List.of(RowKey.of(1L))));

                assertThat(outcome.deferred()).as("gave way to the application's lock").containsExactly(RowKey.of(1L));
                application.rollback();
                assertThat(mirror.applier().apply(tables.get("t_order"), List.of(RowKey.of(1L))).applied())
                        .containsExactly(RowKey.of(1L));
            }
            assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 1", String.class)).isEqualTo("PAID");
            for (int i = 0; i < 3; i++) {
                assertThat(currentLockTimeout(target)).as("pooled connection %d", i).isEqualTo(defaultTimeout);
            }
        }
    }

    private static String currentLockTimeout(TestDatabase db) {
        String sql = db.store() == Store.POSTGRESQL ? "SHOW lock_timeout" : "SELECT @@SESSION.innodb_lock_wait_timeout";
        List<Map<String, Object>> rows = db.queryForList(sql);
        return String.valueOf(rows.get(0).values().iterator().next());
    }
}
