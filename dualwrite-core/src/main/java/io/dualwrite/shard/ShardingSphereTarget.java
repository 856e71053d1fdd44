package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedHome;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.jdbc.core.connection.ShardingSphereConnection;
import org.apache.shardingsphere.infra.config.props.ConfigurationProperties;
import org.apache.shardingsphere.infra.executor.sql.execute.engine.ConnectionMode;
import org.apache.shardingsphere.infra.metadata.database.ShardingSphereDatabase;
import org.apache.shardingsphere.infra.metadata.database.resource.unit.StorageUnit;
import org.apache.shardingsphere.mode.manager.ContextManager;
import org.apache.shardingsphere.sharding.rule.ShardingRule;
import org.apache.shardingsphere.sharding.rule.ShardingTable;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * A target store that Apache ShardingSphere-JDBC splits into physical tables across several real databases,
 * as the library's target {@code DataSource}. Give the mirror, the backfill and the mappings this object, not
 * the ShardingSphere data source itself:
 * <pre>{@code
 * DataSource sharded = YamlShardingSphereDataSourceFactory.createDataSource(yamlFile);
 * ShardingSphereTarget target = ShardingSphereTarget.of(sharded);
 * MappedTables tables = MappedTables.resolve(mappings, source, target, false);
 * }</pre>
 *
 * <h2>Which statement goes which way</h2>
 * The library's statements on a sharded table do not pass through ShardingSphere's SQL engine: the guarded
 * upsert ({@code INSERT ... ON CONFLICT ... DO UPDATE ... WHERE}), the share-locked {@code FOR SHARE NOWAIT}
 * read, the batched forms and the keyset scan are the dialect's own SQL, which ShardingSphere's parser and
 * rewriter do not all carry. So for each row the library asks ShardingSphere's own sharding rule (the
 * {@link ShardingTable}'s actual data nodes and the strategies and algorithms its router runs, reached
 * through the data source's {@link ContextManager}) which data node holds it, and runs the normal dialect SQL on
 * that physical table through that real database's own pool (ShardingSphere's storage unit). It never carries a
 * sharding formula of its own.
 * <ul>
 * <li>upsert, overwrite: grouped by the data node each row's sharding values name; one batch per node;</li>
 * <li>read by key (with or without the share lock), delete: one node per key when the key holds every sharding
 * column, else every node (a key alone does not say where its row lives; an absent row is absent from all);</li>
 * <li>keyset scan (backfill's and the reconciler's chunks): every node, merged in key order, cut to the chunk;</li>
 * <li>unique-value look-ups, other spellings of a key: every node;</li>
 * <li>COPY: not used (its staging table is one session's); the backfill writes batches instead;</li>
 * <li>everything else, the library's own tables ({@code dualwrite_checkpoint} and the rest) included: the
 * <em>home</em> database, one of the real databases ({@link #of(DataSource, String)}), directly.</li>
 * </ul>
 * Application statements never come here: the application keeps using the ShardingSphere data source, through
 * which its ordinary SQL is routed by ShardingSphere itself.
 *
 * <p>One library connection holds a connection per real database it touched, all in the same mode; commit goes
 * to the shards first and the home last (see {@code ShardedConnection}). The mirror's guarantee needs nothing
 * more: a key lives on one shard, and its writes are ordered by the primary's share lock held across the commit.
 *
 * <p>During RAMP with {@code OUTBOX}, a transaction routed to the target writes its outbox rows on the home database
 * through {@link #homeConnection}: ShardingSphere's own connection to the home in that very transaction, so that
 * they commit with the application's rows (ShardingSphere's SQL engine would refuse {@code dualwrite_outbox}, a
 * table its rules do not know). ShardingSphere's LOCAL transactions commit each real database in turn, so the
 * outbox row and a row on another database are not committed atomically; XA transactions in the YAML make them so.
 *
 * <p>Start-up checks ({@code MappedTables.resolve}) read the layout here and refuse a routing column that is not
 * the sharding column, a sharding column outside the key that the mapping does not declare immutable, and a key
 * generator on a key column.
 */
public final class ShardingSphereTarget extends DelegatingDataSource implements ShardedHome {

    private final DataSource shardingSphere;
    private final String home;
    private final Map<String, DataSource> physical;
    private final ShardingRule rule;
    private final ConfigurationProperties props;
    private final ContextManager context;
    private final Map<String, Optional<ShardLayout>> layouts = new ConcurrentHashMap<>();

    private ShardingSphereTarget(DataSource shardingSphere, String home, Map<String, DataSource> physical,
            ShardingRule rule, ConfigurationProperties props, ContextManager context) {
        super(physical.get(home));
        this.shardingSphere = shardingSphere;
        this.home = home;
        this.physical = Map.copyOf(physical);
        this.rule = rule;
        this.props = props;
        this.context = context;
    }

    /**
     * Wraps a ShardingSphere data source; the library's own tables go to its first storage unit in name order.
     *
     * @param shardingSphere a data source made by ShardingSphere-JDBC (for example by
     *     {@code YamlShardingSphereDataSourceFactory}) with a sharding rule
     * @return the target
     * @throws SQLException if ShardingSphere cannot give a connection
     * @throws IllegalArgumentException if the data source is not ShardingSphere's, or has no sharding rule
     */
    public static ShardingSphereTarget of(DataSource shardingSphere) throws SQLException {
        return of(shardingSphere, null);
    }

    /**
     * Wraps a ShardingSphere data source.
     *
     * @param shardingSphere a data source made by ShardingSphere-JDBC with a sharding rule
     * @param home the storage unit (ShardingSphere's data source name) that holds the library's own tables, or
     *     {@code null} for the first in name order
     * @return the target
     * @throws SQLException if ShardingSphere cannot give a connection
     * @throws IllegalArgumentException if the data source is not ShardingSphere's, has no sharding rule, or has no
     *     storage unit named {@code home}
     */
    public static ShardingSphereTarget of(DataSource shardingSphere, String home) throws SQLException {
        try (Connection connection = shardingSphere.getConnection()) {
            if (!connection.isWrapperFor(ShardingSphereConnection.class)) {
                throw new IllegalArgumentException("the target data source " + shardingSphere.getClass().getName()
                        + " is not a ShardingSphere-JDBC data source; make it with YamlShardingSphereDataSourceFactory");
            }
            ShardingSphereConnection sharding = connection.unwrap(ShardingSphereConnection.class);
            ContextManager context = sharding.getContextManager();
            String database = sharding.getCurrentDatabaseName();
            ShardingSphereDatabase metadata = context.getDatabase(database);
            ShardingRule rule = metadata.getRuleMetaData().findSingleRule(ShardingRule.class)
                    .orElseThrow(() -> new IllegalArgumentException("ShardingSphere database '" + database
                            + "' has no sharding rule (rules: !SHARDING in its YAML)"));
            Map<String, DataSource> units = new java.util.TreeMap<>();
            for (Map.Entry<String, StorageUnit> unit : context.getStorageUnits(database).entrySet()) {
                units.put(unit.getKey(), unit.getValue().getDataSource());
            }
            String chosen = home == null ? units.keySet().iterator().next() : home;
            if (!units.containsKey(chosen)) {
                throw new IllegalArgumentException("the home data source '" + chosen + "' is not a storage unit of"
                        + " ShardingSphere database '" + database + "'; its units are " + units.keySet());
            }
            return new ShardingSphereTarget(shardingSphere, chosen, units, rule,
                    context.getMetaDataContexts().getMetaData().getProps(), context);
        }
    }

    /** @return the ShardingSphere data source this wraps, for the application's own statements */
    public DataSource shardingSphere() {
        return shardingSphere;
    }

    /** @return the name of the storage unit that holds the library's own tables */
    public String home() {
        return home;
    }

    /** @return the names of ShardingSphere's storage units, the real databases */
    public List<String> dataSourceNames() {
        return new ArrayList<>(new java.util.TreeSet<>(physical.keySet()));
    }

    /**
     * The layout of a logical table, from ShardingSphere's sharding rule.
     *
     * @param logicalTable the logical table's name, in any case
     * @return its layout; empty when the rule does not shard it
     */
    public Optional<ShardLayout> layout(String logicalTable) {
        return layouts.computeIfAbsent(logicalTable.toLowerCase(Locale.ROOT), name -> rule.findShardingTable(name)
                .map(table -> new ShardingSphereLayout(rule, table, props)));
    }

    /**
     * A real database's own pool, as ShardingSphere holds it.
     *
     * @param dataSource the storage unit's name
     * @return its data source
     * @throws IllegalArgumentException if there is no such unit
     */
    public DataSource physical(String dataSource) {
        DataSource found = physical.get(dataSource);
        if (found == null) {
            throw new IllegalArgumentException("no ShardingSphere storage unit '" + dataSource + "'; the units are "
                    + dataSourceNames());
        }
        return found;
    }

    /**
     * The home database's connection of the ShardingSphere transaction an application connection belongs to.
     *
     * @param application a connection of this target's ShardingSphere data source, possibly wrapped
     * @return ShardingSphere's own connection to the home in that connection's transaction; empty for a connection
     *     of another data source
     * @throws SQLException if ShardingSphere cannot open it
     */
    @Override
    public Optional<Connection> homeConnection(Connection application) throws SQLException {
        if (!application.isWrapperFor(ShardingSphereConnection.class)) {
            return Optional.empty();
        }
        ShardingSphereConnection sharding = application.unwrap(ShardingSphereConnection.class);
        if (sharding.getContextManager() != context) {
            return Optional.empty();
        }
        // The connection manager hands out, and caches for the transaction, the connection its router would use
        // for that storage unit: in the transaction's mode, committed and closed by ShardingSphere.
        return Optional.of(sharding.getDatabaseConnectionManager().getConnections(sharding.getCurrentDatabaseName(),
                home, 0, 1, ConnectionMode.MEMORY_STRICTLY).get(0));
    }

    @Override
    public Connection getConnection() throws SQLException {
        return new ShardedConnection(super.getConnection(), home, this);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return new ShardedConnection(super.getConnection(username, password), home, this);
    }

    @Override
    public String toString() {
        return "ShardingSphereTarget[home=" + home + ", units=" + dataSourceNames() + "]";
    }
}
