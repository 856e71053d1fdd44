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
 * <p>A hot key changed a thousand times during an outage has a thousand rows. A relay that claims some of
 * them also claims the others ({@link #claimSameKeys}), through an index on {@code (table_name, row_key)}:
 * every one of them was committed before the apply reads the key, so the one apply covers them all.
 *
 * <p>Times are the application's epoch milliseconds, not the database's clock, so that lag and retry
 * schedules mean the same thing on every store.
 */
final class OutboxStore {

    private static final int MAX_ERROR_LENGTH = 1000;

    /** Keys bound in one {@code IN} list when claiming their other rows. */
    private static final int SAME_KEYS_PER_STATEMENT = 200;

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

    /** @return the statements that create the table and its key index on this store, each ended by ';' */
    String ddl() {
        return String.join(";\n", statements()) + ";";
    }

    /** @return the statements that create the table and its key index on this store, in order */
    List<String> statements() {
        return List.of(createTable(), createKeyIndex());
    }

    private String createTable() {
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

    /** The index the relay finds a claimed key's other rows by; MySQL indexes the key's first 255 characters. */
    String createKeyIndex() {
        String bare = table.substring(table.lastIndexOf('.') + 1);
        String keyColumn = switch (dialect.product()) {
            case MYSQL, MARIADB -> "row_key(255)";
            case POSTGRESQL, H2 -> "row_key";
        };
        return "CREATE INDEX " + bare + "_key_idx ON " + table + " (table_name, " + keyColumn + ")";
    }

    void create(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            for (String sql : statements()) {
                statement.execute(sql);
            }
        }
    }

    /**
     * Whether the table has an index that starts with {@code (table_name, row_key)}: tables created before
     * the relay claimed a key's rows together lack it, and each claim then scans the table.
     */
    boolean hasKeyIndex(Connection connection) throws SQLException {
        java.util.Optional<TableMetadata> metadata = TableMetadata.read(connection, table);
        if (metadata.isEmpty()) {
            return false;
        }
        boolean catalogs = dialect.product() == Dialect.Product.MYSQL || dialect.product() == Dialect.Product.MARIADB;
        String schema = metadata.get().schema();
        String catalogFilter = catalogs ? (schema != null ? schema : connection.getCatalog()) : null;
        String schemaFilter = catalogs ? null : (schema != null ? schema : connection.getSchema());
        java.util.Map<String, java.util.TreeMap<Short, String>> columnsByIndex = new java.util.HashMap<>();
        try (ResultSet rs = connection.getMetaData().getIndexInfo(catalogFilter, schemaFilter,
                metadata.get().name(), false, true)) {
            while (rs.next()) {
                String index = rs.getString("INDEX_NAME");
                String column = rs.getString("COLUMN_NAME");
                if (index != null && column != null) {
                    columnsByIndex.computeIfAbsent(index, i -> new java.util.TreeMap<>())
                            .put(rs.getShort("ORDINAL_POSITION"), column.toLowerCase(java.util.Locale.ROOT));
                }
            }
        }
        return columnsByIndex.values().stream().map(columns -> List.copyOf(columns.values()))
                .anyMatch(columns -> columns.size() >= 2 && columns.get(0).equals("table_name")
                        && columns.get(1).equals("row_key"));
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

    /**
     * Claims the other unparked rows of the hot keys among those claimed (those with two rows or more in the
     * batch), up to {@code limit}, skipping rows another relay holds; rows waiting out a back-off are taken
     * too, as the apply about to run is their retry. A batch of distinct keys looks nothing up. Each
     * was committed before this call returns, so an apply that reads its key afterwards covers its change: one
     * apply per key however many times the key changed, and every row of it deleted after.
     *
     * @return the newly claimed rows, in id order, none of them among {@code claimed}
     */
    List<Entry> claimSameKeys(Connection connection, List<Entry> claimed, int limit) throws SQLException {
        java.util.Set<Long> held = new java.util.HashSet<>();
        java.util.Map<String, java.util.Set<String>> seen = new java.util.HashMap<>();
        java.util.Map<String, java.util.Set<String>> keysByTable = new java.util.LinkedHashMap<>();
        for (Entry entry : claimed) {
            held.add(entry.id());
            String key = entry.key().toJson();
            if (!seen.computeIfAbsent(entry.table(), t -> new java.util.HashSet<>()).add(key)) {
                // Twice in one batch: a hot key, likely to have more rows further on.
                keysByTable.computeIfAbsent(entry.table(), t -> new java.util.LinkedHashSet<>()).add(key);
            }
        }
        List<Entry> more = new ArrayList<>();
        for (java.util.Map.Entry<String, java.util.Set<String>> group : keysByTable.entrySet()) {
            List<String> keys = List.copyOf(group.getValue());
            for (int from = 0; from < keys.size() && more.size() < limit; from += SAME_KEYS_PER_STATEMENT) {
                List<String> slice = keys.subList(from, Math.min(keys.size(), from + SAME_KEYS_PER_STATEMENT));
                // Our own claimed rows come back too (a transaction never skips its own locks): left out by id.
                try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER
                        + " SELECT id, table_name, row_key, attempts, created_ms FROM " + table
                        + " WHERE table_name = ? AND row_key IN (" + String.join(", ", java.util.Collections.nCopies(
                                slice.size(), "?")) + ") AND parked = 0 ORDER BY id LIMIT "
                        + (limit - more.size() + held.size()) + " " + dialect.forUpdateSkipLocked())) {
                    int index = 1;
                    statement.setString(index++, group.getKey());
                    for (String key : slice) {
                        statement.setString(index++, key);
                    }
                    try (ResultSet rs = statement.executeQuery()) {
                        while (rs.next() && more.size() < limit) {
                            long id = rs.getLong(1);
                            if (held.add(id)) {
                                more.add(new Entry(id, rs.getString(2), RowKey.fromJson(rs.getString(3)), rs.getInt(4),
                                        rs.getLong(5)));
                            }
                        }
                    }
                }
            }
        }
        more.sort(java.util.Comparator.comparingLong(Entry::id));
        return more;
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
