package io.dualwrite.samples.bench;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * What a target server says it wrote, to tell a copy that rewrote rows from one that only read them.
 *
 * <p>PostgreSQL: the table's {@code n_tup_ins} / {@code n_tup_upd} from {@code pg_stat_user_tables}
 * (reported by each backend when it goes idle or exits, so they are read only once they have stopped
 * moving), the transaction id counter (a row whose {@code xmin} is newer than a mark was written after
 * it), and the WAL position. MariaDB: {@code Innodb_rows_inserted} / {@code Innodb_rows_updated} and the
 * redo log's LSN; these are server-wide, so other clients of the same server add to them.
 */
final class ServerCounters {

    /**
     * Counters at one instant.
     *
     * @param inserted rows inserted (PostgreSQL: into the table; MariaDB: server-wide)
     * @param updated rows updated, as {@code inserted}
     * @param logBytes the WAL / redo position in bytes (server-wide on both)
     * @param xid PostgreSQL's current transaction id (64-bit), or -1 on MariaDB
     */
    record Snapshot(long inserted, long updated, long logBytes, long xid) {
    }

    private ServerCounters() {
    }

    /** @return the counters now, for the table {@code t_order} of the scratch space */
    static Snapshot read(BenchDatabase database) throws SQLException {
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            if (database.store() == Store.POSTGRESQL) {
                long inserted = 0;
                long updated = 0;
                try (ResultSet rs = statement.executeQuery("SELECT n_tup_ins, n_tup_upd FROM pg_stat_user_tables"
                        + " WHERE schemaname = '" + database.name() + "' AND relname = '" + OrderTable.NAME + "'")) {
                    if (rs.next()) {
                        inserted = rs.getLong(1);
                        updated = rs.getLong(2);
                    }
                }
                long wal = single(statement, "SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint");
                long xid = single(statement, "SELECT pg_current_xact_id()::text::bigint");
                return new Snapshot(inserted, updated, wal, xid);
            }
            return new Snapshot(status(statement, "Innodb_rows_inserted"), status(statement, "Innodb_rows_updated"),
                    status(statement, "Innodb_lsn_current"), -1);
        }
    }

    /**
     * Reads the counters once the table statistics have stopped moving: PostgreSQL backends report theirs
     * up to a second after they go idle or exit.
     */
    static Snapshot settled(BenchDatabase database) throws SQLException, InterruptedException {
        if (database.store() != Store.POSTGRESQL) {
            return read(database);
        }
        Thread.sleep(1_200);
        Snapshot last = read(database);
        for (int i = 0; i < 10; i++) {
            Thread.sleep(500);
            Snapshot now = read(database);
            if (now.inserted() == last.inserted() && now.updated() == last.updated()) {
                return now;
            }
            last = now;
        }
        return last;
    }

    /**
     * Counts the rows of {@code t_order} on PostgreSQL whose current version was written by a transaction
     * after {@code mark} (a {@link Snapshot#xid()}): zero means no row was rewritten since.
     */
    static long rowsWrittenAfter(BenchDatabase database, long mark) throws SQLException {
        // xmin is the 32-bit xid; age() compares it with wraparound in mind.
        long xid32 = mark & 0xFFFF_FFFFL;
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            return single(statement, "SELECT COUNT(*) FROM " + OrderTable.NAME + " WHERE age(xmin) < age('" + xid32
                    + "'::xid)");
        }
    }

    private static long status(Statement statement, String variable) throws SQLException {
        try (ResultSet rs = statement.executeQuery("SHOW GLOBAL STATUS LIKE '" + variable + "'")) {
            return rs.next() ? rs.getLong(2) : -1;
        }
    }

    private static long single(Statement statement, String sql) throws SQLException {
        try (ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
