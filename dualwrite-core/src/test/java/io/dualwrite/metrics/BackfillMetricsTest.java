package io.dualwrite.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class BackfillMetricsTest {

    @Test
    void afterABackfill_countersAndGaugesShowItsProgress() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "bfm_src");
                TestDatabase target = TestDatabase.create(Store.H2, "bfm_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"), "INSERT INTO t_order (id, user_id, status,"
                    + " gmt_modified) SELECT X, 1, 'NEW', TIMESTAMP '2026-01-01 00:00:00' FROM SYSTEM_RANGE(1, 700)");
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            EventPublisher events = new EventPublisher();
            BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true).chunkSize(100)
                    .chunkSizeBounds(100, 100).build(), tables, source.dataSource(), target.dataSource(), events);
            DualWriteMetrics metrics = new DualWriteMetrics(runner, r -> 0);
            metrics.bindTo(registry);
            events.subscribe(metrics);
            new BackfillMetrics(runner, List.of("t_order")).bindTo(registry);
            assertThat(registry.get(MeterNames.BACKFILL_PROGRESS_ROWS).gauge().value()).as("not started").isNaN();

            runner.start("t_order");
            assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
            runner.close();

            assertThat(registry.get(MeterNames.BACKFILL_ROWS).tag("table", "t_order").counter().count()).isEqualTo(700);
            assertThat(registry.get(MeterNames.BACKFILL_FAILED_ROWS).counter().count()).isZero();
            assertThat(registry.get(MeterNames.BACKFILL_PROGRESS_ROWS).gauge().value()).isEqualTo(700);
            assertThat(registry.get(MeterNames.BACKFILL_ESTIMATED_ROWS).gauge().value()).isEqualTo(700);
            assertThat(registry.get(MeterNames.BACKFILL_ETA).gauge().value()).isZero();
            assertThat(registry.get(MeterNames.BACKFILL_RATE).gauge().value()).isPositive();
        }
    }
}
