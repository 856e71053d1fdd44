package io.dualwrite.backfill;

import io.dualwrite.jdbc.Dialect;
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
 * {@code dualwrite_backfill_plan} in the target: one row per plan and stage (status, the table being copied,
 * the gate's lease and result, who approved, why it stopped). A plan has no rows until it starts. Every change
 * reads the rows it changes {@code FOR UPDATE} first, in the caller's transaction, so the instances sharing a
 * plan take each step once. Times are the clock's epoch milliseconds.
 */
final class PlanStore {

    static final int MAX_TEXT = 1000;

    /** One stage's row, read under its lock and changed in place before {@link #update}. */
    static final class StageRow {
        final String plan;
        final int index;
        final String stage;
        BackfillPlan.Status status;
        int tableIndex;
        String owner;
        long leaseUntil;
        String gateResult;
        String approvedBy;
        Long approvedMs;
        String approvalReason;
        String reason;
        Long startedMs;
        Long finishedMs;
        /** When the row last changed; for a stage not yet started, when it began waiting. */
        long updatedMs;

        StageRow(String plan, int index, String stage) {
            this.plan = plan;
            this.index = index;
            this.stage = stage;
        }

        /** Back to where it stood before it started, for a restart. */
        void reset() {
            status = BackfillPlan.Status.PENDING;
            tableIndex = 0;
            owner = null;
            leaseUntil = 0;
            gateResult = null;
            approvedBy = null;
            approvedMs = null;
            approvalReason = null;
            reason = null;
            startedMs = null;
            finishedMs = null;
        }
    }

    private final String table;

    PlanStore(Dialect dialect, String table) {
        dialect.quote(table);
        // Unquoted, so that it folds to the store's own case like a table made by hand.
        this.table = table;
    }

    String ddl() {
        return "CREATE TABLE " + table + " (\n"
                + "  plan VARCHAR(64) NOT NULL,\n"
                + "  stage_index INT NOT NULL,\n"
                + "  stage VARCHAR(64) NOT NULL,\n"
                + "  status VARCHAR(16) NOT NULL,\n"
                + "  table_index INT DEFAULT 0 NOT NULL,\n"
                + "  owner VARCHAR(128),\n"
                + "  lease_until BIGINT DEFAULT 0 NOT NULL,\n"
                + "  gate_result VARCHAR(" + MAX_TEXT + "),\n"
                + "  approved_by VARCHAR(128),\n"
                + "  approved_ms BIGINT,\n"
                + "  approval_reason VARCHAR(" + MAX_TEXT + "),\n"
                + "  reason VARCHAR(" + MAX_TEXT + "),\n"
                + "  started_ms BIGINT,\n"
                + "  finished_ms BIGINT,\n"
                + "  updated_ms BIGINT NOT NULL,\n"
                + "  PRIMARY KEY (plan, stage_index)\n"
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

    /** Inserts a started plan's stages, all PENDING. @return false if another instance started it first */
    boolean insert(Connection connection, String plan, List<String> stages, long now) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + table
                + " (plan, stage_index, stage, status, updated_ms) VALUES (?, ?, ?, ?, ?)")) {
            for (int i = 0; i < stages.size(); i++) {
                statement.setString(1, plan);
                statement.setInt(2, i);
                statement.setString(3, stages.get(i));
                statement.setString(4, BackfillPlan.Status.PENDING.name());
                statement.setLong(5, now);
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
     * @param lock whether to lock the rows until the transaction ends
     * @return the plan's stages in order; empty if it never started
     */
    List<StageRow> load(Connection connection, String plan, boolean lock) throws SQLException {
        List<StageRow> rows = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT plan, stage_index,"
                + " stage, status, table_index, owner, lease_until, gate_result, approved_by, approved_ms,"
                + " approval_reason, reason, started_ms, finished_ms, updated_ms FROM " + table + " WHERE plan = ?"
                + " ORDER BY stage_index" + (lock ? " FOR UPDATE" : ""))) {
            statement.setString(1, plan);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    StageRow row = new StageRow(rs.getString(1), rs.getInt(2), rs.getString(3));
                    row.status = BackfillPlan.Status.valueOf(rs.getString(4));
                    row.tableIndex = rs.getInt(5);
                    row.owner = rs.getString(6);
                    row.leaseUntil = rs.getLong(7);
                    row.gateResult = rs.getString(8);
                    row.approvedBy = rs.getString(9);
                    row.approvedMs = longOrNull(rs, 10);
                    row.approvalReason = rs.getString(11);
                    row.reason = rs.getString(12);
                    row.startedMs = longOrNull(rs, 13);
                    row.finishedMs = longOrNull(rs, 14);
                    row.updatedMs = rs.getLong(15);
                    rows.add(row);
                }
            }
        }
        return rows;
    }

    /** Writes a stage's row back as given. */
    void update(Connection connection, StageRow row, long now) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET status = ?, table_index = ?, owner = ?, lease_until = ?, gate_result = ?, approved_by = ?,"
                + " approved_ms = ?, approval_reason = ?, reason = ?, started_ms = ?, finished_ms = ?, updated_ms = ?"
                + " WHERE plan = ? AND stage_index = ?")) {
            statement.setString(1, row.status.name());
            statement.setInt(2, row.tableIndex);
            setText(statement, 3, row.owner);
            statement.setLong(4, row.leaseUntil);
            setText(statement, 5, truncate(row.gateResult));
            setText(statement, 6, row.approvedBy);
            setLong(statement, 7, row.approvedMs);
            setText(statement, 8, truncate(row.approvalReason));
            setText(statement, 9, truncate(row.reason));
            setLong(statement, 10, row.startedMs);
            setLong(statement, 11, row.finishedMs);
            statement.setLong(12, now);
            statement.setString(13, row.plan);
            statement.setInt(14, row.index);
            statement.executeUpdate();
        }
    }

    private static Long longOrNull(ResultSet rs, int column) throws SQLException {
        long value = rs.getLong(column);
        return rs.wasNull() ? null : value;
    }

    private static void setText(PreparedStatement statement, int index, String text) throws SQLException {
        if (text == null) {
            statement.setNull(index, Types.VARCHAR);
        } else {
            statement.setString(index, text);
        }
    }

    private static void setLong(PreparedStatement statement, int index, Long value) throws SQLException {
        if (value == null) {
            statement.setNull(index, Types.BIGINT);
        } else {
            statement.setLong(index, value);
        }
    }

    static String truncate(String text) {
        return text == null || text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT - 3) + "...";
    }

    private static boolean isDuplicate(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLException sql && (sql.getSQLState() != null && sql.getSQLState().startsWith("23")
                    || sql.getErrorCode() == 1062)) {
                return true;
            }
        }
        return false;
    }
}
