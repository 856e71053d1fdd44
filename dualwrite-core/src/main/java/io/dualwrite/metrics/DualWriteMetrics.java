package io.dualwrite.metrics;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.DualWriteEventListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.time.Duration;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Turns the library's events into Micrometer meters. Subscribe it to the
 * {@link io.dualwrite.event.EventPublisher} and bind it to a registry:
 *
 * <pre>{@code
 * DualWriteMetrics metrics = new DualWriteMetrics(mirror, Mirror::pending);
 * events.subscribe(metrics);
 * metrics.bindTo(registry);
 * }</pre>
 *
 * Events that arrive before {@link #bindTo} is called are not counted.
 */
public final class DualWriteMetrics implements MeterBinder, DualWriteEventListener {

    private final Object queueOwner;
    private final ToDoubleFunction<Object> queueDepth;
    private volatile MeterRegistry registry;

    /**
     * Creates the binder.
     *
     * @param queueOwner the object whose queue depth is gauged (held weakly by the gauge)
     * @param queueDepth reads the queue depth from it
     * @param <T> the owner's type
     */
    @SuppressWarnings("unchecked")
    public <T> DualWriteMetrics(T queueOwner, ToDoubleFunction<T> queueDepth) {
        this.queueOwner = Objects.requireNonNull(queueOwner, "queueOwner");
        this.queueDepth = (ToDoubleFunction<Object>) Objects.requireNonNull(queueDepth, "queueDepth");
    }

    @Override
    public void bindTo(MeterRegistry meterRegistry) {
        Gauge.builder(MeterNames.MIRROR_QUEUE_DEPTH, queueOwner, queueDepth)
                .description("Keys waiting to be mirrored")
                .register(meterRegistry);
        this.registry = meterRegistry;
    }

    @Override
    public void onEvent(DualWriteEvent event) {
        MeterRegistry current = registry;
        if (current == null) {
            return;
        }
        String table = event.table();
        if (event instanceof DualWriteEvent.ChangesApplied applied) {
            counter(current, MeterNames.MIRROR_APPLIED, table, "upsert").increment(applied.upserted());
            counter(current, MeterNames.MIRROR_APPLIED, table, "delete").increment(applied.deleted());
            Timer lag = Timer.builder(MeterNames.MIRROR_LAG).tag("table", table)
                    .description("Time from the source commit to the mirror's commit")
                    .publishPercentiles(0.5, 0.99)
                    .register(current);
            for (Duration each : applied.lags()) {
                lag.record(each);
            }
        } else if (event instanceof DualWriteEvent.ApplyFailed) {
            counter(current, MeterNames.MIRROR_FAILURES, table, null).increment();
        } else if (event instanceof DualWriteEvent.ApplyDeferred deferred) {
            counter(current, MeterNames.MIRROR_DEFERRED, table, null).increment(deferred.keys());
        } else if (event instanceof DualWriteEvent.KeyParked) {
            counter(current, MeterNames.MIRROR_PARKED, table, null).increment();
        } else if (event instanceof DualWriteEvent.KeysSpilled spilled) {
            counter(current, MeterNames.MIRROR_SPILLED, table, null).increment(spilled.keys());
        } else if (event instanceof DualWriteEvent.ChunkCopied chunk) {
            counter(current, MeterNames.BACKFILL_ROWS, table, null).increment(chunk.rows());
            counter(current, MeterNames.BACKFILL_FAILED_ROWS, table, null).increment(chunk.failedRows());
        } else if (event instanceof DualWriteEvent.ChangesSkipped skipped) {
            counter(current, MeterNames.DEGRADED_SKIPPED, table, skipped.by()).increment(skipped.keys());
        } else if (event instanceof DualWriteEvent.UnattributedWrite) {
            counter(current, MeterNames.CAPTURE_UNATTRIBUTED, table, null).increment();
        }
    }

    private static Counter counter(MeterRegistry registry, String name, String table, String operation) {
        Counter.Builder builder = Counter.builder(name).tag("table", table);
        if (operation != null) {
            builder.tag("operation", operation);
        }
        return builder.register(registry);
    }
}
