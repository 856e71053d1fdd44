package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The backfill's LOAD DATA path into MariaDB ({@link BackfillConfig#mariadbLoadData()}) writes exactly what the
 * batched upsert writes: every value of a wide table, copied from MariaDB and from PostgreSQL into one MariaDB
 * database with LOAD DATA and into another without it, reads back the same ({@code QUOTE} of every column); a second
 * pass changes no row; the version guard keeps a newer target row; a bad value (refused by the table, or only warned
 * about by the load) fails its row only; a value without an exact text sends the table the batched way; a client that
 * refuses {@code LOCAL INFILE} sends every chunk the batched way.
 */
class MariaDbLoadDataBackfillTest {

    private static final String[] COLUMNS = {"id", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "tz6", "tz3", "dday",
        "tod", "amount", "big", "f8", "f4", "flag", "tiny", "small", "i", "ub", "txt", "vc", "bin", "uid", "doc",
        "doc2", "gmt_modified"};

    private static final String MARIADB_DDL = "CREATE TABLE t_types (id BIGINT NOT NULL PRIMARY KEY, d0 DATETIME(0),"
            + " d1 DATETIME(1), d2 DATETIME(2), d3 DATETIME(3), d4 DATETIME(4), d5 DATETIME(5), d6 DATETIME(6),"
            + " tz6 DATETIME(6), tz3 TIMESTAMP(3) NULL, dday DATE, tod TIME(6), amount DECIMAL(12,4),"
            + " big DECIMAL(38,10), f8 DOUBLE, f4 FLOAT, flag BOOLEAN, tiny TINYINT, small SMALLINT, i INT,"
            + " ub BIGINT UNSIGNED, txt MEDIUMTEXT, vc VARCHAR(50), bin VARBINARY(64), uid CHAR(36), doc JSON,"
            + " doc2 JSON, gmt_modified DATETIME(3) NOT NULL) CHARACTER SET utf8mb4";

    private static final String POSTGRES_DDL = "CREATE TABLE t_types (id bigint NOT NULL PRIMARY KEY,"
            + " d0 timestamp(0), d1 timestamp(1), d2 timestamp(2), d3 timestamp(3), d4 timestamp(4), d5 timestamp(5),"
            + " d6 timestamp(6), tz6 timestamptz(6), tz3 timestamptz(3), dday date, tod time(6), amount numeric(12,4),"
            + " big numeric(38,10), f8 double precision, f4 real, flag boolean, tiny smallint, small smallint,"
            + " i integer, ub numeric(19), txt text, vc varchar(50), bin bytea, uid uuid, doc jsonb, doc2 json,"
            + " gmt_modified timestamp(3) NOT NULL)";

    private static final String H2_DDL = "CREATE TABLE t_types (id BIGINT NOT NULL PRIMARY KEY, d0 TIMESTAMP(0),"
            + " d1 TIMESTAMP(1), d2 TIMESTAMP(2), d3 TIMESTAMP(3), d4 TIMESTAMP(4), d5 TIMESTAMP(5), d6 TIMESTAMP(6),"
            + " tz6 TIMESTAMP(6) WITH TIME ZONE, tz3 TIMESTAMP(3) WITH TIME ZONE, dday DATE, tod TIME(6),"
            + " amount DECIMAL(12,4), big DECIMAL(38,10), f8 DOUBLE PRECISION, f4 REAL, flag BOOLEAN, tiny TINYINT,"
            + " small SMALLINT, i INT, ub DECIMAL(19), txt VARCHAR(1000000), vc VARCHAR(50), bin VARBINARY(64),"
            + " uid UUID, doc VARCHAR(1000), doc2 VARCHAR(1000), gmt_modified TIMESTAMP(3) NOT NULL)";

    private final List<TestDatabase> databases = new ArrayList<>();
    private final List<HikariDataSource> pools = new ArrayList<>();

