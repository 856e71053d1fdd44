package io.dualwrite.testing;

import io.dualwrite.mapping.TableMapping;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A film table written for MariaDB and rewritten for PostgreSQL by hand, as a team migrating a real schema
 * would: every column pair is one the library must carry without code, in both directions. MariaDB
 * {@code ENUM} into a PostgreSQL enum type and into {@code text}, {@code SET} into {@code text[]} and into an
 * enum array, {@code YEAR} into {@code integer}, {@code TINYINT(1)} into {@code integer}, {@code BOOLEAN}
 * into {@code boolean}, {@code DATETIME} into {@code date} and into {@code timestamptz}, {@code BIGINT
 * UNSIGNED} into {@code numeric}, {@code BIT(5)} into {@code bit(5)}, {@code JSON} into {@code jsonb},
 * {@code BLOB} into {@code bytea}, {@code CHAR(36)} into {@code uuid}, text into {@code inet} and
 * {@code TIME} into {@code interval}.
 *
 * <p>{@link #VALUES} are the rows, as the test's own SQL inserts them on either side; {@link #mariadbText}
 * and {@link #postgresText} read a row back as one text per column, each in the store's own words, so that
 * a test states what each store holds without going through the library's reads.
 */
public final class FilmTable {

    /** The columns, in table order (the key first, the version last). */
    public static final List<String> COLUMNS = List.of("id", "rating", "rating_text", "features", "ratings",
            "release_year", "active", "available", "released_on", "rented_at", "views", "flags", "doc", "poster",
            "ext_id", "ip", "run_time", "gmt_modified");

    /** MariaDB's DDL. */
    public static final String MARIADB_DDL = "CREATE TABLE t_film (id BIGINT NOT NULL PRIMARY KEY,"
            + " rating ENUM('G','PG','PG-13','R'), rating_text ENUM('G','PG','PG-13','R'),"
            + " features SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes'),"
            + " ratings SET('G','PG','PG-13','R'), release_year YEAR, active TINYINT(1), available BOOLEAN,"
            + " released_on DATETIME, rented_at DATETIME(3), views BIGINT UNSIGNED, flags BIT(5), doc JSON,"
            + " poster BLOB, ext_id CHAR(36), ip VARCHAR(45), run_time TIME(6), gmt_modified DATETIME(3) NOT NULL)";

    /** PostgreSQL's DDL: the enum type, then the table. */
    public static final String[] POSTGRES_DDL = {
        "CREATE TYPE mpaa_rating AS ENUM ('G', 'PG', 'PG-13', 'R')",
        "CREATE TABLE t_film (id BIGINT NOT NULL PRIMARY KEY, rating mpaa_rating, rating_text text,"
                + " features text[], ratings mpaa_rating[], release_year integer, active integer, available boolean,"
                + " released_on date, rented_at timestamptz, views numeric(20), flags bit(5), doc jsonb,"
                + " poster bytea, ext_id uuid, ip inet, run_time interval, gmt_modified timestamp(3) NOT NULL)"};

    /** Three rows: everything set, everything NULL, and the edges (empty set, a span past a day, negative). */
    public static final List<Object[]> VALUES = List.of(
            new Object[] {1L, "PG-13", "G", "Trailers,Deleted Scenes", "PG,R", 2006, 1, true,
                "2006-05-25 00:00:00", "2024-07-01 12:34:56.789", "18446744073709551615", "10101",
                "{\"a\":[1,2],  \"b\": 1,\"c\":{\"d\":null}}", new byte[] {0, (byte) 0xff, 16},
                "123e4567-e89b-12d3-a456-426614174000", "10.0.0.1", "01:54:00", "2024-07-01 12:00:00.123"},
            new Object[] {2L, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
                null, null, "2024-07-01 12:00:01"},
            new Object[] {3L, "R", "PG", "", "", 1901, 0, false, "1999-12-31 00:00:00", "2000-01-01 00:00:00",
                "0", "00000", "[]", new byte[0], "00000000-0000-0000-0000-000000000000", "2001:db8::1",
                "26:03:04.5", "2024-07-01 12:00:02"});

    private FilmTable() {
    }

    /** @return the mapping: nothing declared, so every conversion is implied by the column types */
    public static TableMapping mapping() {
        return TableMapping.builder("t_film").build();
    }

    /**
     * Inserts rows on MariaDB with its own literals.
     *
     * @param db a MariaDB database holding {@link #MARIADB_DDL}
     * @param rows rows of {@link #VALUES}
     */
    public static void insertMariadb(TestDatabase db, List<Object[]> rows) {
        for (Object[] row : rows) {
            db.execute("INSERT INTO t_film VALUES (" + row[0] + ", " + text(row[1]) + ", " + text(row[2]) + ", "
                    + text(row[3]) + ", " + text(row[4]) + ", " + row[5] + ", " + row[6] + ", " + row[7] + ", "
                    + text(row[8]) + ", " + text(row[9]) + ", " + row[10] + ", " + (row[11] == null ? "NULL"
                    : "b'" + row[11] + "'") + ", " + text(row[12]) + ", " + bytes(row[13], "x'%s'") + ", "
                    + text(row[14]) + ", " + text(row[15]) + ", " + text(row[16]) + ", " + text(row[17]) + ")");
        }
    }

    /**
     * Inserts rows on PostgreSQL with its own literals, as an application writing the target during RAMP
     * would.
     *
     * @param db a PostgreSQL database holding {@link #POSTGRES_DDL}
     * @param rows rows of {@link #VALUES}
     */
    public static void insertPostgres(TestDatabase db, List<Object[]> rows) {
        for (Object[] row : rows) {
            db.execute("INSERT INTO t_film VALUES (" + row[0] + ", " + text(row[1]) + ", " + text(row[2]) + ", "
                    + array(row[3]) + ", " + array(row[4]) + "::mpaa_rating[], " + row[5] + ", " + row[6] + ", "
                    + row[7] + ", " + text(row[8]) + ", " + text(row[9]) + ", " + row[10] + ", "
                    + (row[11] == null ? "NULL" : "B'" + row[11] + "'") + ", " + text(row[12]) + ", "
                    + bytes(row[13], "'\\x%s'") + ", " + text(row[14]) + ", " + text(row[15]) + ", "
                    + text(row[16]) + ", " + text(row[17]) + ")");
        }
    }

    /**
     * The row as MariaDB holds it, one text per column, in MariaDB's words.
     *
     * @param db the MariaDB database
     * @param id the row
     * @return the column texts, NULL as {@code null}
     */
    public static List<String> mariadbText(TestDatabase db, long id) {
        return texts(db.queryForList("SELECT id, rating, rating_text, features, ratings,"
                + " CAST(release_year AS CHAR) AS release_year, CAST(active AS CHAR) AS active,"
                + " CAST(available AS CHAR) AS available,"
                + " DATE_FORMAT(released_on, '%Y-%m-%d %H:%i:%s') AS released_on,"
                + " DATE_FORMAT(rented_at, '%Y-%m-%d %H:%i:%s.%f') AS rented_at, views, BIN(flags) AS flags,"
                + " JSON_COMPACT(doc) AS doc, HEX(poster) AS poster, ext_id, ip, CAST(run_time AS CHAR) AS run_time,"
                + " DATE_FORMAT(gmt_modified, '%Y-%m-%d %H:%i:%s.%f') AS gmt_modified"
                + " FROM t_film WHERE id = ?", id));
    }

    /**
     * The row as PostgreSQL holds it, one text per column, in PostgreSQL's words ({@code rented_at} as the
     * wall-clock time of its instant in the JVM's zone, which the implied conversion writes it in).
     *
     * @param db the PostgreSQL database
     * @param id the row
     * @return the column texts, NULL as {@code null}
     */
    public static List<String> postgresText(TestDatabase db, long id) {
        return texts(db.queryForList("SELECT id, rating::text AS rating, rating_text,"
                + " array_to_string(features, ',') AS features, array_to_string(ratings, ',') AS ratings, release_year,"
                + " active, available::text AS available, released_on::text AS released_on,"
                + " to_char(rented_at AT TIME ZONE '" + ZoneId.systemDefault().getId() + "',"
                + " 'YYYY-MM-DD HH24:MI:SS.US') AS rented_at, views::text AS views, flags::text AS flags,"
                + " doc::text AS doc, encode(poster, 'hex') AS poster, ext_id::text AS ext_id, host(ip) AS ip,"
                + " run_time::text AS run_time, to_char(gmt_modified, 'YYYY-MM-DD HH24:MI:SS.US') AS gmt_modified"
                + " FROM t_film WHERE id = ?", id));
    }

    /**
     * What {@link #mariadbText} reads for a row of {@link #VALUES} that MariaDB holds.
     *
     * @param row the row
     * @return the texts
     */
    public static List<String> expectedMariadbText(Object[] row) {
        List<String> texts = new ArrayList<>(Arrays.asList(strings(row)));
        texts.set(7, row[7] == null ? null : (Boolean) row[7] ? "1" : "0");
        texts.set(9, row[9] == null ? null : micros(row[9]));
        texts.set(11, row[11] == null ? null : Long.toBinaryString(Long.parseLong((String) row[11], 2)));
        texts.set(12, row[12] == null ? null : ((String) row[12]).replace(" ", ""));
        texts.set(13, row[13] == null ? null : hex((byte[]) row[13]).toUpperCase(java.util.Locale.ROOT));
        texts.set(16, row[16] == null ? null : time((String) row[16]));
        texts.set(17, micros(row[17]));
        return texts;
    }

    /**
     * What {@link #postgresText} reads for a row of {@link #VALUES} that PostgreSQL holds.
     *
     * @param row the row
     * @return the texts
     */
    public static List<String> expectedPostgresText(Object[] row) {
        List<String> texts = new ArrayList<>(Arrays.asList(strings(row)));
        texts.set(8, row[8] == null ? null : ((String) row[8]).substring(0, 10));
        texts.set(9, row[9] == null ? null : micros(row[9]));
        texts.set(12, row[12] == null ? null : postgresJson((String) row[12]));
        texts.set(13, row[13] == null ? null : hex((byte[]) row[13]));
        texts.set(17, micros(row[17]));
        return texts;
    }

    /**
     * The epoch second of a row's {@code rented_at}, as the implied conversion writes it: its wall-clock time
     * in the JVM's zone.
     *
     * @param row the row
     * @return the epoch second
     */
    public static long rentedAtEpochSecond(Object[] row) {
        return Timestamp.valueOf((String) row[9]).toLocalDateTime().atZone(ZoneId.systemDefault()).toEpochSecond();
    }

    /**
     * A row of {@link #VALUES} with some values changed, by column name.
     *
     * @param row the row
     * @param changes column to new value
     * @return a copy
     */
    public static Object[] with(Object[] row, Map<String, Object> changes) {
        Object[] copy = row.clone();
        changes.forEach((column, value) -> copy[COLUMNS.indexOf(column)] = value);
        return copy;
    }

    /** @return a map of changes for {@link #with} */
    public static Map<String, Object> changes(Object... columnsAndValues) {
        Map<String, Object> changes = new LinkedHashMap<>();
        for (int i = 0; i < columnsAndValues.length; i += 2) {
            changes.put((String) columnsAndValues[i], columnsAndValues[i + 1]);
        }
        return changes;
    }

    private static String[] strings(Object[] row) {
        String[] texts = new String[row.length];
        for (int i = 0; i < row.length; i++) {
            texts[i] = row[i] == null ? null : String.valueOf(row[i]);
        }
        return texts;
    }

    private static List<String> texts(List<Map<String, Object>> rows) {
        if (rows.size() != 1) {
            throw new AssertionError("expected one row, found " + rows.size());
        }
        List<String> texts = new ArrayList<>();
        for (Object value : rows.get(0).values()) {
            texts.add(value == null ? null : value instanceof byte[] b ? new String(b,
                    java.nio.charset.StandardCharsets.UTF_8) : String.valueOf(value));
        }
        return texts;
    }

    private static String micros(Object timestamp) {
        LocalDateTime time = Timestamp.valueOf((String) timestamp).toLocalDateTime();
        return String.format("%s %02d:%02d:%02d.%06d", time.toLocalDate(), time.getHour(), time.getMinute(),
                time.getSecond(), time.getNano() / 1000);
    }

    private static String time(String span) {
        String[] parts = span.split("\\.");
        return parts[0] + "." + String.format("%-6s", parts.length > 1 ? parts[1] : "").replace(' ', '0');
    }

    private static String postgresJson(String json) {
        // jsonb keeps no white space of its own and prints ", " and ": "; these keys are already in its order.
        return json.replaceAll("\\s", "").replace(",", ", ").replace(":", ": ");
    }

    private static String text(Object value) {
        return value == null ? "NULL" : "'" + value.toString().replace("'", "''") + "'";
    }

    private static String array(Object value) {
        return value == null ? "NULL" : "'{" + Arrays.stream(((String) value).split(",", -1))
                .filter(s -> !s.isEmpty()).map(s -> "\"" + s + "\"").reduce((a, b) -> a + "," + b).orElse("") + "}'";
    }

    private static String bytes(Object value, String format) {
        return value == null ? "NULL" : String.format(format, hex((byte[]) value));
    }

    private static String hex(byte[] bytes) {
        return java.util.HexFormat.of().formatHex(bytes);
    }
}
