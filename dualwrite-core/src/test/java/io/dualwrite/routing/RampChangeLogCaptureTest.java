package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.cdc.BinlogCapture;
import io.dualwrite.cdc.CdcConfig;
import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.cdc.PgLogicalCapture;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.CdcMariaDb;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Change-data capture from both stores' logs through a whole migration ({@link ChangeLogRouting}): writers
 * that bypass the library (plain JDBC connections of their own) on the source and on the target, beside
 * in-process writers; RAMP at 50, a rollback from RAMP 100 to 0 and on to DUAL_WRITE, a backfill running
 * with CDC on, and the count of the target reader's echoes. MariaDB to PostgreSQL and PostgreSQL to MariaDB;
 * the MariaDB side is the binlog-enabled server of {@link CdcMariaDb}, the PostgreSQL side needs
 * {@code wal_level=logical}.
 *
 * <p>Every key has one writer, which records the last thing it wrote there, so each scenario checks not only
 * that the stores agree but that they agree on that write: a write applied from the wrong side would leave
 * them equal and wrong.
 */
class RampChangeLogCaptureTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(60);
    private static final Pattern PG_URL = Pattern.compile("jdbc:postgresql://([^:/?]+)(?::(\\d+))?/([^?]+).*");

    enum Direction {
        MARIADB_TO_POSTGRESQL(Store.MARIADB, Store.POSTGRESQL),
        POSTGRESQL_TO_MARIADB(Store.POSTGRESQL, Store.MARIADB);

        final Store source;
        final Store target;

        Direction(Store source, Store target) {
            this.source = source;
            this.target = target;
        }
    }

    /** A store whose log a capture reads: the binlog MariaDB, or PostgreSQL with its slot and publication. */
    private interface LogStore extends AutoCloseable {
        Store store();

        DataSource dataSource();

        /** A plain connection, bypassing every pool and the library: an outside writer. */
        Connection connect() throws SQLException;

        CdcConfig.Builder config();

        default void execute(String sql) throws SQLException {
            try (Connection connection = dataSource().getConnection()) {
                connection.createStatement().execute(sql);
            }
        }
    }

    private static final class MariaDbLog implements LogStore {
        final CdcMariaDb db;

        MariaDbLog(String prefix) {
            this.db = CdcMariaDb.create(prefix);
        }

        @Override
        public Store store() {
            return Store.MARIADB;
        }

        @Override
        public DataSource dataSource() {
            return db.dataSource();
        }

        @Override
        public Connection connect() throws SQLException {
            return db.connect();
        }

        @Override
        public CdcConfig.Builder config() {
            // The binlog server is shared with other tests: a replica id of their own.
            return db.config(100_000 + ThreadLocalRandom.current().nextInt(1_000_000));
        }

        @Override
        public void close() throws SQLException {
            db.close();
        }
    }

    private static final class PostgresLog implements LogStore {
        final TestDatabase db;
        final String host;
        final int port;
        final String database;
        final String slot;

        PostgresLog(String prefix) {
            this.db = TestDatabase.create(Store.POSTGRESQL, prefix, 24);
            String walLevel = db.queryForObject("SHOW wal_level", String.class);
            if (!"logical".equals(walLevel) && !"true".equalsIgnoreCase(System.getenv("CI"))) {
                db.close();
                Assumptions.abort("the test PostgreSQL runs with wal_level=" + walLevel + "; run"
                        + " DUALWRITE_PG_LOGICAL=yes .ci/start-databases.sh to switch it to logical");
            }
            Matcher matcher = PG_URL.matcher(db.jdbcUrl());
            assertThat(matcher.matches()).as("PostgreSQL URL %s", db.jdbcUrl()).isTrue();
            this.host = matcher.group(1);
            this.port = matcher.group(2) == null ? 5432 : Integer.parseInt(matcher.group(2));
            this.database = matcher.group(3);
            this.slot = db.name().toLowerCase(java.util.Locale.ROOT);
        }

        @Override
        public Store store() {
            return Store.POSTGRESQL;
        }

        @Override
        public DataSource dataSource() {
            return db.dataSource();
        }

        @Override
        public Connection connect() throws SQLException {
            return DriverManager.getConnection(db.jdbcUrl(), db.username(), db.password());
        }

        @Override
        public CdcConfig.Builder config() {
            return CdcConfig.builder().server(host, port).credentials(db.username(), db.password())
                    .logicalDecoding(database).slotName(slot).publicationName(slot).createPositionTable(true)
                    .checkpointInterval(Duration.ofMillis(100)).reconnectDelay(Duration.ofMillis(200));
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
                db.execute("DROP PUBLICATION IF EXISTS " + slot);
            } finally {
                db.close();
            }
        }
    }

    /**
     * A migration wired as the starter wires it, with both logs read: the source's into the forward mirror,
     * the target's (over the reversed mappings) into the reverse mirror.
     */
    private static final class Rig implements AutoCloseable {
        LogStore source;
        LogStore target;
        MappedTables tables;
        final EventPublisher reverseEvents = new EventPublisher();
        final AtomicLong reverseApplied = new AtomicLong();
        Mirror forward;
        Mirror reverse;
        MigrationController controller;
        DualWriteRoutingDataSource routing;
        ChangeCapture capture;
        TransactionTemplate transactions;
        JdbcTemplate jdbc;
        CrossRouteWrites forwardCrossRoute;
        ChangeLogCapture sourceLog;
        ChangeLogCapture targetLog;
        final Duration stepTimeout;
        final boolean drainLogs;

        Rig(Direction direction, String prefix, RoutingRules initial, int history) throws Exception {
            this(direction, prefix, initial, history, Duration.ofSeconds(30), true);
        }

        /**
         * @param stepTimeout how long a step may wait for every instance's acknowledgement
         * @param drainLogs false ties the target's log to the migration without its drain: the negative
         *     control of the step's wait for the logs
         */
        Rig(Direction direction, String prefix, RoutingRules initial, int history, Duration stepTimeout,
                boolean drainLogs) throws Exception {
            this.stepTimeout = stepTimeout;
            this.drainLogs = drainLogs;
            try {
                build(direction, prefix, initial, history);
            } catch (Throwable e) {
                // A slot left behind would pin the shared server's write-ahead log.
                try {
                    close();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }

        private void build(Direction direction, String prefix, RoutingRules initial, int history) throws Exception {
            source = open(direction.source, prefix + "_s");
            target = open(direction.target, prefix + "_t");
            source.execute(OrderTable.ddl(source.store(), "t_order"));
            target.execute(OrderTable.ddl(target.store(), "t_order"));
            seed(history);
            tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id").build()),
                    source.dataSource(), target.dataSource(), true);
            JdbcControlStore store = JdbcControlStore.open(target.dataSource(), "orders", initial, true);
            controller = MigrationController.builder(store).instanceId(prefix).pollInterval(Duration.ofMillis(100))
                    .stepTimeout(stepTimeout).holdTimeout(Duration.ofSeconds(20)).build();
            routing = new DualWriteRoutingDataSource(source.dataSource(), target.dataSource(), controller);
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).initialBackoff(Duration.ofMillis(20))
                    .maxBackoff(Duration.ofMillis(200)).maxAttempts(500).build();
            forward = Mirror.create(config, tables, source.dataSource(), target.dataSource(), routing,
                    new EventPublisher());
            reverse = Mirror.create(config, tables.reversed(), target.dataSource(), source.dataSource(), routing,
                    reverseEvents);
            reverseEvents.subscribe(event -> {
                if (event instanceof DualWriteEvent.ChangesApplied applied) {
                    reverseApplied.addAndGet(applied.upserted() + applied.deleted());
                }
            });
            controller.addDrain(MigrationController.Drain.of(forward));
            controller.addDrain(MigrationController.Drain.of(reverse));
            forwardCrossRoute = new CrossRouteWrites(controller, Route.SOURCE);
            forward.observeRows(forwardCrossRoute);
            reverse.observeRows(new CrossRouteWrites(controller, Route.TARGET));
            forward.start();
            reverse.start();
            sourceLog = create(source, source.config().readerName("source").build(), tables, forward);
            targetLog = create(target, target.config().readerName("target").build(), tables.reversed(), reverse);
            ChangeLogRouting.forSource(controller, sourceLog, Duration.ofSeconds(30));
            if (drainLogs) {
                ChangeLogRouting.forTarget(controller, targetLog, Duration.ofSeconds(30));
            } else {
                targetLog.handOverWhile(() -> ChangeLogRouting.targetHandsOver(controller.rules()));
            }
            controller.start();
            sourceLog.start();
            targetLog.start();
            assertThat(sourceLog.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            assertThat(targetLog.status().state()).isEqualTo(ChangeLogCapture.State.RUNNING);
            capture = new ChangeCapture(new RoutingChangeSink(controller, tables, forward, reverse), tables::contains);
            transactions = new TransactionTemplate(new DataSourceTransactionManager(routing));
            transactions.setIsolationLevel(TransactionTemplate.ISOLATION_READ_COMMITTED);
            jdbc = new JdbcTemplate(routing);
        }

        private static LogStore open(Store store, String prefix) {
            return store == Store.MARIADB ? new MariaDbLog(prefix) : new PostgresLog(prefix);
        }

        private ChangeLogCapture create(LogStore store, CdcConfig config, MappedTables view, Mirror mirror)
                throws SQLException {
            return store.store() == Store.POSTGRESQL
                    ? PgLogicalCapture.create(config, view, store.dataSource(), target.dataSource(), mirror)
                    : BinlogCapture.create(config, view, store.dataSource(), target.dataSource(), mirror);
        }

        /** History in the source from before dual-write: rows 1..history, an hour old. */
        private void seed(int history) throws SQLException {
            if (history == 0) {
                return;
            }
            Timestamp old = new Timestamp(System.currentTimeMillis() - 3_600_000);
            try (Connection connection = source.dataSource().getConnection();
                    PreparedStatement insert = connection.prepareStatement("INSERT INTO t_order (id, user_id, status,"
                            + " amount, note, gmt_modified) VALUES (?, ?, 'NEW', 10.00, 'history', ?)")) {
                for (long id = 1; id <= history; id++) {
                    insert.setLong(1, id);
                    insert.setLong(2, id % 100);
                    insert.setTimestamp(3, old);
                    insert.addBatch();
                }
                insert.executeBatch();
            }
        }

        /** One application transaction for a user, through the routing data source, captured in-process. */
        void upsertInProcess(long userId, long orderId, String note) {
            RoutingContext.run(userId, () -> transactions.executeWithoutResult(status -> {
                Timestamp now = new Timestamp(System.currentTimeMillis());
                int updated = jdbc.update("UPDATE t_order SET note = ?, gmt_modified = ? WHERE id = ?", note, now,
                        orderId);
                if (updated == 0) {
                    jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (?, ?, 'NEW', 10.00, ?, ?)", orderId, userId, note, now);
                }
                capture.record("t_order", orderId);
            }));
        }

        void deleteInProcess(long userId, long orderId) {
            RoutingContext.run(userId, () -> transactions.executeWithoutResult(status -> {
                jdbc.update("DELETE FROM t_order WHERE id = ?", orderId);
                capture.record("t_order", orderId);
            }));
        }

        /** Waits until both logs are read to their heads and both mirrors applied what they read, until equal. */
        List<String> converge() throws Exception {
            long deadline = System.nanoTime() + CATCH_UP.toNanos();
            List<String> differences = differences();
            while (!differences.isEmpty() && System.nanoTime() < deadline) {
                sourceLog.awaitCaughtUp(Duration.ofSeconds(20));
                forward.awaitDrained(Duration.ofSeconds(20));
                targetLog.awaitCaughtUp(Duration.ofSeconds(20));
                reverse.awaitDrained(Duration.ofSeconds(20));
                differences = differences();
            }
            return differences;
        }

        List<String> differences() {
            Map<Object, Map<String, Object>> left = rows(source.dataSource());
            Map<Object, Map<String, Object>> right = rows(target.dataSource());
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

        /** @return every order's note in a store, by order id */
        Map<Long, String> notes(DataSource store) {
            Map<Long, String> notes = new TreeMap<>();
            rows(store).forEach((id, row) -> notes.put(Long.parseLong(String.valueOf(id)), Objects.toString(row.get("note"))));
            return notes;
        }

        private static Map<Object, Map<String, Object>> rows(DataSource store) {
            Map<Object, Map<String, Object>> rows = new TreeMap<>();
            for (Map<String, Object> row : new JdbcTemplate(store).queryForList("SELECT * FROM t_order")) {
                Map<String, Object> normalised = new java.util.LinkedHashMap<>();
                row.forEach((column, value) -> normalised.put(column.toLowerCase(java.util.Locale.ROOT),
                        OrderTable.normalise(value)));
                rows.put(normalised.get("id"), normalised);
            }
            return rows;
        }

        @Override
        public void close() throws Exception {
            try {
                for (AutoCloseable part : new AutoCloseable[] {sourceLog, targetLog, controller, forward, reverse}) {
                    if (part != null) {
                        part.close();
                    }
                }
            } finally {
                try {
                    if (source != null) {
                        source.close();
                    }
                } finally {
                    if (target != null) {
                        target.close();
                    }
                }
            }
        }
    }

    /**
     * A writer outside the service: its own plain connection to one store, upserting and deleting its own
     * orders, and recording the last thing it wrote to each in {@code expected}.
     */
    private static final class OutsideWriter implements AutoCloseable {
        private final Connection connection;
        private final PreparedStatement upsert;
        private final PreparedStatement delete;
        private final String name;

        OutsideWriter(LogStore store, String name) throws SQLException {
            this.connection = store.connect();
            this.name = name;
            String insert = "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                    + " VALUES (?, ?, 'NEW', 10.00, ?, ?)";
            this.upsert = connection.prepareStatement(store.store() == Store.MARIADB
                    ? insert + " ON DUPLICATE KEY UPDATE note = VALUES(note), gmt_modified = VALUES(gmt_modified)"
                    : insert + " ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note,"
                            + " gmt_modified = EXCLUDED.gmt_modified");
            this.delete = connection.prepareStatement("DELETE FROM t_order WHERE id = ?");
        }

        void write(long userId, long orderId, Random random, Map<Long, String> expected, AtomicLong counter)
                throws SQLException {
            if (random.nextInt(5) == 0) {
                delete.setLong(1, orderId);
                delete.executeUpdate();
                expected.remove(orderId);
            } else {
                String note = name + "-" + counter.incrementAndGet();
                upsert.setLong(1, orderId);
                upsert.setLong(2, userId);
                upsert.setString(3, note);
                upsert.setTimestamp(4, new Timestamp(System.currentTimeMillis()));
                upsert.executeUpdate();
                expected.put(orderId, note);
            }
        }

        @Override
        public void close() throws SQLException {
            connection.close();
        }
    }

    /** Users 10..19 are in buckets below 50 (the target at RAMP 50), users 60..69 above (the source). */
    private static long user(Random random) {
        return (random.nextBoolean() ? 10 : 60) + random.nextInt(10);
    }

    /** Runs writers until told to stop; their failures are collected. */
    private static final class Writers {
        final AtomicBoolean stop = new AtomicBoolean();
        final ConcurrentLinkedQueue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final List<Thread> threads = new ArrayList<>();

        interface Step {
            void run(Random random) throws Exception;
        }

        void start(String name, Step step) {
            Thread thread = new Thread(() -> {
                Random random = new Random(name.hashCode());
                while (!stop.get()) {
                    try {
                        step.run(random);
                    } catch (Throwable e) {
                        errors.add(e);
                        return;
                    }
                }
            }, name);
            thread.start();
            threads.add(thread);
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(30_000);
            }
            assertThat(errors).isEmpty();
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void rampAtFifty_outsideWritersOnBothStoresAndInProcessWriters_converge(Direction direction) throws Exception {
        try (Rig rig = new Rig(direction, "rcdc_a", BarrierTest.rampAt(50), 0);
                OutsideWriter onSource = new OutsideWriter(rig.source, "src");
                OutsideWriter onTarget = new OutsideWriter(rig.target, "tgt")) {
            Map<Long, String> expected = new ConcurrentHashMap<>();
            AtomicLong counter = new AtomicLong();
            Writers writers = new Writers();
            // Each order has one writer: digit 0-2 the source's outside writer, 3-5 the target's, 6-7 and 8-9
            // the two in-process writers; every writer writes users of both routes.
            writers.start("outside-source", random -> {
                long user = user(random);
                onSource.write(user, user * 100 + random.nextInt(3), random, expected, counter);
            });
            writers.start("outside-target", random -> {
                long user = user(random);
                onTarget.write(user, user * 100 + 3 + random.nextInt(3), random, expected, counter);
            });
            for (int w = 0; w < 2; w++) {
                int first = 6 + 2 * w;
                writers.start("in-process-" + w, random -> {
                    long user = user(random);
                    long order = user * 100 + first + random.nextInt(2);
                    if (random.nextInt(5) == 0) {
                        rig.deleteInProcess(user, order);
                        expected.remove(order);
                    } else {
                        String note = "app-" + counter.incrementAndGet();
                        rig.upsertInProcess(user, order, note);
                        expected.put(order, note);
                    }
                });
            }
            Thread.sleep(2_500);
            writers.stop();

            assertThat(rig.converge()).isEmpty();
            assertThat(rig.notes(rig.source.dataSource())).isEqualTo(new TreeMap<>(expected));
            // Outside writes reached the other store through each log: the target's were mirrored back.
            assertThat(rig.sourceLog.status().keysHanded()).isPositive();
            assertThat(rig.targetLog.status().keysHanded()).isPositive();
            assertThat(rig.reverseApplied.get()).isPositive();
            // The source's outside writer wrote target-routed users' rows: counted as cross-route writes.
            assertThat(rig.forwardCrossRoute.count()).isPositive();
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void rollbackFromRampHundredToZero_withAnOutsideWriterOnTheTarget_losesNothing(Direction direction)
            throws Exception {
        try (Rig rig = new Rig(direction, "rcdc_b", BarrierTest.rampAt(100), 0);
                OutsideWriter onTarget = new OutsideWriter(rig.target, "tgt")) {
            Map<Long, String> expected = new ConcurrentHashMap<>();
            AtomicLong counter = new AtomicLong();
            Writers writers = new Writers();
            writers.start("outside-target", random -> {
                long user = user(random);
                onTarget.write(user, user * 100 + random.nextInt(5), random, expected, counter);
            });
            writers.start("in-process", random -> {
                long user = user(random);
                long order = user * 100 + 5 + random.nextInt(5);
                String note = "app-" + counter.incrementAndGet();
                rig.upsertInProcess(user, order, note);
                expected.put(order, note);
            });
            Thread.sleep(1_000);
            StepResult rollback = rig.controller.requestPercent(0, false);
            assertThat(rollback.outcome()).as(rollback.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            // The outside writer goes on writing the target after its rows moved back to the source.
            Thread.sleep(700);
            writers.stop();
            StepResult toDualWrite = rig.controller.requestPhase(Phase.DUAL_WRITE, false);
            assertThat(toDualWrite.outcome()).as(toDualWrite.message()).isEqualTo(StepResult.Outcome.ACTIVATED);

            assertThat(rig.converge()).isEmpty();
            assertThat(rig.notes(rig.source.dataSource())).isEqualTo(new TreeMap<>(expected));
            assertThat(rig.targetLog.status().keysHanded()).isPositive();
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void backfillWithOutsideWritersOnTheSource_converges_andTheTargetLogSeesOnlyEchoes(Direction direction)
            throws Exception {
        int history = 3_000;
        RoutingRules dualWrite = BarrierTest.rampAt(0).withPhase(Phase.DUAL_WRITE);
        try (Rig rig = new Rig(direction, "rcdc_c", dualWrite, history);
                OutsideWriter first = new OutsideWriter(rig.source, "out1");
                OutsideWriter second = new OutsideWriter(rig.source, "out2")) {
            Map<Long, String> expected = new ConcurrentHashMap<>();
            for (long id = 1; id <= history; id++) {
                expected.put(id, "history");
            }
            AtomicLong counter = new AtomicLong();
            Writers writers = new Writers();
            // Odd history rows (and new rows above them) are one outside writer's, even ones the other's.
            writers.start("outside-1", random -> {
                long order = 1 + 2L * random.nextInt(history / 2 + 100);
                first.write(order % 100, order, random, expected, counter);
            });
            writers.start("outside-2", random -> {
                long order = 2 + 2L * random.nextInt(history / 2 + 100);
                second.write(order % 100, order, random, expected, counter);
            });
            writers.start("in-process", random -> {
                long order = 100_000 + random.nextInt(200);
                String note = "app-" + counter.incrementAndGet();
                rig.upsertInProcess(order % 100, order, note);
                expected.put(order, note);
            });
            BackfillConfig config = BackfillConfig.builder().createTables(true).chunkSize(100)
                    .chunkSizeBounds(100, 100).build();
            try (BackfillRunner backfill = BackfillRunner.create(config, rig.tables, rig.source.dataSource(),
                    rig.target.dataSource(), new EventPublisher(), rig.controller.backfillGate())) {
                backfill.start("t_order");
                assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            }
            writers.stop();

            assertThat(rig.converge()).isEmpty();
            assertThat(rig.notes(rig.source.dataSource())).isEqualTo(new TreeMap<>(expected));
            assertThat(rig.sourceLog.status().keysHanded()).isPositive();
            // Only the library wrote the target (the backfill's copies, the forward mirror): every change in
            // its log was recognised as an echo, and nothing was even counted as not handed over.
            assertThat(rig.targetLog.status().echoesSkipped()).isGreaterThanOrEqualTo(history / 2);
            assertThat(rig.targetLog.status().keysNotHanded()).isZero();
            assertThat(rig.targetLog.status().keysHanded()).isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Direction.class)
    void theLibrarysOwnWritesIntoTheTarget_areNeverHandedBackByTheTargetLog(Direction direction) throws Exception {
        RoutingRules dualWrite = BarrierTest.rampAt(50).withPhase(Phase.DUAL_WRITE);
        try (Rig rig = new Rig(direction, "rcdc_d", dualWrite, 200);
                OutsideWriter onTarget = new OutsideWriter(rig.target, "tgt")) {
            // The backfill's copies, in DUAL_WRITE.
            BackfillConfig config = BackfillConfig.builder().createTables(true).chunkSize(50).chunkSizeBounds(50, 50)
                    .build();
            try (BackfillRunner backfill = BackfillRunner.create(config, rig.tables, rig.source.dataSource(),
                    rig.target.dataSource(), new EventPublisher(), rig.controller.backfillGate())) {
                backfill.start("t_order");
                assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            }
            // A repair: two rows spoiled on the target by hand (read from its log, not handed over in
            // DUAL_WRITE), then repaired from the source through the forward mirror.
            Random random = new Random(7);
            onTarget.write(61, 61, new Random(1), new ConcurrentHashMap<>(), new AtomicLong());
            onTarget.write(62, 62, new Random(1), new ConcurrentHashMap<>(), new AtomicLong());
            assertThat(rig.targetLog.awaitCaughtUp(CATCH_UP)).isTrue();
            long outside = rig.targetLog.status().keysNotHanded();
            assertThat(outside).isEqualTo(2);
            assertThat(rig.forward.repair("t_order", List.of(RowKey.of(61L), RowKey.of(62L)), Duration.ofSeconds(20)))
                    .isEmpty();
            assertThat(rig.differences()).isEmpty();

            // The forward mirror's applies, in RAMP, where the target's log is handed over.
            StepResult ramp = rig.controller.requestPhase(Phase.RAMP, false);
            assertThat(ramp.outcome()).as(ramp.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            for (int i = 0; i < 100; i++) {
                long user = 60 + random.nextInt(10);
                rig.upsertInProcess(user, user * 100 + random.nextInt(10), "app-" + i);
            }
            assertThat(rig.converge()).isEmpty();
            assertThat(rig.targetLog.awaitCaughtUp(CATCH_UP)).isTrue();

            ChangeLogCapture.State state = rig.targetLog.status().state();
            assertThat(state).isEqualTo(ChangeLogCapture.State.RUNNING);
            assertThat(rig.targetLog.status().keysHanded()).isZero();
            assertThat(rig.targetLog.status().keysNotHanded()).isEqualTo(outside);
            assertThat(rig.targetLog.status().echoesSkipped()).isGreaterThanOrEqualTo(200 + 2 + 1);
            assertThat(rig.reverseApplied.get()).isZero();

            // Negative control: with the filter off, the same kind of write comes back through the target's log.
            rig.targetLog.filterEchoesForTesting(false);
            for (int i = 0; i < 20; i++) {
                long user = 60 + random.nextInt(10);
                rig.upsertInProcess(user, user * 100 + random.nextInt(10), "again-" + i);
            }
            assertThat(rig.converge()).isEmpty();
            assertThat(rig.targetLog.awaitCaughtUp(CATCH_UP)).isTrue();
            assertThat(rig.targetLog.status().keysHanded()).isPositive();
        }
    }

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = "MARIADB_TO_POSTGRESQL")
    void aRampStep_waitsUntilTheTargetLogReadSoFarIsApplied(Direction direction) throws Exception {
        try (Rig rig = new Rig(direction, "rcdc_e", BarrierTest.rampAt(100), 0, Duration.ofSeconds(2), true)) {
            String note = stallTargetReaderAndWriteOutside(rig);
            StepResult refused = rig.controller.requestPercent(0, false);
            assertThat(refused.outcome()).as(refused.message()).isEqualTo(StepResult.Outcome.REVERTED);
            assertThat(rig.notes(rig.source.dataSource())).doesNotContainKey(1_000L);

            // The lease runs out, the reader takes over, applies the write, and the step can go.
            new JdbcTemplate(rig.target.dataSource()).update("UPDATE dualwrite_cdc_position SET lease_until_ms = 0"
                    + " WHERE reader_name = 'target'");
            StepResult rollback = rig.controller.requestPercent(0, false);
            assertThat(rollback.outcome()).as(rollback.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            assertThat(rig.notes(rig.source.dataSource())).containsEntry(1_000L, note);
        }
    }

    @ParameterizedTest
    @EnumSource(value = Direction.class, names = "MARIADB_TO_POSTGRESQL")
    void withoutTheLogDrain_aRampStepGoesActiveBeforeAnOutsideWriteIsApplied(Direction direction) throws Exception {
        try (Rig rig = new Rig(direction, "rcdc_f", BarrierTest.rampAt(100), 0, Duration.ofSeconds(2), false)) {
            stallTargetReaderAndWriteOutside(rig);
            StepResult rollback = rig.controller.requestPercent(0, false);
            assertThat(rollback.outcome()).as(rollback.message()).isEqualTo(StepResult.Outcome.ACTIVATED);
            // Active, and the user's row written on the old primary has not reached the new one.
            assertThat(rig.notes(rig.source.dataSource())).doesNotContainKey(1_000L);
        }
    }

    /**
     * Takes the target reader's lease away (as if another instance held it and had stopped reading), then
     * writes a row of user 10 on the target from outside: committed, in the log, not applied.
     */
    private static String stallTargetReaderAndWriteOutside(Rig rig) throws Exception {
        new JdbcTemplate(rig.target.dataSource()).update("UPDATE dualwrite_cdc_position SET holder = 'elsewhere',"
                + " lease_until_ms = ? WHERE reader_name = 'target'", System.currentTimeMillis() + 3_600_000);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (rig.targetLog.status().state() != ChangeLogCapture.State.STANDBY && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertThat(rig.targetLog.status().state()).isEqualTo(ChangeLogCapture.State.STANDBY);
        Map<Long, String> written = new ConcurrentHashMap<>();
        try (OutsideWriter onTarget = new OutsideWriter(rig.target, "tgt")) {
            Random upsertOnly = new Random() {
                @Override
                public int nextInt(int bound) {
                    return 1;
                }
            };
            onTarget.write(10, 1_000, upsertOnly, written, new AtomicLong());
        }
        return written.get(1_000L);
    }
}
