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
        this.shardingKeyPositions = java.util.Arrays.stream(positions).allMatch(p -> p >= 0) ? positions : null;
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
                    + " the sharded target's: use the DataSource of io.dualwrite.shard.ShardingSphereTarget");
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

    Map<ShardLayout.Shard, List<Row>> rowsByShard(Collection<Row> rows) {
        Map<ShardLayout.Shard, List<Row>> groups = new LinkedHashMap<>();
        for (Row row : rows) {
            groups.computeIfAbsent(shardOf(row), s -> new ArrayList<>()).add(row);
        }
        return groups;
    }
}