    @AfterEach
    void close() {
        pools.forEach(HikariDataSource::close);
        databases.forEach(TestDatabase::close);
    }

    private TestDatabase database(Store store, String prefix) {
        TestDatabase db = TestDatabase.create(store, prefix);
        databases.add(db);
        return db;
    }

    private static String ddl(Store store) {
        return switch (store) {
            case MARIADB -> MARIADB_DDL;
            case POSTGRESQL -> POSTGRES_DDL;
            case H2 -> H2_DDL;
        };
    }

    /** Rows whose values sit on every edge the LOAD DATA text has: escapes, NULL against empty, precision. */
    private static List<Object[]> rows(Store store) {
        List<Object[]> rows = new ArrayList<>();
        LocalDateTime base = LocalDateTime.of(2024, 1, 2, 3, 4, 5, 7_000_000);
        // NUL is text in MariaDB, not in PostgreSQL.
        String nul = store == Store.MARIADB ? "nul\0end" : "nul end";
        // 1: ordinary values; .007 must stay .007 (Connector/J's getString once gave .7000).
        rows.add(row(store, 1, base, "back\\slash\ttab\nnewline\rcr é😀 \\N \\0 " + nul, "",
                new BigDecimal("-12.3400"), new BigDecimal("1234567890123456789012345678.0123456789"), 0.1d, 0.1f, true,
                new BigInteger("18446744073709551615"), new byte[] {0, 0x5c, 9, 10, 13, (byte) 0xff, 'N'},
                "{\"a\": \"x\\ty\", \"b\": [1, 2.50]}", "{ \"k\" :  1 , \"k\": 2}"));
        // 2: NULL wherever NULL may go.
        Object[] nulls = new Object[COLUMNS.length];
        nulls[0] = 2L;
        nulls[COLUMNS.length - 1] = base;
        rows.add(nulls);
        // 3: text that looks like the load's own markers, whole seconds, MariaDB's first day.
        rows.add(row(store, 3, LocalDateTime.of(1000, 1, 1, 0, 0, 0), "\\N", "\\", new BigDecimal("0.0001"),
                new BigDecimal("-0.0000000001"), -1.5e-10d, -3.25f, false, BigInteger.ZERO, new byte[0], "[]",
                "\"\\\\\""));
        // 4: the empty string and a space, the last microsecond of a second and of the calendar.
        rows.add(row(store, 4, LocalDateTime.of(9999, 12, 31, 23, 59, 58, 999_999_000), "", " ",
                new BigDecimal("99999999.9999"), BigDecimal.ONE.movePointLeft(10), 1e300d, 1.5e38f, true,
                BigInteger.ONE, new byte[] {(byte) 0x80}, "{\"\\u00e9x\": null}", "null"));
        // 5..40: long text across the encoder's buffer, escapes at its edges.
        for (int id = 5; id <= 40; id++) {
            String text = ("\\\t" + id + "\r\n").repeat(id * 700);
            rows.add(row(store, id, base.plusSeconds(id).plusNanos(id * 1_001_000L), text, "v" + id,
                    BigDecimal.valueOf(id, 4), BigDecimal.valueOf(id * 31L, 10), id / 3.0, id / 7.0f, id % 2 == 0,
                    BigInteger.valueOf(id), new byte[] {(byte) id, '\\'}, "{\"n\": " + id + "}", "[" + id + "]"));
        }
        return rows;
    }

