package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.RowTransformer;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The backfill's COPY path into PostgreSQL ({@link BackfillConfig#postgresCopy()}) writes exactly what the batched
 * upsert writes: every value of a wide table, copied from MariaDB and from H2 into one PostgreSQL schema with COPY
 * and into another without it, reads back the same in PostgreSQL's own text form; the version guard and the
 * change test leave the same rows alone (xmin unchanged on a second pass); a bad value fails its row only; a value
 * the path has no exact text for sends the table the batched way.
 */
class PostgresCopyBackfillTest {

    private static final String[] COLUMNS = {"id", "d0", "d1", "d2", "d3", "d4", "d5", "d6", "tz6", "tz3", "dday",
        "tod", "amount", "big", "f8", "f4", "flag", "tiny", "small", "i", "ub", "txt", "vc", "bin", "uid", "doc",
        "doc2", "gmt_modified"};

    private static final String POSTGRES_DDL = "CREATE TABLE t_types (id bigint NOT NULL PRIMARY KEY,"
            + " d0 timestamp(0), d1 timestamp(1), d2 timestamp(2), d3 timestamp(3), d4 timestamp(4), d5 timestamp(5),"
            + " d6 timestamp(6), tz6 timestamptz(6), tz3 timestamptz(3), dday date, tod time(6), amount numeric(12,4),"
            + " big numeric(38,10), f8 double precision, f4 real, flag boolean, tiny smallint, small smallint,"
            + " i integer, ub numeric(20), txt text, vc varchar(50), bin bytea, uid uuid, doc jsonb, doc2 json,"
            + " gmt_modified timestamp(3) NOT NULL)";

    private final List<TestDatabase> databases = new ArrayList<>();

    @AfterEach
    void close() {
        databases.forEach(TestDatabase::close);
    }

    private TestDatabase database(Store store, String prefix) {
        TestDatabase db = TestDatabase.create(store, prefix);
        databases.add(db);
        return db;
    }

    private static String sourceDdl(Store store) {
        if (store == Store.MARIADB) {
            return "CREATE TABLE t_types (id BIGINT NOT NULL PRIMARY KEY, d0 DATETIME(0), d1 DATETIME(1),"
                    + " d2 DATETIME(2), d3 DATETIME(3), d4 DATETIME(4), d5 DATETIME(5), d6 DATETIME(6), tz6 DATETIME(6),"
                    + " tz3 TIMESTAMP(3) NULL, dday DATE, tod TIME(6), amount DECIMAL(12,4), big DECIMAL(38,10),"
                    + " f8 DOUBLE, f4 FLOAT, flag BOOLEAN, tiny TINYINT, small SMALLINT, i INT, ub BIGINT UNSIGNED,"
                    + " txt MEDIUMTEXT, vc VARCHAR(50), bin VARBINARY(64), uid CHAR(36), doc JSON, doc2 JSON,"
                    + " gmt_modified DATETIME(3) NOT NULL) CHARACTER SET utf8mb4";
        }
        return "CREATE TABLE t_types (id BIGINT NOT NULL PRIMARY KEY, d0 TIMESTAMP(0), d1 TIMESTAMP(1),"
                + " d2 TIMESTAMP(2), d3 TIMESTAMP(3), d4 TIMESTAMP(4), d5 TIMESTAMP(5), d6 TIMESTAMP(6),"
                + " tz6 TIMESTAMP(6) WITH TIME ZONE, tz3 TIMESTAMP(3) WITH TIME ZONE, dday DATE, tod TIME(6),"
                + " amount DECIMAL(12,4), big DECIMAL(38,10), f8 DOUBLE PRECISION, f4 REAL, flag BOOLEAN, tiny TINYINT,"
                + " small SMALLINT, i INT, ub DECIMAL(20), txt VARCHAR(1000000), vc VARCHAR(50), bin VARBINARY(64),"
                + " uid UUID, doc VARCHAR(1000), doc2 VARCHAR(1000), gmt_modified TIMESTAMP(3) NOT NULL)";
    }

