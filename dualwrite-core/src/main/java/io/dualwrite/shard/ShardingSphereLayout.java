package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.apache.shardingsphere.infra.config.props.ConfigurationProperties;
import org.apache.shardingsphere.infra.datanode.DataNode;
import org.apache.shardingsphere.infra.datanode.DataNodeInfo;
import org.apache.shardingsphere.sharding.api.config.strategy.sharding.ShardingStrategyConfiguration;
import org.apache.shardingsphere.sharding.route.engine.condition.value.ListShardingConditionValue;
import org.apache.shardingsphere.sharding.route.engine.condition.value.ShardingConditionValue;
import org.apache.shardingsphere.sharding.route.strategy.ShardingStrategy;
import org.apache.shardingsphere.sharding.route.strategy.ShardingStrategyFactory;
import org.apache.shardingsphere.sharding.rule.ShardingRule;
import org.apache.shardingsphere.sharding.rule.ShardingTable;

/**
 * A logical table's layout as ShardingSphere's sharding rule gives it: the actual data nodes of its
 * {@link ShardingTable}, and the shard of a row found by the very strategies and algorithms ShardingSphere's
 * router runs ({@link ShardingStrategy#doSharding}), first over the table's data sources, then over that data
 * source's tables. A rule that names no node or several for one row (a range or hint strategy that a single value
 * does not settle) is an error, never a guess.
 */
final class ShardingSphereLayout implements ShardLayout {

    private final ShardingTable table;
    private final ShardingStrategy databaseStrategy;
    private final ShardingStrategy tableStrategy;
    private final ConfigurationProperties props;
    private final List<Shard> shards;
    private final List<String> shardingColumns;

    ShardingSphereLayout(ShardingRule rule, ShardingTable table, ConfigurationProperties props) {
        this.table = table;
        this.props = props;
        this.databaseStrategy = strategy(rule, rule.getDatabaseShardingStrategyConfiguration(table));
        this.tableStrategy = strategy(rule, rule.getTableShardingStrategyConfiguration(table));
        List<Shard> nodes = new ArrayList<>();
        for (DataNode node : table.getActualDataNodes()) {
            nodes.add(new Shard(node.getDataSourceName(), node.getTableName()));
        }
        this.shards = List.copyOf(nodes);
        Set<String> columns = new LinkedHashSet<>();
        databaseStrategy.getShardingColumns().forEach(c -> columns.add(c.toLowerCase(Locale.ROOT)));
        tableStrategy.getShardingColumns().forEach(c -> columns.add(c.toLowerCase(Locale.ROOT)));
        this.shardingColumns = List.copyOf(columns);
    }

    private static ShardingStrategy strategy(ShardingRule rule, ShardingStrategyConfiguration config) {
        return ShardingStrategyFactory.newInstance(config,
                config == null ? null : rule.getShardingAlgorithms().get(config.getShardingAlgorithmName()),
                rule.getDefaultShardingColumn());
    }

    @Override
    public String logicalTable() {
        return table.getLogicTable();
    }

    @Override
    public List<Shard> shards() {
        return shards;
    }

    @Override
    public List<String> shardingColumns() {
        return shardingColumns;
    }

    @Override
    public Shard shardOf(Function<String, Object> valueOf) {
        Collection<String> dataSources = route(databaseStrategy, table.getActualDataSourceNames(), valueOf,
                table.getDataSourceDataNode());
        String dataSource = single(dataSources, "data source", valueOf);
        Collection<String> tables = route(tableStrategy, table.getActualTableNames(dataSource), valueOf,
                table.getTableDataNode());
        return new Shard(dataSource, single(tables, "table of data source '" + dataSource + "'", valueOf));
    }

    private Collection<String> route(ShardingStrategy strategy, Collection<String> targets,
            Function<String, Object> valueOf, DataNodeInfo nodeInfo) {
        if (strategy.getShardingColumns().isEmpty()) {
            return targets;
        }
        List<ShardingConditionValue> values = new ArrayList<>();
        for (String column : strategy.getShardingColumns()) {
            Object value = valueOf.apply(column.toLowerCase(Locale.ROOT));
            if (!(value instanceof Comparable<?> comparable)) {
                throw new IllegalArgumentException("logical table '" + logicalTable() + "': sharding column '" + column
                        + "' is " + (value == null ? "null" : "a " + value.getClass().getName())
                        + ", so ShardingSphere's rule cannot name the row's shard");
            }
            values.add(new ListShardingConditionValue<>(column, logicalTable(), List.of(comparable)));
        }
        return strategy.doSharding(targets, values, nodeInfo, props);
    }

    private String single(Collection<String> names, String what, Function<String, Object> valueOf) {
        if (names.size() != 1) {
            List<Object> values = shardingColumns.stream().map(c -> c + "=" + valueOf.apply(c)).map(Object.class::cast)
                    .toList();
            throw new IllegalArgumentException("logical table '" + logicalTable() + "': ShardingSphere's rule names "
                    + (names.isEmpty() ? "no " + what : names.size() + " of its " + what + "s " + names) + " for "
                    + values + "; the library needs exactly one shard per row (a standard or inline strategy)");
        }
        return names.iterator().next();
    }

    @Override
    public Optional<String> keyGeneratorColumn() {
        return table.getGenerateKeyColumn().map(c -> c.toLowerCase(Locale.ROOT));
    }

    @Override
    public String declaredBy() {
        return "the ShardingSphere YAML's rule (rules: !SHARDING tables." + logicalTable() + ")";
    }

    @Override
    public String toString() {
        return logicalTable() + " " + shards;
    }
}
