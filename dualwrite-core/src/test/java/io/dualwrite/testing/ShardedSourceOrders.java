package io.dualwrite.testing;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.shard.ShardedSource;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A MariaDB source sharded by hand into 2 databases x 4 tables {@code t_order_0..3} by {@code user_id} (database
 * {@code user_id % 2}, table {@code user_id / 2 % 4}), and one PostgreSQL {@code t_order} as the target. The
 * library is told only the list of shards ({@code ds_${0..1}.t_order_${0..3}}), never the rule: the application's
 * writes here place the rows, and the checks read every physical table directly.
 */
public final class ShardedSourceOrders implements AutoCloseable {

    public static final int DATABASES = 2;
    public static final int TABLES = 4;
    public static final String NODES = "ds_${0..1}.t_order_${0..3}";

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<TestDatabase> shards = new ArrayList<>();
    private final TestDatabase target;

    private ShardedSourceOrders() {
        for (int d = 0; d < DATABASES; d++) {
            TestDatabase shard = TestDatabase.create(Store.MARIADB, "shsrc" + d);
            closeables.add(shard);
            shards.add(shard);
            for (int t = 0; t < TABLES; t++) {
                shard.execute(OrderTable.ddl(Store.MARIADB, "t_order_" + t));
            }
        }
        target = TestDatabase.create(Store.POSTGRESQL, "shsrc_tgt");
        closeables.add(target);
        target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
    }

    /** @return fresh stores; close them to drop them */
    public static ShardedSourceOrders create() {
        return new ShardedSourceOrders();
    }

    /**
     * @param database 0 or 1
     * @return that real database of the source
     */
    public TestDatabase shard(int database) {
        return shards.get(database);
    }

    /** @return the PostgreSQL target */
    public TestDatabase target() {
        return target;
    }

    /**
     * A pool on the target through a proxy the test can cut. It gives up on a silent server within about a second
     * (socket, login and pool timeouts), as a production pool does, so that an apply fails and is retried.
     *
     * @return the proxy and the pool; closed with the stores
     * @throws java.io.IOException if the proxy cannot listen
     */
    public Cuttable cuttableTarget() throws java.io.IOException {
        OutageProxy proxy = OutageProxy.inFrontOf(target.jdbcUrl());
        closeables.add(proxy);
        com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource();
        pool.setJdbcUrl(proxy.route(target.jdbcUrl()) + (target.jdbcUrl().contains("?") ? "&" : "?")
                + "socketTimeout=1&loginTimeout=1&connectTimeout=1");
        pool.setUsername(target.username());
        pool.setPassword(target.password());
        pool.setMaximumPoolSize(12);
        pool.setConnectionTimeout(1500);
        pool.setValidationTimeout(750);
        closeables.add(pool);
        return new Cuttable(proxy, pool);
    }

    /** A target pool behind a proxy. */
    public record Cuttable(OutageProxy network, DataSource dataSource) {
    }

    /** @return the source as the library sees it: the two databases and the inline list of nodes */
    public ShardedSource source() {
        return ShardedSource.builder().dataSource("ds_0", shards.get(0).dataSource())
                .dataSource("ds_1", shards.get(1).dataSource()).table("t_order", NODES).build();
    }

