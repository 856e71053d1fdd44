package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The statements of a sharded table, each run with the normal dialect SQL on the physical table that the
 * sharding engine's rule names, through {@link ShardedStore#shard}: rows go to the shard their sharding values
 * name; keys go to one shard when the key holds every sharding column, else to every shard (a key alone does not
 * say where a row lives). Nothing here decides a shard; {@link ShardLayout} asks the engine.
 *
 * <p>A layout without a rule (no sharding columns: a source given as a list of physical tables) sends every key to
 * every shard, and a row only to the shard that already holds its key ({@link #holders}); a key on no shard has no
 * home the library may pick, and a key on two shards is an error, never merged.
 */
final class ShardedOps {

    private final ShardLayout layout;
    private final Map<ShardLayout.Shard, TableOps> physical;
    /** Per sharding column, its position among the key columns; null when some sharding column is not a key column. */
    private final int[] shardingKeyPositions;

    ShardedOps(ShardLayout layout, Map<ShardLayout.Shard, TableOps> physical, List<String> canonicalKeyColumns) {
        this.layout = Objects.requireNonNull(layout, "layout");
        this.physical = Map.copyOf(physical);
        if (!this.physical.keySet().containsAll(layout.shards())) {
            throw new IllegalArgumentException("logical table '" + layout.logicalTable() + "': no table operations for"
                    + " every shard of " + layout.shards());
        }
        int[] positions = new int[layout.shardingColumns().size()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = canonicalKeyColumns.indexOf(layout.shardingColumns().get(i));
        }
        // No sharding column at all is no rule: a key then names no shard either.
        this.shardingKeyPositions = positions.length > 0 && java.util.Arrays.stream(positions).allMatch(p -> p >= 0)
                ? positions : null;
    }

    /** Whether the layout has a rule that names a row's shard from its sharding values. */
    boolean hasRule() {
        return !layout.shardingColumns().isEmpty();
    }

    ShardLayout layout() {
        return layout;
    }

    Collection<TableOps> physical() {
        return physical.values();
    }

    /** Whether a key alone names its shard: every sharding column is a key column. */
    boolean keyNamesShard() {
        return shardingKeyPositions != null;
    }

    TableOps ops(ShardLayout.Shard shard) {
        return physical.get(shard);
    }

    Connection connection(Connection logical, ShardLayout.Shard shard) throws SQLException {
        if (!logical.isWrapperFor(ShardedStore.class)) {
            throw new SQLException("table '" + layout.logicalTable() + "' is sharded, but the connection given is not"
                    + " the sharded store's: use the DataSource of io.dualwrite.shard.ShardingSphereTarget (a sharded"
                    + " target) or io.dualwrite.shard.ShardedSource (a sharded source)");
        }
        return logical.unwrap(ShardedStore.class).shard(shard.dataSource());
    }

    ShardLayout.Shard shardOf(Row row) {
        return layout.shardOf(row::get);
    }

    /** Groups keys by the one shard each names; when a key does not name its shard, every shard gets every key. */
    Map<ShardLayout.Shard, List<RowKey>> byShard(Collection<RowKey> keys) {
        Map<ShardLayout.Shard, List<RowKey>> groups = new LinkedHashMap<>();
        if (!keyNamesShard()) {
            for (ShardLayout.Shard shard : layout.shards()) {
                groups.put(shard, new ArrayList<>(keys));
            }
            return groups;
        }
        List<String> columns = layout.shardingColumns();
        for (RowKey key : keys) {
            ShardLayout.Shard shard = layout.shardOf(column -> key.get(shardingKeyPositions[columns.indexOf(column)]));
            groups.computeIfAbsent(shard, s -> new ArrayList<>()).add(key);
        }
        return groups;
    }

    /**
     * Finds the one shard that holds each key, reading every shard (without a lock: the caller writes this store
     * under the other store's lock, or repairs by a row's primary).
     *
     * @return the shard of each key found; keys found nowhere are absent
     * @throws DuplicateShardKeyException if a key is on two shards
     */
    Map<RowKey, ShardLayout.Shard> holders(Connection logical, Collection<RowKey> keys) throws SQLException {
        Map<RowKey, ShardLayout.Shard> holders = new LinkedHashMap<>();
        for (ShardLayout.Shard shard : layout.shards()) {
            for (RowKey key : physical.get(shard).readByKeys(connection(logical, shard), keys, false).keySet()) {
                ShardLayout.Shard other = holders.putIfAbsent(key, shard);
                if (other != null) {
                    throw new DuplicateShardKeyException(layout.logicalTable(), key, List.of(other, shard));
                }
            }
        }
        return holders;
    }

    /**
     * Groups rows by the shard each goes to: the rule's shard, or, without a rule, the shard that holds its key.
     *
     * @throws java.sql.SQLNonTransientException if the layout has no rule and a row's key is on no shard
     */
    Map<ShardLayout.Shard, List<Row>> rowsByShard(Connection logical, Collection<Row> rows,
            java.util.function.Function<Row, RowKey> keyOf) throws SQLException {
        if (hasRule()) {
            return rowsByShard(rows);
        }
        Map<RowKey, Row> byKey = new LinkedHashMap<>();
        rows.forEach(row -> byKey.put(keyOf.apply(row), row));
        Map<RowKey, ShardLayout.Shard> holders = holders(logical, byKey.keySet());
        List<RowKey> homeless = byKey.keySet().stream().filter(key -> !holders.containsKey(key)).toList();
        if (!homeless.isEmpty()) {
            throw new java.sql.SQLNonTransientException("logical table '" + layout.logicalTable() + "' (shards "
                    + describe() + ", declared by " + layout.declaredBy() + ") has no sharding rule, so the library"
                    + " cannot tell which shard new key" + (homeless.size() == 1 ? " " + homeless.get(0) : "s "
                    + homeless) + " belong" + (homeless.size() == 1 ? "s" : "") + " on; it writes a row only on the"
                    + " shard that already holds its key. Declare the store through ShardingSphere so that its rule"
                    + " names the shard (dualwrite.source.sharding-sphere-config, ShardedSource.ofShardingSphere in"
                    + " code), or insert the row on its shard yourself", "0A000");
        }
        Map<ShardLayout.Shard, List<Row>> groups = new LinkedHashMap<>();
        byKey.forEach((key, row) -> groups.computeIfAbsent(holders.get(key), s -> new ArrayList<>()).add(row));
        return groups;
    }

    /** The shards, in a line: all of them when few, else the first, the last and the count. */
    String describe() {
        List<ShardLayout.Shard> shards = layout.shards();
        return shards.size() <= 2 ? shards.toString()
                : "[" + shards.get(0) + " .. " + shards.get(shards.size() - 1) + ", " + shards.size() + " in all]";
    }

    Map<ShardLayout.Shard, List<Row>> rowsByShard(Collection<Row> rows) {
        Map<ShardLayout.Shard, List<Row>> groups = new LinkedHashMap<>();
        for (Row row : rows) {
            groups.computeIfAbsent(shardOf(row), s -> new ArrayList<>()).add(row);
        }
        return groups;
    }
}
