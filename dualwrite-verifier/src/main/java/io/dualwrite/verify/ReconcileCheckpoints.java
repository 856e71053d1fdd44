package io.dualwrite.verify;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * The reconciler's checkpoint table in the target: one row per job (table and window) with the phase and
 * the last key compared, the counts so far and the sample keys, so that an interrupted run resumes after its
 * last chunk with its findings intact. Runs on the caller's connection, in auto-commit.
 */
final class ReconcileCheckpoints extends LibraryTable {

    private static final int MAX_SAMPLES_LENGTH = 4000;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The state of one job. */
    static final class State {
        String phase = "SOURCE";
        RowKey lastKey;
        long compared;
        long missing;
        long extra;
        long different;
        long repaired;
        long unrepaired;
        final Map<Mismatch.Kind, List<RowKey>> samples = new EnumMap<>(Mismatch.Kind.class);
        boolean done;
    }

    ReconcileCheckpoints(Dialect dialect, String table) {
        super(dialect, table);
    }

    @Override
    String ddl() {
        return "CREATE TABLE " + table + " (\n"
                + "  job VARCHAR(255) NOT NULL PRIMARY KEY,\n"
                + "  phase VARCHAR(16) NOT NULL,\n"
                + "  last_key VARCHAR(2000),\n"
                + "  compared BIGINT NOT NULL,\n"
                + "  missing BIGINT NOT NULL,\n"
                + "  extra BIGINT NOT NULL,\n"
                + "  different BIGINT NOT NULL,\n"
                + "  repaired BIGINT NOT NULL,\n"
                + "  unrepaired BIGINT NOT NULL,\n"
                + "  samples VARCHAR(" + MAX_SAMPLES_LENGTH + "),\n"
                + "  status VARCHAR(16) NOT NULL,\n"
                + "  updated_ms BIGINT NOT NULL\n"
                + ")";
    }

    /** @return the job's state, or null if it has none */
    State load(Connection connection, String job) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT phase, last_key,"
                + " compared, missing, extra, different, repaired, unrepaired, samples, status FROM " + table
                + " WHERE job = ?")) {
            statement.setString(1, job);
            try (ResultSet rs = statement.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                State state = new State();
                state.phase = rs.getString(1);
                state.lastKey = rs.getString(2) == null ? null : RowKey.fromJson(rs.getString(2));
                state.compared = rs.getLong(3);
                state.missing = rs.getLong(4);
                state.extra = rs.getLong(5);
                state.different = rs.getLong(6);
                state.repaired = rs.getLong(7);
                state.unrepaired = rs.getLong(8);
                if (rs.getString(9) != null) {
                    Map<String, List<String>> samples = JSON.readValue(rs.getString(9),
                            new TypeReference<Map<String, List<String>>>() { });
                    samples.forEach((kind, keys) -> state.samples.put(Mismatch.Kind.valueOf(kind),
                            new ArrayList<>(keys.stream().map(RowKey::fromJson).toList())));
                }
                state.done = "DONE".equals(rs.getString(10));
                return state;
            }
        }
    }

    /** Forgets jobs' states, so that their next runs start over. */
    void delete(Connection connection, List<String> jobs) throws SQLException {
        try (PreparedStatement delete = connection.prepareStatement(Dialect.MARKER + " DELETE FROM " + table
                + " WHERE job = ?")) {
            for (String job : jobs) {
                delete.setString(1, job);
                delete.executeUpdate();
            }
        }
    }

    /**
     * Writes a job's state, only while {@code fence}'s owner holds its lease: the condition is part of the one
     * statement that writes, so an instance that lost the lease (frozen past it, its unit taken over and finished)
     * cannot overwrite the new holder's state, whatever it was doing when it stopped.
     *
     * @return false, writing nothing, when the lease is another instance's (or nobody's row)
     */
    boolean save(Connection connection, String job, State state, long now, ReconcileLeases.Fence fence)
            throws SQLException {
        String samples = samplesJson(state);
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + table
                + " SET phase = ?, last_key = ?, compared = ?, missing = ?, extra = ?, different = ?, repaired = ?,"
                + " unrepaired = ?, samples = ?, status = ?, updated_ms = ? WHERE job = ? AND EXISTS (SELECT 1 FROM "
                + fence.table() + " WHERE table_name = ? AND owner = ?)")) {
            bind(update, state, samples, now);
            update.setString(12, job);
            update.setString(13, fence.name());
            update.setString(14, fence.owner());
            if (update.executeUpdate() == 1) {
                return true;
            }
        }
        if (load(connection, job) != null) {
            return false;
        }
        // The lease row is the one row the insert selects, so a lost lease inserts nothing.
        try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + table
                + " (phase, last_key, compared, missing, extra, different, repaired, unrepaired, samples, status,"
                + " updated_ms, job) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM " + fence.table()
                + " WHERE table_name = ? AND owner = ?")) {
            bind(insert, state, samples, now);
            insert.setString(12, job);
            insert.setString(13, fence.name());
            insert.setString(14, fence.owner());
            return insert.executeUpdate() == 1;
        }
    }

    private static void bind(PreparedStatement statement, State state, String samples, long now)
            throws SQLException {
        statement.setString(1, state.phase);
        if (state.lastKey == null) {
            statement.setNull(2, Types.VARCHAR);
        } else {
            statement.setString(2, state.lastKey.toJson());
        }
        statement.setLong(3, state.compared);
        statement.setLong(4, state.missing);
        statement.setLong(5, state.extra);
        statement.setLong(6, state.different);
        statement.setLong(7, state.repaired);
        statement.setLong(8, state.unrepaired);
        statement.setString(9, samples);
        statement.setString(10, state.done ? "DONE" : "RUNNING");
        statement.setLong(11, now);
    }

    /** The samples as JSON, dropping keys from the end until it fits the column. */
    private static String samplesJson(State state) {
        Map<String, List<String>> samples = new LinkedHashMap<>();
        state.samples.forEach((kind, keys) -> samples.put(kind.name(),
                new ArrayList<>(keys.stream().map(RowKey::toJson).toList())));
        String json = JSON.writeValueAsString(samples);
        while (json.length() > MAX_SAMPLES_LENGTH) {
            samples.values().stream().filter(keys -> !keys.isEmpty()).findFirst()
                    .ifPresent(keys -> keys.remove(keys.size() - 1));
            json = JSON.writeValueAsString(samples);
        }
        return json;
    }
}
