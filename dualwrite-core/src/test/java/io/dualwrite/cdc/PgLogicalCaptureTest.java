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
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Change-data capture from PostgreSQL by logical decoding (pgoutput) into MariaDB, with writers that bypass
 * the library entirely (plain JDBC connections of their own): convergence on hot keys with key updates and a
 * target outage, a crash between reading and applying, the slot never acknowledged past the stored position,
 * the lease, the echo filter, DDL, key types and the readiness check. Needs {@code wal_level=logical} on the
 * test PostgreSQL ({@code .ci/start-databases.sh} sets it under CI). Every test drops the replication slot and
 * the publication it made, so that nothing pins the shared server's write-ahead log.
 */
class PgLogicalCaptureTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(60);
    private static final Pattern URL = Pattern.compile("jdbc:postgresql://([^:/?]+)(?::(\\d+))?/([^?]+).*");

    /** A PostgreSQL source schema and its slot and publication, dropped on close. */
    private static final class PgSource implements AutoCloseable {
        final TestDatabase db;
        final String host;
        final int port;
        final String database;
        final String slot;
        final String publication;

        PgSource(String prefix) {
            this.db = TestDatabase.create(Store.POSTGRESQL, prefix);
            String walLevel = db.queryForObject("SHOW wal_level", String.class);
            if (!"logical".equals(walLevel) && !"true".equalsIgnoreCase(System.getenv("CI"))) {
                db.close();
                Assumptions.abort("the test PostgreSQL runs with wal_level=" + walLevel + "; run"
                        + " DUALWRITE_PG_LOGICAL=yes .ci/start-databases.sh to switch it to logical");
            }
            Matcher matcher = URL.matcher(db.jdbcUrl());
            assertThat(matcher.matches()).as("PostgreSQL URL %s", db.jdbcUrl()).isTrue();
            this.host = matcher.group(1);
            this.port = matcher.group(2) == null ? 5432 : Integer.parseInt(matcher.group(2));
            this.database = matcher.group(3);
            this.slot = db.name();
            this.publication = db.name();
        }

        CdcConfig.Builder config() {
            return CdcConfig.builder().server(host, port).credentials(db.username(), db.password())
                    .logicalDecoding(database).slotName(slot).publicationName(publication).createPositionTable(true)
                    .checkpointInterval(Duration.ofMillis(200)).reconnectDelay(Duration.ofMillis(200));
        }

        Connection connect() throws SQLException {
            return DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
        }

        /** @return the slot's confirmed flush position: where the server may discard the log up to */
        long confirmedFlush() {
            String lsn = db.queryForObject("SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE"
                    + " slot_name = ?", String.class, slot);
            return org.postgresql.replication.LogSequenceNumber.valueOf(lsn).asLong();
        }

        LogPosition head() {
            return new LogPosition(PgLogicalCapture.LSN, org.postgresql.replication.LogSequenceNumber.valueOf(
                    db.queryForObject("SELECT pg_current_wal_lsn()::text", String.class)).asLong());
        }

        @Override
        public void close() throws Exception {
            try {
                // The walsender of a closed capture may take a moment to let go of the slot.
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (true) {
                    try {
                        db.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                                + " WHERE slot_name = '" + slot + "'");
                        break;
                    } catch (RuntimeException active) {
                        if (System.nanoTime() > deadline) {
                            throw active;
                        }
                        Thread.sleep(100);
                    }
                }
                db.execute("DROP PUBLICATION IF EXISTS " + publication);
            } finally {
                db.close();
            }
        }
    }

    /** PostgreSQL source and MariaDB target with the order table, mirrors and captures. */
    private static final class Rig implements AutoCloseable {
        final PgSource source;
        final TestDatabase target;
        final FailingDataSource flakyTarget;
        final MappedTables tables;
        final EventPublisher events = new EventPublisher();
        final AtomicLong applied = new AtomicLong();
        final List<Mirror> mirrors = new ArrayList<>();
        final List<PgLogicalCapture> captures = new ArrayList<>();

        Rig(String prefix) throws SQLException {
            this.source = new PgSource(prefix);
            this.target = TestDatabase.create(Store.MARIADB, prefix + "_t", 24);
            source.db.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            target.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
            this.flakyTarget = new FailingDataSource(target.dataSource());
            this.tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.db.dataSource(), flakyTarget, false);
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
                    source.db.dataSource(), flakyTarget, events);
            if (start) {
                mirror.start();
            }
            mirrors.add(mirror);
            return mirror;
        }

        PgLogicalCapture capture(Mirror mirror) throws SQLException {
            PgLogicalCapture capture = PgLogicalCapture.create(source.config().build(), tables,
                    source.db.dataSource(), flakyTarget, mirror);
            captures.add(capture);
            capture.start();
            return capture;
        }

        List<String> differences() {
            return OrderTable.differences(source.db, "t_order", target, "t_order", "id");
        }

        long targetRows() {
            return target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class);
        }

        @Override
        public void close() throws Exception {
            try {
                captures.forEach(PgLogicalCapture::close);
                mirrors.forEach(Mirror::close);
                target.close();
            } finally {
                source.close();
            }
        }
    }

    @Test
    void outsideAndInProcessWritersOnHotKeys_withKeyUpdatesAndATargetOutage_converge() throws Exception {
        try (Rig rig = new Rig("pgcdc_conv")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            ConcurrentLinkedQueue<Throwable> writerFailures = new ConcurrentLinkedQueue<>();
            AtomicLong writes = new AtomicLong();
            long end = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            // On a loaded machine 4 s may hold too few writes for the counts below: go on to 300, for 30 s at most.
            long latest = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            java.util.function.BooleanSupplier writing = () -> System.nanoTime() < end
                    || writes.get() < 300 && System.nanoTime() < latest;
            ExecutorService pool = Executors.newFixedThreadPool(7);
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
            // An in-process writer on the same hot keys: its keys reach the mirror twice, recorded and from the log.
            var transactions = new org.springframework.transaction.support.TransactionTemplate(
                    new org.springframework.jdbc.datasource.DataSourceTransactionManager(rig.source.db.dataSource()));
            var jdbc = new org.springframework.jdbc.core.JdbcTemplate(rig.source.db.dataSource());
            futures.add(pool.submit(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (writing.getAsBoolean()) {
                    long id = 1 + random.nextInt(16);
                    try {
                        transactions.executeWithoutResult(status -> {
                            if (random.nextBoolean()) {
                                jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                                        + " VALUES (?, 8, 'INPROC', 4.00, 'in-process', LOCALTIMESTAMP(3)) ON CONFLICT"
                                        + " (id) DO UPDATE SET note = 'in-process', gmt_modified = LOCALTIMESTAMP(3)",
                                        id);
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
            CdcStatus status = capture.status();
            assertThat(status.keysHanded()).isGreaterThan(100);
            assertThat(status.stoppedTables()).isEmpty();
            assertThat(status.healthy()).isTrue();
            assertThat(storedPosition(rig)).isEqualTo(status.stored());
            // The slot is acknowledged up to the stored position, never past it.
            long acknowledged = awaitAcknowledged(rig, status.stored().position());
            assertThat(acknowledged).isLessThanOrEqualTo(storedPosition(rig).position());
        }
    }

    @Test
    void aBrokenReplicationConnection_isReopenedFromTheLastTransactionRead_andNothingIsMissing() throws Exception {
        try (Rig rig = new Rig("pgcdc_break")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            writeFixture(rig);
            awaitRead(capture, rig.source.head());
            // The server ends the walsender, as a failover or an administrator would.
            assertThat(rig.source.db.queryForObject("SELECT COUNT(pg_terminate_backend(active_pid)) FROM"
                    + " pg_replication_slots WHERE slot_name = ? AND active_pid IS NOT NULL", Long.class,
                    rig.source.slot)).isEqualTo(1L);
            try (Connection connection = rig.source.connect()) {
                for (long id = 200; id < 210; id++) {
                    update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (?, 2, 'NEW', 3.00, 'after the break', LOCALTIMESTAMP(3))", id);
                }
                update(connection, "UPDATE t_order SET note = 'moved on' WHERE id IN (6, 7, 200)");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.targetRows()).isEqualTo(25L);
            assertThat(capture.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            assertThat(capture.status().problem()).isNull();
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
                        + " VALUES (?, 7, 'NEW', 1.50, 'outside', LOCALTIMESTAMP(3)) ON CONFLICT (id) DO UPDATE SET"
                        + " status = 'AGAIN', gmt_modified = LOCALTIMESTAMP(3)", id);
                case 1 -> update(connection, "UPDATE t_order SET amount = amount + 1, note = 'u' || id,"
                        + " gmt_modified = LOCALTIMESTAMP(3) WHERE id = ?", id);
                case 2 -> update(connection, "DELETE FROM t_order WHERE id = ?", id);
                case 3 -> update(connection, "UPDATE t_order SET id = " + (1 + random.nextInt(16)) + ","
                        + " gmt_modified = LOCALTIMESTAMP(3) WHERE id = ?", id);
                default -> update(connection, "UPDATE t_order SET status = 'PAID', gmt_modified = LOCALTIMESTAMP(3)"
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

    /** 20 inserts, 5 deletes and 5 key updates by an outside writer: 15 rows remain. */
    private static void writeFixture(Rig rig) throws SQLException {
        try (Connection connection = rig.source.connect()) {
            for (long id = 1; id <= 20; id++) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (?, 1, 'NEW', 2.00, NULL, LOCALTIMESTAMP(3))", id);
            }
            update(connection, "DELETE FROM t_order WHERE id BETWEEN 16 AND 20");
            update(connection, "UPDATE t_order SET id = id + 100, gmt_modified = LOCALTIMESTAMP(3) WHERE id <= 5");
        }
    }

    @Test
    void crashBetweenReadingAndApplying_resumesFromTheStoredLsn_andNothingIsMissing() throws Exception {
        try (Rig rig = new Rig("pgcdc_crash")) {
            // The first instance reads the log but its mirror never applies: it dies with the keys in memory.
            Mirror stalled = rig.mirror(false);
            PgLogicalCapture first = rig.capture(stalled);
            LogPosition start = first.status().stored();
            writeFixture(rig);
            awaitRead(first, rig.source.head());
            first.checkpoint();
            Thread.sleep(500); // a few status intervals: the reader would have acknowledged anything it may
            assertThat(first.status().keysHanded()).isGreaterThanOrEqualTo(20);
            assertThat(storedPosition(rig)).as("the watermark waits for the unapplied keys").isEqualTo(start);
            assertThat(rig.source.confirmedFlush()).as("the slot keeps the log from the stored position")
                    .isLessThanOrEqualTo(start.position());
            first.crashForTesting();
            assertThat(rig.targetRows()).isZero();

            Mirror mirror = rig.mirror(true);
            PgLogicalCapture second = rig.capture(mirror);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.targetRows()).isEqualTo(15L);
        }
    }

    @Test
    void replicaIdentityFull_oldRowsCarryTheKeys_andTheStoresConverge() throws Exception {
        try (Rig rig = new Rig("pgcdc_full")) {
            rig.source.db.execute("ALTER TABLE t_order REPLICA IDENTITY FULL");
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            writeFixture(rig);
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.targetRows()).isEqualTo(15L);
            assertThat(capture.status().keysHanded()).as("20 inserts, 5 deletes, 5 key updates with both keys")
                    .isEqualTo(35);
        }
    }

    @Test
    void replicaIdentityNothing_isRefused_sinceADeleteWouldCarryNoKey() throws Exception {
        try (Rig rig = new Rig("pgcdc_nothing")) {
            rig.source.db.execute("ALTER TABLE t_order REPLICA IDENTITY NOTHING");
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = PgLogicalCapture.create(rig.source.config().build(), rig.tables,
                    rig.source.db.dataSource(), rig.flakyTarget, mirror);
            assertThatThrownBy(capture::start).isInstanceOf(CdcUnavailableException.class)
                    .hasMessageContaining("key column 'id' of table '" + rig.source.db.name() + ".t_order' is not part"
                            + " of its replica identity (REPLICA IDENTITY NOTHING), so a DELETE's log record would not"
                            + " carry it: ALTER TABLE " + rig.source.db.name() + ".t_order REPLICA IDENTITY FULL");
        }
    }

    @Test
    void withoutTheWatermark_aCrashBetweenReadingAndApplyingLosesTheKeys() throws Exception {
        try (Rig rig = new Rig("pgcdc_nowm")) {
            Mirror stalled = rig.mirror(false);
            PgLogicalCapture first = rig.capture(stalled);
            first.storeReadPositionForTesting();
            writeFixture(rig);
            awaitRead(first, rig.source.head());
            first.checkpoint();
            awaitAcknowledged(rig, storedPosition(rig).position());
            first.crashForTesting();

            Mirror mirror = rig.mirror(true);
            PgLogicalCapture second = rig.capture(mirror);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).hasSize(15);
        }
    }

    /**
     * The negative control of the acknowledgement: the stored position is right, but the slot is told the
     * transactions read are done; the server then starts a restarted reader past them, whatever it asks for.
     */
    @Test
    void acknowledgingPastTheStoredPosition_letsTheServerSkipWhatACrashNeeds() throws Exception {
        try (Rig rig = new Rig("pgcdc_ack")) {
            Mirror stalled = rig.mirror(false);
            PgLogicalCapture first = rig.capture(stalled);
            LogPosition start = first.status().stored();
            first.acknowledgeReadPositionForTesting();
            writeFixture(rig);
            awaitRead(first, rig.source.head());
            first.checkpoint();
            assertThat(storedPosition(rig)).as("the watermark waits for the unapplied keys").isEqualTo(start);
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (rig.source.confirmedFlush() <= start.position() && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(rig.source.confirmedFlush()).isGreaterThan(start.position());
            first.crashForTesting();

            Mirror mirror = rig.mirror(true);
            assertThat(storedPosition(rig)).as("the restart asks for the stored position").isEqualTo(start);
            PgLogicalCapture second = rig.capture(mirror);
            assertThat(second.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).hasSize(15);
        }
    }

    @Test
    void twoInstances_oneReadsTheSlot_theOtherTakesOverWhenItStops() throws Exception {
        try (Rig rig = new Rig("pgcdc_lease")) {
            Mirror firstMirror = rig.mirror(true);
            PgLogicalCapture first = rig.capture(firstMirror);
            Mirror secondMirror = rig.mirror(true);
            PgLogicalCapture second = rig.capture(secondMirror);
            assertThat(first.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            assertThat(second.status().state()).isEqualTo(ChangeLogCapture.State.STANDBY);

            writeFixture(rig);
            assertThat(first.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(firstMirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(second.status().keysHanded()).as("keys the standby handed over").isZero();

            first.close();
            assertThat(rig.source.db.queryForObject("SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = ?",
                    Long.class, rig.source.slot)).as("the slot outlives the capture that closed").isEqualTo(1L);
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (500, 1, 'NEW', 2.00, 'after the hand-over', LOCALTIMESTAMP(3))");
            }
            assertThat(second.awaitCaughtUp(CATCH_UP)).as("the standby took over: %s", second.status()).isTrue();
            assertThat(second.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            assertThat(secondMirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 500", String.class))
                    .isEqualTo("after the hand-over");
        }
    }

    /**
     * A step out of DUAL_WRITE waits until what the log holds has been applied; it is refused while the mirror
     * has not applied the keys read, and let through once it has.
     */
    @Test
    void awaitStoredPastHead_refusesWhileKeysReadAreUnapplied_andPassesOnceApplied() throws Exception {
        try (Rig rig = new Rig("pgcdc_step")) {
            Mirror mirror = rig.mirror(false);
            PgLogicalCapture capture = rig.capture(mirror);
            writeFixture(rig);
            awaitRead(capture, rig.source.head());

            assertThat(capture.awaitStoredPastHead(Duration.ofMillis(500))).get().asString()
                    .startsWith("the change-data capture has applied the write-ahead log only up to")
                    .endsWith("changes outside the service read after the step would not be mirrored");

            mirror.start();
            assertThat(capture.awaitStoredPastHead(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
        }
    }

    @Test
    void aGivenPublicationWithoutAMappedTable_isRefusedNamingTheFix() throws Exception {
        try (Rig rig = new Rig("pgcdc_pub")) {
            rig.source.db.execute("CREATE TABLE t_other (id BIGINT PRIMARY KEY)",
                    "CREATE PUBLICATION " + rig.source.publication + " FOR TABLE t_other");
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = PgLogicalCapture.create(rig.source.config().build(), rig.tables,
                    rig.source.db.dataSource(), rig.flakyTarget, mirror);
            assertThatThrownBy(capture::start).isInstanceOf(CdcUnavailableException.class)
                    .hasMessageContaining("publication '" + rig.source.publication + "'"
                            + " (dualwrite.capture.cdc.publication-name) does not publish table '" + rig.source.db.name()
                            + ".t_order': ALTER PUBLICATION " + rig.source.publication + " ADD TABLE \""
                            + rig.source.db.name() + "\".\"t_order\"");
        }
    }

    @Test
    void theLibrarysOwnWrites_areSkipped_andAnEchoLetThroughIsANoOp() throws Exception {
        try (Rig rig = new Rig("pgcdc_echo")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (1, 1, 'NEW', 2.00, NULL, LOCALTIMESTAMP(3)), (2, 1, 'NEW', 2.00, NULL,"
                        + " LOCALTIMESTAMP(3))");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            long handed = capture.status().keysHanded();
            long applied = rig.applied.get();
            assertThat(handed).isEqualTo(2);
            assertThat(applied).isEqualTo(2);

            // The library's own write, as the reverse mirror writes this store during RAMP: the same row.
            libraryUpsertOfCurrentRow(rig, 1L);
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().echoesSkipped()).isEqualTo(1);
            assertThat(capture.status().keysHanded()).isEqualTo(handed);
            assertThat(rig.applied.get()).as("no second apply of the library's own write").isEqualTo(applied);

            // Negative control: without the filter the echo is handed over, and its apply changes nothing.
            capture.filterEchoesForTesting(false);
            libraryUpsertOfCurrentRow(rig, 2L);
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().keysHanded()).isEqualTo(handed + 1);
            assertThat(capture.status().echoesSkipped()).isEqualTo(1);
            assertThat(rig.differences()).isEmpty();
        }
    }

    /**
     * The other way to mark the library's sessions, for a user allowed to set a replication origin: a transaction
     * whose origin is named {@code dualwrite...} comes with an Origin message and is skipped; one with another
     * origin is not.
     */
    @Test
    void aTransactionWithADualwriteReplicationOrigin_isSkipped_anotherOriginIsNot() throws Exception {
        try (Rig rig = new Rig("pgcdc_origin")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            String ours = "dualwrite_" + rig.source.slot;
            String theirs = "other_" + rig.source.slot;
            try (Connection connection = rig.source.connect();
                    java.sql.Statement statement = connection.createStatement()) {
                statement.execute("SELECT pg_replication_origin_create('" + ours + "')");
                statement.execute("SELECT pg_replication_origin_create('" + theirs + "')");
                try {
                    statement.execute("SELECT pg_replication_origin_session_setup('" + ours + "')");
                    statement.executeUpdate("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (1, 1, 'NEW', 2.00, 'ours', LOCALTIMESTAMP(3))");
                    statement.execute("SELECT pg_replication_origin_session_reset()");
                    statement.execute("SELECT pg_replication_origin_session_setup('" + theirs + "')");
                    statement.executeUpdate("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (2, 1, 'NEW', 2.00, 'theirs', LOCALTIMESTAMP(3))");
                    statement.execute("SELECT pg_replication_origin_session_reset()");
                } finally {
                    statement.execute("SELECT pg_replication_origin_drop('" + ours + "')");
                    statement.execute("SELECT pg_replication_origin_drop('" + theirs + "')");
                }
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().echoesSkipped()).isEqualTo(1);
            assertThat(capture.status().keysHanded()).isEqualTo(1);
            assertThat(rig.target.queryForList("SELECT id FROM t_order")).containsExactly(Map.of("id", 2L));
        }
    }

    /**
     * What the reverse mirror does during RAMP: a change made on the target is carried back into this store by
     * the library's own guarded upsert, in a transaction. The target is written first, so an echo of the source
     * write finds both stores equal.
     */
    private static void libraryUpsertOfCurrentRow(Rig rig, long id) throws SQLException {
        var mapped = rig.tables.get("t_order");
        var ops = mapped.source();
        try (Connection connection = rig.source.db.dataSource().getConnection();
                Connection target = rig.target.dataSource().getConnection()) {
            var row = ops.readByKeys(connection, List.of(RowKey.of(id)), false).values().iterator().next()
                    .with("note", "carried back " + id);
            mapped.target().upsert(target, List.of(mapped.toTarget(row)));
            connection.setAutoCommit(false);
            ops.upsert(connection, List.of(row));
            connection.commit();
            connection.setAutoCommit(true);
        }
    }

    @Test
    void droppingAMappedColumn_stopsThatTablesCapture_withTheReason() throws Exception {
        try (Rig rig = new Rig("pgcdc_ddl")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (1, 1, 'NEW', 2.00, NULL, LOCALTIMESTAMP(3))");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(capture.status().keysHanded()).isEqualTo(1);
            rig.source.db.execute("ALTER TABLE t_order DROP COLUMN note");
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, gmt_modified)"
                        + " VALUES (2, 1, 'NEW', 2.00, LOCALTIMESTAMP(3))");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            CdcStatus status = capture.status();
            assertThat(status.stoppedTables()).containsOnlyKeys("t_order");
            assertThat(status.stoppedTables().get("t_order")).startsWith("the table's structure changed (a Relation"
                    + " message in the log before ").endsWith("mapped column 'note' is gone (dropped or renamed)");
            assertThat(status.keysHanded()).as("the key after the change was not guessed").isEqualTo(1);
            assertThat(status.healthy()).isFalse();
            assertThat(status.state()).isEqualTo(ChangeLogCapture.State.RUNNING);
        }
    }

    @Test
    void addingAnUnmappedColumn_isNoLayoutChangeOfTheMappedColumns_andCaptureGoesOn() throws Exception {
        try (Rig rig = new Rig("pgcdc_add")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            rig.source.db.execute("ALTER TABLE t_order ADD COLUMN extra INT NULL");
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified, extra)"
                        + " VALUES (1, 1, 'NEW', 2.00, NULL, LOCALTIMESTAMP(3), 5)");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().stoppedTables()).isEmpty();
            assertThat(capture.status().keysHanded()).isEqualTo(1);
        }
    }

    @Test
    void changingTheKeyColumns_stopsThatTablesCapture() throws Exception {
        try (Rig rig = new Rig("pgcdc_key")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            rig.source.db.execute("ALTER TABLE t_order DROP CONSTRAINT t_order_pkey",
                    "ALTER TABLE t_order ADD PRIMARY KEY (id, user_id)");
            try (Connection connection = rig.source.connect()) {
                update(connection, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (1, 1, 'NEW', 2.00, NULL, LOCALTIMESTAMP(3))");
            }
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(capture.status().stoppedTables().get("t_order"))
                    .endsWith("its replica identity columns changed from [id] to [id, user_id]");
            assertThat(capture.status().keysHanded()).isZero();
        }
    }

    @Test
    void truncateOfAMappedTable_stopsThatTablesCapture() throws Exception {
        try (Rig rig = new Rig("pgcdc_trunc")) {
            Mirror mirror = rig.mirror(true);
            PgLogicalCapture capture = rig.capture(mirror);
            writeFixture(rig);
            rig.source.db.execute("TRUNCATE t_order");
            assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(capture.status().stoppedTables().get("t_order")).startsWith("TRUNCATE of the table seen in"
                    + " the log before ").endsWith("the log gives no keys for the rows it removed");
        }
    }

    @Test
    void uuidNumericTextAndIntegerKeys_areDecodedAsTheMirrorKeysThem() throws Exception {
        try (PgSource source = new PgSource("pgcdc_keys");
                TestDatabase target = TestDatabase.create(Store.H2, "pgcdc_keys_t")) {
            source.db.execute("CREATE TABLE t_tag (code VARCHAR(20) NOT NULL, n INT NOT NULL, u UUID NOT NULL,"
                    + " d NUMERIC(10,2) NOT NULL, label VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL,"
                    + " PRIMARY KEY (code, n, u, d))");
            target.execute("CREATE TABLE t_tag (code VARCHAR(20) NOT NULL, n BIGINT NOT NULL, u UUID NOT NULL,"
                    + " d NUMERIC(10,2) NOT NULL, label VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL,"
                    + " PRIMARY KEY (code, n, u, d))");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_tag").build()),
                    source.db.dataSource(), target.dataSource(), false);
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.db.dataSource(), target.dataSource(),
                    new EventPublisher());
            mirror.start();
            PgLogicalCapture capture = PgLogicalCapture.create(source.config().build(), tables,
                    source.db.dataSource(), target.dataSource(), mirror);
            try {
                capture.start();
                try (Connection connection = source.connect()) {
                    update(connection, "INSERT INTO t_tag VALUES ('grüße-é', 2000000000,"
                            + " 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 12.50, 'a', LOCALTIMESTAMP(3)),"
                            + " ('plain', 7, 'b0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', 0.10, 'b', LOCALTIMESTAMP(3))");
                    update(connection, "UPDATE t_tag SET code = 'grüße-ü', label = 'moved' WHERE n = 2000000000");
                    update(connection, "DELETE FROM t_tag WHERE n = 7");
                }
                assertThat(capture.awaitCaughtUp(CATCH_UP)).isTrue();
                assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
                assertThat(capture.status().keysHanded()).as("insert 2, key update 2, delete 1").isEqualTo(5);
                assertThat(target.queryForList("SELECT code, n, label FROM t_tag ORDER BY n")).containsExactly(
                        Map.of("code", "grüße-ü", "n", 2000000000L, "label", "moved"));
            } finally {
                capture.close();
                mirror.close();
            }
        }
    }

    /**
     * Date, timestamp, timestamptz and bytea keys of rows changed by an outside writer reach the target:
     * inserted, moved to another key, deleted; one table per key type.
     */
    @Test
    void temporalAndByteaKeys_changedOutsideTheService_reachTheTarget() throws Exception {
        String[][] types = {{"t_d", "DATE", "DATE", "'2024-02-29'", "'1999-12-31'", "'2001-01-01'", "k + 1"},
            {"t_ts", "TIMESTAMP(6)", "TIMESTAMP(6)", "'2024-02-29 13:14:15.123456'", "'1999-12-31 23:59:59'",
                "'2001-01-01 00:00:00'", "k + INTERVAL '1 day'"},
            {"t_tz", "TIMESTAMPTZ(6)", "TIMESTAMP(6) WITH TIME ZONE", "'2024-02-29 13:14:15.5+05:30'",
                "'1999-12-31 23:59:59+00'", "'2001-01-01 00:00:00-08'", "k + INTERVAL '1 day'"},
            {"t_b", "BYTEA", "VARBINARY(16)", "'\\x00ff10'", "'\\x01'", "'\\x02'", "k || '\\x0a'::bytea"}};
        try (PgSource source = new PgSource("pgcdc_tkeys");
                TestDatabase target = TestDatabase.create(Store.H2, "pgcdc_tkeys_t")) {
            List<TableMapping> mappings = new ArrayList<>();
            for (String[] type : types) {
                source.db.execute("CREATE TABLE " + type[0] + " (k " + type[1] + " NOT NULL PRIMARY KEY,"
                        + " label VARCHAR(20))");
                target.execute("CREATE TABLE " + type[0] + " (k " + type[2] + " NOT NULL PRIMARY KEY, label VARCHAR(20))");
                mappings.add(TableMapping.builder(type[0]).noVersionColumn().build());
            }
            MappedTables tables = MappedTables.resolve(mappings, source.db.dataSource(), target.dataSource(), false);
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.db.dataSource(), target.dataSource(),
                    new EventPublisher());
            mirror.start();
            PgLogicalCapture capture = PgLogicalCapture.create(source.config().build(), tables,
                    source.db.dataSource(), target.dataSource(), mirror);
            try {
                capture.start();
                try (Connection connection = source.connect()) {
                    for (String[] type : types) {
                        update(connection, "INSERT INTO " + type[0] + " VALUES (" + type[3] + ", 'a'), (" + type[4]
                                + ", 'b'), (" + type[5] + ", 'c')");
                        update(connection, "UPDATE " + type[0] + " SET k = " + type[6] + ", label = 'moved'"
                                + " WHERE label = 'a'");
                        update(connection, "DELETE FROM " + type[0] + " WHERE label = 'c'");
                    }
                }
                assertThat(capture.awaitCaughtUp(CATCH_UP)).as("caught up: %s", capture.status()).isTrue();
                assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
                assertThat(capture.status().stoppedTables()).isEmpty();
                assertThat(capture.status().keysHanded()).as("per table: insert 3, key update 2, delete 1")
                        .isEqualTo(6L * types.length);
                for (String[] type : types) {
                    assertThat(target.queryForList("SELECT label FROM " + type[0] + " ORDER BY label").stream()
                            .map(row -> row.get("label")).toList()).as(type[0]).containsExactly("b", "moved");
                    assertThat(target.queryForObject("SELECT COUNT(*) FROM " + type[0] + " WHERE k = CAST(" + type[3]
                            + " AS " + type[2] + ")", Long.class)).as(type[0] + ": the old key is gone").isZero();
                }
            } finally {
                capture.close();
                mirror.close();
            }
        }
    }

    @Test
    void keyValuesInPostgresTextOutput_decodeToTheFormsTheMirrorKeysHold() {
        assertThat(PgLogicalCapture.decode(1082, "2024-02-29")).isEqualTo(java.time.LocalDate.of(2024, 2, 29));
        assertThat(PgLogicalCapture.decode(1114, "2024-02-29 13:14:15.123456"))
                .isEqualTo(java.time.LocalDateTime.of(2024, 2, 29, 13, 14, 15, 123_456_000));
        assertThat(PgLogicalCapture.decode(1184, "2024-02-29 13:14:15.5+00"))
                .isEqualTo(java.time.OffsetDateTime.parse("2024-02-29T13:14:15.5Z"));
        assertThat(PgLogicalCapture.decode(1184, "2024-02-29 13:14:15+05:30"))
                .isEqualTo(java.time.OffsetDateTime.parse("2024-02-29T07:44:15Z"));
        assertThat(PgLogicalCapture.decode(17, "\\x00ff10")).isEqualTo(new byte[] {0, (byte) 0xff, 0x10});
        assertThatThrownBy(() -> PgLogicalCapture.decode(17, "\\000"))
                .hasMessageContaining("not in the hex output format");
    }

    /**
     * The replication connection is opened by the capture itself: it must carry the source's TLS settings
     * (and its password for the same user), while where it connects, as whom, and the replication settings
     * stay the capture's.
     */
    @Test
    void theReplicationConnection_carriesTheSourceUrlsSslSettingsAndPassword() {
        java.util.Properties url = org.postgresql.Driver.parseURL("jdbc:postgresql://db.internal:6543/orders"
                + "?sslmode=verify-full&sslrootcert=/etc/pki/root.crt&sslcert=/etc/pki/app.crt&sslkey=/etc/pki/app.pk8"
                + "&sslpassword=k3y&user=app&password=s3cret&options=-c%20search_path%3Dshop&replication=false"
                + "&preferQueryMode=extendedCacheEverything&connectTimeout=3", null);
        CdcConfig config = CdcConfig.builder().server("db.internal", 6543).credentials("app", null)
                .logicalDecoding("orders").build();

        java.util.Properties properties = PgLogicalCapture.replicationProperties(config, url);

        assertThat(properties).containsEntry("sslmode", "verify-full").containsEntry("sslrootcert", "/etc/pki/root.crt")
                .containsEntry("sslcert", "/etc/pki/app.crt").containsEntry("sslkey", "/etc/pki/app.pk8")
                .containsEntry("sslpassword", "k3y").containsEntry("connectTimeout", "3")
                .containsEntry("user", "app").containsEntry("password", "s3cret")
                .containsEntry("replication", "database").containsEntry("preferQueryMode", "simple")
                .containsEntry("options", "-c search_path=shop " + PgLogicalCapture.OUTPUT_OPTIONS)
                .doesNotContainKeys("PGHOST", "PGPORT", "PGDBNAME");

        CdcConfig other = CdcConfig.builder().server("db.internal", 6543).credentials("cdc", "own")
                .logicalDecoding("orders").build();
        assertThat(PgLogicalCapture.replicationProperties(other, url)).containsEntry("user", "cdc")
                .containsEntry("password", "own").containsEntry("sslmode", "verify-full");
        assertThat(PgLogicalCapture.replicationProperties(config, new java.util.Properties()))
                .containsEntry("options", PgLogicalCapture.OUTPUT_OPTIONS).containsEntry("password", "")
                .doesNotContainKey("sslmode");
    }

    /** The settings read from a real source: those of its JDBC URL, whatever pool wraps it. */
    @Test
    void theSourcesSettings_areReadFromTheUrlItsConnectionsWereOpenedWith() throws Exception {
        org.postgresql.ds.PGSimpleDataSource plain = new org.postgresql.ds.PGSimpleDataSource();
        plain.setURL("jdbc:postgresql://127.0.0.1:5432/postgres?sslmode=disable&connectTimeout=7");
        plain.setUser("postgres");
        try (Connection connection = plain.getConnection()) {
            assertThat(PgLogicalCapture.sourceSettings(plain, connection)).containsEntry("sslmode", "disable")
                    .containsEntry("connectTimeout", "7");
        }
        com.zaxxer.hikari.HikariConfig hikari = new com.zaxxer.hikari.HikariConfig();
        hikari.setJdbcUrl("jdbc:postgresql://127.0.0.1:5432/postgres?sslmode=disable&tcpKeepAlive=true");
        hikari.setUsername("postgres");
        try (com.zaxxer.hikari.HikariDataSource pool = new com.zaxxer.hikari.HikariDataSource(hikari);
                Connection connection = pool.getConnection()) {
            assertThat(PgLogicalCapture.sourceSettings(pool, connection)).containsEntry("sslmode", "disable")
                    .containsEntry("tcpKeepAlive", "true");
        }
    }

    @Test
    void aKeyColumnOfAnUnsupportedType_isRefusedNamingTheColumn() throws Exception {
        try (PgSource source = new PgSource("pgcdc_badkey");
                TestDatabase target = TestDatabase.create(Store.H2, "pgcdc_badkey_t")) {
            source.db.execute("CREATE TABLE t_day (d_time TIMETZ NOT NULL PRIMARY KEY, label VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL)");
            target.execute("CREATE TABLE t_day (d_time TIME NOT NULL PRIMARY KEY, label VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL)");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_day").build()),
                    source.db.dataSource(), target.dataSource(), false);
            Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.db.dataSource(), target.dataSource(),
                    new EventPublisher());
            try {
                PgLogicalCapture capture = PgLogicalCapture.create(source.config().build(), tables,
                        source.db.dataSource(), target.dataSource(), mirror);
                assertThatThrownBy(capture::start).isInstanceOf(CdcUnavailableException.class)
                        .hasMessageContaining("key column 'd_time' of table '" + source.db.name() + ".t_day' has a type"
                                + " (oid 1266) the logical-decoding reader cannot read keys from");
            } finally {
                mirror.close();
            }
        }
    }

    @Test
    void aUserWithoutReplication_isRefusedNamingTheAttribute_orRunsWithoutCdcWhenNotRequired() throws Exception {
        try (Rig rig = new Rig("pgcdc_grant")) {
            String user = "dw_norepl_" + Long.toHexString(System.nanoTime() & 0xFFFFFF);
            rig.source.db.execute("CREATE ROLE " + user + " LOGIN PASSWORD 'pw'",
                    "GRANT USAGE ON SCHEMA " + rig.source.db.name() + " TO " + user,
                    "GRANT SELECT ON ALL TABLES IN SCHEMA " + rig.source.db.name() + " TO " + user);
            try {
                Mirror mirror = rig.mirror(true);
                var limited = new org.springframework.jdbc.datasource.DriverManagerDataSource(rig.source.db.jdbcUrl(),
                        user, "pw");
                CdcConfig.Builder config = rig.source.config().credentials(user, "pw");
                PgLogicalCapture refused = PgLogicalCapture.create(config.build(), rig.tables, limited,
                        rig.flakyTarget, mirror);
                assertThatThrownBy(refused::start).isInstanceOf(CdcUnavailableException.class)
                        .hasMessageContaining("the source's write-ahead log cannot be read for change-data capture")
                        .hasMessageContaining("user " + user + " lacks the REPLICATION attribute needed to read a"
                                + " replication slot: ALTER ROLE " + user + " WITH REPLICATION")
                        .hasMessageContaining("dualwrite.capture.cdc.required=false");
                assertThat(refused.status().state()).isEqualTo(ChangeLogCapture.State.FAILED);

                PgLogicalCapture optional = PgLogicalCapture.create(config.required(false).build(), rig.tables,
                        limited, rig.flakyTarget, mirror);
                optional.start();
                assertThat(optional.status().state()).isEqualTo(ChangeLogCapture.State.DISABLED);
                assertThat(optional.status().problem()).contains("WITH REPLICATION");
                assertThat(rig.source.db.queryForObject("SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = ?",
                        Long.class, rig.source.slot)).as("no slot made for a refused capture").isZero();
            } finally {
                rig.source.db.execute("DROP OWNED BY " + user, "DROP ROLE " + user);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------

    private static void awaitRead(ChangeLogCapture capture, LogPosition head) throws InterruptedException {
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

    /** Waits until the slot's confirmed position reached {@code at} (the reader acknowledges between reads). */
    private static long awaitAcknowledged(Rig rig, long at) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        long confirmed = rig.source.confirmedFlush();
        while (confirmed < at && System.nanoTime() < deadline) {
            Thread.sleep(20);
            confirmed = rig.source.confirmedFlush();
        }
        assertThat(confirmed).as("the slot's confirmed position").isGreaterThanOrEqualTo(at);
        return confirmed;
    }

    private static LogPosition storedPosition(Rig rig) {
        var row = rig.target.queryForList("SELECT log_file, log_position FROM dualwrite_cdc_position"
                + " WHERE reader_name = ?", "default").get(0);
        return new LogPosition((String) row.get("log_file"), ((Number) row.get("log_position")).longValue());
    }
}
