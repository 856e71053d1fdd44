package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DESIGN invariant 4 for transparent capture in OUTBOX mode, through the routing data source with no
 * routing scope and no annotation: the outbox rows commit with the application's write on every path
 * (JdbcTemplate in autocommit, raw JDBC {@code commit()}, a Spring transaction), so a process that dies
 * after the commit loses nothing, and an outbox insert that fails takes the write back with it and
 * reaches the application as an exception.
 */
class OutboxHandOverTest {

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void relayDiesAfterTheCommits_everyPathsWriteIsInTheOutboxAndRelayedAfterRestart(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxho")) {
            rig.jdbc.update(RoutedOutboxRig.INSERT, 1, RoutedOutboxRig.now());
            rig.jdbc.update("UPDATE t_order SET note = 'autocommit' WHERE id = ?", 1);
            try (Connection connection = rig.routing.getConnection()) {
                connection.setAutoCommit(false);
                insert(connection, 2);
                connection.commit();
            }
            rig.tx.executeWithoutResult(status -> rig.jdbc.update(RoutedOutboxRig.INSERT, 3, RoutedOutboxRig.now()));

            // The process dies here: the relay never ran. Whatever committed has its outbox row.
            assertThat(rig.outboxKeys()).hasSize(3);
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();

            assertThat(rig.restart()).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(3);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void outboxInsertFails_autocommitJdbcTemplate_theWriteRollsBackAndTheCallerSeesIt(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxac")) {
            rig.breakOutbox();

            assertThatThrownBy(() -> rig.jdbc.update(RoutedOutboxRig.INSERT, 1, RoutedOutboxRig.now()))
                    .hasStackTraceContaining("dualwrite_outbox");

            assertThat(rig.orders()).as("the write did not happen").isZero();
            assertNothingHalfApplied(rig);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void outboxInsertFails_rawJdbcCommit_theTransactionRollsBackAndCommitThrows(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxraw")) {
            rig.breakOutbox();

            try (Connection connection = rig.routing.getConnection()) {
                connection.setAutoCommit(false);
                insert(connection, 1);
                insert(connection, 2);
                assertThatThrownBy(connection::commit).isInstanceOf(SQLException.class)
                        .hasMessageContaining("dualwrite_outbox");
            }

            assertThat(rig.orders()).as("the transaction did not commit").isZero();
            assertNothingHalfApplied(rig);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void outboxInsertFails_springTransaction_theTransactionRollsBackAndTheCallerSeesIt(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxtx")) {
            rig.breakOutbox();

            assertThatThrownBy(() -> rig.tx.executeWithoutResult(status -> {
                rig.jdbc.update(RoutedOutboxRig.INSERT, 1, RoutedOutboxRig.now());
                rig.jdbc.update(RoutedOutboxRig.INSERT, 2, RoutedOutboxRig.now());
            })).hasStackTraceContaining("dualwrite_outbox");

            assertThat(rig.orders()).as("the transaction did not commit").isZero();
            assertNothingHalfApplied(rig);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void outboxInsertFails_autocommitBatch_noRowOfTheBatchStays(Store sourceStore, Store targetStore)
            throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxbt")) {
            rig.breakOutbox();

            assertThatThrownBy(() -> rig.jdbc.batchUpdate(RoutedOutboxRig.INSERT, java.util.List.of(
                    new Object[] {1, RoutedOutboxRig.now()}, new Object[] {2, RoutedOutboxRig.now()})))
                    .hasStackTraceContaining("dualwrite_outbox");

            assertThat(rig.orders()).isZero();
            assertNothingHalfApplied(rig);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void springTransactionBehindTheRoutingProxy_keyCapturedAndRecordedIsOneOutboxRow(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxid")) {
            rig.tx.executeWithoutResult(status -> {
                rig.jdbc.update(RoutedOutboxRig.INSERT, 1, RoutedOutboxRig.now());
                rig.capture.record("t_order", 1L);
            });

            // Capture sees through the routing data source's proxy that Spring manages this transaction,
            // so its key joins the transaction's change set instead of waiting for commit() on its own.
            assertThat(rig.outboxRows()).isEqualTo(1);
        }
    }

    /** Once the outbox is back, a restarted relay finds nothing the source has and the target lacks. */
    private static void assertNothingHalfApplied(RoutedOutboxRig rig) throws Exception {
        rig.repairOutbox();
        assertThat(rig.restart()).isTrue();
        assertThat(rig.differences()).isEmpty();
    }

    private static void insert(Connection connection, long id) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(RoutedOutboxRig.INSERT)) {
            statement.setLong(1, id);
            statement.setTimestamp(2, RoutedOutboxRig.now());
            statement.executeUpdate();
        }
    }
}
