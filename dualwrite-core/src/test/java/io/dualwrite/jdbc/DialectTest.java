package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.junit.jupiter.api.Assertions.assertTimeout;

import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The SQL each dialect generates, run through {@link TableOps} on every store: the guarded upsert keeps
 * the newer version, keyed reads and keyset scans work for single, composite and string keys, and the
 * locking read gives way instead of waiting.
 */
class DialectTest {

    private static final LocalDateTime T1 = LocalDateTime.of(2024, 7, 1, 12, 0, 0, 123_000_000);
    private static final LocalDateTime T2 = T1.plusMinutes(5);
    private static final LocalDateTime T3 = T1.plusMinutes(10);
    private static final List<String> ORDER_COLUMNS = List.of("id", "user_id", "status", "amount", "note",
            "gmt_modified");

    private TestDatabase db;

    @AfterEach
    void closeDatabase() {
        if (db != null) {
            db.close();
        }
    }

    // --- detection -------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void of_dataSource_detectsTheStoresProduct(Store store) throws SQLException {
        db = TestDatabase.create(store, "Dialect");

        Dialect dialect = Dialect.of(db.dataSource());

        Dialect.Product expected = switch (store) {
            case H2 -> Dialect.Product.H2;
            case MARIADB -> Dialect.Product.MARIADB;
            case POSTGRESQL -> Dialect.Product.POSTGRESQL;
        };
        assertThat(dialect.product()).isEqualTo(expected);
        assertThat(dialect).isSameAs(Dialect.forProduct(expected));
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void isDuplicateKey_tellsAUniqueKeyViolationFromOtherConstraintErrors(Store store) throws SQLException {
        db = TestDatabase.create(store, "Dialect");
        db.execute("CREATE TABLE t_unique (id BIGINT NOT NULL PRIMARY KEY, code VARCHAR(8) NOT NULL UNIQUE)",
                "INSERT INTO t_unique VALUES (1, 'a')");
        Dialect dialect = Dialect.of(db.dataSource());

        SQLException duplicateId = violation("INSERT INTO t_unique VALUES (1, 'b')");
        SQLException duplicateCode = violation("INSERT INTO t_unique VALUES (2, 'a')");
        SQLException missingCode = violation("INSERT INTO t_unique VALUES (3, NULL)");

        assertThat(dialect.isDuplicateKey(duplicateId)).isTrue();
        assertThat(dialect.isDuplicateKey(duplicateCode)).isTrue();
        assertThat(dialect.isDuplicateKey(missingCode)).isFalse();
        assertThat(dialect.isLockConflict(duplicateId)).isFalse();
    }

    private SQLException violation(String sql) {
        return catchThrowableOfType(SQLException.class, () -> inTransaction(c -> execute(c, sql)));
    }

    // --- guarded upsert --------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsertThenReadByKeys_roundTripsEveryValueIncludingNulls(Store store) throws SQLException {
        TableOps ops = orderTable(store);
        Row full = order(1, 7, "NEW", new BigDecimal("12345.67"), "first order", T1);
        Row withNulls = order(2, 8, "PAID", null, null, T2);

        upsert(ops, List.of(full, withNulls));

