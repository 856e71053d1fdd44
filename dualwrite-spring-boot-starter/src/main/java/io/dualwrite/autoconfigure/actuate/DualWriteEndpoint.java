package io.dualwrite.autoconfigure.actuate;

import io.dualwrite.autoconfigure.DualWriteProperties;
import io.dualwrite.autoconfigure.ReconcileService;
import io.dualwrite.autoconfigure.VerifyStatus;
import io.dualwrite.routing.ControlState;
import io.dualwrite.routing.InstanceStatus;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.StepResult;
import io.dualwrite.verify.ReconcileReport;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * The {@code dualwrite} actuator endpoint: where the migration stands, and the operator's controls.
 *
 * <ul>
 *   <li>{@code GET /actuator/dualwrite}: phase, percent, lists, the step under way and the instances;
 *       each mirror's mode, queue, lag and parked keys; each table's backfill progress and ETA; double-read
 *       counts and the last reconcile report per table.</li>
 *   <li>{@code POST /actuator/dualwrite/phase} {@code {"phase": "RAMP", "force": false}},
 *       {@code /percent} {@code {"percent": 10}}, {@code /lists} {@code {"allow": "1,2", "deny": "3"}}: run a
 *       ramp step and answer with its outcome (200 when in force, 409 when refused or reverted).</li>
 *   <li>{@code POST /actuator/dualwrite/reconcile} {@code {"table": "t_order", "windowed": false}}.</li>
 *   <li>{@code POST /actuator/dualwrite/drop-instance} {@code {"instance": "<id>"}}: removes an instance
 *       whose lease has run out and that did not promise to fence itself, which steps otherwise wait for
 *       (see {@link MigrationController#dropInstance}); only once you know it is dead or stopped. 409 while
 *       its lease holds.</li>
 *   <li>{@code POST /actuator/dualwrite/backfill} with {@code {"action": "start|pause|resume",
 *       "table": "t_order", "reason": "..."}}: acts on one table, or on every mapped table when
 *       {@code table} is left out. Refused with 403 unless
 *       {@code dualwrite.management.write-enabled=true}.</li>
 * </ul>
 *
 * <p>The status answers within {@link #STATUS_BUDGET} whatever the stores do: the parts it reads from a
 * store (the instances in the control store, backfill progress, OUTBOX counts) are read on a few
 * library threads, and a part not read in time says so instead of holding the operator's request for
 * the pool's connection timeout while the target is down.
 *
 */
@WebEndpoint(id = "dualwrite")
public class DualWriteEndpoint {

    /** The HTTP status of a refused write. */
    static final int STATUS_FORBIDDEN = 403;
    /** The HTTP status of a write the job's state does not allow. */
    static final int STATUS_CONFLICT = 409;
    /** How long a pause waits for the chunk in flight on this instance. */
    private static final Duration PAUSE_WAIT = Duration.ofSeconds(30);

    private final DualWriteProperties properties;
    private final Mirror mirror;
    private final Mirror reverse;
    private final MappedTables tables;
    private final BackfillRunner backfill;
    private final MigrationController controller;
    private final ReconcileService reconcile;
    private final VerifyStatus verify;
    /**
     * At most four reads run, and 64 wait: while a store hangs, repeated requests neither pile up threads
     * nor memory, and what waits past a request's deadline is reported as not read.
     */
    private final ThreadPoolExecutor storeReads = storeReads();

    /** How long the status waits for what it reads from the stores. */
    static final Duration STATUS_BUDGET = Duration.ofMillis(800);

    /**
     * Creates the endpoint.
     *
     * @param properties the settings (whether writes are allowed)
     * @param mirror the forward mirror
     * @param reverse the reverse mirror, or null
     * @param tables the mapped tables
     * @param backfill the backfill runner
     * @param controller the migration controller
     * @param reconcile the reconcile service
     * @param verify the verification status
     */
    public DualWriteEndpoint(DualWriteProperties properties, Mirror mirror, @Nullable Mirror reverse, MappedTables tables,
            BackfillRunner backfill, MigrationController controller, ReconcileService reconcile, VerifyStatus verify) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.mirror = Objects.requireNonNull(mirror, "mirror");
        this.reverse = reverse;
        this.tables = Objects.requireNonNull(tables, "tables");
        this.backfill = Objects.requireNonNull(backfill, "backfill");
        this.controller = Objects.requireNonNull(controller, "controller");
        this.reconcile = Objects.requireNonNull(reconcile, "reconcile");
        this.verify = Objects.requireNonNull(verify, "verify");
    }

    /**
     * Reports where the migration stands.
     *
     * @return phase, mirror state and per-table backfill progress
     */
    @ReadOperation
    public Map<String, Object> status() {
        long deadline = System.nanoTime() + STATUS_BUDGET.toNanos();
        Future<Object> instances = readLater(this::instances);
        Future<Object> forward = readLater(() -> mirror(mirror));
        Future<Object> backward = reverse == null ? null : readLater(() -> mirror(reverse));
        Map<String, Future<Object>> progress = new LinkedHashMap<>();
        for (MappedTable table : tables.all()) {
            progress.put(table.name(), readLater(() -> progress(table.name())));
        }
        Map<String, Object> status = new LinkedHashMap<>();
        ControlState state = controller.state();
        RoutingRules rules = state.active();
        status.put("phase", rules.phase().name());
        Map<String, Object> routing = routing(state);
        routing.put("instances", await(instances, deadline, "the control store (in the target)"));
        status.put("routing", routing);
        status.put("mirror", await(forward, deadline, "the outbox (in the source)"));
        if (backward != null) {
            status.put("reverseMirror", await(backward, deadline, "the outbox (in the target)"));
        }
        Map<String, Object> tablesStatus = new LinkedHashMap<>();
        for (MappedTable table : tables.all()) {
            Map<String, Object> tableStatus = new LinkedHashMap<>();
            tableStatus.put("targetTable", table.target().table().name());
            tableStatus.put("backfill", await(progress.get(table.name()), deadline,
                    "the checkpoint table (in the target)"));
            tablesStatus.put(table.name(), tableStatus);
        }
        status.put("tables", tablesStatus);
        Map<String, Object> verifyStatus = new LinkedHashMap<>(verify.counts());
        Map<String, Object> reports = new LinkedHashMap<>();
        verify.lastReports().forEach((table, report) -> reports.put(table, report(report)));
        verify.lastFailures().forEach((table, failure) -> reports.put(table, Map.of("error", failure)));
        verifyStatus.put("lastReconcile", reports);
        status.put("verify", verifyStatus);
        status.put("writeEnabled", properties.getManagement().isWriteEnabled());
        return status;
    }

    private Map<String, Object> routing(ControlState state) {
        Map<String, Object> routing = new LinkedHashMap<>();
        RoutingRules rules = state.active();
        routing.put("percent", rules.percent());
        routing.put("strategy", rules.strategy().name());
        routing.put("allow", rules.allow());
        routing.put("deny", rules.deny());
        routing.put("defaultRoute", rules.defaultRoute().name());
        routing.put("version", state.version());
        if (state.pending() != null) {
            routing.put("pending", state.pending().toString());
            routing.put("deadline", String.valueOf(state.deadline()));
        }
        routing.put("lastChange", state.message());
        routing.put("changedBy", state.changedBy());
        routing.put("instance", controller.instanceId());
        routing.put("heldRequests", controller.heldRequests());
        routing.put("heldTimeouts", controller.heldTimeouts());
        routing.put("fencedCommits", controller.fencedCommits());
        return routing;
    }

    private Object instances() {
        try {
            List<Map<String, Object>> instances = new ArrayList<>();
            for (InstanceStatus instance : controller.instances()) {
                instances.add(Map.of("id", instance.instanceId(), "acknowledged", instance.acknowledged(),
                        "leaseUntil", instance.leaseUntil().toString(), "fences", instance.fences()));
            }
            return instances;
        } catch (SQLException e) {
            return "the control store could not be read: " + e.getMessage();
        }
    }

    private Future<Object> readLater(Callable<Object> read) {
        try {
            return storeReads.submit(read);
        } catch (RejectedExecutionException busy) {
            return java.util.concurrent.CompletableFuture.completedFuture(
                    "not read: earlier status requests are still waiting on the stores");
        }
    }

    /** The part, or what kept it from being read by the deadline; the read goes on in the background. */
    private static Object await(Future<Object> part, long deadline, String from) {
        try {
            return part.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException slow) {
            return "not read within " + STATUS_BUDGET.toMillis() + " ms: " + from + " did not answer (is the store"
                    + " down or its pool exhausted?)";
        } catch (ExecutionException failed) {
            return "not read: " + failed.getCause();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "not read: interrupted";
        }
    }

    private static ThreadPoolExecutor storeReads() {
        ThreadPoolExecutor executor = new ThreadPoolExecutor(4, 4, 30, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(64), daemonThreads());
        executor.allowCoreThreadTimeOut(true);
        return executor;
    }

    private static java.util.concurrent.ThreadFactory daemonThreads() {
        AtomicInteger count = new AtomicInteger();
        return task -> {
            Thread thread = new Thread(task, "dualwrite-status-" + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }

    private static Object mirror(Mirror mirror) {
        Map<String, Object> mirrorStatus = new LinkedHashMap<>();
        mirrorStatus.put("mode", mirror.mode().name());
        mirrorStatus.put("pending", mirror.pending());
        Duration lag = mirror.lag();
        mirrorStatus.put("lag", lag.toString());
        mirrorStatus.put("lagMillis", lag.toMillis());
        mirrorStatus.put("parked", mirror.parked());
        return mirrorStatus;
    }

    private static Map<String, Object> report(ReconcileReport report) {
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("complete", report.complete());
        result.put("compared", report.compared());
        result.put("missingInTarget", report.missingInTarget());
        result.put("extraInTarget", report.extraInTarget());
        result.put("different", report.different());
        result.put("repaired", report.repaired());
        result.put("unrepaired", report.unrepaired());
        Map<String, Object> samples = new LinkedHashMap<>();
        report.samples().forEach((kind, keys) -> samples.put(kind.name(), keys.stream().map(Object::toString).toList()));
        result.put("samples", samples);
        result.put("tookMillis", report.took().toMillis());
        return result;
    }

    private Map<String, Object> progress(String table) {
        Map<String, Object> result = new LinkedHashMap<>();
        BackfillProgress progress;
        try {
            progress = backfill.progress(table);
        } catch (SQLException e) {
            result.put("error", "the checkpoint table could not be read: " + e.getMessage());
            return result;
        }
        result.put("status", progress.status().name());
        result.put("rowsCopied", progress.rowsCopied());
        result.put("estimatedTotal", progress.estimatedTotal());
        result.put("failedRows", progress.failedRows());
        result.put("rowsPerSecond", Math.round(progress.rowsPerSecond()));
        result.put("rangesDone", progress.rangesDone());
        result.put("ranges", progress.ranges());
        progress.eta().ifPresent(eta -> {
            result.put("eta", eta.toString());
            result.put("etaSeconds", eta.toSeconds());
        });
        progress.lastError().ifPresent(error -> result.put("lastError", error));
        return result;
    }

    /**
     * Changes something. Every write is refused unless {@code dualwrite.management.write-enabled=true}.
     *
     * @param operation what to change: {@code backfill}, {@code phase}, {@code percent}, {@code lists},
     *     {@code reconcile} or {@code drop-instance}
     * @param action for {@code backfill}: {@code start}, {@code pause} or {@code resume}
     * @param table for {@code backfill} and {@code reconcile}: the source table, or {@code null} for every one
     * @param reason why, for {@code pause}; kept in the checkpoint table
     * @param phase for {@code phase}: SOURCE_ONLY, DUAL_WRITE, RAMP or TARGET_ONLY
     * @param percent for {@code percent}: 0..100
     * @param allow for {@code lists}: comma-separated keys always routed to the target (left out: unchanged)
     * @param deny for {@code lists}: comma-separated keys always routed to the source (left out: unchanged)
     * @param force for {@code phase}, {@code percent}, {@code lists}: override the guards (logged)
     * @param windowed for {@code reconcile}: compare only the last {@code dualwrite.verify.reconcile.window}
     * @param instance for {@code drop-instance}: the instance's id, as the status lists it
     * @return what happened; 403 when writes are not enabled, 400 for a bad request, 409 when the state does
     *     not allow it (a guard refused, a step reverted, a backfill not in a state for the action)
     */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> write(@Selector String operation, @Nullable String action,
            @Nullable String table, @Nullable String reason, @Nullable String phase, @Nullable Integer percent,
            @Nullable String allow, @Nullable String deny, @Nullable Boolean force, @Nullable Boolean windowed,
            @Nullable String instance) {
        if (!properties.getManagement().isWriteEnabled()) {
            return error(STATUS_FORBIDDEN, "dualwrite write operations are disabled; set"
                    + " dualwrite.management.write-enabled=true to allow '" + operation + "'");
        }
        boolean forced = Boolean.TRUE.equals(force);
        try {
            switch (operation) {
                case "backfill":
                    return backfill(action, table, reason);
                case "phase":
                    if (phase == null) {
                        return error(WebEndpointResponse.STATUS_BAD_REQUEST, "phase: give \"phase\": one of"
                                + " SOURCE_ONLY, DUAL_WRITE, RAMP, TARGET_ONLY");
                    }
                    return step(controller.requestPhase(Phase.parse(phase), forced));
                case "percent":
                    if (percent == null) {
                        return error(WebEndpointResponse.STATUS_BAD_REQUEST, "percent: give \"percent\": 0..100");
                    }
                    return step(controller.requestPercent(percent, forced));
                case "lists":
                    // A list left out stays as it is; the change applies to the setting in force, read fresh.
                    return step(controller.request(rules -> rules.withLists(allow == null ? rules.allow() : keys(allow),
                            deny == null ? rules.deny() : keys(deny)), forced,
                            "lists" + (allow == null ? "" : " allow " + keys(allow))
                                    + (deny == null ? "" : " deny " + keys(deny))));
                case "reconcile":
                    if (table != null && !tables.contains(table)) {
                        return error(WebEndpointResponse.STATUS_BAD_REQUEST, "reconcile: table '" + table
                                + "' is not mapped; mapped tables: " + tables.all().stream().map(MappedTable::name).toList());
                    }
                    Map<String, Object> results = new LinkedHashMap<>();
                    reconcile.run(table, Boolean.TRUE.equals(windowed)).forEach((name, result) -> results.put(name,
                            result instanceof ReconcileReport report ? report(report) : Map.of("error", result)));
                    return new WebEndpointResponse<>(results, WebEndpointResponse.STATUS_OK);
                case "drop-instance":
                    if (instance == null) {
                        return error(WebEndpointResponse.STATUS_BAD_REQUEST, "drop-instance: give \"instance\": the id"
                                + " of a stopped instance, as listed under routing.instances");
                    }
                    return new WebEndpointResponse<>(Map.of("outcome", "DROPPED", "message",
                            controller.dropInstance(instance)), WebEndpointResponse.STATUS_OK);
                default:
                    return error(WebEndpointResponse.STATUS_BAD_REQUEST, "unknown operation '" + operation
                            + "'; expected one of [backfill, phase, percent, lists, reconcile, drop-instance]");
            }
        } catch (IllegalStateException refused) {
            return error(STATUS_CONFLICT, refused.getMessage());
        } catch (IllegalArgumentException bad) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, bad.getMessage());
        } catch (SQLException e) {
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, "the control store could not be reached: "
                    + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, "interrupted while the step ran");
        }
    }

    private WebEndpointResponse<Map<String, Object>> step(StepResult result) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("outcome", result.outcome().name());
        body.put("message", result.message());
        body.put("routing", routing(result.state()));
        body.put("phase", result.state().active().phase().name());
        return new WebEndpointResponse<>(body, result.inForce() ? WebEndpointResponse.STATUS_OK : STATUS_CONFLICT);
    }

    private static List<String> keys(String list) {
        List<String> keys = new ArrayList<>();
        if (list != null) {
            for (String key : list.split(",")) {
                if (!key.isBlank()) {
                    keys.add(key.trim());
                }
            }
        }
        return keys;
    }

    private WebEndpointResponse<Map<String, Object>> backfill(String action, String table, String reason) {
        String verb = action == null ? "" : action.trim().toLowerCase(Locale.ROOT);
        if (!List.of("start", "pause", "resume").contains(verb)) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "backfill: unknown action '" + action
                    + "'; expected one of [start, pause, resume]");
        }
        List<String> names = new ArrayList<>();
        if (table == null) {
            tables.all().forEach(t -> names.add(t.name()));
        } else if (tables.contains(table)) {
            names.add(tables.get(table).name());
        } else {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "backfill: table '" + table + "' is not mapped;"
                    + " mapped tables: " + tables.all().stream().map(MappedTable::name).toList());
        }
        Phase phase = controller.rules().phase();
        if (!verb.equals("pause") && !phase.mirrors()) {
            return error(STATUS_CONFLICT, "backfill: phase " + phase + " does not mirror writes, so rows written"
                    + " while the backfill runs would be missing in the target; switch to DUAL_WRITE first"
                    + " (POST .../phase {\"phase\":\"DUAL_WRITE\"})");
        }
        Map<String, Object> outcome = new LinkedHashMap<>();
        int status = WebEndpointResponse.STATUS_OK;
        for (String name : names) {
            try {
                switch (verb) {
                    case "start" -> backfill.start(name);
                    case "pause" -> pause(name, reason);
                    default -> backfill.resume(name);
                }
                outcome.put(name, progress(name));
            } catch (IllegalStateException refused) {
                outcome.put(name, Map.of("error", refused.getMessage()));
                status = STATUS_CONFLICT;
            } catch (SQLException e) {
                outcome.put(name, Map.of("error", "the store could not be reached: " + e.getMessage()));
                status = WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE;
            }
        }
        return new WebEndpointResponse<>(outcome, status);
    }

    /**
     * Pauses, then waits for this instance's chunk in flight, so that the answer shows the job stopped
     * and an immediate resume does not find the old worker still running.
     */
    private void pause(String table, String reason) throws SQLException {
        backfill.pause(table, reason == null ? "paused through the dualwrite endpoint" : reason);
        try {
            backfill.awaitCompletion(table, PAUSE_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static WebEndpointResponse<Map<String, Object>> error(int status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        return new WebEndpointResponse<>(body, status);
    }
}
