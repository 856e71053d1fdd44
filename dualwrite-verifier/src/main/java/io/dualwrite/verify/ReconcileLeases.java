package io.dualwrite.verify;

import io.dualwrite.jdbc.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * One reconcile per table at a time across every instance: a lease row per table in the target
 * ({@code <checkpoint table>_lease}), held by the instance that runs it and renewed while it runs. A
 * fleet whose instances all run the nightly reconcile at the same minute then scans each table once, and
 * the checkpoint of a run is written by one instance only. Times are the instances' own clocks, in
 * milliseconds; a lease lasts minutes, so seconds of skew between hosts do not matter. Runs on the caller's
 * connection, in auto-commit.
 */
final class ReconcileLeases extends LibraryTable {

    /** Who holds a table's lease, and until when. */
    record Holder(String owner, long validUntilMillis) {
    }

    /**
     * The lease row a checkpoint write is conditioned on: {@code owner} must hold {@code name} in {@code table}.
     *
     * @param table the lease table
     * @param name the leased table or unit ({@code table_name})
     * @param owner the instance that writes
     */
    record Fence(String table, String name, String owner) {
    }

    /** @return the fence of {@code owner}'s lease on {@code tableName} */
    Fence fence(String tableName, String owner) {
        return new Fence(table, tableName, owner);
    }

    ReconcileLeases(Dialect dialect, String table) {
        super(dialect, table);
    }

    @Override
    String ddl() {
        return "CREATE TABLE " + table + " (\n"
                + "  table_name VARCHAR(255) NOT NULL PRIMARY KEY,\n"
                + "  owner VARCHAR(255) NOT NULL,\n"
                + "  valid_until_ms BIGINT NOT NULL\n"
                + ")";
    }

    /**
     * Takes a table's lease if it is free, expired, or already this owner's.
     *
     * @return null when taken; otherwise who holds it
     */
    Holder claim(Connection connection, String tableName, String owner, long now, long leaseMillis)
            throws SQLException {
        if (takeOver(connection, tableName, owner, now, leaseMillis)) {
            return null;
        }
        try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + table
                + " (table_name, owner, valid_until_ms) VALUES (?, ?, ?)")) {
            insert.setString(1, tableName);
            insert.setString(2, owner);
            insert.setLong(3, now + leaseMillis);
            insert.executeUpdate();
            return null;
        } catch (SQLException insertFailed) {
            // Another instance inserted the row first: say who holds it, or fail if it is something else.
            Holder holder;
            try {
                holder = holder(connection, tableName);
            } catch (SQLException readFailed) {
                insertFailed.addSuppressed(readFailed);
                throw insertFailed;
            }
            if (holder == null) {
                throw insertFailed;
            }
            return holder;
        }
    }

    /**
     * Extends this owner's lease. A lease that ran out is still this owner's until another instance takes
     * it over, so a slow run that nobody replaced goes on.
     *
     * @return whether this owner still held the lease and now holds it for another lease period
     */
    boolean renew(Connection connection, String tableName, String owner, long now, long leaseMillis)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET valid_until_ms = ? WHERE table_name = ? AND owner = ?")) {
            update.setLong(1, now + leaseMillis);
            update.setString(2, tableName);
            update.setString(3, owner);
            return update.executeUpdate() == 1;
        }
    }

    /** Gives the lease back, if this owner still holds it. */
    void release(Connection connection, String tableName, String owner) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET valid_until_ms = 0 WHERE table_name = ? AND owner = ?")) {
            update.setString(1, tableName);
            update.setString(2, owner);
            update.executeUpdate();
        }
    }

    /** @return who holds the table's lease row, or null if there is none */
    Holder holder(Connection connection, String tableName) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT owner, valid_until_ms"
                + " FROM " + table + " WHERE table_name = ?")) {
            select.setString(1, tableName);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? new Holder(rs.getString(1), rs.getLong(2)) : null;
            }
        }
    }

    private boolean takeOver(Connection connection, String tableName, String owner, long now, long leaseMillis)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET owner = ?, valid_until_ms = ? WHERE table_name = ? AND (valid_until_ms < ? OR owner = ?)")) {
            update.setString(1, owner);
            update.setLong(2, now + leaseMillis);
            update.setString(3, tableName);
            update.setLong(4, now);
            update.setString(5, owner);
            return update.executeUpdate() == 1;
        }
    }
}
