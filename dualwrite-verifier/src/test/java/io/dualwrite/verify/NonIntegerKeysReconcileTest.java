package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.KeyKinds;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Reconcile with repair on tables keyed by uuids (as uuid, CHAR(36) or BINARY(16)), CHAR(n), binary values
 * and a composite key with a DATE part: it finds exactly the row missing, the row extra and the row that
 * differs — a key read as a uuid on one store and as text on the other is one key — and after the repair a
 * second run finds nothing.
 */
class NonIntegerKeysReconcileTest {

    private static final int ROWS = 30;
    private static final Timestamp MODIFIED = Timestamp.valueOf("2026-02-03 04:05:06.789");

    static Stream<Arguments> cases() {
        return Stores.pairs().flatMap(pair -> Arrays.stream(KeyKinds.values())
                .map(kind -> Arguments.of(pair.get()[0], pair.get()[1], kind)));
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void reconcileWithRepair_findsTheThreeDivergences_andASecondRunFindsNothing(Store sourceStore, Store targetStore,
            KeyKinds kind) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "rckeys_src");
                TestDatabase target = TestDatabase.create(targetStore, "rckeys_tgt")) {
            source.execute(kind.ddl(sourceStore, "t_key"));
            target.execute(kind.ddl(targetStore, "t_key"));
            for (int i = 0; i < ROWS; i++) {
                insert(source, kind, i, "row " + i);
                if (i != 3) {
                    insert(target, kind, i, i == 5 ? "changed" : "row " + i);
                }
            }
            insert(target, kind, ROWS + 1, "extra");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").build()),
                    source.dataSource(), target.dataSource(), false);
            ReconcileConfig.Builder config = ReconcileConfig.builder().chunkSize(10).createTables(true);

            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                    target.dataSource(), new EventPublisher())) {
                ReconcileReport repaired = Reconciler.create(
                        config.repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables,
                        source.dataSource(), target.dataSource(), event -> { }).run("t_key");
                assertThat(List.of(repaired.missingInTarget(), repaired.extraInTarget(), repaired.different(),
                        repaired.repaired(), repaired.unrepaired())).containsExactly(1L, 1L, 1L, 3L, 0L);
            }
            ReconcileReport second = Reconciler.create(ReconcileConfig.builder().chunkSize(10).createTables(true)
                    .build(), tables, source.dataSource(), target.dataSource(), event -> { }).run("t_key");
            assertThat(second.differences()).isZero();
            assertThat(second.compared()).isEqualTo(ROWS);
            assertThat(kind.rows(target, "t_key")).isEqualTo(kind.rows(source, "t_key")).hasSize(ROWS);
        }
    }

    /**
     * A MariaDB composite key with a {@code latin1} part: the reconciler reads rows by key in several-key
     * statements, whose row-value {@code IN} matched no non-ASCII {@code latin1} value, so rows present on
     * both sides were taken for missing or extra and repaired away.
     */
    @ParameterizedTest(name = "MARIADB -> {0}")
    @org.junit.jupiter.params.provider.EnumSource(value = Store.class, names = {"POSTGRESQL", "MARIADB"})
    void reconcileWithRepair_compositeKeyWithALatin1Part_findsOnlyTheRealDivergences(Store targetStore)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "rccs_src");
                TestDatabase target = TestDatabase.create(targetStore, "rccs_tgt")) {
            source.execute("CREATE TABLE t_key (u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
                    + " l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL, note VARCHAR(20),"
                    + " PRIMARY KEY (u, l))");
            target.execute(targetStore == Store.MARIADB ? "CREATE TABLE t_key (u VARCHAR(20) COLLATE utf8mb4_bin NOT"
                    + " NULL, l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL, note VARCHAR(20),"
                    + " PRIMARY KEY (u, l))" : "CREATE TABLE t_key (u VARCHAR(20) NOT NULL, l VARCHAR(20) NOT NULL,"
                    + " note VARCHAR(20), PRIMARY KEY (u, l))");
            JdbcTemplate sourceJdbc = new JdbcTemplate(source.dataSource());
            JdbcTemplate targetJdbc = new JdbcTemplate(target.dataSource());
            for (int i = 0; i < ROWS; i++) {
                String u = (i % 2 == 0 ? "Straße-" : "Ärger-") + i;
                String l = i % 3 == 0 ? "café" : i % 3 == 1 ? "é" : "Café";
                sourceJdbc.update("INSERT INTO t_key (u, l, note) VALUES (?, ?, ?)", u, l, "row " + i);
                if (i != 3) {
                    targetJdbc.update("INSERT INTO t_key (u, l, note) VALUES (?, ?, ?)", u, l,
                            i == 5 ? "changed" : "row " + i);
                }
            }
            targetJdbc.update("INSERT INTO t_key (u, l, note) VALUES ('Ärger-99', 'é', 'extra')");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").noVersionColumn()
                    .build()), source.dataSource(), target.dataSource(), false);

            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                    target.dataSource(), new EventPublisher())) {
                ReconcileReport repaired = Reconciler.create(ReconcileConfig.builder().chunkSize(10).createTables(true)
                        .repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables,
                        source.dataSource(), target.dataSource(), event -> { }).run("t_key");
                assertThat(List.of(repaired.missingInTarget(), repaired.extraInTarget(), repaired.different(),
                        repaired.repaired(), repaired.unrepaired())).containsExactly(1L, 1L, 1L, 3L, 0L);
            }
            assertThat(targetJdbc.queryForList("SELECT u, l, note FROM t_key"))
                    .containsExactlyInAnyOrderElementsOf(sourceJdbc.queryForList("SELECT u, l, note FROM t_key"))
                    .hasSize(ROWS);
        }
    }

    private static void insert(TestDatabase db, KeyKinds kind, int i, String note) {
        Object[] key = kind.stored(db.store(), i);
        Object[] row = Arrays.copyOf(key, key.length + 2);
        row[key.length] = note;
        row[key.length + 1] = MODIFIED;
        new JdbcTemplate(db.dataSource()).update(kind.insert("t_key"), row);
    }
}
