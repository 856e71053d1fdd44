package io.dualwrite.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillTestHooks;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * MariaDB's single {@code t_order} mirrored and backfilled into PostgreSQL split by ShardingSphere-JDBC into 2
 * databases x 4 tables by {@code user_id}. Every check reads each physical table directly, and places each row by
 * the test's own reading of the YAML's inline expressions, independent of the library, which asks ShardingSphere.
 */
class ShardedTargetTest {

    private static final int DATABASES = 2;
    private static final int TABLES = 4;

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private TestDatabase source;
    private final List<PhysicalDatabase> shards = new ArrayList<>();
    private ShardingSphereTarget target;

    @BeforeEach
    void createStores() throws Exception {
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

    @AfterEach
    void closeStores() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    /** The application's own ShardingSphere YAML, as its users write it. */
    private String yaml(String keyGenerator) {
        StringBuilder yaml = new StringBuilder("databaseName: dw_" + shards.get(0).name() + "\n")
                .append("dataSources:\n");
        for (int d = 0; d < DATABASES; d++) {
            PhysicalDatabase shard = shards.get(d);
            yaml.append("  ds_").append(d).append(":\n")
                    .append("    dataSourceClassName: com.zaxxer.hikari.HikariDataSource\n")
                    .append("    driverClassName: org.postgresql.Driver\n")
                    .append("    jdbcUrl: ").append(shard.jdbcUrl()).append('\n')
                    .append("    username: ").append(shard.server().username()).append('\n')
                    .append("    password: '").append(shard.server().password() == null ? ""
                            : shard.server().password()).append("'\n")
                    .append("    maximumPoolSize: 12\n");
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

    private ShardingSphereTarget target(String keyGenerator) throws Exception {
        DataSource sharding = YamlShardingSphereDataSourceFactory.createDataSource(
                yaml(keyGenerator).getBytes(StandardCharsets.UTF_8));
        closeables.add((AutoCloseable) sharding);
        return ShardingSphereTarget.of(sharding);
    }

    private MappedTables orders() throws Exception {
        target = target(null);
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id")
                .immutableShardingColumn(true).build()), source.dataSource(), target, false);
    }

    /** The shard the YAML's expressions name, worked out by the test: database user_id % 2, table user_id / 2 % 4. */
    private static int[] expectedShard(long userId) {
        return new int[] {(int) (userId % DATABASES), (int) (userId / 2 % TABLES)};
    }

    /** The same user for an id, always: the application never changes a row's sharding column. */
    private static long userOf(long id) {
        return id * 7 % 23;
    }

    @Test
    void layout_namesTheDataNodeShardingSphereItselfWritesTo() throws Exception {
        target = target(null);
        ShardLayout layout = target.layout("T_ORDER").orElseThrow();
        assertThat(layout.shards()).hasSize(DATABASES * TABLES);
        assertThat(layout.shardingColumns()).containsExactly("user_id");
        assertThat(target.layout("t_other")).isEmpty();
        JdbcTemplate app = new JdbcTemplate(target.shardingSphere());
        for (long user = 0; user < 16; user++) {
            app.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (?, ?, 'NEW', 1.00,"
                    + " NULL, CURRENT_TIMESTAMP)", 1000 + user, user);
            long id = 1000 + user;
            ShardLayout.Shard named = layout.shardOf(column -> column.equals("user_id") ? id - 1000 : null);
            int database = Integer.parseInt(named.dataSource().substring("ds_".length()));
            assertThat(shards.get(database).queryForObject("SELECT COUNT(*) FROM " + named.table() + " WHERE id = ?",
                    Long.class, id)).as("user %d: ShardingSphere's insert landed on %s", user, named).isEqualTo(1L);
            assertThat(new int[] {database, Integer.parseInt(named.table().substring("t_order_".length()))})
                    .isEqualTo(expectedShard(user));
        }
        assertThatThrownBy(() -> layout.shardOf(column -> null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("logical table 't_order': sharding column 'user_id' is null, so ShardingSphere's rule"
                        + " cannot name the row's shard");
    }

    @Test
    void resolve_namesTheLogicalTableShardAndPropertyOfEveryMisfit() throws Exception {
        target = target("id");
        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("status")
                .build()), source.dataSource(), target, false))
                .isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order.routing-column: routing column 'status' (target column"
                        + " 'status') is not the sharding column of logical table 't_order' (shards [ds_0.t_order_0 .."
                        + " ds_1.t_order_3, 8 in all]), which shards by [user_id]")
                .hasMessageContaining("dualwrite.tables.t_order.immutable-sharding-column: sharding column [user_id] of"
                        + " logical table 't_order' (shards [ds_0.t_order_0 .. ds_1.t_order_3, 8 in all]) is not part of"
                        + " the key [id], so an update could change it")
                .hasMessageContaining("dualwrite.tables.t_order.target-table: logical table 't_order' (shards"
                        + " [ds_0.t_order_0 .. ds_1.t_order_3, 8 in all]) has ShardingSphere's key generator on key"
                        + " column 'id'");
    }

