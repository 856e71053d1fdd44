package io.dualwrite.routing;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.function.Consumer;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * A whole migration wired by hand, as the starter wires it: two stores with an order table, a forward
 * and a reverse mirror, a controller on a {@code dualwrite_control} table in the target, the routing
 * data source, and capture into the routed change sink.
 */
final class RampRig implements AutoCloseable {

    final TestDatabase source;
    final TestDatabase target;
    final MappedTables tables;
    final Mirror forward;
    final Mirror reverse;
    final MigrationController controller;
    final DualWriteRoutingDataSource routing;
    final ChangeCapture capture;
    final TransactionTemplate transactions;
    final JdbcTemplate jdbc;
    final CrossRouteWrites crossRoute;

    RampRig(Store sourceStore, Store targetStore, String prefix, RoutingRules initial) throws Exception {
        source = TestDatabase.create(sourceStore, prefix + "_src", 24);
        target = TestDatabase.create(targetStore, prefix + "_tgt", 24);
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id").build()),
                source.dataSource(), target.dataSource(), true);
        JdbcControlStore store = JdbcControlStore.open(target.dataSource(), "orders", initial, true);
        MirrorConfig config = MirrorConfig.builder().initialBackoff(Duration.ofMillis(20))
                .maxBackoff(Duration.ofMillis(200)).maxAttempts(200).build();
        EventPublisher events = new EventPublisher();
        controller = MigrationController.builder(store).instanceId(prefix).pollInterval(Duration.ofMillis(100))
                .stepTimeout(Duration.ofSeconds(20)).holdTimeout(Duration.ofSeconds(20)).build();
        routing = new DualWriteRoutingDataSource(source.dataSource(), target.dataSource(), controller);
        forward = Mirror.create(config, tables, source.dataSource(), target.dataSource(), routing, events);
        reverse = Mirror.create(config, tables.reversed(), target.dataSource(), source.dataSource(), routing, events);
        controller.addDrain(MigrationController.Drain.of(forward));
        controller.addDrain(MigrationController.Drain.of(reverse));
        crossRoute = new CrossRouteWrites(controller, Route.SOURCE);
        forward.observeRows(crossRoute);
        forward.start();
        reverse.start();
        controller.start();
        capture = new ChangeCapture(new RoutingChangeSink(controller, tables, forward, reverse), tables::contains);
        transactions = new TransactionTemplate(new DataSourceTransactionManager(routing));
        // The writers update-then-insert; under MariaDB's REPEATABLE READ two of them inserting into one
        // key gap deadlock each other, with or without dualwrite.
        transactions.setIsolationLevel(TransactionTemplate.ISOLATION_READ_COMMITTED);
        jdbc = new JdbcTemplate(routing);
    }

    /** Runs one application transaction for a user, recording the order it changes. */
    void write(Object routingKey, long orderId, Consumer<JdbcTemplate> body) {
        RoutingContext.run(routingKey, () -> transactions.executeWithoutResult(status -> {
            body.accept(jdbc);
            capture.record("t_order", orderId);
        }));
    }

    void upsert(long userId, long orderId, String note) {
        write(userId, orderId, jdbc -> {
            Timestamp now = new Timestamp(System.currentTimeMillis());
            int updated = jdbc.update("UPDATE t_order SET note = ?, gmt_modified = ? WHERE id = ?", note, now, orderId);
            if (updated == 0) {
                jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                        + " VALUES (?, ?, 'NEW', 10.00, ?, ?)", orderId, userId, note, now);
            }
        });
    }

    void delete(long userId, long orderId) {
        write(userId, orderId, jdbc -> jdbc.update("DELETE FROM t_order WHERE id = ?", orderId));
    }

    boolean drain() throws InterruptedException {
        return forward.awaitDrained(Duration.ofSeconds(30)) && reverse.awaitDrained(Duration.ofSeconds(30))
                && forward.awaitDrained(Duration.ofSeconds(30));
    }

    List<String> differences() {
        return OrderTable.differences(source, "t_order", target, "t_order", "id");
    }

    @Override
    public void close() {
        controller.close();
        forward.close();
        reverse.close();
        source.close();
        target.close();
    }
}
