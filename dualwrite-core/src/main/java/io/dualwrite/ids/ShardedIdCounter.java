package io.dualwrite.ids;

import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import io.dualwrite.jdbc.TableOps;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The counters of a sharded logical table, one per physical table, seen as one. Each physical table's sequence hands
 * out ids of its own, and the logical table's key must stay unique across them: so every setting spreads the shards
 * over the ids it is given. Asked for "from {@code next}, by {@code increment}, up to {@code cap}", shard {@code i}
 * of {@code n} starts at {@code next + i * increment} and steps by {@code n * increment}, up to the same cap: the
 * shards together hand out exactly the ids the one counter would have, none twice, and (for INTERLEAVE) all of the
 * parity asked for. A reading reports the most advanced shard and the logical step, so the checks of
 * {@link IdAlignment} read it as one counter. Each counter is reached on its own real database's connection.
 *
 * <p>Only counters that take an increment (sequences, identities) can be spread: a sharded table whose shards
 * generate ids with MariaDB's {@code AUTO_INCREMENT} is refused by {@link IdAlignment}'s guard.
 */
final class ShardedIdCounter extends IdCounter {

    private final Map<ShardLayout.Shard, IdCounter> shards;

    private ShardedIdCounter(TableOps logical, String column, Map<ShardLayout.Shard, IdCounter> shards) {
        super(logical.dialect(), logical.table(), column);
        this.shards = shards;
    }

    /**
     * Finds the counter of every physical table of a sharded logical table.
     *
     * @param connection a connection of the sharded store
     * @param logical the logical table's operations, sharded
     * @param column the key column
     * @return the counter; empty when no shard generates the column
     * @throws SQLException if a catalog cannot be read
     * @throws IllegalStateException naming the shard when some shards generate the column and others do not
     */
    static Optional<IdCounter> find(Connection connection, TableOps logical, String column) throws SQLException {
        ShardLayout layout = logical.shardLayout().orElseThrow();
        ShardedStore store = connection.unwrap(ShardedStore.class);
        Map<ShardLayout.Shard, IdCounter> found = new java.util.LinkedHashMap<>();
        List<ShardLayout.Shard> without = new ArrayList<>();
        for (ShardLayout.Shard shard : layout.shards()) {
            Optional<IdCounter> counter = IdCounter.find(store.shard(shard.dataSource()), logical.dialect(),
                    logical.shardOps(shard).table(), column);
            if (counter.isPresent()) {
                found.put(shard, counter.get());
            } else {
                without.add(shard);
            }
        }
        if (found.isEmpty()) {
            return Optional.empty();
        }
        if (!without.isEmpty()) {
            throw new IllegalStateException("dualwrite.ids: logical table '" + layout.logicalTable() + "' generates "
                    + column + " on data nodes " + found.keySet() + " but not on " + without + "; give every physical"
                    + " table the same identity, or none");
        }
        return Optional.of(new ShardedIdCounter(logical, column, found));
    }

    @Override
    boolean followsExplicitIds() {
        return shards.values().stream().anyMatch(IdCounter::followsExplicitIds);
    }

    /** @return whether every shard's counter takes an increment, so that the shards can be spread */
    boolean spreadable() {
        return shards.values().stream().noneMatch(counter -> counter instanceof MariaDb);
    }

    @Override
    Reading read(Connection connection) throws SQLException {
        long next = Long.MIN_VALUE;
        long increment = 0;
        long cap = Long.MAX_VALUE;
        long typeMax = Long.MAX_VALUE;
        long maxId = 0;
        for (Map.Entry<ShardLayout.Shard, IdCounter> shard : shards.entrySet()) {
            Reading reading = shard.getValue().read(node(connection, shard.getKey()));
            next = Math.max(next, reading.next());
            increment = increment == 0 ? reading.increment() : Math.min(increment, reading.increment());
            cap = Math.min(cap, reading.cap());
            typeMax = Math.min(typeMax, reading.typeMax());
            maxId = Math.max(maxId, reading.maxId());
        }
        // Spread shards step by n times the logical step; unspread ones (before the first split) by their own.
        int n = shards.size();
        long logicalIncrement = increment % n == 0 ? increment / n : increment;
        return new Reading(next, logicalIncrement, cap, typeMax, maxId);
    }

    @Override
    void set(Connection connection, long next, long increment, long cap) throws SQLException {
        // A counter never moves back, so the spread starts at or above the most advanced shard, keeping the
        // residue of the start asked for (the parity, for INTERLEAVE).
        long ahead = read(connection).next();
        long base = next == 0 ? ahead : next;
        if (base < ahead) {
            base = ahead + Math.floorMod(next - ahead, increment);
        }
        int i = 0;
        for (Map.Entry<ShardLayout.Shard, IdCounter> shard : shards.entrySet()) {
            shard.getValue().set(node(connection, shard.getKey()), base + i * increment, shards.size() * increment, cap);
            i++;
        }
    }

    @Override
    long maxIdBelow(Connection connection, long bound) throws SQLException {
        long max = 0;
        for (Map.Entry<ShardLayout.Shard, IdCounter> shard : shards.entrySet()) {
            max = Math.max(max, shard.getValue().maxIdBelow(node(connection, shard.getKey()), bound));
        }
        return max;
    }

    @Override
    String describe() {
        return table.name() + "." + column + " (" + dialect.product().name().toLowerCase(java.util.Locale.ROOT) + ", "
                + shards.size() + " physical tables from " + shards.keySet().iterator().next() + ")";
    }

    private static Connection node(Connection connection, ShardLayout.Shard shard) throws SQLException {
        return connection.unwrap(ShardedStore.class).shard(shard.dataSource());
    }
}
