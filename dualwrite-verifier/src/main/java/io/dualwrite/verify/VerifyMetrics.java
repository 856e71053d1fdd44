package io.dualwrite.verify;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Locale;

/**
 * Turns verifier events into Micrometer counters. Pass it as the listener (or call it from yours) and bind
 * it to a registry; events before {@link #bindTo} are not counted. Every verifier meter name is here. Tags:
 * {@code table}, and the ones noted.
 */
public final class VerifyMetrics implements MeterBinder, VerifyEvent.Listener {

    /** Counter: double reads compared; tag {@code outcome} = {@code match} or {@code difference}. */
    public static final String READS = "dualwrite.verify.reads";
    /** Counter: double reads dropped because the executor was saturated. */
    public static final String READS_DROPPED = "dualwrite.verify.reads.dropped";
    /** Counter: double reads that could not compare (a store failed). */
    public static final String READS_FAILED = "dualwrite.verify.reads.failed";
    /** Counter: differences re-checked later as possible lag. */
    public static final String LAG_RECHECKS = "dualwrite.verify.lag.rechecks";
    /** Counter: confirmed mismatches; tags {@code check} and {@code kind}. */
    public static final String MISMATCHES = "dualwrite.verify.mismatches";
    /** Counter: mismatch lines suppressed by the per-table rate limit. */
    public static final String MISMATCH_LINES_SUPPRESSED = "dualwrite.verify.mismatch.lines.suppressed";
    /** Counter: rows repaired; tag {@code outcome} = {@code repaired} or {@code failed}. */
    public static final String REPAIRS = "dualwrite.verify.repairs";
    /** Counter: rows the reconciler compared; tag {@code path} = {@code checksum} or {@code rows}. */
    public static final String RECONCILED_ROWS = "dualwrite.verify.reconcile.rows";
    /**
     * Observation: one reconcile chunk compared, and repaired unless dry; a timer of this name and, with a
     * tracer, a span. Low-cardinality keys {@code table} and {@code path} ({@code checksum} when the chunk's
     * in-database checksums matched, else {@code rows}).
     */
    public static final String RECONCILE_CHUNK_OBSERVATION = "dualwrite.verify.reconcile.chunk";
    /**
     * Observation: one double-read comparison, off the request's thread but under its observation.
     * Low-cardinality keys {@code table} and {@code outcome} ({@code match}, {@code mismatch}, {@code lag},
     * {@code failed}).
     */
    public static final String DOUBLE_READ_OBSERVATION = "dualwrite.verify.double.read";

    private volatile MeterRegistry registry;

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        this.registry = meterRegistry;
    }

    @Override
    public void onEvent(VerifyEvent event) {
        MeterRegistry current = registry;
        if (current == null) {
            return;
        }
        String table = event.table();
        if (event instanceof VerifyEvent.ReadCompared read) {
            count(current, READS, table, "outcome", read.matched() ? "match" : "difference", 1);
        } else if (event instanceof VerifyEvent.ReadDropped) {
            count(current, READS_DROPPED, table, null, null, 1);
        } else if (event instanceof VerifyEvent.ReadFailed) {
            count(current, READS_FAILED, table, null, null, 1);
        } else if (event instanceof VerifyEvent.LagRecheck) {
            count(current, LAG_RECHECKS, table, null, null, 1);
        } else if (event instanceof VerifyEvent.MismatchFound found) {
            Counter.builder(MISMATCHES).tag("table", table)
                    .tag("check", found.check().name().toLowerCase(Locale.ROOT))
                    .tag("kind", found.mismatch().kind().name().toLowerCase(Locale.ROOT))
                    .register(current).increment();
            if (!found.logged()) {
                count(current, MISMATCH_LINES_SUPPRESSED, table, null, null, 1);
            }
        } else if (event instanceof VerifyEvent.Repaired repaired) {
            count(current, REPAIRS, table, "outcome", "repaired", repaired.repaired());
            count(current, REPAIRS, table, "outcome", "failed", repaired.failed());
        } else if (event instanceof VerifyEvent.ChunkReconciled chunk) {
            count(current, RECONCILED_ROWS, table, "path", chunk.byChecksum() ? "checksum" : "rows", chunk.rows());
        }
    }

    private static void count(MeterRegistry registry, String name, String table, String tag, String value,
            double amount) {
        Counter.Builder builder = Counter.builder(name).tag("table", table);
        if (tag != null) {
            builder.tag(tag, value);
        }
        builder.register(registry).increment(amount);
    }
}
