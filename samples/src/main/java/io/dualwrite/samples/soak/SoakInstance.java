package io.dualwrite.samples.soak;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.ControlState;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.JdbcControlStore;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RouteHeldException;
import io.dualwrite.routing.RoutingChangeSink;
import io.dualwrite.routing.RoutingContext;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingStrategy;
import io.dualwrite.routing.StepResult;
import java.io.IOException;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * One instance of the soak's service, in its own JVM: a table {@code account} on a MariaDB source
 * migrating to PostgreSQL, wired by hand the way the starter wires it (routing data source, forward and
 * reverse OUTBOX mirrors, a {@code dualwrite_control} table in the target, the backfill behind the
 * controller's gate), with a small HTTP interface the {@link SoakCoordinator} drives:
 *
 * <ul>
 * <li>{@code POST /write?user=&key=&op=PUT|DEL&val=&deadline=} one application transaction on the user's
 *     route; answers {@code OK <route it was admitted on>}, {@code 503 HELD} (a {@link RouteHeldException}), {@code 500 FAIL}
 *     (rolled back) or {@code 500 DOUBT} (the commit itself failed: the outcome is unknown). A write whose
 *     client deadline passed before the commit is rolled back, so that a request the client gave up on
 *     (this JVM was frozen) does not land long after;</li>
 * <li>{@code GET /status}, {@code POST /step?phase=} or {@code ?percent=}, {@code POST /backfill},
 *     {@code GET /backfill}, {@code POST /drain}: the operator's side.</li>
 * </ul>
 *
 * <p>Settings are system properties: {@code soak.id}, {@code soak.port}, {@code soak.source.url},
 * {@code soak.target.url} (the coordinator's proxy in front of the target), {@code soak.poll.ms},
 * {@code soak.lease.ms}, {@code soak.hold.ms}, {@code soak.step.ms}, and the negative control
 * {@code dualwrite.soak.fence=off}, which switches the controller's barrier, and with it the lease fence,
 * off through its test hook.
 */
public final class SoakInstance {

    static final String TABLE = "account";

    private final String id;
    private final HikariDataSource source;
    private final HikariDataSource target;
    private final MigrationController controller;
    private final Mirror forward;
    private final Mirror reverse;
    private final ChangeCapture capture;
    private final TransactionTemplate transactions;
    private final JdbcTemplate jdbc;
    private final BackfillRunner backfill;

    private SoakInstance() throws Exception {
        id = required("soak.id");
        source = pool("soak-source-" + id, required("soak.source.url"), 12);
        target = pool("soak-target-" + id, required("soak.target.url"), 12);
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder(TABLE).routingColumn("user_id").build()),
                source, target, true);
        JdbcControlStore store = JdbcControlStore.open(target, "soak",
                RoutingRules.initial().withStrategy(RoutingStrategy.MODULO), true);
        controller = MigrationController.builder(store).instanceId(id)
                .pollInterval(Duration.ofMillis(Long.getLong("soak.poll.ms", 300)))
                .lease(Duration.ofMillis(Long.getLong("soak.lease.ms", 3000)))
                .holdTimeout(Duration.ofMillis(Long.getLong("soak.hold.ms", 1500)))
                .stepTimeout(Duration.ofMillis(Long.getLong("soak.step.ms", 15000))).build();
        if ("off".equals(System.getProperty("dualwrite.soak.fence"))) {
            switchOffFence(controller);
        }
        DualWriteRoutingDataSource routing = new DualWriteRoutingDataSource(source, target, controller);
        // Retries outlast every fault the soak injects: a parked key would make the steps refuse.
        MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.OUTBOX).createOutboxTable(true)
                .initialBackoff(Duration.ofMillis(50)).maxBackoff(Duration.ofSeconds(1)).maxAttempts(1_000)
                .outboxPollInterval(Duration.ofMillis(200)).build();
        EventPublisher events = new EventPublisher();
        forward = Mirror.create(config, tables, source, target, routing, events);
        reverse = Mirror.create(config, tables.reversed(), target, source, routing, events);
        controller.addDrain(MigrationController.Drain.of(forward));
        controller.addDrain(MigrationController.Drain.of(reverse));
        forward.start();
        reverse.start();
        controller.start();
        capture = new ChangeCapture(new RoutingChangeSink(controller, tables, forward, reverse), tables::contains);
        transactions = new TransactionTemplate(new DataSourceTransactionManager(routing));
        transactions.setIsolationLevel(TransactionTemplate.ISOLATION_READ_COMMITTED);
        jdbc = new JdbcTemplate(routing);
        backfill = BackfillRunner.create(BackfillConfig.builder().rowsPerSecond(4_000).createTables(true)
                .ownerId(id).build(), tables, source, target, events, controller.backfillGate());
    }

    /**
     * Starts an instance and serves until killed.
     *
     * @param args none; see the class comment for the system properties
     * @throws Exception if a store cannot be reached at start-up
     */
    public static void main(String[] args) throws Exception {
        SoakInstance instance = new SoakInstance();
        HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", Integer.getInteger("soak.port")), 64);
        server.setExecutor(Executors.newFixedThreadPool(24));
        server.createContext("/write", exchange -> instance.answer(exchange, instance::write));
        server.createContext("/status", exchange -> instance.answer(exchange, params -> instance.status()));
        server.createContext("/step", exchange -> instance.answer(exchange, instance::step));
        server.createContext("/backfill", exchange -> instance.answer(exchange, instance::backfill));
        server.createContext("/drain", exchange -> instance.answer(exchange, params -> instance.drain()));
        server.start();
        System.out.println("soak instance " + instance.id + " ready on port " + server.getAddress().getPort());
    }

    private Reply write(Map<String, String> params) {
        long user = Long.parseLong(params.get("user"));
        long key = Long.parseLong(params.get("key"));
        boolean put = "PUT".equals(params.get("op"));
        String value = params.get("val");
        long deadline = Long.parseLong(params.get("deadline"));
        AtomicBoolean committing = new AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Route> admitted = new java.util.concurrent.atomic.AtomicReference<>();
        try {
            RoutingContext.run(user, () -> transactions.executeWithoutResult(status -> {
                if (put) {
                    Timestamp now = new Timestamp(System.currentTimeMillis());
                    int updated = jdbc.update("UPDATE account SET val = ?, gmt_modified = ? WHERE id = ?", value, now, key);
                    if (updated == 0) {
                        jdbc.update("INSERT INTO account (id, user_id, val, gmt_modified) VALUES (?, ?, ?, ?)", key, user,
                                value, now);
                    }
                } else {
                    jdbc.update("DELETE FROM account WHERE id = ?", key);
                }
                capture.record(TABLE, key);
                admitted.set(controller.currentRoute());
                if (System.currentTimeMillis() > deadline) {
                    throw new IllegalStateException("the client's deadline passed before the commit; rolled back");
                }
                committing.set(true);
            }));
            return new Reply(200, "OK " + admitted.get());
        } catch (RuntimeException e) {
            Throwable held = cause(e, RouteHeldException.class);
            if (held != null) {
                return new Reply(503, "HELD " + held.getMessage());
            }
            return new Reply(500, (committing.get() ? "DOUBT " : "FAIL ") + e);
        }
    }

    private Reply status() {
        ControlState state = controller.state();
        RoutingRules active = state.active();
        return new Reply(200, "phase=" + active.phase() + " percent=" + active.percent() + " version=" + state.version()
                + " pending=" + (state.pending() == null ? "-" : state.pending().phase() + "/" + state.pending().percent())
                + " lease=" + controller.leaseValid() + " held=" + controller.heldRequests() + " heldTimeouts="
                + controller.heldTimeouts() + " forwardParked=" + forward.parked() + " reverseParked=" + reverse.parked());
    }

    private Reply step(Map<String, String> params) throws Exception {
        StepResult result = params.containsKey("phase")
                ? controller.requestPhase(Phase.valueOf(params.get("phase")), false)
                : controller.requestPercent(Integer.parseInt(params.get("percent")), false);
        return new Reply(200, result.outcome() + " " + result.message());
    }

    private Reply backfill(Map<String, String> params) throws Exception {
        if (params.containsKey("start")) {
            try {
                backfill.start(TABLE);
            } catch (IllegalStateException alreadyRunning) {
                return new Reply(200, "RUNNING " + alreadyRunning.getMessage());
            }
        }
        BackfillProgress progress = backfill.progress(TABLE);
        return new Reply(200, progress.status() + " " + progress);
    }

    private Reply drain() throws InterruptedException {
        boolean drained = forward.awaitDrained(Duration.ofSeconds(20)) && reverse.awaitDrained(Duration.ofSeconds(20))
                && forward.awaitDrained(Duration.ofSeconds(20));
        return new Reply(drained ? 200 : 500, drained ? "DRAINED" : "NOT DRAINED forward " + forward.pending()
                + " reverse " + reverse.pending());
    }

    /**
     * The negative control: the barrier off (steps neither hold nor wait) takes the lease fence with it,
     * since the controller fences only while the barrier is on. The hook is package-private on purpose; a
     * soak that wants to show what it prevents reaches it by name.
     */
    private static void switchOffFence(MigrationController controller) throws ReflectiveOperationException {
        Method hook = MigrationController.class.getDeclaredMethod("barrierForTesting", boolean.class);
        hook.setAccessible(true);
        hook.invoke(controller, false);
        System.out.println("soak instance: dualwrite.soak.fence=off, the barrier and its lease fence are OFF");
    }

    private void answer(HttpExchange exchange, Handler handler) throws IOException {
        Reply reply;
        try {
            reply = handler.handle(query(exchange));
        } catch (Exception | Error e) {
            reply = new Reply(500, "FAIL " + e);
        }
        byte[] body = reply.body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(reply.status, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    private static Map<String, String> query(HttpExchange exchange) {
        Map<String, String> params = new HashMap<>();
        String raw = exchange.getRequestURI().getRawQuery();
        if (raw != null) {
            for (String pair : raw.split("&")) {
                int eq = pair.indexOf('=');
                String name = eq < 0 ? pair : pair.substring(0, eq);
                String value = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                params.put(name, value);
            }
        }
        return params;
    }

    private static Throwable cause(Throwable e, Class<? extends Throwable> type) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (type.isInstance(t)) {
                return t;
            }
        }
        return null;
    }

    private static HikariDataSource pool(String name, String url, int size) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(url);
        config.setUsername(url.startsWith("jdbc:postgresql") ? "postgres" : "root");
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(2);
        config.setConnectionTimeout(2_000);
        config.setValidationTimeout(1_000);
        config.setInitializationFailTimeout(30_000);
        return new HikariDataSource(config);
    }

    private static String required(String property) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException(property + ": the soak instance needs this system property");
        }
        return value;
    }

    @FunctionalInterface
    private interface Handler {
        Reply handle(Map<String, String> params) throws Exception;
    }

    private record Reply(int status, String body) {
    }
}
