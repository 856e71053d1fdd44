package io.dualwrite.metrics;

import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.cdc.CdcStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Meters of the change-data capture, read from its {@link CdcStatus} when scraped: the log lag (how far
 * reading is behind the server) apart from the apply lag (how long read keys wait for the mirror), keys
 * handed over, echoes skipped, stopped tables, and whether it runs.
 */
public final class CdcMetrics implements MeterBinder {

    private final Supplier<CdcStatus> status;

    /**
     * @param status the capture's status, e.g. {@code capture::status}
     * @throws NullPointerException if {@code status} is null
     */
    public CdcMetrics(Supplier<CdcStatus> status) {
        this.status = Objects.requireNonNull(status, "status");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        Gauge.builder(MeterNames.CDC_LOG_LAG, status, s -> s.get().logLagBytes()).baseUnit("bytes")
                .description("Bytes of the source's binary log not read yet").register(registry);
        Gauge.builder(MeterNames.CDC_APPLY_LAG, status, s -> s.get().applyLag().toNanos() / 1e9).baseUnit("seconds")
                .description("How long the oldest transaction read from the log has waited for its keys to be applied")
                .register(registry);
        FunctionCounter.builder(MeterNames.CDC_KEYS, status, s -> s.get().keysHanded())
                .description("Keys read from the source's binary log and handed to the mirror").register(registry);
        FunctionCounter.builder(MeterNames.CDC_ECHOES_SKIPPED, status, s -> s.get().echoesSkipped())
                .description("Rows of the library's own statements skipped in the log").register(registry);
        Gauge.builder(MeterNames.CDC_TABLES_STOPPED, status, s -> s.get().stoppedTables().size())
                .description("Mapped tables whose change-data capture stopped (DDL seen)").register(registry);
        Gauge.builder(MeterNames.CDC_RUNNING, status, s -> s.get().state() == ChangeLogCapture.State.RUNNING ? 1 : 0)
                .description("1 while the change-data capture reads the log").register(registry);
    }
}
