package io.dualwrite.backfill;

import java.time.Duration;
import java.util.Optional;

/**
 * A snapshot of one table's backfill, summed over its key ranges and every instance working on it.
 *
 * @param table the source table
 * @param status the job's status: RUNNING while any range runs, DONE when all are done
 * @param rowsCopied rows written to the target so far
 * @param failedRows rows that failed and were recorded for a retry
 * @param estimatedTotal the table's estimated row count (from statistics), or -1 if unknown
 * @param rowsPerSecond this runner's recent copy rate
 * @param rangesDone key ranges finished
 * @param ranges key ranges in all
 * @param lastError the last error or pause reason, if any
 */
public record BackfillProgress(String table, BackfillStatus status, long rowsCopied, long failedRows,
        long estimatedTotal, double rowsPerSecond, int rangesDone, int ranges, Optional<String> lastError) {

    /** @return the estimated time left at the current rate, or empty when it cannot be estimated */
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
        return String.format("backfill %s: %s, %,d of ~%,d rows (%d failed), %d/%d ranges, %.0f rows/s, eta %s%s",
                table, status, rowsCopied, estimatedTotal, failedRows, rangesDone, ranges, rowsPerSecond,
                eta().map(Duration::toString).orElse("?"), lastError.map(e -> ", last error: " + e).orElse(""));
    }
}
