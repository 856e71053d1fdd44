package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.testing.FilmTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A MariaDB schema and the PostgreSQL schema written for it by hand ({@link FilmTable}): enum types,
 * sets and arrays, years, booleans kept as numbers, dates, instants, unsigned numbers, bits, JSON, bytes,
 * uuids, addresses and spans of time travel with no converter declared and no driver flag, in the mirror,
 * the backfill and the reverse mirror of RAMP. The test's own SQL reads what each store holds, in the
 * store's own words.
 */
class TypeFidelityTest {

    private TestDatabase mariadb;
    private TestDatabase postgres;
    private final List<DualWriteEvent> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void close() {
        if (mariadb != null) {
            mariadb.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @ParameterizedTest
    @EnumSource(value = MirrorMode.class, names = {"SYNC", "ASYNC"})
    void mirror_mariadbToPostgres_carriesEveryTypeWithoutConverters(MirrorMode mode) throws Exception {
        MappedTables tables = createStores();
        FilmTable.insertMariadb(mariadb, FilmTable.VALUES);

        try (Mirror mirror = started(tables, mariadb, postgres, mode)) {
            mirror.recorder().recordAll("t_film", List.of(1L, 2L, 3L));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();
            assertThat(mirror.parked()).as("parked: %s", parkedReasons()).isZero();
            assertPostgresHolds(FilmTable.VALUES);

            Object[] changed = FilmTable.with(FilmTable.VALUES.get(0), FilmTable.changes("rating", "R", "features",
                    "Commentaries", "active", 0, "available", false, "flags", "00001", "run_time", "00:00:01",
                    "gmt_modified", "2024-07-02 08:00:00"));
            mariadb.execute("DELETE FROM t_film WHERE id IN (1, 2)");
            FilmTable.insertMariadb(mariadb, List.<Object[]>of(changed));
            mirror.recorder().recordAll("t_film", List.of(1L, 2L));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

            assertThat(mirror.parked()).isZero();
            assertPostgresHolds(List.of(changed, FilmTable.VALUES.get(2)));
        }
    }

    @Test
    void backfill_mariadbToPostgres_carriesEveryTypeWithoutConverters() throws Exception {
        MappedTables tables = createStores();
        FilmTable.insertMariadb(mariadb, FilmTable.VALUES);

        try (BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().chunkSize(2).chunkSizeBounds(1, 10)
                .createTables(true).build(), tables, mariadb.dataSource(), postgres.dataSource(), new EventPublisher())) {
            runner.start("t_film");
            assertThat(runner.awaitCompletion("t_film", Duration.ofSeconds(30))).isTrue();
            assertThat(runner.progress("t_film").failedRows()).isZero();
        }
        assertPostgresHolds(FilmTable.VALUES);
    }

    @Test
    void reverseMirror_postgresToMariadb_carriesEveryTypeBack() throws Exception {
        MappedTables tables = createStores();
        FilmTable.insertPostgres(postgres, FilmTable.VALUES);

        try (Mirror reverse = started(tables.reversed(), postgres, mariadb, MirrorMode.SYNC)) {
            reverse.recorder().recordAll("t_film", List.of(1L, 2L, 3L));
            assertThat(reverse.awaitDrained(Duration.ofSeconds(20))).isTrue();
            assertThat(reverse.parked()).as("parked: %s", parkedReasons()).isZero();
        }
        for (Object[] row : FilmTable.VALUES) {
            assertThat(FilmTable.mariadbText(mariadb, (Long) row[0])).as("row %s", row[0])
                    .isEqualTo(FilmTable.expectedMariadbText(row));
        }

        // And forward again, from what the reverse mirror wrote: the round trip changes nothing.
        postgres.execute("DELETE FROM t_film");
        try (Mirror mirror = started(tables, mariadb, postgres, MirrorMode.SYNC)) {
            mirror.recorder().recordAll("t_film", List.of(1L, 2L, 3L));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();
            assertThat(mirror.parked()).isZero();
        }
        assertPostgresHolds(FilmTable.VALUES);
    }

    private void assertPostgresHolds(List<Object[]> rows) {
        assertThat(postgres.queryForObject("SELECT COUNT(*) FROM t_film", Long.class)).isEqualTo(rows.size());
        for (Object[] row : rows) {
            assertThat(FilmTable.postgresText(postgres, (Long) row[0])).as("row %s", row[0])
                    .isEqualTo(FilmTable.expectedPostgresText(row));
            if (row[9] != null) {
                assertThat(postgres.queryForObject("SELECT CAST(FLOOR(EXTRACT(EPOCH FROM rented_at)) AS BIGINT) FROM t_film"
                        + " WHERE id = ?", Long.class, row[0])).isEqualTo(FilmTable.rentedAtEpochSecond(row));
            }
        }
    }

    private List<String> parkedReasons() {
        return events.stream().filter(e -> e instanceof DualWriteEvent.KeyParked)
                .map(e -> ((DualWriteEvent.KeyParked) e).reason()).toList();
    }

    private MappedTables createStores() throws Exception {
        mariadb = TestDatabase.create(Store.MARIADB, "types_src");
        postgres = TestDatabase.create(Store.POSTGRESQL, "types_tgt");
        mariadb.execute(FilmTable.MARIADB_DDL);
        postgres.execute(FilmTable.POSTGRES_DDL);
        return MappedTables.resolve(List.of(FilmTable.mapping()), mariadb.dataSource(), postgres.dataSource(), true);
    }

    private Mirror started(MappedTables tables, TestDatabase from, TestDatabase to,
            MirrorMode mode) throws Exception {
        MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(2).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(10)).build();
        Mirror mirror = Mirror.create(config, tables, from.dataSource(), to.dataSource(),
                new EventPublisher().subscribe(events::add));
        mirror.start();
        return mirror;
    }
}
