package io.dualwrite.metrics;

import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;

/**
 * Gauges of a backfill's progress per table: rows copied, estimated total, rate and ETA, read from the
 * runner's last progress snapshot (no database query per scrape). Counters of copied and failed rows
 * come from {@link DualWriteMetrics}, through events.
 */
public final class BackfillMetrics implements MeterBinder {

    private final BackfillRunner runner;
    private final List<String> tables;

    /**
     * Creates the binder.
     *
     * @param runner the runner
     * @param tables the source tables to report
     */
    public BackfillMetrics(BackfillRunner runner, List<String> tables) {
        this.runner = Objects.requireNonNull(runner, "runner");
        this.tables = List.copyOf(tables);
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        for (String table : tables) {
            gauge(registry, MeterNames.BACKFILL_PROGRESS_ROWS, table, p -> p.rowsCopied(), "Rows copied so far");
            gauge(registry, MeterNames.BACKFILL_ESTIMATED_ROWS, table, p -> p.estimatedTotal(),
                    "Estimated rows in the table");
            gauge(registry, MeterNames.BACKFILL_RATE, table, BackfillProgress::rowsPerSecond,
                    "This instance's copy rate over the last " + BackfillProgress.RATE_WINDOW.toSeconds()
                            + " s, in rows per wall-clock second");
            gauge(registry, MeterNames.BACKFILL_AVERAGE_RATE, table, BackfillProgress::averageRowsPerSecond,
                    "This instance's average copy rate since it started the table, in rows per wall-clock second");
            gauge(registry, MeterNames.BACKFILL_ETA, table,
                    p -> p.eta().map(d -> d.toMillis() / 1000.0).orElse(Double.NaN), "Estimated seconds left");
        }
    }

    private void gauge(MeterRegistry registry, String name, String table, ToDoubleFunction<BackfillProgress> value,
            String description) {
        Gauge.builder(name, runner, r -> r.lastProgress(table).map(value::applyAsDouble).orElse(Double.NaN))
                .tag("table", table)
                .description(description)
                .register(registry);
    }
}
