package io.dualwrite.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The meters {@link DualWriteMetrics} derives from the library's events. */
class DualWriteMetricsTest {

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    private final AtomicInteger queue = new AtomicInteger();
    private final DualWriteMetrics metrics = new DualWriteMetrics(queue, AtomicInteger::get);

    @Test
    void changesApplied_countsRowsPerOperationAndTable() {
        metrics.bindTo(registry);

        metrics.onEvent(new DualWriteEvent.ChangesApplied("t_order", 3, 1, List.of()));
        metrics.onEvent(new DualWriteEvent.ChangesApplied("t_order", 2, 0, List.of()));
        metrics.onEvent(new DualWriteEvent.ChangesApplied("t_user", 5, 4, List.of()));

        assertThat(applied("t_order", "upsert").count()).isEqualTo(5.0);
        assertThat(applied("t_order", "delete").count()).isEqualTo(1.0);
        assertThat(applied("t_user", "upsert").count()).isEqualTo(5.0);
        assertThat(applied("t_user", "delete").count()).isEqualTo(4.0);
    }

    @Test
    void changesApplied_recordsEachKeysLag() {
        metrics.bindTo(registry);

        metrics.onEvent(new DualWriteEvent.ChangesApplied("t_order", 2, 1,
                List.of(Duration.ofMillis(10), Duration.ofMillis(30), Duration.ofMillis(200))));

        Timer lag = registry.get(MeterNames.MIRROR_LAG).tag("table", "t_order").timer();
        assertThat(lag.count()).isEqualTo(3);
        assertThat(lag.totalTime(TimeUnit.MILLISECONDS)).isEqualTo(240.0);
        assertThat(lag.max(TimeUnit.MILLISECONDS)).isEqualTo(200.0);
        assertThat(registry.find(MeterNames.MIRROR_LAG).tag("table", "t_user").timer()).isNull();
    }

    @Test
    void failuresDeferralsAndParkedKeys_areCountedPerTable() {
        metrics.bindTo(registry);

        metrics.onEvent(new DualWriteEvent.ApplyFailed("t_order", 12, 1, true, new SQLException("target down")));
        metrics.onEvent(new DualWriteEvent.ApplyFailed("t_order", 12, 2, false, new SQLException("target down")));
        metrics.onEvent(new DualWriteEvent.ApplyDeferred("t_order", 5));
        metrics.onEvent(new DualWriteEvent.ApplyDeferred("t_order", 2));
        metrics.onEvent(new DualWriteEvent.KeyParked("t_order", RowKey.of(1L), "target down"));
        metrics.onEvent(new DualWriteEvent.KeyParked("t_user", RowKey.of("u1"), "target down"));

        assertThat(counter(MeterNames.MIRROR_FAILURES, "t_order").count()).isEqualTo(2.0);
        assertThat(counter(MeterNames.MIRROR_DEFERRED, "t_order").count()).isEqualTo(7.0);
        assertThat(counter(MeterNames.MIRROR_PARKED, "t_order").count()).isEqualTo(1.0);
        assertThat(counter(MeterNames.MIRROR_PARKED, "t_user").count()).isEqualTo(1.0);
        assertThat(registry.find(MeterNames.MIRROR_APPLIED).counters()).isEmpty();
    }

    @Test
    void queueDepthGauge_readsTheOwnerEachTime() {
        metrics.bindTo(registry);
        Gauge depth = registry.get(MeterNames.MIRROR_QUEUE_DEPTH).gauge();

        queue.set(7);
        double first = depth.value();
        queue.set(1_200);
        double second = depth.value();

        assertThat(first).isEqualTo(7.0);
        assertThat(second).isEqualTo(1_200.0);
    }

    @Test
    void eventsBeforeBindTo_areIgnoredWithoutError() {
        assertThatCode(() -> {
            metrics.onEvent(new DualWriteEvent.ChangesApplied("t_order", 3, 1, List.of(Duration.ofMillis(5))));
            metrics.onEvent(new DualWriteEvent.ApplyFailed("t_order", 1, 1, true, new SQLException("down")));
            metrics.onEvent(new DualWriteEvent.ApplyDeferred("t_order", 1));
            metrics.onEvent(new DualWriteEvent.KeyParked("t_order", RowKey.of(1L), "down"));
        }).doesNotThrowAnyException();

        metrics.bindTo(registry);
        metrics.onEvent(new DualWriteEvent.ChangesApplied("t_order", 2, 0, List.of()));

        assertThat(applied("t_order", "upsert").count()).isEqualTo(2.0);
        assertThat(registry.find(MeterNames.MIRROR_FAILURES).counters()).isEmpty();
        assertThat(registry.find(MeterNames.MIRROR_DEFERRED).counters()).isEmpty();
        assertThat(registry.find(MeterNames.MIRROR_PARKED).counters()).isEmpty();
        assertThat(registry.find(MeterNames.MIRROR_LAG).timers()).allSatisfy(t -> assertThat(t.count()).isZero());
    }

    @Test
    void subscribedToThePublisher_countsPublishedEvents() {
        EventPublisher publisher = new EventPublisher().subscribe(metrics);
        metrics.bindTo(registry);

        publisher.publish(new DualWriteEvent.ChangesApplied("t_order", 4, 0, List.of(Duration.ofMillis(1))));
        publisher.publish(new DualWriteEvent.KeyParked("t_order", RowKey.of(9L), "gave up"));

        assertThat(applied("t_order", "upsert").count()).isEqualTo(4.0);
        assertThat(counter(MeterNames.MIRROR_PARKED, "t_order").count()).isEqualTo(1.0);
    }

    private Counter applied(String table, String operation) {
        return registry.get(MeterNames.MIRROR_APPLIED).tag("table", table).tag("operation", operation).counter();
    }

    private Counter counter(String name, String table) {
        return registry.get(name).tag("table", table).counter();
    }

    @Test
    void changesSkipped_areCountedPerTableAndWhoSkipped() {
        metrics.bindTo(registry);

        metrics.onEvent(new DualWriteEvent.ChangesSkipped("t_order", 3, "mirror"));
        metrics.onEvent(new DualWriteEvent.ChangesSkipped("t_order", 2, "mirror"));
        metrics.onEvent(new DualWriteEvent.ChangesSkipped("t_order", 7, "backfill"));

        assertThat(registry.get(MeterNames.DEGRADED_SKIPPED).tag("table", "t_order").tag("operation", "mirror")
                .counter().count()).isEqualTo(5.0);
        assertThat(registry.get(MeterNames.DEGRADED_SKIPPED).tag("table", "t_order").tag("operation", "backfill")
                .counter().count()).isEqualTo(7.0);
    }
}
