package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.Change;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.KeyKinds;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Keys that are not integers (uuid as uuid, text or bytes, padded {@code CHAR(n)}, binary, a composite
 * key with a {@code DATE} part), recorded in whatever form the application holds them, converge in
 * ASYNC and OUTBOX on every store pair — including deletes batched with live keys in one apply, which
 * once were rolled back with the live key's failed re-check and left the deleted row on the target.
 */
class NonIntegerKeysTest {

    private static final int ROWS = 24;

    static Stream<Arguments> cases() {
        return Stores.pairs().flatMap(pair -> Stream.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)
                .flatMap(mode -> Arrays.stream(KeyKinds.values())
                        .map(kind -> Arguments.of(pair.get()[0], pair.get()[1], mode, kind))));
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}, {3}")
    @MethodSource("cases")
    void insertsUpdatesAndDeletesBatchedWithLiveKeys_converge(Store sourceStore, Store targetStore, MirrorMode mode,
            KeyKinds kind) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "keys_src");
                TestDatabase target = TestDatabase.create(targetStore, "keys_tgt")) {
            source.execute(kind.ddl(sourceStore, "t_key"));
            target.execute(kind.ddl(targetStore, "t_key"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").build()),
                    source.dataSource(), target.dataSource(), false);
            AtomicLong parked = new AtomicLong();
            Mirror mirror = startedMirror(mode, tables, source, target, parked);
            try {
                kind.insertThenDeleteAndUpdate(sourceStore, source.dataSource(), "t_key", mirror.recorder(), ROWS);

                assertThat(mirror.awaitDrained(Duration.ofSeconds(15))).as("mirror drained").isTrue();
                assertThat(parked.get()).as("parked keys").isZero();
                assertThat(kind.rows(target, "t_key")).as("target rows").isEqualTo(kind.rows(source, "t_key"))
                        .hasSize(ROWS - ROWS / 4);
            } finally {
                mirror.close();
            }
        }
    }

    static Stream<Arguments> caseInsensitiveSources() {
        return Stream.of(Store.H2, Store.MARIADB).flatMap(store -> Stream.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)
                .map(mode -> Arguments.of(store, store == Store.H2 ? Store.H2 : Store.POSTGRESQL, mode)));
    }

    /**
     * Under MariaDB's {@code utf8mb4_general_ci} {@code 'key-1 '} names row {@code 'Key-1'} (H2's
     * {@code VARCHAR_IGNORECASE}: {@code 'key-1'}): the row read back under its own spelling must be taken
     * for the key asked for, or the key is deleted on the target, found again by the re-check, and retried
     * forever. A delete recorded in another spelling than the row's, and a row whose key changes case
     * ({@code 'Key-5'} to {@code 'KEY-5'}, one row to the source), must leave no row of the old spelling on
     * the case-sensitive target.
     */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("caseInsensitiveSources")
    void caseInsensitiveKeySpelledOtherwiseThanItsRow_isAppliedNotDeferredForever(Store sourceStore,
            Store targetStore, MirrorMode mode) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "keys_ci_src");
                TestDatabase target = TestDatabase.create(targetStore, "keys_ci_tgt")) {
            String time = io.dualwrite.testing.OrderTable.timestampType(sourceStore);
            source.execute("CREATE TABLE t_user (code " + (sourceStore == Store.H2 ? "VARCHAR_IGNORECASE(20)"
                    : "VARCHAR(20) COLLATE utf8mb4_general_ci") + " NOT NULL PRIMARY KEY, note VARCHAR(40),"
                    + " gmt_modified " + time + " NOT NULL)");
            target.execute("CREATE TABLE t_user (code VARCHAR(20) NOT NULL PRIMARY KEY, note VARCHAR(40), gmt_modified "
                    + io.dualwrite.testing.OrderTable.timestampType(targetStore) + " NOT NULL)");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_user").build()),
                    source.dataSource(), target.dataSource(), false);
            AtomicLong parked = new AtomicLong();
            Mirror mirror = startedMirror(mode, tables, source, target, parked);
            try {
                JdbcTemplate jdbc = new JdbcTemplate(source.dataSource());
                TransactionTemplate transactions = new TransactionTemplate(
                        new DataSourceTransactionManager(source.dataSource()));
                Timestamp now = Timestamp.valueOf("2026-03-04 05:06:07.890");
                for (int i = 0; i < 8; i++) {
                    int row = i;
                    transactions.executeWithoutResult(status -> {
                        jdbc.update("INSERT INTO t_user (code, note, gmt_modified) VALUES (?, 'new', ?)", "Key-" + row,
                                now);
                        mirror.recorder().record("t_user", "key-" + row + (sourceStore == Store.H2 ? "" : " "));
                    });
                }
                transactions.executeWithoutResult(status -> {
                    jdbc.update("DELETE FROM t_user WHERE code IN ('KEY-0', 'KEY-2')");
                    jdbc.update("UPDATE t_user SET note = 'changed' WHERE code IN ('KEY-1', 'KEY-3')");
                    mirror.recorder().recordAll("t_user", List.of("KEY-0", "KEY-1", "key-2", "KEY-3"));
                });
                transactions.executeWithoutResult(status -> {
                    jdbc.update("UPDATE t_user SET code = 'KEY-5', note = 'renamed' WHERE code = 'Key-5'");
                    mirror.recorder().recordAll("t_user", List.of("key-5"));
                });

                assertThat(mirror.awaitDrained(Duration.ofSeconds(15))).as("mirror drained").isTrue();
                assertThat(parked.get()).as("parked keys").isZero();
                // Compared as sets: the two stores order 'KEY-5' and 'Key-1' by different collations.
                assertThat(target.queryForList("SELECT code, note FROM t_user"))
                        .containsExactlyInAnyOrderElementsOf(source.queryForList("SELECT code, note FROM t_user"))
                        .hasSize(6);
            } finally {
                mirror.close();
            }
        }
    }

    /**
     * A composite key of a {@code utf8mb4_bin} and a {@code latin1_bin} column, four keys applied in one read:
     * MariaDB's row-value {@code IN} matched no non-ASCII {@code latin1} value, so the moved row read as absent
     * (missing on the target) and, from the binlog, every row did (the target emptied). Case-only changes of
     * both parts are other keys under these binary collations.
     */
    @ParameterizedTest(name = "MARIADB -> {0}")
    @org.junit.jupiter.params.provider.EnumSource(value = Store.class, names = {"POSTGRESQL", "MARIADB"})
    void compositeKeyOfTwoCharacterSets_severalKeysInOneApply_converge(Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "keys_cs_src");
                TestDatabase target = TestDatabase.create(targetStore, "keys_cs_tgt")) {
            source.execute("CREATE TABLE t_key (u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
                    + " l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL, label VARCHAR(20),"
                    + " PRIMARY KEY (u, l))");
            target.execute(targetStore == Store.MARIADB ? "CREATE TABLE t_key (u VARCHAR(20) COLLATE utf8mb4_bin NOT"
                    + " NULL, l VARCHAR(20) COLLATE utf8mb4_bin NOT NULL, label VARCHAR(20), PRIMARY KEY (u, l))"
                    : "CREATE TABLE t_key (u VARCHAR(20) NOT NULL, l VARCHAR(20) NOT NULL, label VARCHAR(20),"
                    + " PRIMARY KEY (u, l))");
            source.execute("INSERT INTO t_key VALUES ('Straße', 'café', 'a'), ('Ärger', 'é', 'b'), ('zz', 'z', 'c')");
            target.execute("INSERT INTO t_key VALUES ('Straße', 'café', 'a'), ('Ärger', 'é', 'b'), ('zz', 'z', 'c')");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").noVersionColumn().build()),
                    source.dataSource(), target.dataSource(), false);
            AtomicLong parked = new AtomicLong();
            Mirror mirror = startedMirror(MirrorMode.ASYNC, tables, source, target, parked);
            try {
                source.execute("UPDATE t_key SET u = 'straße', l = 'Café', label = 'moved' WHERE label = 'a'");
                source.execute("DELETE FROM t_key WHERE label = 'c'");
                mirror.captured(List.of(new Change("t_key", RowKey.of("Straße", "café")),
                        new Change("t_key", RowKey.of("Ärger", "é")), new Change("t_key", RowKey.of("zz", "z")),
                        new Change("t_key", RowKey.of("straße", "Café"))), System.nanoTime());

                assertThat(mirror.awaitDrained(Duration.ofSeconds(15))).as("mirror drained").isTrue();
                assertThat(parked.get()).as("parked keys").isZero();
                assertThat(target.queryForList("SELECT u, l, label FROM t_key"))
                        .containsExactlyInAnyOrderElementsOf(source.queryForList("SELECT u, l, label FROM t_key"))
                        .containsExactlyInAnyOrder(Map.of("u", "straße", "l", "Café", "label", "moved"),
                                Map.of("u", "Ärger", "l", "é", "label", "b"));
            } finally {
                mirror.close();
            }
        }
    }

    /** A key that can never fit its column is parked at once with the reason, never retried in a loop. */
    @ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.EnumSource(value = MirrorMode.class, names = {"ASYNC", "OUTBOX"})
    void keyThatDoesNotFitItsColumn_isParkedWithTheReason_andTheMirrorDrains(MirrorMode mode) throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "keys_bad_src");
                TestDatabase target = TestDatabase.create(Store.H2, "keys_bad_tgt")) {
            source.execute(KeyKinds.UUID_NATIVE.ddl(Store.H2, "t_key"));
            target.execute(KeyKinds.UUID_NATIVE.ddl(Store.H2, "t_key"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").build()),
                    source.dataSource(), target.dataSource(), false);
            List<String> reasons = new java.util.concurrent.CopyOnWriteArrayList<>();
            EventPublisher events = new EventPublisher();
            events.subscribe(event -> {
                if (event instanceof DualWriteEvent.KeyParked parked) {
                    reasons.add(parked.reason());
                }
            });
            MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(3)
                    .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(20))
                    .outboxPollInterval(Duration.ofMillis(50)).createOutboxTable(true).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(), events)) {
                mirror.start();
                new TransactionTemplate(new DataSourceTransactionManager(source.dataSource()))
                        .executeWithoutResult(status -> mirror.recorder().record("t_key", "order-17"));

                assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).as("mirror drained").isTrue();
                assertThat(reasons).singleElement(org.assertj.core.api.InstanceOfAssertFactories.STRING)
                        .contains("key value 'order-17' (String) does not fit key column 'ID' of table 'T_KEY', of"
                                + " type UUID: not a uuid");
                assertThat(mirror.parked()).isEqualTo(1);
            }
        }
    }

    /** A mirror with short retries that counts the keys it parks. */
    private static Mirror startedMirror(MirrorMode mode, MappedTables tables, TestDatabase source,
            TestDatabase target, AtomicLong parked) throws Exception {
        EventPublisher events = new EventPublisher().subscribe(event -> {
            if (event instanceof DualWriteEvent.KeyParked) {
                parked.incrementAndGet();
            }
        });
        MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(5)
                .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(50))
                .outboxPollInterval(Duration.ofMillis(50)).createOutboxTable(true).build();
        Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(), events);
        mirror.start();
        return mirror;
    }
}
