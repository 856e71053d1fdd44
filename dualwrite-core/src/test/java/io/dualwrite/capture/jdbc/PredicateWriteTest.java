package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.dao.ConcurrencyFailureException;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * UPDATE and DELETE statements whose rows a predicate chooses ({@code WHERE status = 'NEW'}), while
 * other transactions move rows into that predicate. A locking pre-read alone locks only the rows that
 * match when it runs; PostgreSQL (and MariaDB under READ COMMITTED) has no predicate locks, so the
 * statement then also wrote a row that entered the predicate after the pre-read, and nobody captured
 * that key. Each scenario ends with the stores equal; the negative controls plan the statements as
 * before ({@link SqlAnalyzer#preReadOnlyForTesting}) and show the loss.
 */
class PredicateWriteTest {

    private static final String EXPIRE = "UPDATE t_order SET status = 'EXPIRED', gmt_modified = ? WHERE status = 'NEW'";
    private static final String PURGE = "DELETE FROM t_order WHERE status = 'EXPIRED'";

    private CaptureFixture f;
    private final ExecutorService other = Executors.newSingleThreadExecutor();
    private final AtomicBoolean fired = new AtomicBoolean();
    private final AtomicReference<Future<?>> entering = new AtomicReference<>();

    @AfterEach
    void close() {
        other.shutdownNow();
        CapturingStatement.beforeStatementForTesting = null;
        SqlAnalyzer.preReadOnlyForTesting = false;
        if (f != null) {
            f.close();
        }
    }

    /** Source, target, the isolation level of the application's transactions. */
    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(Store.H2, Store.H2, Isolation.DEFAULT),
                Arguments.of(Store.POSTGRESQL, Store.MARIADB, Isolation.DEFAULT),
                Arguments.of(Store.MARIADB, Store.POSTGRESQL, Isolation.REPEATABLE_READ),
                Arguments.of(Store.MARIADB, Store.POSTGRESQL, Isolation.READ_COMMITTED));
    }

    /** The stores and isolation levels where a pre-read alone loses the row: no predicate (gap) locks. */
    static Stream<Arguments> casesWithoutPredicateLocks() {
        return cases().filter(arguments -> arguments.get()[2] != Isolation.REPEATABLE_READ);
    }

    enum Isolation {
        DEFAULT(TransactionDefinition.ISOLATION_DEFAULT),
        REPEATABLE_READ(TransactionDefinition.ISOLATION_REPEATABLE_READ),
        READ_COMMITTED(TransactionDefinition.ISOLATION_READ_COMMITTED);

        final int level;

        Isolation(int level) {
            this.level = level;
        }
    }

    private TransactionTemplate transactions(Isolation isolation) {
        TransactionTemplate template = new TransactionTemplate(f.tx.getTransactionManager());
        template.setIsolationLevel(isolation.level);
        return template;
    }

    private static Timestamp now() {
        return new Timestamp(System.currentTimeMillis());
    }

    /** Rows behind capture's back, on both stores. */
    private void row(long id, String status) {
        for (var db : List.of(f.source, f.target)) {
            db.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (" + id + ", 1, '" + status
                    + "', TIMESTAMP '2024-01-01 00:00:00')");
        }
    }

    /**
     * Just before the application's statement (after any pre-read), another captured transaction
     * moves row {@code id} into the predicate. Where the pre-read's locks hold that row the other
     * writer waits for the statement's transaction; it is given a moment, then left to finish later.
     */
    private void enterPredicateBeforeTheStatement(long id, String status) {
        CapturingStatement.beforeStatementForTesting = () -> {
            if (fired.compareAndSet(false, true)) {
                Future<?> started = other.submit(() -> f.jdbc.update(
                        "UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?", status, now(), id));
                entering.set(started);
                try {
                    started.get(1, TimeUnit.SECONDS);
                } catch (TimeoutException heldByThePreReadsLocks) {
                    // it runs once the statement's transaction ends
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            }
        };
    }

    /** Waits for the writer that moved a row into the predicate, which may have waited for the statement. */
    private void awaitEntered() throws Exception {
        assertThat(entering.get()).as("the hook ran just before the statement").isNotNull();
        entering.get().get(30, TimeUnit.SECONDS);
        assertThat(f.mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
    }

    // --- the race, made deterministic ------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void updateByPredicate_rowEnteringAfterThePreRead_storesStayEqual(Store source, Store target,
            Isolation isolation) throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "NEW");
        row(2, "NEW");
        row(3, "OLD");
        enterPredicateBeforeTheStatement(3, "NEW");
        transactions(isolation).executeWithoutResult(s -> f.jdbc.update(EXPIRE, now()));
        awaitEntered();
        assertThat(f.differences()).as("differences between source and target").isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("casesWithoutPredicateLocks")
    void updateByPredicate_withThePreReadOnly_losesTheEnteringRow(Store source, Store target, Isolation isolation)
            throws Exception {
        SqlAnalyzer.preReadOnlyForTesting = true;
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "NEW");
        row(2, "NEW");
        row(3, "OLD");
        enterPredicateBeforeTheStatement(3, "NEW");
        transactions(isolation).executeWithoutResult(s -> f.jdbc.update(EXPIRE, now()));
        awaitEntered();
        assertThat(f.keys("t_order")).as("the statement's captured keys, then the entering row's")
                .containsExactly(3L, 1L, 2L);
        assertThat(f.differences()).as("the target keeps row 3 NEW").singleElement().asString()
                .contains("EXPIRED").contains("NEW");
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void deleteByPredicate_rowEnteringAfterThePreRead_storesStayEqual(Store source, Store target,
            Isolation isolation) throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "EXPIRED");
        row(2, "EXPIRED");
        row(3, "OLD");
        enterPredicateBeforeTheStatement(3, "EXPIRED");
        transactions(isolation).executeWithoutResult(s -> f.jdbc.update(PURGE));
        awaitEntered();
        assertThat(f.differences()).as("differences between source and target").isEmpty();
    }

    /**
     * {@code DELETE ... LIMIT n} without ORDER BY may take other rows than a pre-read with the same
     * LIMIT: here the pre-read locks rows 2 and 3, then row 1, ahead in the scan, becomes EXPIRED.
     */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void deleteWithLimit_takesTheRowsItsKeysWereCapturedFor(Store source, Store target, Isolation isolation)
            throws Exception {
        assumeTrue(source == Store.MARIADB, "DELETE ... LIMIT is MySQL and MariaDB syntax");
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "OLD");
        row(2, "EXPIRED");
        row(3, "EXPIRED");
        row(4, "EXPIRED");
        enterPredicateBeforeTheStatement(1, "EXPIRED");
        int deleted = transactions(isolation).execute(s -> f.jdbc.update(PURGE + " LIMIT 2"));
        awaitEntered();
        assertThat(deleted).isEqualTo(2);
        assertThat(f.source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(2);
        assertThat(f.differences()).as("differences between source and target").isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void deleteWithLimit_withThePreReadOnly_losesADeletedRow(Store source, Store target, Isolation isolation)
            throws Exception {
        assumeTrue(source == Store.MARIADB && isolation == Isolation.READ_COMMITTED,
                "a pre-read with the same LIMIT locks the rows ahead of it under REPEATABLE READ");
        SqlAnalyzer.preReadOnlyForTesting = true;
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "OLD");
        row(2, "EXPIRED");
        row(3, "EXPIRED");
        row(4, "EXPIRED");
        enterPredicateBeforeTheStatement(1, "EXPIRED");
        transactions(isolation).executeWithoutResult(s -> f.jdbc.update(PURGE + " LIMIT 2"));
        awaitEntered();
        assertThat(f.differences()).as("row 1 deleted in the source only").singleElement().asString()
                .startsWith("extra in target");
    }

    // --- under load ------------------------------------------------------------------------------

    /**
     * Expiring and purging by predicate, in and out of transactions, while other writers insert NEW
     * rows and move existing ones back to NEW; then the stores are equal.
     */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void predicateWritesAgainstRowsEnteringThePredicate_converge(Store source, Store target, Isolation isolation)
            throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        for (long id = 1; id <= 20; id++) {
            row(id, "OLD");
        }
        AtomicLong nextId = new AtomicLong(1000);
        AtomicLong written = new AtomicLong();
        AtomicLong lockConflicts = new AtomicLong();
        ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
        TransactionTemplate transactions = transactions(isolation);
        String purge = source == Store.MARIADB ? PURGE + " LIMIT 3" : PURGE;
        long end = System.nanoTime() + Duration.ofSeconds(3).toNanos();
        ExecutorService pool = Executors.newFixedThreadPool(4);
        List<Future<?>> futures = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            int writer = w;
            futures.add(pool.submit(() -> {
                ThreadLocalRandom random = ThreadLocalRandom.current();
                while (System.nanoTime() < end) {
                    Runnable write = switch (writer) {
                        case 0 -> () -> written.addAndGet(f.jdbc.update(EXPIRE, now()));
                        case 1 -> () -> written.addAndGet(f.jdbc.update(purge));
                        case 2 -> () -> f.jdbc.update("INSERT INTO t_order (id, user_id, status, gmt_modified)"
                                + " VALUES (?, 1, 'NEW', ?)", nextId.incrementAndGet(), now());
                        default -> () -> f.jdbc.update("UPDATE t_order SET status = 'NEW', gmt_modified = ?"
                                + " WHERE id = ?", now(), random.nextLong(1, 21));
                    };
                    try {
                        boolean predicateWriter = writer < 2;
                        if (!(predicateWriter && isolation == Isolation.READ_COMMITTED) && random.nextBoolean()) {
                            write.run();
                        } else {
                            transactions.executeWithoutResult(s -> write.run());
                        }
                    } catch (ConcurrencyFailureException deadlockOrLockTimeout) {
                        lockConflicts.incrementAndGet(); // rolled back: nothing to mirror
                    } catch (RuntimeException e) {
                        failures.add(e);
                    }
                }
            }));
        }
        for (Future<?> future : futures) {
            future.get(60, TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(f.mirror.awaitDrained(Duration.ofSeconds(60))).isTrue();
        assertThat(failures).as("failed application writes").isEmpty();
        assertThat(written.get()).as("rows expired and purged by predicate").isGreaterThan(20);
        assertThat(f.events).noneMatch(event -> event instanceof DualWriteEvent.UnattributedWrite);
        assertThat(f.differences()).as("differences between source and target").isEmpty();
    }

    // --- what the application sees -------------------------------------------------------------

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void preparedPredicateStatement_executeAndBatch_returnTheApplicationsCounts(Store source, Store target,
            Isolation isolation) throws Exception {
        assumeTrue(isolation != Isolation.READ_COMMITTED, "one isolation level suffices");
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "A");
        row(2, "A");
        row(3, "OLD");
        try (Connection connection = f.capturing.getConnection()) {
            try (PreparedStatement statement = connection.prepareStatement(
                    "UPDATE t_order SET status = ?, gmt_modified = ? WHERE status = ?")) {
                statement.setString(1, "B");
                statement.setTimestamp(2, now());
                statement.setString(3, "A");
                assertThat(statement.execute()).as("an update count, not a result set").isFalse();
                assertThat(statement.getUpdateCount()).isEqualTo(2);
                assertThat(statement.getResultSet()).isNull();

                statement.setString(1, "C");
                statement.setString(3, "B");
                statement.addBatch();
                // The second row's predicate matches the rows the first one wrote.
                statement.setString(1, "D");
                statement.setString(3, "C");
                statement.addBatch();
                statement.setString(1, "E");
                statement.setString(3, "none");
                statement.addBatch();
                assertThat(statement.executeBatch()).containsExactly(2, 2, 0);

                statement.setString(1, "F");
                statement.setString(3, "D");
                assertThat(statement.executeUpdate()).isEqualTo(2);
            }
            try (Statement plain = connection.createStatement()) {
                assertThat(plain.execute("DELETE FROM t_order WHERE status = 'F'")).isFalse();
                assertThat(plain.getUpdateCount()).isEqualTo(2);
            }
        }

        assertThat(f.sink.afterCommit).as("execute, the batch, executeUpdate, the plain DELETE")
                .extracting(set -> set.stream().map(c -> c.key().get(0)).sorted().toList())
                .containsExactly(List.of(1L, 2L), List.of(1L, 2L), List.of(1L, 2L), List.of(1L, 2L));
        assertThat(f.source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(1);
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void predicateStatementInAPlainBatch_isUnattributable(Store source, Store target, Isolation isolation)
            throws Exception {
        assumeTrue(isolation != Isolation.READ_COMMITTED, "one isolation level suffices");
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "NEW");
        try (Connection connection = f.capturing.getConnection(); Statement plain = connection.createStatement()) {
            assertThatThrownBy(() -> plain.addBatch("UPDATE t_order SET status = 'X' WHERE status = 'NEW'"))
                    .hasMessageContaining("whose rows a predicate chooses, in a Statement batch")
                    .hasMessageContaining("use a PreparedStatement batch");
        }
    }

    /**
     * A composite key narrows as a row-value list, {@code (order_id, line_no) IN ((?, ?), ...)}, or on MariaDB
     * as {@code OR}ed equalities.
     */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void compositeKeyTable_predicateUpdateAndDelete_storesStayEqual(Store source, Store target, Isolation isolation)
            throws Exception {
        assumeTrue(isolation != Isolation.READ_COMMITTED, "one isolation level suffices");
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        for (var db : List.of(f.source, f.target)) {
            db.execute("CREATE TABLE t_line (order_id BIGINT NOT NULL, line_no INT NOT NULL, status VARCHAR(32) NOT"
                    + " NULL, gmt_modified " + OrderTable.timestampType(db.store()) + " NOT NULL, PRIMARY KEY"
                    + " (order_id, line_no))");
            db.execute("INSERT INTO t_line VALUES (1, 1, 'NEW', TIMESTAMP '2024-01-01 00:00:00'),"
                    + " (1, 2, 'OLD', TIMESTAMP '2024-01-01 00:00:00'), (2, 1, 'NEW', TIMESTAMP '2024-01-01 00:00:00')");
        }
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_line").build()),
                f.source.dataSource(), f.target.dataSource(), false);
        try (Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                f.source.dataSource(), f.target.dataSource(), f.publisher)) {
            mirror.start();
            JdbcTemplate jdbc = new JdbcTemplate(CapturingDataSource.builder(f.source.dataSource(), tables,
                    new ChangeCapture(mirror, tables::contains)).build());
            assertThat(jdbc.update("UPDATE t_line SET status = 'EXPIRED', gmt_modified = ? WHERE status = ?", now(),
                    "NEW")).isEqualTo(2);
            assertThat(jdbc.update("DELETE FROM t_line WHERE status = 'EXPIRED' AND line_no = 1")).isEqualTo(2);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
        }

        assertThat(OrderTable.differences(f.source, "t_line", f.target, "t_line", "order_id", "line_no")).isEmpty();
        assertThat(f.target.queryForObject("SELECT COUNT(*) FROM t_line", Long.class)).isEqualTo(1);
    }

    /**
     * On MariaDB the statement narrowed to a composite key of a {@code latin1} column was written as the
     * row-value list {@code (u, l) IN ((?, ?), ...)}, which compares that column with the connection's
     * {@code utf8mb4} values unconverted: the rows locked with {@code 'é'} were not written, and the
     * application's UPDATE and DELETE reported and did less than they asked.
     */
    @org.junit.jupiter.api.Test
    void compositeKeyWithALatin1Part_predicateUpdateAndDelete_writeEveryRowLocked() throws Exception {
        try (io.dualwrite.testing.TestDatabase source = io.dualwrite.testing.TestDatabase.create(Store.MARIADB,
                "cap_cs_src");
                io.dualwrite.testing.TestDatabase target = io.dualwrite.testing.TestDatabase.create(Store.POSTGRESQL,
                        "cap_cs_tgt")) {
            source.execute("CREATE TABLE t_key (u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
                    + " l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL, label VARCHAR(20),"
                    + " PRIMARY KEY (u, l))");
            target.execute("CREATE TABLE t_key (u VARCHAR(20) NOT NULL, l VARCHAR(20) NOT NULL, label VARCHAR(20),"
                    + " PRIMARY KEY (u, l))");
            for (var db : List.of(source, target)) {
                db.execute("INSERT INTO t_key VALUES ('Straße', 'café', 'old'), ('Ärger', 'é', 'old'),"
                        + " ('zz', 'z', 'old'), ('keep', 'ü', 'new')");
            }
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").noVersionColumn()
                    .build()), source.dataSource(), target.dataSource(), false);
            try (Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                    source.dataSource(), target.dataSource(), new io.dualwrite.event.EventPublisher())) {
                mirror.start();
                JdbcTemplate jdbc = new JdbcTemplate(CapturingDataSource.builder(source.dataSource(), tables,
                        new ChangeCapture(mirror, tables::contains)).build());

                assertThat(jdbc.update("UPDATE t_key SET label = ? WHERE label = 'old'", "expired")).isEqualTo(3);
                assertThat(jdbc.update("DELETE FROM t_key WHERE label = 'expired' AND u <> 'zz'")).isEqualTo(2);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(30))).isTrue();
            }
            assertThat(source.queryForList("SELECT u, l, label FROM t_key")).containsExactlyInAnyOrder(
                    java.util.Map.of("u", "zz", "l", "z", "label", "expired"),
                    java.util.Map.of("u", "keep", "l", "ü", "label", "new"));
            assertThat(target.queryForList("SELECT u, l, label FROM t_key"))
                    .containsExactlyInAnyOrderElementsOf(source.queryForList("SELECT u, l, label FROM t_key"));
        }
    }

    /** The pre-read and the narrowed statement carry the statement's WITH clause, which its WHERE may name. */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void predicateStatementNamingItsCommonTableExpression_isCaptured(Store source, Store target,
            Isolation isolation) throws Exception {
        assumeTrue(source == Store.POSTGRESQL, "MariaDB 10.11 and H2 have no WITH before UPDATE or DELETE");
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "NEW");
        row(2, "OLD");
        row(3, "NEW");
        String chosen = "WITH chosen AS (SELECT CAST(? AS VARCHAR(32)) AS s) ";
        // Its own RETURNING: narrowed, so the pre-read needs the WITH clause.
        assertThat(f.jdbc.queryForList(chosen + "UPDATE t_order SET status = ? WHERE status IN (SELECT s FROM"
                + " chosen) RETURNING id", Long.class, "NEW", "GONE")).containsExactlyInAnyOrder(1L, 3L);
        assertThat(f.jdbc.update(chosen + "DELETE FROM t_order WHERE status IN (SELECT s FROM chosen)", "GONE"))
                .isEqualTo(2);

        assertThat(f.source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(1);
        assertThat(f.differences()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void predicateUpdateWithItsOwnReturning_givesTheApplicationItsRows(Store source, Store target,
            Isolation isolation) throws Exception {
        assumeTrue(source == Store.POSTGRESQL, "UPDATE ... RETURNING is PostgreSQL syntax");
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        row(1, "NEW");
        row(2, "NEW");
        row(3, "OLD");
        List<Object> returned = f.jdbc.queryForList("UPDATE t_order SET status = 'EXPIRED' WHERE status = ?"
                + " RETURNING status, id", "NEW").stream().map(row -> row.get("status")).toList();
        List<String> statuses = new ArrayList<>();
        try (Connection connection = f.capturing.getConnection();
                PreparedStatement statement = connection.prepareStatement(
                        "UPDATE t_order SET status = 'GONE' WHERE status = ? RETURNING status")) {
            statement.setString(1, "EXPIRED");
            try (ResultSet rows = statement.executeQuery()) {
                while (rows.next()) {
                    statuses.add(rows.getString(1));
                }
            }
        }

        assertThat(returned).containsExactly("EXPIRED", "EXPIRED");
        assertThat(statuses).containsExactly("GONE", "GONE");
        assertThat(f.keys("t_order")).containsExactly(1L, 2L, 1L, 2L);
        assertThat(f.differences()).isEmpty();
    }
}
