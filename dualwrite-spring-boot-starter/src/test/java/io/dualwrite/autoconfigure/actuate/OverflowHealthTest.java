package io.dualwrite.autoconfigure.actuate;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.DualWriteProperties;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.springframework.boot.health.contributor.Health;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Health says when an ASYNC mirror parks the keys its full queue cannot hold because there is no outbox
 * table to spill them to (issue 16, item 2), and how many keys were spilled.
 */
class OverflowHealthTest {

    @Test
    void fullQueueWithoutOutboxTable_showsTheParkingInHealth() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "health_src");
                TestDatabase target = TestDatabase.create(Store.H2, "health_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            FailingDataSource flaky = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), flaky, false);
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).lanes(1).queueCapacity(2)
                    .maxAttempts(1_000).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), flaky, new EventPublisher())) {
                mirror.start();
                DualWriteHealthIndicator indicator = new DualWriteHealthIndicator(mirror,
                        new DualWriteProperties().getHealth());
                assertThat(indicator.health().getDetails()).doesNotContainKey("mirrorParkingOverflow")
                        .containsEntry("spilled", 0L);

                flaky.setDown(true);
                JdbcTemplate app = new JdbcTemplate(source.dataSource());
                for (long id = 1; id <= 10; id++) {
                    app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'NEW', ?)", id,
                            new Timestamp(System.currentTimeMillis()));
                    mirror.recorder().record("t_order", id);
                }

                Health health = indicator.health();
                assertThat(String.valueOf(health.getDetails().get("mirrorParkingOverflow")))
                        .startsWith(mirror.parked() + " keys parked since ")
                        .contains("outbox table 'dualwrite_outbox' does not exist to spill to");
                assertThat(mirror.parked()).isBetween(8L, 10L);
                flaky.setDown(false);
            }
        }
    }
}
