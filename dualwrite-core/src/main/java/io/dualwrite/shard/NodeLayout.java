package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * A logical table given as a plain list of physical tables, without a sharding rule: it says where the rows are,
 * never where a new row should go.
 */
record NodeLayout(String logicalTable, List<Shard> shards, String declaredBy) implements ShardLayout {

    NodeLayout {
        shards = List.copyOf(shards);
    }

    @Override
    public List<String> shardingColumns() {
        return List.of();
    }

    @Override
    public Shard shardOf(Function<String, Object> valueOf) {
        throw new IllegalStateException("logical table '" + logicalTable + "' (" + declaredBy + ") has no sharding"
                + " rule: it lists the shards that hold its rows, not the shard a new row goes to");
    }

    @Override
    public Optional<String> keyGeneratorColumn() {
        return Optional.empty();
    }

    @Override
    public String toString() {
        return logicalTable + " " + shards;
    }
}