    /** Rows whose values sit on every edge the COPY text has: escapes, NULL against empty, precision, eras. */
    private static List<Object[]> rows(Store store) {
        List<Object[]> rows = new ArrayList<>();
        LocalDateTime base = LocalDateTime.of(2024, 1, 2, 3, 4, 5, 7_000_000);
        // 1: ordinary values; .007 must stay .007 (MariaDB's getString once gave .7000).
        rows.add(row(store, 1, base, "back\\slash\ttab\nnewline\rcr é😀 \\N end", "", new BigDecimal("-12.3400"),
                new BigDecimal("1234567890123456789012345678.0123456789"), 0.1d, 0.1f, true,
                new BigInteger("18446744073709551615"), new byte[] {0, 0x5c, 9, 10, 13, (byte) 0xff, 'N'},
                "{\"a\": \"x\\ty\", \"b\": [1, 2.50]}", "{ \"k\" :  1 , \"k\": 2}"));
        // 2: NULL wherever NULL may go.
        Object[] nulls = new Object[COLUMNS.length];
        nulls[0] = 2L;
        nulls[COLUMNS.length - 1] = base;
        rows.add(nulls);
        // 3: text that looks like COPY's own markers, whole seconds, MariaDB's first day.
        rows.add(row(store, 3, LocalDateTime.of(1000, 1, 1, 0, 0, 0), "\\N", "\\.", new BigDecimal("0.0001"),
                new BigDecimal("-0.0000000001"), -1.5e-10d, -3.25f, false, BigInteger.ZERO, new byte[0], "[]",
                "\"\\\\\""));
        // 4: the empty string and a space, the last microsecond of a second and of the calendar.
        rows.add(row(store, 4, LocalDateTime.of(9999, 12, 31, 23, 59, 58, 999_999_000), "", " ",
                new BigDecimal("99999999.9999"), BigDecimal.ONE.movePointLeft(10), 1e300d, Float.MAX_VALUE, true,
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
        Object tz6 = store == Store.MARIADB ? time : time.atOffset(ZoneOffset.ofHoursMinutes(5, 30));
        Object tz3 = store == Store.MARIADB ? (time.getYear() < 1971 || time.getYear() > 2037 ? null
                : time.withNano(time.getNano() / 1_000_000 * 1_000_000)) : time.atOffset(ZoneOffset.ofHours(-7));
        LocalTime tod = time.toLocalTime();
        return new Object[] {id, time, time, time, time, time, time, time, tz6, tz3, time.toLocalDate(), tod, amount,
            big, f8, f4, flag, (byte) (id % 100), (short) (id * 100), (int) id * 1000, ub, txt, vc, bin,
            UUID.nameUUIDFromBytes(("u" + id).getBytes()).toString(), doc, doc2, time.plusSeconds(1)};
    }

    private void load(TestDatabase source) {
        source.execute(sourceDdl(source.store()));
        String insert = "INSERT INTO t_types (" + String.join(", ", COLUMNS) + ") VALUES ("
                + String.join(", ", java.util.Collections.nCopies(COLUMNS.length, "?")) + ")";
        List<Object[]> rows = rows(source.store());
        if (source.store() == Store.H2) {
            rows.forEach(r -> r[24] = r[24] == null ? null : UUID.fromString((String) r[24]));
        }
        new JdbcTemplate(source.dataSource()).batchUpdate(insert, rows);
    }

    private static MappedTables tables(TestDatabase source, TestDatabase target) throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_types").build()), source.dataSource(),
                target.dataSource(), false);
    }

    private static BackfillRunner runner(TestDatabase source, TestDatabase target, MappedTables tables, boolean copy,
            boolean guard) {
        return BackfillRunner.create(BackfillConfig.builder().createTables(true).chunkSize(7).chunkSizeBounds(7, 7).rangesPerTable(1)
                .postgresCopy(copy).versionGuard(guard).build(), tables, source.dataSource(), target.dataSource(),
                new EventPublisher());
    }

    /** Runs a new job to its end. @return the chunks written through COPY */
    private static long backfill(TestDatabase source, TestDatabase target, MappedTables tables, boolean copy,
            boolean guard, long failedRows) throws Exception {
        if (target.queryForObject("SELECT COUNT(*) FROM information_schema.tables WHERE table_name ="
                + " 'dualwrite_checkpoint' AND table_schema = current_schema()", Long.class) > 0) {
            target.execute("DELETE FROM dualwrite_checkpoint", "DELETE FROM dualwrite_backfill_failure");
        }
        try (BackfillRunner runner = runner(source, target, tables, copy, guard)) {
            runner.start("t_types");
            assertThat(runner.awaitCompletion("t_types", Duration.ofSeconds(60))).isTrue();
            assertThat(runner.progress("t_types").failedRows()).as("failed rows: %s",
                    target.queryForList("SELECT * FROM dualwrite_backfill_failure")).isEqualTo(failedRows);
            return runner.copiedChunksForTesting();
        }
    }

