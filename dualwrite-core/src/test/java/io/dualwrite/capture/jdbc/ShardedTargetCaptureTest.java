package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.ShardedOrders;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Transparent capture on the target side of RAMP when the target is a ShardingSphere-JDBC data source (PostgreSQL,
 * 2 databases x 4 tables by {@code user_id}): the application writes the logical table through the capturing
 * wrapper of ShardingSphere's data source, keyed and by predicate (the locked pre-read goes through ShardingSphere
 * to every shard), and the reverse mirror carries every change to the MariaDB source.
 */
class ShardedTargetCaptureTest {

    @Test
    void targetRoutedWritesThroughShardingSphere_areCapturedAndMirroredBack_withZeroDifferencesPerShard()
            throws Exception {
        try (ShardedOrders stores = ShardedOrders.create()) {
            MappedTables tables = stores.orders();
            EventPublisher events = new EventPublisher();
            AtomicLong unattributed = new AtomicLong();
            events.subscribe(event -> {
                if (event instanceof DualWriteEvent.UnattributedWrite) {
                    unattributed.incrementAndGet();
                }
            });
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).initialBackoff(Duration.ofMillis(5))
                    .maxBackoff(Duration.ofMillis(20)).build();
            try (Mirror reverse = Mirror.create(config, tables.reversed(), stores.target(),
                    stores.source().dataSource(), events)) {
                reverse.start();
                // The application's own data source is ShardingSphere's; the library's is the ShardingSphereTarget.
                JdbcTemplate app = new JdbcTemplate(CapturingDataSource.builder(stores.target().shardingSphere(),
                        tables, new ChangeCapture(reverse, tables::contains)).side(Route.TARGET).events(events)
                        .build());

                for (long id = 1; id <= 120; id++) {
                    app.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                            + " VALUES (?, ?, ?, ?, ?, CURRENT_TIMESTAMP(3))", id, ShardedOrders.userOf(id),
                            "S" + id % 5, BigDecimal.valueOf(id, 2), "note " + id);
                }
                for (long id = 1; id <= 120; id += 3) {
                    app.update("UPDATE t_order SET note = ?, amount = amount + 1, gmt_modified = CURRENT_TIMESTAMP(3)"
                            + " WHERE id = ? AND user_id = ?", "updated " + id, id, ShardedOrders.userOf(id));
                }
                for (long id = 5; id <= 120; id += 7) {
                    app.update("DELETE FROM t_order WHERE id = ?", id);
                }
                // Predicate writes: their keys come from the locked pre-read, which ShardingSphere sends to every
                // shard; one of them names the sharding column and so reaches one database only.
                app.update("UPDATE t_order SET status = 'PREDICATE', gmt_modified = CURRENT_TIMESTAMP(3)"
                        + " WHERE status = 'S1'");
                app.update("DELETE FROM t_order WHERE status = 'S3'");
                app.update("UPDATE t_order SET note = 'of user 4' WHERE user_id = ?", 4L);

                assertThat(reverse.awaitDrained(Duration.ofSeconds(60))).isTrue();
                assertThat(reverse.parked()).isZero();
            }

            assertThat(unattributed).as("unattributed writes").hasValue(0);
            assertThat(stores.source().queryForObject("SELECT COUNT(*) FROM t_order", Long.class))
                    .as("rows mirrored back").isGreaterThan(50);
            assertThat(stores.source().queryForObject("SELECT COUNT(*) FROM t_order WHERE status = 'PREDICATE'",
                    Long.class)).as("the predicate update mirrored back").isPositive();
            assertThat(stores.differencesPerShard()).isEmpty();

            // The comparison sees a write that escaped capture: one made on ShardingSphere's data source itself.
            new JdbcTemplate(stores.target().shardingSphere()).update("INSERT INTO t_order (id, user_id, status,"
                    + " gmt_modified) VALUES (999, 5, 'UNCAPTURED', CURRENT_TIMESTAMP(3))");
            assertThat(stores.differencesPerShard()).singleElement().asString().startsWith("extra on ds_1.t_order_2");
        }
    }
}
