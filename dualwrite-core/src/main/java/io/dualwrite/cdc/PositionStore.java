package io.dualwrite.cdc;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The position table in the target store: one row per log reader, holding the low watermark, the log
 * position up to which every changed key has been applied, and the lease that elects the one instance
 * reading that log ({@code holder}, {@code lease_until_ms} in the holder's clock, milliseconds). Plain SQL
 * that reads the same on every store. A row taken by a lease before any position was stored has an empty
 * {@code log_file}: no position yet.
 */
final class PositionStore {

    private final DataSource target;
    private final String table;
    private final String reader;

    PositionStore(DataSource target, String table, String reader) {
        this.target = target;
        this.table = table;
        this.reader = reader;
    }

    String ddl() {
        return "CREATE TABLE " + table + " (\n"
                + "  reader_name VARCHAR(100) NOT NULL PRIMARY KEY,\n"
                + "  log_file VARCHAR(255) NOT NULL,\n"
                + "  log_position BIGINT NOT NULL,\n"
                + "  updated_ms BIGINT NOT NULL,\n"
                + "  holder VARCHAR(200),\n"
                + "  lease_until_ms BIGINT DEFAULT 0 NOT NULL\n"
                + ")";
    }

    /**
     * Finds the table, creating it when allowed.
     *
     * @throws IllegalStateException if it is missing and may not be created; the message holds the DDL
     */
    void prepare(boolean create) throws SQLException {
        try (Connection connection = target.getConnection()) {
            Optional<TableMetadata> existing = TableMetadata.read(connection, table);
            if (existing.isPresent()) {
                if (existing.get().column("lease_until_ms").isEmpty()) {
                    throw new IllegalStateException("table '" + table + "' (dualwrite.capture.cdc.position-table) has"
                            + " no lease columns; add them with: ALTER TABLE " + table + " ADD holder VARCHAR(200);"
                            + " ALTER TABLE " + table + " ADD lease_until_ms BIGINT DEFAULT 0 NOT NULL");
                }
                return;
            }
            if (!create) {
                throw new IllegalStateException("dualwrite.capture.cdc needs table '" + table
                        + "' (dualwrite.capture.cdc.position-table) in the target database. Create it with:\n" + ddl()
                        + "\nor set dualwrite.schema.create=true to let dualwrite create it.");
            }
            try (Statement statement = connection.createStatement()) {
                statement.execute(ddl());
            }
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
        }
    }

    Optional<LogPosition> read() throws SQLException {
        try (Connection connection = target.getConnection();
                PreparedStatement select = connection.prepareStatement(Dialect.MARKER
                        + " SELECT log_file, log_position FROM " + table + " WHERE reader_name = ?")) {
            select.setString(1, reader);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() && !rs.getString(1).isEmpty()
                        ? Optional.of(new LogPosition(rs.getString(1), rs.getLong(2))) : Optional.empty();
            }
        }
    }

    /**
     * Takes the lease when it is free, run out, or already this holder's; creates the reader's row (without a
     * position) when there is none.
     *
     * @return whether {@code holder} holds the lease now, until {@code nowMillis + leaseMillis}
     */
    boolean acquire(String holder, long nowMillis, long leaseMillis) throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                    + " SET holder = ?, lease_until_ms = ? WHERE reader_name = ?"
                    + " AND (holder IS NULL OR holder = ? OR lease_until_ms < ?)")) {
                update.setString(1, holder);
                update.setLong(2, nowMillis + leaseMillis);
                update.setString(3, reader);
                update.setString(4, holder);
                update.setLong(5, nowMillis);
                if (update.executeUpdate() > 0) {
                    return true;
                }
            }
            try (PreparedStatement exists = connection.prepareStatement(Dialect.MARKER + " SELECT COUNT(*) FROM "
                    + table + " WHERE reader_name = ?")) {
                exists.setString(1, reader);
                try (ResultSet rs = exists.executeQuery()) {
                    rs.next();
                    if (rs.getLong(1) > 0) {
                        return false;
                    }
                }
            }
            try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + table
                    + " (reader_name, log_file, log_position, updated_ms, holder, lease_until_ms)"
                    + " VALUES (?, '', 0, ?, ?, ?)")) {
                insert.setString(1, reader);
                insert.setLong(2, nowMillis);
                insert.setString(3, holder);
                insert.setLong(4, nowMillis + leaseMillis);
                insert.executeUpdate();
                return true;
            } catch (SQLException raced) {
                if (raced.getSQLState() != null && raced.getSQLState().startsWith("23")) {
                    return false; // another instance created the row first, and holds it
                }
                throw raced;
            }
        }
    }

    /** @return whether {@code holder} still held the lease, now extended to {@code nowMillis + leaseMillis} */
    boolean renew(String holder, long nowMillis, long leaseMillis) throws SQLException {
        return updateHeld(" SET lease_until_ms = ?", holder, nowMillis + leaseMillis);
    }

    /** Ends {@code holder}'s lease now, so a standby need not wait for it to run out. */
    void release(String holder) throws SQLException {
        updateHeld(" SET lease_until_ms = ?", holder, 0);
    }

    private boolean updateHeld(String set, String holder, long value) throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table + set
                    + " WHERE reader_name = ? AND holder = ?")) {
                update.setLong(1, value);
                update.setString(2, reader);
                update.setString(3, holder);
                return update.executeUpdate() > 0;
            }
        }
    }

    /**
     * Stores the position, if {@code holder} holds the lease on this reader's row (which it took before
     * reading, so the row is there).
     *
     * @return whether it was stored
     */
    boolean write(LogPosition position, String holder) throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                    + " SET log_file = ?, log_position = ?, updated_ms = ? WHERE reader_name = ? AND holder = ?")) {
                update.setString(1, position.file());
                update.setLong(2, position.position());
                update.setLong(3, System.currentTimeMillis());
                update.setString(4, reader);
                update.setString(5, holder);
                return update.executeUpdate() > 0;
            }
        }
    }
}