    /** Every row in PostgreSQL's own text form, by id. */
    private static Map<Long, String> dump(TestDatabase target) {
        Map<Long, String> rows = new LinkedHashMap<>();
        for (Map<String, Object> row : target.queryForList("SELECT id, CAST(t AS text) AS t FROM t_types t ORDER BY id")) {
            rows.put(((Number) row.get("id")).longValue(), (String) row.get("t"));
        }
        return rows;
    }

    private static Map<Long, Long> xmins(TestDatabase target) {
        Map<Long, Long> rows = new LinkedHashMap<>();
        for (Map<String, Object> row : target.queryForList("SELECT id, CAST(CAST(xmin AS text) AS bigint) AS x"
                + " FROM t_types ORDER BY id")) {
            rows.put(((Number) row.get("id")).longValue(), ((Number) row.get("x")).longValue());
        }
        return rows;
    }

    @ParameterizedTest
    @EnumSource(value = Store.class, names = {"MARIADB", "H2"})
    void copy_writesWhatTheBatchedUpsertWrites_valueForValue(Store sourceStore) throws Exception {
        TestDatabase source = database(sourceStore, "cp_src");
        TestDatabase copied = database(Store.POSTGRESQL, "cp_copy");
        TestDatabase batched = database(Store.POSTGRESQL, "cp_batch");
        load(source);
        copied.execute(POSTGRES_DDL);
        batched.execute(POSTGRES_DDL);

        long copyChunks = backfill(source, copied, tables(source, copied), true, false, 0);
        long batchChunks = backfill(source, batched, tables(source, batched), false, false, 0);

        assertThat(copyChunks).as("chunks through COPY").isEqualTo(6);
        assertThat(batchChunks).isZero();
        Map<Long, String> expected = dump(batched);
        assertThat(expected).hasSize(40);
        assertThat(dump(copied)).containsExactlyEntriesOf(expected);
        // And the values themselves, not only their agreement.
        Map<String, Object> first = copied.queryForList("SELECT d3::text AS d3, d6::text AS d6, d0::text AS d0,"
                + " txt, vc, amount::text AS amount, encode(bin, 'hex') AS bin, doc2::text AS doc2 FROM t_types"
                + " WHERE id = 1").get(0);
        assertThat(first.get("d3")).isEqualTo("2024-01-02 03:04:05.007");
        assertThat(first.get("d6")).isEqualTo("2024-01-02 03:04:05.007");
        assertThat(first.get("d0")).isEqualTo("2024-01-02 03:04:05");
        assertThat(first.get("txt")).isEqualTo("back\\slash\ttab\nnewline\rcr é😀 \\N end");
        assertThat(first.get("vc")).isEqualTo("");
        assertThat(first.get("amount")).isEqualTo("-12.3400");
        assertThat(first.get("bin")).isEqualTo("005c090a0dff4e");
        assertThat(first.get("doc2")).isEqualTo("{ \"k\" :  1 , \"k\": 2}");
        assertThat(copied.queryForObject("SELECT COUNT(*) FROM t_types WHERE vc IS NULL", Long.class)).isEqualTo(1);
        assertThat(copied.queryForObject("SELECT txt FROM t_types WHERE id = 3", String.class)).isEqualTo("\\N");
        assertThat(copied.queryForObject("SELECT d6::text FROM t_types WHERE id = 4", String.class))
                .isEqualTo("9999-12-31 23:59:58.999999");
        if (sourceStore == Store.MARIADB) {
            // From H2 both paths write 0999-12-27: H2 hands the library a java.sql.Date, whose calendar is Julian then.
            assertThat(copied.queryForObject("SELECT dday::text FROM t_types WHERE id = 3", String.class))
                    .isEqualTo("1000-01-01");
        }
        assertThat(copied.queryForObject("SELECT txt FROM t_types WHERE id = 40", String.class))
                .isEqualTo(("\\\t40\r\n").repeat(40 * 700));
    }

    @ParameterizedTest
    @EnumSource(value = Store.class, names = {"MARIADB", "H2"})
    void secondPass_rewritesNothing_withAndWithoutTheVersionGuard(Store sourceStore) throws Exception {
        TestDatabase source = database(sourceStore, "cp2_src");
        TestDatabase target = database(Store.POSTGRESQL, "cp2_tgt");
        load(source);
        target.execute(POSTGRES_DDL);
        MappedTables tables = tables(source, target);
        backfill(source, target, tables, true, false, 0);
        Map<Long, Long> before = xmins(target);

        assertThat(backfill(source, target, tables, true, false, 0)).isEqualTo(6);
        assertThat(backfill(source, target, tables, true, true, 0)).isEqualTo(6);

        assertThat(xmins(target)).containsExactlyEntriesOf(before);
    }

