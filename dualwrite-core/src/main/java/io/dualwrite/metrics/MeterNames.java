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

    /**
     * Counter: changes of rows marked as not mirrored that were skipped; tag {@code operation} = {@code mirror} or
     * {@code backfill}.
     */
    public static final String DEGRADED_SKIPPED = "dualwrite.degraded.skipped";

    /** Counter: statements that wrote a mapped table without naming their keys, run under the WARN policy. */
    public static final String CAPTURE_UNATTRIBUTED = "dualwrite.capture.unattributed";

    /** Gauge: bytes of the source's binary log not read yet (the log lag); -1 while unknown. */
    public static final String CDC_LOG_LAG = "dualwrite.cdc.log.lag";
    /** Gauge: seconds the oldest transaction read from the log has waited for its keys to be applied (the apply lag). */
    public static final String CDC_APPLY_LAG = "dualwrite.cdc.apply.lag";
    /** Counter: keys read from the log and handed to the mirror. */
    public static final String CDC_KEYS = "dualwrite.cdc.keys";
    /** Counter: rows of the library's own statements skipped in the log. */
    public static final String CDC_ECHOES_SKIPPED = "dualwrite.cdc.echoes.skipped";
    /** Gauge: mapped tables whose capture stopped (DDL seen, layout changed); 0 when all are captured. */
    public static final String CDC_TABLES_STOPPED = "dualwrite.cdc.tables.stopped";
    /** Gauge: rows not yet expired of an incrementally migrated table, per {@code table} and {@code store}. */
    public static final String INCREMENTAL_LIVE_ROWS = "dualwrite.incremental.live.rows";
    /** Gauge: 1 while the capture reads the log, 0 when it is disabled, failed or closed. */
    public static final String CDC_RUNNING = "dualwrite.cdc.running";
    /**
     * Gauge: records of the Debezium topics' assigned partitions not read yet (the log lag of the Kafka consumer,
     * {@code dualwrite.capture.cdc.kafka.*}); -1 while unknown. The consumer also reports {@link #CDC_APPLY_LAG},
     * {@link #CDC_KEYS}, {@link #CDC_TABLES_STOPPED} and {@link #CDC_RUNNING}.
     */
    public static final String CDC_RECORDS_BEHIND = "dualwrite.cdc.records.behind";

    /** Counter: requests without a routing key that took the default route while RAMP was active. */
    public static final String ROUTING_KEYLESS = "dualwrite.routing.keyless";
    /** Gauge: the share (0..1) of this instance's requests of the last minute that carried no routing key. */
    public static final String ROUTING_KEYLESS_SHARE = "dualwrite.routing.keyless.share";
    /**
     * Counter: desired settings (feature flags, refreshed properties) by what became of them; tag
     * {@code outcome} = ACTIVATED, UNCHANGED, REFUSED or REVERTED.
     */
    public static final String ROUTING_DESIRED = "dualwrite.routing.desired";

    /** Counter: rows the backfill copied. */
    public static final String BACKFILL_ROWS = "dualwrite.backfill.rows";
    /** Counter: rows the backfill could not copy (recorded for a retry). */
    public static final String BACKFILL_FAILED_ROWS = "dualwrite.backfill.failed.rows";
    /** Gauge: rows copied so far by every runner, as of the last progress refresh. */
    public static final String BACKFILL_PROGRESS_ROWS = "dualwrite.backfill.progress.rows";
    /** Gauge: the table's estimated row count. */
    public static final String BACKFILL_ESTIMATED_ROWS = "dualwrite.backfill.estimated.rows";
    /** Gauge: this runner's copy rate over the last 10 s, rows per wall-clock second. */
    public static final String BACKFILL_RATE = "dualwrite.backfill.rate";
    /** Gauge: this runner's average copy rate since it started the table, rows per wall-clock second. */
    public static final String BACKFILL_AVERAGE_RATE = "dualwrite.backfill.rate.average";
    /** Gauge: estimated seconds left, or NaN while unknown. */
    public static final String BACKFILL_ETA = "dualwrite.backfill.eta.seconds";
    /** Gauge: rows a backfill plan's stage copied (tags {@code plan}, {@code stage}), as of the last look. */
    public static final String BACKFILL_PLAN_ROWS = "dualwrite.backfill.plan.rows";
    /** Gauge: the index of a backfill plan's current stage (tag {@code plan}); the stage count once done. */
    public static final String BACKFILL_PLAN_STAGE = "dualwrite.backfill.plan.stage";

    /**
     * Observation: one mirror apply of a batch of keys of one table (each retry is another); a timer of this
     * name and, with a tracer, a span. Low-cardinality keys {@code table} and {@code direction}
     * ({@code forward}, or {@code reverse} for target-routed writes carried back in RAMP); high-cardinality
     * {@code keys} and {@code deferred}.
     */
    public static final String MIRROR_APPLY_OBSERVATION = "dualwrite.mirror.apply";
    /**
     * Observation: one backfill chunk, read to commit. Low-cardinality key {@code table}; high-cardinality
     * {@code range}, {@code rows} and {@code failed.rows}.
     */
    public static final String BACKFILL_CHUNK_OBSERVATION = "dualwrite.backfill.chunk";

    private MeterNames() {
    }
}
