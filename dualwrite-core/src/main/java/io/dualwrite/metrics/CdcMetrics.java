package io.dualwrite.metrics;

import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.cdc.CdcStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Meters of the change-data capture, read from its {@link CdcStatus} when scraped: the log lag (how far
 * reading is behind the server) apart from the apply lag (how long read keys wait for the mirror), keys
 * handed over, echoes skipped, stopped tables, and whether it runs; each tagged {@code log} with the store
 * whose log is read ({@code source}, {@code target}).
 */
public final class CdcMetrics implements MeterBinder {

    private final Map<String, Supplier<CdcStatus>> logs;

    /**
     * The meters of the source's log capture, tagged {@code log=source}.
     *
     * @param status the capture's status, e.g. {@code capture::status}
     * @throws NullPointerException if {@code status} is null
     */
    public CdcMetrics(Supplier<CdcStatus> status) {
        this(Map.of("source", Objects.requireNonNull(status, "status")));
    }

    /**
     * The meters of several log captures, each tagged {@code log=<name>}: {@code source} for the source's log,
     * {@code target} for the target's (read during RAMP).
     *
     * @param logs each capture's status by the name of the store whose log it reads
     * @throws NullPointerException if {@code logs} or a status is null
     */
    public CdcMetrics(Map<String, Supplier<CdcStatus>> logs) {
        Map<String, Supplier<CdcStatus>> copy = new LinkedHashMap<>();
        logs.forEach((name, status) -> copy.put(Objects.requireNonNull(name, "name"),
                Objects.requireNonNull(status, "status")));
        this.logs = copy;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        logs.forEach((name, status) -> bind(registry, name, status));
    }

    private static void bind(MeterRegistry registry, String log, Supplier<CdcStatus> status) {
        Tags tags = Tags.of("log", log);
        Gauge.builder(MeterNames.CDC_LOG_LAG, status, s -> s.get().logLagBytes()).tags(tags).baseUnit("bytes")
                .description("Bytes of the store's change log not read yet").register(registry);
        Gauge.builder(MeterNames.CDC_APPLY_LAG, status, s -> s.get().applyLag().toNanos() / 1e9).tags(tags)
                .baseUnit("seconds")
                .description("How long the oldest transaction read from the log has waited for its keys to be applied")
                .register(registry);
        FunctionCounter.builder(MeterNames.CDC_KEYS, status, s -> s.get().keysHanded()).tags(tags)
                .description("Keys read from the store's change log and handed to the mirror").register(registry);
        FunctionCounter.builder(MeterNames.CDC_ECHOES_SKIPPED, status, s -> s.get().echoesSkipped()).tags(tags)
                .description("Rows of the library's own statements skipped in the log").register(registry);
        Gauge.builder(MeterNames.CDC_TABLES_STOPPED, status, s -> s.get().stoppedTables().size()).tags(tags)
                .description("Mapped tables whose change-data capture stopped (DDL seen)").register(registry);
        Gauge.builder(MeterNames.CDC_RUNNING, status, s -> s.get().state() == ChangeLogCapture.State.RUNNING ? 1 : 0)
                .tags(tags).description("1 while the change-data capture reads the log").register(registry);
    }
}