    /**
     * The same target rows — one newer than the source, one older, one identical — meet the same source with and
     * without COPY: the guard and the change test must decide alike, and leave the same rows untouched.
     */
    @Test
    void versionGuard_decidesAsTheBatchedUpsert_newerKept_olderReplaced_identicalLeftAlone() throws Exception {
        TestDatabase source = database(Store.MARIADB, "cpg_src");
        TestDatabase copied = database(Store.POSTGRESQL, "cpg_copy");
        TestDatabase batched = database(Store.POSTGRESQL, "cpg_batch");
        load(source);
        for (TestDatabase target : List.of(copied, batched)) {
            target.execute(POSTGRES_DDL);
            backfill(source, target, tables(source, target), false, false, 0);
            target.execute("UPDATE t_types SET vc = 'newer', gmt_modified = gmt_modified + interval '1 hour' WHERE id = 5",
                    "UPDATE t_types SET vc = 'older', gmt_modified = gmt_modified - interval '1 hour' WHERE id = 6",
                    "UPDATE t_types SET vc = 'same version' WHERE id = 7");
        }
        Map<Long, Long> before = xmins(copied);

        backfill(source, copied, tables(source, copied), true, true, 0);
        backfill(source, batched, tables(source, batched), false, true, 0);

        assertThat(dump(copied)).containsExactlyEntriesOf(dump(batched));
        assertThat(copied.queryForObject("SELECT vc FROM t_types WHERE id = 5", String.class)).isEqualTo("newer");
        assertThat(copied.queryForObject("SELECT vc FROM t_types WHERE id = 6", String.class)).isEqualTo("v6");
        assertThat(copied.queryForObject("SELECT vc FROM t_types WHERE id = 7", String.class)).isEqualTo("v7");
        Map<Long, Long> after = xmins(copied);
        for (long id = 1; id <= 40; id++) {
            if (id == 6 || id == 7) {
                assertThat(after.get(id)).as("row %s rewritten", id).isNotEqualTo(before.get(id));
            } else {
                assertThat(after.get(id)).as("row %s left alone", id).isEqualTo(before.get(id));
            }
        }
    }

    /**
     * A target holding one key of each of three chunks (mirrored rows: one newer, one older, one changed at the same
     * version): the other rows of those chunks are copied straight in, the three take the batched guarded upsert, and
     * the result is the batched path's, row for row.
     */
    @Test
    void aFewRowsThereAlready_areUpsertedBatched_theRestCopiedStraightIn_asTheBatchedPathWould() throws Exception {
        TestDatabase source = database(Store.MARIADB, "cps_src");
        TestDatabase copied = database(Store.POSTGRESQL, "cps_copy");
        TestDatabase batched = database(Store.POSTGRESQL, "cps_batch");
        load(source);
        for (TestDatabase target : List.of(copied, batched)) {
            target.execute(POSTGRES_DDL);
            backfill(source, target, tables(source, target), false, false, 0);
            target.execute("DELETE FROM t_types WHERE id NOT IN (5, 12, 20)",
                    "UPDATE t_types SET vc = 'newer', gmt_modified = gmt_modified + interval '1 hour' WHERE id = 5",
                    "UPDATE t_types SET vc = 'older', gmt_modified = gmt_modified - interval '1 hour' WHERE id = 12",
                    "UPDATE t_types SET vc = 'same version' WHERE id = 20");
        }
        Map<Long, Long> before = xmins(copied);

        assertThat(backfill(source, copied, tables(source, copied), true, true, 0)).isEqualTo(6);
        backfill(source, batched, tables(source, batched), false, true, 0);

        assertThat(dump(copied)).hasSize(40).containsExactlyEntriesOf(dump(batched));
        assertThat(copied.queryForObject("SELECT vc FROM t_types WHERE id = 5", String.class)).isEqualTo("newer");
        assertThat(xmins(copied).get(5L)).isEqualTo(before.get(5L));
        assertThat(copied.queryForObject("SELECT vc FROM t_types WHERE id = 12", String.class)).isEqualTo("v12");
        assertThat(copied.queryForObject("SELECT vc FROM t_types WHERE id = 20", String.class)).isEqualTo("v20");
    }

