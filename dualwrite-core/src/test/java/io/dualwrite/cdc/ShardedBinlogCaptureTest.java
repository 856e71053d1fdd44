package io.dualwrite.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.CdcMariaDb;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Change-data capture of a sharded MariaDB source ({@link ShardedSource}: physical tables in several databases of
 * the binlog server of {@link CdcMariaDb}) into one PostgreSQL table, with writers that bypass the library and
 * write the physical tables with plain JDBC. Each row lives on the shard its id names: database {@code id % D},
 * table {@code id / D % T}.
 */
class ShardedBinlogCaptureTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(60);
    private static final String NODES = "dualwrite.source.shards.tables.t_order.nodes";

    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    /** The physical databases, their tables, the target, and the library's view of them. */
    private final class Rig {
        final List<CdcMariaDb> databases = new ArrayList<>();
        final List<String> physicalTables;
        final TestDatabase target;

        Rig(String prefix, int databaseCount, String... physicalTables) throws SQLException {
            this.physicalTables = List.of(physicalTables);
            for (int d = 0; d < databaseCount; d++) {
                CdcMariaDb database = CdcMariaDb.create(prefix + d);
                closeables.add(database);
                databases.add(database);
                for (String table : physicalTables) {
                    database.execute(OrderTable.ddl(Store.MARIADB, table));
                }
            }
            target = TestDatabase.create(Store.POSTGRESQL, prefix + "_t", 24);
            closeables.add(target);
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
        }

        ShardedSource source() {
            ShardedSource.Builder builder = ShardedSource.builder();
            List<ShardLayout.Shard> nodes = new ArrayList<>();
            for (int d = 0; d < databases.size(); d++) {
                builder.dataSource("ds_" + d, databases.get(d).dataSource());
                for (String table : physicalTables) {
                    nodes.add(new ShardLayout.Shard("ds_" + d, table));
                }
            }
            return builder.table("t_order", nodes).build();
        }

        MappedTables tables(DataSource source) throws SQLException {
            return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source,
                    target.dataSource(), false);
        }

        Mirror mirror(MappedTables tables, DataSource source) throws SQLException {
            Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.ASYNC).maxAttempts(1000)
                    .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(200)).build(), tables, source,
                    target.dataSource(), new EventPublisher());
            closeables.add(mirror);
            mirror.start();
            return mirror;
        }

        BinlogCapture capture(MappedTables tables, DataSource source, Mirror mirror, long serverId)
                throws SQLException {
            BinlogCapture capture = BinlogCapture.create(databases.get(0).config(serverId).build(), tables, source,
                    target.dataSource(), mirror);
            closeables.add(capture);
            capture.start();
            return capture;
        }

        int databaseOf(long id) {
            return (int) (id % databases.size());
        }

        String tableOf(long id) {
            return physicalTables.get((int) (id / databases.size() % physicalTables.size()));
        }

        /** An outside writer's connection to one physical database: plain JDBC, no pool, no library. */
        Connection outside(int database) throws SQLException {
            return databases.get(database).connect();
        }

        void seed(int rows) throws SQLException {
            for (int d = 0; d < databases.size(); d++) {
                try (Connection connection = outside(d)) {
                    for (long id = 1; id <= rows; id++) {
                        if (databaseOf(id) == d) {
                            update(connection, "INSERT INTO " + tableOf(id) + " (id, user_id, status, amount, note,"
                                    + " gmt_modified) VALUES (?, ?, 'SEEDED', 1.25, 'seed', NOW(3))", id, id % 17);
                        }
                    }
                }
            }
        }

        /**
         * Each physical shard against the target: every row of the shard equal in the target, and every target row
         * whose id belongs on that shard present in it.
         */
        List<String> differencesPerShard() throws SQLException {
            Map<Object, Map<String, Object>> targetRows = new TreeMap<>();
            for (Map<String, Object> row : target.queryForList("SELECT * FROM t_order")) {
                Map<String, Object> normalised = new LinkedHashMap<>();
                row.forEach((column, value) -> normalised.put(column, OrderTable.normalise(value)));
                targetRows.put(normalised.get("id"), normalised);
            }
            List<String> differences = new ArrayList<>();
            for (int d = 0; d < databases.size(); d++) {
                for (String table : physicalTables) {
                    String shard = "ds_" + d + "." + table;
                    Map<Object, Map<String, Object>> shardRows = rows(d, table);
                    shardRows.forEach((id, row) -> {
                        if (!row.equals(targetRows.get(id))) {
                            differences.add(shard + ": source " + row + " target " + targetRows.get(id));
                        }
                    });
                    for (Map.Entry<Object, Map<String, Object>> row : targetRows.entrySet()) {
                        long id = Long.parseLong(String.valueOf(row.getKey()));
                        if (databaseOf(id) == d && tableOf(id).equals(table) && !shardRows.containsKey(row.getKey())) {
                            differences.add(shard + ": extra in target " + row.getValue());
                        }
                    }
                }
            }
            return differences;
        }

        Map<Object, Map<String, Object>> rows(int database, String table) throws SQLException {
            Map<Object, Map<String, Object>> rows = new TreeMap<>();
            try (Connection connection = outside(database); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT * FROM " + table)) {
                while (rs.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        row.put(rs.getMetaData().getColumnLabel(i).toLowerCase(), OrderTable.normalise(rs.getObject(i)));
                    }
                    rows.put(row.get("id"), row);
                }
            }
            return rows;
        }
    }

    /**
     * The regression: sharded by database only, every physical table has the logical table's name. The reader
     * knew one table, {@code t_order} in the connection's own database, and silently missed every change written in
     * the other database.
     */
    @Test
    void outsideWritesOnEveryDatabasesShard_areCaptured_notOnlyTheHomeDatabases() throws Exception {
        Rig rig = new Rig("cdcsh_db", 2, "t_order");
        ShardedSource source = rig.source();
        MappedTables tables = rig.tables(source);
        Mirror mirror = rig.mirror(tables, source);
        BinlogCapture capture = rig.capture(tables, source, mirror, 7301);
        for (int d = 0; d < 2; d++) {
            try (Connection connection = rig.outside(d)) {
                for (long id = 1; id <= 10; id++) {
                    if (rig.databaseOf(id) == d) {
                        update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                                + " VALUES (?, 3, 'NEW', 2.50, 'outside', NOW(3))", id);
                    }
                }
                update(connection, "UPDATE t_order SET status = 'PAID', gmt_modified = NOW(3) WHERE id < 5");
                update(connection, "DELETE FROM t_order WHERE id IN (7, 8)");
            }
        }
        assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
        assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
        assertThat(rig.differencesPerShard()).isEmpty();
        assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(8L);
        assertThat(capture.status().stoppedTables()).isEmpty();
    }

    @Test
    void outsideWritersOnHotKeysOfEveryShard_whileTheBackfillRuns_leaveNoDifferenceOnAnyShard() throws Exception {
        Rig rig = new Rig("cdcsh_bf", 2, "t_order_0", "t_order_1", "t_order_2");
        rig.seed(600);
        ShardedSource source = rig.source();
        MappedTables tables = rig.tables(source);
        Mirror mirror = rig.mirror(tables, source);
        BinlogCapture capture = rig.capture(tables, source, mirror, 7302);
        BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(40)
                .chunkSizeBounds(40, 40).threads(2).createTables(true).build(), tables, source,
                rig.target.dataSource(), new EventPublisher());
        closeables.add(backfill);
        backfill.start("t_order");

        ConcurrentLinkedQueue<Throwable> writerFailures = new ConcurrentLinkedQueue<>();
        AtomicLong writes = new AtomicLong();
        long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(6);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < 6; w++) {
            int database = w % 2;
            futures.add(pool.submit(() -> {
                try (Connection connection = rig.outside(database)) {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        try {
                            outsideWrite(rig, database, connection, random);
                            writes.incrementAndGet();
                        } catch (SQLException collided) {
                            // Hot keys collide (duplicate keys, deadlocks): the writer's problem, not ours.
                            if (!connection.getAutoCommit()) {
                                connection.rollback();
                                connection.setAutoCommit(true);
                            }
                        }
                    }
                } catch (Throwable e) {
                    writerFailures.add(e);
                }
            }));
        }
        for (Future<?> future : futures) {
            future.get();
        }
        pool.shutdown();
        assertThat(writerFailures).isEmpty();
        assertThat(writes.get()).isGreaterThan(200);

        assertThat(backfill.awaitCompletion("t_order", CATCH_UP)).isTrue();
        assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
        assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
        assertThat(rig.differencesPerShard()).isEmpty();
        assertThat(capture.status().keysHanded()).isGreaterThan(200);
        assertThat(capture.status().stoppedTables()).isEmpty();
        for (int d = 0; d < 2; d++) {
            for (String table : rig.physicalTables) {
                assertThat(rig.rows(d, table)).as("rows on ds_%s.%s", d, table).isNotEmpty();
            }
        }
    }

    /** The same capture when the source is given as a ShardingSphere-JDBC data source: its storage units' tables. */
    @Test
    void aShardingSphereSource_outsideWritesOnEveryPhysicalTable_areCaptured() throws Exception {
        Rig rig = new Rig("cdcsh_ss", 2, "t_order_0", "t_order_1");
        StringBuilder yaml = new StringBuilder("databaseName: dw_cdcsh_ss\ndataSources:\n");
        for (int d = 0; d < 2; d++) {
            CdcMariaDb database = rig.databases.get(d);
            yaml.append("  ds_").append(d).append(":\n")
                    .append("    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n")
                    .append("    driverClassName: org.mariadb.jdbc.Driver\n")
                    .append("    jdbcUrl: ").append(database.jdbcUrl()).append('\n')
                    .append("    username: ").append(database.username()).append('\n')
                    .append("    password: '").append(database.password()).append("'\n")
                    .append("    maximumPoolSize: 8\n");
        }
        yaml.append("""
                rules:
                - !SHARDING
                  tables:
                    t_order:
                      actualDataNodes: ds_${0..1}.t_order_${0..1}
                      databaseStrategy:
                        standard:
                          shardingColumn: id
                          shardingAlgorithmName: by_id_database
                      tableStrategy:
                        standard:
                          shardingColumn: id
                          shardingAlgorithmName: by_id_table
                  shardingAlgorithms:
                    by_id_database:
                      type: INLINE
                      props:
                        algorithm-expression: ds_${id % 2}
                    by_id_table:
                      type: INLINE
                      props:
                        algorithm-expression: t_order_${id.intdiv(2) % 2}
                """);
        DataSource shardingSphere = org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory
                .createDataSource(yaml.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8));
        closeables.add((AutoCloseable) shardingSphere);
        ShardedSource source = ShardedSource.ofShardingSphere(shardingSphere);
        MappedTables tables = rig.tables(source);
        Mirror mirror = rig.mirror(tables, source);
        BinlogCapture capture = rig.capture(tables, source, mirror, 7307);
        for (int d = 0; d < 2; d++) {
            try (Connection connection = rig.outside(d)) {
                for (long id = 1; id <= 12; id++) {
                    if (rig.databaseOf(id) == d) {
                        update(connection, "INSERT INTO " + rig.tableOf(id) + " (id, user_id, status, amount, note,"
                                + " gmt_modified) VALUES (?, 3, 'NEW', 2.50, 'outside', NOW(3))", id);
                    }
                }
                update(connection, "UPDATE " + rig.tableOf(d == 0 ? 2 : 3) + " SET status = 'PAID' WHERE id < 5");
                update(connection, "DELETE FROM " + rig.tableOf(d == 0 ? 10 : 11) + " WHERE id > 9");
            }
        }
        assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
        assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
        assertThat(rig.differencesPerShard()).isEmpty();
        assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(10L);
    }

    @Test
    void aShardOnAnotherServer_isRefusedAtStart_evenWhenTheCaptureIsNotRequired_namingTheProperties()
            throws Exception {
        Rig rig = new Rig("cdcsh_far", 1, "t_order");
        TestDatabase elsewhere = TestDatabase.create(Store.MARIADB, "cdcsh_far1");
        closeables.add(elsewhere);
        elsewhere.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
        ShardedSource source = ShardedSource.builder().dataSource("ds_0", rig.databases.get(0).dataSource())
                .dataSource("ds_1", elsewhere.dataSource()).table("t_order", List.of(
                        new ShardLayout.Shard("ds_0", "t_order"), new ShardLayout.Shard("ds_1", "t_order")))
                .build();
        MappedTables tables = rig.tables(source);
        Mirror mirror = rig.mirror(tables, source);
        CdcMariaDb server = rig.databases.get(0);
        for (boolean required : new boolean[] {true, false}) {
            BinlogCapture capture = BinlogCapture.create(server.config(7303).required(required).build(), tables,
                    source, rig.target.dataSource(), mirror);
            closeables.add(capture);
            assertThatThrownBy(capture::start).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("change-data capture of a sharded store: dualwrite.capture.cdc: shard"
                            + " ds_1.t_order of table 't_order' is in ")
                    .hasMessageContaining(", but the log read is the binary log of " + server.host() + ":"
                            + server.port() + ", so its changes would never be captured; declare only shards there ("
                            + NODES + " (ShardedSource.Builder.table in code)), point dualwrite.capture.cdc.host/port"
                            + " at the one server that holds them all, or set dualwrite.capture.cdc.enabled=false and"
                            + " reconcile after outside writes")
                    .message().doesNotContain("ds_0.t_order");
            assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.NEW);
        }

        ShardedSource homeElsewhere = ShardedSource.builder().dataSource("ds_0", server.dataSource())
                .dataSource("ds_1", elsewhere.dataSource()).home("ds_1")
                .table("t_order", List.of(new ShardLayout.Shard("ds_0", "t_order"))).build();
        MappedTables homeTables = rig.tables(homeElsewhere);
        BinlogCapture capture = BinlogCapture.create(server.config(7306).build(), homeTables, homeElsewhere,
                rig.target.dataSource(), rig.mirror(homeTables, homeElsewhere));
        closeables.add(capture);
        assertThatThrownBy(capture::start).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.capture.cdc: the sharded store's home data source"
                        + " (dualwrite.source.shards.home, or the home data source of ")
                .hasMessageContaining(", but the log read is the binary log of " + server.host() + ":"
                        + server.port() + "; the capture reads the log's head there, so it must be on the server whose"
                        + " log is read");
    }

    @Test
    void aShardLaidOutDifferently_stopsTheTablesCaptureAtStart() throws Exception {
        Rig rig = new Rig("cdcsh_lay", 2, "t_order_0", "t_order_1");
        rig.databases.get(1).execute("DROP TABLE t_order_1", "CREATE TABLE t_order_1 (user_id BIGINT NOT NULL,"
                + " id BIGINT NOT NULL PRIMARY KEY, status VARCHAR(32) NOT NULL, amount DECIMAL(12,2), note"
                + " VARCHAR(200), gmt_modified DATETIME(3) NOT NULL)");
        ShardedSource source = rig.source();
        MappedTables tables = rig.tables(source);
        Mirror mirror = rig.mirror(tables, source);
        BinlogCapture capture = rig.capture(tables, source, mirror, 7304);
        assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
        assertThat(capture.status().stoppedTables()).containsOnlyKeys("t_order");
        assertThat(capture.status().stoppedTables().get("t_order")).startsWith("its physical tables are laid out"
                + " differently in the log: " + rig.databases.get(1).name() + ".t_order_1 has 6 columns with the key"
                + " at [2]").endsWith("; give every shard the same columns in the same order");
    }

    @Test
    void ddlOnOnePhysicalTable_stopsTheMappedTablesCapture() throws Exception {
        Rig rig = new Rig("cdcsh_ddl", 2, "t_order_0", "t_order_1");
        ShardedSource source = rig.source();
        MappedTables tables = rig.tables(source);
        Mirror mirror = rig.mirror(tables, source);
        BinlogCapture capture = rig.capture(tables, source, mirror, 7305);
        assertThat(capture.status().stoppedTables()).isEmpty();
        try (Connection connection = rig.outside(1)) {
            update(connection, "ALTER TABLE t_order_1 ADD COLUMN extra INT");
        }
        assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
        assertThat(capture.status().stoppedTables()).containsOnlyKeys("t_order");
        assertThat(capture.status().stoppedTables().get("t_order")).startsWith("DDL seen in the log at ")
                .contains("ALTER TABLE t_order_1 ADD COLUMN extra INT");
    }

    /**
     * Inserts, updates and deletes on 30 hot keys of one database (every physical table in it), some in
     * transactions over several of its tables; new keys beyond the seeded ones as well.
     */
    private static void outsideWrite(Rig rig, int database, Connection connection, ThreadLocalRandom random)
            throws SQLException {
        boolean transaction = random.nextInt(3) == 0;
        if (transaction) {
            connection.setAutoCommit(false);
        }
        int statements = transaction ? 2 + random.nextInt(3) : 1;
        for (int i = 0; i < statements; i++) {
            long id = hotKey(rig, database, random);
            String table = rig.tableOf(id);
            switch (random.nextInt(4)) {
                case 0 -> update(connection, "INSERT INTO " + table + " (id, user_id, status, amount, note,"
                        + " gmt_modified) VALUES (?, 7, 'NEW', 1.50, 'outside', NOW(3)) ON DUPLICATE KEY UPDATE"
                        + " status = 'AGAIN', gmt_modified = NOW(3)", id);
                case 1 -> update(connection, "UPDATE " + table + " SET amount = amount + 1, note = CONCAT('u', id),"
                        + " gmt_modified = NOW(3) WHERE id = ?", id);
                case 2 -> update(connection, "DELETE FROM " + table + " WHERE id = ?", id);
                default -> update(connection, "UPDATE " + table + " SET status = 'PAID', gmt_modified = NOW(3)"
                        + " WHERE id BETWEEN ? AND ? + 12", id, id);
            }
        }
        if (transaction) {
            connection.commit();
            connection.setAutoCommit(true);
        }
    }

    /** A key on {@code database}: one of the first 30 seeded ones, or one of 30 beyond the seed. */
    private static long hotKey(Rig rig, int database, ThreadLocalRandom random) {
        long base = random.nextBoolean() ? 0 : 600;
        long id = base + 1 + random.nextInt(60);
        return rig.databaseOf(id) == database ? id : id + 1;
    }

    private static void update(Connection connection, String sql, Object... args) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                statement.setObject(i + 1, args[i]);
            }
            statement.executeUpdate();
        }
    }
}
