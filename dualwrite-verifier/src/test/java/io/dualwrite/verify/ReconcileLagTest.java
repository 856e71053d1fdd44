package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.Change;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.testing.Store;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * A change still waiting in this instance's ASYNC lane when the reconciler reads its row is lag, not drift:
 * the reconciler waits for the mirror to apply what was committed before its reading, then reads the row
 * again. Found in CI: a busy sample service's reconcile reported and "repaired" an order whose apply was
 * queued more than the half-second pause behind others.
 */
class ReconcileLagTest {

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void aChangeQueuedInTheLane_isNotADifference(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "reclag")) {
            if (targetStore == Store.H2) {
                f.target.execute("SET DEFAULT_LOCK_TIMEOUT 20000");
            }
            for (long id = 1; id <= 20; id++) {
                VerifyFixture.insert(f.source, id, "NEW", "1.00", "n", "2026-11-20 09:00:00");
                VerifyFixture.insert(f.target, id, "NEW", "1.00", "n", "2026-11-20 09:00:00");
            }
            MappedTables tables = f.tables();
            ReconcileReport report;
            try (Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.ASYNC).build(), tables,
                    f.source.dataSource(), f.target.dataSource(), new EventPublisher())) {
                mirror.start();
                CompletableFuture<Void> released;
                // Another transaction holds the target's row 7 for 2 s: the lane's apply of its change waits.
                try (Connection blocker = f.target.dataSource().getConnection()) {
                    blocker.setAutoCommit(false);
                    try (Statement lock = blocker.createStatement();
                            ResultSet row = lock.executeQuery("SELECT id FROM t_order WHERE id = 7 FOR UPDATE")) {
                        assertThat(row.next()).isTrue();
                    }
                    f.source.execute("UPDATE t_order SET status = 'PAID', gmt_modified = TIMESTAMP '2026-11-20"
                            + " 10:00:00' WHERE id = 7");
                    mirror.afterCommit(List.of(new Change("t_order", RowKey.of(7L))), System.nanoTime());
                    released = CompletableFuture.runAsync(() -> {
                        try {
                            Thread.sleep(2_000);
                            blocker.commit();
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    });
                    report = Reconciler.create(ReconcileConfig.builder().chunkSize(10).createTables(true)
                            .dryRun(true).mirrorCatchUp(MirrorCatchUp.of(mirror)).build(), tables,
                            f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
                    released.join();
                }
                assertThat(mirror.awaitDrained(java.time.Duration.ofSeconds(10))).isTrue();
            }

            assertThat(report.compared()).isEqualTo(20);
            assertThat(report.differences()).as("the queued change is lag: " + report).isZero();
            assertThat(f.target.queryForObject("SELECT status FROM t_order WHERE id = 7", String.class))
                    .as("the lane applied it once the lock went").isEqualTo("PAID");
        }
    }
}
