package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * A source store whose logical tables are sets of physical tables across several real databases (an old store
 * sharded by hand, or by ShardingSphere), as the library's source {@code DataSource}. Give the mirror, the
 * backfill, the reconciler and the mappings this object; the application keeps writing its own way.
 * <pre>{@code
 * ShardedSource source = ShardedSource.builder()
 *         .dataSource("ds_0", orders0).dataSource("ds_1", orders1)
 *         .table("t_order", "ds_${0..1}.t_order_${0..3}")
 *         .build();
 * MappedTables tables = MappedTables.resolve(mappings, source, target, false);
 * }</pre>
 * or, when the application already reads its shards through ShardingSphere-JDBC,
 * {@link #ofShardingSphere(DataSource)}, which takes the shards and the rule from ShardingSphere itself.
 *
 * <h2>What goes where</h2>
 * Every statement is the dialect's own SQL on a physical table, through that real database's own pool:
 * <ul>
 * <li>read by key, with or without the share lock ({@code LOCK IN SHARE MODE NOWAIT}, the mirror's apply), and
 * delete: every shard, unless a ShardingSphere rule names the one shard from the key;</li>
 * <li>keyset scan (the backfill's and the reconciler's chunks): every shard, merged in key order;</li>
 * <li>write (only the repair of a reconcile that the target wins, and the reverse mirror during RAMP): the shard
 * that already holds the row's key, or the shard a ShardingSphere rule names. A key on no shard, with no rule, is
 * refused with an error naming the property: a list of tables says where rows are, not where a new row goes;</li>
 * <li>the library's own statements (the outbox, in OUTBOX mode): the <em>home</em> database.</li>
 * </ul>
 * A key found on two shards at once is never merged: the read fails with a
 * {@link io.dualwrite.jdbc.DuplicateShardKeyException} that names the key and both shards.
 *
 * <p>Start-up ({@code MappedTables.resolve}) reads every physical table and refuses a missing one, or one whose
 * columns or key differ from the first's, naming the logical table, the shard and the property.
 */
public final class ShardedSource extends DelegatingDataSource implements ShardSet {

    /** The starter's properties, named in the errors of a source built from them or by this builder. */
    static final String PREFIX = "dualwrite.source.shards";

    private final String home;
    private final Map<String, DataSource> physical;
    private final Map<String, ShardLayout> layouts;
    private final ShardingSphereTarget shardingSphere;

    private ShardedSource(String home, Map<String, DataSource> physical, Map<String, ShardLayout> layouts,
            ShardingSphereTarget shardingSphere) {
        super(shardingSphere != null ? shardingSphere.physical(home) : physical.get(home));
        this.home = home;
        this.physical = physical;
        this.layouts = layouts;
        this.shardingSphere = shardingSphere;
    }

    /**
     * Starts a source given as real databases and lists of their physical tables.
     *
     * @return the builder
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Reads the shards of each logical table, and the rule that names a row's shard, from a ShardingSphere-JDBC
     * data source; the home is its first storage unit in name order.
     *
     * @param shardingSphere a data source made by ShardingSphere-JDBC with a sharding rule
     * @return the source
     * @throws SQLException if ShardingSphere cannot give a connection
     * @throws IllegalArgumentException if the data source is not ShardingSphere's, or has no sharding rule
     */
    public static ShardedSource ofShardingSphere(DataSource shardingSphere) throws SQLException {
        return ofShardingSphere(shardingSphere, null);
    }

    /**
     * Reads the shards and the rule from a ShardingSphere-JDBC data source.
     *
     * @param shardingSphere a data source made by ShardingSphere-JDBC with a sharding rule
     * @param home the storage unit that holds the library's own tables (the outbox), or {@code null} for the first
     *     in name order
     * @return the source
     * @throws SQLException if ShardingSphere cannot give a connection
     * @throws IllegalArgumentException if the data source is not ShardingSphere's, has no sharding rule, or has no
     *     storage unit named {@code home}
     */
    public static ShardedSource ofShardingSphere(DataSource shardingSphere, String home) throws SQLException {
        // The same view of ShardingSphere as a sharded target's: the rule and the storage units are the store's,
        // whichever side of the migration it is on.
        ShardingSphereTarget store = ShardingSphereTarget.of(shardingSphere, home);
        return new ShardedSource(store.home(), Map.of(), Map.of(), store);
    }

    /** @return the name of the real database that holds the library's own tables */
    public String home() {
        return home;
    }

    /** @return the names of the real databases, in name order */
    public List<String> dataSourceNames() {
        return shardingSphere != null ? shardingSphere.dataSourceNames() : new ArrayList<>(physical.keySet());
    }

    /**
     * The physical tables of a logical table.
     *
     * @param logicalTable the logical table's name, in any case
     * @return its layout; empty when this source does not shard it
     */
    @Override
    public Optional<ShardLayout> layout(String logicalTable) {
        if (shardingSphere != null) {
            return shardingSphere.layout(logicalTable);
        }
        return Optional.ofNullable(layouts.get(logicalTable.toLowerCase(Locale.ROOT)));
    }

    /**
     * A real database's data source.
     *
     * @param dataSource its name
     * @return its data source
     * @throws IllegalArgumentException if there is no such database
     */
    @Override
    public DataSource physical(String dataSource) {
        if (shardingSphere != null) {
            return shardingSphere.physical(dataSource);
        }
        DataSource found = physical.get(dataSource);
        if (found == null) {
            throw new IllegalArgumentException("no source data source '" + dataSource + "'; the data sources are "
                    + physical.keySet() + " (" + PREFIX + ".data-sources)");
        }
        return found;
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
        return "ShardedSource[home=" + home + ", data sources=" + dataSourceNames()
                + (shardingSphere != null ? ", from ShardingSphere" : ", tables=" + layouts.values()) + "]";
    }

    /**
     * Declares the real databases and each logical table's physical tables. Names are as the application's
     * configuration has them; the errors name the starter's properties ({@code dualwrite.source.shards.*}).
     */
    public static final class Builder {

        private final Map<String, DataSource> dataSources = new TreeMap<>();
        private final Map<String, Object> tables = new LinkedHashMap<>();
        private String home;

        private Builder() {
        }

        /**
         * Adds a real database.
         *
         * @param name its name, as the data nodes write it ({@code ds_0})
         * @param dataSource its pool
         * @return this
         * @throws IllegalArgumentException if the name is blank or already taken
         */
        public Builder dataSource(String name, DataSource dataSource) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException(PREFIX + ".data-sources: a data source needs a name");
            }
            if (dataSources.putIfAbsent(name, java.util.Objects.requireNonNull(dataSource, "dataSource")) != null) {
                throw new IllegalArgumentException(PREFIX + ".data-sources." + name + ": declared twice");
            }
            return this;
        }

        /**
         * Declares a logical table's physical tables by an inline expression, as ShardingSphere's
         * {@code actualDataNodes}: {@code ds_${0..1}.t_order_${0..7}}, or a comma-separated list of nodes. It is
         * expanded by ShardingSphere's own parser, so {@code shardingsphere-jdbc} must be on the class path.
         *
         * @param logicalTable the logical table, as the mappings name it ({@code dualwrite.tables.<table>})
         * @param nodes the data nodes
         * @return this
         * @throws IllegalArgumentException if the table is declared twice (the expression is checked in
         *     {@link #build()})
         */
        public Builder table(String logicalTable, String nodes) {
            return declare(logicalTable, nodes);
        }

        /**
         * Declares a logical table's physical tables as a list.
         *
         * @param logicalTable the logical table, as the mappings name it
         * @param nodes the physical tables, each in its real database
         * @return this
         * @throws IllegalArgumentException if the table is declared twice
         */
        public Builder table(String logicalTable, List<ShardLayout.Shard> nodes) {
            return declare(logicalTable, List.copyOf(nodes));
        }

        private Builder declare(String logicalTable, Object nodes) {
            if (logicalTable == null || logicalTable.isBlank()) {
                throw new IllegalArgumentException(PREFIX + ".tables: a logical table needs a name");
            }
            if (tables.putIfAbsent(logicalTable.toLowerCase(Locale.ROOT), nodes) != null) {
                throw new IllegalArgumentException(PREFIX + ".tables." + logicalTable + ": declared twice");
            }
            return this;
        }

        /**
         * Names the real database for the library's own tables (the outbox); by default the first in name order.
         *
         * @param name a data source's name
         * @return this
         */
        public Builder home(String name) {
            this.home = name;
            return this;
        }

        /**
         * Checks the declarations together: every node's data source declared, no physical table in two places,
         * at least one table.
         *
         * @return the source
         * @throws IllegalArgumentException listing every problem, each with its property
         */
        public ShardedSource build() {
            List<String> problems = new ArrayList<>();
            if (dataSources.isEmpty()) {
                problems.add(PREFIX + ".data-sources: no data source declared; declare each real database as "
                        + PREFIX + ".data-sources.<name>.url");
            }
            if (tables.isEmpty()) {
                problems.add(PREFIX + ".tables: no logical table declared; declare one as " + PREFIX
                        + ".tables.<table>.nodes=ds_${0..1}.t_${0..3}");
            }
            String chosen = home != null ? home : dataSources.isEmpty() ? null : dataSources.keySet().iterator().next();
            if (home != null && !dataSources.containsKey(home)) {
                problems.add(PREFIX + ".home: data source '" + home + "' is not declared; the data sources are "
                        + dataSources.keySet());
            }
            Map<String, ShardLayout> layouts = new LinkedHashMap<>();
            Map<ShardLayout.Shard, String> owners = new java.util.HashMap<>();
            tables.forEach((table, declared) -> {
                String property = PREFIX + ".tables." + table + ".nodes";
                List<ShardLayout.Shard> nodes;
                if (declared instanceof String expression) {
                    try {
                        nodes = expand(expression, property);
                    } catch (IllegalArgumentException invalid) {
                        problems.add(invalid.getMessage());
                        return;
                    }
                } else {
                    @SuppressWarnings("unchecked")
                    List<ShardLayout.Shard> listed = (List<ShardLayout.Shard>) declared;
                    nodes = listed;
                    if (nodes.isEmpty()) {
                        problems.add(property + ": no data node listed");
                        return;
                    }
                }
                int before = problems.size();
                for (ShardLayout.Shard node : nodes) {
                    if (!dataSources.containsKey(node.dataSource())) {
                        problems.add(property + ": data node '" + node + "' names data source '" + node.dataSource()
                                + "', which is not declared; the data sources are " + dataSources.keySet() + " ("
                                + PREFIX + ".data-sources.<name>)");
                    }
                    ShardLayout.Shard physical = new ShardLayout.Shard(node.dataSource(),
                            node.table().toLowerCase(Locale.ROOT));
                    String owner = owners.putIfAbsent(physical, table);
                    if (owner != null) {
                        problems.add(property + ": data node '" + node + "' is already a shard of logical table '"
                                + owner + "'" + (owner.equals(table) ? " (listed twice)" : ""));
                    }
                }
                if (problems.size() == before) {
                    layouts.put(table, new NodeLayout(table, nodes, property + " (ShardedSource.Builder.table in"
                            + " code)"));
                }
            });
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("the sharded source is not valid:\n  " + String.join("\n  ",
                        problems));
            }
            return new ShardedSource(chosen, java.util.Collections.unmodifiableMap(new TreeMap<>(dataSources)),
                    Map.copyOf(layouts), null);
        }

        private static List<ShardLayout.Shard> expand(String expression, String property) {
            try {
                return InlineNodes.expand(expression, property);
            } catch (NoClassDefFoundError missing) {
                throw new IllegalArgumentException(property + ": inline expression '" + expression + "' is expanded by"
                        + " ShardingSphere's parser, and org.apache.shardingsphere:shardingsphere-jdbc is not on the"
                        + " class path; add it, or list the nodes with ShardedSource.Builder.table(String, List)");
            }
        }
    }
}
