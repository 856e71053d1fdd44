package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Timestamp;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.SingleConnectionDataSource;

/**
 * Issue 15, item 7: the library's connections go back to a pool that resets nothing (here Spring's
 * {@link SingleConnectionDataSource}, which hands out one connection again and again) with the settings
 * they came out with. Before, the mirror's source connection came back in manual-commit mode at READ
 * COMMITTED, and the application's next write on it waited for a commit that never came.
 */
class RestoringDataSourceTest {

    @ParameterizedTest
    @EnumSource(Store.class)
    void closedConnection_hasItsSettingsBack_andWhatWasOpenIsRolledBack(Store store) throws Exception {
        try (TestDatabase db = TestDatabase.create(store, "restore")) {
            db.execute(OrderTable.ddl(store, "t_order"));
            try (Connection raw = db.dataSource().getConnection()) {
                raw.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                SingleConnectionDataSource pool = new SingleConnectionDataSource(raw, true);

                try (Connection borrowed = RestoringDataSource.of(pool).getConnection()) {
                    borrowed.setAutoCommit(false);
                    borrowed.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                    try (PreparedStatement insert = borrowed.prepareStatement("INSERT INTO t_order"
                            + " (id, user_id, status, gmt_modified) VALUES (1, 1, 'NEW', ?)")) {
                        insert.setTimestamp(1, new Timestamp(System.currentTimeMillis()));
                        insert.executeUpdate();
                    }
                }

                assertThat(raw.getAutoCommit()).isTrue();
                assertThat(raw.getTransactionIsolation()).isEqualTo(Connection.TRANSACTION_SERIALIZABLE);
                assertThat(db.queryForObject("SELECT COUNT(*) FROM t_order", Long.class))
                        .as("the unfinished transaction was rolled back, not committed by the switch").isZero();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void mirrorApply_returnsTheSourceConnectionAsItCame(Store store) throws Exception {
        Store targetStore = store == Store.H2 ? Store.H2 : store == Store.MARIADB ? Store.POSTGRESQL : Store.MARIADB;
        try (TestDatabase source = TestDatabase.create(store, "restore_src");
                TestDatabase target = TestDatabase.create(targetStore, "restore_tgt")) {
            source.execute(OrderTable.ddl(store, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            try (Connection raw = source.dataSource().getConnection()) {
                raw.setTransactionIsolation(Connection.TRANSACTION_SERIALIZABLE);
                SingleConnectionDataSource pool = new SingleConnectionDataSource(raw, true);
                MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), pool,
                        target.dataSource(), false);
                new JdbcTemplate(source.dataSource()).update("INSERT INTO t_order (id, user_id, status, gmt_modified)"
                        + " VALUES (1, 1, 'NEW', ?)", new Timestamp(System.currentTimeMillis()));
                try (Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables, pool,
                        target.dataSource(), new EventPublisher())) {
                    mirror.start();
                    mirror.recorder().record("t_order", 1);
                }

                assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 1", String.class))
                        .isEqualTo("NEW");
                assertThat(raw.getAutoCommit()).as("autocommit").isTrue();
                assertThat(raw.getTransactionIsolation()).as("isolation")
                        .isEqualTo(Connection.TRANSACTION_SERIALIZABLE);
            }
        }
    }
}
