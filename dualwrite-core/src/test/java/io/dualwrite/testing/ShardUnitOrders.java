package io.dualwrite.testing;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.shard.ShardingSphereTarget;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The other direction of {@link ShardedOrders}: the source {@code t_order} split by ShardingSphere-JDBC over 2 MariaDB
 * databases x 4 tables by {@code user_id} ({@code ds_${user_id % 2}.t_order_${user_id.intdiv(2) % 4}}), the target
 * PostgreSQL's single {@code t_order}. Rows are seeded and checked on each physical table directly, placed by the
 * test's own reading of those expressions, independent of the library, which asks ShardingSphere.
 */
public final class ShardUnitOrders implements AutoCloseable {

    public static final int DATABASES = 2;
    public static final int TABLES = 4;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<TestDatabase> shards = new ArrayList<>();
    private final TestDatabase target;

    private ShardUnitOrders() {
        for (int d = 0; d < DATABASES; d++) {
            TestDatabase shard = TestDatabase.create(Store.MARIADB, "shs_ds" + d);
            closeables.add(shard);
            shards.add(shard);
            for (int t = 0; t < TABLES; t++) {
                shard.execute(OrderTable.ddl(Store.MARIADB, "t_order_" + t));
            }
        }
        target = TestDatabase.create(Store.POSTGRESQL, "shs_tgt");
        closeables.add(target);
        target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
    }

    /** @return the source's two databases with their empty tables, and the target's empty table; close to drop */
    public static ShardUnitOrders create() {
        return new ShardUnitOrders();
    }

    /** @return the PostgreSQL target */
    public TestDatabase target() {
        return target;
    }

    /**
     * @param database 0 or 1
     * @return that real database of the source
     */
    public TestDatabase shard(int database) {
        return shards.get(database);
    }

    /** @return every physical source table's name as ShardingSphere gives it, {@code ds_d.t_order_t} */
    public static List<String> shardNames() {
        List<String> names = new ArrayList<>();
        for (int d = 0; d < DATABASES; d++) {
            for (int t = 0; t < TABLES; t++) {
                names.add("ds_" + d + ".t_order_" + t);
            }
        }
        return names;
    }

    /** The same user for an id, always (as in {@link ShardedOrders#userOf}). */
    public static long userOf(long id) {
        return ShardedOrders.userOf(id);
    }

    /** @return the shard the YAML names for a user, worked out by the test */
    public static String shardOf(long userId) {
        int[] shard = ShardedOrders.expectedShard(userId);
        return "ds_" + shard[0] + ".t_order_" + shard[1];
    }

    /**
     * Inserts rows 1..{@code rows}, each into the physical table its user names.
     *
     * @param rows how many
     */
    public void seed(int rows) {
        Map<String, List<Object[]>> byShard = new TreeMap<>();
        Timestamp modified = Timestamp.valueOf("2026-01-01 12:00:00.000");
        for (long id = 1; id <= rows; id++) {
            long user = userOf(id);
            byShard.computeIfAbsent(shardOf(user), s -> new ArrayList<>()).add(new Object[] {id, user, "S" + id % 5,
                    BigDecimal.valueOf(id, 2), id % 3 == 0 ? null : "note " + id, modified});
        }
        byShard.forEach((shard, batch) -> physical(shard).batchUpdate("INSERT INTO " + table(shard)
                + " (id, user_id, status, amount, note, gmt_modified) VALUES (?, ?, ?, ?, ?, ?)", batch));
    }

    /** @return a template on the real database holding a shard */
    public JdbcTemplate physical(String shard) {
        return new JdbcTemplate(shards.get(Integer.parseInt(shard.substring("ds_".length(), shard.indexOf('.'))))
                .dataSource());
    }

    /** @return a shard's physical table name */
    public static String table(String shard) {
        return shard.substring(shard.indexOf('.') + 1);
    }

    /** @return how many rows a physical source table holds */
    public long count(String shard) {
        return physical(shard).queryForObject("SELECT COUNT(*) FROM " + table(shard), Long.class);
    }