    private static Object[] row(Store store, long id, LocalDateTime time, String txt, String vc, BigDecimal amount,
            BigDecimal big, double f8, float f4, boolean flag, BigInteger ub, byte[] bin, String doc, String doc2) {
        boolean timestampRange = time.getYear() >= 1971 && time.getYear() <= 2037;
        Object tz6 = store == Store.MARIADB ? time : time.atOffset(ZoneOffset.ofHoursMinutes(5, 30));
        Object tz3 = !timestampRange ? null : store == Store.MARIADB
                ? time.withNano(time.getNano() / 1_000_000 * 1_000_000) : time.atOffset(ZoneOffset.ofHours(-7));
        LocalTime tod = time.toLocalTime();
        return new Object[] {id, time, time, time, time, time, time, time, tz6, tz3, time.toLocalDate(), tod, amount,
            big, f8, f4, flag, (byte) (id % 100), (short) (id * 100), (int) id * 1000, ub, txt, vc, bin,
            UUID.nameUUIDFromBytes(("u" + id).getBytes()).toString(), doc, doc2,
            // A millisecond column: PostgreSQL and H2 round 9999-12-31 23:59:59.999999 up into the year 10000.
            time.getYear() == 9999 ? time : time.plusSeconds(1)};
    }

    private void load(TestDatabase source) {
        source.execute(ddl(source.store()));
        List<String> values = new ArrayList<>(java.util.Collections.nCopies(COLUMNS.length, "?"));
        if (source.store() == Store.POSTGRESQL) {
            values.set(25, "CAST(? AS jsonb)");
            values.set(26, "CAST(? AS json)");
        }
        String insert = "INSERT INTO t_types (" + String.join(", ", COLUMNS) + ") VALUES (" + String.join(", ", values)
                + ")";
        List<Object[]> rows = rows(source.store());
        if (source.store() != Store.MARIADB) {
            rows.forEach(r -> r[24] = r[24] == null ? null : UUID.fromString((String) r[24]));
            // A 19-digit column: the mapping refuses a wider one for BIGINT UNSIGNED.
            rows.get(0)[20] = new BigDecimal("9223372036854775808");
        }
        new JdbcTemplate(source.dataSource()).batchUpdate(insert, rows);
        if (source.store() == Store.MARIADB) {
            // A TIME span beyond a day, which only MariaDB's TIME holds. (A negative one fails the batched upsert:
            // Connector/J 3.5.10 writes the Duration -838:59:58.999999 as '-838:-59:-59.000001'.)
            source.execute("UPDATE t_types SET tod = '838:59:58.999999' WHERE id = 5");
        }
    }