    /**
     * The COPY straight into an empty key span meets a row another transaction inserted after the span was probed
     * (uncommitted then, as a mirror apply's): it waits for that transaction, fails on the duplicate key, and the
     * chunk goes through the staging table, whose guarded merge keeps the newer row.
     */
    @Test
    void aRowInsertedAfterTheProbe_sendsTheChunkThroughTheGuardedMerge() throws Exception {
        TestDatabase source = database(Store.MARIADB, "cpr_src");
        TestDatabase target = database(Store.POSTGRESQL, "cpr_tgt");
        load(source);
        target.execute(POSTGRES_DDL);
        MappedTables tables = tables(source, target);
        try (java.sql.Connection other = target.dataSource().getConnection()) {
            other.setAutoCommit(false);
            try (java.sql.Statement statement = other.createStatement()) {
                statement.executeUpdate("INSERT INTO t_types (id, vc, gmt_modified) VALUES (3, 'mirrored',"
                        + " TIMESTAMP '2030-01-01 00:00:00')");
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
            assertThat(backfill(source, target, tables, true, true, 0)).isEqualTo(6);
            commit.join();
        }

        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_types", Long.class)).isEqualTo(40);
        assertThat(target.queryForObject("SELECT vc FROM t_types WHERE id = 3", String.class)).isEqualTo("mirrored");
        assertThat(target.queryForObject("SELECT vc FROM t_types WHERE id = 4", String.class)).isEqualTo(" ");
    }

    @Test
    void aBadValue_failsItsRowOnly_theChunkGoesTheBatchedWay_theOtherChunksStillCopy() throws Exception {
        TestDatabase source = database(Store.MARIADB, "cpb_src");
        TestDatabase target = database(Store.POSTGRESQL, "cpb_tgt");
        load(source);
        source.execute("UPDATE t_types SET vc = 'BAD' WHERE id = 9");
        target.execute(POSTGRES_DDL, "ALTER TABLE t_types ADD CONSTRAINT no_bad CHECK (vc <> 'BAD')");

        long copyChunks = backfill(source, target, tables(source, target), true, false, 1);

        assertThat(copyChunks).as("every chunk but the one holding id 9").isEqualTo(5);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_types", Long.class)).isEqualTo(39);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_types WHERE id = 9", Long.class)).isZero();
        assertThat(target.queryForObject("SELECT row_key FROM dualwrite_backfill_failure", String.class))
                .contains("9");
        assertThat(target.queryForObject("SELECT error FROM dualwrite_backfill_failure", String.class))
                .startsWith("SQLSTATE 23514");
    }

    /**
     * A double for a numeric column: the batched upsert binds it as float8, which the server casts to numeric
     * through 15 significant digits; COPY's text would keep all of them.
     */
    @Test
    void aValueWithoutExactCopyText_sendsTheTableTheBatchedWay() throws Exception {
        TestDatabase source = database(Store.H2, "cpu_src");
        TestDatabase copied = database(Store.POSTGRESQL, "cpu_copy");
        TestDatabase batched = database(Store.POSTGRESQL, "cpu_batch");
        load(source);
        RowTransformer doubles = row -> {
            Map<String, Object> values = new LinkedHashMap<>(row.asMap());
            values.put("big", 12345678.123456789d);
            return Row.of(values);
        };
        long[] copyChunks = new long[2];
        int i = 0;
        for (TestDatabase target : List.of(copied, batched)) {
            target.execute(POSTGRES_DDL);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_types").transformer(doubles)
                    .build()), source.dataSource(), target.dataSource(), false);
            copyChunks[i++] = backfill(source, target, tables, target == copied, false, 0);
        }

        assertThat(copyChunks).containsExactly(0, 0);
        assertThat(dump(copied)).hasSize(40).containsExactlyEntriesOf(dump(batched));
        assertThat(copied.queryForObject("SELECT DISTINCT big::text FROM t_types", String.class))
                .isNotEqualTo("12345678.1234567890");
    }

    @Test
    void h2OffsetTimes_keepTheirInstant() throws Exception {
        TestDatabase source = database(Store.H2, "cpt_src");
        TestDatabase target = database(Store.POSTGRESQL, "cpt_tgt");
        load(source);
        target.execute(POSTGRES_DDL);

        backfill(source, target, tables(source, target), true, false, 0);

        OffsetDateTime tz6 = target.queryForObject("SELECT tz6 FROM t_types WHERE id = 1", OffsetDateTime.class);
        assertThat(tz6.toInstant()).isEqualTo(LocalDateTime.of(2024, 1, 2, 3, 4, 5, 7_000_000)
                .atOffset(ZoneOffset.ofHoursMinutes(5, 30)).toInstant());
        assertThat(target.queryForObject("SELECT tod::text FROM t_types WHERE id = 1", String.class))
                .isEqualTo("03:04:05.007");
        assertThat(target.queryForObject("SELECT dday FROM t_types WHERE id = 4", LocalDate.class))
                .isEqualTo(LocalDate.of(9999, 12, 31));
    }
}
