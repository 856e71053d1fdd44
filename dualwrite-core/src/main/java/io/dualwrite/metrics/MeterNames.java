package io.dualwrite.metrics;

/** Every meter the library registers, in one place. Tags: {@code table}, and {@code operation} where noted. */
public final class MeterNames {

    /** Counter: rows brought to the other store; tag {@code operation} = {@code upsert} or {@code delete}. */
    public static final String MIRROR_APPLIED = "dualwrite.mirror.applied";
    /** Counter: failed apply attempts (each retried or parked). */
    public static final String MIRROR_FAILURES = "dualwrite.mirror.failures";
    /** Counter: applies that gave way to a writer's lock and were retried. */
    public static final String MIRROR_DEFERRED = "dualwrite.mirror.deferred";
    /** Counter: keys parked after their last retry. */
    public static final String MIRROR_PARKED = "dualwrite.mirror.parked";
    /** Timer: from the source commit to the apply's commit, per key. */
    public static final String MIRROR_LAG = "dualwrite.mirror.lag";
    /** Gauge: keys waiting to be applied. */
    public static final String MIRROR_QUEUE_DEPTH = "dualwrite.mirror.queue.depth";

    private MeterNames() {
    }
}