        Map<RowKey, Row> read = read(ops, List.of(RowKey.of(1L), RowKey.of(2L)), false);
        assertThat(read).containsOnlyKeys(RowKey.of(1L), RowKey.of(2L));
        Row first = read.get(RowKey.of(1L));
        assertThat(first.columns()).containsExactlyElementsOf(ORDER_COLUMNS);
        assertThat(first.get("id")).isEqualTo(1L);
        assertThat(first.get("user_id")).isEqualTo(7L);
        assertThat(first.get("status")).isEqualTo("NEW");
        assertThat(first.get("amount")).isEqualTo(new BigDecimal("12345.67"));
        assertThat(first.get("note")).isEqualTo("first order");
        assertThat(OrderTable.normalise(first.get("gmt_modified"))).isEqualTo(T1.toString());
        Row second = read.get(RowKey.of(2L));
        assertThat(second.get("amount")).isNull();
        assertThat(second.get("note")).isNull();
        assertThat(OrderTable.normalise(second.get("gmt_modified"))).isEqualTo(T2.toString());
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsert_olderVersionInABatch_neverReplacesTheNewerOneWhileTheOtherRowsApply(Store store)
            throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "SHIPPED", "10.00", T2), order(3, 7, "NEW", "30.00", T1)));

        upsert(ops, List.of(
                order(1, 7, "STALE", "99.99", T1),
                order(2, 7, "NEW", "20.00", T1),
                order(3, 7, "PAID", "31.00", T2)));

        assertThat(statusAndVersion(ops)).containsExactly(
                "1 SHIPPED 10.00 " + T2,
                "2 NEW 20.00 " + T1,
                "3 PAID 31.00 " + T2);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsert_equalVersionWithDifferentValues_overwrites(Store store) throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1)));

        upsert(ops, List.of(order(1, 7, "PAID", "10.00", T1)));

        assertThat(statusAndVersion(ops)).containsExactly("1 PAID 10.00 " + T1);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsert_olderVersionOfAMissingKey_inserts(Store store) throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T3)));

        upsert(ops, List.of(order(2, 7, "OLD", "20.00", T1)));

        assertThat(statusAndVersion(ops)).containsExactly("1 NEW 10.00 " + T3, "2 OLD 20.00 " + T1);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsert_withoutVersionColumn_overwritesWhateverIsStored(Store store) throws SQLException {
        db = TestDatabase.create(store, "Dialect");
        db.execute(OrderTable.ddl(store, "t_order"));
        TableOps ops = ops("t_order", ORDER_COLUMNS, List.of("id"), null);
        assertThat(ops.versionColumn()).isNull();
        upsert(ops, List.of(order(1, 7, "SHIPPED", "10.00", T2)));

        upsert(ops, List.of(order(1, 7, "REOPENED", "11.00", T1)));

        assertThat(statusAndVersion(ops)).containsExactly("1 REOPENED 11.00 " + T1);
    }

    @Test
    void upsert_onPostgresql_identicalRowAtEqualVersion_writesNoNewRowVersion() throws SQLException {
        TableOps ops = orderTable(Store.POSTGRESQL);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1)));
        String before = db.queryForObject("SELECT xmin::text FROM t_order WHERE id = 1", String.class);

        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1)));
        String afterIdentical = db.queryForObject("SELECT xmin::text FROM t_order WHERE id = 1", String.class);
        upsert(ops, List.of(order(1, 7, "PAID", "10.00", T1)));
        String afterChange = db.queryForObject("SELECT xmin::text FROM t_order WHERE id = 1", String.class);

        assertThat(afterIdentical).isEqualTo(before);
        assertThat(afterChange).isNotEqualTo(before);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsert_ofTwoThousandRowsThroughTheRecommendedBatchRewriting_appliesEveryRowUnderTheGuard(Store store)
            throws SQLException {
        TableOps ops = orderTable(store);
        List<Row> stored = new ArrayList<>();
        for (int id = 1; id <= 1000; id++) {
            stored.add(id % 2 == 0 ? order(id, id, "NEWER", "1.00", T3) : order(id, id, "OLDER", "1.00", T1));
        }
        upsert(ops, stored);
        List<Row> batch = new ArrayList<>();
        for (int id = 1; id <= 2000; id++) {
            batch.add(order(id, id, "BATCH", "2.00", T2));
        }

        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(ops.dialect().withRecommendedProperties(db.jdbcUrl()));
        config.setUsername(db.username());
        config.setPassword(db.password());
        config.setMaximumPoolSize(1);
        try (HikariDataSource rewriting = new HikariDataSource(config);
                Connection connection = rewriting.getConnection()) {
            ops.upsert(connection, batch);
        }

        assertThat(db.queryForList("SELECT status, COUNT(*) AS n, MIN(id) AS low, MAX(id) AS high FROM t_order"
                + " GROUP BY status ORDER BY status"))
                .extracting(row -> row.get("status") + " " + row.get("n") + " " + row.get("low") + "-"
                        + row.get("high"))
                .containsExactly("BATCH 1500 1-2000", "NEWER 500 2-1000");
        assertThat(db.queryForObject("SELECT COUNT(*) FROM t_order WHERE status = 'NEWER' AND MOD(id, 2) = 0"
                + " AND id <= 1000", Integer.class)).isEqualTo(500);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsert_ofAKeyOnlyTable_insertsOnceAndToleratesRepeats(Store store) throws SQLException {
        db = TestDatabase.create(store, "Dialect");
        db.execute("CREATE TABLE t_tag (order_id BIGINT NOT NULL, tag VARCHAR(16) NOT NULL,"
                + " PRIMARY KEY (order_id, tag))");
        TableOps ops = ops("t_tag", List.of("order_id", "tag"), List.of("order_id", "tag"), null);
        Row red = Row.of(Map.of("order_id", 1L, "tag", "red"));

        upsert(ops, List.of(red, Row.of(Map.of("order_id", 1L, "tag", "blue"))));
        upsert(ops, List.of(red));

        assertThat(db.queryForList("SELECT tag FROM t_tag ORDER BY tag")).extracting(row -> row.get("tag"))
                .containsExactly("blue", "red");
    }

    // --- composite and string keys ---------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void compositeKey_upsertReadAndDelete_workByBothKeyValues(Store store) throws SQLException {
        TableOps ops = itemTable(store, 3);

        Map<RowKey, Row> read = read(ops, List.of(RowKey.of(1L, "s02"), RowKey.of(2L, "s02"), RowKey.of(9L, "s02"),
                RowKey.of(1L, "s99")), false);

        assertThat(read).containsOnlyKeys(RowKey.of(1L, "s02"), RowKey.of(2L, "s02"));
        assertThat(read.get(RowKey.of(2L, "s02")).get("qty")).isEqualTo(202);
        assertThat(ops.keyOf(read.get(RowKey.of(1L, "s02")))).isEqualTo(RowKey.of(1L, "s02"));

        inTransaction(c -> ops.delete(c, List.of(RowKey.of(1L, "s02"), RowKey.of(3L, "s05"))));

        assertThat(read(ops, allItemKeys(3), false)).hasSize(13).doesNotContainKeys(RowKey.of(1L, "s02"),
                RowKey.of(3L, "s05"));
        assertThat(read(ops, List.of(RowKey.of(1L, "s01"), RowKey.of(2L, "s02")), false)).hasSize(2);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void compositeKey_readByKeysBeyondOneStatement_findsEveryRow(Store store) throws SQLException {
        TableOps ops = itemTable(store, 60);
        List<RowKey> keys = new ArrayList<>(allItemKeys(60));
        keys.add(RowKey.of(61L, "s01"));
        assertThat(keys).hasSizeGreaterThan(TableOps.MAX_KEYS_PER_SELECT);

        Map<RowKey, Row> read = read(ops, keys, false);

        assertThat(read.keySet()).containsExactlyInAnyOrderElementsOf(allItemKeys(60));
        assertThat(read.get(RowKey.of(60L, "s05")).get("qty")).isEqualTo(6005);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void compositeKey_scanInChunks_visitsEveryRowOnceInKeyOrder(Store store) throws SQLException {
        TableOps ops = itemTable(store, 20);
        List<RowKey> visited = new ArrayList<>();
        List<Integer> chunkSizes = new ArrayList<>();

        RowKey after = null;
        while (true) {
            RowKey from = after;
            List<Row> chunk = withTransaction(c -> ops.scan(c, from, null, 30, false, null, List.of()));
            if (chunk.isEmpty()) {
                break;
            }
            chunkSizes.add(chunk.size());
            chunk.forEach(row -> visited.add(ops.keyOf(row)));
            after = ops.keyOf(chunk.get(chunk.size() - 1));
        }

        assertThat(visited).containsExactlyElementsOf(allItemKeys(20));
        assertThat(chunkSizes).containsExactly(30, 30, 30, 10);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void compositeKey_scanBetweenBounds_startsAfterTheLowerAndIncludesTheUpper(Store store) throws SQLException {
        TableOps ops = itemTable(store, 3);

        List<Row> between = withTransaction(c -> ops.scan(c, RowKey.of(1L, "s03"), RowKey.of(2L, "s02"), 100, false,
                null, List.of()));
        List<Row> limited = withTransaction(c -> ops.scan(c, RowKey.of(1L, "s03"), RowKey.of(2L, "s02"), 2, false,
                null, List.of()));
        List<Row> filtered = withTransaction(c -> ops.scan(c, null, null, 100, false, "qty > ?", List.of(301)));

        assertThat(between).extracting(ops::keyOf).containsExactly(RowKey.of(1L, "s04"), RowKey.of(1L, "s05"),
                RowKey.of(2L, "s01"), RowKey.of(2L, "s02"));
        assertThat(limited).extracting(ops::keyOf).containsExactly(RowKey.of(1L, "s04"), RowKey.of(1L, "s05"));
        assertThat(filtered).extracting(ops::keyOf).containsExactly(RowKey.of(3L, "s02"), RowKey.of(3L, "s03"),
                RowKey.of(3L, "s04"), RowKey.of(3L, "s05"));
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void compositeKey_scanWithLockOnAQuietTable_returnsTheRows(Store store) throws SQLException {
        TableOps ops = itemTable(store, 2);

        List<Row> rows = withTransaction(c -> ops.scan(c, RowKey.of(1L, "s04"), null, 3, true, null, List.of()));

        assertThat(rows).extracting(ops::keyOf).containsExactly(RowKey.of(1L, "s05"), RowKey.of(2L, "s01"),
                RowKey.of(2L, "s02"));
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void stringKey_upsertReadScanAndDelete_overMoreKeysThanOneStatementBinds(Store store) throws SQLException {
        db = TestDatabase.create(store, "Dialect");
        db.execute("CREATE TABLE t_user (code VARCHAR(16) NOT NULL PRIMARY KEY, name VARCHAR(64),"
                + " gmt_modified " + OrderTable.timestampType(store) + " NOT NULL)");
        TableOps ops = ops("t_user", List.of("code", "name", "gmt_modified"), List.of("code"), "gmt_modified");
        List<Row> users = new ArrayList<>();
        List<RowKey> keys = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            String code = String.format("u%03d", i);
            users.add(Row.of(Map.of("code", code, "name", "user " + i, "gmt_modified", T1)));
            keys.add(RowKey.of(code));
        }
        upsert(ops, users);

        Map<RowKey, Row> read = read(ops, keys, false);
        List<Row> tail = withTransaction(c -> ops.scan(c, RowKey.of("u289"), RowKey.of("u295"), 4, false, null,
                List.of()));
        inTransaction(c -> ops.delete(c, List.of(RowKey.of("u000"), RowKey.of("u299"), RowKey.of("nobody"))));

        assertThat(read).hasSize(300);
        assertThat(read.get(RowKey.of("u257")).get("name")).isEqualTo("user 257");
        assertThat(tail).extracting(ops::keyOf).containsExactly(RowKey.of("u290"), RowKey.of("u291"),
                RowKey.of("u292"), RowKey.of("u293"));
        assertThat(db.queryForObject("SELECT COUNT(*) FROM t_user", Integer.class)).isEqualTo(298);
        assertThat(read(ops, List.of(RowKey.of("u000"), RowKey.of("u001"), RowKey.of("u299")), false))
                .containsOnlyKeys(RowKey.of("u001"));
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void delete_ofAbsentKeys_changesNothing(Store store) throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1)));

        inTransaction(c -> ops.delete(c, List.of(RowKey.of(2L), RowKey.of(3L))));
        inTransaction(c -> ops.delete(c, List.of()));

        assertThat(statusAndVersion(ops)).containsExactly("1 NEW 10.00 " + T1);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void readByKeys_withAKeyOfTheWrongWidth_isRejectedNamingTheTable(Store store) throws SQLException {
        TableOps ops = itemTable(store, 1);

        assertThatThrownBy(() -> read(ops, List.of(RowKey.of(1L)), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("has 1 values")
                .hasMessageContaining("2 key columns")
                .message().containsIgnoringCase("'t_item'");
    }

    // --- locking ---------------------------------------------------------------------------------

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void readByKeys_withLock_whenAnotherTransactionHoldsAnUncommittedUpdate_givesWayAtOnce(Store store)
            throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1), order(2, 7, "NEW", "20.00", T1)));

        try (Connection writer = db.dataSource().getConnection();
                Connection reader = db.dataSource().getConnection()) {
            writer.setAutoCommit(false);
            reader.setAutoCommit(false);
            // A long lock wait: only NOWAIT can make the read return quickly.
            setLockWait(store, reader, Duration.ofSeconds(10));
            try {
                execute(writer, "UPDATE t_order SET status = 'PAID' WHERE id = 1");

                assertTimeout(Duration.ofSeconds(5), () -> assertThatThrownBy(
                        () -> ops.readByKeys(reader, List.of(RowKey.of(1L)), true))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(ops.dialect().isLockConflict((SQLException) e))
                                .as("isLockConflict(%s)", e)
                                .isTrue()));
            } finally {
                reader.rollback();
                writer.rollback();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void readByKeys_withLock_onRowsNobodyHolds_readsThemAndHoldsOffAWriter(Store store)
            throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1)));

        try (Connection reader = db.dataSource().getConnection();
                Connection writer = db.dataSource().getConnection()) {
            reader.setAutoCommit(false);
            writer.setAutoCommit(false);
            setLockWait(store, writer, Duration.ofMillis(300));
            try {
                assertThat(ops.readByKeys(reader, List.of(RowKey.of(1L), RowKey.of(2L)), true))
                        .containsOnlyKeys(RowKey.of(1L));

                assertThatThrownBy(() -> execute(writer, "UPDATE t_order SET status = 'PAID' WHERE id = 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(ops.dialect().isLockConflict((SQLException) e))
                                .as("isLockConflict(%s)", e)
                                .isTrue());
            } finally {
                writer.rollback();
                reader.rollback();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void readByKeys_withoutLock_doesNotWaitForAWriterAndSeesTheCommittedRow(Store store) throws SQLException {
        TableOps ops = orderTable(store);
        upsert(ops, List.of(order(1, 7, "NEW", "10.00", T1)));

        try (Connection writer = db.dataSource().getConnection();
                Connection reader = db.dataSource().getConnection()) {
            writer.setAutoCommit(false);
            setLockWait(store, reader, Duration.ofSeconds(10));
            try {
                execute(writer, "UPDATE t_order SET status = 'PAID' WHERE id = 1");

                Map<RowKey, Row> read = assertTimeout(Duration.ofSeconds(5),
                        () -> ops.readByKeys(reader, List.of(RowKey.of(1L)), false));
                assertThat(read.get(RowKey.of(1L)).get("status")).isEqualTo("NEW");
            } finally {
                writer.rollback();
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void isLockConflict_forAnOrdinaryError_isFalse(Store store) throws SQLException {
        TableOps ops = orderTable(store);
        db.execute("DROP TABLE t_order");

        assertThatThrownBy(() -> read(ops, List.of(RowKey.of(1L)), true))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(ops.dialect().isLockConflict((SQLException) e))
                        .as("isLockConflict(%s)", e)
                        .isFalse());
    }

    // --- identifiers and generated SQL -----------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"t; drop table x", "a b", "", "1abc", "t_order\"", "a..b", "s.t.", "a-b"})
    void quote_rejectsAnythingButPlainIdentifiers_namingTheIdentifier(String identifier) {
        for (Dialect.Product product : Dialect.Product.values()) {
            assertThatThrownBy(() -> Dialect.forProduct(product).quote(identifier))
                    .as("%s quoting '%s'", product, identifier)
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageStartingWith("'" + identifier + "' is not a valid identifier");
        }
    }

    @ParameterizedTest
    @EnumSource(Dialect.Product.class)
    void quote_plainAndSchemaQualifiedNames_quotesEachPart(Dialect.Product product) {
        Dialect dialect = Dialect.forProduct(product);
        String q = product == Dialect.Product.MYSQL || product == Dialect.Product.MARIADB ? "`" : "\"";

        assertThat(dialect.quote("t_order")).isEqualTo(q + "t_order" + q);
        assertThat(dialect.quote("billing.t_order")).isEqualTo(q + "billing" + q + "." + q + "t_order" + q);
        assertThat(dialect.quote("_Tmp$1")).isEqualTo(q + "_Tmp$1" + q);
    }

    @ParameterizedTest
    @EnumSource(Dialect.Product.class)
    void everyGeneratedStatement_startsWithTheMarker(Dialect.Product product) {
        Dialect dialect = Dialect.forProduct(product);
        TableMetadata table = new TableMetadata("t_item", "shop", List.of(
                new ColumnMetadata("order_id", Types.BIGINT, "BIGINT", false, false),
                new ColumnMetadata("sku", Types.VARCHAR, "VARCHAR", false, false),
                new ColumnMetadata("qty", Types.INTEGER, "INT", true, false),
                new ColumnMetadata("gmt_modified", Types.TIMESTAMP, "TIMESTAMP", false, false)),
                List.of("order_id", "sku"));
        List<String> columns = List.of("order_id", "sku", "qty", "gmt_modified");
        List<String> keys = List.of("order_id", "sku");

        List<String> statements = List.of(
                dialect.selectByKeys(table, columns, keys, 3, false),
                dialect.selectByKeys(table, columns, keys, 1, true),
                dialect.selectByUniqueValues(table, keys, List.of(List.of("sku"), List.of("order_id", "qty")),
                        new int[] {2, 1}),
                dialect.guardedUpsert(table, columns, keys, "gmt_modified"),
                dialect.guardedUpsert(table, columns, keys, null),
                dialect.guardedUpsert(table, keys, keys, null),
                dialect.deleteByKey(table, keys),
                dialect.keysetScan(table, columns, keys, false, false, null, 10, false),
                dialect.keysetScan(table, columns, keys, true, true, "qty > ?", 10, true),
                new TableOps(dialect, table, columns, keys, "gmt_modified").upsertSql());

        assertThat(statements).allSatisfy(sql -> assertThat(sql).startsWith(Dialect.MARKER + " "));
        assertThat(statements).allSatisfy(sql -> assertThat(sql).contains(dialect.quote("shop.t_item")));
    }

    @Test
    void keysetScan_withoutAPositiveLimit_isRejected() {
        Dialect dialect = Dialect.forProduct(Dialect.Product.H2);
        TableMetadata table = new TableMetadata("t", null,
                List.of(new ColumnMetadata("id", Types.BIGINT, "BIGINT", false, false)), List.of("id"));

        assertThatThrownBy(() -> dialect.keysetScan(table, List.of("id"), List.of("id"), false, false, null, 0, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("limit must be positive, was 0");
    }

    // --- connection properties -------------------------------------------------------------------

    static Stream<Arguments> recommendedUrls() {
        return Stream.of(
                Arguments.of(Dialect.Product.MARIADB, "jdbc:mariadb://db:3306/shop",
                        "jdbc:mariadb://db:3306/shop?rewriteBatchedStatements=true"),
                Arguments.of(Dialect.Product.MARIADB, "jdbc:mariadb://db:3306/shop?user=app",
                        "jdbc:mariadb://db:3306/shop?user=app&rewriteBatchedStatements=true"),
                Arguments.of(Dialect.Product.MARIADB, "jdbc:mariadb://db:3306/shop?rewriteBatchedStatements=false",
                        "jdbc:mariadb://db:3306/shop?rewriteBatchedStatements=false"),
                Arguments.of(Dialect.Product.MARIADB, "jdbc:mariadb://db/shop?useSsl=true&REWRITEBATCHEDSTATEMENTS=false",
                        "jdbc:mariadb://db/shop?useSsl=true&REWRITEBATCHEDSTATEMENTS=false"),
                Arguments.of(Dialect.Product.MYSQL, "jdbc:mysql://db/shop",
                        "jdbc:mysql://db/shop?rewriteBatchedStatements=true"),
                Arguments.of(Dialect.Product.POSTGRESQL, "jdbc:postgresql://db:5432/shop",
                        "jdbc:postgresql://db:5432/shop?reWriteBatchedInserts=true"),
                Arguments.of(Dialect.Product.POSTGRESQL, "jdbc:postgresql://db:5432/shop?currentSchema=s1",
                        "jdbc:postgresql://db:5432/shop?currentSchema=s1&reWriteBatchedInserts=true"),
                Arguments.of(Dialect.Product.POSTGRESQL, "jdbc:postgresql://db/shop?reWriteBatchedInserts=false",
                        "jdbc:postgresql://db/shop?reWriteBatchedInserts=false"),
                Arguments.of(Dialect.Product.H2, "jdbc:h2:mem:shop;DB_CLOSE_DELAY=-1",
                        "jdbc:h2:mem:shop;DB_CLOSE_DELAY=-1"));
    }

    @ParameterizedTest
    @MethodSource("recommendedUrls")
    void withRecommendedProperties_addsWhatTheUrlDoesNotSet(Dialect.Product product, String url, String expected) {
        assertThat(Dialect.forProduct(product).withRecommendedProperties(url)).isEqualTo(expected);
    }

    // --- helpers ---------------------------------------------------------------------------------

    @FunctionalInterface
    private interface SqlWork<T> {
        T run(Connection connection) throws SQLException;
    }

    @FunctionalInterface
    private interface SqlAction {
        void run(Connection connection) throws SQLException;
    }

    private TableOps orderTable(Store store) throws SQLException {
        db = TestDatabase.create(store, "Dialect");
        db.execute(OrderTable.ddl(store, "t_order"));
        return ops("t_order", ORDER_COLUMNS, List.of("id"), "gmt_modified");
    }

    /** An item table keyed by (order_id, sku) holding orders 1..orders with skus s01..s05; qty = order * 100 + sku. */
    private TableOps itemTable(Store store, int orders) throws SQLException {
        db = TestDatabase.create(store, "Dialect");
        db.execute("CREATE TABLE t_item (order_id BIGINT NOT NULL, sku VARCHAR(32) NOT NULL, qty INT,"
                + " gmt_modified " + OrderTable.timestampType(store) + " NOT NULL, PRIMARY KEY (order_id, sku))");
        TableOps ops = ops("t_item", List.of("order_id", "sku", "qty", "gmt_modified"), List.of("order_id", "sku"),
                "gmt_modified");
        List<Row> rows = new ArrayList<>();
        // Inserted in reverse so that key order cannot come from insertion order.
        for (int order = orders; order >= 1; order--) {
            for (int sku = 5; sku >= 1; sku--) {
                rows.add(Row.of(Map.of("order_id", (long) order, "sku", String.format("s%02d", sku), "qty",
                        order * 100 + sku, "gmt_modified", T1)));
            }
        }
        upsert(ops, rows);
        return ops;
    }

    private static List<RowKey> allItemKeys(int orders) {
        List<RowKey> keys = new ArrayList<>();
        for (long order = 1; order <= orders; order++) {
            for (int sku = 1; sku <= 5; sku++) {
                keys.add(RowKey.of(order, String.format("s%02d", sku)));
            }
        }
        return keys;
    }

    private TableOps ops(String table, List<String> columns, List<String> keys, String version) throws SQLException {
        Dialect dialect = Dialect.of(db.dataSource());
        TableMetadata metadata;
        try (Connection connection = db.dataSource().getConnection()) {
            metadata = TableMetadata.read(connection, table).orElseThrow();
        }
        return new TableOps(dialect, metadata, columns, keys, version);
    }

    private static Row order(long id, long userId, String status, String amount, LocalDateTime modified) {
        return order(id, userId, status, new BigDecimal(amount), null, modified);
    }

    private static Row order(long id, long userId, String status, BigDecimal amount, String note,
            LocalDateTime modified) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", id);
        values.put("user_id", userId);
        values.put("status", status);
        values.put("amount", amount);
        values.put("note", note);
        values.put("gmt_modified", modified);
        return Row.of(values);
    }

    /** Every order as "id status amount version", in id order. */
    private List<String> statusAndVersion(TableOps ops) throws SQLException {
        return withTransaction(c -> ops.scan(c, null, null, 10_000, false, null, List.of())).stream()
                .map(row -> row.get("id") + " " + row.get("status") + " " + row.get("amount") + " "
                        + OrderTable.normalise(row.get("gmt_modified")))
                .toList();
    }

    private void upsert(TableOps ops, Collection<Row> rows) throws SQLException {
        inTransaction(c -> ops.upsert(c, rows));
    }

    private Map<RowKey, Row> read(TableOps ops, Collection<RowKey> keys, boolean lock) throws SQLException {
        return withTransaction(c -> ops.readByKeys(c, keys, lock));
    }

    private void inTransaction(SqlAction action) throws SQLException {
        withTransaction(c -> {
            action.run(c);
            return null;
        });
    }

    private <T> T withTransaction(SqlWork<T> work) throws SQLException {
        try (Connection connection = db.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    /** Sets how long the connection's statements wait for a row lock (MariaDB counts whole seconds, at least 1). */
    private static void setLockWait(Store store, Connection connection, Duration wait) throws SQLException {
        execute(connection, switch (store) {
            case H2 -> "SET LOCK_TIMEOUT " + wait.toMillis();
            case MARIADB -> "SET SESSION innodb_lock_wait_timeout = " + Math.max(1, wait.toSeconds());
            case POSTGRESQL -> "SET lock_timeout = '" + wait.toMillis() + "ms'";
        });
    }
}
