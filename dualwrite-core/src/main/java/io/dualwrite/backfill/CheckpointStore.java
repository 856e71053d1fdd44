package io.dualwrite.backfill;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code dualwrite_checkpoint} (one row per job and key range: bounds, the physical source shard it walks
 * when the source table is sharded, last key copied, rows, status, owner, lease, last error) and {@code dualwrite_backfill_failure} (rows that could not be copied), both
 * in the target. All methods run on the caller's connection and transaction. Keys are stored as JSON
 * arrays ({@link RowKey#toJson()}); times are the runner clock's epoch milliseconds.
 */
final class CheckpointStore {

    private static final int MAX_ERROR_LENGTH = 1000;

    /** The longest shard name ({@code dataSource.table}) the checkpoint table holds. */
    static final int MAX_SHARD_LENGTH = 300;

    /**
     * A key range to create.
     *
     * @param shard the physical source shard the range walks alone ({@code dataSource.table}), or null for the
     *     logical source table
     * @param start the exclusive lower bound, or null
     * @param end the inclusive upper bound, or null
     */
    record Bounds(String shard, RowKey start, RowKey end) {
    }

    /** One key range of a job, as stored; {@code shard} as in {@link Bounds}. */
    record Range(int id, String shard, RowKey start, RowKey end, RowKey lastKey, long rowsCopied, long failedRows,
            BackfillStatus status, String owner, long leaseUntil, String lastError) {

        /** @return the exclusive lower bound to resume from */
        RowKey resumeAfter() {
            return lastKey != null ? lastKey : start;
        }
    }

    private final Dialect dialect;
    private final String checkpoints;
    private final String failures;

    CheckpointStore(Dialect dialect, String checkpointTable, String failureTable) {
        this.dialect = dialect;
        dialect.quote(checkpointTable);
        dialect.quote(failureTable);
        // Left unquoted so that they fold to the store's own case, like tables made by hand.
        this.checkpoints = checkpointTable;
        this.failures = failureTable;
    }

    List<String> ddl() {
        return List.of("CREATE TABLE " + checkpoints + " (\n"
                + "  job VARCHAR(128) NOT NULL,\n"
                + "  range_id INT NOT NULL,\n"
                + "  shard VARCHAR(" + MAX_SHARD_LENGTH + "),\n"
                + "  range_start VARCHAR(2000),\n"
                + "  range_end VARCHAR(2000),\n"
                + "  last_key VARCHAR(2000),\n"
                + "  rows_copied BIGINT DEFAULT 0 NOT NULL,\n"
                + "  failed_rows BIGINT DEFAULT 0 NOT NULL,\n"
                + "  status VARCHAR(16) NOT NULL,\n"
                + "  owner VARCHAR(128),\n"
                + "  lease_until BIGINT DEFAULT 0 NOT NULL,\n"
                + "  last_error VARCHAR(" + MAX_ERROR_LENGTH + "),\n"
                + "  updated_ms BIGINT NOT NULL,\n"
                + "  PRIMARY KEY (job, range_id)\n"
                + ")",
                "CREATE TABLE " + failures + " (\n"
                + "  id " + dialect.identityPrimaryKey() + ",\n"
                + "  job VARCHAR(128) NOT NULL,\n"
                + "  row_key VARCHAR(2000) NOT NULL,\n"
                + "  error VARCHAR(" + MAX_ERROR_LENGTH + "),\n"
                + "  created_ms BIGINT NOT NULL\n"
                + ")");
    }

    /**
     * @return the DDL of the tables that do not exist yet, and of the columns a checkpoint table made by an older
     *     version lacks ({@code shard})
     */
    List<String> missingTables(Connection connection) throws SQLException {
        List<String> missing = new ArrayList<>();
        List<String> ddl = ddl();
        java.util.Optional<TableMetadata> existing = TableMetadata.read(connection, checkpoints);
        if (existing.isEmpty()) {
            missing.add(ddl.get(0));
        } else if (existing.get().column("shard").isEmpty()) {
            missing.add("ALTER TABLE " + checkpoints + " ADD shard VARCHAR(" + MAX_SHARD_LENGTH + ")");
        }
        if (TableMetadata.read(connection, failures).isEmpty()) {
            missing.add(ddl.get(1));
        }
        return missing;
    }

    void create(Connection connection, List<String> statements) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }

    /** Inserts the job's ranges. @return false if another runner inserted them first */
    boolean insertRanges(Connection connection, String job, List<Bounds> bounds, long now) throws SQLException {
        return insertRanges(connection, job, bounds, now, 0);
    }

    /**
     * As {@link #insertRanges(Connection, String, List, long)}, numbering the ranges from {@code firstId}: ranges
     * added to a job that has some already.
     */
    boolean insertRanges(Connection connection, String job, List<Bounds> bounds, long now, int firstId)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + checkpoints
                + " (job, range_id, shard, range_start, range_end, status, updated_ms) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
            for (int i = 0; i < bounds.size(); i++) {
                statement.setString(1, job);
                statement.setInt(2, firstId + i);
                statement.setString(3, bounds.get(i).shard());
                setKey(statement, 4, bounds.get(i).start());
                setKey(statement, 5, bounds.get(i).end());
                statement.setString(6, BackfillStatus.PENDING.name());
                statement.setLong(7, now);
                statement.addBatch();
            }
            statement.executeBatch();
            return true;
        } catch (SQLException e) {
            if (isDuplicate(e)) {
                return false;
            }
            throw e;
        }
    }

    /**
     * Records a job as done in one range over every key, with the rows others copied for it: how a plan whose
     * stages took every row of a table closes that table's own backfill.
     *
     * @return false if the job has ranges already (another runner closed it first)
     */
    boolean insertDone(Connection connection, String job, long rowsCopied, long failedRows, long now)
            throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + checkpoints
                + " (job, range_id, range_start, range_end, rows_copied, failed_rows, status, updated_ms)"
                + " VALUES (?, 0, NULL, NULL, ?, ?, ?, ?)")) {
            statement.setString(1, job);
            statement.setLong(2, rowsCopied);
            statement.setLong(3, failedRows);
            statement.setString(4, BackfillStatus.DONE.name());
            statement.setLong(5, now);
            statement.executeUpdate();
            return true;
        } catch (SQLException e) {
            if (isDuplicate(e)) {
                return false;
            }
            throw e;
        }
    }

    /** Records the rows still failing in other jobs as failing in {@code job} too, so that its retry copies them. */
    void copyFailures(Connection connection, List<String> from, String job) throws SQLException {
        for (String other : from) {
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + failures
                    + " (job, row_key, error, created_ms) SELECT ?, row_key, error, created_ms FROM " + failures
                    + " WHERE job = ?")) {
                statement.setString(1, job);
                statement.setString(2, other);
                statement.executeUpdate();
            }
        }
    }

    List<Range> load(Connection connection, String job) throws SQLException {
        List<Range> ranges = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT " + COLUMNS
                + " FROM " + checkpoints + " WHERE job = ? ORDER BY range_id")) {
            statement.setString(1, job);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    ranges.add(range(rs));
                }
            }
        }
        return ranges;
    }

    /**
     * Leases the first range that is pending, or running under an expired lease, skipping ranges another
     * runner is claiming at this moment.
     *
     * @return the range now leased to {@code owner}, or {@code null} if none is free
     */
    Range claim(Connection connection, String job, String owner, long now, long leaseUntil) throws SQLException {
        Integer candidate = null;
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT range_id FROM "
                + checkpoints + " WHERE job = ? AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?))"
                + " ORDER BY range_id LIMIT 1 " + dialect.forUpdateSkipLocked())) {
            statement.setString(1, job);
            statement.setLong(2, now);
            try (ResultSet rs = statement.executeQuery()) {
                if (rs.next()) {
                    candidate = rs.getInt(1);
                }
            }
        }
        if (candidate == null) {
            return null;
        }
        // Compare and set: a locking read may return the row as it was before a concurrent commit (H2
        // does), so the claim re-checks the condition in the UPDATE itself and reads the row only after.
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " UPDATE " + checkpoints
                + " SET status = 'RUNNING', owner = ?, lease_until = ?, updated_ms = ? WHERE job = ? AND range_id = ?"
                + " AND (status = 'PENDING' OR (status = 'RUNNING' AND lease_until < ?))")) {
            statement.setString(1, owner);
            statement.setLong(2, leaseUntil);
            statement.setLong(3, now);
            statement.setString(4, job);
            statement.setInt(5, candidate);
            statement.setLong(6, now);
            if (statement.executeUpdate() != 1) {
                return null;
            }
        }
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT " + COLUMNS
                + " FROM " + checkpoints + " WHERE job = ? AND range_id = ?")) {
            statement.setString(1, job);
            statement.setInt(2, candidate);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return range(rs);
            }
        }
    }

    /**
     * Records a copied chunk and renews the lease, only while {@code owner} still holds the range and it
     * still runs.
     *
     * @return false if the lease was lost or the job paused or cancelled: the caller rolls back
     */
    boolean advance(Connection connection, String job, int range, String owner, RowKey lastKey, long rows,
            long failed, boolean done, long now, long leaseUntil) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " UPDATE " + checkpoints
                + " SET last_key = ?, rows_copied = rows_copied + ?, failed_rows = failed_rows + ?, status = ?,"
                + " owner = ?, lease_until = ?, updated_ms = ? WHERE job = ? AND range_id = ? AND owner = ?"
                + " AND status = 'RUNNING'")) {
            setKey(statement, 1, lastKey);
            statement.setLong(2, rows);
            statement.setLong(3, failed);
            statement.setString(4, (done ? BackfillStatus.DONE : BackfillStatus.RUNNING).name());
            if (done) {
                statement.setNull(5, Types.VARCHAR);
            } else {
                statement.setString(5, owner);
            }
            statement.setLong(6, done ? 0 : leaseUntil);
            statement.setLong(7, now);
            statement.setString(8, job);
            statement.setInt(9, range);
            statement.setString(10, owner);
            return statement.executeUpdate() == 1;
        }
    }

    /** Gives a range back (status unchanged) so that another runner may take it at once. */
    void release(Connection connection, String job, int range, String owner, long now) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " UPDATE " + checkpoints
                + " SET status = CASE WHEN status = 'RUNNING' THEN 'PENDING' ELSE status END, owner = NULL,"
                + " lease_until = 0, updated_ms = ? WHERE job = ? AND range_id = ? AND owner = ?")) {
            statement.setLong(1, now);
            statement.setString(2, job);
            statement.setInt(3, range);
            statement.setString(4, owner);
            statement.executeUpdate();
        }
    }

    /**
     * Moves every range of a job in one of {@code from} to {@code to}, for pause, resume and cancel
     * across all runners.
     *
     * @return how many ranges changed
     */
    int setStatus(Connection connection, String job, List<BackfillStatus> from, BackfillStatus to, String reason,
            long now) throws SQLException {
        StringBuilder in = new StringBuilder();
        for (BackfillStatus status : from) {
            in.append(in.length() == 0 ? "" : ", ").append('\'').append(status.name()).append('\'');
        }
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " UPDATE " + checkpoints
                + " SET status = ?, last_error = COALESCE(?, last_error), owner = NULL, lease_until = 0,"
                + " updated_ms = ? WHERE job = ? AND status IN (" + in + ")")) {
            statement.setString(1, to.name());
            statement.setString(2, truncate(reason));
            statement.setLong(3, now);
            statement.setString(4, job);
            return statement.executeUpdate();
        }
    }

    void recordFailures(Connection connection, String job, List<RowKey> keys, List<String> errors, long now)
            throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + failures
                + " (job, row_key, error, created_ms) VALUES (?, ?, ?, ?)")) {
            for (int i = 0; i < keys.size(); i++) {
                statement.setString(1, job);
                statement.setString(2, keys.get(i).toJson());
                statement.setString(3, truncate(errors.get(i)));
                statement.setLong(4, now);
                statement.addBatch();
            }
            statement.executeBatch();
        }
    }

    /** @return how many rows of a job are recorded as failed now: a retry that copies them takes them off */
    long countFailures(Connection connection, String job) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT COUNT(*) FROM "
                + failures + " WHERE job = ?")) {
            statement.setString(1, job);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** @return the keys recorded as failed for a job, oldest first */
    List<RowKey> failedKeys(Connection connection, String job) throws SQLException {
        List<RowKey> keys = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT row_key FROM "
                + failures + " WHERE job = ? ORDER BY id")) {
            statement.setString(1, job);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    keys.add(RowKey.fromJson(rs.getString(1)));
                }
            }
        }
        return keys;
    }

    void deleteJob(Connection connection, String job) throws SQLException {
        for (String table : List.of(checkpoints, failures)) {
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " DELETE FROM " + table
                    + " WHERE job = ?")) {
                statement.setString(1, job);
                statement.executeUpdate();
            }
        }
    }

    private static final String COLUMNS = "range_id, shard, range_start, range_end, last_key, rows_copied,"
            + " failed_rows, status, owner, lease_until, last_error";

    private static Range range(ResultSet rs) throws SQLException {
        return new Range(rs.getInt(1), rs.getString(2), key(rs.getString(3)), key(rs.getString(4)),
                key(rs.getString(5)), rs.getLong(6), rs.getLong(7), BackfillStatus.valueOf(rs.getString(8)),
                rs.getString(9), rs.getLong(10), rs.getString(11));
    }

    private static RowKey key(String json) {
        return json == null ? null : RowKey.fromJson(json);
    }

    private static void setKey(PreparedStatement statement, int index, RowKey key) throws SQLException {
        if (key == null) {
            statement.setNull(index, Types.VARCHAR);
        } else {
            statement.setString(index, key.toJson());
        }
    }

    private static String truncate(String text) {
        return text == null ? null : text.substring(0, Math.min(text.length(), MAX_ERROR_LENGTH));
    }

    private static boolean isDuplicate(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && (sql.getSQLState() != null && sql.getSQLState().startsWith("23")
                    || sql.getErrorCode() == 1062 || sql.getErrorCode() == 23505)) {
                return true;
            }
        }
        return false;
    }
}
