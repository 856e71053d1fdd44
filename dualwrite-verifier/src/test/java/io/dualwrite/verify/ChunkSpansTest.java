package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.function.LongFunction;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The checksum path's chunks and hash: on MariaDB with an integer key a chunk is a span of key values that follows
 * the rows the last one held (never more than twice the chunk size), and a hash that sees two rows swap a value.
 */
class ChunkSpansTest {

    private static final int CHUNK = 10;

    /** 1-40 dense, then every 1,000th key up to 40,000, then 100,000-100,199 dense again, then one far key. */
    private static final List<Long> KEYS = LongStream.concat(LongStream.concat(LongStream.rangeClosed(1, 40),
            LongStream.rangeClosed(1, 40).map(i -> i * 1_000)), LongStream.concat(
                    LongStream.rangeClosed(100_000, 100_199), LongStream.of(1_000_000_000_000L))).boxed().toList();

    @Test
    void mariaDb_integerKey_spansFollowTheRowsTheyHold_andADenseStretchIsNeverTakenWhole() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.MARIADB, Store.MARIADB, "ck_span")) {
            insertAll(f.source, KEYS);
            MappedTables tables = f.tables();
            var ops = tables.get("t_order").source();
            List<String> columns = List.of("id", "user_id", "status", "amount", "note", "gmt_modified");
            ChunkChecksums sums = new ChunkChecksums(ops, columns, Set.of("amount", "note"), null, List.of());
            List<ChunkChecksums.Chunk> chunks = new ArrayList<>();
            try (Connection connection = f.source.dataSource().getConnection()) {
                RowKey after = null;
                do {
                    ChunkChecksums.Chunk chunk = sums.next(connection, after, CHUNK);
                    assertThat(chunk.after()).isEqualTo(after);
                    // The chunk's sum is the sum of its range, taken again as the target would take it.
                    assertThat(chunk.sum()).isEqualTo(sums.sum(connection, chunk.after(), chunk.end()));
                    chunks.add(chunk);
                    after = chunk.end();
                } while (after != null && chunks.size() < 1_000);
            }
            assertThat(chunks.get(chunks.size() - 1).end()).isNull();
            assertThat(chunks.stream().mapToLong(c -> c.sum().rows()).sum()).isEqualTo(KEYS.size());
            assertThat(chunks).allSatisfy(c -> assertThat(c.sum().rows()).isLessThanOrEqualTo(2 * CHUNK));
            // Spans: the sparse stretch (40 rows over 40,000 keys) is taken in chunks far wider than ten keys; the
            // dense stretch after the gap in chunks of at most twice ten rows (checked above), though the span that
            // reached it had grown over the gap; the gap up to the far key in a few spans growing fourfold.
            assertThat(chunks).filteredOn(c -> c.after() != null && c.end() != null)
                    .anySatisfy(c -> assertThat(key(c.end()) - key(c.after())).isGreaterThan(1_000));
            assertThat(chunks.size()).isLessThan(100);
            // A chunk found by rows holds exactly ten unless it is the last: other counts come from key spans only.
            assertThat(chunks.subList(0, chunks.size() - 1)).as("chunks by key span")
                    .anySatisfy(c -> assertThat(c.sum().rows()).isNotEqualTo(CHUNK));
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.verify.ReconcilerTest#sameDialect")
    void checksumPath_findsEachDifference_inSparseAndDenseStretches_andTwoRowsThatSwapAValue(Store sourceStore,
            Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "ck_diff")) {
            insertAll(f.source, KEYS);
            insertAll(f.target, KEYS.stream().filter(id -> id != 17 && id != 25_000 && id != 1_000_000_000_000L)
                    .toList());
            VerifyFixture.insert(f.target, 100_250, "NEW", "1.00", null, "2025-03-01 10:00:00.000");
            VerifyFixture.insert(f.target, 2_000_000_000_000L, "NEW", "1.00", null, "2025-03-01 10:00:00.000");
            f.target.execute("UPDATE t_order SET amount = 99.99 WHERE id = 100123");
            // Rows 3 and 4 (in the first chunk, taken by rows on every store) swap their statuses, of one length:
            // the four rows' texts XOR to zero, so an XOR of plain CRC32s (pt-table-checksum's) cannot see it.
            f.source.execute("UPDATE t_order SET status = 'SENT' WHERE id = 4");
            f.target.execute("UPDATE t_order SET status = 'SENT' WHERE id = 3");
            MappedTables tables = f.tables();

            ReconcileReport report = Reconciler.create(ReconcileConfig.builder().chunkSize(CHUNK).createTables(true)
                    .build(), tables, f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");

            assertThat(report.samples(Mismatch.Kind.MISSING_IN_TARGET))
                    .containsExactly(RowKey.of(17), RowKey.of(25_000), RowKey.of(1_000_000_000_000L));
            assertThat(report.samples(Mismatch.Kind.EXTRA_IN_TARGET))
                    .containsExactly(RowKey.of(100_250), RowKey.of(2_000_000_000_000L));
            assertThat(report.samples(Mismatch.Kind.DIFFERENT))
                    .containsExactly(RowKey.of(3), RowKey.of(4), RowKey.of(100_123));
            assertThat(report.compared()).isEqualTo(KEYS.size());
            assertThat(report.checksumChunks()).isPositive();

            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher())) {
                Reconciler.create(ReconcileConfig.builder().chunkSize(CHUNK).createTables(true)
                        .repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10))).build(), tables,
                        f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
            }
            assertThat(OrderTable.differences(f.source, "t_order", f.target, "t_order", "id")).isEmpty();
            ReconcileReport second = Reconciler.create(ReconcileConfig.builder().chunkSize(CHUNK).createTables(true)
                    .build(), tables, f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");
            assertThat(second.differences()).isZero();
            assertThat(second.checksumChunks()).isEqualTo(second.chunks());
        }
    }

    @Test
    void mariaDb_aVersionWindow_onSpans_comparesOnlyItsRows_andTheLastSpanReachesTheWindowsLargestKey()
            throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.MARIADB, Store.MARIADB, "ck_win")) {
            // Odd keys were changed on the day the window covers, even keys the day before.
            LongFunction<String> day = id -> id % 2 == 1 ? "2025-03-02 10:00:00.000" : "2025-03-01 10:00:00.000";
            insertAll(f.source, KEYS, day);
            insertAll(f.target, KEYS.stream().filter(id -> id != 17 && id != 40).toList(), day);
            f.target.execute("UPDATE t_order SET amount = 99.99 WHERE id IN (100123, 25000)");
            f.target.execute("UPDATE t_order SET gmt_modified = TIMESTAMP '2025-03-02 08:00:00' WHERE id = 100150");
            // Past the source's largest key in the window (100199): found only if the last chunk runs to the end.
            VerifyFixture.insert(f.target, 3_000_000_000_001L, "NEW", "1.00", null, "2025-03-02 09:00:00.000");

            ReconcileReport report = Reconciler.create(ReconcileConfig.builder().chunkSize(CHUNK).createTables(true)
                    .window(LocalDateTime.parse("2025-03-02T00:00:00"), LocalDateTime.parse("2025-03-03T00:00:00"))
                    .build(), f.tables(), f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");

            assertThat(report.compared()).isEqualTo(KEYS.stream().filter(id -> id % 2 == 1).count());
            assertThat(report.samples(Mismatch.Kind.MISSING_IN_TARGET)).as("40 is outside the window")
                    .containsExactly(RowKey.of(17));
            assertThat(report.samples(Mismatch.Kind.DIFFERENT))
                    .as("25000 is outside the window; 100150 is in it on the target only")
                    .containsExactlyInAnyOrder(RowKey.of(100_123), RowKey.of(100_150));
            assertThat(report.samples(Mismatch.Kind.EXTRA_IN_TARGET)).containsExactly(RowKey.of(3_000_000_000_001L));
            assertThat(report.checksumChunks()).isPositive();
        }
    }

    private static void insertAll(TestDatabase db, List<Long> keys) {
        insertAll(db, keys, id -> "2025-03-01 10:00:00.123");
    }

    private static void insertAll(TestDatabase db, List<Long> keys, LongFunction<String> modified) {
        StringBuilder values = new StringBuilder();
        for (long id : keys) {
            values.append(values.isEmpty() ? "" : ", ").append("(").append(id).append(", ").append(id % 10)
                    .append(", 'PAID', ").append(id % 1000).append(".25, 'note ").append(id % 7)
                    .append("', TIMESTAMP '").append(modified.apply(id)).append("')");
        }
        db.execute("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES " + values);
    }

    private static long key(RowKey key) {
        return (Long) key.values().get(0);
    }
}
