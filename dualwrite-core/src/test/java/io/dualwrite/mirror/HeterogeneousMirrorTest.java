package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.LegacyOrders;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * An old order table mirrored into a new schema: renamed columns, a text user id that becomes a
 * number, a status code that becomes text, a decimal amount that becomes cents, a text column that
 * becomes JSON, a name split in two, a new NOT NULL column filled by a constant, microseconds cut to
 * milliseconds, and text order numbers that become generated numeric ids. The test's own SQL reads the
 * target to check every converted value, and a row whose value does not convert is parked alone.
 */
class HeterogeneousMirrorTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private TestDatabase source;
    private TestDatabase target;
    private final List<DualWriteEvent> events = new CopyOnWriteArrayList<>();

    @AfterEach
    void closeStores() {
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void mirror_heterogeneousSchema_writesConvertedValuesUnderMappedIds(Store sourceStore, Store targetStore)
            throws Exception {
        MappedTables tables = createStores(sourceStore, targetStore);
        JdbcTemplate app = new JdbcTemplate(source.dataSource());
        app.batchUpdate(LegacyOrders.insertSql(), List.of(
                LegacyOrders.order("ORD-1", "42", 1, new BigDecimal("12.50"), "{\"color\": \"red\", \"size\": [1, 2]}",
                        "Ada King Lovelace", Timestamp.valueOf("2024-07-01 12:00:00.123999")),
                LegacyOrders.order("ORD-2", "7", 0, null, null, "Plato", Timestamp.valueOf("2024-07-01 12:00:01")),
                LegacyOrders.order("ORD-3", "8", 2, new BigDecimal("0.05"), "[]", null,
                        Timestamp.valueOf("2024-07-01 12:00:02")),
                LegacyOrders.order("ORD-4", "abc", 1, null, null, null, Timestamp.valueOf("2024-07-01 12:00:03"))));

        try (Mirror mirror = started(tables, MirrorMode.ASYNC)) {
            mirror.recorder().recordAll("t_order_legacy", List.of("ORD-1", "ORD-2", "ORD-3", "ORD-4"));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

            assertThat(LegacyOrders.targetOrders(target)).containsExactly(
                            List.of("[\"ORD-2\"]", "7", "NEW", "null", "Plato", "null", "EUR", "2024-07-01T12:00:01"),
                            List.of("[\"ORD-3\"]", "8", "SHIPPED", "5", "null", "null", "EUR", "2024-07-01T12:00:02"),
                            List.of("[\"ORD-1\"]", "42", "PAID", "1250", "Ada", "King Lovelace", "EUR",
                                    "2024-07-01T12:00:00.123"));
            assertThat(target.queryForObject(LegacyOrders.attrsIsObjectSql(targetStore), Boolean.class, 42)).isTrue();
            assertThat(JSON.readTree(target.queryForObject(LegacyOrders.attrsTextSql(targetStore), String.class, 42)))
                    .isEqualTo(JSON.readTree("{\"color\": \"red\", \"size\": [1, 2]}"));
            assertThat(target.queryForObject("SELECT COUNT(*) FROM orders WHERE attrs IS NULL", Long.class)).isEqualTo(1L);
            assertThat(mirror.parked()).isEqualTo(1);
            assertThat(parkedKeys()).containsExactly(RowKey.of("ORD-4"));

            MappedTable table = tables.get("t_order_legacy");
            Row sourceRow = read(source, table.source(), RowKey.of("ORD-1"));
            Row targetRow = read(target, table.target(), table.toTargetKey(RowKey.of("ORD-1")));
            assertThat(comparable(table.toSource(targetRow))).as("the target row mapped back, as RAMP would")
                    .isEqualTo(comparable(sourceRow));

            long id = targetId("ORD-1");
            app.update("UPDATE t_order_legacy SET status = 2, amount = 15.00, gmt_modified = ? WHERE order_no = 'ORD-1'",
                    Timestamp.valueOf("2024-07-02 08:00:00"));
            app.update("DELETE FROM t_order_legacy WHERE order_no = 'ORD-2'");
            mirror.recorder().recordAll("t_order_legacy", List.of("ORD-1", "ORD-2"));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

            assertThat(target.queryForList("SELECT id, state, amount_cents FROM orders ORDER BY buyer_id"))
                    .map(row -> row.values().stream().map(OrderTable::normalise).map(String::valueOf).toList())
                    .containsExactly(List.of(String.valueOf(targetId("ORD-3")), "SHIPPED", "5"),
                            List.of(String.valueOf(id), "SHIPPED", "1500"));
            assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class))
                    .as("ids of ORD-1..3; ORD-4, which never converted, took none").isEqualTo(3L);
        }
    }

    @ParameterizedTest
    @EnumSource(value = MirrorMode.class, names = {"ASYNC", "OUTBOX"})
    void mirror_valuesThatDoNotConvert_parkExactlyTheirRows(MirrorMode mode) throws Exception {
        MappedTables tables = createStores(Store.H2, Store.H2);
        Timestamp now = new Timestamp(System.currentTimeMillis());
        new JdbcTemplate(source.dataSource()).batchUpdate(LegacyOrders.insertSql(), List.of(
                LegacyOrders.order("OK-1", "1", 1, null, "{}", null, now),
                LegacyOrders.order("BAD-NUMBER", "12x", 1, null, null, null, now),
                LegacyOrders.order("OK-2", "2", 0, null, null, null, now),
                LegacyOrders.order("BAD-CODE", "3", 9, null, null, null, now),
                LegacyOrders.order("BAD-JSON", "4", 1, null, "{\"unterminated\": ", null, now),
                LegacyOrders.order("OK-3", "5", 2, null, "[1]", null, now)));

        try (Mirror mirror = started(tables, mode)) {
            mirror.recorder().recordAll("t_order_legacy", List.of("OK-1", "BAD-NUMBER", "OK-2", "BAD-CODE", "BAD-JSON",
                    "OK-3"));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(20))).isTrue();

            assertThat(target.queryForList("SELECT buyer_id FROM orders ORDER BY buyer_id"))
                    .extracting(row -> ((Number) row.get("buyer_id")).longValue()).containsExactly(1L, 2L, 5L);
            assertThat(mirror.parked()).isEqualTo(3);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class))
                    .as("rows that do not convert take no id").isEqualTo(3L);
            if (mode == MirrorMode.OUTBOX) {
                String prefix = "IllegalArgumentException: dualwrite.tables.t_order_legacy.columns.";
                assertThat(source.queryForList("SELECT row_key, parked, last_error FROM dualwrite_outbox ORDER BY row_key"))
                        .extracting(row -> row.get("row_key") + " " + row.get("last_error"))
                        .satisfiesExactly(
                                error -> assertThat(error).isEqualTo("[\"BAD-CODE\"] " + prefix + "status.converter: table"
                                        + " 't_order_legacy', key BAD-CODE, column 'status': value 9 does not convert to"
                                        + " the target: unknown code 9; known codes are [0, 1, 2]"),
                                error -> assertThat(error).startsWith("[\"BAD-JSON\"] " + prefix + "attributes.converter:"
                                        + " table 't_order_legacy', key BAD-JSON, column 'attributes': value"
                                        + " '{\"unterminated\": ' does not convert to the target: invalid JSON: "),
                                error -> assertThat(error).isEqualTo("[\"BAD-NUMBER\"] " + prefix + "user_id.converter:"
                                        + " table 't_order_legacy', key BAD-NUMBER, column 'user_id': value '12x' does not"
                                        + " convert to the target: '12x' is not a number of type Long"));
            } else {
                assertThat(parkedKeys()).containsExactlyInAnyOrder(RowKey.of("BAD-NUMBER"), RowKey.of("BAD-CODE"),
                        RowKey.of("BAD-JSON"));
                assertThat(events).filteredOn(e -> e instanceof DualWriteEvent.KeyParked)
                        .map(e -> ((DualWriteEvent.KeyParked) e).reason())
                        .anySatisfy(reason -> assertThat(reason).isEqualTo("IllegalArgumentException:"
                                + " dualwrite.tables.t_order_legacy.columns.user_id.converter: table 't_order_legacy',"
                                + " key BAD-NUMBER, column 'user_id': value '12x' does not convert to the target: '12x'"
                                + " is not a number of type Long"));
            }
        }
    }

    private static Row read(TestDatabase db, TableOps ops, RowKey key) throws SQLException {
        try (Connection connection = db.dataSource().getConnection()) {
            return ops.readByKeys(connection, List.of(key), false).get(key);
        }
    }

    /** The row with driver differences normalised, JSON as a tree, and times at the target's milliseconds. */
    private static Map<String, Object> comparable(Row row) {
        Map<String, Object> values = new TreeMap<>();
        row.asMap().forEach((column, value) -> values.put(column, column.equals("attributes") && value != null
                ? JSON.readTree((String) value) : OrderTable.normalise(value)));
        return values;
    }

    private long targetId(String orderNo) {
        return target.queryForObject("SELECT target_key FROM dualwrite_id_map WHERE source_key = ?", Long.class,
                "[\"" + orderNo + "\"]");
    }

    private MappedTables createStores(Store sourceStore, Store targetStore) throws Exception {
        source = TestDatabase.create(sourceStore, "hetero_src");
        target = TestDatabase.create(targetStore, "hetero_tgt");
        LegacyOrders.create(source, target);
        return MappedTables.resolve(List.of(LegacyOrders.mapping()), source.dataSource(), target.dataSource(), true, true);
    }

    private Mirror started(MappedTables tables, MirrorMode mode) throws Exception {
        MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(2).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(10)).outboxPollInterval(Duration.ofMillis(50)).createOutboxTable(true)
                .build();
        Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                new EventPublisher().subscribe(events::add));
        mirror.start();
        return mirror;
    }

    private List<RowKey> parkedKeys() {
        return events.stream().filter(e -> e instanceof DualWriteEvent.KeyParked)
                .map(e -> ((DualWriteEvent.KeyParked) e).key()).toList();
    }
}
