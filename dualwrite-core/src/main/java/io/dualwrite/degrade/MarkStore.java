package io.dualwrite.degrade;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The marks table in the target: one row per mark, kept after an unmark as its history (who marked,
 * unmarked and purged, and why). A purge's checkpoint is its mark's row, so a purge batch locks that row,
 * and an unmark, which waits for the lock, can never interleave with a batch's deletes.
 */
final class MarkStore {

    private static final int MAX_TEXT = 1000;
    private static final int MAX_NAME = 128;
    private static final String COLUMNS = "id, table_name, kind, from_key, to_key, routing_value, state, marked_by,"
            + " mark_reason, marked_ms, purge_state, purged_rows, refused_rows";

    private final DataSource dataSource;
    private final String table;

    MarkStore(DataSource dataSource, String table) {
        this.dataSource = dataSource;
        this.table = table;
    }

    /** @return the table's DDL; the types are common to MariaDB, PostgreSQL and H2 */
    static String ddl(String table) {
        return "CREATE TABLE " + table + " (\n"
                + "  id BIGINT NOT NULL PRIMARY KEY,\n"
                + "  table_name VARCHAR(" + MAX_NAME + ") NOT NULL,\n"
                + "  kind VARCHAR(16) NOT NULL,\n"
                + "  from_key VARCHAR(" + MAX_TEXT + "),\n"
                + "  to_key VARCHAR(" + MAX_TEXT + "),\n"
                + "  routing_value VARCHAR(" + MAX_TEXT + "),\n"
                + "  state VARCHAR(16) NOT NULL,\n"
                + "  marked_by VARCHAR(" + MAX_NAME + ") NOT NULL,\n"
                + "  mark_reason VARCHAR(" + MAX_TEXT + ") NOT NULL,\n"
                + "  marked_ms BIGINT NOT NULL,\n"
                + "  unmarked_by VARCHAR(" + MAX_NAME + "),\n"
                + "  unmark_reason VARCHAR(" + MAX_TEXT + "),\n"
                + "  unmarked_ms BIGINT,\n"
                + "  purge_state VARCHAR(16) NOT NULL,\n"
                + "  purge_after VARCHAR(" + MAX_TEXT + "),\n"
                + "  purged_rows BIGINT NOT NULL,\n"
                + "  refused_rows BIGINT NOT NULL,\n"
                + "  purged_by VARCHAR(" + MAX_NAME + "),\n"
                + "  purge_reason VARCHAR(" + MAX_TEXT + ")\n"
                + ")";
    }

