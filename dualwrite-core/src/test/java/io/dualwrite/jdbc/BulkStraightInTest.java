package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongPredicate;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The bulk paths (PostgreSQL's COPY, MariaDB's LOAD DATA) write a chunk whose table holds a few of its keys: the
 * rows whose keys are missing go straight into the table, the rows already there take the guarded statement (the
 * staging table's merge when they are many, the batched upsert when they are few), and the table ends exactly as
 * the batched upsert leaves it. Which way the rows went is read from the server's own counters, in the writing
 * session, so a test that passed by the staging table alone would fail.
 */
class BulkStraightInTest {

    private static final int ROWS = 2_000;
    private static final LocalDateTime BASE = LocalDateTime.of(2024, 5, 6, 7, 8, 9, 123_000_000);

    private final List<TestDatabase> databases = new ArrayList<>();

    @AfterEach
    void close() {
        databases.forEach(TestDatabase::close);
    }

    static Stream<Store> bulkStores() {
        return Stream.of(Store.POSTGRESQL, Store.MARIADB);
    }

    /**
     * 350 of 2,000 keys there already (under one in five): 100 newer on the target, 100 older, 100 at the same
     * version but changed, 50 identical. The 1,650 others are written straight in, the 350 through the staging
     * table, of which only the older and the changed are rewritten.
     */
    @ParameterizedTest
    @MethodSource("bulkStores")
    void manyRowsThere_takeTheStagedMerge_theOthersGoStraightIn_asTheBatchedUpsertLeavesThem(Store store)
            throws Exception {
        LongPredicate there = id -> id % 20 == 0 || id % 20 == 5 || id % 20 == 10 || id % 40 == 15;
        TestDatabase bulk = prefilled(store, "bulk_many", there);
        TestDatabase batched = prefilled(store, "batch_many", there);

        Counters counters = writeBulk(bulk);
        writeBatched(batched);

        assertThat(dump(bulk)).hasSize(ROWS).containsExactlyEntriesOf(dump(batched));
        assertThat(bulk.queryForObject("SELECT COUNT(*) FROM t_bulk WHERE vc = 'newer'", Long.class)).isEqualTo(100);
        assertThat(bulk.queryForObject("SELECT COUNT(*) FROM t_bulk WHERE vc IN ('older', 'changed')", Long.class))
                .isZero();
        if (store == Store.POSTGRESQL) {
            // Not 2,000: the rows of missing keys did not take the staging table.
            assertThat(counters.staged()).as("rows through the staging table").isEqualTo(350);
            assertThat(counters.updated()).as("rows rewritten: the older and the changed").isEqualTo(200);
        } else {
            assertThat(counters.loads()).as("LOAD DATA statements: straight in, then into the staging table")
                    .isEqualTo(2);
            assertThat(counters.merges()).as("staging merges").isEqualTo(1);
        }
    }

    /** Three keys there, each older than the chunk's row: they take the batched upsert; no staging table is filled. */
    @ParameterizedTest
    @MethodSource("bulkStores")
    void aFewRowsThere_takeTheBatchedUpsert_theOthersGoStraightIn(Store store) throws Exception {
        LongPredicate there = id -> id == 5 || id == 705 || id == 1405;
        TestDatabase bulk = prefilled(store, "bulk_few", there);
        TestDatabase batched = prefilled(store, "batch_few", there);

        Counters counters = writeBulk(bulk);
        writeBatched(batched);

        assertThat(dump(bulk)).hasSize(ROWS).containsExactlyEntriesOf(dump(batched));
        if (store == Store.POSTGRESQL) {
            assertThat(counters.staged()).as("rows through the staging table").isZero();
            assertThat(counters.updated()).as("rows rewritten: the three older").isEqualTo(3);
        } else {
            assertThat(counters.loads()).as("LOAD DATA statements: straight in only").isEqualTo(1);
            assertThat(counters.merges()).as("staging merges").isZero();
        }
    }

    /**
     * The target with the {@code there} keys already written, each as its kind says: id % 20 == 0 newer than the
     * chunk's row, 5 older, 10 at the same version but changed, anything else identical.
     */
    private TestDatabase prefilled(Store store, String prefix, LongPredicate there) {
        TestDatabase db = TestDatabase.create(store, prefix);
        databases.add(db);
        db.execute("CREATE TABLE t_bulk (id BIGINT NOT NULL PRIMARY KEY, vc VARCHAR(50), amount DECIMAL(12,2),"
                + " gmt_modified " + (store == Store.MARIADB ? "DATETIME(3)" : "TIMESTAMP(3)") + " NOT NULL)");
        List<Object[]> prefill = new ArrayList<>();
        for (long id = 1; id <= ROWS; id++) {
            if (!there.test(id)) {
                continue;
            }
            Object[] row = values(id);
            switch ((int) (id % 20)) {
                case 0 -> {
                    row[1] = "newer";
                    row[3] = Timestamp.valueOf(BASE.plusSeconds(id).plusHours(1));
                }
                case 5 -> {
                    row[1] = "older";
                    row[3] = Timestamp.valueOf(BASE.plusSeconds(id).minusHours(1));
                }
                case 10 -> row[1] = "changed";
                default -> {
                    // identical
                }
            }
            prefill.add(row);
        }
        new org.springframework.jdbc.core.JdbcTemplate(db.dataSource())
                .batchUpdate("INSERT INTO t_bulk (id, vc, amount, gmt_modified) VALUES (?, ?, ?, ?)", prefill);
        return db;
    }

    private static Object[] values(long id) {
        return new Object[] {id, "v" + id, BigDecimal.valueOf(id, 2), Timestamp.valueOf(BASE.plusSeconds(id))};
    }

    private static List<Row> chunk() {
        List<Row> rows = new ArrayList<>(ROWS);
        for (long id = 1; id <= ROWS; id++) {
            Object[] values = values(id);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("id", values[0]);
            row.put("vc", values[1]);
            row.put("amount", values[2]);
            row.put("gmt_modified", values[3]);
            rows.add(Row.of(row));
        }
        return rows;
    }

    private static TableOps ops(Connection connection) throws SQLException {
        return new TableOps(Dialect.of(connection), TableMetadata.read(connection, "t_bulk").orElseThrow(),
                List.of("id", "vc", "amount", "gmt_modified"), List.of("id"), "gmt_modified");
    }

    /** What the writing session's transaction did, read in it before its commit. */
    private record Counters(long staged, long updated, long loads, long merges) {
    }

    private static Counters writeBulk(TestDatabase db) throws SQLException {
        try (Connection connection = db.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            TableOps ops = ops(connection);
            Counters counters;
            if (db.store() == Store.POSTGRESQL) {
                assertThat(ops.copyUpsert(connection, chunk(), true)).isEmpty();
                counters = new Counters(pgCount(connection, "n_tup_ins", "dw_stage_%"),
                        pgCount(connection, "n_tup_upd", "t_bulk"), 0, 0);
            } else {
                long loads = status(connection, "Com_load");
                long merges = status(connection, "Com_insert_select");
                assertThat(ops.loadDataUpsert(connection, chunk(), true)).isEmpty();
                counters = new Counters(0, 0, status(connection, "Com_load") - loads,
                        status(connection, "Com_insert_select") - merges);
            }
            connection.commit();
            return counters;
        }
    }

    private static void writeBatched(TestDatabase db) throws SQLException {
        try (Connection connection = db.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            ops(connection).upsert(connection, chunk());
            connection.commit();
        }
    }

    /** A counter of this transaction's own work on the relations named like {@code relation} (temporary ones too). */
    private static long pgCount(Connection connection, String counter, String relation) throws SQLException {
        try (java.sql.PreparedStatement statement = connection.prepareStatement("SELECT COALESCE(SUM(" + counter
                + "), 0) FROM pg_stat_xact_all_tables WHERE relname LIKE ?")) {
            statement.setString(1, relation);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    private static long status(Connection connection, String name) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW SESSION STATUS LIKE '" + name + "'")) {
            rs.next();
            return rs.getLong(2);
        }
    }

    private static Map<Long, String> dump(TestDatabase db) {
        Map<Long, String> rows = new LinkedHashMap<>();
        for (Map<String, Object> row : db.queryForList("SELECT id, vc, amount, gmt_modified FROM t_bulk ORDER BY id")) {
            rows.put(((Number) row.get("id")).longValue(), row.get("vc") + "|" + row.get("amount") + "|"
                    + row.get("gmt_modified"));
        }
        return rows;
    }
}
