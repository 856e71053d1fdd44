package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.ShardedSourceOrders;
import io.dualwrite.testing.Store;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Transparent capture of an application with its own sharding code: it writes the physical tables
 * ({@code t_order_3}) of a MariaDB source sharded into 2 databases x 4 tables, each database's pool wrapped by a
 * {@link CapturingDataSource}; the changes are recorded under the logical table {@code t_order} and mirrored into
 * one PostgreSQL table.
 */
class ShardedCaptureTest {

    @AfterEach
    void restore() {
        SqlAnalyzer.physicalNamesIgnoredForTesting = false;
    }

    @Test
    void writesOnPhysicalTablesOfTwoDatabases_areCapturedUnderTheLogicalTable_andMirroredWithZeroDifferences()
            throws Exception {
        try (ShardedSourceOrders stores = ShardedSourceOrders.create()) {
            assertThat(runApplication(stores)).as("unattributed writes").isZero();
            assertThat(stores.differences()).isEmpty();
            assertThat(stores.sourceRows().values().stream().map(copies -> copies.get(0).get("shard")).distinct())
                    .as("the rows are on every shard").hasSize(8);
        }
    }

    @Test
    void negativeControl_physicalNamesNotMapped_writesPassUncaptured() throws Exception {
        SqlAnalyzer.physicalNamesIgnoredForTesting = true;
        try (ShardedSourceOrders stores = ShardedSourceOrders.create()) {
            runApplication(stores);
            assertThat(stores.differences()).as("the writes on physical tables were silently not captured")
                    .isNotEmpty().anyMatch(d -> d.startsWith("missing in target"));
        }
    }

    @Test
    void physicalNameOfTwoLogicalTables_isRefusedNamingBoth() throws Exception {
        try (ShardedSourceOrders stores = ShardedSourceOrders.create()) {
            stores.target().execute(OrderTable.ddl(Store.POSTGRESQL, "t_order_b"));
            // ds_0's t_order_1 belongs to t_order, ds_1's t_order_1 to t_order_b: the name alone cannot say whose.
            ShardedSource source = ShardedSource.builder().dataSource("ds_0", stores.shard(0).dataSource())
                    .dataSource("ds_1", stores.shard(1).dataSource()).table("t_order", "ds_0.t_order_${0..3}")
                    .table("t_order_b", "ds_1.t_order_${0..3}").build();
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build(),
                    TableMapping.builder("t_order_b").build()), source, stores.target().dataSource(), false);
            AtomicLong recorded = new AtomicLong();
            ChangeSink sink = new ChangeSink() {
                @Override
                public void afterCommit(java.util.Collection<io.dualwrite.capture.Change> changes, long at) {
                    recorded.addAndGet(changes.size());
                }
            };
            stores.shard(0).execute("INSERT INTO t_order_1 (id, user_id, status, gmt_modified) VALUES (1, 1, 'S1',"
                    + " NOW(3))");
            JdbcTemplate app = new JdbcTemplate(CapturingDataSource.builder(stores.shard(0).dataSource(), tables,
                    new ChangeCapture(sink, tables::contains)).build());
            assertThatThrownBy(() -> app.update("UPDATE t_order_1 SET status = 'X' WHERE id = ?", 1L))
                    .hasMessageContaining("table 't_order_1' is a physical table of [t_order, t_order_b]")
                    .hasMessageContaining("dualwrite.capture.unattributable=WARN");
            assertThat(stores.shard(0).queryForList("SELECT status FROM t_order_1 WHERE id = 1"))
                    .as("refused before it ran").containsExactly(java.util.Map.of("status", "S1"));
            assertThat(recorded).hasValue(0);
        }
    }

    /** The application's writes; returns the unattributed writes reported. */
    private static long runApplication(ShardedSourceOrders stores) throws Exception {
        ShardedSource source = stores.source();
        MappedTables tables = stores.orders(source);
        EventPublisher events = new EventPublisher();
        AtomicLong unattributed = new AtomicLong();
        events.subscribe(event -> {
            if (event instanceof DualWriteEvent.UnattributedWrite) {
                unattributed.incrementAndGet();
            }
        });
        MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).initialBackoff(Duration.ofMillis(5))
                .maxBackoff(Duration.ofMillis(20)).build();
        try (Mirror mirror = Mirror.create(config, tables, source, stores.target().dataSource(), events)) {
            mirror.start();
            // What the application must do: wrap each real database's pool, the ones its sharding code writes.
            JdbcTemplate[] app = new JdbcTemplate[ShardedSourceOrders.DATABASES];
            for (int d = 0; d < app.length; d++) {
                app[d] = new JdbcTemplate(CapturingDataSource.builder(stores.shard(d).dataSource(), tables,
                        new ChangeCapture(mirror, tables::contains)).events(events).build());
            }
            for (long id = 1; id <= 120; id++) {
                int[] shard = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(id));
                app[shard[0]].update("INSERT INTO t_order_" + shard[1] + " (id, user_id, status, amount, note,"
                        + " gmt_modified) VALUES (?, ?, ?, ?, ?, NOW(3))", id, ShardedSourceOrders.userOf(id),
                        "S" + id % 5, BigDecimal.valueOf(id, 2), "note " + id);
            }
            for (long id = 1; id <= 120; id += 3) {
                int[] shard = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(id));
                app[shard[0]].update("UPDATE t_order_" + shard[1] + " SET note = ?, amount = amount + 1,"
                        + " gmt_modified = NOW(3) WHERE id = ?", "updated " + id, id);
            }
            // Qualified by the real database's name, as some applications write it.
            int[] first = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(2));
            app[first[0]].update("UPDATE " + stores.shard(first[0]).name() + ".t_order_" + first[1]
                    + " SET status = 'QUALIFIED' WHERE id = ?", 2L);
            for (long id = 5; id <= 120; id += 7) {
                int[] shard = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(id));
                app[shard[0]].update("DELETE FROM t_order_" + shard[1] + " WHERE id = ?", id);
            }
            // Predicate writes: the keys come from the locked pre-read of the physical table the statement names.
            for (int d = 0; d < ShardedSourceOrders.DATABASES; d++) {
                for (int t = 0; t < ShardedSourceOrders.TABLES; t++) {
                    app[d].update("UPDATE t_order_" + t + " SET status = 'PREDICATE', gmt_modified = NOW(3)"
                            + " WHERE status = 'S1'");
                }
                app[d].update("DELETE FROM t_order_" + d + " WHERE status = 'S3'");
            }
            // A plain Statement with its key as a literal.
            int[] last = ShardedSourceOrders.shardOf(ShardedSourceOrders.userOf(500));
            app[last[0]].execute("INSERT INTO t_order_" + last[1] + " (id, user_id, status, amount, note,"
                    + " gmt_modified) VALUES (500, " + ShardedSourceOrders.userOf(500) + ", 'NEW', 1.00, NULL,"
                    + " NOW(3))");
            assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).isTrue();
            assertThat(mirror.parked()).isZero();
        }
        return unattributed.get();
    }
}
