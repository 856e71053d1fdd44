package io.dualwrite.routing;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import javax.sql.DataSource;

/** {@link UserCopy#throughMirrors}: a user's rows handed, table by table, to the locked apply. */
final class MirrorUserCopy implements UserCopy {

    private static final int BATCH = 200;

    private final MappedTables tables;
    private final List<String> order;
    private final Mirror forward;
    private final Mirror reverse;
    private final DataSource source;
    private final DataSource target;
    private volatile Consumer<String> afterBatch = table -> { };

    MirrorUserCopy(MappedTables tables, List<String> order, Mirror forward, Mirror reverse, DataSource source,
            DataSource target) {
        this.tables = Objects.requireNonNull(tables, "tables");
        this.forward = Objects.requireNonNull(forward, "forward");
        this.reverse = Objects.requireNonNull(reverse, "reverse");
        this.source = Objects.requireNonNull(source, "source");
        this.target = Objects.requireNonNull(target, "target");
        List<String> names = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        if (order == null || order.isEmpty()) {
            for (MappedTable table : tables.all()) {
                if (table.mapping().routingColumn().isPresent()) {
                    names.add(table.name());
                }
            }
        } else {
            for (String name : order) {
                if (!tables.contains(name)) {
                    problems.add("table '" + name + "' is not mapped");
                } else if (tables.get(name).mapping().routingColumn().isEmpty()) {
                    problems.add("table '" + name + "' has no dualwrite.tables." + name + ".routing-column");
                } else {
                    names.add(tables.get(name).name());
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("dualwrite.routing.move-order: " + String.join("; ", problems));
        }
        this.order = List.copyOf(names);
    }

    @Override
    public void copy(Object key, Route from, Route to, Duration timeout) throws SQLException {
        Objects.requireNonNull(key, "key");
        if (from == to) {
            return;
        }
        long deadline = System.nanoTime() + timeout.toNanos();
        for (String name : order) {
            MappedTable table = tables.get(name);
            String column = table.mapping().routingColumn().orElseThrow();
            String renamed = table.mapping().renames().get(column.toLowerCase(Locale.ROOT));
            // Keys in both stores: rows of the user the primary no longer has are deleted from the other one.
            Set<RowKey> keys = new LinkedHashSet<>(keysOf(source, table.source(), column, key));
            for (RowKey targetKey : keysOf(target, table.target(), renamed == null ? column : renamed, key)) {
                keys.add(table.toSourceKey(targetKey));
            }
            List<RowKey> all = new ArrayList<>(keys);
            for (int at = 0; at < all.size(); at += BATCH) {
                List<RowKey> batch = all.subList(at, Math.min(all.size(), at + BATCH));
                Duration left = Duration.ofNanos(Math.max(1_000_000, deadline - System.nanoTime()));
                int missed = apply(table, batch, from, left);
                if (missed > 0) {
                    throw new IllegalStateException("table '" + name + "': " + missed + " rows of user " + key
                            + " could not be copied within the move's timeout (writers held them, or the other store"
                            + " failed); the user stays on " + from);
                }
                afterBatch.accept(name);
            }
        }
    }

    private int apply(MappedTable table, List<RowKey> sourceKeys, Route from, Duration timeout) throws SQLException {
        if (from == Route.SOURCE) {
            return forward.repair(table.name(), sourceKeys, timeout).size();
        }
        Map<RowKey, RowKey> targetKeys = new LinkedHashMap<>();
        for (RowKey key : sourceKeys) {
            targetKeys.put(table.toTargetKey(key), key);
        }
        return reverse.repair(table.name(), targetKeys.keySet(), timeout).size();
    }

    /**
     * The keys of the user's rows in one store. A sharded table is asked on each of its physical tables (through
     * the store's connection to that table's real database): the library's own connection to a sharded store
     * reaches its home database only, and a routing column that is not the sharding column says nothing of where
     * the user's rows live.
     */
    private static List<RowKey> keysOf(DataSource store, TableOps ops, String column, Object key) throws SQLException {
        try (Connection connection = store.getConnection()) {
            java.util.Optional<ShardLayout> layout = ops.shardLayout();
            if (layout.isEmpty()) {
                return keysOn(connection, ops, ops, column, key);
            }
            ShardedStore shards = connection.unwrap(ShardedStore.class);
            List<RowKey> keys = new ArrayList<>();
            for (ShardLayout.Shard shard : layout.get().shards()) {
                keys.addAll(keysOn(shards.shard(shard.dataSource()), ops, ops.shardOps(shard), column, key));
            }
            return keys;
        }
    }

    /** The keys of the user's rows in {@code physical}'s table, made canonical by the logical table's {@code ops}. */
    private static List<RowKey> keysOn(Connection connection, TableOps ops, TableOps physical, String column,
            Object key) throws SQLException {
        Dialect dialect = physical.dialect();
        List<String> keyColumns = physical.keyColumns();
        StringBuilder select = new StringBuilder(Dialect.MARKER + " SELECT ");
        for (int i = 0; i < keyColumns.size(); i++) {
            select.append(i == 0 ? "" : ", ").append(dialect.quote(keyColumns.get(i)));
        }
        select.append(" FROM ").append(dialect.tableName(physical.table())).append(" WHERE ")
                .append(dialect.quote(physical.table().storedName(column))).append(" = ?");
        List<RowKey> keys = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(select.toString())) {
            statement.setObject(1, bindable(key, physical.table().column(column).orElse(null)));
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    List<Object> values = new ArrayList<>();
                    for (int i = 1; i <= keyColumns.size(); i++) {
                        values.add(rs.getObject(i));
                    }
                    keys.add(ops.canonicalKey(RowKey.of(values)));
                }
            }
        }
        return keys;
    }

    /** A key given as text (the endpoint's JSON) bound to a numeric column as a number, which PostgreSQL needs. */
    private static Object bindable(Object key, ColumnMetadata column) {
        if (column == null || !(key instanceof String text)) {
            return key;
        }
        return switch (column.jdbcType()) {
            case Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.TINYINT, Types.NUMERIC, Types.DECIMAL ->
                    new BigDecimal(text.trim());
            default -> key;
        };
    }

    /** Runs after each batch of keys the apply copied: for the test that fails a move mid-copy. */
    void afterBatchForTesting(Consumer<String> hook) {
        this.afterBatch = Objects.requireNonNull(hook, "hook");
    }
}