    /**
     * The same two databases as a ShardingSphere-JDBC YAML, with the rule the application follows.
     *
     * @return the YAML
     */
    public String shardingSphereYaml() {
        StringBuilder yaml = new StringBuilder("databaseName: dw_" + shards.get(0).name() + "\ndataSources:\n");
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
     * @param source the sharded source
     * @return {@code t_order} resolved from the sharded source into the single target table
     * @throws Exception if a store fails
     */
    public MappedTables orders(DataSource source) throws Exception {
        return orders(source, target.dataSource());
    }

    /**
     * @param source the sharded source
     * @param targetPool a pool on the target
     * @return {@code t_order} resolved from the sharded source into the single target table
     * @throws Exception if a store fails
     */
    public MappedTables orders(DataSource source, DataSource targetPool) throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source, targetPool, false);
    }

    /** The shard the application puts a user's rows on: database user_id % 2, table user_id / 2 % 4. */
    public static int[] shardOf(long userId) {
        return new int[] {(int) (userId % DATABASES), (int) (userId / 2 % TABLES)};
    }

    /** The same user for an id, always. */
    public static long userOf(long id) {
        return id * 7 % 23;
    }

    /** @return the application's pool on one real database */
    public JdbcTemplate app(int database) {
        return new JdbcTemplate(shards.get(database).dataSource());
    }

    /**
     * Inserts rows 1..{@code rows}, each on its user's shard.
     *
     * @param rows how many
     */
    public void seed(int rows) {
        Timestamp modified = Timestamp.valueOf("2026-01-01 12:00:00.000");
        Map<String, List<Object[]>> batches = new TreeMap<>();
        for (long id = 1; id <= rows; id++) {
            int[] shard = shardOf(userOf(id));
            batches.computeIfAbsent(shard[0] + ":" + shard[1], k -> new ArrayList<>()).add(new Object[] {id,
                    userOf(id), "S" + id % 5, BigDecimal.valueOf(id, 2), id % 3 == 0 ? null : "note " + id, modified});
        }
        batches.forEach((where, batch) -> {
            String[] parts = where.split(":");
            app(Integer.parseInt(parts[0])).batchUpdate("INSERT INTO t_order_" + parts[1] + " (id, user_id, status,"
                    + " amount, note, gmt_modified) VALUES (?, ?, ?, ?, ?, ?)", batch);
        });
    }

    /** Writes a row on its user's shard, as the application does: insert or update. */
    public void upsert(long id, String status, BigDecimal amount, String note) {
        int[] shard = shardOf(userOf(id));
        app(shard[0]).update("INSERT INTO t_order_" + shard[1] + " (id, user_id, status, amount, note, gmt_modified)"
                + " VALUES (?, ?, ?, ?, ?, NOW(3)) ON DUPLICATE KEY UPDATE status = VALUES(status), amount ="
                + " VALUES(amount), note = VALUES(note), gmt_modified = NOW(3)", id, userOf(id), status, amount, note);
    }

    /** Deletes a row from its user's shard. */
    public void delete(long id) {
        int[] shard = shardOf(userOf(id));
        app(shard[0]).update("DELETE FROM t_order_" + shard[1] + " WHERE id = ?", id);
    }

    /** Every physical source table's rows by id; each row carries the shard it was read from. */
    public Map<String, List<Map<String, Object>>> sourceRows() {
        Map<String, List<Map<String, Object>>> rows = new TreeMap<>();
        for (int d = 0; d < DATABASES; d++) {
            for (int t = 0; t < TABLES; t++) {
                for (Map<String, Object> row : shards.get(d).queryForList("SELECT * FROM t_order_" + t)) {
                    Map<String, Object> normalised = normalise(row);
                    normalised.put("shard", "ds_" + d + ".t_order_" + t);
                    rows.computeIfAbsent(String.valueOf(normalised.get("id")), k -> new ArrayList<>()).add(normalised);
                }
            }
        }
        return rows;
    }

    /** The union of the source shards against the target table: each row equal, nothing extra, no key twice. */
    public List<String> differences() {
        Map<String, Map<String, Object>> targetRows = new TreeMap<>();
        for (Map<String, Object> row : target.queryForList("SELECT * FROM t_order")) {
            Map<String, Object> normalised = normalise(row);
            targetRows.put(String.valueOf(normalised.get("id")), normalised);
        }
        List<String> differences = new ArrayList<>();
        sourceRows().forEach((id, copies) -> {
            if (copies.size() > 1) {
                differences.add("on two source shards: " + copies);
            }
            Map<String, Object> expected = new LinkedHashMap<>(copies.get(0));
            expected.remove("shard");
            Map<String, Object> found = targetRows.remove(id);
            if (found == null) {
                differences.add("missing in target: " + copies.get(0));
            } else if (!found.equals(expected)) {
                differences.add("differs: source " + copies.get(0) + " target " + found);
            }
        });
        targetRows.values().forEach(extra -> differences.add("extra in target: " + extra));
        return differences;
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
