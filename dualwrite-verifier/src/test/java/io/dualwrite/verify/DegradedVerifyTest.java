package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.degrade.DegradeMark;
import io.dualwrite.degrade.Degradation;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.Store;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The reconciler and the double read leave rows marked as not mirrored alone, and report the rest; after
 * unmark and re-copy the whole table compares equal.
 */
class DegradedVerifyTest {

    private static final Duration QUIET = Duration.ofSeconds(20);

    /**
     * Rows 1..60 on both stores, user = id mod 10; the target differs in rows 20..29 (a marked range), has
     * lost row 45 and keeps row 55 the source deleted (both user 5, marked), and differs in row 41 (not marked).
     */
    private static void divergences(VerifyFixture f) {
        for (long id = 1; id <= 60; id++) {
            if (id != 55) {
                VerifyFixture.insert(f.source, id, "PAID", "10.50", "n" + id, "2025-03-01 10:00:00");
            }
            if (id != 45) {
                String status = (id >= 20 && id < 30) || id == 41 ? "NEW" : "PAID";
                VerifyFixture.insert(f.target, id, status, "10.50", "n" + id, "2025-03-01 10:00:00");
            }
        }
    }

    private static MappedTables tables(VerifyFixture f) throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id").build()),
                f.source.dataSource(), f.target.dataSource(), false);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void reconcile_ignoresMarkedRows_reportsTheRest_andAfterUnmarkFindsZeroDifferences(Store sourceStore,
            Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dg_rc")) {
            divergences(f);
            MappedTables tables = tables(f);
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher());
                    Degradation degradation = Degradation.builder(f.source.dataSource(), f.target.dataSource(), tables)
                            .createTable(true).refreshInterval(Duration.ofMillis(100))
                            .staleAfter(Duration.ofMillis(300)).build()) {
                mirror.start();
                mirror.degradation(degradation);
                degradation.start();
                DegradeMark range = degradation.mark(DegradeMark.range("t_order", RowKey.of(20), RowKey.of(30)),
                        "alice", "bad import");
                DegradeMark user = degradation.mark(DegradeMark.routingValue("t_order", 5), "bob", "user 5");

                ReconcileConfig.Builder base = ReconcileConfig.builder().chunkSize(10).createTables(true);
                ReconcileReport unaware = Reconciler.create(base.build(), tables, f.source.dataSource(),
                        f.target.dataSource(), f.listener()).run("t_order");
                assertThat(unaware.differences()).as("negative control: without the marks every divergence counts")
                        .isEqualTo(13);

                ReconcileReport dry = Reconciler.create(base.ignoredRows(degradation::ignores).build(), tables,
                        f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
                assertThat(dry.differences()).isEqualTo(1);
                assertThat(dry.samples(Mismatch.Kind.DIFFERENT)).containsExactly(RowKey.of(41));

                ReconcileReport repaired = Reconciler.create(base.ignoredRows(degradation::ignores)
                        .repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables,
                        f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
                assertThat(repaired.repaired()).isEqualTo(1);
                assertThat(f.target.queryForObject("SELECT status FROM t_order WHERE id = 25", String.class))
                        .as("a marked row is not repaired").isEqualTo("NEW");

                degradation.unmark(range.id(), "alice", "fixed", (t, keys) -> mirror.repair(t, keys, QUIET));
                degradation.unmark(user.id(), "bob", "fixed", (t, keys) -> mirror.repair(t, keys, QUIET));
                ReconcileReport after = Reconciler.create(ReconcileConfig.builder().chunkSize(10).createTables(true)
                        .ignoredRows(degradation::ignores).build(), tables, f.source.dataSource(),
                        f.target.dataSource(), f.listener()).run("t_order");
                assertThat(after.complete()).isTrue();
                assertThat(after.compared()).isEqualTo(59);
                assertThat(after.differences()).as("unmark + re-copy: the whole table is equal").isZero();
            }
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void doubleRead_ignoresMarkedRows_andReportsTheRest(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dg_dr")) {
            divergences(f);
            MappedTables tables = tables(f);
            try (Degradation degradation = Degradation.builder(f.source.dataSource(), f.target.dataSource(), tables)
                    .createTable(true).refreshInterval(Duration.ofSeconds(5)).build()) {
                degradation.mark(DegradeMark.range("t_order", RowKey.of(20), RowKey.of(30)), "alice", "bad import");
                DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1)
                        .ignoredRows(degradation::ignores).build();
                try (DoubleReader reader = DoubleReader.create(config, tables, f.source.dataSource(),
                        f.target.dataSource(), f.listener())) {
                    reader.read("t_order", 25L, () -> "marked");
                    reader.read("t_order", 41L, () -> "not marked");
                    assertThat(reader.awaitQuiet(QUIET)).isTrue();
                }
                assertThat(f.events(VerifyEvent.MismatchFound.class)).singleElement()
                        .satisfies(found -> assertThat(found.mismatch().key()).isEqualTo(RowKey.of(41)));
            }
        }
    }
}
