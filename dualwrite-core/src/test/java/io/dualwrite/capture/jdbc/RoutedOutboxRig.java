package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.PropertiesControlStore;
import io.dualwrite.routing.RoutingChangeSink;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * OUTBOX with transparent capture wired as the starter wires it, and nothing else: the routing data
 * source in DUAL_WRITE, each store's connections wrapped in a capturing data source recording into the
 * routed change sink, and no {@code RoutingContext} scope anywhere, so every connection Spring sees is
 * the routing data source's outer proxy. The mirror is never started: its relay "died" before it ran,
 * and {@link #restart()} brings up a new one as after a restart.
 */
final class RoutedOutboxRig implements AutoCloseable {

    static final String INSERT = "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
            + " VALUES (?, 7, 'NEW', 1.00, NULL, ?)";

    final TestDatabase source;
    final TestDatabase target;
    final MappedTables tables;
    final MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).build();
    final MigrationController controller;
    final DualWriteRoutingDataSource routing;
    final Mirror dying;
    final ChangeCapture capture;
    final JdbcTemplate jdbc;
    final DataSourceTransactionManager transactionManager;
    final TransactionTemplate tx;

    RoutedOutboxRig(Store sourceStore, Store targetStore, String prefix) throws Exception {
        source = TestDatabase.create(sourceStore, prefix + "_src");
        target = TestDatabase.create(targetStore, prefix + "_tgt");
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
        controller = MigrationController.builder(new PropertiesControlStore(
                RoutingRules.initial().withPhase(Phase.DUAL_WRITE))).instanceId(prefix).build();
        routing = new DualWriteRoutingDataSource(source.dataSource(), target.dataSource(), controller);
        dying = Mirror.create(config, tables, source.dataSource(), target.dataSource(), routing, new EventPublisher());
        source.execute(dying.outboxDdl().toArray(String[]::new));
        capture = new ChangeCapture(new RoutingChangeSink(controller, tables, dying, null), tables::contains);
        routing.wrapConnections((route, store) -> CapturingDataSource.builder(store, tables, capture).side(route)
                .build());
        jdbc = new JdbcTemplate(routing);
        transactionManager = new DataSourceTransactionManager(routing);
        tx = new TransactionTemplate(transactionManager);
    }

    static Timestamp now() {
        return new Timestamp(System.currentTimeMillis());
    }

    /** The outbox insert fails from now on, as when its table is missing. */
    void breakOutbox() {
        source.execute("ALTER TABLE dualwrite_outbox RENAME TO dualwrite_outbox_gone");
    }

    void repairOutbox() {
        source.execute("ALTER TABLE dualwrite_outbox_gone RENAME TO dualwrite_outbox");
    }

    long orders() {
        return source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class);
    }

    long outboxRows() {
        return source.queryForObject("SELECT COUNT(*) FROM dualwrite_outbox", Long.class);
    }

    /** @return the keys of t_order that have an outbox row, as the relay would read them */
    List<String> outboxKeys() {
        return source.queryForList("SELECT DISTINCT row_key FROM dualwrite_outbox ORDER BY row_key").stream()
                .map(row -> row.values().iterator().next().toString()).toList();
    }

    /**
     * A new mirror over the same stores relays what the dead one left in the outbox.
     *
     * @return whether it drained
     */
    boolean restart() throws Exception {
        try (Mirror restarted = Mirror.create(config, tables, source.dataSource(), target.dataSource(), routing,
                new EventPublisher())) {
            restarted.start();
            return restarted.awaitDrained(Duration.ofSeconds(30));
        }
    }

    List<String> differences() {
        return OrderTable.differences(source, "t_order", target, "t_order", "id");
    }

    @Override
    public void close() {
        controller.close();
        dying.close();
        source.close();
        target.close();
    }
}
