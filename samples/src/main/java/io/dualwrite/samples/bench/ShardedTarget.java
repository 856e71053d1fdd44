package io.dualwrite.samples.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;

/**
 * The backfill benchmark's sharded target: {@code t_order} on the PostgreSQL server split by ShardingSphere-JDBC
 * into 2 real databases x 4 tables by {@code user_id} ({@code ds_${user_id % 2}.t_order_${user_id.intdiv(2) % 4}}),
 * beside the single-table target on the same server. Real databases, not schemas: ShardingSphere reads a database's
 * own schema. {@link #close()} drops them; it is idempotent, so the same instance can sit in a shutdown hook.
 */
final class ShardedTarget implements AutoCloseable {

    static final int DATABASES = 2;
    static final int TABLES = 4;

    private final List<String> databases;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** @param databases the databases created so far; filled while {@link #create} works, so a failure drops them */
    private ShardedTarget(List<String> databases) {
        this.databases = databases;
    }

    /**
     * Creates the databases {@code <prefix><name>_0} and {@code _1}, each with the empty {@code t_order_0..3}.
     *
     * @param name the databases' common name, before the scratch prefix and the shard number
     * @return the target; close it to drop the databases
     * @throws SQLException if the server refuses
     */
    static ShardedTarget create(String name) throws SQLException {
        List<String> names = new ArrayList<>();
        ShardedTarget target = new ShardedTarget(names);
        try {
            for (int d = 0; d < DATABASES; d++) {
                String database = BenchDatabase.SCRATCH_PREFIX + name + "_" + d;
                try (Connection admin = connect(Store.POSTGRESQL.baseUrl());
                        Statement statement = admin.createStatement()) {
                    statement.execute("CREATE DATABASE " + database);
                }
                names.add(database);
                try (Connection connection = connect(url(database));
                        Statement statement = connection.createStatement()) {
                    for (int t = 0; t < TABLES; t++) {
                        statement.execute(OrderTable.ddl(Store.POSTGRESQL).replaceFirst("CREATE TABLE " + OrderTable.NAME
                                + " ", "CREATE TABLE " + OrderTable.NAME + "_" + t + " "));
                    }
                }
            }
        } catch (SQLException | RuntimeException e) {
            target.close();
            throw e;
        }
        return target;
    }

    /** @return the real databases' names, {@code ds_0} first */
    List<String> databases() {
        return List.copyOf(databases);
    }

    /**
     * A new ShardingSphere data source over the databases, each with its own HikariCP pool whose URL carries the
     * dialect's recommended batching properties, as the single-table target's pool does.
     *
     * @param poolSize connections per real database
     * @return the data source; the caller closes it
     * @throws SQLException if ShardingSphere refuses the YAML or cannot reach a database
     */
    DataSource open(int poolSize) throws SQLException {
        try {
            return YamlShardingSphereDataSourceFactory.createDataSource(yaml(poolSize).getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new SQLException("ShardingSphere could not read the benchmark's YAML: " + e.getMessage(), e);
        }
    }

    /**
     * The ShardingSphere-JDBC YAML, as its users write it.
     *
     * @param poolSize connections per real database
     * @return the YAML
     */
    String yaml(int poolSize) {
        StringBuilder yaml = new StringBuilder("databaseName: ").append(databases.get(0)).append("_logical\n")
                .append("dataSources:\n");
        for (int d = 0; d < databases.size(); d++) {
            yaml.append("  ds_").append(d).append(":\n")
                    .append("    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n")
                    .append("    driverClassName: org.postgresql.Driver\n")
                    .append("    jdbcUrl: ").append(Store.POSTGRESQL.dialect().withRecommendedProperties(
                            url(databases.get(d)))).append('\n');
            if (Store.POSTGRESQL.user() != null) {
                yaml.append("    username: ").append(Store.POSTGRESQL.user()).append('\n')
                        .append("    password: '").append(Store.POSTGRESQL.password()).append("'\n");
            }
            yaml.append("    maximumPoolSize: ").append(poolSize).append('\n');
        }
        return yaml.append("""
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
                """).toString();
    }

    /** Empties every physical table. */
    void truncate() throws SQLException {
        for (String database : databases) {
            try (Connection connection = connect(url(database)); Statement statement = connection.createStatement()) {
                for (int t = 0; t < TABLES; t++) {
                    statement.execute("TRUNCATE TABLE " + OrderTable.NAME + "_" + t);
                }
            }
        }
    }

    /** @return the checksum of the eight physical tables together (every figure of it is a sum or a count) */
    OrderTable.Checksum checksum() throws SQLException {
        OrderTable.Checksum total = null;
        for (String database : databases) {
            try (Connection connection = connect(url(database))) {
                for (int t = 0; t < TABLES; t++) {
                    OrderTable.Checksum one = OrderTable.checksum(connection, Store.POSTGRESQL, OrderTable.NAME + "_" + t);
                    total = total == null ? one : total.plus(one);
                }
            }
        }
        return total;
    }

    /** @return the rows of each physical table, {@code ds_0.t_order_0} first */
    List<Long> rowsPerTable() throws SQLException {
        List<Long> rows = new ArrayList<>();
        for (String database : databases) {
            try (Connection connection = connect(url(database))) {
                for (int t = 0; t < TABLES; t++) {
                    rows.add(OrderTable.checksum(connection, Store.POSTGRESQL, OrderTable.NAME + "_" + t).rows());
                }
            }
        }
        return rows;
    }

    /**
     * A plain connection on the home database ({@code ds_0}), which holds the library's own tables.
     *
     * @return the connection; the caller closes it
     * @throws SQLException if it cannot connect
     */
    Connection connectHome() throws SQLException {
        return connect(url(databases.get(0)));
    }

    /** Drops the databases; reports but does not throw a failed drop. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (String database : databases) {
            try (Connection admin = connect(Store.POSTGRESQL.baseUrl()); Statement statement = admin.createStatement()) {
                statement.execute(Store.POSTGRESQL.shortLockWait());
                statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
            } catch (SQLException e) {
                System.err.println("bench: could not drop PostgreSQL database " + database + "; drop it by hand with:"
                        + " DROP DATABASE " + database + " WITH (FORCE) (" + e.getMessage() + ")");
            }
        }
    }

    /** The URL of a database on the PostgreSQL server: the base URL with its database replaced. */
    static String url(String database) {
        String url = Store.POSTGRESQL.baseUrl();
        int hostStart = url.indexOf("//");
        int query = url.indexOf('?', hostStart + 2);
        int pathEnd = query >= 0 ? query : url.length();
        int slash = url.indexOf('/', hostStart + 2);
        if (slash < 0 || slash > pathEnd) {
            return url.substring(0, pathEnd) + "/" + database + url.substring(pathEnd);
        }
        return url.substring(0, slash + 1) + database + url.substring(pathEnd);
    }

    private static Connection connect(String url) throws SQLException {
        Properties properties = new Properties();
        if (Store.POSTGRESQL.user() != null) {
            properties.setProperty("user", Store.POSTGRESQL.user());
            properties.setProperty("password", Store.POSTGRESQL.password());
        }
        return DriverManager.getConnection(url, properties);
    }
}
