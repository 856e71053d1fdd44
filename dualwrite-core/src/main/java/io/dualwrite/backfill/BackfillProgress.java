package io.dualwrite.backfill;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A snapshot of one table's backfill, summed over its key ranges and every instance working on it; the
 * two rates are this runner's, measured by the wall clock (throttle, lock and back-off waits included).
 *
 * @param table the source table
 * @param status the job's status: RUNNING while any range runs, DONE when all are done
 * @param rowsCopied rows written to the target so far
 * @param failedRows rows recorded as failed and not copied since (a retry that copies them takes them off)
 * @param estimatedTotal the table's estimated row count (from statistics), or -1 if unknown (the job was
 *     never started by this runner)
 * @param rowsPerSecond the rows this runner copied over the last {@link #RATE_WINDOW}, per second (over the
 *     time since it started the job, while that is shorter); 0 when it copied nothing in that window
 * @param averageRowsPerSecond the rows this runner copied per second from the moment it started the job
 *     to now, or to its last chunk once its workers stopped
 * @param rangesDone key ranges finished
 * @param ranges key ranges in all
 * @param lastError the last error or pause reason, if any
 * @param shards when the source table is sharded, each physical source shard's own progress (each shard is a
 *     unit of work of its own), in the sharding engine's order; otherwise empty
 */
public record BackfillProgress(String table, BackfillStatus status, long rowsCopied, long failedRows,
        long estimatedTotal, double rowsPerSecond, double averageRowsPerSecond, int rangesDone, int ranges,
        Optional<String> lastError, List<Shard> shards) {

    /**
     * One physical source shard's backfill, from its checkpoint row(s).
     *
     * @param shard the shard, {@code dataSource.table} as the sharding engine names it
     * @param status DONE when its rows are copied, RUNNING while an instance holds it, PENDING before (or after a
     *     lease was handed back), PAUSED or CANCELLED with the job
     * @param rowsCopied rows copied from this shard so far
     * @param owner the instance ({@link BackfillConfig#ownerId()}) holding its lease while it runs, else empty
     */
    public record Shard(String shard, BackfillStatus status, long rowsCopied, Optional<String> owner) {
    }

    /** A snapshot of a table whose source is not sharded. */
    public BackfillProgress(String table, BackfillStatus status, long rowsCopied, long failedRows,
            long estimatedTotal, double rowsPerSecond, double averageRowsPerSecond, int rangesDone, int ranges,
            Optional<String> lastError) {
        this(table, status, rowsCopied, failedRows, estimatedTotal, rowsPerSecond, averageRowsPerSecond, rangesDone,
                ranges, lastError, List.of());
    }

    /** Copies the shard list. */
    public BackfillProgress {
        shards = List.copyOf(shards);
    }

    /** The span {@link #rowsPerSecond()} is measured over. */
    public static final Duration RATE_WINDOW = Duration.ofSeconds(10);

    /** @return the estimated time left at the recent rate, or empty when it cannot be estimated */
    public Optional<Duration> eta() {
        if (status == BackfillStatus.DONE) {
            return Optional.of(Duration.ZERO);
        }
        if (estimatedTotal < 0 || rowsPerSecond <= 0) {
            return Optional.empty();
        }
        long left = Math.max(0, estimatedTotal - rowsCopied);
        return Optional.of(Duration.ofMillis((long) (left / rowsPerSecond * 1000)));
    }

    @Override
    public String toString() {
        String rows = estimatedTotal < 0 ? String.format(Locale.ROOT, "%,d rows", rowsCopied)
                : String.format(Locale.ROOT, "%,d of ~%,d rows", rowsCopied, estimatedTotal);
        return String.format(Locale.ROOT, "backfill %s: %s, %s (%d failed), %d/%d ranges, %.0f rows/s over the last"
                + " %d s, %.0f rows/s on average, eta %s%s%s", table, status, rows, failedRows, rangesDone, ranges,
                rowsPerSecond, RATE_WINDOW.toSeconds(), averageRowsPerSecond,
                eta().map(Duration::toString).orElse("?"), lastError.map(e -> ", last error: " + e).orElse(""),
                shards.isEmpty() ? "" : String.format(Locale.ROOT, ", %d/%d shards done", shards.stream()
                        .filter(s -> s.status() == BackfillStatus.DONE).count(), shards.size()));
    }
}
