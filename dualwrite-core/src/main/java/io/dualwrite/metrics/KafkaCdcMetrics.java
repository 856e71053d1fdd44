package io.dualwrite.metrics;

import io.dualwrite.cdc.kafka.DebeziumKafkaCapture;
import io.dualwrite.cdc.kafka.KafkaCdcStatus;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Meters of the Debezium topic consumer, read from its {@link KafkaCdcStatus} when scraped: the records behind
 * the partitions' ends (its log lag) apart from the apply lag, keys handed over, stopped tables, and whether it
 * runs. Under the log readers' names (see {@link CdcMetrics}) where they mean the same, since only one of the
 * two captures runs.
 */
public final class KafkaCdcMetrics implements MeterBinder {

    private final Supplier<KafkaCdcStatus> status;

    /**
     * @param status the consumer's status, e.g. {@code capture::status}
     * @throws NullPointerException if {@code status} is null
     */
    public KafkaCdcMetrics(Supplier<KafkaCdcStatus> status) {
        this.status = Objects.requireNonNull(status, "status");
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        // The source's changes, tagged as the source log reader's meters are (the two never run together).
        Tags tags = Tags.of("log", "source");
        Gauge.builder(MeterNames.CDC_RECORDS_BEHIND, status, s -> s.get().recordsBehind())
                .description("Records of the Debezium topics' assigned partitions not read yet")
                .tags(tags).register(registry);
        Gauge.builder(MeterNames.CDC_APPLY_LAG, status, s -> s.get().applyLag().toNanos() / 1e9).baseUnit("seconds")
                .description("How long the oldest records read from the topics have waited for their keys to be"
                        + " applied").tags(tags).register(registry);
        FunctionCounter.builder(MeterNames.CDC_KEYS, status, s -> s.get().keysHanded())
                .description("Keys read from the Debezium topics and handed to the mirror")
                .tags(tags).register(registry);
        Gauge.builder(MeterNames.CDC_TABLES_STOPPED, status, s -> s.get().stoppedTables().size())
                .description("Mapped tables whose capture stopped on a refused record").tags(tags).register(registry);
        Gauge.builder(MeterNames.CDC_RUNNING, status,
                        s -> s.get().state() == DebeziumKafkaCapture.State.RUNNING ? 1 : 0)
                .description("1 while the Debezium topic consumer runs").tags(tags).register(registry);
    }
}
