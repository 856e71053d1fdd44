package io.dualwrite.mapping;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableMetadata;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;

/**
 * {@link KeyMapping#idMap()} bound to the target database: source key to generated number, one row
 * each in {@value KeyMapping#ID_MAP_TABLE}.
 *
 * <h2>First sight under concurrency</h2>
 * Two threads, or two instances, can see a new source key at the same moment. The table's unique
 * constraint on {@code (namespace, source_key)} decides: each inserts the key if absent
 * ({@code ON CONFLICT DO NOTHING}, {@code ON DUPLICATE KEY UPDATE} as a no-op, H2's {@code MERGE}),
 * then reads back the number that won. The loser's insert waits for the winner's commit and then does
 * nothing, so both read the same number. Where the store reports the race as a duplicate key (H2) or a
 * deadlock, the whole look-up is simply run again. Keys are inserted in sorted order, so two batches
 * with overlapping keys lock them in the same order and cannot deadlock each other.
 *
 * <p>A mapping never changes once made, so both directions are cached without expiry, up to a size.
 * The id map uses its own short transactions on the target, never the caller's: a number handed out
 * for an apply that then fails is kept, unused, which is harmless.
 */
final class IdMap implements KeyMapping {

    static final int MAX_SOURCE_KEY_LENGTH = 512;
    private static final int MAX_KEYS_PER_STATEMENT = 256;
    private static final int MAX_TRIES = 5;
    private static final String TABLE = KeyMapping.ID_MAP_TABLE;

    private final DataSource target;
    private final Dialect dialect;
    private final String namespace;
    private final String insertSql;
    private final Cache<RowKey, RowKey> targetBySource;
    private final Cache<RowKey, RowKey> sourceByTarget;

    IdMap(DataSource target, Dialect dialect, String namespace, long maximumCachedKeys) {
        this.target = io.dualwrite.jdbc.RestoringDataSource.of(target);
        this.dialect = dialect;
        this.namespace = namespace;
        this.insertSql = Dialect.MARKER + switch (dialect.product()) {
            case POSTGRESQL -> " INSERT INTO " + TABLE + " (namespace, source_key) VALUES (?, ?) ON CONFLICT DO NOTHING";
            case MYSQL, MARIADB -> " INSERT INTO " + TABLE + " (namespace, source_key) VALUES (?, ?)"
                    + " ON DUPLICATE KEY UPDATE source_key = source_key";
            case H2 -> " MERGE INTO " + TABLE + " (namespace, source_key) KEY (namespace, source_key) VALUES (?, ?)";
        };
        this.targetBySource = Caffeine.newBuilder().maximumSize(maximumCachedKeys).build();
        this.sourceByTarget = Caffeine.newBuilder().maximumSize(maximumCachedKeys).build();
    }

    /** @return the CREATE TABLE statement for the target store */
    static String ddl(Dialect dialect) {
        String text = switch (dialect.product()) {
            case MYSQL, MARIADB -> " CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL";
            case POSTGRESQL, H2 -> " NOT NULL";
        };
        return "CREATE TABLE " + TABLE + " (\n"
                + "  target_key " + dialect.identityPrimaryKey() + ",\n"
                + "  namespace VARCHAR(" + KeyMappings.MAX_NAMESPACE_LENGTH + ")" + text + ",\n"
                + "  source_key VARCHAR(" + MAX_SOURCE_KEY_LENGTH + ")" + text + ",\n"
                + "  CONSTRAINT " + TABLE + "_source UNIQUE (namespace, source_key)\n"
                + ")";
    }

    static boolean exists(Connection connection) throws SQLException {
        return TableMetadata.read(connection, TABLE).isPresent();
    }

