package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.testing.LegacyOrders;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import tools.jackson.databind.json.JsonMapper;

/**
 * The backfill copies history through the same heterogeneous mapping as the mirror (renamed columns,
 * converted types, JSON, a split name, a constant, ids from {@code dualwrite_id_map}); the test's own
 * SQL checks the converted values, and a row whose value does not convert is recorded as failed while
 * the rest of its chunk is copied.
 */
class BackfillMappingTest {

    private static final int ORDERS = 600;

    private TestDatabase source;
    private TestDatabase target;
    private BackfillRunner runner;

    @AfterEach
    void close() {
        if (runner != null) {
            runner.close();
        }
        if (target != null) {
            target.close();
        }
        if (source != null) {
            source.close();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void backfill_heterogeneousSchema_copiesConvertedRowsUnderMappedIdsAndRecordsRowsThatDoNotConvert(
            Store sourceStore, Store targetStore) throws Exception {
        source = TestDatabase.create(sourceStore, "bfmap_src");
        target = TestDatabase.create(targetStore, "bfmap_tgt");
        LegacyOrders.create(source, target);
        List<Object[]> orders = new ArrayList<>();
        Timestamp modified = Timestamp.valueOf("2024-07-01 12:00:00.123999");
        for (int i = 1; i <= ORDERS; i++) {
            orders.add(LegacyOrders.order(String.format("ORD-%05d", i), String.valueOf(1000 + i), i % 3,
                    BigDecimal.valueOf(i, 2), "{\"line\": " + i + "}", "Buyer Number " + i, modified));
        }
        orders.add(LegacyOrders.order("ORD-00100x", "not a number", 1, null, null, null, modified));
        orders.add(LegacyOrders.order("ORD-00200x", "5", 7, null, null, null, modified));
        orders.add(LegacyOrders.order("ORD-00300x", "6", 1, null, "{\"broken\"", null, modified));
        new JdbcTemplate(source.dataSource()).batchUpdate(LegacyOrders.insertSql(), orders);
        MappedTables tables = MappedTables.resolve(List.of(LegacyOrders.mapping()), source.dataSource(),
                target.dataSource(), true, true);
        runner = BackfillRunner.create(BackfillConfig.builder().chunkSize(100).chunkSizeBounds(50, 200)
                .rangesPerTable(2).createTables(true).build(), tables, source.dataSource(), target.dataSource(),
                new EventPublisher());

        runner.start("t_order_legacy");

        assertThat(runner.awaitCompletion("t_order_legacy", Duration.ofSeconds(60))).isTrue();
        BackfillProgress progress = runner.progress("t_order_legacy");
        assertThat(progress.rowsCopied()).isEqualTo(ORDERS);
        assertThat(progress.failedRows()).isEqualTo(3);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM orders", Long.class)).isEqualTo(ORDERS);
        assertThat(target.queryForObject("SELECT COUNT(DISTINCT id) FROM orders o JOIN dualwrite_id_map m"
                + " ON m.target_key = o.id", Long.class)).isEqualTo(ORDERS);
        assertThat(LegacyOrders.targetOrders(target)).hasSize(ORDERS).first().isEqualTo(List.of(
                "[\"ORD-00001\"]", "1001", "PAID", "1", "Buyer", "Number 1", "EUR", "2024-07-01T12:00:00.123"));
        assertThat(LegacyOrders.targetOrders(target).get(ORDERS - 1)).isEqualTo(List.of(
                "[\"ORD-00600\"]", "1600", "NEW", "600", "Buyer", "Number 600", "EUR", "2024-07-01T12:00:00.123"));
        assertThat(target.queryForObject(LegacyOrders.attrsIsObjectSql(targetStore), Boolean.class, 1234)).isTrue();
        assertThat(JsonMapper.builder().build().readTree(target.queryForObject(LegacyOrders.attrsTextSql(targetStore),
                String.class, 1234))).isEqualTo(JsonMapper.builder().build().readTree("{\"line\": 234}"));
        assertThat(target.queryForList("SELECT row_key, error FROM dualwrite_backfill_failure ORDER BY row_key"))
                .extracting(row -> row.get("row_key") + " " + row.get("error"))
                .satisfiesExactly(
                        error -> assertThat(error).startsWith("[\"ORD-00100x\"] IllegalArgumentException:"
                                + " dualwrite.tables.t_order_legacy.columns.user_id.converter: table 't_order_legacy',"
                                + " key ORD-00100x, column 'user_id': value 'not a number' does not convert"),
                        error -> assertThat(error).startsWith("[\"ORD-00200x\"] IllegalArgumentException:"
                                + " dualwrite.tables.t_order_legacy.columns.status.converter: table 't_order_legacy',"
                                + " key ORD-00200x, column 'status': value 7 does not convert"),
                        error -> assertThat(error).startsWith("[\"ORD-00300x\"] IllegalArgumentException:"
                                + " dualwrite.tables.t_order_legacy.columns.attributes.converter: table"
                                + " 't_order_legacy', key ORD-00300x, column 'attributes': value '{\"broken\"' does"
                                + " not convert"));
    }
}
