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
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * The position table in the target store: one row per log reader, holding the low watermark, the log
 * position up to which every changed key has been applied, and the lease that elects the one instance
 * reading that log ({@code holder}, {@code lease_until_ms} in the holder's clock, milliseconds). Plain SQL
 * that reads the same on every store. A row taken by a lease before any position was stored has an empty
 * {@code log_file}: no position yet. {@code log_gtids} holds a binary log position's GTID state, by which a
 * reader resumes on whichever server of the topology it reads (null when the server has none); a table made
 * before that column existed gets it added when dualwrite may create tables, and otherwise keeps file and
 * offset only, saying so once.
 */
final class PositionStore {

    private static final Log log = LogFactory.getLog(PositionStore.class);

    /** Room for a MySQL GTID set of many servers; a MariaDB state is one short triple per domain. */
    static final int GTIDS_LENGTH = 2000;

    private final DataSource target;
    private final String table;
    private final String reader;
    private volatile boolean gtidColumn = true;
    private volatile boolean gtidsTooLongSaid;

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
                + "  log_gtids VARCHAR(" + GTIDS_LENGTH + "),\n"
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
                if (existing.get().column("log_gtids").isEmpty()) {
                    addGtidColumn(connection, create);
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

    /** Adds the GTID column to a table made before it existed, or goes on without it. */
    private void addGtidColumn(Connection connection, boolean create) throws SQLException {
        String alter = "ALTER TABLE " + table + " ADD log_gtids VARCHAR(" + GTIDS_LENGTH + ")";
        if (!create) {
            gtidColumn = false;
            log.warn("dualwrite: table '" + table + "' (dualwrite.capture.cdc.position-table) has no log_gtids column,"
                    + " so a binary log position is kept as file and offset only and cannot be resumed on another"
                    + " server after a failover; add it with: " + alter);
            return;
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute(alter);
        } catch (SQLException e) {
            // Another instance may have added it meanwhile.
            if (TableMetadata.read(connection, table).flatMap(t -> t.column("log_gtids")).isEmpty()) {
                throw e;
            }
        }
        if (!connection.getAutoCommit()) {
            connection.commit();
        }
    }

    Optional<LogPosition> read() throws SQLException {
        try (Connection connection = target.getConnection();
                PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT log_file,"
                        + " log_position" + (gtidColumn ? ", log_gtids" : "") + " FROM " + table
                        + " WHERE reader_name = ?")) {
            select.setString(1, reader);
            try (ResultSet rs = select.executeQuery()) {
                if (!rs.next() || rs.getString(1).isEmpty()) {
                    return Optional.empty();
                }
                return Optional.of(new LogPosition(rs.getString(1), rs.getLong(2))
                        .withGtids(gtidColumn ? rs.getString(3) : null));
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
            boolean withGtids = gtidColumn;
            try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                    + " SET log_file = ?, log_position = ?, updated_ms = ?" + (withGtids ? ", log_gtids = ?" : "")
                    + " WHERE reader_name = ? AND holder = ?")) {
                int i = 1;
                update.setString(i++, position.file());
                update.setLong(i++, position.position());
                update.setLong(i++, System.currentTimeMillis());
                if (withGtids) {
                    String gtids = position.gtids();
                    if (gtids != null && gtids.length() > GTIDS_LENGTH) {
                        // Too long to keep whole: file and offset still resume on this server.
                        if (!gtidsTooLongSaid) {
                            gtidsTooLongSaid = true;
                            log.warn("dualwrite: the binary log's GTID state is longer than " + GTIDS_LENGTH
                                    + " characters; the position in '" + table + "' is kept as file and offset only,"
                                    + " which resumes on this server but not on another one after a failover");
                        }
                        gtids = null;
                    }
                    update.setString(i++, gtids);
                }
                update.setString(i++, reader);
                update.setString(i, holder);
                return update.executeUpdate() > 0;
            }
        }
    }
}
