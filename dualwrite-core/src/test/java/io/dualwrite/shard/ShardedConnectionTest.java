package io.dualwrite.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.jdbc.ShardedStore;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The transaction of one library connection to a sharded target, over three in-memory H2 databases that
 * ShardingSphere holds: savepoints cover every real database, and commit reaches the home last.
 */
class ShardedConnectionTest {

    private final List<String> urls = new ArrayList<>();
    private DataSource sharding;
    private ShardingSphereTarget target;

    @BeforeEach
    void createTarget() throws Exception {
        String unique = UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        StringBuilder yaml = new StringBuilder("databaseName: sc_" + unique + "\ndataSources:\n");
        for (int d = 0; d < 3; d++) {
            String url = "jdbc:h2:mem:sc_" + unique + "_" + d + ";DB_CLOSE_DELAY=-1";
            urls.add(url);
            try (Connection connection = DriverManager.getConnection(url, "sa", "");
                    Statement statement = connection.createStatement()) {
                statement.execute("CREATE TABLE t_item (id BIGINT PRIMARY KEY, shop BIGINT NOT NULL)");
            }
            yaml.append("  ds_").append(d).append(":\n    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n")
                    .append("    jdbcUrl: ").append(url).append("\n    username: sa\n    password: ''\n")
                    .append("    maximumPoolSize: 1\n");
        }
        yaml.append("""
                rules:
                - !SHARDING
                  tables:
                    t_item:
                      actualDataNodes: ds_${0..2}.t_item
                      databaseStrategy:
                        standard:
                          shardingColumn: shop
                          shardingAlgorithmName: by_shop
                  shardingAlgorithms:
                    by_shop:
                      type: INLINE
                      props:
                        algorithm-expression: ds_${shop % 3}
                """);
        sharding = YamlShardingSphereDataSourceFactory.createDataSource(yaml.toString().getBytes(StandardCharsets.UTF_8));
        target = ShardingSphereTarget.of(sharding);
    }

    @AfterEach
    void close() throws Exception {
        ((AutoCloseable) sharding).close();
        for (String url : urls) {
            try (Connection connection = DriverManager.getConnection(url, "sa", "");
                    Statement statement = connection.createStatement()) {
                statement.execute("SHUTDOWN");
            }
        }
    }

    @Test
    void of_namesTheFirstUnitHomeAndRefusesAnUnknownOne() throws Exception {
        assertThat(target.home()).isEqualTo("ds_0");
        assertThat(target.dataSourceNames()).containsExactly("ds_0", "ds_1", "ds_2");
        assertThatThrownBy(() -> ShardingSphereTarget.of(sharding, "ds_9")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("the home data source 'ds_9' is not a storage unit of ShardingSphere database");
        assertThatThrownBy(() -> ShardingSphereTarget.of(target.physical("ds_1")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a ShardingSphere-JDBC data source");
    }

    @Test
    void rollbackToSavepoint_undoesWorkOnEveryDatabase_includingOnesOpenedAfterIt() throws Exception {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            ShardedStore store = connection.unwrap(ShardedStore.class);
            insert(store.shard("ds_1"), 1);
            insert(connection, 2);
            Savepoint savepoint = connection.setSavepoint();
            insert(store.shard("ds_1"), 3);
            insert(connection, 4);
            insert(store.shard("ds_2"), 5);
            connection.rollback(savepoint);
            connection.commit();
        }
        assertThat(ids(1)).containsExactly(1L);
        assertThat(ids(0)).containsExactly(2L);
        assertThat(ids(2)).as("opened after the savepoint: all its work came after it").isEmpty();
    }

    @Test
    void commit_reachesTheHomeLast_soAFailedShardLeavesTheHomeUncommitted() throws Exception {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            ShardedStore store = connection.unwrap(ShardedStore.class);
            insert(connection, 1);
            Connection shard = store.shard("ds_2");
            insert(shard, 2);
            shard.close();
            assertThatThrownBy(connection::commit).isInstanceOf(SQLException.class);
            assertThatThrownBy(connection::rollback).as("the broken shard's rollback fails; the home's still runs")
                    .isInstanceOf(SQLException.class);
        }
        assertThat(ids(0)).as("the home's checkpoint must not get ahead of the rows it describes").isEmpty();
    }

    @Test
    void boundLockWaits_setOnEveryShardAsItOpens_resetBeforeItGoesBack() throws Exception {
        try (Connection connection = target.getConnection()) {
            connection.unwrap(ShardedStore.class).boundLockWaits("SET @BOUND = 1", "SET @BOUND = 0");
            connection.setAutoCommit(false);
            assertThat(variable(connection.unwrap(ShardedStore.class).shard("ds_1"))).isEqualTo(1);
        }
        // One connection in each unit's pool: this is the one the library had.
        try (Connection pooled = target.physical("ds_1").getConnection()) {
            assertThat(variable(pooled)).isEqualTo(0);
        }
    }

    private static int variable(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement(); var rs = statement.executeQuery("SELECT @BOUND")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static void insert(Connection connection, long id) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.executeUpdate("INSERT INTO t_item (id, shop) VALUES (" + id + ", 0)");
        }
    }

    private List<Long> ids(int database) throws SQLException {
        List<Long> ids = new ArrayList<>();
        try (Connection connection = DriverManager.getConnection(urls.get(database), "sa", "");
                Statement statement = connection.createStatement();
                var rs = statement.executeQuery("SELECT id FROM t_item ORDER BY id")) {
            while (rs.next()) {
                ids.add(rs.getLong(1));
            }
        }
        return ids;
    }
}
