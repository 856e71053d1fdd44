package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.LegacyOrders;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The reconciler through a heterogeneous mapping (renames, converters, a split, a constant, JSON, and keys
 * mapped through {@code dualwrite_id_map}): rows are compared in the target's shape, and text keys that map
 * to generated ids take the look-up path.
 */
class HeterogeneousReconcileTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void mappedRows_areComparedInTheTargetsShape_andRepaired(Store sourceStore, Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "rc_het_src");
                TestDatabase target = TestDatabase.create(targetStore, "rc_het_tgt")) {
            LegacyOrders.create(source, target);
            MappedTables tables = MappedTables.resolve(List.of(LegacyOrders.mapping()), source.dataSource(),
                    target.dataSource(), false, true);
            new JdbcTemplate(source.dataSource()).batchUpdate(LegacyOrders.insertSql(), List.of(
                    LegacyOrders.order("ORD-1", "42", 1, new BigDecimal("12.50"), "{\"color\":  \"red\"}", "Ada Lovelace",
                            Timestamp.valueOf("2024-07-01 12:00:00.123456")),
                    LegacyOrders.order("ORD-2", "7", 0, null, null, "Plato", Timestamp.valueOf("2024-07-01 12:00:01")),
                    LegacyOrders.order("ORD-3", "8", 2, new BigDecimal("0.05"), "[]", null,
                            Timestamp.valueOf("2024-07-01 12:00:02")),
                    LegacyOrders.order("ORD-4", "9", 1, new BigDecimal("3.00"), null, "Alan Turing",
                            Timestamp.valueOf("2024-07-01 12:00:03")),
                    LegacyOrders.order("ORD-5", "10", 1, null, null, null, Timestamp.valueOf("2024-07-01 12:00:04"))));
            List<RowKey> all = List.of(RowKey.of("ORD-1"), RowKey.of("ORD-2"), RowKey.of("ORD-3"), RowKey.of("ORD-4"),
                    RowKey.of("ORD-5"));
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(),
                    target.dataSource(), new EventPublisher())) {
                assertThat(mirror.repair("t_order_legacy", all, Duration.ofSeconds(10))).isEmpty();
                target.execute("DELETE FROM orders WHERE buyer_id = 7");
                target.execute("UPDATE orders SET state = 'NEW' WHERE buyer_id = 8");
                source.execute("DELETE FROM t_order_legacy WHERE order_no = 'ORD-5'");
                ReconcileConfig dry = ReconcileConfig.builder().chunkSize(10).createTables(true).build();

                ReconcileReport report = Reconciler.create(dry, tables, source.dataSource(), target.dataSource(),
                        VerifyEvent.Listener.none()).run("t_order_legacy");

                assertThat(report.compared()).isEqualTo(4);
                assertThat(report.checksumChunks()).isZero();
                assertThat(report.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of("ORD-2"));
                assertThat(report.samples(Mismatch.Kind.DIFFERENT)).containsExactly(RowKey.of("ORD-3"));
                assertThat(report.samples(Mismatch.Kind.EXTRA_IN_TARGET)).containsExactly(RowKey.of("ORD-5"));

                ReconcileConfig repair = ReconcileConfig.builder().chunkSize(10)
                        .repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build();
                assertThat(Reconciler.create(repair, tables, source.dataSource(), target.dataSource(),
                        VerifyEvent.Listener.none()).run("t_order_legacy").repaired()).isEqualTo(3);
                ReconcileReport second = Reconciler.create(dry, tables, source.dataSource(), target.dataSource(),
                        VerifyEvent.Listener.none()).run("t_order_legacy");
                assertThat(second.differences()).isZero();
                assertThat(second.compared()).isEqualTo(4);
            }
        }
    }
}
