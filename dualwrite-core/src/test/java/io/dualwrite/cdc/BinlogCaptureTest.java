package io.dualwrite.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.CdcMariaDb;
import io.dualwrite.testing.FailingDataSource;
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
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Change-data capture from MariaDB's binary log into PostgreSQL, with writers that bypass the library
 * entirely (plain JDBC connections of their own): convergence on hot keys with key updates and a target
 * outage, a crash between reading and applying, the echo filter, DDL, and the readiness check.
 * Needs the binlog-enabled server of {@link CdcMariaDb}.
 */
class BinlogCaptureTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(60);

    /** Source and target with the order table, and a started ASYNC mirror (unless told otherwise). */
    private static final class Rig implements AutoCloseable {
        final CdcMariaDb source;
        final TestDatabase target;
        final FailingDataSource flakyTarget;
        final MappedTables tables;
        final EventPublisher events = new EventPublisher();
        final AtomicLong applied = new AtomicLong();
        final List<Mirror> mirrors = new ArrayList<>();
        final List<BinlogCapture> captures = new ArrayList<>();

        Rig(String prefix) throws SQLException {
            this.source = CdcMariaDb.create(prefix);
            this.target = TestDatabase.create(Store.POSTGRESQL, prefix + "_t", 24);
            source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            this.flakyTarget = new FailingDataSource(target.dataSource());
            this.tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                    flakyTarget, false);
            events.subscribe(event -> {
                if (event instanceof DualWriteEvent.ChangesApplied changes) {
                    applied.addAndGet(changes.upserted() + changes.deleted());
                }
            });
        }

        Mirror mirror(boolean start) throws SQLException {
            // The crash tests' stalled mirror never applies its keys: closing it need not wait the default 10 s for
            // them (the keys are parked at close, after every assertion; a started mirror is drained by then).
            Mirror mirror = Mirror.create(MirrorConfig.builder().maxAttempts(1000).initialBackoff(Duration.ofMillis(20))
                    .maxBackoff(Duration.ofMillis(200)).shutdownTimeout(Duration.ofSeconds(1)).build(), tables,
                    source.dataSource(), flakyTarget, events);
            if (start) {
                mirror.start();
            }
            mirrors.add(mirror);
            return mirror;
        }

        BinlogCapture capture(Mirror mirror, long serverId) throws SQLException {
            BinlogCapture capture = BinlogCapture.create(source.config(serverId).build(), tables, source.dataSource(),
                    flakyTarget, mirror);
            captures.add(capture);
            capture.start();
            return capture;
        }

        /** Row-by-row differences between the source and the target table; empty when equal. */
        List<String> differences() throws SQLException {
            java.util.Map<Object, java.util.Map<String, Object>> left = new java.util.TreeMap<>();
            try (Connection connection = source.connect(); Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("SELECT * FROM t_order")) {
                while (rs.next()) {
                    java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
                    for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
                        row.put(rs.getMetaData().getColumnLabel(i).toLowerCase(), OrderTable.normalise(rs.getObject(i)));
                    }
                    left.put(row.get("id"), row);
                }
            }
            java.util.Map<Object, java.util.Map<String, Object>> right = new java.util.TreeMap<>();
            for (java.util.Map<String, Object> row : target.queryForList("SELECT * FROM t_order")) {
                java.util.Map<String, Object> normalised = new java.util.LinkedHashMap<>();
                row.forEach((column, value) -> normalised.put(column, OrderTable.normalise(value)));
                right.put(normalised.get("id"), normalised);
            }
            List<String> differences = new ArrayList<>();
            left.forEach((id, row) -> {
                if (!row.equals(right.get(id))) {
                    differences.add("source " + row + " target " + right.get(id));
                }
            });
            right.forEach((id, row) -> {
                if (!left.containsKey(id)) {
                    differences.add("extra in target " + row);
                }
            });
            return differences;
        }

        @Override
        public void close() throws Exception {
            captures.forEach(BinlogCapture::close);
            mirrors.forEach(Mirror::close);
            target.close();
            source.close();
        }
    }

    @Test
    void outsideAndInProcessWritersOnHotKeys_withKeyUpdatesAndATargetOutage_converge() throws Exception {
        try (Rig rig = new Rig("cdc_conv")) {
            Mirror mirror = rig.mirror(true);
            BinlogCapture capture = rig.capture(mirror, 7101);
            ConcurrentLinkedQueue<Throwable> writerFailures = new ConcurrentLinkedQueue<>();
            AtomicLong writes = new AtomicLong();
            long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            // On a loaded machine 4 s may hold too few writes for the counts below: go on to 300, for 30 s at most.
            long latest = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            java.util.function.BooleanSupplier writing = () -> System.nanoTime() < end
                    || writes.get() < 300 && System.nanoTime() < latest;
            ExecutorService pool = Executors.newFixedThreadPool(8);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < 6; w++) {
                futures.add(pool.submit(() -> {
                    try (Connection connection = rig.source.connect()) {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        while (writing.getAsBoolean()) {
                            try {
                                outsideWrite(connection, random);
                                writes.incrementAndGet();
                            } catch (SQLException e) {
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
            // In-process writers on the same hot keys at the same time: their keys reach the mirror twice, once
            // recorded and once from the log, which is harmless.
            var transactions = new org.springframework.transaction.support.TransactionTemplate(
                    new org.springframework.jdbc.datasource.DataSourceTransactionManager(rig.source.dataSource()));
            var jdbc = new org.springframework.jdbc.core.JdbcTemplate(rig.source.dataSource());
            for (int w = 0; w < 2; w++) {
                futures.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (writing.getAsBoolean()) {
                        long id = 1 + random.nextInt(16);
                        try {
                            transactions.executeWithoutResult(status -> {
                                if (random.nextBoolean()) {
                                    jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                                            + " VALUES (?, 8, 'INPROC', 4.00, 'in-process', NOW(3)) ON DUPLICATE KEY"
                                            + " UPDATE note = 'in-process', gmt_modified = NOW(3)", id);
                                } else {
                                    jdbc.update("DELETE FROM t_order WHERE id = ?", id);
                                }
                                mirror.recorder().record("t_order", id);
                            });
                            writes.incrementAndGet();
                        } catch (RuntimeException collided) {
                            // Deadlocks with the outside writers on hot keys: retried by the next loop.
                        }
                    }
                }));
            }
            Thread.sleep(1_200);
            rig.flakyTarget.setDown(true);
            Thread.sleep(1_000);
            rig.flakyTarget.setDown(false);
            for (Future<?> future : futures) {
                future.get();
            }
            pool.shutdown();
            assertThat(writerFailures).isEmpty();
            assertThat(writes.get()).isGreaterThan(100);

            assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(capture.status().keysHanded()).isGreaterThan(100);
            assertThat(capture.status().stored()).isEqualTo(capture.status().read());
            assertThat(storedPosition(rig, "default")).isEqualTo(capture.status().read());
        }
    }

    /** Inserts, updates, deletes and key updates on 16 hot keys; some in multi-statement transactions. */
    private static void outsideWrite(Connection connection, ThreadLocalRandom random) throws SQLException {
        long id = 1 + random.nextInt(16);
        boolean transaction = random.nextInt(3) == 0;
        if (transaction) {
            connection.setAutoCommit(false);
        }
        int statements = transaction ? 2 + random.nextInt(3) : 1;
        for (int i = 0; i < statements; i++) {
            switch (random.nextInt(5)) {
                case 0 -> update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (?, 7, 'NEW', 1.50, 'outside', NOW(3)) ON DUPLICATE KEY UPDATE status = 'AGAIN',"
                        + " gmt_modified = NOW(3)", id);
                case 1 -> update(connection, "UPDATE t_order SET amount = amount + 1, note = CONCAT('u', id),"
                        + " gmt_modified = NOW(3) WHERE id = ?", id);
                case 2 -> update(connection, "DELETE FROM t_order WHERE id = ?", id);
                case 3 -> update(connection, "UPDATE t_order SET id = " + (1 + random.nextInt(16)) + ","
                        + " gmt_modified = NOW(3) WHERE id = ?", id);
                default -> update(connection, "UPDATE t_order SET status = 'PAID', gmt_modified = NOW(3)"
                        + " WHERE id BETWEEN ? AND ? + 3", id, id);
            }
            id = 1 + random.nextInt(16);
        }
        if (transaction) {
            connection.commit();
            connection.setAutoCommit(true);
        }
    }

    private static void update(Connection connection, String sql, Object... args) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                statement.setObject(i + 1, args[i]);
            }
            statement.executeUpdate();
        }
    }

    @Test
    void crashBetweenReadingAndApplying_resumesFromTheWatermark_andNothingIsMissing() throws Exception {
        try (Rig rig = new Rig("cdc_crash")) {
            // The first instance reads the log but its mirror never applies: it dies with the keys in memory.
            Mirror stalled = rig.mirror(false);
            BinlogCapture first = rig.capture(stalled, 7102);
            LogPosition start = first.status().stored();
            writeFixture(rig);
            awaitRead(first, head(rig));
            first.checkpoint();
            assertThat(first.status().keysHanded()).isGreaterThanOrEqualTo(20);
            assertThat(storedPosition(rig, "default")).as("the watermark waits for the unapplied keys")
                    .isEqualTo(start);
            first.crashForTesting();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();

            Mirror mirror = rig.mirror(true);
            BinlogCapture second = rig.capture(mirror, 7103);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(15L);
        }
    }

    @Test
    void withoutTheWatermark_aCrashBetweenReadingAndApplyingLosesTheKeys() throws Exception {
        try (Rig rig = new Rig("cdc_nowm")) {
            Mirror stalled = rig.mirror(false);
            BinlogCapture first = rig.capture(stalled, 7104);
            first.storeReadPositionForTesting();
            writeFixture(rig);
            awaitRead(first, head(rig));
            first.checkpoint();
            first.crashForTesting();

            Mirror mirror = rig.mirror(true);
            BinlogCapture second = rig.capture(mirror, 7105);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).hasSize(15);
        }
    }

    /**
     * Two instances with the capture on: one holds the lease and reads, the other stands by and hands over
     * nothing; when the reader stops, the other takes over from the stored watermark and nothing is missing.
     * (The crash tests above show the same after a holder that dies without releasing: the new reader waits
     * for the lease to run out.)
     */
    @Test
    void twoInstances_oneReadsTheLog_theOtherTakesOverWhenItStops() throws Exception {
        try (Rig rig = new Rig("cdc_lease")) {
            Mirror firstMirror = rig.mirror(true);
            BinlogCapture first = rig.capture(firstMirror, 7111);
            Mirror secondMirror = rig.mirror(true);
            BinlogCapture second = rig.capture(secondMirror, 7112);
            assertThat(first.status().state()).isEqualTo(BinlogCapture.State.RUNNING);
            assertThat(second.status().state()).isEqualTo(BinlogCapture.State.STANDBY);

            writeFixture(rig);
            assertThat(first.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(firstMirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(first.status().keysHanded()).isGreaterThanOrEqualTo(20);
            assertThat(second.status().keysHanded()).as("keys the standby handed over").isZero();
            assertThat(second.status().state()).isEqualTo(BinlogCapture.State.STANDBY);

            first.close();
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (500, 1, 'NEW', 2.00, 'after the hand-over', NOW(3))");
            }
            assertThat(second.awaitCaughtUp(CATCH_UP)).as("the standby took over and caught up").isTrue();
            assertThat(second.status().state()).isEqualTo(BinlogCapture.State.RUNNING);
            assertThat(secondMirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 500", String.class))
                    .isEqualTo("after the hand-over");
        }
    }

    /**
     * A step out of DUAL_WRITE waits until what the log holds has been applied (keys read after the step are
     * only counted); it is refused while the mirror has not applied them, and let through once it has.
     */
    @Test
    void awaitStoredPastHead_refusesWhileKeysReadAreUnapplied_andPassesOnceApplied() throws Exception {
        try (Rig rig = new Rig("cdc_step")) {
            Mirror mirror = rig.mirror(false);
            BinlogCapture capture = rig.capture(mirror, 7113);
            writeFixture(rig);
            awaitRead(capture, head(rig));

            assertThat(capture.awaitStoredPastHead(Duration.ofMillis(500))).get().asString()
                    .startsWith("the change-data capture has applied the binary log only up to")
                    .endsWith("changes outside the service read after the step would not be mirrored");

            mirror.start();
            assertThat(capture.awaitStoredPastHead(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
        }
    }

    /** 20 inserts, 5 deletes and 5 key updates by an outside writer: 15 rows remain. */
    private static void writeFixture(Rig rig) throws SQLException {
        try (Connection connection = rig.source.connect()) {
            for (long id = 1; id <= 20; id++) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (?, 1, 'NEW', 2.00, NULL, NOW(3))", id);
            }
            update(connection, "DELETE FROM t_order WHERE id BETWEEN 16 AND 20");
            update(connection, "UPDATE t_order SET id = id + 100, gmt_modified = NOW(3) WHERE id <= 5");
        }
    }

    @Test
    void theLibrarysOwnWrites_areSkipped_andAnEchoLetThroughIsANoOp() throws Exception {
        try (Rig rig = new Rig("cdc_echo")) {
            Mirror mirror = rig.mirror(true);
            BinlogCapture capture = rig.capture(mirror, 7106);
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (1, 1, 'NEW', 2.00, NULL, NOW(3)), (2, 1, 'NEW', 2.00, NULL, NOW(3))");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            long handed = capture.status().keysHanded();
            long applied = rig.applied.get();
            assertThat(handed).isEqualTo(2);
            assertThat(applied).isEqualTo(2);

            // The library's own statement, as the reverse mirror writes this store during RAMP: the same row.
            libraryUpsertOfCurrentRow(rig, 1L);
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().echoesSkipped()).isEqualTo(1);
            assertThat(capture.status().keysHanded()).isEqualTo(handed);
            assertThat(rig.applied.get()).isEqualTo(applied);

            // Negative control: without the filter the echo is handed over, and its apply changes nothing.
            capture.filterEchoesForTesting(false);
            libraryUpsertOfCurrentRow(rig, 2L);
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().keysHanded()).isEqualTo(handed + 1);
            assertThat(rig.differences()).isEmpty();
        }
    }

    /**
     * What the reverse mirror does during RAMP: a change made on the target is carried back into this store by
     * the library's own guarded upsert. The target is written first, so an echo of the source write finds both
     * stores equal.
     */
    private static void libraryUpsertOfCurrentRow(Rig rig, long id) throws SQLException {
        var mapped = rig.tables.get("t_order");
        var ops = mapped.source();
        try (Connection connection = rig.source.dataSource().getConnection();
                Connection target = rig.target.dataSource().getConnection()) {
            var row = ops.readByKeys(connection, List.of(RowKey.of(id)), false).values().iterator().next()
                    .with("note", "carried back " + id);
            mapped.target().upsert(target, List.of(mapped.toTarget(row)));
            ops.upsert(connection, List.of(row));
        }
    }

    @Test
    void ddlOnAMappedTable_stopsThatTablesCapture_withTheReason() throws Exception {
        try (Rig rig = new Rig("cdc_ddl")) {
            Mirror mirror = rig.mirror(true);
            BinlogCapture capture = rig.capture(mirror, 7107);
            rig.source.execute("ALTER TABLE t_order ADD COLUMN extra INT NULL");
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified, extra)"
                        + " VALUES (1, 1, 'NEW', 2.00, NULL, NOW(3), 5)");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            CdcStatus status = capture.status();
            assertThat(status.stoppedTables()).containsOnlyKeys("t_order");
            assertThat(status.stoppedTables().get("t_order")).startsWith("DDL seen in the log at ")
                    .contains("ALTER TABLE t_order ADD COLUMN extra INT NULL");
            assertThat(status.keysHanded()).isZero();
            assertThat(status.healthy()).isFalse();
            assertThat(status.state()).isEqualTo(BinlogCapture.State.RUNNING);
        }
    }

    @Test
    void aLayoutChangeTheLogDidNotShow_stopsTheTable_ratherThanReadKeysFromTheWrongColumns() throws Exception {
        try (Rig rig = new Rig("cdc_layout")) {
            Mirror mirror = rig.mirror(true);
            BinlogCapture capture = rig.capture(mirror, 7110);
            try (Connection connection = rig.source.connect(); Statement statement = connection.createStatement()) {
                // Left out of the log, as a DBA's change on a replica would be: only the table map shows it.
                statement.execute("SET SESSION sql_log_bin = 0");
                statement.execute("ALTER TABLE t_order ADD COLUMN first_col INT NULL FIRST");
                statement.execute("SET SESSION sql_log_bin = 1");
                statement.executeUpdate("INSERT INTO t_order (first_col, id, user_id, status, amount, note,"
                        + " gmt_modified) VALUES (99, 1, 1, 'NEW', 2.00, NULL, NOW(3))");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(capture.status().stoppedTables().get("t_order"))
                    .isEqualTo("the log's table map has 7 columns, the table had 6 when the capture started (its"
                            + " structure changed; the DDL was not seen in the log read)");
            assertThat(capture.status().keysHanded()).isZero();
        }
    }

    @Test
    void textAndUnsignedKeyColumns_areReadFromTheLogAsTheirColumnsHoldThem() throws Exception {
        try (CdcMariaDb source = CdcMariaDb.create("cdc_keys");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "cdc_keys_t")) {
            source.execute("CREATE TABLE t_tag (code VARCHAR(20) CHARACTER SET utf8mb4 NOT NULL, n INT UNSIGNED NOT NULL,"
                    + " label VARCHAR(20), gmt_modified DATETIME(3) NOT NULL, PRIMARY KEY (code, n))");
            target.execute("CREATE TABLE t_tag (code VARCHAR(20) NOT NULL, n BIGINT NOT NULL, label VARCHAR(20),"
                    + " gmt_modified TIMESTAMP(3) NOT NULL, PRIMARY KEY (code, n))");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_tag").build()),
                    source.dataSource(), target.dataSource(), false);
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(), target.dataSource(),
                    new EventPublisher());
            mirror.start();
            BinlogCapture capture = BinlogCapture.create(source.config(7111).build(), tables, source.dataSource(),
                    target.dataSource(), mirror);
            try {
                capture.start();
                try (Connection connection = source.connect()) {
                    update(connection, "INSERT INTO t_tag VALUES ('grüße-é', 4000000000, 'a', NOW(3)),"
                            + " ('plain', 7, 'b', NOW(3))");
                    update(connection, "UPDATE t_tag SET code = 'grüße-ü', label = 'moved' WHERE n = 4000000000");
                }
                assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
                assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
                assertThat(target.queryForList("SELECT code, n, label FROM t_tag ORDER BY n")).containsExactly(
                        java.util.Map.of("code", "plain", "n", 7L, "label", "b"),
                        java.util.Map.of("code", "grüße-ü", "n", 4000000000L, "label", "moved"));
            } finally {
                capture.close();
                mirror.close();
            }
        }
    }

    /** DATE, DATETIME and TIMESTAMP keys of rows changed by an outside writer reach the target. */
    @Test
    void temporalKeyColumns_changedOutsideTheService_reachTheTarget() throws Exception {
        assertKeysReachTheTarget("cdc_tkeys", 7131,
                "CREATE TABLE t_key (d DATE NOT NULL, dt DATETIME(6) NOT NULL, ts TIMESTAMP(3) NOT NULL,"
                        + " label VARCHAR(20), PRIMARY KEY (d, dt, ts))",
                "CREATE TABLE t_key (d DATE NOT NULL, dt TIMESTAMP(6) NOT NULL, ts TIMESTAMP(3) NOT NULL,"
                        + " label VARCHAR(20), PRIMARY KEY (d, dt, ts))",
                "INSERT INTO t_key VALUES ('2024-02-29', '2024-02-29 13:14:15.123456', '2024-02-29 13:14:15.500', 'a'),"
                        + " ('1969-07-20', '1969-07-20 20:17:40', '1999-12-31 23:59:59', 'b'),"
                        + " ('2001-01-01', '2001-01-01 00:00:00', '2001-01-01 00:00:00', 'c')",
                "UPDATE t_key SET dt = dt + INTERVAL 1 DAY, ts = ts + INTERVAL 1 SECOND, label = 'moved' WHERE label = 'a'",
                "DELETE FROM t_key WHERE label = 'c'",
                "SELECT CAST(d AS TEXT) AS k, CAST(dt AS TEXT) || ' ' || CAST(ts AS TEXT) AS v, label FROM t_key ORDER BY d",
                List.of(java.util.Map.of("k", "1969-07-20", "v", "1969-07-20 20:17:40 1999-12-31 23:59:59", "label", "b"),
                        java.util.Map.of("k", "2024-02-29", "v", "2024-03-01 13:14:15.123456 2024-02-29 13:14:16.5",
                                "label", "moved")));
    }

    /** A key update that changes only the case of a non-ASCII letter, on a binary collation, moves the row. */
    @Test
    void nonAsciiTextKeysOfBinaryCollations_changedOnlyInCase_moveTheRow() throws Exception {
        assertKeysReachTheTarget("cdc_nakeys", 7141,
                "CREATE TABLE t_key (k VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
                        + " label VARCHAR(20), PRIMARY KEY (k))",
                "CREATE TABLE t_key (k VARCHAR(20) NOT NULL PRIMARY KEY, label VARCHAR(20))",
                "INSERT INTO t_key VALUES ('Straße', 'a'), ('Ärger', 'b'), ('zz', 'c')",
                "UPDATE t_key SET k = 'straße', label = 'moved' WHERE label = 'a'",
                "DELETE FROM t_key WHERE label = 'c'",
                "SELECT k, label FROM t_key ORDER BY label",
                List.of(java.util.Map.of("k", "Ärger", "label", "b"),
                        java.util.Map.of("k", "straße", "label", "moved")));
    }

    /** The same on a latin1 column: the log's bytes are decoded by the column's character set. */
    @Test
    void nonAsciiLatin1TextKeys_changedOnlyInCase_moveTheRow() throws Exception {
        assertKeysReachTheTarget("cdc_l1keys", 7142,
                "CREATE TABLE t_key (k VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL,"
                        + " label VARCHAR(20), PRIMARY KEY (k))",
                "CREATE TABLE t_key (k VARCHAR(20) NOT NULL PRIMARY KEY, label VARCHAR(20))",
                "INSERT INTO t_key VALUES ('café', 'a'), ('Ärger', 'b'), ('zz', 'c')",
                "UPDATE t_key SET k = 'Café', label = 'moved' WHERE label = 'a'",
                "DELETE FROM t_key WHERE label = 'c'",
                "SELECT k, label FROM t_key ORDER BY label",
                List.of(java.util.Map.of("k", "Ärger", "label", "b"),
                        java.util.Map.of("k", "Café", "label", "moved")));
    }

    /** A composite key of two character sets, both parts changed only in the case of a non-ASCII letter. */
    @Test
    void compositeKeysOfTwoCharacterSets_changedOnlyInCase_moveTheRow() throws Exception {
        assertKeysReachTheTarget("cdc_cskeys", 7143,
                "CREATE TABLE t_key (u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
                        + " l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL,"
                        + " label VARCHAR(20), PRIMARY KEY (u, l))",
                "CREATE TABLE t_key (u VARCHAR(20) NOT NULL, l VARCHAR(20) NOT NULL, label VARCHAR(20),"
                        + " PRIMARY KEY (u, l))",
                "INSERT INTO t_key VALUES ('Straße', 'café', 'a'), ('Ärger', 'é', 'b'), ('zz', 'z', 'c')",
                "UPDATE t_key SET u = 'straße', l = 'Café', label = 'moved' WHERE label = 'a'",
                "DELETE FROM t_key WHERE label = 'c'",
                "SELECT u || '/' || l AS k, label FROM t_key ORDER BY label",
                List.of(java.util.Map.of("k", "Ärger/é", "label", "b"),
                        java.util.Map.of("k", "straße/Café", "label", "moved")));
    }

    private static void assertKeysReachTheTarget(String prefix, long serverId, String sourceDdl, String targetDdl,
            String insert, String keyUpdate, String delete, String targetQuery, List<java.util.Map<String, Object>> rows)
            throws Exception {
        try (CdcMariaDb source = CdcMariaDb.create(prefix);
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, prefix + "_t")) {
            source.execute(sourceDdl);
            target.execute(targetDdl);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").noVersionColumn().build()),
                    source.dataSource(), target.dataSource(), false);
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(), target.dataSource(),
                    new EventPublisher());
            mirror.start();
            BinlogCapture capture = BinlogCapture.create(source.config(serverId).build(), tables, source.dataSource(),
                    target.dataSource(), mirror);
            try {
                capture.start();
                try (Connection connection = source.connect()) {
                    update(connection, insert);
                    update(connection, keyUpdate);
                    update(connection, delete);
                }
                assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
                assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
                assertThat(capture.status().stoppedTables()).isEmpty();
                assertThat(capture.status().keysHanded()).as("insert 3, key update 2, delete 1").isEqualTo(6);
                assertThat(target.queryForList(targetQuery)).containsExactlyElementsOf(rows);
            } finally {
                capture.close();
                mirror.close();
            }
        }
    }

    @Test
    void aUserWithoutReplicationGrants_isRefusedNamingTheGrants_orRunsWithoutCdcWhenNotRequired() throws Exception {
        try (Rig rig = new Rig("cdc_grant")) {
            String user = "dw_nogrant_" + Long.toHexString(System.nanoTime() & 0xFFFFFF);
            // Every host form, so that no anonymous ''@'localhost' of a fresh install takes the login instead.
            List<String> hosts = List.of("%", "localhost", "127.0.0.1");
            for (String host : hosts) {
                rig.source.execute("CREATE USER '" + user + "'@'" + host + "' IDENTIFIED BY 'pw'",
                        "GRANT SELECT ON " + rig.source.name() + ".* TO '" + user + "'@'" + host + "'");
            }
            try {
                Mirror mirror = rig.mirror(true);
                CdcConfig.Builder config = CdcConfig.builder().server(rig.source.host(), rig.source.port())
                        .credentials(user, "pw").serverId(7108).createPositionTable(true);
                var limited = new org.springframework.jdbc.datasource.DriverManagerDataSource(
                        "jdbc:mariadb://" + rig.source.host() + ":" + rig.source.port() + "/" + rig.source.name(),
                        user, "pw");
                BinlogCapture refused = BinlogCapture.create(config.build(), rig.tables, limited, rig.flakyTarget,
                        mirror);
                assertThatThrownBy(refused::start).isInstanceOf(CdcUnavailableException.class)
                        .hasMessageContaining("lacks the REPLICATION SLAVE grant")
                        .hasMessageContaining("GRANT REPLICATION SLAVE ON *.* TO '" + user + "'@'")
                        .hasMessageContaining("lacks the REPLICATION CLIENT grant")
                        .hasMessageContaining("dualwrite.capture.cdc.required=false");
                assertThat(refused.status().state()).isEqualTo(BinlogCapture.State.FAILED);

                BinlogCapture optional = BinlogCapture.create(config.required(false).build(), rig.tables, limited,
                        rig.flakyTarget, mirror);
                optional.start();
                assertThat(optional.status().state()).isEqualTo(BinlogCapture.State.DISABLED);
                assertThat(optional.status().problem()).contains("REPLICATION SLAVE");
            } finally {
                for (String host : hosts) {
                    rig.source.execute("DROP USER IF EXISTS '" + user + "'@'" + host + "'");
                }
            }
        }
    }

    @Test
    void aServerWithTheBinaryLogOff_isRefusedNamingLogBin() throws Exception {
        try (TestDatabase plain = TestDatabase.create(Store.MARIADB, "cdc_nolog");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "cdc_nolog_t")) {
            boolean logBin = plain.queryForObject("SELECT @@log_bin", Integer.class) == 1;
            org.junit.jupiter.api.Assumptions.assumeFalse(logBin, "the shared MariaDB has its binary log on");
            plain.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    plain.dataSource(), target.dataSource(), false);
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, plain.dataSource(), target.dataSource(),
                    new EventPublisher());
            try {
                BinlogCapture capture = BinlogCapture.create(CdcConfig.builder().server("127.0.0.1", 3306)
                        .credentials(plain.username(), plain.password()).serverId(7109).build(), tables,
                        plain.dataSource(), target.dataSource(), mirror);
                assertThatThrownBy(capture::start).isInstanceOf(CdcUnavailableException.class)
                        .hasMessageContaining("the binary log is off (log_bin=OFF): start the server with log_bin");
            } finally {
                mirror.close();
            }
        }
    }

    // ------------------------------------------------------------------------------------------------

    private static LogPosition head(Rig rig) throws SQLException {
        try (Connection connection = rig.source.connect(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW MASTER STATUS")) {
            rs.next();
            return new LogPosition(rs.getString(1), rs.getLong(2));
        }
    }

    private static void awaitRead(BinlogCapture capture, LogPosition head) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (System.nanoTime() < deadline) {
            LogPosition read = capture.status().read();
            if (read != null && read.compareTo(head) >= 0) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the capture did not read up to " + head + ": " + capture.status());
    }

    private static LogPosition storedPosition(Rig rig, String reader) {
        var row = rig.target.queryForList("SELECT log_file, log_position, log_gtids FROM dualwrite_cdc_position"
                + " WHERE reader_name = ?", reader).get(0);
        return new LogPosition((String) row.get("log_file"), ((Number) row.get("log_position")).longValue())
                .withGtids((String) row.get("log_gtids"));
    }

    /** A capture whose mirror never applies reads the fixture, stores its start position, and dies. */
    private static LogPosition crashAfterReadingTheFixture(Rig rig, long serverId) throws Exception {
        BinlogCapture first = rig.capture(rig.mirror(false), serverId);
        LogPosition start = first.status().stored();
        writeFixture(rig);
        awaitRead(first, head(rig));
        first.checkpoint();
        first.crashForTesting();
        assertThat(storedPosition(rig, "default")).isEqualTo(start);
        // Its lease runs out (the other crash tests wait for that).
        rig.target.execute("UPDATE dualwrite_cdc_position SET lease_until_ms = 0");
        return start;
    }

    /** More outside writes after the crash: 10 inserts and an update of fixture rows. */
    private static void writeMore(Rig rig) throws SQLException {
        try (Connection connection = rig.source.connect()) {
            for (long id = 200; id < 210; id++) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (?, 2, 'LATE', 3.00, NULL, NOW(3))", id);
            }
            update(connection, "UPDATE t_order SET status = 'PAID', gmt_modified = NOW(3) WHERE id BETWEEN 6 AND 10");
        }
    }

    /**
     * A failover to a replica: its log files have other names, so the stored file does not exist there, but
     * its GTIDs are the same. The stored GTID state resumes after the crash, after a rotation of the log, and
     * nothing is missing.
     */
    @Test
    void aStoredGtidState_resumesAfterRotation_whereTheStoredFileDoesNotExist_andNothingIsMissing() throws Exception {
        try (Rig rig = new Rig("cdc_gtid")) {
            LogPosition start = crashAfterReadingTheFixture(rig, 7121);
            assertThat(start.gtids()).as("MariaDB numbers its transactions").matches("\\d+-\\d+-\\d+(,\\d+-\\d+-\\d+)*");
            rig.source.execute("FLUSH BINARY LOGS");
            writeMore(rig);
            rig.target.execute("UPDATE dualwrite_cdc_position SET log_file = 'failed-over-bin.000001'"
                    + " WHERE reader_name = 'default'");

            Mirror mirror = rig.mirror(true);
            BinlogCapture second = rig.capture(mirror, 7122);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(25L);
            second.checkpoint();
            LogPosition stored = storedPosition(rig, "default");
            assertThat(stored.file()).as("a file of this server").isEqualTo(head(rig).file());
            assertThat(stored.gtids()).isNotNull().isNotEqualTo(start.gtids());
        }
    }

    /** The negative control of the test above: by file and offset alone, the stored file is not found. */
    @Test
    void withoutItsGtidState_aPositionWhoseFileDoesNotExist_cannotBeResumed() throws Exception {
        try (Rig rig = new Rig("cdc_nogtid")) {
            crashAfterReadingTheFixture(rig, 7123);
            rig.target.execute("UPDATE dualwrite_cdc_position SET log_file = 'failed-over-bin.000001',"
                    + " log_gtids = NULL WHERE reader_name = 'default'");
            assertThatThrownBy(() -> rig.capture(rig.mirror(true), 7124))
                    .isInstanceOf(CdcUnavailableException.class)
                    .hasMessageContaining("the server has no log file 'failed-over-bin.000001'");
        }
    }

    /**
     * A position stored as file and offset only (by a version before GTIDs were kept) resumes by them, and
     * the positions stored from then on carry the GTID state.
     */
    @Test
    void aPositionStoredWithoutGtids_resumesByFileAndOffset_andIsStoredWithThemFromThenOn() throws Exception {
        try (Rig rig = new Rig("cdc_gtidmig")) {
            crashAfterReadingTheFixture(rig, 7125);
            rig.target.execute("UPDATE dualwrite_cdc_position SET log_gtids = NULL WHERE reader_name = 'default'");
            writeMore(rig);

            Mirror mirror = rig.mirror(true);
            BinlogCapture second = rig.capture(mirror, 7126);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(25L);
            assertThat(storedPosition(rig, "default").gtids()).isNotNull();
        }
    }

    /** A position table made before the GTID column existed gets it when dualwrite may create tables. */
    @Test
    void aPositionTableWithoutTheGtidColumn_getsIt_andThePositionIsStoredWithGtids() throws Exception {
        try (Rig rig = new Rig("cdc_gtidcol")) {
            rig.target.execute("CREATE TABLE dualwrite_cdc_position (reader_name VARCHAR(100) NOT NULL PRIMARY KEY,"
                    + " log_file VARCHAR(255) NOT NULL, log_position BIGINT NOT NULL, updated_ms BIGINT NOT NULL,"
                    + " holder VARCHAR(200), lease_until_ms BIGINT DEFAULT 0 NOT NULL)");
            BinlogCapture capture = rig.capture(rig.mirror(true), 7127);
            assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            assertThat(storedPosition(rig, "default").gtids()).isNotNull();
        }
    }
}
