package io.dualwrite.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Converters, splits, constants and key mappings at the table level, on H2: what resolves, the rows
 * and keys it produces in both directions, the start-up problems it reports, and the message of a row
 * that does not convert.
 */
class ConversionMappingTest {

    private static final String LEGACY_DDL = "CREATE TABLE t_legacy (order_no VARCHAR(32) NOT NULL PRIMARY KEY,"
            + " user_id VARCHAR(20) NOT NULL, status INT NOT NULL, amount DECIMAL(12,2), attributes VARCHAR(1000),"
            + " full_name VARCHAR(100), gmt_modified TIMESTAMP(6) NOT NULL)";
    private static final String ORDERS_DDL = "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY,"
            + " buyer_id BIGINT NOT NULL, state VARCHAR(16) NOT NULL, amount_cents BIGINT, attributes JSON,"
            + " first_name VARCHAR(50), last_name VARCHAR(50), currency CHAR(3) NOT NULL,"
            + " gmt_modified TIMESTAMP(3) NOT NULL)";
    private static final Map<Integer, String> STATES = Map.of(0, "NEW", 1, "PAID", 2, "SHIPPED");

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "ConvSource");
        target = TestDatabase.create(Store.H2, "ConvTarget");
    }

    @AfterEach
    void closeStores() {
        source.close();
        target.close();
    }

    // --- rows and keys -----------------------------------------------------------------------------

    @Test
    void toTargetAndToSource_declarativeMapping_convertsEveryColumnAndComesBackUnchanged() throws SQLException {
        source.execute(LEGACY_DDL, "INSERT INTO t_legacy VALUES ('1001', '42', 1, 12.50, '{\"color\": \"red\"}',"
                + " 'Ada King Lovelace', TIMESTAMP '2024-07-01 12:00:00.123000')");
        target.execute(ORDERS_DDL);
        MappedTable mapped = resolve(true, legacyMapping(KeyMapping.identity())
                .convert("order_no", Converters.numberToString(Long.class).inverse()).build()).get("t_legacy");
        Row row = readSource(mapped, RowKey.of("1001"));
        Row targetRow = mapped.toTarget(row);

        assertThat(targetRow.asMap()).containsEntry("id", 1001L).containsEntry("buyer_id", 42L)
                .containsEntry("state", "PAID").containsEntry("amount_cents", 1250L)
                .containsEntry("attributes", "{\"color\": \"red\"}").containsEntry("first_name", "Ada")
                .containsEntry("last_name", "King Lovelace").containsEntry("currency", "EUR")
                .containsEntry("gmt_modified", java.time.LocalDateTime.parse("2024-07-01T12:00:00.123"));
        writeTarget(mapped, targetRow);
        assertThat(target.queryForObject("SELECT attributes IS JSON OBJECT FROM orders", Boolean.class)).isTrue();
        Row stored = readTarget(mapped, RowKey.of(1001L));
        assertThat(mapped.toSource(stored)).isEqualTo(row.with("attributes", "{\"color\":\"red\"}"));
        assertThat(mapped.toTargetKey(RowKey.of("1001"))).isEqualTo(RowKey.of(1001L));
        assertThat(mapped.toSourceKey(RowKey.of(1001L))).isEqualTo(RowKey.of("1001"));
    }

    @Test
    void offsetKeyMapping_shiftsTheKeyOfRowsAndDeletesBothWays() throws SQLException {
        source.execute("CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL)",
                "INSERT INTO t_user VALUES (7, 'ada', TIMESTAMP '2024-07-01 12:00:00')");
        target.execute("CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL)");
        MappedTable table = resolve(false, TableMapping.builder("t_user").keyMapping(KeyMapping.offset(5_000_000))
                .build()).get("t_user");

        Row targetRow = table.toTarget(readSource(table, RowKey.of(7L)));

        assertThat(targetRow.get("id")).isEqualTo(5_000_007L);
        assertThat(table.toTargetKey(RowKey.of(7L))).isEqualTo(RowKey.of(5_000_007L));
        assertThat(table.toSourceKey(RowKey.of(5_000_007L))).isEqualTo(RowKey.of(7L));
        assertThat(table.toSource(targetRow).get("id")).isEqualTo(7L);
        assertThatThrownBy(() -> table.toTargetKey(RowKey.of(Long.MAX_VALUE)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_user.key-mapping: table 't_user', key " + Long.MAX_VALUE + ": the key"
                        + " does not map to the target: key " + Long.MAX_VALUE + " offset by 5000000 is beyond the range"
                        + " of a BIGINT");
    }

    @Test
    void idMapKeyMapping_givesTextKeysNumbersInRowsAndDeletes() throws SQLException {
        source.execute(LEGACY_DDL, "INSERT INTO t_legacy VALUES ('ORD-1', '42', 1, 12.50, NULL, NULL,"
                + " TIMESTAMP '2024-07-01 12:00:00')");
        target.execute(ORDERS_DDL);
        MappedTable table = MappedTables.resolve(List.of(legacyMapping(KeyMapping.idMap()).build()),
                source.dataSource(), target.dataSource(), false, true).get("t_legacy");

        Row targetRow = table.toTarget(readSource(table, RowKey.of("ORD-1")));
        RowKey deleted = table.toTargetKey(RowKey.of("ORD-9"));

        long id = target.queryForObject("SELECT target_key FROM dualwrite_id_map WHERE namespace = 't_legacy'"
                + " AND source_key = '[\"ORD-1\"]'", Long.class);
        assertThat(targetRow.get("id")).isEqualTo(id);
        assertThat(table.toTargetKey(RowKey.of("ORD-1"))).isEqualTo(RowKey.of(id));
        assertThat(deleted).isNotEqualTo(RowKey.of(id));
        assertThat(table.toSourceKey(RowKey.of(id))).isEqualTo(RowKey.of("ORD-1"));
        assertThat(table.toSource(targetRow).get("order_no")).isEqualTo("ORD-1");
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class)).isEqualTo(2L);
    }

    @Test
    void toTarget_valueThatDoesNotConvert_failsTheRowNamingTableKeyColumnAndValue() throws SQLException {
        source.execute(LEGACY_DDL, "INSERT INTO t_legacy VALUES ('ORD-1', 'abc', 1, 12.50, NULL, NULL,"
                + " TIMESTAMP '2024-07-01 12:00:00')", "INSERT INTO t_legacy VALUES ('ORD-2', '42', 7, NULL, NULL,"
                + " NULL, TIMESTAMP '2024-07-01 12:00:00')", "INSERT INTO t_legacy VALUES ('ORD-3', '42', 1, NULL,"
                + " '{oops', NULL, TIMESTAMP '2024-07-01 12:00:00')");
        target.execute(ORDERS_DDL);
        MappedTable table = MappedTables.resolve(List.of(legacyMapping(KeyMapping.idMap()).build()),
                source.dataSource(), target.dataSource(), false, true).get("t_legacy");

        assertThatThrownBy(() -> table.toTarget(readSource(table, RowKey.of("ORD-1"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_legacy.columns.user_id.converter: table 't_legacy', key ORD-1, column"
                        + " 'user_id': value 'abc' does not convert to the target: 'abc' is not a number of type Long");
        assertThatThrownBy(() -> table.toTarget(readSource(table, RowKey.of("ORD-2"))))
                .hasMessage("dualwrite.tables.t_legacy.columns.status.converter: table 't_legacy', key ORD-2, column"
                        + " 'status': value 7 does not convert to the target: unknown code 7; known codes are [0, 1, 2]");
        assertThatThrownBy(() -> table.toTarget(readSource(table, RowKey.of("ORD-3"))))
                .message().startsWith("dualwrite.tables.t_legacy.columns.attributes.converter: table 't_legacy', key"
                        + " ORD-3, column 'attributes': value '{oops' does not convert to the target: invalid JSON: ");
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class))
                .as("a row that does not convert takes no number").isZero();
    }

    @Test
    void toSource_valueThatDoesNotConvertBack_namesTheTargetKey() throws SQLException {
        source.execute(LEGACY_DDL);
        target.execute(ORDERS_DDL);
        MappedTable table = resolve(false, legacyMapping(KeyMapping.identity()).build()).get("t_legacy");
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", 5L);
        values.put("buyer_id", 42L);
        values.put("state", "LOST");
        values.put("amount_cents", null);
        values.put("attributes", null);
        values.put("first_name", null);
        values.put("last_name", null);
        values.put("currency", "EUR");
        values.put("gmt_modified", Timestamp.valueOf("2024-07-01 12:00:00"));

        assertThatThrownBy(() -> table.toSource(Row.of(values))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_legacy.columns.status.converter: table 't_legacy', target key 5,"
                        + " column 'status': value 'LOST' does not convert back to the source: unknown text 'LOST';"
                        + " known texts are [NEW, PAID, SHIPPED]");
    }

    @Test
    void reversibleTransformer_splitsAndMergesThroughTheTable() throws SQLException {
        source.execute("CREATE TABLE t_person (id BIGINT PRIMARY KEY, full_name VARCHAR(100), gmt_modified TIMESTAMP(3))",
                "INSERT INTO t_person VALUES (1, 'Ada Lovelace', TIMESTAMP '2024-07-01 12:00:00')");
        target.execute("CREATE TABLE t_person (id BIGINT PRIMARY KEY, first_name VARCHAR(50), last_name VARCHAR(50),"
                + " gmt_modified TIMESTAMP(3))");
        MappedTable table = resolve(true, TableMapping.builder("t_person").transformer(new NameSplitter())
                .keyMapping(KeyMapping.offset(100)).build()).get("t_person");
        Row sourceRow = readSource(table, RowKey.of(1L));

        Row targetRow = table.toTarget(sourceRow);

        assertThat(table.reversible()).isTrue();
        assertThat(targetRow.asMap()).containsEntry("id", 101L).containsEntry("first_name", "Ada")
                .containsEntry("last_name", "Lovelace");
        assertThat(table.toSource(targetRow)).isEqualTo(sourceRow);
    }

    @Test
    void toSource_oneWayTransformer_isRefusedNamingTheTable() throws SQLException {
        source.execute("CREATE TABLE t_person (id BIGINT PRIMARY KEY, full_name VARCHAR(100), gmt_modified TIMESTAMP(3))");
        target.execute("CREATE TABLE t_person (id BIGINT PRIMARY KEY, first_name VARCHAR(50), last_name VARCHAR(50),"
                + " gmt_modified TIMESTAMP(3))");
        RowTransformer oneWay = row -> new NameSplitter().toTarget(row);
        MappedTable table = resolve(false, TableMapping.builder("t_person").transformer(oneWay).build()).get("t_person");

        assertThat(table.reversible()).isFalse();
        assertThatThrownBy(() -> table.toSource(Row.of(Map.of("id", 1L, "first_name", "Ada", "last_name", "L",
                "gmt_modified", Timestamp.valueOf("2024-07-01 12:00:00")))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("dualwrite.tables.t_person.transformer: table 't_person' is one-way: ");
    }

    // --- start-up validation -----------------------------------------------------------------------

    @Test
    void resolve_converterSplitOrConstantNamingAMissingColumn_isRefusedNamingTheProperty() throws SQLException {
        source.execute(LEGACY_DDL);
        target.execute(ORDERS_DDL);

        assertThatThrownBy(() -> resolve(false, legacyMapping(KeyMapping.offset(0))
                .convert("amout", Converters.decimalToMinorUnits(2))
                .split("full_name", Converters.splitOnFirst(" "), "first_name", "surname")
                .constant("channel", "web").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).containsExactlyInAnyOrder(
                        "dualwrite.tables.t_legacy.columns.amout.converter: column 'amout' does not exist in source"
                                + " table 't_legacy'",
                        "dualwrite.tables.t_legacy.columns.full_name.split: column 'surname' does not exist in target"
                                + " table 'orders'",
                        "dualwrite.tables.t_legacy.constants.channel: column 'channel' does not exist in target table"
                                + " 'orders'",
                        "dualwrite.tables.t_legacy.key-mapping: KeyMapping.offset(0) adds to whole numbers, but key"
                                + " column 'ORDER_NO' of source table 't_legacy' is CHARACTER VARYING; map such keys with"
                                + " KeyMapping.idMap()"));
    }

    @Test
    void resolve_notNullTargetColumn_isFilledByAConstantAndRefusedWithout() throws SQLException {
        source.execute(LEGACY_DDL);
        target.execute(ORDERS_DDL);
        TableMapping.Builder withoutCurrency = TableMapping.builder("t_legacy").targetTable("orders")
                .keyMapping(KeyMapping.idMap()).rename("order_no", "id").rename("user_id", "buyer_id")
                .convert("user_id", Converters.numberToString(Long.class).inverse()).rename("status", "state")
                .convert("status", Converters.codeToText(STATES)).rename("amount", "amount_cents")
                .convert("amount", Converters.decimalToMinorUnits(2))
                .split("full_name", Converters.splitOnFirst(" "), "first_name", "last_name");

        assertThatThrownBy(() -> MappedTables.resolve(List.of(withoutCurrency.build()), source.dataSource(),
                target.dataSource(), false, true))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).singleElement(STRING)
                        .isEqualTo("dualwrite.tables.t_legacy.columns: column 'CURRENCY' of target table 'orders' is"
                                + " NOT NULL without a default and no source column maps to it; map one to it with"
                                + " dualwrite.tables.t_legacy.columns.<source-column>, fill it with"
                                + " dualwrite.tables.t_legacy.constants.currency, or give it a default"));
        MappedTable table = MappedTables.resolve(List.of(withoutCurrency.constant("currency", "EUR").build()),
                source.dataSource(), target.dataSource(), false, true).get("t_legacy");
        assertThat(table.targetColumns()).contains("CURRENCY", "FIRST_NAME", "LAST_NAME");
    }

    @Test
    void resolve_constantForAColumnASourceColumnAlsoWrites_isRefused() throws SQLException {
        source.execute("CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL)");
        target.execute("CREATE TABLE t_user (id BIGINT PRIMARY KEY, name VARCHAR(20), gmt_modified TIMESTAMP(3) NOT NULL)");

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_user").constant("name", "x").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).containsExactly(
                        "dualwrite.tables.t_user.columns.name: column 'name' of source table 't_user' goes to column"
                                + " 'name' of target table 't_user', which a constant also writes; rename it or leave it"
                                + " out with dualwrite.tables.t_user.ignore-columns"));
    }

    @Test
    void resolve_idMapWithoutItsTable_isRefusedWithTheDdlUnlessCreationIsAllowed() throws SQLException {
        source.execute(LEGACY_DDL);
        target.execute(ORDERS_DDL);
        TableMapping mapping = legacyMapping(KeyMapping.idMap()).build();

        assertThatThrownBy(() -> resolve(false, mapping))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).singleElement(STRING)
                        .startsWith("dualwrite.tables.t_legacy.key-mapping: KeyMapping.idMap() needs table"
                                + " 'dualwrite_id_map' in the target database. Create it with:\nCREATE TABLE"
                                + " dualwrite_id_map (\n")
                        .endsWith("\nor set dualwrite.schema.create=true to let dualwrite create it."));
        MappedTables.resolve(List.of(mapping), source.dataSource(), target.dataSource(), false, true);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class)).isZero();
    }

    @Test
    void resolve_keyMappingThatDoesNotFitTheKey_isRefusedNamingTheColumn() throws SQLException {
        source.execute("CREATE TABLE t_line (order_id BIGINT, line INT, gmt_modified TIMESTAMP(3),"
                + " PRIMARY KEY (order_id, line))", "CREATE TABLE t_code (code VARCHAR(8) PRIMARY KEY,"
                + " gmt_modified TIMESTAMP(3))");
        target.execute("CREATE TABLE t_line (order_id BIGINT, line INT, gmt_modified TIMESTAMP(3),"
                + " PRIMARY KEY (order_id, line))", "CREATE TABLE t_code (code VARCHAR(8) PRIMARY KEY,"
                + " gmt_modified TIMESTAMP(3))");

        assertThatThrownBy(() -> MappedTables.resolve(List.of(
                TableMapping.builder("t_line").keyMapping(KeyMapping.offset(10)).build(),
                TableMapping.builder("t_code").keyMapping(KeyMapping.idMap()).build()),
                source.dataSource(), target.dataSource(), false, true))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).containsExactly(
                        "dualwrite.tables.t_line.key-mapping: KeyMapping.offset(10) maps a single key column, but the"
                                + " key of source table 't_line' is [order_id, line]",
                        "dualwrite.tables.t_code.key-mapping: KeyMapping.idMap() writes whole numbers, but key column"
                                + " 'CODE' of target table 't_code' is CHARACTER VARYING"));
    }

    @Test
    void build_conflictingConversions_areRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").transformer(new NameSplitter())
                .convert("amount", Converters.decimalToMinorUnits(2)).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_order.transformer: a transformer maps whole rows, so converters, splits"
                        + " and constants cannot be used with it; convert the values in the transformer");
        assertThatThrownBy(() -> TableMapping.builder("t_order").rename("full_name", "name")
                .split("full_name", Converters.splitOnFirst(" "), "first_name", "last_name").build())
                .hasMessage("dualwrite.tables.t_order.columns.full_name.split: column 'full_name' is split, so it cannot"
                        + " also be renamed or converted; the split's converter does both");
        assertThatThrownBy(() -> TableMapping.builder("t_order").ignore("amount")
                .convert("amount", Converters.decimalToMinorUnits(2)).build())
                .hasMessage("dualwrite.tables.t_order.columns.amount.converter: column 'amount' is both converted and"
                        + " ignored");
        assertThatThrownBy(() -> TableMapping.builder("t_order").rename("note", "channel").constant("channel", "web")
                .build())
                .hasMessage("dualwrite.tables.t_order.constants.channel: target column 'channel' is already written by"
                        + " column 'note'");
        assertThatThrownBy(() -> TableMapping.builder("t_order").keyColumns("id").keyMapping(KeyMapping.offset(5))
                .convert("id", Converters.numberToString(Long.class)).build())
                .hasMessage("dualwrite.tables.t_order.columns.id.converter: key column 'id' is converted and its keys"
                        + " are also mapped by dualwrite.tables.t_order.key-mapping; map the key one way");
    }

    @Test
    void builder_badSingleSettings_areRejectedAtTheCall() {
        TableMapping.Builder builder = TableMapping.builder("t_order");

        assertThatThrownBy(() -> builder.constant("currency", null)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.tables.t_order.constants.currency: a constant needs a value");
        assertThatThrownBy(() -> builder.split("full_name", Converters.splitOnFirst(" "), "first_name"))
                .hasMessageStartingWith("dualwrite.tables.t_order.columns.full_name.split: a split needs at least two"
                        + " target columns");
        assertThatThrownBy(() -> KeyMapping.idMap(" ", 10)).hasMessageStartingWith("idMap: the namespace must be");
        assertThatThrownBy(() -> KeyMapping.idMap().toTarget(RowKey.of(1L))).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("KeyMapping.idMap() maps keys once MappedTables.resolve has bound it");
    }

    // --- helpers -----------------------------------------------------------------------------------

    private static TableMapping.Builder legacyMapping(KeyMapping keyMapping) {
        return TableMapping.builder("t_legacy").targetTable("orders")
                .keyMapping(keyMapping)
                .rename("order_no", "id")
                .rename("user_id", "buyer_id").convert("user_id", Converters.numberToString(Long.class).inverse())
                .rename("status", "state").convert("status", Converters.codeToText(STATES))
                .rename("amount", "amount_cents").convert("amount", Converters.decimalToMinorUnits(2))
                .convert("attributes", Converters.json())
                .split("full_name", Converters.splitOnFirst(" "), "first_name", "last_name")
                .convert("gmt_modified", Converters.timestampPrecision(ChronoUnit.MILLIS))
                .constant("currency", "EUR");
    }

    private MappedTables resolve(boolean requireRampReady, TableMapping... mappings) throws SQLException {
        return MappedTables.resolve(List.of(mappings), source.dataSource(), target.dataSource(), requireRampReady);
    }

    private Row readSource(MappedTable table, RowKey key) throws SQLException {
        try (Connection connection = source.dataSource().getConnection()) {
            return table.source().readByKeys(connection, List.of(key), false).get(key);
        }
    }

    private Row readTarget(MappedTable table, RowKey key) throws SQLException {
        try (Connection connection = target.dataSource().getConnection()) {
            return table.target().readByKeys(connection, List.of(key), false).get(key);
        }
    }

    private void writeTarget(MappedTable table, Row row) throws SQLException {
        try (Connection connection = target.dataSource().getConnection()) {
            table.target().upsert(connection, List.of(row));
        }
    }

    /** Splits full_name into first and last name at the first blank, and joins them back. */
    private static final class NameSplitter implements RowTransformer {

        @Override
        public Row toTarget(Row source) {
            String full = (String) source.get("full_name");
            int blank = full == null ? -1 : full.indexOf(' ');
            Map<String, Object> values = new LinkedHashMap<>();
            values.put("id", source.get("id"));
            values.put("first_name", blank < 0 ? full : full.substring(0, blank));
            values.put("last_name", blank < 0 ? null : full.substring(blank + 1));
            values.put("gmt_modified", source.get("gmt_modified"));
            return Row.of(values);
        }

        @Override
        public Row toSource(Row target) {
            Object last = target.get("last_name");
            Map<String, Object> values = new LinkedHashMap<>();
            values.put("id", target.get("id"));
            values.put("full_name", last == null ? target.get("first_name") : target.get("first_name") + " " + last);
            values.put("gmt_modified", target.get("gmt_modified"));
            return Row.of(values);
        }

        @Override
        public boolean reversible() {
            return true;
        }
    }
}