    private static MappedTables tables(TestDatabase source, DataSource target) throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_types").build()), source.dataSource(), target,
                false);
    }

    /** Runs a new job to its end. @return the chunks written through LOAD DATA */
    private static long backfill(TestDatabase source, TestDatabase target, boolean load, boolean guard,
            long failedRows) throws Exception {
        return backfill(source, target, target.dataSource(), load, guard, failedRows);
    }

    private static long backfill(TestDatabase source, TestDatabase target, DataSource targetPool, boolean load,
            boolean guard, long failedRows) throws Exception {
        if (target.queryForObject("SELECT COUNT(*) FROM information_schema.tables WHERE table_name ="
                + " 'dualwrite_checkpoint' AND table_schema = DATABASE()", Long.class) > 0) {
            target.execute("DELETE FROM dualwrite_checkpoint", "DELETE FROM dualwrite_backfill_failure");
        }
        MappedTables tables = tables(source, targetPool);
        try (BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true).chunkSize(7)
                .chunkSizeBounds(7, 7).rangesPerTable(1).postgresCopy(false).mariadbLoadData(load).versionGuard(guard)
                .build(), tables, source.dataSource(), targetPool, new EventPublisher())) {
            runner.start("t_types");
            assertThat(runner.awaitCompletion("t_types", Duration.ofSeconds(60))).isTrue();
            assertThat(runner.progress("t_types").failedRows()).as("failed rows: %s",
                    target.queryForList("SELECT * FROM dualwrite_backfill_failure")).isEqualTo(failedRows);
            return runner.copiedChunksForTesting();
        }
    }

    /** Every row as MariaDB quotes its columns, by id. */
    private static Map<Long, String> dump(TestDatabase target) {
        StringBuilder quoted = new StringBuilder("CONCAT_WS('|'");
        for (String column : COLUMNS) {
            quoted.append(", IFNULL(QUOTE(").append(column).append("), 'NULL')");
        }
        Map<Long, String> rows = new LinkedHashMap<>();
        for (Map<String, Object> row : target.queryForList("SELECT id, " + quoted + ") AS t FROM t_types ORDER BY id")) {
            Object text = row.get("t");
            // With a binary column among them, CONCAT_WS is binary.
            rows.put(((Number) row.get("id")).longValue(), text instanceof byte[] bytes
                    ? java.util.HexFormat.of().formatHex(bytes) : String.valueOf(text));
        }
        return rows;
    }

    /** The ids whose row the backfill changed: a column of the target only, set by MariaDB on any real change. */
    private static List<Long> touched(TestDatabase target) {
        return new JdbcTemplate(target.dataSource()).queryForList("SELECT id FROM t_types WHERE touched IS NOT NULL"
                + " ORDER BY id", Long.class);
    }

    private static void watchChanges(TestDatabase target) {
        target.execute("ALTER TABLE t_types ADD COLUMN touched DATETIME(6) NULL DEFAULT NULL"
                + " ON UPDATE CURRENT_TIMESTAMP(6)", "UPDATE t_types SET touched = NULL");
    }

    @ParameterizedTest
    @EnumSource(value = Store.class, names = {"MARIADB", "POSTGRESQL"})
    void loadData_writesWhatTheBatchedUpsertWrites_valueForValue(Store sourceStore) throws Exception {
        TestDatabase source = database(sourceStore, "ld_src");
        TestDatabase loaded = database(Store.MARIADB, "ld_load");
        TestDatabase batched = database(Store.MARIADB, "ld_batch");
        load(source);
        // PostgreSQL has no one-byte integer; the mapping refuses a smallint into a TINYINT.
        String targetDdl = sourceStore == Store.POSTGRESQL ? MARIADB_DDL.replace("tiny TINYINT", "tiny SMALLINT")
                : MARIADB_DDL;
        loaded.execute(targetDdl);
        batched.execute(targetDdl);

        long loadChunks = backfill(source, loaded, true, false, 0);
        long batchChunks = backfill(source, batched, false, false, 0);

        assertThat(loadChunks).as("chunks through LOAD DATA").isEqualTo(6);
        assertThat(batchChunks).isZero();
        Map<Long, String> expected = dump(batched);
        assertThat(expected).hasSize(40);
        assertThat(dump(loaded)).containsExactlyEntriesOf(expected);
        // And the values themselves, not only their agreement.
        Map<String, Object> first = loaded.queryForList("SELECT CAST(d3 AS CHAR) AS d3, CAST(d6 AS CHAR) AS d6,"
                + " CAST(d0 AS CHAR) AS d0, txt, vc, CAST(amount AS CHAR) AS amount, HEX(bin) AS bin, doc2"
                + " FROM t_types WHERE id = 1").get(0);
        assertThat(first.get("d3")).isEqualTo("2024-01-02 03:04:05.007");
        assertThat(first.get("d6")).isEqualTo("2024-01-02 03:04:05.007000");
        assertThat(first.get("d0")).isEqualTo("2024-01-02 03:04:05");
        String nul = sourceStore == Store.MARIADB ? "nul\0end" : "nul end";
        assertThat(first.get("txt")).isEqualTo("back\\slash\ttab\nnewline\rcr é😀 \\N \\0 " + nul);
        assertThat(first.get("vc")).isEqualTo("");
        assertThat(first.get("amount")).isEqualTo("-12.3400");
        assertThat(first.get("bin")).isEqualTo("005C090A0DFF4E");
        assertThat(first.get("doc2")).isEqualTo("{ \"k\" :  1 , \"k\": 2}");
        assertThat(loaded.queryForObject("SELECT COUNT(*) FROM t_types WHERE vc IS NULL", Long.class)).isEqualTo(1);
        assertThat(loaded.queryForObject("SELECT COUNT(*) FROM t_types WHERE bin = ''", Long.class)).isEqualTo(1);
        assertThat(loaded.queryForObject("SELECT txt FROM t_types WHERE id = 3", String.class)).isEqualTo("\\N");
        assertThat(loaded.queryForObject("SELECT vc FROM t_types WHERE id = 3", String.class)).isEqualTo("\\");
        assertThat(loaded.queryForObject("SELECT CAST(d6 AS CHAR) FROM t_types WHERE id = 4", String.class))
                .isEqualTo("9999-12-31 23:59:58.999999");
        assertThat(loaded.queryForObject("SELECT CAST(ub AS CHAR) FROM t_types WHERE id = 1", String.class))
                .isEqualTo(sourceStore == Store.MARIADB ? "18446744073709551615" : "9223372036854775808");
        assertThat(loaded.queryForObject("SELECT txt FROM t_types WHERE id = 40", String.class))
                .isEqualTo(("\\\t40\r\n").repeat(40 * 700));
        if (sourceStore == Store.MARIADB) {
            assertThat(loaded.queryForObject("SELECT CAST(tod AS CHAR) FROM t_types WHERE id = 5", String.class))
                    .isEqualTo("838:59:58.999999");
        }
    }

    @ParameterizedTest
    @EnumSource(value = Store.class, names = {"MARIADB", "POSTGRESQL"})
    void secondPass_changesNothing_withAndWithoutTheVersionGuard(Store sourceStore) throws Exception {
        TestDatabase source = database(sourceStore, "ld2_src");
        TestDatabase target = database(Store.MARIADB, "ld2_tgt");
        load(source);
        target.execute(sourceStore == Store.POSTGRESQL ? MARIADB_DDL.replace("tiny TINYINT", "tiny SMALLINT")
                : MARIADB_DDL);
        backfill(source, target, true, false, 0);
        watchChanges(target);
        Map<Long, String> before = dump(target);

        assertThat(backfill(source, target, true, false, 0)).isEqualTo(6);
        assertThat(backfill(source, target, true, true, 0)).isEqualTo(6);

        assertThat(touched(target)).isEmpty();
        assertThat(dump(target)).containsExactlyEntriesOf(before);
    }

    /** The negative control of {@link #secondPass_changesNothing_withAndWithoutTheVersionGuard}: a change is seen. */
    @Test
    void aChangedSourceRow_isSeenChangedByTheWatch() throws Exception {
        TestDatabase source = database(Store.MARIADB, "ld2n_src");
        TestDatabase target = database(Store.MARIADB, "ld2n_tgt");
        load(source);
        target.execute(MARIADB_DDL);
        backfill(source, target, true, false, 0);
        watchChanges(target);
        source.execute("UPDATE t_types SET vc = 'changed' WHERE id = 12");

        assertThat(backfill(source, target, true, false, 0)).isEqualTo(6);

        assertThat(touched(target)).containsExactly(12L);
    }

    /**
     * The same target rows — one newer than the source, one older, one identical — meet the same source with and
     * without LOAD DATA: the guard must decide alike, and leave the same rows untouched.
     */
    @Test
    void versionGuard_decidesAsTheBatchedUpsert_newerKept_olderReplaced_identicalLeftAlone() throws Exception {
        TestDatabase source = database(Store.MARIADB, "ldg_src");
        TestDatabase loaded = database(Store.MARIADB, "ldg_load");
        TestDatabase batched = database(Store.MARIADB, "ldg_batch");
        load(source);
        for (TestDatabase target : List.of(loaded, batched)) {
            target.execute(MARIADB_DDL);
            backfill(source, target, false, false, 0);
            target.execute(
                    "UPDATE t_types SET vc = 'newer', gmt_modified = gmt_modified + INTERVAL 1 HOUR WHERE id = 5",
                    "UPDATE t_types SET vc = 'older', gmt_modified = gmt_modified - INTERVAL 1 HOUR WHERE id = 6",
                    "UPDATE t_types SET vc = 'same version' WHERE id = 7");
            watchChanges(target);
        }

        assertThat(backfill(source, loaded, true, true, 0)).isEqualTo(6);
        backfill(source, batched, false, true, 0);

        assertThat(dump(loaded)).containsExactlyEntriesOf(dump(batched));
        assertThat(loaded.queryForObject("SELECT vc FROM t_types WHERE id = 5", String.class)).isEqualTo("newer");
        assertThat(loaded.queryForObject("SELECT vc FROM t_types WHERE id = 6", String.class)).isEqualTo("v6");
        assertThat(loaded.queryForObject("SELECT vc FROM t_types WHERE id = 7", String.class)).isEqualTo("v7");
        assertThat(touched(loaded)).containsExactly(6L, 7L);
    }

    /**
     * The load straight into an empty key span meets a row another transaction inserted after the span was probed
     * (uncommitted then, as a mirror apply's): it waits for that transaction, skips the duplicate with a warning, is
     * rolled back, and the chunk goes through the staging table, whose guarded merge keeps the newer row.
     */
    @Test
    void aRowInsertedAfterTheProbe_sendsTheChunkThroughTheGuardedMerge() throws Exception {
        TestDatabase source = database(Store.MARIADB, "ldr2_src");
        TestDatabase target = database(Store.MARIADB, "ldr2_tgt");
        load(source);
        target.execute(MARIADB_DDL);
        try (java.sql.Connection other = target.dataSource().getConnection()) {
            other.setAutoCommit(false);
            try (java.sql.Statement statement = other.createStatement()) {
                statement.executeUpdate("INSERT INTO t_types (id, vc, gmt_modified) VALUES (3, 'mirrored',"
                        + " '2030-01-01 00:00:00')");
            }
            Thread commit = new Thread(() -> {
                try {
                    Thread.sleep(1_000);
                    other.commit();
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            commit.start();
            assertThat(backfill(source, target, true, true, 0)).isEqualTo(6);
            commit.join();
        }

        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_types", Long.class)).isEqualTo(40);
        assertThat(target.queryForObject("SELECT vc FROM t_types WHERE id = 3", String.class)).isEqualTo("mirrored");
        assertThat(target.queryForObject("SELECT vc FROM t_types WHERE id = 4", String.class)).isEqualTo(" ");
    }

    /**
     * Two bad values: one the table refuses in the merge (a CHECK constraint), one the load only warns about (a
     * negative number for an unsigned column, which {@code LOAD DATA LOCAL} would store as 0). Each fails its row
     * only; their chunks go the batched way, which records them; the other chunks still load.
     */
    @Test
    void aBadValue_failsItsRowOnly_theChunkGoesTheBatchedWay_theOtherChunksStillLoad() throws Exception {
        TestDatabase source = database(Store.MARIADB, "ldb_src");
        TestDatabase target = database(Store.MARIADB, "ldb_tgt");
        load(source);
        source.execute("UPDATE t_types SET vc = 'BAD' WHERE id = 9", "UPDATE t_types SET i = -5 WHERE id = 30");
        target.execute(MARIADB_DDL, "ALTER TABLE t_types ADD CONSTRAINT no_bad CHECK (vc <> 'BAD')",
                "ALTER TABLE t_types MODIFY i INT UNSIGNED");

        long loadChunks = backfill(source, target, true, false, 2);

        assertThat(loadChunks).as("every chunk but those holding ids 9 and 30").isEqualTo(4);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_types", Long.class)).isEqualTo(38);
        JdbcTemplate jdbc = new JdbcTemplate(target.dataSource());
        assertThat(jdbc.queryForList("SELECT id FROM t_types WHERE id IN (9, 30)", Long.class)).isEmpty();
        assertThat(jdbc.queryForList("SELECT row_key FROM dualwrite_backfill_failure ORDER BY row_key", String.class)).hasSize(2).anySatisfy(key -> assertThat(key).contains("9"))
                .anySatisfy(key -> assertThat(key).contains("30"));
    }

    /** From H2 too (its time-zoned timestamps arrive mapped for the DATETIME columns): LOAD DATA, value for value. */
    @Test
    void fromH2_loadDataWritesWhatTheBatchedUpsertWrites() throws Exception {
        TestDatabase source = database(Store.H2, "ldh_src");
        TestDatabase loaded = database(Store.MARIADB, "ldh_load");
        TestDatabase batched = database(Store.MARIADB, "ldh_batch");
        load(source);
        loaded.execute(MARIADB_DDL);
        batched.execute(MARIADB_DDL);

        assertThat(backfill(source, loaded, true, false, 0)).isEqualTo(6);
        backfill(source, batched, false, false, 0);

        assertThat(dump(loaded)).hasSize(40).containsExactlyEntriesOf(dump(batched));
    }

    /**
     * A {@code Float} for a {@code DOUBLE} column: Connector/J's binary protocol widens it exactly, its text protocol
     * sends its shortest text; no one text is exact, so the table goes the batched way, and nothing differs.
     */
    @Test
    void aValueWithoutExactText_sendsTheTableTheBatchedWay() throws Exception {
        TestDatabase source = database(Store.MARIADB, "ldu_src");
        TestDatabase loaded = database(Store.MARIADB, "ldu_load");
        TestDatabase batched = database(Store.MARIADB, "ldu_batch");
        load(source);
        io.dualwrite.mapping.RowTransformer floats = row -> {
            Map<String, Object> values = new LinkedHashMap<>(row.asMap());
            values.put("f8", 0.1f);
            return io.dualwrite.jdbc.Row.of(values);
        };
        long[] loadChunks = new long[2];
        int i = 0;
        for (TestDatabase target : List.of(loaded, batched)) {
            target.execute(MARIADB_DDL);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_types").transformer(floats)
                    .build()), source.dataSource(), target.dataSource(), false);
            if (target.queryForObject("SELECT COUNT(*) FROM information_schema.tables WHERE table_name ="
                    + " 'dualwrite_checkpoint' AND table_schema = DATABASE()", Long.class) > 0) {
                target.execute("DELETE FROM dualwrite_checkpoint");
            }
            try (BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true).chunkSize(7)
                    .chunkSizeBounds(7, 7).rangesPerTable(1).mariadbLoadData(target == loaded).build(), tables,
                    source.dataSource(), target.dataSource(), new EventPublisher())) {
                runner.start("t_types");
                assertThat(runner.awaitCompletion("t_types", Duration.ofSeconds(60))).isTrue();
                assertThat(runner.progress("t_types").failedRows()).isZero();
                loadChunks[i++] = runner.copiedChunksForTesting();
            }
        }

        assertThat(loadChunks).containsExactly(0, 0);
        assertThat(dump(loaded)).hasSize(40).containsExactlyEntriesOf(dump(batched));
    }

    /** A client without {@code allowLocalInfile} is refused by the server: every chunk goes batched, none is lost. */
    @Test
    void aRefusedLocalInfile_writesEveryChunkBatched() throws Exception {
        TestDatabase source = database(Store.MARIADB, "ldr_src");
        TestDatabase target = database(Store.MARIADB, "ldr_tgt");
        load(source);
        target.execute(MARIADB_DDL);
        HikariConfig config = new HikariConfig();
        String url = target.jdbcUrl();
        config.setJdbcUrl(url + (url.contains("?") ? "&" : "?") + "allowLocalInfile=false");
        config.setUsername(target.username());
        config.setPassword(target.password());
        config.setMaximumPoolSize(4);
        HikariDataSource refusing = new HikariDataSource(config);
        pools.add(refusing);

        assertThat(backfill(source, target, refusing, true, false, 0)).isZero();

        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_types", Long.class)).isEqualTo(40);
    }
}
