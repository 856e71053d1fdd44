package io.dualwrite.jdbc;

import java.sql.SQLException;
import java.util.List;

/**
 * One key found on two physical shards of one logical table at once. The library never merges such rows (which
 * of them the application means is not its to decide): the read that met them fails with this, so the mirror
 * retries and then parks the key, and a backfill or reconcile chunk fails, each naming the key and the shards.
 * Remove the stray copy by hand; the next apply or repair then carries the one left.
 */
public final class DuplicateShardKeyException extends SQLException {

    private static final long serialVersionUID = 1L;

    /** SQLSTATE of a cardinality violation: more rows than the statement allows. */
    static final String SQL_STATE = "21000";

    private final transient RowKey key;
    private final transient List<ShardLayout.Shard> shards;

    DuplicateShardKeyException(String logicalTable, RowKey key, List<ShardLayout.Shard> shards) {
        super("logical table '" + logicalTable + "': key " + key + " is on " + shards.size() + " shards at once, "
                + shards + "; a key must live on one shard: delete the stray copy (the library does not merge them)",
                SQL_STATE);
        this.key = key;
        this.shards = List.copyOf(shards);
    }

    /** @return the key found more than once */
    public RowKey key() {
        return key;
    }

    /** @return the shards that hold it */
    public List<ShardLayout.Shard> shards() {
        return shards;
    }
}
