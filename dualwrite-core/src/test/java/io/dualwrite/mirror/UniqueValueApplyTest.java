package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.dualwrite.testing.UserTable;
import java.sql.Connection;
import java.sql.Timestamp;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A unique index besides the key makes an upsert meet a row other than its own: MariaDB's
 * {@code ON DUPLICATE KEY UPDATE} then updates that other row, PostgreSQL and H2 refuse the write. Each
 * scenario moves a unique value from one key to another on the source and applies the keys in one batch
 * or one by one in either order (different keys travel on different lanes), and the stores must end
 * equal.
 */
class UniqueValueApplyTest {

    private static final Timestamp T1 = Timestamp.valueOf("2026-01-01 10:00:00.000");
    private static final Timestamp T2 = Timestamp.valueOf("2026-01-01 10:00:01.000");

    /**
     * Seen on real servers: one source transaction changes row 2's email 'a' to 'b' and inserts row 1
     * with 'a'. The apply writes row 1 first (key order); on MariaDB its upsert met row 2 through the
     * email index and overwrote it: the target ended {@code [2/b]}, reported applied, nothing parked.
     */
    @Test
    void postgresToMariaDb_valueMovedToANewKeyInOneTransaction_neverOverwritesTheHolder() throws Exception {
        try (Pair pair = new Pair(Store.POSTGRESQL, Store.MARIADB)) {
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'a', 'two', ?)", T1);
            pair.apply(2);
            pair.inOneTransaction(
                    "UPDATE t_user SET email = 'b', gmt_modified = '2026-01-01 10:00:01' WHERE id = 2",
                    "INSERT INTO t_user (id, email, name, gmt_modified) VALUES (1, 'a', 'one', '2026-01-01 10:00:01')");

            MirrorApplier.Outcome outcome = pair.apply(1, 2);

            assertThat(outcome.applied()).containsExactlyInAnyOrder(key(1), key(2));
            assertThat(pair.differences()).isEmpty();
            assertThat(pair.target.queryForList("SELECT id, email, name FROM t_user ORDER BY id")).hasSize(2);
        }
    }

    /** The negative control: without the look-up, the same batch fails on every store (MariaDB included). */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void withoutTheUniqueLookUp_theMovedValueFailsTheBatch(Store sourceStore, Store targetStore) throws Exception {
        try (Pair pair = new Pair(sourceStore, targetStore)) {
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'a', 'two', ?)", T1);
            pair.apply(2);
            pair.app.update("UPDATE t_user SET email = 'b', gmt_modified = ? WHERE id = 2", T2);
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (1, 'a', 'one', ?)", T2);
            pair.applier.resolveUniqueMovesForTesting(false);

            assertThatThrownBy(() -> pair.apply(1, 2)).isInstanceOf(java.sql.SQLException.class);
            assertThat(pair.differences()).as("nothing half-written").hasSize(2);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void valueMovedToANewKey_appliedInOneBatch_converges(Store sourceStore, Store targetStore) throws Exception {
        try (Pair pair = new Pair(sourceStore, targetStore)) {
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'a', 'two', ?)", T1);
            pair.apply(2);
            pair.app.update("UPDATE t_user SET email = 'b', gmt_modified = ? WHERE id = 2", T2);
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (1, 'a', 'one', ?)", T2);

            pair.apply(1, 2);

            assertThat(pair.differences()).isEmpty();
        }
    }

    /** The new holder's lane runs first: the old holder is not in its batch at all. */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void valueMovedToANewKey_newHolderAppliedAlone_converges(Store sourceStore, Store targetStore) throws Exception {
        try (Pair pair = new Pair(sourceStore, targetStore)) {
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'a', 'two', ?)", T1);
            pair.apply(2);
            pair.app.update("UPDATE t_user SET email = 'b', gmt_modified = ? WHERE id = 2", T2);
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (1, 'a', 'one', ?)", T2);

            assertThat(pair.apply(1).applied()).containsExactly(key(1));
            assertThat(pair.differences()).as("the old holder came along in the same target transaction").isEmpty();
            pair.apply(2);
            assertThat(pair.differences()).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void swappedValues_appliedOneKeyAtATimeOrTogether_converge(Store sourceStore, Store targetStore) throws Exception {
        try (Pair pair = new Pair(sourceStore, targetStore)) {
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (1, 'a', 'one', ?)", T1);
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'b', 'two', ?)", T1);
            pair.apply(1, 2);
            swap(pair, 1, 2, "a", "b");
            pair.apply(2);
            assertThat(pair.differences()).isEmpty();
            swap(pair, 1, 2, "b", "a");
            pair.apply(1, 2);
            assertThat(pair.differences()).isEmpty();
        }
    }

    /** 1 takes 2's value, 2 takes 3's, 3 takes a fresh one; only key 1 is applied. */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void chainOfMovedValues_firstKeyAppliedAlone_bringsTheWholeChain(Store sourceStore, Store targetStore)
            throws Exception {
        try (Pair pair = new Pair(sourceStore, targetStore)) {
            for (int id = 1; id <= 3; id++) {
                pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (?, ?, 'n', ?)", id,
                        "e" + id, T1);
            }
            pair.apply(1, 2, 3);
            pair.app.update("UPDATE t_user SET email = 'e4', gmt_modified = ? WHERE id = 3", T2);
            pair.app.update("UPDATE t_user SET email = 'e3', gmt_modified = ? WHERE id = 2", T2);
            pair.app.update("UPDATE t_user SET email = 'e2', gmt_modified = ? WHERE id = 1", T2);

            assertThat(pair.apply(1).applied()).containsExactly(key(1));

            assertThat(pair.differences()).isEmpty();
        }
    }

    /** The old holder is gone from the source, and its delete has not been applied yet. */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void valueOfADeletedRowTakenByANewKey_newKeyAppliedAlone_converges(Store sourceStore, Store targetStore)
            throws Exception {
        try (Pair pair = new Pair(sourceStore, targetStore)) {
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (1, 'a', 'one', ?)", T1);
            pair.apply(1);
            pair.app.update("DELETE FROM t_user WHERE id = 1");
            pair.app.update("INSERT INTO t_user (id, email, name, gmt_modified) VALUES (2, 'a', 'two', ?)", T2);

            assertThat(pair.apply(2).applied()).containsExactly(key(2));

            assertThat(pair.differences()).isEmpty();
        }
    }

    private static void swap(Pair pair, long x, long y, String xValue, String yValue) throws Exception {
        pair.inOneTransaction(
                "UPDATE t_user SET email = 'tmp' WHERE id = " + x,
                "UPDATE t_user SET email = '" + xValue + "' WHERE id = " + y,
                "UPDATE t_user SET email = '" + yValue + "', name = 'swapped' WHERE id = " + x);
    }

    private static RowKey key(long id) {
        return RowKey.of(id);
    }

    /** A source and a target with t_user, mapped one to one. */
    private static final class Pair implements AutoCloseable {
        final TestDatabase source;
        final TestDatabase target;
        final JdbcTemplate app;
        final MappedTable table;
        final MirrorApplier applier;

        Pair(Store sourceStore, Store targetStore) throws Exception {
            source = TestDatabase.create(sourceStore, "uq_src");
            target = TestDatabase.create(targetStore, "uq_tgt");
            source.execute(UserTable.ddl(sourceStore, "t_user"));
            target.execute(UserTable.ddl(targetStore, "t_user"));
            app = new JdbcTemplate(source.dataSource());
            table = MappedTables.resolve(List.of(TableMapping.builder("t_user").build()), source.dataSource(),
                    target.dataSource(), false).get("t_user");
            applier = new MirrorApplier(source.dataSource(), target.dataSource());
        }

        MirrorApplier.Outcome apply(long... ids) throws Exception {
            MirrorApplier.Outcome outcome = applier.apply(table, Arrays.stream(ids).mapToObj(RowKey::of).toList());
            assertThat(outcome.deferred()).as("deferred keys").isEmpty();
            return outcome;
        }

        void inOneTransaction(String... statements) throws Exception {
            try (Connection connection = source.dataSource().getConnection()) {
                connection.setAutoCommit(false);
                for (String sql : statements) {
                    try (var statement = connection.createStatement()) {
                        statement.executeUpdate(sql);
                    }
                }
                connection.commit();
            }
        }

        List<String> differences() {
            return OrderTable.differences(source, "t_user", target, "t_user", "id");
        }

        @Override
        public void close() {
            target.close();
            source.close();
        }
    }
}
