package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.dualwrite.testing.UserTable;
import java.sql.Connection;
import java.sql.SQLIntegrityConstraintViolationException;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The batch writes of a table with a unique index besides its key. */
class TableOpsUniqueIndexTest {

    private static final Timestamp T = Timestamp.valueOf("2026-01-01 10:00:00.000");

    /**
     * {@code ON DUPLICATE KEY UPDATE} fires on any unique index: writing key 1 with the email key 2 holds
     * updated row 2 and reported success. Now the write fails, naming the table and the key, and the
     * caller's rollback leaves row 2 as it was.
     */
    @Test
    void mariaDbUpsert_ofANewKeyWhoseUniqueValueAnotherKeyHolds_failsInsteadOfUpdatingThatRow() throws Exception {
        try (TestDatabase db = TestDatabase.create(Store.MARIADB, "uq_ops")) {
            TableOps ops = users(db);
            db.execute("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'a', 'two', '2026-01-01 10:00:00')");
            try (Connection connection = db.dataSource().getConnection()) {
                connection.setAutoCommit(false);

                assertThatThrownBy(() -> ops.overwrite(connection, List.of(user(1, "a", "one"))))
                        .isInstanceOf(SQLIntegrityConstraintViolationException.class)
                        .hasMessageContaining("table 't_user'").hasMessageContaining("key 1 ")
                        .hasMessageContaining("[[email]]");
                assertThatThrownBy(() -> ops.upsert(connection, List.of(user(3, "a", "three"))))
                        .isInstanceOf(SQLIntegrityConstraintViolationException.class);
                connection.rollback();
            }
            assertThat(db.queryForList("SELECT id, email, name FROM t_user"))
                    .containsExactly(Map.of("id", 2L, "email", "a", "name", "two"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void uniqueValueHolders_findsTheRowsHoldingAnyValueOfTheRows(Store store) throws Exception {
        try (TestDatabase db = TestDatabase.create(store, "uq_ops")) {
            TableOps ops = users(db);
            try (Connection connection = db.dataSource().getConnection()) {
                ops.overwrite(connection, List.of(user(1, "a", "one"), user(2, "b", "two"), user(3, "c", "three")));

                List<Row> holders = ops.uniqueValueHolders(connection, List.of(user(7, "a", "x"), user(2, "b", "y"),
                        user(8, "z", "z")));

                assertThat(holders).extracting(ops::keyOf).containsExactlyInAnyOrder(RowKey.of(1L), RowKey.of(2L));
                Row holderOfB = holders.stream().filter(row -> ops.keyOf(row).equals(RowKey.of(2L))).findFirst()
                        .orElseThrow();
                assertThat(ops.sameUniqueValues(holderOfB, user(2, "b", "y"))).isTrue();
                assertThat(ops.sameUniqueValues(holderOfB, user(2, "c", "y"))).isFalse();
            }
        }
    }

    private static TableOps users(TestDatabase db) throws Exception {
        db.execute(UserTable.ddl(db.store(), "t_user"));
        try (Connection connection = db.dataSource().getConnection()) {
            TableMetadata table = TableMetadata.read(connection, "t_user").orElseThrow();
            return new TableOps(Dialect.of(connection), table, List.of("id", "email", "name", "gmt_modified"),
                    List.of("id"), "gmt_modified");
        }
    }

    private static Row user(long id, String email, String name) {
        return Row.of(Map.of("id", id, "email", email, "name", name, "gmt_modified", T));
    }
}