    static void create(Connection connection, Dialect dialect) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(ddl(dialect));
        }
        if (!connection.getAutoCommit()) {
            connection.commit();
        }
    }

    String namespace() {
        return namespace;
    }

    @Override
    public RowKey toTarget(RowKey sourceKey) {
        return toTargetAll(List.of(sourceKey)).get(sourceKey);
    }

    @Override
    public Map<RowKey, RowKey> toTargetAll(Collection<RowKey> sourceKeys) {
        Map<RowKey, RowKey> mapped = new LinkedHashMap<>();
        TreeMap<String, RowKey> unseen = new TreeMap<>();
        for (RowKey key : sourceKeys) {
            RowKey cached = targetBySource.getIfPresent(key);
            if (cached != null) {
                mapped.put(key, cached);
            } else {
                unseen.put(encode(key), key);
            }
        }
        if (!unseen.isEmpty()) {
            Map<String, Long> numbers = lookUpOrCreate(new ArrayList<>(unseen.keySet()));
            unseen.forEach((text, key) -> {
                RowKey targetKey = RowKey.of(numbers.get(text));
                remember(key, targetKey);
                mapped.put(key, targetKey);
            });
        }
        Map<RowKey, RowKey> inOrder = new LinkedHashMap<>();
        for (RowKey key : sourceKeys) {
            inOrder.put(key, mapped.get(key));
        }
        return inOrder;
    }

    @Override
    public RowKey toSource(RowKey targetKey) {
        RowKey cached = sourceByTarget.getIfPresent(targetKey);
        if (cached != null) {
            return cached;
        }
        if (targetKey.size() != 1 || !(targetKey.get(0) instanceof Long number)) {
            throw new IllegalArgumentException("target key " + targetKey + " is not a single whole number, so "
                    + TABLE + " holds no source key for it");
        }
        String text;
        try (Connection connection = target.getConnection();
                PreparedStatement statement = connection.prepareStatement(Dialect.MARKER
                        + " SELECT source_key FROM " + TABLE + " WHERE namespace = ? AND target_key = ?")) {
            statement.setString(1, namespace);
            statement.setLong(2, number);
            try (ResultSet rs = statement.executeQuery()) {
                text = rs.next() ? rs.getString(1) : null;
            }
        } catch (SQLException e) {
            throw failure("look up target key " + targetKey, e);
        }
        if (text == null) {
            throw new IllegalArgumentException("target key " + targetKey + " has no source key in " + TABLE
                    + " (namespace '" + namespace + "'): the row was created in the target, and rows whose ids are"
                    + " mapped cannot be mirrored back unless they came from the source");
        }
        RowKey sourceKey = RowKey.fromJson(text);
        remember(sourceKey, targetKey);
        return sourceKey;
    }

    private void remember(RowKey sourceKey, RowKey targetKey) {
        targetBySource.put(sourceKey, targetKey);
        sourceByTarget.put(targetKey, sourceKey);
    }

    /** Finds or creates the numbers of keys, given in sorted order. */
    private Map<String, Long> lookUpOrCreate(List<String> texts) {
        for (int attempt = 1;; attempt++) {
            try (Connection connection = target.getConnection()) {
                Map<String, Long> numbers = select(connection, texts);
                List<String> absent = texts.stream().filter(t -> !numbers.containsKey(t)).toList();
                if (!absent.isEmpty()) {
                    insert(connection, absent);
                    numbers.putAll(select(connection, absent));
                }
                if (numbers.size() < texts.size()) {
                    throw new IllegalStateException("dualwrite inserted keys into " + TABLE + " but could not read "
                            + "them back (namespace '" + namespace + "'); were rows deleted from it?");
                }
                return numbers;
            } catch (SQLException e) {
                if (attempt >= MAX_TRIES || !(dialect.isDuplicateKey(e) || dialect.isLockConflict(e))) {
                    throw failure("map " + texts.size() + " new source keys", e);
                }
            }
        }
    }

    private Map<String, Long> select(Connection connection, List<String> texts) throws SQLException {
        Map<String, Long> numbers = new HashMap<>();
        for (int from = 0; from < texts.size(); from += MAX_KEYS_PER_STATEMENT) {
            List<String> slice = texts.subList(from, Math.min(texts.size(), from + MAX_KEYS_PER_STATEMENT));
            String sql = Dialect.MARKER + " SELECT source_key, target_key FROM " + TABLE
                    + " WHERE namespace = ? AND source_key IN (" + String.join(", ", Collections.nCopies(slice.size(), "?"))
                    + ")";
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                statement.setString(1, namespace);
                for (int i = 0; i < slice.size(); i++) {
                    statement.setString(i + 2, slice.get(i));
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        numbers.put(rs.getString(1), rs.getLong(2));
                    }
                }
            }
        }
        return numbers;
    }

    private void insert(Connection connection, List<String> texts) throws SQLException {
        boolean autoCommit = connection.getAutoCommit();
        int isolation = connection.getTransactionIsolation();
        connection.setAutoCommit(false);
        // No gap locks on MySQL: only the keys themselves are locked.
        connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
        try (PreparedStatement statement = connection.prepareStatement(insertSql)) {
            for (String text : texts) {
                statement.setString(1, namespace);
                statement.setString(2, text);
                statement.addBatch();
            }
            statement.executeBatch();
            connection.commit();
        } catch (SQLException e) {
            try {
                connection.rollback();
            } catch (SQLException rollbackFailure) {
                e.addSuppressed(rollbackFailure);
            }
            throw e;
        } finally {
            connection.setTransactionIsolation(isolation);
            connection.setAutoCommit(autoCommit);
        }
    }

    private IllegalStateException failure(String what, SQLException e) {
        return new IllegalStateException("dualwrite could not " + what + " in " + TABLE + " (namespace '" + namespace
                + "'): " + e.getMessage(), e);
    }

    /** The stored form of a source key: its values as a JSON array, which tells {@code "1"} from {@code 1}. */
    static String encode(RowKey key) {
        for (Object value : key.values()) {
            if (!(value instanceof String || value instanceof Long || value instanceof BigInteger
                    || value instanceof BigDecimal || value instanceof java.util.UUID)) {
                throw new IllegalArgumentException("key " + key + " holds a " + value.getClass().getSimpleName()
                        + "; " + TABLE + " keeps keys of text, numbers and uuids only");
            }
        }
        String text = key.toJson();
        if (text.length() > MAX_SOURCE_KEY_LENGTH) {
            throw new IllegalArgumentException("key " + key + " takes " + text.length() + " characters as stored in "
                    + TABLE + ", more than its " + MAX_SOURCE_KEY_LENGTH);
        }
        return text;
    }

    @Override
    public String toString() {
        return "KeyMapping.idMap(" + namespace + ")";
    }
}
