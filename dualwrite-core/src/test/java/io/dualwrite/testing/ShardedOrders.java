package io.dualwrite.testing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.shard.ShardingSphereTarget;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * MariaDB's single {@code t_order} as the source, and as the target PostgreSQL split by ShardingSphere-JDBC into 2
 * real databases x 4 tables by {@code user_id} ({@code ds_${user_id % 2}.t_order_${user_id.intdiv(2) % 4}}). The
 * checks read each physical table directly and place each row by the test's own reading of those expressions,
 * independent of the library, which asks ShardingSphere.
 */
public final class ShardedOrders implements AutoCloseable {

    public static final int DATABASES = 2;
    public static final int TABLES = 4;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final TestDatabase source;
    private final List<PhysicalDatabase> shards = new ArrayList<>();
    private final Map<Integer, OutageProxy> proxies = new TreeMap<>();
    private ShardingSphereTarget target;

    private ShardedOrders() {
        source = TestDatabase.create(Store.MARIADB, "sh_src");
        closeables.add(source);
        source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
        // A PostgreSQL TestDatabase is a schema; ShardingSphere reads a database's own schema, so each shard is a
        // real database of its own, created through the server TestDatabase found.
        TestDatabase server = TestDatabase.create(Store.POSTGRESQL, "sh_admin", 2);
        closeables.add(server);
        for (int d = 0; d < DATABASES; d++) {
            PhysicalDatabase shard = PhysicalDatabase.create(server, "ds" + d);
            closeables.add(shard);
            shards.add(shard);
            for (int t = 0; t < TABLES; t++) {
                shard.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order_" + t));
            }
        }
    }

    /**
     * Creates the source and the two shard databases with their empty tables.
     *
     * @return the stores; close them to drop them
     */
    public static ShardedOrders create() {
        return new ShardedOrders();
    }

    /** @return the MariaDB source */
    public TestDatabase source() {
        return source;
    }

    /**
     * @param database 0 or 1
     * @return that real database of the target
     */
    public PhysicalDatabase shard(int database) {
        return shards.get(database);
    }

    /** @return the sharded target last made by {@link #target(String)} or {@link #orders()} */
    public ShardingSphereTarget target() {
        return target;
    }

    /**
     * Inserts rows 1..{@code rows} into the source, each with its {@link #userOf} user.
     *
     * @param rows how many
     */
    public void seed(int rows) {
        List<Object[]> batch = new ArrayList<>();
        Timestamp modified = Timestamp.valueOf("2026-01-01 12:00:00.000");
        for (long id = 1; id <= rows; id++) {
            batch.add(new Object[] {id, userOf(id), "S" + id % 5, BigDecimal.valueOf(id, 2),
                    id % 3 == 0 ? null : "note " + id, modified});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?)", batch);
    }

    /**
     * Puts a proxy that the test can cut in front of one real database, for the targets made from now on. Its
     * pool gives up on a silent server within about a second (socket, login and pool timeouts), as a production
     * pool does, so that an apply on a cut shard fails and is retried instead of hanging.
     *
     * @param database 0 or 1
     * @return the proxy; closed with the stores
     * @throws java.io.IOException if the proxy cannot listen
     */
    public OutageProxy cuttable(int database) throws java.io.IOException {
        OutageProxy proxy = OutageProxy.inFrontOf(shards.get(database).jdbcUrl());
        closeables.add(proxy);
        proxies.put(database, proxy);
        return proxy;
    }

    /**
     * The application's own ShardingSphere YAML, as its users write it.
     *
     * @param keyGenerator the column ShardingSphere generates keys for, or null
     * @return the YAML
     */
    public String yaml(String keyGenerator) {
        StringBuilder yaml = new StringBuilder("databaseName: dw_" + shards.get(0).name() + "\n")
                .append("dataSources:\n");
        for (int d = 0; d < DATABASES; d++) {
            PhysicalDatabase shard = shards.get(d);
            OutageProxy proxy = proxies.get(d);
            String url = proxy == null ? shard.jdbcUrl() : proxy.route(shard.jdbcUrl())
                    + (shard.jdbcUrl().contains("?") ? "&" : "?") + "socketTimeout=1&loginTimeout=1&connectTimeout=1";
            yaml.append("  ds_").append(d).append(":\n")
                    .append("    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n")
                    .append("    driverClassName: org.postgresql.Driver\n")
                    .append("    jdbcUrl: ").append(url).append('\n')
                    .append("    username: ").append(shard.server().username()).append('\n')
                    .append("    password: '").append(shard.server().password() == null ? ""
                            : shard.server().password()).append("'\n")
                    .append("    maximumPoolSize: 12\n");
            if (proxy != null) {
                yaml.append("    connectionTimeout: 1500\n    validationTimeout: 750\n");
            }
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
                """);
        if (keyGenerator != null) {
            yaml.append("""
                      keyGenerateStrategy:
                        column: %s
                        keyGeneratorName: snowflake
                  keyGenerators:
                    snowflake:
                      type: SNOWFLAKE
                """.formatted(keyGenerator));
        }
        yaml.append("""
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

    public ShardingSphereTarget target(String keyGenerator) throws Exception {
        DataSource sharding = YamlShardingSphereDataSourceFactory.createDataSource(
                yaml(keyGenerator).getBytes(StandardCharsets.UTF_8));
        closeables.add((AutoCloseable) sharding);
        target = ShardingSphereTarget.of(sharding);
        return target;
    }

    /**
     * Resolves {@code t_order} into a fresh sharded target, routed and sharded by {@code user_id}.
     *
     * @return the mapped tables
     * @throws Exception if a store fails
     */
    public MappedTables orders() throws Exception {
        target(null);
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id")
                .immutableShardingColumn(true).build()), source.dataSource(), target, false);
    }