    /**
     * Creates the table if it is missing and allowed, or names the DDL to run.
     *
     * @throws IllegalStateException if the table is missing and may not be created
     */
    void ensureTable(boolean create) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            if (TableMetadata.read(connection, table).isPresent()) {
                return;
            }
            if (!create) {
                throw new IllegalStateException("dualwrite degradation needs the table " + table + " in the target"
                        + " database. Create it with:\n" + ddl(table)
                        + ";\nor set dualwrite.schema.create=true to let dualwrite do it.");
            }
            try (Statement statement = connection.createStatement()) {
                statement.execute(ddl(table));
            } catch (SQLException e) {
                if (TableMetadata.read(connection, table).isEmpty()) {
                    throw e;
                }
                // Another instance starting at the same time created it first.
            }
        }
    }

    /** Stores a new mark under the next free id. */
    DegradeMark insert(DegradeMark mark, String actor, String reason, Instant now) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            for (int attempt = 0; ; attempt++) {
                long id;
                try (Statement statement = connection.createStatement();
                        ResultSet rs = statement.executeQuery(Dialect.MARKER + " SELECT MAX(id) FROM " + table)) {
                    rs.next();
                    id = rs.getLong(1) + 1;
                }
                try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + table
                        + " (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0)")) {
                    insert.setLong(1, id);
                    insert.setString(2, mark.table());
                    insert.setString(3, mark.kind().name());
                    insert.setString(4, mark.from() == null ? null : mark.from().toJson());
                    insert.setString(5, mark.to() == null ? null : mark.to().toJson());
                    insert.setString(6, mark.value());
                    insert.setString(7, DegradeMark.State.MARKED.name());
                    insert.setString(8, clip(actor, MAX_NAME));
                    insert.setString(9, clip(reason, MAX_TEXT));
                    insert.setLong(10, now.toEpochMilli());
                    insert.setString(11, DegradeMark.PurgeState.NONE.name());
                    insert.executeUpdate();
                    return read(connection, id, false).orElseThrow();
                } catch (SQLException e) {
                    // Two operators marking at once took the same id: the later one takes the next.
                    if (attempt >= 5 || !Dialect.of(connection).isDuplicateKey(e)) {
                        throw e;
                    }
                }
            }
        }
    }

    /** @return the marks in force */
    List<DegradeMark> active() throws SQLException {
        return select(" WHERE state = ?", DegradeMark.State.MARKED.name());
    }

    /** @return every mark, newest first at the end */
    List<DegradeMark> all() throws SQLException {
        return select("", null);
    }

    Optional<DegradeMark> read(long id) throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            return read(connection, id, false);
        }
    }

    /** Reads a mark; with {@code lock}, holds its row until the connection's transaction ends. */
    Optional<DegradeMark> read(Connection connection, long id, boolean lock) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT " + COLUMNS
                + " FROM " + table + " WHERE id = ?" + (lock ? " FOR UPDATE" : ""))) {
            select.setLong(1, id);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(mark(rs)) : Optional.empty();
            }
        }
    }

    /** @return the purge's checkpoint: the last target key it looked at, or null to start at the first */
    RowKey purgeAfter(Connection connection, long id) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT purge_after FROM "
                + table + " WHERE id = ?")) {
            select.setLong(1, id);
            try (ResultSet rs = select.executeQuery()) {
                String json = rs.next() ? rs.getString(1) : null;
                return json == null ? null : RowKey.fromJson(json);
            }
        }
    }

    /** Starts a purge (or notes who asked again), keeping any checkpoint. */
    void startPurge(Connection connection, long id, String actor, String reason) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET purge_state = ?, purged_by = ?, purge_reason = ? WHERE id = ?")) {
            update.setString(1, DegradeMark.PurgeState.RUNNING.name());
            update.setString(2, clip(actor, MAX_NAME));
            update.setString(3, clip(reason, MAX_TEXT));
            update.setLong(4, id);
            update.executeUpdate();
        }
    }

    /** Records a purge batch, in the batch's own transaction. */
    void advancePurge(Connection connection, long id, RowKey after, long purged, long refused, boolean done)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET purge_after = ?, purged_rows = purged_rows + ?, refused_rows = refused_rows + ?,"
                + " purge_state = ? WHERE id = ?")) {
            update.setString(1, after == null ? null : after.toJson());
            update.setLong(2, purged);
            update.setLong(3, refused);
            update.setString(4, (done ? DegradeMark.PurgeState.DONE : DegradeMark.PurgeState.RUNNING).name());
            update.setLong(5, id);
            update.executeUpdate();
        }
    }

    /** Moves a mark to another state, recording who unmarked it and why (the first time). */
    void setState(Connection connection, long id, DegradeMark.State state, String actor, String reason, Instant now)
            throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET state = ?, unmarked_by = COALESCE(unmarked_by, ?), unmark_reason = COALESCE(unmark_reason, ?),"
                + " unmarked_ms = COALESCE(unmarked_ms, ?) WHERE id = ?")) {
            update.setString(1, state.name());
            update.setString(2, clip(actor, MAX_NAME));
            update.setString(3, clip(reason, MAX_TEXT));
            update.setLong(4, now.toEpochMilli());
            update.setLong(5, id);
            update.executeUpdate();
        }
    }

    DataSource dataSource() {
        return dataSource;
    }

    private List<DegradeMark> select(String where, String parameter) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT " + COLUMNS + " FROM "
                        + table + where + " ORDER BY id")) {
            if (parameter != null) {
                select.setString(1, parameter);
            }
            List<DegradeMark> marks = new ArrayList<>();
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    marks.add(mark(rs));
                }
            }
            return marks;
        }
    }

    private static DegradeMark mark(ResultSet rs) throws SQLException {
        String from = rs.getString("from_key");
        String to = rs.getString("to_key");
        return new DegradeMark(rs.getLong("id"), rs.getString("table_name"),
                DegradeMark.Kind.valueOf(rs.getString("kind")), from == null ? null : RowKey.fromJson(from),
                to == null ? null : RowKey.fromJson(to), rs.getString("routing_value"),
                DegradeMark.State.valueOf(rs.getString("state")), rs.getString("marked_by"), rs.getString("mark_reason"),
                Instant.ofEpochMilli(rs.getLong("marked_ms")), DegradeMark.PurgeState.valueOf(rs.getString("purge_state")),
                rs.getLong("purged_rows"), rs.getLong("refused_rows"));
    }

    private static String clip(String text, int max) {
        String value = text == null ? "" : text;
        return value.length() <= max ? value : value.substring(0, max);
    }
}
