package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The row path's streamed reads ({@link KeysetStream}, {@link TableOps#stream}): a statement that reads a table
 * ahead of the comparison must not make the application's writers wait, and a run stopped part way resumes at its
 * checkpoint with each store's stream starting after the checkpoint's key.
 */
class ReconcileStreamTest {

    /**
     * Enough rows of a 200-character note that the server is still sending them (its socket buffers full) while the
     * reader takes the first: the statement is under way when the writer comes.
     */
    private static final int ROWS = 20_000;

    /**
     * While a streamed statement is under way, with its first row read and the rest unread, another connection
     * updates a row the statement has already read and one it has not reached yet, with a one-second lock wait. A
     * locking read ({@code LOCK IN SHARE MODE}, {@code FOR SHARE}) would hold the first row until the statement ends
     * and the update would time out.
     */
    @ParameterizedTest
    @EnumSource(value = Store.class, names = {"MARIADB", "POSTGRESQL"})
    void aStatementUnderWay_holdsNoRowLock_writersOfItsRowsGoOnAtOnce(Store store) throws Exception {
        try (VerifyFixture f = new VerifyFixture(store, store, "rs_lock")) {
            fill(f.source, ROWS);
            TableOps ops = f.tables().get("t_order").source();
            AtomicReference<Throwable> writerFailure = new AtomicReference<>();
            AtomicInteger updated = new AtomicInteger();
            List<Long> ids = new ArrayList<>();
            try (Connection reading = f.source.dataSource().getConnection();
                    Connection writing = f.source.dataSource().getConnection()) {
                reading.setAutoCommit(true);
                try (Statement s = writing.createStatement()) {
                    s.execute(store == Store.MARIADB ? "SET SESSION innodb_lock_wait_timeout = 1"
                            : "SET lock_timeout = '1s'");
                }
                int read = ops.stream(reading, null, ROWS, 100, null, List.of(), row -> {
                    ids.add(((Number) row.get("id")).longValue());
                    if (ids.size() == 1) {
                        try (Statement s = writing.createStatement()) {
                            updated.addAndGet(s.executeUpdate("UPDATE t_order SET status = 'EDITED' WHERE id IN (1, "
                                    + (ROWS - 1) + ")"));
                        } catch (SQLException e) {
                            writerFailure.set(e);
                        }
                    }
                });
                assertThat(read).isEqualTo(ROWS);
            }
            assertThat(writerFailure.get()).as("the writer of rows the stream has read or will read").isNull();
            assertThat(updated.get()).isEqualTo(2);
            assertThat(ids).hasSize(ROWS).isSorted();
        }
    }

    /**
     * A run stopped by its time budget part way through the table (inside a stream segment: chunks of 10, segments
     * of 20, stopped at key 30) resumes from its checkpoint; each store's stream starts after the checkpoint's key, so every difference
     * is found once, those before the stop by the first run and those after by the next, and every row is compared
     * once across the runs.
     */
    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aRunStoppedMidStream_resumesAfterItsCheckpoint_andFindsEachDifferenceOnce(Store sourceStore,
            Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "rs_resume")) {
            for (long id = 1; id <= 95; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                if (id != 3 && id != 44 && id != 81) {
                    VerifyFixture.insert(f.target, id, id == 15 || id == 60 ? "NEW" : "PAID", "1.00", null,
                            "2025-03-01 10:00:00");
                }
            }
            // Only in the target, after the source's last row.
            VerifyFixture.insert(f.target, 1_000, "PAID", "1.00", null, "2025-03-01 10:00:00");
            // The time budget runs out at the third chunk's end: key 30, inside the second segment (21..40).
            MovableClock clock = new MovableClock();
            AtomicInteger chunks = new AtomicInteger();
            VerifyEvent.Listener budgetEndsAtTheThirdChunk = event -> {
                f.listener().onEvent(event);
                if (event instanceof VerifyEvent.ChunkReconciled && chunks.incrementAndGet() == 3) {
                    clock.advance(Duration.ofHours(1));
                }
            };
            ReconcileConfig config = ReconcileConfig.builder().chunkSize(10).checksums(false).createTables(true)
                    .dryRun(true).timeBudget(Duration.ofMinutes(30)).clock(clock).build();
            Reconciler reconciler = Reconciler.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), budgetEndsAtTheThirdChunk);

            ReconcileReport first = reconciler.run("t_order");
            assertThat(first.complete()).isFalse();
            assertThat(first.compared()).isEqualTo(30);
            assertThat(first.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of(3));
            assertThat(first.samples(Mismatch.Kind.DIFFERENT)).containsExactly(RowKey.of(15));

            ReconcileReport last = first;
            for (int run = 0; run < 20 && !last.complete(); run++) {
                last = reconciler.run("t_order");
            }
            assertThat(last.complete()).isTrue();
            assertThat(last.compared()).isEqualTo(95);
            assertThat(last.samples(Mismatch.Kind.MISSING_IN_TARGET)).containsExactly(RowKey.of(3), RowKey.of(44),
                    RowKey.of(81));
            assertThat(last.samples(Mismatch.Kind.DIFFERENT)).containsExactly(RowKey.of(15), RowKey.of(60));
            assertThat(last.samples(Mismatch.Kind.EXTRA_IN_TARGET)).containsExactly(RowKey.of(1_000));
            assertThat(f.lines()).as("each difference logged once over the runs").hasSize(6);
        }
    }

    /**
     * The target's stream reads at its own pace: a run of target rows the source lacks, longer than a segment and
     * than a chunk, inside one source chunk's key range, is walked and settled without the stream losing its place.
     */
    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void manyTargetOnlyRowsInsideOneChunk_areEachFoundOnce(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "rs_extra")) {
            for (long id = 1; id <= 30; id++) {
                long sourceId = id * 100;
                VerifyFixture.insert(f.source, sourceId, "PAID", "1.00", null, "2025-03-01 10:00:00");
                VerifyFixture.insert(f.target, sourceId, "PAID", "1.00", null, "2025-03-01 10:00:00");
            }
            for (long id = 101; id <= 145; id++) {
                VerifyFixture.insert(f.target, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
            }
            ReconcileConfig config = ReconcileConfig.builder().chunkSize(10).checksums(false).createTables(true)
                    .dryRun(true).sampleKeys(100).build();
            ReconcileReport report = Reconciler.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener()).run("t_order");

            assertThat(report.complete()).isTrue();
            assertThat(report.compared()).isEqualTo(30);
            assertThat(report.extraInTarget()).isEqualTo(45);
            assertThat(report.missingInTarget() + report.different()).isZero();
            List<RowKey> expected = new ArrayList<>();
            for (long id = 101; id <= 145; id++) {
                expected.add(RowKey.of(id));
            }
            assertThat(report.samples(Mismatch.Kind.EXTRA_IN_TARGET)).containsExactlyElementsOf(expected);
        }
    }

    private static void fill(TestDatabase db, int rows) {
        String note = "'" + "n".repeat(200) + "'";
        db.execute(db.store() == Store.MARIADB
                ? "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) SELECT seq, seq % 10, 'PAID',"
                        + " 1.00, " + note + ", TIMESTAMP '2025-03-01 10:00:00' FROM seq_1_to_" + rows
                : "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) SELECT g, g % 10, 'PAID',"
                        + " 1.00, " + note + ", TIMESTAMP '2025-03-01 10:00:00' FROM generate_series(1, " + rows
                        + ") g");
    }

    /** Stands still until moved. */
    private static final class MovableClock extends Clock {
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
            return now;
        }

        synchronized void advance(Duration by) {
            now = now.plus(by);
        }
    }
}
