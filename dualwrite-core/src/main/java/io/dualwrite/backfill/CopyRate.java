package io.dualwrite.backfill;

import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * How fast one runner copies one table, by the wall clock: every worker thread's rows are counted in
 * 100 ms buckets, so that the rate over the last window and the average since the job started here both
 * include the time spent waiting for the throttle, for row locks and for lag back-off, as an operator's
 * stopwatch does. (A rate taken per chunk from the chunk's own duration leaves those waits out, and with
 * several threads it is one thread's rate: it disagreed with the wall clock in both directions.)
 *
 * <p>Memory is one ring of buckets a little longer than the window, whatever the rate.
 */
final class CopyRate {

    private static final long BUCKET_NANOS = 100_000_000L;

    private final LongSupplier nanoTime;
    private final long windowNanos;
    private final long startedNanos;
    private final long[] rows;
    private final long[] bucketIds;
    private long total;
    private long lastNanos;

    /**
     * @param window the span {@link #recent()} looks back over; a whole number of 100 ms buckets
     * @param nanoTime the monotonic clock, {@code System::nanoTime} but in tests
     */
    CopyRate(Duration window, LongSupplier nanoTime) {
        this.nanoTime = nanoTime;
        this.windowNanos = window.toNanos();
        this.startedNanos = nanoTime.getAsLong();
        this.lastNanos = startedNanos;
        int buckets = (int) (windowNanos / BUCKET_NANOS) + 2;
        this.rows = new long[buckets];
        this.bucketIds = new long[buckets];
        java.util.Arrays.fill(bucketIds, -1);
    }

    /** Counts rows copied now, by any worker thread. */
    synchronized void record(long copied) {
        long now = nanoTime.getAsLong();
        long id = (now - startedNanos) / BUCKET_NANOS;
        int slot = (int) (id % rows.length);
        if (bucketIds[slot] != id) {
            bucketIds[slot] = id;
            rows[slot] = 0;
        }
        rows[slot] += copied;
        total += copied;
        lastNanos = now;
    }

    /**
     * @return rows per second over the last window up to now (over the time since the start while that
     *     is shorter); 0 once nothing was copied for a whole window
     */
    synchronized double recent() {
        long now = nanoTime.getAsLong();
        long elapsed = now - startedNanos;
        if (elapsed <= 0) {
            return 0;
        }
        if (elapsed <= windowNanos) {
            return total / (elapsed / 1e9);
        }
        // The buckets after the one the window opens in: their span is the window, less under one bucket.
        long firstExcluded = (elapsed - windowNanos) / BUCKET_NANOS;
        long sum = 0;
        for (int i = 0; i < rows.length; i++) {
            if (bucketIds[i] > firstExcluded) {
                sum += rows[i];
            }
        }
        return sum / (windowNanos / 1e9);
    }

    /**
     * @param running whether the job still runs here; if not, the run ended with its last chunk
     * @return rows per second from the job's start here to now, or to its last chunk once it stopped
     */
    synchronized double average(boolean running) {
        long end = running ? nanoTime.getAsLong() : lastNanos;
        long elapsed = end - startedNanos;
        return elapsed <= 0 ? 0 : total / (elapsed / 1e9);
    }
}
