package io.dualwrite.shard;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.CrossRouteWrites;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.JdbcControlStore;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingChangeSink;
import io.dualwrite.routing.RoutingContext;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.testing.ShardedOrders;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A whole migration wired by hand as the starter wires a sharded target: MariaDB's single {@code t_order} and
 * PostgreSQL split by ShardingSphere into 2 databases x 4 tables by {@code user_id} ({@link ShardedOrders}).
 * Requests routed to the target go through ShardingSphere's own data source; the library (both mirrors, the
 * control store) goes through a {@link ShardingSphereTarget} over that same data source.
 */
final class ShardedRampRig implements AutoCloseable {

    final ShardedOrders stores;
    final DataSource shardingSphere;
    final ShardingSphereTarget target;
    final MappedTables tables;
    final Mirror forward;
    final Mirror reverse;
    final MigrationController controller;
    final DualWriteRoutingDataSource routing;
    final ChangeCapture capture;
    final TransactionTemplate transactions;
    final JdbcTemplate jdbc;
    final CrossRouteWrites crossRoute;
    final EventPublisher events = new EventPublisher();

    ShardedRampRig(MirrorMode mode, RoutingRules initial) throws Exception {
        stores = ShardedOrders.create();
        // OUTBOX: a transaction routed to the target writes its outbox rows on the home database through
        // ShardingSphere's own connection in that transaction; the YAML needs nothing for the library's tables.
        String yaml = stores.yaml(null);
        shardingSphere = YamlShardingSphereDataSourceFactory.createDataSource(yaml.getBytes(StandardCharsets.UTF_8));
        target = ShardingSphereTarget.of(shardingSphere);
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id")
                .immutableShardingColumn(true).build()), stores.source().dataSource(), target, true);
        JdbcControlStore store = JdbcControlStore.open(target, "orders", initial, true);
        MirrorConfig config = MirrorConfig.builder().mode(mode).createOutboxTable(mode == MirrorMode.OUTBOX)
                .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(200)).maxAttempts(200).build();
        controller = MigrationController.builder(store).instanceId("sharded-ramp").pollInterval(Duration.ofMillis(100))
                .stepTimeout(Duration.ofSeconds(30)).holdTimeout(Duration.ofSeconds(30)).build();
        routing = new DualWriteRoutingDataSource(stores.source().dataSource(), shardingSphere, controller);
        forward = Mirror.create(config, tables, stores.source().dataSource(), target, routing, events);
        reverse = Mirror.create(config, tables.reversed(), target, stores.source().dataSource(), routing, events);
        controller.addDrain(MigrationController.Drain.of(forward));
        controller.addDrain(MigrationController.Drain.of(reverse));
        crossRoute = new CrossRouteWrites(controller, Route.SOURCE);
        forward.observeRows(crossRoute);
        forward.start();
        reverse.start();
        controller.start();
        capture = new ChangeCapture(new RoutingChangeSink(controller, tables, forward, reverse), tables::contains);
        transactions = new TransactionTemplate(new DataSourceTransactionManager(routing));
        transactions.setIsolationLevel(TransactionTemplate.ISOLATION_READ_COMMITTED);
        jdbc = new JdbcTemplate(routing);
    }

    /** Runs one application transaction for a user, recording the order it changes. */
    void write(long userId, long orderId, Consumer<JdbcTemplate> body) {
        RoutingContext.run(userId, () -> transactions.executeWithoutResult(status -> {
            body.accept(jdbc);
            capture.record("t_order", orderId);
        }));
    }

    /** Updates or inserts a user's order; the sharding column in every statement lets ShardingSphere route it. */
    void upsert(long userId, long orderId, String note) {
        write(userId, orderId, jdbc -> {
            Timestamp now = new Timestamp(System.currentTimeMillis());
            int updated = jdbc.update("UPDATE t_order SET note = ?, gmt_modified = ? WHERE id = ? AND user_id = ?",
                    note, now, orderId, userId);
            if (updated == 0) {
                jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (?, ?, 'NEW', 10.00, ?, ?)", orderId, userId, note, now);
            }
        });
    }

    void delete(long userId, long orderId) {
        write(userId, orderId, jdbc -> jdbc.update("DELETE FROM t_order WHERE id = ? AND user_id = ?", orderId,
                userId));
    }

    boolean drain() throws InterruptedException {
        return forward.awaitDrained(Duration.ofSeconds(30)) && reverse.awaitDrained(Duration.ofSeconds(30))
                && forward.awaitDrained(Duration.ofSeconds(30));
    }

    /** @return every order's note in the source, by order id */
    Map<Long, String> sourceNotes() {
        Map<Long, String> notes = new TreeMap<>();
        for (Map<String, Object> row : stores.source().queryForList("SELECT id, note FROM t_order")) {
            notes.put(((Number) row.get("id")).longValue(), Objects.toString(row.get("note")));
        }
        return notes;
    }

    /** @return how many physical tables hold the order, read on each directly */
    long physicalCopies(long orderId) {
        long copies = 0;
        for (int d = 0; d < ShardedOrders.DATABASES; d++) {
            for (int t = 0; t < ShardedOrders.TABLES; t++) {
                copies += stores.shard(d).queryForObject("SELECT COUNT(*) FROM t_order_" + t + " WHERE id = ?",
                        Long.class, orderId);
            }
        }
        return copies;
    }

    @Override
    public void close() throws Exception {
        controller.close();
        forward.close();
        reverse.close();
        ((AutoCloseable) shardingSphere).close();
        stores.close();
    }
}
