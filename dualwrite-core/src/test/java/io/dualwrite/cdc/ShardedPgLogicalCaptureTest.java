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
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Logical-decoding capture of a sharded PostgreSQL source ({@link ShardedSource}: physical tables in two schemas of
 * the slot's database) into one MariaDB table, with writers that bypass the library and write the physical tables
 * with plain JDBC. Each row lives on the shard its id names: schema {@code id % 2}, table {@code id / 2 % 2}.
 * Every test drops the slot and the publication it made.
 */
class ShardedPgLogicalCaptureTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(60);
    private static final Pattern URL = Pattern.compile("jdbc:postgresql://([^:/?]+)(?::(\\d+))?/([^?]+).*");
    private static final List<String> TABLES = List.of("t_order_0", "t_order_1");

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private final List<TestDatabase> schemas = new ArrayList<>();
    private TestDatabase target;
    private String host;
    private int port;
    private String database;
    private String slot;

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    /** Two schemas with the physical tables, the MariaDB target, and the slot and publication dropped at the end. */
    private void stores(String prefix) {
        for (int s = 0; s < 2; s++) {
            TestDatabase schema = TestDatabase.create(Store.POSTGRESQL, prefix + s);
            closeables.add(schema);
            schemas.add(schema);
            for (String table : TABLES) {
                schema.execute(OrderTable.ddl(Store.POSTGRESQL, table));
            }
        }
        TestDatabase first = schemas.get(0);
        String walLevel = first.queryForObject("SHOW wal_level", String.class);
        if (!"logical".equals(walLevel) && !"true".equalsIgnoreCase(System.getenv("CI"))) {
            Assumptions.abort("the test PostgreSQL runs with wal_level=" + walLevel);
        }
        Matcher matcher = URL.matcher(first.jdbcUrl());
        assertThat(matcher.matches()).as("PostgreSQL URL %s", first.jdbcUrl()).isTrue();
        host = matcher.group(1);
        port = matcher.group(2) == null ? 5432 : Integer.parseInt(matcher.group(2));
        database = matcher.group(3);
        slot = first.name();
        closeables.add(() -> {
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (true) {
                try {
                    first.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE"
                            + " slot_name = '" + slot + "'");
                    break;
                } catch (RuntimeException active) {
                    if (System.nanoTime() > deadline) {
                        throw active;
                    }
                    Thread.sleep(100);
                }
            }
            first.execute("DROP PUBLICATION IF EXISTS " + slot);
        });
        target = TestDatabase.create(Store.MARIADB, prefix + "_t", 24);
        closeables.add(target);
        target.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
    }

    private ShardedSource source(javax.sql.DataSource second) {
        List<ShardLayout.Shard> nodes = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            for (String table : TABLES) {
                nodes.add(new ShardLayout.Shard("ds_" + s, table));
            }
        }
        return ShardedSource.builder().dataSource("ds_0", schemas.get(0).dataSource()).dataSource("ds_1", second)
                .table("t_order", nodes).build();
    }

    private MappedTables tables(ShardedSource source) throws SQLException {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source, target.dataSource(),
                false);
    }

    private Mirror mirror(MappedTables tables, ShardedSource source) throws SQLException {
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.ASYNC).maxAttempts(1000)
                .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(200)).build(), tables, source,
                target.dataSource(), new EventPublisher());
        closeables.add(mirror);
        mirror.start();
        return mirror;
    }

    private PgLogicalCapture capture(MappedTables tables, ShardedSource source, Mirror mirror) {
        CdcConfig config = CdcConfig.builder().server(host, port)
                .credentials(schemas.get(0).username(), schemas.get(0).password()).logicalDecoding(database)
                .slotName(slot).publicationName(slot).createPositionTable(true)
                .checkpointInterval(Duration.ofMillis(200)).reconnectDelay(Duration.ofMillis(200)).build();
        PgLogicalCapture capture = PgLogicalCapture.create(config, tables, source, target.dataSource(), mirror);
        closeables.add(capture);
        return capture;
    }

    private static int schemaOf(long id) {
        return (int) (id % 2);
    }

    private static String tableOf(long id) {
        return TABLES.get((int) (id / 2 % 2));
    }

    private Connection outside(int schema) throws SQLException {
        TestDatabase db = schemas.get(schema);
        return DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
    }

    @Test
    void outsideWritersOnHotKeysOfEveryShard_whileTheBackfillRuns_leaveNoDifferenceOnAnyShard() throws Exception {
        stores("pgcdcsh");
        for (int s = 0; s < 2; s++) {
            try (Connection connection = outside(s)) {
                for (long id = 1; id <= 400; id++) {
                    if (schemaOf(id) == s) {
                        update(connection, "INSERT INTO " + tableOf(id) + " (id, user_id, status, amount, note,"
                                + " gmt_modified) VALUES (?, 3, 'SEEDED', 1.25, 'seed', LOCALTIMESTAMP(3))", id);
                    }
                }
            }
        }
        ShardedSource source = source(schemas.get(1).dataSource());
        MappedTables tables = tables(source);
        Mirror mirror = mirror(tables, source);
        PgLogicalCapture capture = capture(tables, source, mirror);
        capture.start();
        assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
        BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().chunkSize(40)
                .chunkSizeBounds(40, 40).threads(2).createTables(true).build(), tables, source,
                target.dataSource(), new EventPublisher());
        closeables.add(backfill);
        backfill.start("t_order");

        ConcurrentLinkedQueue<Throwable> writerFailures = new ConcurrentLinkedQueue<>();
        AtomicLong writes = new AtomicLong();
        long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int schema = w % 2;
            futures.add(pool.submit(() -> {
                try (Connection connection = outside(schema)) {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        try {
                            outsideWrite(schema, connection, random);
                            writes.incrementAndGet();
                        } catch (SQLException collided) {
                            // Hot keys collide (deadlocks, duplicate keys): the writer's problem, not ours.
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
        assertThat(writes.get()).isGreaterThan(100);

        assertThat(backfill.awaitCompletion("t_order", CATCH_UP)).isTrue();
        assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
        assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
        assertThat(differencesPerShard()).isEmpty();
        assertThat(capture.status().keysHanded()).isGreaterThan(100);
        assertThat(capture.status().stoppedTables()).isEmpty();
        assertThat(schemas.get(0).queryForObject("SELECT COUNT(*) FROM pg_publication_tables WHERE pubname = ?",
                Long.class, slot)).as("every physical table published").isEqualTo(4L);
    }

    /**
     * Shards named like the logical table in two schemas: the reader looked for {@code t_order} in the home schema
     * only, and the other schema's changes were lost without a word.
     */
    @Test
    void shardsNamedLikeTheLogicalTable_inEverySchema_areCaptured() throws Exception {
        stores("pgcdcsh_same");
        for (TestDatabase schema : schemas) {
            schema.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
        }
        ShardedSource source = ShardedSource.builder().dataSource("ds_0", schemas.get(0).dataSource())
                .dataSource("ds_1", schemas.get(1).dataSource())
                .table("t_order", List.of(new ShardLayout.Shard("ds_0", "t_order"),
                        new ShardLayout.Shard("ds_1", "t_order"))).build();
        MappedTables tables = tables(source);
        Mirror mirror = mirror(tables, source);
        PgLogicalCapture capture = capture(tables, source, mirror);
        capture.start();
        for (int s = 0; s < 2; s++) {
            try (Connection connection = outside(s)) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES"
                        + " (?, 1, 'NEW', 2.00, 'outside', LOCALTIMESTAMP(3))", 10 + s);
            }
        }
        assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
        assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
        assertThat(target.queryForList("SELECT id FROM t_order ORDER BY id")).extracting(row -> row.get("id"))
                .map(String::valueOf).containsExactly("10", "11");
    }

    @Test
    void aShardInAnotherDatabase_isRefusedAtStart_namingTheProperties() throws Exception {
        stores("pgcdcsh_far");
        String other = schemas.get(0).name() + "_db";
        schemas.get(0).execute("CREATE DATABASE " + other);
        closeables.add(() -> schemas.get(0).execute("DROP DATABASE IF EXISTS " + other));
        com.zaxxer.hikari.HikariDataSource elsewhere = new com.zaxxer.hikari.HikariDataSource();
        elsewhere.setJdbcUrl("jdbc:postgresql://" + host + ":" + port + "/" + other);
        elsewhere.setUsername(schemas.get(0).username());
        elsewhere.setPassword(schemas.get(0).password());
        elsewhere.setMaximumPoolSize(4);
        closeables.add(elsewhere);
        try (Connection connection = elsewhere.getConnection();
                java.sql.Statement statement = connection.createStatement()) {
            for (String table : TABLES) {
                statement.execute(OrderTable.ddl(Store.POSTGRESQL, table));
            }
        }
        ShardedSource source = source(elsewhere);
        MappedTables tables = tables(source);
        PgLogicalCapture capture = capture(tables, source, mirror(tables, source));
        assertThatThrownBy(capture::start).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("change-data capture of a sharded store: dualwrite.capture.cdc: shard"
                        + " ds_1.t_order_0 of table 't_order' is in " + host + ":" + port + "/" + other
                        + ", but replication slot '" + slot + "' decodes database " + database + " only (a slot"
                        + " belongs to one database), so its changes would never be captured; declare only shards"
                        + " there (dualwrite.source.shards.tables.t_order.nodes (ShardedSource.Builder.table in"
                        + " code)), point dualwrite.capture.cdc.host/port at the one server that holds them all, or"
                        + " set dualwrite.capture.cdc.enabled=false and reconcile after outside writes")
                .hasMessageContaining("shard ds_1.t_order_1 of table 't_order' is in")
                .message().doesNotContain("ds_0.t_order");
        assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.NEW);
        assertThat(schemas.get(0).queryForObject("SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = ?",
                Long.class, slot)).as("no slot made").isZero();
    }

    /** Inserts, updates and deletes on 40 hot keys of one schema, some in transactions over both its tables. */
    private static void outsideWrite(int schema, Connection connection, ThreadLocalRandom random)
            throws SQLException {
        boolean transaction = random.nextInt(3) == 0;
        if (transaction) {
            connection.setAutoCommit(false);
        }
        int statements = transaction ? 2 + random.nextInt(3) : 1;
        for (int i = 0; i < statements; i++) {
            long id = (random.nextBoolean() ? 0 : 400) + 1 + random.nextInt(40);
            id = schemaOf(id) == schema ? id : id + 1;
            String table = tableOf(id);
            switch (random.nextInt(3)) {
                case 0 -> update(connection, "INSERT INTO " + table + " (id, user_id, status, amount, note,"
                        + " gmt_modified) VALUES (?, 7, 'NEW', 1.50, 'outside', LOCALTIMESTAMP(3)) ON CONFLICT (id) DO UPDATE SET"
                        + " status = 'AGAIN', gmt_modified = LOCALTIMESTAMP(3)", id);
                case 1 -> update(connection, "UPDATE " + table + " SET amount = amount + 1, note = 'u' || id,"
                        + " gmt_modified = LOCALTIMESTAMP(3) WHERE id = ?", id);
                default -> update(connection, "DELETE FROM " + table + " WHERE id = ?", id);
            }
        }
        if (transaction) {
            connection.commit();
            connection.setAutoCommit(true);
        }
    }

    /** Each physical shard against the target, as in {@link ShardedBinlogCaptureTest}. */
    private List<String> differencesPerShard() {
        Map<String, Map<String, Object>> targetRows = new TreeMap<>();
        for (Map<String, Object> row : target.queryForList("SELECT * FROM t_order")) {
            Map<String, Object> normalised = normalise(row);
            targetRows.put(String.valueOf(normalised.get("id")), normalised);
        }
        List<String> differences = new ArrayList<>();
        for (int s = 0; s < 2; s++) {
            for (String table : TABLES) {
                String shard = "ds_" + s + "." + table;
                Map<String, Map<String, Object>> shardRows = new TreeMap<>();
                for (Map<String, Object> row : schemas.get(s).queryForList("SELECT * FROM " + table)) {
                    Map<String, Object> normalised = normalise(row);
                    shardRows.put(String.valueOf(normalised.get("id")), normalised);
                }
                shardRows.forEach((id, row) -> {
                    if (!row.equals(targetRows.get(id))) {
                        differences.add(shard + ": source " + row + " target " + targetRows.get(id));
                    }
                });
                for (Map.Entry<String, Map<String, Object>> row : targetRows.entrySet()) {
                    long id = Long.parseLong(row.getKey());
                    if (schemaOf(id) == s && tableOf(id).equals(table) && !shardRows.containsKey(row.getKey())) {
                        differences.add(shard + ": extra in target " + row.getValue());
                    }
                }
            }
        }
        return differences;
    }

    private static Map<String, Object> normalise(Map<String, Object> row) {
        Map<String, Object> normalised = new LinkedHashMap<>();
        row.forEach((column, value) -> normalised.put(column.toLowerCase(java.util.Locale.ROOT),
                OrderTable.normalise(value)));
        return normalised;
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
