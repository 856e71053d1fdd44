package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReconcilerTest {

    /** The mirror pairs, plus the same-dialect pairs the checksum path needs. */
    static Stream<Arguments> pairs() {
        return Stream.concat(Stores.pairs(), sameDialect().filter(a -> a.get()[0] != Store.H2));
    }

    static Stream<Arguments> sameDialect() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.MARIADB),
                Arguments.of(Store.POSTGRESQL, Store.POSTGRESQL));
    }

    private static ReconcileConfig.Builder config() {
        return ReconcileConfig.builder().chunkSize(10).createTables(true);
    }

    /**
     * Thirty rows where the stores agree once scale and precision are normalised, and one of each
     * divergence: 3 missing, 5 extra, 7 a changed column, 9 an older version in the target, 11 a newer one,
     * 13 NULL in the source against a value, 15 a value against NULL.
     */
    private static void divergences(VerifyFixture f) {
        for (long id = 1; id <= 30; id++) {
            if (id == 5) {
                continue;
            }
            VerifyFixture.insert(f.source, id, "PAID", "10.5000", id == 13 ? null : "n" + id,
                    id == 2 ? "2025-03-01 10:00:00.123900" : "2025-03-01 10:00:00.123456");
            if (id == 3) {
                continue;
            }
            String status = id == 7 ? "NEW" : id == 9 ? "NEW" : id == 11 ? "SHIPPED" : "PAID";
            String modified = id == 2 ? "2025-03-01 10:00:00.124" : id == 9 ? "2025-03-01 09:00:00.000"
                    : id == 11 ? "2025-03-01 11:00:00.000" : "2025-03-01 10:00:00.123";
            VerifyFixture.insert(f.target, id, status, "10.50", id == 13 ? "x" : id == 15 ? null : "n" + id, modified);
        }
        VerifyFixture.insert(f.target, 5, "PAID", "1.00", null, "2025-03-01 10:00:00.000");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void reconcile_reportsExactlyTheRealDivergences_repairMakesTheStoresEqual_andASecondRunFindsNothing(
            Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "rc_div",
                VerifyFixture.preciseDdl(sourceStore))) {
            divergences(f);
            MappedTables tables = f.tables();

            ReconcileReport dry = Reconciler.create(config().build(), tables, f.source.dataSource(),
                    f.target.dataSource(), f.listener()).run("t_order");

            assertThat(dry.complete()).isTrue();
            assertThat(dry.compared()).isEqualTo(29);
            assertThat(dry.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of(3));
            assertThat(dry.samples(Mismatch.Kind.EXTRA_IN_TARGET)).containsExactly(RowKey.of(5));
            assertThat(dry.samples(Mismatch.Kind.DIFFERENT))
                    .containsExactly(RowKey.of(7), RowKey.of(9), RowKey.of(11), RowKey.of(13), RowKey.of(15));
            assertThat(List.of(dry.missingInTarget(), dry.extraInTarget(), dry.different(), dry.repaired(),
                    dry.unrepaired())).containsExactly(1L, 1L, 5L, 0L, 7L);
            assertThat(f.lines()).hasSize(7).allMatch(line -> line.startsWith("{\"check\":\"reconcile\""))
                    .anySatisfy(line -> assertThat(line).contains("\"key\":9,\"kind\":\"DIFFERENT\"")
                            .contains("\"columns\":[\"status\",\"gmt_modified\"]"));

            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher())) {
                ReconcileReport repaired = Reconciler.create(
                        config().repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables,
                        f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
                assertThat(repaired.differences()).isEqualTo(7);
                assertThat(repaired.repaired()).isEqualTo(7);
                assertThat(repaired.unrepaired()).isZero();
            }

            ReconcileReport second = Reconciler.create(config().build(), tables, f.source.dataSource(),
                    f.target.dataSource(), f.listener()).run("t_order");
            assertThat(second.differences()).isZero();
            assertThat(second.compared()).isEqualTo(29);
            assertThat(f.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(29);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("sameDialect")
    void sameSchema_comparesChunkChecksumsFirst_andReadsRowsOnlyWhereTheyDiffer(Store sourceStore,
            Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "rc_sum")) {
            for (long id = 1; id <= 200; id++) {
                for (var db : List.of(f.source, f.target)) {
                    VerifyFixture.insert(db, id, "PAID", id + ".25", id % 3 == 0 ? null : "note " + id,
                            "2025-03-01 10:00:00.123");
                }
            }
            f.target.execute("DELETE FROM t_order WHERE id = 42");
            f.target.execute("UPDATE t_order SET note = NULL WHERE id = 101");
            f.target.execute("UPDATE t_order SET note = '' WHERE id = 150");
            VerifyFixture.insert(f.target, 500, "NEW", "1.00", null, "2025-03-01 10:00:00.000");
            MappedTables tables = f.tables();

            ReconcileReport report = Reconciler.create(config().build(), tables, f.source.dataSource(),
                    f.target.dataSource(), f.listener()).run("t_order");

            assertThat(report.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of(42));
            assertThat(report.samples(Mismatch.Kind.DIFFERENT)).containsExactly(RowKey.of(101), RowKey.of(150));
            assertThat(report.samples(Mismatch.Kind.EXTRA_IN_TARGET)).containsExactly(RowKey.of(500));
            assertThat(report.compared()).isEqualTo(200);
            assertThat(report.chunks()).isEqualTo(21);
            assertThat(report.checksumChunks()).as("chunks 41-50, 101-110, 141-150 and the last differ")
                    .isEqualTo(17);

            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher())) {
                Reconciler.create(config().repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(),
                        tables, f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
            }
            ReconcileReport second = Reconciler.create(config().build(), tables, f.source.dataSource(),
                    f.target.dataSource(), f.listener()).run("t_order");
            assertThat(second.differences()).isZero();
            assertThat(second.checksumChunks()).isEqualTo(second.chunks());
            assertThat(OrderTable.differences(f.source, "t_order", f.target, "t_order", "id")).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aVersionWindow_comparesOnlyItsRows_butSeesRowsThatLeftItOnOneSide(Store sourceStore, Store targetStore)
            throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "rc_win")) {
            for (long id = 1; id <= 20; id++) {
                String day = id <= 10 ? "2025-03-01" : "2025-03-02";
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, day + " 10:00:00");
                VerifyFixture.insert(f.target, id, id == 4 || id == 14 ? "NEW" : "PAID", "1.00", null,
                        id == 6 ? "2025-03-02 08:00:00" : day + " 10:00:00");
            }
            ReconcileReport report = Reconciler.create(config().window(LocalDateTime.parse("2025-03-02T00:00:00"),
                    LocalDateTime.parse("2025-03-03T00:00:00")).build(), f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener()).run("t_order");

            assertThat(report.compared()).isEqualTo(10);
            assertThat(report.samples(Mismatch.Kind.DIFFERENT)).as("14 in the window; 6 is in it on the target only")
                    .containsExactlyInAnyOrder(RowKey.of(14), RowKey.of(6));
            assertThat(report.missingInTarget() + report.extraInTarget()).isZero();
        }
    }

    @Test
    void anInterruptedRun_resumesFromItsCheckpoint_withItsFindings() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "rc_resume")) {
            for (long id = 1; id <= 35; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                if (id != 3 && id != 33) {
                    VerifyFixture.insert(f.target, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                }
            }
            SteppingClock clock = new SteppingClock();
            ReconcileConfig config = config().timeBudget(Duration.ofMinutes(2)).clock(clock).build();
            Reconciler reconciler = Reconciler.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener());

            ReconcileReport first = reconciler.run("t_order");
            assertThat(first.complete()).isFalse();
            assertThat(first.compared()).isLessThan(35);
            assertThat(first.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of(3));

            ReconcileReport last = first;
            for (int run = 0; run < 10 && !last.complete(); run++) {
                last = reconciler.run("t_order");
            }
            assertThat(last.complete()).isTrue();
            assertThat(last.compared()).isEqualTo(35);
            assertThat(last.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of(3), RowKey.of(33));
            assertThat(f.lines()).hasSize(2);
        }
    }

    @Test
    void aRunThatComparesNothing_fails() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "rc_empty")) {
            Reconciler reconciler = Reconciler.create(config().build(), f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener());
            assertThatThrownBy(() -> reconciler.run("t_order"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageStartingWith("reconcile of table 't_order' compared no rows: both sides are empty");
        }
    }

    @Test
    void aMissingCheckpointTable_isReportedWithItsDdl() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "rc_ddl")) {
            VerifyFixture.insert(f.source, 1, "PAID", "1.00", null, "2025-03-01 10:00:00");
            Reconciler reconciler = Reconciler.create(ReconcileConfig.defaults(), f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener());
            assertThatThrownBy(() -> reconciler.run("t_order"))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("needs tables 'dualwrite_reconcile_checkpoint' and"
                            + " 'dualwrite_reconcile_checkpoint_lease' in the target database")
                    .hasMessageContaining(reconciler.ddl());
        }
    }

    @Test
    void rowsPrimaryInTheTarget_areNotRepairedThroughTheMirror_andTheReportSaysWhy() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "rc_route")) {
            VerifyFixture.insert(f.source, 1, "PAID", "1.00", null, "2025-03-01 10:00:00");
            VerifyFixture.insert(f.source, 2, "PAID", "1.00", null, "2025-03-01 10:00:00");
            MappedTables tables = f.tables();
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher())) {
                ReconcileConfig config = config().repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(5)))
                        .rowRoutes((table, row) -> ((Number) row.get("user_id")).longValue() == 2 ? Route.TARGET
                                : Route.SOURCE).build();
                ReconcileReport report = Reconciler.create(config, tables, f.source.dataSource(),
                        f.target.dataSource(), f.listener()).run("t_order");

                assertThat(report.repaired()).isEqualTo(1);
                assertThat(report.unrepaired()).isEqualTo(1);
                assertThat(report.repairProblems()).singleElement().asString()
                        .contains("table 't_order': 1 rows are primary in the target");
            }
        }
    }

    @Test
    void config_repairWithoutARepairer_isRejected() {
        assertThatThrownBy(() -> ReconcileConfig.builder().dryRun(false).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.verify.reconcile.dry-run=false needs a repairer");
        assertThatThrownBy(() -> ReconcileConfig.builder().chunkSize(5))
                .hasMessage("dualwrite.verify.reconcile.chunk-size: must be between 10 and 100000, was 5");
    }

    /**
     * Issue 17: {@code dryRun(true)} followed by {@code repairWith} (the order the starter used) turned the
     * dry run off, so {@code dualwrite.verify.reconcile.repair=false} still wrote. A dry run wins in either
     * order; without it, a repairer means repair.
     */
    @Test
    void config_dryRunWinsOverARepairer_inEitherOrder() {
        Repairer repairer = (table, primary, keys) -> {
            throw new AssertionError("a dry run must never repair");
        };
        assertThat(ReconcileConfig.builder().dryRun(true).repairWith(repairer).build().dryRun()).isTrue();
        assertThat(ReconcileConfig.builder().repairWith(repairer).dryRun(true).build().dryRun()).isTrue();
        assertThat(ReconcileConfig.builder().repairWith(repairer).build().dryRun()).isFalse();
        assertThat(ReconcileConfig.builder().build().dryRun()).isTrue();
    }

    /**
     * Issue 17: one row the target refuses (a CHECK constraint the source does not have) failed the whole
     * repair batch, and the SQLException ended the table's reconcile. Now the batch is split until the row is
     * found; it counts as unrepaired and is named with the database's error, and every other row, in its chunk
     * and in the chunks after it, is repaired.
     */
    @Test
    void aRowTheTargetRefuses_isCountedUnrepaired_andTheRestOfTheTableIsRepaired() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.MARIADB, Store.POSTGRESQL, "rc_refuse")) {
            f.target.execute("ALTER TABLE t_order ADD CONSTRAINT no_bad CHECK (status <> 'BAD')");
            for (long id = 1; id <= 30; id++) {
                VerifyFixture.insert(f.source, id, id == 4 ? "BAD" : "PAID", "1.00", null, "2025-03-01 10:00:00");
                if (id % 3 == 0) {
                    VerifyFixture.insert(f.target, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                }
            }
            MappedTables tables = f.tables();
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher())) {
                ReconcileReport report = Reconciler.create(
                        config().repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(5))).build(), tables,
                        f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");

                assertThat(report.complete()).isTrue();
                assertThat(report.missingInTarget()).isEqualTo(20);
                assertThat(report.repaired()).isEqualTo(19);
                assertThat(report.unrepaired()).isEqualTo(1);
                assertThat(report.repairProblems()).singleElement().asString()
                        .startsWith("table 't_order', key 4: the repair failed: SQLSTATE 23514: ERROR: new row for"
                                + " relation \"t_order\" violates check constraint \"no_bad\"");
                assertThat(report.toString()).contains("19 repaired, 1 unrepaired").contains("key 4: the repair failed");
                assertThat(f.events(VerifyEvent.Repaired.class)).extracting(VerifyEvent.Repaired::failed)
                        .containsOnly(0, 1).contains(1);
                assertThat(f.events(VerifyEvent.Repaired.class).stream().mapToInt(VerifyEvent.Repaired::repaired)
                        .sum()).isEqualTo(19);
            }
            assertThat(f.target.queryForList("SELECT id FROM t_order ORDER BY id").stream()
                    .map(row -> ((Number) row.get("id")).longValue()).toList())
                    .hasSize(29).doesNotContain(4L);
        }
    }

    /** A clock that moves one minute every time it is read, so a time budget runs out after a chunk or two. */
    private static final class SteppingClock extends Clock {
        private Instant now = Instant.parse("2025-03-02T03:00:00Z");

        @Override
        public java.time.ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public synchronized Instant instant() {
            now = now.plus(Duration.ofMinutes(1));
            return now;
        }
    }
}
