package io.dualwrite.jdbc;

import java.util.List;
import java.util.Optional;
import java.util.function.Function;

/**
 * How a sharding engine splits one logical table into physical tables: the list of physical shards and, for a
 * row's values of the sharding columns, the one shard that the engine's own rule names. The library never
 * computes a shard itself; an implementation asks the engine (see {@code io.dualwrite.shard}).
 *
 * <p>A layout without sharding columns has no rule: it lists its shards and nothing more (a sharded source given
 * as a list of physical tables). A key is then looked for on every shard, a row is written only on the shard that
 * already holds its key, and {@link #shardOf} refuses.
 */
public interface ShardLayout {

    /**
     * One physical table of a logical table.
     *
     * @param dataSource the name the sharding engine gives the real database holding it
     * @param table the physical table's name in that database
     */
    record Shard(String dataSource, String table) {

        @Override
        public String toString() {
            return dataSource + "." + table;
        }
    }

    /** @return the logical table's name */
    String logicalTable();

    /** @return every physical shard, in the engine's order */
    List<Shard> shards();

    /** @return the columns whose values decide the shard, lower case; empty when the layout has no rule */
    List<String> shardingColumns();

    /**
     * Names the shard that holds a row, by the engine's sharding rule.
     *
     * @param valueOf the row's value of a sharding column, by its lower-case name
     * @return the shard
     * @throws IllegalArgumentException if a sharding value is null, or the rule names no shard or several
     * @throws IllegalStateException if the layout has no rule ({@link #shardingColumns()} is empty)
     */
    Shard shardOf(Function<String, Object> valueOf);

    /**
     * Where this layout is declared, for messages that must say what to change.
     *
     * @return the property or configuration that lists the shards
     */
    default String declaredBy() {
        return "the sharding engine's configuration of logical table '" + logicalTable() + "'";
    }

    /** @return the column the engine fills with generated keys on insert, lower case, if it has one */
    Optional<String> keyGeneratorColumn();
}
