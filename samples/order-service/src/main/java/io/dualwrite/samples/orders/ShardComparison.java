package io.dualwrite.samples.orders;

import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.routing.Route;
import io.dualwrite.shard.ShardingSphereTarget;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The old store's orders against each physical shard of a sharded new store, independent of the library's
 * reconciler: every physical table is read directly in its own database, and each old row is expected on the
 * shard that ShardingSphere's rule names for its buyer. An order on the wrong shard counts as missing where it
 * belongs and extra where it is.
 */
final class ShardComparison {

    /**
     * One physical shard's count.
     *
     * @param shard {@code ds_0.orders_1}
     * @param expected old orders that belong there
     * @param found orders it holds
     * @param missing expected orders it lacks
     * @param extra orders it holds that do not belong there (or no longer exist)
     * @param differing orders there in both stores whose values differ
     */
    record ShardCount(String shard, long expected, long found, long missing, long extra, long differing) {

        /** @return rows that make this shard differ from the old store */
        long differences() {
            return missing + extra + differing;
        }

        @Override
        public String toString() {
            return String.format("%-14s %,7d expected, %,7d found: %d missing, %d extra, %d differ", shard, expected,
                    found, missing, extra, differing);
        }
    }

    private ShardComparison() {
    }

    /**
     * Compares the old store with every physical shard of the new one.
     *
     * @param dao reads both schemas
     * @param source the old store
     * @param target the sharded new store, as the library sees it
     * @return one count per physical shard, in ShardingSphere's node order
     */
    static List<ShardCount> compare(OrderDao dao, DataSource source, ShardingSphereTarget target) {
        ShardLayout layout = target.layout("orders").orElseThrow(() -> new IllegalStateException(
                "the sharded new store's YAML does not shard the logical table orders"));
        Map<String, Map<Long, Order>> expected = new LinkedHashMap<>();
        for (ShardLayout.Shard shard : layout.shards()) {
            expected.put(name(shard), new HashMap<>());
        }
        for (Order order : dao.readAll(new JdbcTemplate(source), Route.SOURCE)) {
            ShardLayout.Shard shard = layout.shardOf(column -> column.equals("buyer_id") ? order.userId() : null);
            expected.get(name(shard)).put(order.id(), order);
        }
        List<ShardCount> counts = new ArrayList<>();
        for (ShardLayout.Shard shard : layout.shards()) {
            Map<Long, Order> belonging = expected.get(name(shard));
            List<Order> held = dao.readShard(new JdbcTemplate(target.physical(shard.dataSource())), shard.table());
            long extra = 0;
            long differing = 0;
            long present = 0;
            for (Order order : held) {
                Order old = belonging.get(order.id());
                if (old == null) {
                    extra++;
                } else {
                    present++;
                    differing += MigrationScenario.differing(List.of(old), List.of(order));
                }
            }
            counts.add(new ShardCount(name(shard), belonging.size(), held.size(), belonging.size() - present, extra,
                    differing));
        }
        return counts;
    }

    private static String name(ShardLayout.Shard shard) {
        return shard.dataSource() + "." + shard.table();
    }
}
