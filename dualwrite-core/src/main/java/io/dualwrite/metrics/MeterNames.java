package io.dualwrite.metrics;

/** Every meter the library registers, in one place. Tags: {@code table}, and {@code operation} where noted. */
public final class MeterNames {

    /** Counter: rows brought to the other store; tag {@code operation} = {@code upsert} or {@code delete}. */
    public static final String MIRROR_APPLIED = "dualwrite.mirror.applied";
    /** Counter: failed apply attempts (each retried or parked). */
    public static final String MIRROR_FAILURES = "dualwrite.mirror.failures";
    /** Counter: applies that gave way to a writer's lock and were retried. */
    public static final String MIRROR_DEFERRED = "dualwrite.mirror.deferred";
    /** Counter: keys parked after their last retry, or because a full queue could not spill them. */
    public static final String MIRROR_PARKED = "dualwrite.mirror.parked";
    /** Counter: keys a full mirror queue wrote to the outbox table instead of holding them. */
    public static final String MIRROR_SPILLED = "dualwrite.mirror.spilled";
    /** Timer: from the source commit to the apply's commit, per key. */
    public static final String MIRROR_LAG = "dualwrite.mirror.lag";
    /** Gauge: keys waiting to be applied. */
    public static final String MIRROR_QUEUE_DEPTH = "dualwrite.mirror.queue.depth";

    /** Counter: statements that wrote a mapped table without naming their keys, run under the WARN policy. */
    public static final String CAPTURE_UNATTRIBUTED = "dualwrite.capture.unattributed";

    /** Counter: rows the backfill copied. */
    public static final String BACKFILL_ROWS = "dualwrite.backfill.rows";
    /** Counter: rows the backfill could not copy (recorded for a retry). */
    public static final String BACKFILL_FAILED_ROWS = "dualwrite.backfill.failed.rows";
    /** Gauge: rows copied so far by every runner, as of the last progress refresh. */
    public static final String BACKFILL_PROGRESS_ROWS = "dualwrite.backfill.progress.rows";
    /** Gauge: the table's estimated row count. */
    public static final String BACKFILL_ESTIMATED_ROWS = "dualwrite.backfill.estimated.rows";
    /** Gauge: this runner's recent copy rate in rows per second. */
    public static final String BACKFILL_RATE = "dualwrite.backfill.rate";
    /** Gauge: estimated seconds left, or NaN while unknown. */
    public static final String BACKFILL_ETA = "dualwrite.backfill.eta.seconds";

    private MeterNames() {
    }
}
