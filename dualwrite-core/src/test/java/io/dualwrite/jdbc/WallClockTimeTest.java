package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.List;
import java.util.TimeZone;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * A date-time without a time zone (MariaDB {@code DATETIME}, PostgreSQL {@code timestamp}) is a wall-clock
 * reading, and travels as one: read as a {@link LocalDateTime}, never through a {@code java.sql.Timestamp},
 * which is an instant and so cannot hold a time the JVM's zone skips. On the night Paris moves its clocks
 * forward, 02:30 does not exist there; a JVM in Paris read it as 03:30 and wrote that to the other store.
 */
class WallClockTimeTest {

    private static final String GAP = "2026-03-29 02:30:00.250";

    private TimeZone jvmZone;
    private TestDatabase mariadb;
    private TestDatabase postgres;

    @BeforeEach
    void paris() {
        // The databases first: TestDatabase gives every later MariaDB session the zone the JVM had when it
        // found the server, and the tests after this one must not find Paris there.
        mariadb = TestDatabase.create(Store.MARIADB, "wallclock");
        postgres = TestDatabase.create(Store.POSTGRESQL, "wallclock");
        mariadb.execute("CREATE TABLE t_shift (id BIGINT NOT NULL PRIMARY KEY, starts DATETIME(3),"
                + " gmt_modified DATETIME(3) NOT NULL)");
        postgres.execute("CREATE TABLE t_shift (id BIGINT NOT NULL PRIMARY KEY, starts timestamp(3),"
                + " gmt_modified timestamp(3) NOT NULL)");
        jvmZone = TimeZone.getDefault();
        TimeZone.setDefault(TimeZone.getTimeZone("Europe/Paris"));
    }

    @AfterEach
    void restore() {
        try {
            mariadb.close();
            postgres.close();
        } finally {
            TimeZone.setDefault(jvmZone);
        }
    }

    @Test
    void mirror_aTimeTheJvmZoneSkips_arrivesAsWritten_bothWays() throws Exception {
        mariadb.execute("INSERT INTO t_shift VALUES (1, '" + GAP + "', '" + GAP + "')");
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_shift").build()),
                mariadb.dataSource(), postgres.dataSource(), true);

        try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, mariadb.dataSource(),
                postgres.dataSource(), new EventPublisher())) {
            assertThat(mirror.repair("t_shift", List.of(RowKey.of(1L)), Duration.ofSeconds(10))).isEmpty();
        }
        assertThat(postgres.queryForObject("SELECT to_char(starts, 'YYYY-MM-DD HH24:MI:SS.MS') || ' '"
                + " || to_char(gmt_modified, 'HH24:MI') FROM t_shift", String.class)).isEqualTo(GAP + " 02:30");

        postgres.execute("UPDATE t_shift SET starts = starts + interval '1 minute'");
        mariadb.execute("DELETE FROM t_shift");
        try (Mirror reverse = Mirror.create(MirrorConfig.defaults(), tables.reversed(), postgres.dataSource(),
                mariadb.dataSource(), new EventPublisher())) {
            assertThat(reverse.repair("t_shift", List.of(RowKey.of(1L)), Duration.ofSeconds(10))).isEmpty();
        }
        assertThat(mariadb.queryForObject("SELECT CONCAT(DATE_FORMAT(starts, '%Y-%m-%d %H:%i:%s.%f'), ' ',"
                + " DATE_FORMAT(gmt_modified, '%H:%i')) FROM t_shift", String.class))
                .isEqualTo("2026-03-29 02:31:00.250000 02:30");
    }

    @Test
    void read_aDateTimeWithoutZone_isALocalDateTime() throws Exception {
        mariadb.execute("INSERT INTO t_shift VALUES (1, '" + GAP + "', '" + GAP + "')");
        postgres.execute("INSERT INTO t_shift VALUES (1, '" + GAP + "', '" + GAP + "')");
        for (TestDatabase db : List.of(mariadb, postgres)) {
            try (var connection = db.dataSource().getConnection()) {
                TableMetadata table = TableMetadata.read(connection, "t_shift").orElseThrow();
                TableOps ops = new TableOps(Dialect.of(connection), table, List.of("id", "starts", "gmt_modified"),
                        List.of("id"), "gmt_modified");
                Row row = ops.readByKeys(connection, List.of(RowKey.of(1L)), false).get(RowKey.of(1L));
                assertThat(row.get("starts")).as(db.store().name()).isEqualTo(LocalDateTime.of(2026, 3, 29, 2, 30, 0,
                        250_000_000));
            }
        }
    }
}
