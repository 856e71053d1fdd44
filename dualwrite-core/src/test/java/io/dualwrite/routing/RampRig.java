package io.dualwrite.routing;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
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
        this(sourceStore, targetStore, prefix, initial, UnaryOperator.identity(), null, Duration.ofSeconds(20));
    }

    /**
     * @param targetView what every part of the migration sees of the target (a {@code FailingDataSource}
     *     to take it down); the test's own checks read the target directly
     * @param lease the controller's lease, or {@code null} for its default
     * @param holdTimeout how long a request waits for a step or a lease before it fails
     */
    RampRig(Store sourceStore, Store targetStore, String prefix, RoutingRules initial,
            UnaryOperator<DataSource> targetView, Duration lease, Duration holdTimeout) throws Exception {
        this(sourceStore, targetStore, prefix, initial, targetView, UnaryOperator.identity(), lease, holdTimeout,
                MirrorMode.ASYNC);
    }

    /**
     * @param controlView what the controller alone sees of the target, where its control store lives (to
     *     freeze or cut the controller without touching the mirrors)
     * @param mode the mirrors' mode: only with OUTBOX does the instance promise to fence itself, so that the
     *     others may count it out
     */
    RampRig(Store sourceStore, Store targetStore, String prefix, RoutingRules initial,
            UnaryOperator<DataSource> targetView, UnaryOperator<DataSource> controlView, Duration lease,
            Duration holdTimeout, MirrorMode mode) throws Exception {
        this(sourceStore, targetStore, prefix, initial, targetView, controlView, lease, holdTimeout, mode,
                UnaryOperator.identity());
    }

    /**
     * @param mirrorSettings changes to both mirrors' settings (a test that steps a thousand times shortens
     *     the lanes' linger, which every step's drain waits out)
     */
    RampRig(Store sourceStore, Store targetStore, String prefix, RoutingRules initial,
            UnaryOperator<DataSource> targetView, UnaryOperator<DataSource> controlView, Duration lease,
            Duration holdTimeout, MirrorMode mode, UnaryOperator<MirrorConfig.Builder> mirrorSettings)
            throws Exception {
        source = TestDatabase.create(sourceStore, prefix + "_src", 24);
        target = TestDatabase.create(targetStore, prefix + "_tgt", 24);
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        DataSource targetSeen = targetView.apply(target.dataSource());
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id").build()),
                source.dataSource(), targetSeen, true);
        JdbcControlStore store = JdbcControlStore.open(controlView.apply(targetSeen), "orders", initial, true);
        MirrorConfig config = mirrorSettings.apply(MirrorConfig.builder().mode(mode)
                .createOutboxTable(mode == MirrorMode.OUTBOX).initialBackoff(Duration.ofMillis(20))
                .maxBackoff(Duration.ofMillis(200)).maxAttempts(200)).build();
        EventPublisher events = new EventPublisher();
        MigrationController.Builder builder = MigrationController.builder(store).instanceId(prefix)
                .pollInterval(Duration.ofMillis(100)).stepTimeout(Duration.ofSeconds(20)).holdTimeout(holdTimeout);
        if (lease != null) {
            builder.lease(lease);
        }
        controller = builder.build();
        routing = new DualWriteRoutingDataSource(source.dataSource(), targetSeen, controller);
        forward = Mirror.create(config, tables, source.dataSource(), targetSeen, routing, events);
        reverse = Mirror.create(config, tables.reversed(), targetSeen, source.dataSource(), routing, events);
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

    /** @return every order's note in a store, by order id */
    Map<Long, String> notes(TestDatabase db) {
        Map<Long, String> notes = new TreeMap<>();
        for (Map<String, Object> row : db.queryForList("SELECT id, note FROM t_order")) {
            notes.put(((Number) row.get("id")).longValue(), Objects.toString(row.get("note")));
        }
        return notes;
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
