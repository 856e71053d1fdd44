package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dualwrite.testing.Store;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.support.GeneratedKeyHolder;
import org.springframework.jdbc.support.KeyHolder;

/**
 * Every statement form, single and batched, through JdbcTemplate (in a Spring transaction) and raw
 * JDBC (autocommit on and off): the captured keys are exactly the rows written, and after commit the
 * SYNC mirror has made the target equal to the source.
 */
class CapturingDataSourceTest {

    private CaptureFixture f;

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
    }

    private CaptureFixture fixture(Store source, Store target) throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        return f;
    }

    private static Timestamp now() {
        return new Timestamp(System.currentTimeMillis());
    }

    private static final String INSERT = "INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, ?, ?, ?)";

    // --- INSERT --------------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void insert_singleAndBatchedAndMultiRow_capturesEveryInsertedKey(Store source, Store target) throws Exception {
        fixture(source, target);
        f.tx.executeWithoutResult(s -> {
            f.jdbc.update(INSERT, 1, 10, "NEW", now());
            f.jdbc.batchUpdate(INSERT, List.of(new Object[] {2, 10, "NEW", now()}, new Object[] {3, 11, "NEW", now()}));
            f.jdbc.update("INSERT INTO t_order (status, id, user_id, gmt_modified) VALUES ('A', 4, 1, ?), ('B', ?, 1, ?)",
                    now(), 5, now());
        });

        assertThat(f.keys("t_order")).containsExactly(1L, 2L, 3L, 4L, 5L);
        assertThat(f.sink.afterCommit).as("one transaction, one change set").hasSize(1);
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void upsert_ofEachStore_capturesTheKeys(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1);
        String upsert = switch (source) {
            case H2 -> "MERGE INTO t_order (id, user_id, status, gmt_modified) KEY (id) VALUES (?, ?, ?, ?)";
            case MARIADB -> INSERT + " ON DUPLICATE KEY UPDATE status = VALUES(status), gmt_modified ="
                    + " VALUES(gmt_modified)";
            case POSTGRESQL -> INSERT + " ON CONFLICT (id) DO UPDATE SET status = EXCLUDED.status, gmt_modified ="
                    + " EXCLUDED.gmt_modified";
        };
        f.tx.executeWithoutResult(s -> f.jdbc.update(upsert, 1, 1, "UPSERTED", now()));
        f.jdbc.batchUpdate(upsert, List.of(new Object[] {1, 1, "AGAIN", now()}, new Object[] {2, 1, "NEW", now()}));

        assertThat(f.keys("t_order")).containsExactly(1L, 1L, 2L);
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void replace_onMariaDb_capturesTheKeys(Store source, Store target) throws Exception {
        assumeTrue(source == Store.MARIADB, "REPLACE is MySQL and MariaDB syntax");
        fixture(source, target);
        f.seed(1);
        f.jdbc.update("REPLACE INTO t_order (id, user_id, status, gmt_modified) VALUES (?, ?, ?, ?)", 1, 2, "R", now());
        f.jdbc.batchUpdate("REPLACE INTO t_order (id, user_id, status, gmt_modified) VALUES (?, ?, ?, ?)",
                List.of(new Object[] {2, 2, "R", now()}, new Object[] {3, 2, "R", now()}));

        assertThat(f.keys("t_order")).containsExactly(1L, 2L, 3L);
        assertThat(f.differences()).isEmpty();
    }

    // --- UPDATE and DELETE -----------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void update_byKeyByInListAndByOtherColumns_capturesTheRowsItWrites(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1, 2, 3, 4, 5, 6);
        f.tx.executeWithoutResult(s -> f.jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?",
                "PAID", now(), 1));
        f.tx.executeWithoutResult(s -> f.jdbc.update("UPDATE t_order SET status = 'X' WHERE id IN (?, ?) AND"
                + " status <> ?", 2, 3, "GONE"));
        // user_id = id % 3: rows 3 and 6 have user 0; the keys come from a locking pre-read.
        f.tx.executeWithoutResult(s -> f.jdbc.update("UPDATE t_order SET status = ? WHERE user_id = ?", "U0", 0));
        f.jdbc.batchUpdate("UPDATE t_order SET note = ? WHERE id = ?",
                List.of(new Object[] {"n", 4}, new Object[] {"n", 5}));

        // Sorted: a PostgreSQL UPDATE returns its keys in the order it wrote the rows.
        assertThat(f.sink.afterCommit).extracting(set -> set.stream().map(c -> (Long) c.key().get(0)).sorted().toList())
                .containsExactly(List.of(1L), List.of(2L, 3L), List.of(3L, 6L), List.of(4L, 5L));
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void update_settingTheKey_capturesOldAndNewKey(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1, 2);
        f.tx.executeWithoutResult(s -> f.jdbc.update("UPDATE t_order SET id = ? WHERE id = ?", 100, 1));
        f.jdbc.update("UPDATE t_order SET id = 200 WHERE user_id = 2");

        assertThat(f.keys("t_order")).containsExactly(1L, 100L, 2L, 200L);
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void delete_byKeyBatchedAndByOtherColumns_capturesTheRowsItRemoves(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1, 2, 3, 4, 5, 6);
        f.tx.executeWithoutResult(s -> f.jdbc.update("DELETE FROM t_order WHERE id = ?", 1));
        f.jdbc.batchUpdate("DELETE FROM t_order WHERE id = ?", List.of(new Object[] {2}, new Object[] {3}));
        f.jdbc.update("DELETE FROM t_order WHERE user_id = ?", 1);

        assertThat(f.keys("t_order")).containsExactly(1L, 2L, 3L, 4L);
        assertThat(f.source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(2);
        assertThat(f.differences()).isEmpty();
    }

    // --- plain statements ------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void plainStatement_withLiterals_singleAndBatched(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1, 2);
        try (Connection connection = f.capturing.getConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (7, 1, 'N',"
                    + " CURRENT_TIMESTAMP)");
            statement.execute("UPDATE t_order SET status = 'P' WHERE id = 1");
            statement.addBatch("DELETE FROM t_order WHERE id = 2");
            statement.addBatch("INSERT INTO t_note (id, body) VALUES (1, 'unmapped')");
            statement.addBatch("UPDATE t_order SET note = 'x' WHERE id IN (7, 8)");
            statement.executeBatch();
        }

        assertThat(f.keys("t_order")).containsExactly(7L, 1L, 2L, 7L, 8L);
        assertThat(f.differences()).isEmpty();
    }

    // --- raw JDBC transactions -------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void rawJdbc_autocommitHandsOnAfterEachStatement_transactionAtCommitOnly(Store source, Store target)
            throws Exception {
        fixture(source, target);
        try (Connection connection = f.capturing.getConnection()) {
            insert(connection, 1);
            assertThat(f.keys("t_order")).as("autocommit").containsExactly(1L);

            connection.setAutoCommit(false);
            insert(connection, 2);
            insert(connection, 3);
            assertThat(f.keys("t_order")).as("before commit").containsExactly(1L);
            connection.commit();
            assertThat(f.keys("t_order")).as("after commit").containsExactly(1L, 2L, 3L);

            insert(connection, 4);
            connection.rollback();
            insert(connection, 5);
            connection.setAutoCommit(true);
            assertThat(f.keys("t_order")).as("rolled back 4, committed 5 by autocommit on")
                    .containsExactly(1L, 2L, 3L, 5L);

            connection.setAutoCommit(false);
            insert(connection, 6);
        }
        assertThat(f.keys("t_order")).as("closed without commit").containsExactly(1L, 2L, 3L, 5L);
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void rawJdbcBatch_primitiveSettersAndClearedParameters_capturesEachRowsKey(Store source, Store target)
            throws Exception {
        fixture(source, target);
        try (Connection connection = f.capturing.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "INSERT INTO t_order (id, user_id, status, note, gmt_modified) VALUES (?, ?, ?, ?, ?)")) {
            for (long id = 1; id <= 3; id++) {
                statement.setInt(2, 1);
                statement.setLong(1, id);
                statement.setString(3, "NEW");
                statement.setString(4, "first");
                statement.setTimestamp(5, now());
                statement.addBatch();
            }
            statement.clearBatch();
            for (long id = 7; id <= 8; id++) {
                statement.clearParameters();
                statement.setLong(1, id);
                statement.setInt(2, 1);
                statement.setString(3, "NEW");
                statement.setNull(4, java.sql.Types.VARCHAR);
                statement.setTimestamp(5, now());
                statement.addBatch();
            }
            statement.executeLargeBatch();
            assertThat(statement.getConnection()).as("the capturing connection").isSameAs(connection);
        }

        assertThat(f.keys("t_order")).as("the cleared batch wrote nothing").containsExactly(7L, 8L);
        assertThat(f.differences()).isEmpty();
    }

    private static void insert(Connection connection, long id) throws Exception {
        try (PreparedStatement statement = connection.prepareStatement(INSERT)) {
            statement.setLong(1, id);
            statement.setInt(2, 1);
            statement.setString(3, "NEW");
            statement.setTimestamp(4, now());
            statement.executeUpdate();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void rolledBackSpringTransaction_handsOnNothing(Store source, Store target) throws Exception {
        fixture(source, target);
        f.tx.executeWithoutResult(s -> {
            f.jdbc.update(INSERT, 1, 10, "NEW", now());
            s.setRollbackOnly();
        });
        assertThat(f.sink.afterCommit).isEmpty();
    }

    // --- generated keys --------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void autoIncrementInsert_withoutAskingForKeys_capturesTheGeneratedKeys(Store source, Store target)
            throws Exception {
        fixture(source, target);
        String insert = "INSERT INTO t_item (name, gmt_modified) VALUES (?, ?)";
        f.tx.executeWithoutResult(s -> f.jdbc.update(insert, "a", now()));
        f.jdbc.batchUpdate(insert, List.of(new Object[] {"b", now()}, new Object[] {"c", now()}));
        try (Connection connection = f.capturing.getConnection(); Statement statement = connection.createStatement()) {
            statement.executeUpdate("INSERT INTO t_item (name, gmt_modified) VALUES ('d', CURRENT_TIMESTAMP)");
        }

        assertThat(f.keys("t_item")).containsExactly(1L, 2L, 3L, 4L);
        assertThat(f.itemDifferences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void autoIncrementInsert_applicationAskingForKeys_stillGetsThem(Store source, Store target) throws Exception {
        fixture(source, target);
        KeyHolder holder = new GeneratedKeyHolder();
        f.tx.executeWithoutResult(s -> f.jdbc.update(connection -> {
            PreparedStatement statement = connection.prepareStatement(
                    "INSERT INTO t_item (name, gmt_modified) VALUES (?, ?)", new String[] {"id"});
            statement.setString(1, "a");
            statement.setTimestamp(2, now());
            return statement;
        }, holder));
        long fromStatement;
        try (Connection connection = f.capturing.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "INSERT INTO t_item (name, gmt_modified) VALUES (?, ?)", Statement.RETURN_GENERATED_KEYS)) {
            statement.setString(1, "b");
            statement.setTimestamp(2, now());
            statement.executeUpdate();
            try (ResultSet keys = statement.getGeneratedKeys()) {
                assertThat(keys.next()).isTrue();
                fromStatement = keys.getLong(1);
            }
        }

        assertThat(holder.getKey().longValue()).isEqualTo(1L);
        assertThat(fromStatement).isEqualTo(2L);
        assertThat(f.keys("t_item")).containsExactly(1L, 2L);
        assertThat(f.itemDifferences()).isEmpty();
    }

    // --- pass-through ----------------------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void unmappedTableAndReads_passThroughUnwrapped(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1);
        try (Connection connection = f.capturing.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO t_note (id, body) VALUES (?, ?)");
                PreparedStatement read = connection.prepareStatement("SELECT status FROM t_order WHERE id = ?")) {
            assertThat(Proxy.isProxyClass(insert.getClass())).as("statement on an unmapped table is the pool's").isFalse();
            assertThat(Proxy.isProxyClass(read.getClass())).as("a read is the pool's").isFalse();
            insert.setLong(1, 1);
            insert.setString(2, "x");
            insert.executeUpdate();
        }
        List<Map<String, Object>> notes = f.source.queryForList("SELECT * FROM t_note");
        assertThat(notes).hasSize(1);
        assertThat(f.sink.afterCommit).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void readWithACommonTableExpression_passes(Store source, Store target) throws Exception {
        fixture(source, target);
        f.seed(1, 2);
        assertThat(f.jdbc.queryForObject("WITH mine AS (SELECT id FROM t_order WHERE user_id = ?) SELECT COUNT(*)"
                + " FROM mine", Long.class, 1)).isEqualTo(1);
        assertThat(f.sink.afterCommit).isEmpty();
    }
}
