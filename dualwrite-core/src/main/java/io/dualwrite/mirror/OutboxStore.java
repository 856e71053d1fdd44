package io.dualwrite.mirror;

import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * The {@code dualwrite_outbox} table in the primary store: one row per changed key, written in the
 * application's own transaction, claimed by relays with {@code FOR UPDATE SKIP LOCKED}, deleted once
 * applied, or marked parked with its last error.
 *
 * <p>Times are the application's epoch milliseconds, not the database's clock, so that lag and retry
 * schedules mean the same thing on every store.
 */
final class OutboxStore {

    private static final int MAX_ERROR_LENGTH = 1000;

    /** A claimed outbox row. */
    record Entry(long id, String table, RowKey key, int attempts, long createdMillis) {
    }

    private final Dialect dialect;
    private final String table;

    OutboxStore(Dialect dialect, String table) {
        this.dialect = dialect;
        // Validated, then left unquoted so that it folds to each store's own case like a hand-made table.
        dialect.quote(table);
        this.table = table;
    }

    /** @return the CREATE TABLE statement for this store */
    String ddl() {
        return "CREATE TABLE " + table + " (\n"
                + "  id " + dialect.identityPrimaryKey() + ",\n"
                + "  table_name VARCHAR(128) NOT NULL,\n"
                + "  row_key VARCHAR(1024) NOT NULL,\n"
                + "  created_ms BIGINT NOT NULL,\n"
                + "  attempts INT DEFAULT 0 NOT NULL,\n"
                + "  next_attempt_ms BIGINT DEFAULT 0 NOT NULL,\n"
                + "  parked SMALLINT DEFAULT 0 NOT NULL,\n"
                + "  last_error VARCHAR(" + MAX_ERROR_LENGTH + ")\n"
                + ")";
    }

    boolean exists(Connection connection) throws SQLException {
        return TableMetadata.read(connection, table).isPresent();
    }

    void create(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(ddl());
        }
    }

    /** Inserts one row per change, on the caller's connection and in its transaction. */
    void insert(Connection connection, Collection<Change> changes, long nowMillis) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + table
                + " (table_name, row_key, created_ms) VALUES (?, ?, ?)")) {
            for (Change change : changes) {
                statement.setString(1, change.table());
                statement.setString(2, change.key().toJson());
                statement.setLong(3, nowMillis);
                statement.addBatch();
            }
            statement.executeBatch();
        }
    }

    /** Claims due rows in id order, skipping rows another relay holds; locks last until the transaction ends. */
    List<Entry> claim(Connection connection, int limit, long nowMillis) throws SQLException {
        List<Entry> entries = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER
                + " SELECT id, table_name, row_key, attempts, created_ms FROM " + table
                + " WHERE parked = 0 AND next_attempt_ms <= ? ORDER BY id LIMIT " + limit + " "
                + dialect.forUpdateSkipLocked())) {
            statement.setLong(1, nowMillis);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    entries.add(new Entry(rs.getLong(1), rs.getString(2), RowKey.fromJson(rs.getString(3)), rs.getInt(4),
                            rs.getLong(5)));
                }
            }
        }
        return entries;
    }

    void delete(Connection connection, Collection<Entry> entries) throws SQLException {
        if (entries.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " DELETE FROM " + table
                + " WHERE id = ?")) {
            for (Entry entry : entries) {
                statement.setLong(1, entry.id());
                statement.addBatch();
            }
            statement.executeBatch();
        }
    }

    /** Pushes rows back for a later try: with {@code countAttempt}, one more attempt and the error. */
    void reschedule(Connection connection, Collection<Entry> entries, long nextAttemptMillis, boolean countAttempt,
            boolean park, String error) throws SQLException {
        if (entries.isEmpty()) {
            return;
        }
        String sql = Dialect.MARKER + " UPDATE " + table + " SET next_attempt_ms = ?, parked = ?"
                + (countAttempt ? ", attempts = attempts + 1, last_error = ?" : "") + " WHERE id = ?";
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (Entry entry : entries) {
                int index = 1;
                statement.setLong(index++, nextAttemptMillis);
                statement.setInt(index++, park ? 1 : 0);
                if (countAttempt) {
                    statement.setString(index++, error == null ? null
                            : error.substring(0, Math.min(error.length(), MAX_ERROR_LENGTH)));
                }
                statement.setLong(index, entry.id());
                statement.addBatch();
            }
            statement.executeBatch();
        }
    }

    /** @return the creation time of the oldest unapplied, unparked row, or 0 when there is none */
    long oldestPendingMillis(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(Dialect.MARKER + " SELECT MIN(created_ms) FROM " + table
                        + " WHERE parked = 0")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /** @return rows not yet applied and not parked */
    long countPending(Connection connection) throws SQLException {
        return count(connection, "parked = 0");
    }

    /** @return parked rows */
    long countParked(Connection connection) throws SQLException {
        return count(connection, "parked = 1");
    }

    private long count(Connection connection, String condition) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(Dialect.MARKER + " SELECT COUNT(*) FROM " + table + " WHERE "
                        + condition)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