    @Test
    void resolve_missingPhysicalTable_namesTheShard() throws Exception {
        shards.get(1).execute("DROP TABLE t_order_2");
        target = target(null);
        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_order")
                .immutableShardingColumn(true).build()), source.dataSource(), target, false))
                .isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order.target-table: table 't_order_2' does not exist in the"
                        + " target data source 'ds_1' (shard of logical table 't_order') database");
    }

    @ParameterizedTest
    @EnumSource(value = MirrorMode.class, names = {"SYNC", "ASYNC"})
    void mirror_hotKeysAndConcurrentWriters_convergeOnEveryPhysicalShard(MirrorMode mode) throws Exception {
        MappedTables tables = orders();
        MirrorConfig config = MirrorConfig.builder().mode(mode).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(20)).build();
        try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target, new EventPublisher())) {
            mirror.start();
            JdbcTemplate app = new JdbcTemplate(source.dataSource());
            AtomicLong writes = new AtomicLong();
            List<Thread> writers = new ArrayList<>();
            long until = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            for (int w = 0; w < 4; w++) {
                Thread writer = new Thread(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < until) {
                        long id = 1 + random.nextInt(random.nextInt(4) == 0 ? 200 : 12);
                        int op = random.nextInt(10);
                        if (op < 2) {
                            app.update("DELETE FROM t_order WHERE id = ?", id);
                        } else {
                            app.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES"
                                    + " (?, ?, ?, ?, ?, NOW(3)) ON DUPLICATE KEY UPDATE status = VALUES(status),"
                                    + " amount = VALUES(amount), note = VALUES(note), gmt_modified = NOW(3)",
                                    id, userOf(id), "S" + op, BigDecimal.valueOf(random.nextInt(100_000), 2),
                                    random.nextBoolean() ? null : "note " + random.nextInt(1000));
                        }
                        mirror.recorder().record("t_order", id);
                        writes.incrementAndGet();
                    }
                });
                writers.add(writer);
                writer.start();
            }
            for (Thread writer : writers) {
                writer.join();
            }
            assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).isTrue();
            assertThat(writes.get()).isGreaterThan(200);
            assertThat(mirror.parked()).isZero();
        }
        assertThat(differencesPerShard()).isEmpty();
        assertThat(source.queryForObject("SELECT COUNT(DISTINCT user_id % 2, user_id DIV 2 % 4) FROM t_order",
                Long.class)).as("the rows reached every shard").isEqualTo(8L);
    }

    @Test
    void backfill_acrossShards_crashInTheMiddle_resumesAndCopiesEveryRowOnce() throws Exception {
        List<Object[]> batch = new ArrayList<>();
        Timestamp modified = Timestamp.valueOf("2026-01-01 12:00:00.000");
        for (long id = 1; id <= 3_000; id++) {
            batch.add(new Object[] {id, userOf(id), "S" + id % 5, BigDecimal.valueOf(id, 2),
                    id % 3 == 0 ? null : "note " + id, modified});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, user_id, status, amount, note,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?)", batch);
        MappedTables tables = orders();

        BackfillRunner dying = runner(tables, "dying");
        BackfillTestHooks.crashInChunk(dying, 3);
        dying.start("t_order");
        dying.awaitCompletion("t_order", Duration.ofSeconds(30));
        long afterCrash = runner(tables, "reader").progress("t_order").rowsCopied();
        assertThat(afterCrash).as("two chunks committed before the crash").isEqualTo(400);
        assertThat(physicalRows().size()).as("the crashed chunk wrote no shard").isEqualTo(400);

        BackfillRunner finishing = runner(tables, "finishing");
        finishing.start("t_order");
        assertThat(finishing.awaitCompletion("t_order", Duration.ofSeconds(90))).isTrue();
        assertThat(finishing.progress("t_order").rowsCopied()).as("no chunk counted twice").isEqualTo(3_000);
        assertThat(differencesPerShard()).isEmpty();
        assertThat(shards.get(0).queryForObject("SELECT COUNT(*) FROM dualwrite_checkpoint", Long.class))
                .as("the library's tables live in the home database").isPositive();
    }

    private BackfillRunner runner(MappedTables tables, String owner) {
        BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().chunkSize(200).chunkSizeBounds(200, 200)
                .rangesPerTable(1).leaseDuration(Duration.ofMillis(500)).ownerId(owner).createTables(true).build(),
                tables, source.dataSource(), target, new EventPublisher());
        closeables.add(runner);
        return runner;
    }

    /** Every physical table's rows, read directly, by id; a row found on two shards fails the test. */
    private Map<String, Map<String, Object>> physicalRows() {
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
    private List<String> differencesPerShard() {
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

    /** A uniquely named PostgreSQL database on the server a TestDatabase found, dropped on close. */
    private record PhysicalDatabase(TestDatabase server, String name, String jdbcUrl,
            com.zaxxer.hikari.HikariDataSource pool) implements AutoCloseable {

        static PhysicalDatabase create(TestDatabase server, String suffix) {
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

        void execute(String... sql) {
            new JdbcTemplate(pool).batchUpdate(sql);
        }

        <T> T queryForObject(String sql, Class<T> type, Object... args) {
            return new JdbcTemplate(pool).queryForObject(sql, type, args);
        }

        List<Map<String, Object>> queryForList(String sql) {
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
}