    /**
     * Compares one physical source table with the target's rows of the same ids: missing, different; and the target
     * rows whose user this shard holds but that the shard does not have (extra).
     *
     * @return one line per difference, empty when the shard is copied exactly
     */
    public List<String> differences(String shard) {
        Map<String, Map<String, Object>> source = rows(physical(shard).queryForList("SELECT * FROM " + table(shard)));
        Map<String, Map<String, Object>> copied = new TreeMap<>();
        rows(target.queryForList("SELECT * FROM t_order")).forEach((id, row) -> {
            if (shardOf(Long.parseLong(String.valueOf(row.get("user_id")))).equals(shard)) {
                copied.put(id, row);
            }
        });
        List<String> differences = new ArrayList<>();
        source.forEach((id, row) -> {
            Map<String, Object> other = copied.remove(id);
            if (other == null) {
                differences.add(shard + ": missing in target: " + row);
            } else if (!other.equals(row)) {
                differences.add(shard + ": differs: source " + row + " target " + other);
            }
        });
        copied.values().forEach(extra -> differences.add(shard + ": extra in target: " + extra));
        return differences;
    }

    private static Map<String, Map<String, Object>> rows(List<Map<String, Object>> rows) {
        Map<String, Map<String, Object>> byId = new TreeMap<>();
        for (Map<String, Object> row : rows) {
            Map<String, Object> normalised = new java.util.LinkedHashMap<>();
            row.forEach((column, value) -> normalised.put(column.toLowerCase(java.util.Locale.ROOT),
                    OrderTable.normalise(value)));
            byId.put(String.valueOf(normalised.get("id")), normalised);
        }
        return byId;
    }

    /** @return the application's ShardingSphere YAML over the two MariaDB databases, as its users write it */
    public String yaml() {
        StringBuilder yaml = new StringBuilder("databaseName: dw_" + shards.get(0).name() + "\n")
                .append("dataSources:\n");
        for (int d = 0; d < DATABASES; d++) {
            TestDatabase shard = shards.get(d);
            yaml.append("  ds_").append(d).append(":\n")
                    .append("    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n")
                    .append("    driverClassName: org.mariadb.jdbc.Driver\n")
                    .append("    jdbcUrl: ").append(shard.jdbcUrl()).append('\n')
                    .append("    username: ").append(shard.username()).append('\n')
                    .append("    password: '").append(shard.password() == null ? "" : shard.password()).append("'\n")
                    .append("    maximumPoolSize: 8\n");
        }
        yaml.append("""
                rules:
                - !SHARDING
                  tables:
                    t_order:
                      actualDataNodes: ds_${0..1}.t_order_${0..3}
                      databaseStrategy:
                        standard:
                          shardingColumn: user_id
                          shardingAlgorithmName: by_user_database
                      tableStrategy:
                        standard:
                          shardingColumn: user_id
                          shardingAlgorithmName: by_user_table
                  shardingAlgorithms:
                    by_user_database:
                      type: INLINE
                      props:
                        algorithm-expression: ds_${user_id % 2}
                    by_user_table:
                      type: INLINE
                      props:
                        algorithm-expression: t_order_${user_id.intdiv(2) % 4}
                """);
        return yaml.toString();
    }

    /**
     * A new ShardingSphere data source over the source's databases (its own pools), as the library's source.
     *
     * @return the sharded source; closed with the stores
     * @throws Exception if ShardingSphere cannot start
     */
    public ShardingSphereTarget source() throws Exception {
        DataSource sharding = YamlShardingSphereDataSourceFactory.createDataSource(yaml().getBytes(StandardCharsets.UTF_8));
        closeables.add((AutoCloseable) sharding);
        return ShardingSphereTarget.of(sharding);
    }

    /**
     * Resolves {@code t_order} from a sharded source into the target.
     *
     * @param source a data source from {@link #source()}
     * @return the mapped tables
     * @throws Exception if a store fails
     */
    public MappedTables orders(DataSource source) throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source, target.dataSource(),
                false);
    }

    @Override
    public void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }
}