    /** The shard the YAML's expressions name, worked out by the test: database user_id % 2, table user_id / 2 % 4. */
    public static int[] expectedShard(long userId) {
        return new int[] {(int) (userId % DATABASES), (int) (userId / 2 % TABLES)};
    }

    /** The same user for an id, always: the application never changes a row's sharding column. */
    public static long userOf(long id) {
        return id * 7 % 23;
    }

    /** Every physical table's rows, read directly, by id; a row found on two shards fails the test. */
    public Map<String, Map<String, Object>> physicalRows() {
        Map<String, Map<String, Object>> rows = new TreeMap<>();
        for (int d = 0; d < DATABASES; d++) {
            for (int t = 0; t < TABLES; t++) {
                for (Map<String, Object> row : shards.get(d).queryForList("SELECT * FROM t_order_" + t)) {
                    Map<String, Object> normalised = normalise(row);
                    normalised.put("shard", "ds_" + d + ".t_order_" + t);
                    Object previous = rows.put(String.valueOf(normalised.get("id")), normalised);
                    assertThat(previous).as("id %s on two shards", normalised.get("id")).isNull();
                }
            }
        }
        return rows;
    }

    /** Source rows against the physical shards: each row equal, on the shard the YAML names, nothing extra. */
    public List<String> differencesPerShard() {
        Map<String, Map<String, Object>> physical = physicalRows();
        List<String> differences = new ArrayList<>();
        for (Map<String, Object> row : source.queryForList("SELECT * FROM t_order")) {
            Map<String, Object> expected = normalise(row);
            int[] shard = expectedShard(((Number) row.get("user_id")).longValue());
            expected.put("shard", "ds_" + shard[0] + ".t_order_" + shard[1]);
            Map<String, Object> found = physical.remove(String.valueOf(expected.get("id")));
            if (found == null) {
                differences.add("missing on " + expected.get("shard") + ": " + expected);
            } else if (!found.equals(expected)) {
                differences.add("differs: source " + expected + " shard " + found);
            }
        }
        physical.values().forEach(extra -> differences.add("extra on " + extra.get("shard") + ": " + extra));
        return differences;
    }

    /**
     * A uniquely named PostgreSQL database on the server a TestDatabase found, dropped on close.
     *
     * @param server the schema whose server holds it
     * @param name its name
     * @param jdbcUrl its URL
     * @param pool a small pool on it, for the checks
     */
    public record PhysicalDatabase(TestDatabase server, String name, String jdbcUrl,
            com.zaxxer.hikari.HikariDataSource pool) implements AutoCloseable {

        public static PhysicalDatabase create(TestDatabase server, String suffix) {
            String name = server.name() + "_" + suffix;
            server.execute("CREATE DATABASE " + name);
            String base = server.jdbcUrl();
            int query = base.indexOf('?');
            String withoutQuery = query < 0 ? base : base.substring(0, query);
            String url = withoutQuery.substring(0, withoutQuery.lastIndexOf('/') + 1) + name;
            com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource();
            pool.setJdbcUrl(url);
            pool.setUsername(server.username());
            pool.setPassword(server.password());
            pool.setMaximumPoolSize(2);
            return new PhysicalDatabase(server, name, url, pool);
        }

        public void execute(String... sql) {
            new JdbcTemplate(pool).batchUpdate(sql);
        }

        public <T> T queryForObject(String sql, Class<T> type, Object... args) {
            return new JdbcTemplate(pool).queryForObject(sql, type, args);
        }

        public List<Map<String, Object>> queryForList(String sql) {
            return new JdbcTemplate(pool).queryForList(sql);
        }

        @Override
        public void close() {
            pool.close();
            server.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }

    private static Map<String, Object> normalise(Map<String, Object> row) {
        Map<String, Object> normalised = new LinkedHashMap<>();
        row.forEach((column, value) -> normalised.put(column.toLowerCase(java.util.Locale.ROOT),
                OrderTable.normalise(value)));
        return normalised;
    }

    @Override
    public void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }
}
