package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.FilmTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The film table of {@link FilmTable}, MariaDB to PostgreSQL, compared by meaning: enum text, a
 * {@code SET} against an array written in another order, {@code TINYINT(1)} against {@code boolean},
 * {@code 0}/{@code 1} against {@code integer}, JSON with other white space and key order, bytes, bits,
 * unsigned numbers, instants and an interval of days against one of hours. Neither the reconciler nor a
 * double read reports a difference where there is none, and both still find a real one.
 */
class TypeFidelityVerifyTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final List<RowKey> KEYS = List.of(RowKey.of(1L), RowKey.of(2L), RowKey.of(3L));

    private TestDatabase mariadb;
    private TestDatabase postgres;
    private MappedTables tables;
    private final List<VerifyEvent> events = new CopyOnWriteArrayList<>();
    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(MismatchLog.LOGGER);

    @BeforeEach
    void stores() throws Exception {
        mariadb = TestDatabase.create(Store.MARIADB, "types_vfy_src");
        postgres = TestDatabase.create(Store.POSTGRESQL, "types_vfy_tgt");
        mariadb.execute(FilmTable.MARIADB_DDL);
        postgres.execute(FilmTable.POSTGRES_DDL);
        tables = MappedTables.resolve(List.of(FilmTable.mapping()), mariadb.dataSource(), postgres.dataSource(),
                true);
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void close() {
        logger.detachAppender(appender);
        mariadb.close();
        postgres.close();
    }

    @Test
    void reconcile_rowsMirroredEitherWay_findsNoDifferenceButARealOne() throws Exception {
        FilmTable.insertMariadb(mariadb, FilmTable.VALUES);
        try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, mariadb.dataSource(),
                postgres.dataSource(), new EventPublisher())) {
            assertThat(mirror.repair("t_film", KEYS, Duration.ofSeconds(10))).isEmpty();
        }
        assertThat(reconcile().differences()).isZero();

        // Rows the application wrote on PostgreSQL during RAMP, in its own words, carried back to MariaDB.
        postgres.execute("DELETE FROM t_film");
        FilmTable.insertPostgres(postgres, FilmTable.VALUES);
        postgres.execute("UPDATE t_film SET features = '{\"Deleted Scenes\",Trailers}', run_time = '1 day 02:03:04.5',"
                + " doc = '{\"c\": {\"d\": null}, \"b\": 1, \"a\": [1, 2]}' WHERE id = 1");
        try (Mirror reverse = Mirror.create(MirrorConfig.defaults(), tables.reversed(), postgres.dataSource(),
                mariadb.dataSource(), new EventPublisher())) {
            assertThat(reverse.repair("t_film", KEYS, Duration.ofSeconds(10))).isEmpty();
        }
        assertThat(mariadb.queryForObject("SELECT features FROM t_film WHERE id = 1", String.class))
                .isEqualTo("Trailers,Deleted Scenes");
        assertThat(mariadb.queryForObject("SELECT CAST(run_time AS CHAR) FROM t_film WHERE id = 1", String.class))
                .isEqualTo("26:03:04.500000");
        ReconcileReport report = reconcile();
        assertThat(report.compared()).isEqualTo(3);
        assertThat(report.differences()).as("mismatches: %s", lines()).isZero();

        postgres.execute("UPDATE t_film SET rating = 'G', available = NOT available WHERE id = 3");
        report = reconcile();
        assertThat(report.samples(Mismatch.Kind.DIFFERENT)).containsExactly(RowKey.of(3L));
        assertThat(events).filteredOn(e -> e instanceof VerifyEvent.MismatchFound)
                .map(e -> ((VerifyEvent.MismatchFound) e).mismatch().columns())
                .containsExactly(List.of("rating", "available"));
    }

    @Test
    void doubleRead_sameRowsInBothStores_logNothing_andARealDifferenceIsLoggedWithDistinctValues()
            throws Exception {
        FilmTable.insertMariadb(mariadb, FilmTable.VALUES);
        FilmTable.insertPostgres(postgres, FilmTable.VALUES);
        postgres.execute("UPDATE t_film SET features = '{\"Deleted Scenes\",Trailers}', run_time = '0 days 01:54:00'"
                + " WHERE id = 1");
        DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1)
                .recentlyCompared(Duration.ofMillis(1), 1).build();
        try (DoubleReader reader = DoubleReader.create(config, tables, mariadb.dataSource(), postgres.dataSource(),
                events::add)) {
            for (long id = 1; id <= 3; id++) {
                reader.read("t_film", id, () -> "primary");
            }
            assertThat(reader.awaitQuiet(Duration.ofSeconds(20))).isTrue();
            assertThat(lines()).isEmpty();

            postgres.execute("UPDATE t_film SET ratings = '{R,PG}', rating_text = 'PG-13' WHERE id = 1");
            reader.read("t_film", 1L, () -> "primary");
            assertThat(reader.awaitQuiet(Duration.ofSeconds(20))).isTrue();
        }
        assertThat(lines()).singleElement().satisfies(line -> {
            JsonNode json = JSON.readTree(line);
            assertThat(json.get("columns").toString()).as(line).isEqualTo("[\"rating_text\"]");
            assertThat(json.get("source").get("rating_text").asString()).isEqualTo("G");
            assertThat(json.get("target").get("rating_text").asString()).isEqualTo("PG-13");
        });
    }

    @Test
    void mismatchLine_valuesThatPrintAlike_carryTheirTypes() {
        Mismatch mismatch = new Mismatch("t_film", RowKey.of(1L), Mismatch.Kind.DIFFERENT,
                io.dualwrite.routing.Route.SOURCE, List.of("views"), java.util.Set.of(),
                java.util.Map.of("views", "12"), java.util.Map.of("views", 12L), null, null);

        JsonNode json = JSON.readTree(MismatchLog.line(VerifyEvent.Check.RECONCILE, mismatch, 0));

        assertThat(json.get("source").get("views").asString()).isEqualTo("12 (String)");
        assertThat(json.get("target").get("views").asString()).isEqualTo("12 (Long)");
    }

    private ReconcileReport reconcile() throws Exception {
        ReconcileConfig dry = ReconcileConfig.builder().chunkSize(10).createTables(true).build();
        return Reconciler.create(dry, tables, mariadb.dataSource(), postgres.dataSource(), events::add)
                .run("t_film");
    }

    private List<String> lines() {
        return new ArrayList<>(appender.list.stream().map(ILoggingEvent::getFormattedMessage).toList());
    }
}
