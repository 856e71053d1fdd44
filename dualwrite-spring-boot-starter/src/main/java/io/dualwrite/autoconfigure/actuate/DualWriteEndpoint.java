package io.dualwrite.autoconfigure.actuate;

import io.dualwrite.autoconfigure.DualWriteProperties;
import io.dualwrite.autoconfigure.ReconcileService;
import io.dualwrite.autoconfigure.VerifyStatus;
import io.dualwrite.routing.ControlState;
import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.InstanceStatus;
import io.dualwrite.routing.KeylessRequests;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.StepResult;
import io.dualwrite.verify.ReconcileReport;
import io.dualwrite.backfill.BackfillPlanRunner;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.PlanProgress;
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
import org.springframework.boot.actuate.endpoint.SecurityContext;
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
 *   <li>{@code POST /actuator/dualwrite/move-user} {@code {"key": "42", "route": "TARGET", "reason": "..."}}: moves
 *       one user (see {@link MigrationController#moveUser}), bounded by {@code dualwrite.routing.step-timeout};
 *       200 when in force, 409 when refused (not RAMP, a step under way) or reverted (with the reason).</li>
 *   <li>{@code POST /actuator/dualwrite/backfill} with {@code {"action": "start|pause|resume|retry",
 *       "table": "t_order", "reason": "..."}}: acts on one table, or on every mapped table when
 *       {@code table} is left out (start: parents before children), answering with each table's progress;
 *       {@code retry} copies again the rows recorded as failed (a child copied before the mirror brought its
 *       new parent, a value fixed since) and adds {@code retried}, the rows copied.</li>
 *   <li>{@code POST /actuator/dualwrite/degraded/mark|purge|unmark}: takes rows out of the migration and back
 *       (see {@link #degraded}).</li>
 *   <li>{@code POST /actuator/dualwrite/plan} with {@code {"action": "start|pause|resume|restart|approve",
 *       "plan": "rollout", "stage": "...", "actor": "...", "reason": "..."}}: acts on a staged backfill plan
 *       ({@code dualwrite.backfill.plans}); {@code stage} names where a restart begins (the current stage when
 *       left out); {@code approve} records who approved (the authenticated user, else {@code actor}, which is
 *       then required) and why. Answers with the plan's progress; 409 when the plan is not in a state for it.
 *       {@code GET} shows each plan under {@code plans}: status, current stage, rows per stage and in all,
 *       gate results and approvals.</li>
 *   <li>{@code GET /actuator/dualwrite/drained?waitSeconds=30}: waits until this instance's mirrors have applied
 *       what was committed before the request (200, or 503 when the wait ran out); see {@link #drained}.</li>
 * </ul>
 *
 * <p>Every {@code POST} is refused with 403 unless {@code dualwrite.management.write-enabled=true}; the
 * {@code GET}s are always allowed. Bad input gets 400 with {@code {"error": "..."}} naming what to fix. The
 * JSON of every answer is documented in the README ("The actuator endpoint").
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
    /** The change-data capture's details, when it runs here; set once at start-up. */
    private volatile java.util.function.Supplier<Map<String, Object>> cdc;
    /** Further capabilities' details by section name, each set once at start-up. */
    private final Map<String, java.util.function.Supplier<Map<String, Object>>> sections =
            new java.util.concurrent.ConcurrentSkipListMap<>();
    private final MigrationController controller;
    private final ReconcileService reconcile;
    private final VerifyStatus verify;
    private volatile DesiredSettings desired;
    /** The degradation operations, when degradation runs; set once at start-up. */
    private volatile DegradeActions degraded;
    /** The staged backfill plans, when configured; set once at start-up. */
    private volatile BackfillPlanRunner plans;
    /**
     * At most four reads run, and 64 wait: while a store hangs, repeated requests neither pile up threads
     * nor memory, and what waits past a request's deadline is reported as not read.
     */
    private final ThreadPoolExecutor storeReads = storeReads();

    /** The longest wait the drained read accepts. */
    static final int MAX_DRAIN_WAIT_SECONDS = 300;

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
        java.util.function.Supplier<Map<String, Object>> capture = cdc;
        if (capture != null) {
            status.put("cdc", capture.get());
        }
        DegradeActions degradation = degraded;
        if (degradation != null) {
            status.put("degraded", degradation.status());
        }
        sections.forEach((name, details) -> status.put(name, details.get()));
        status.put("writeEnabled", properties.getManagement().isWriteEnabled());
        return status;
    }

    /**
     * Shows the change-data capture under {@code cdc} in the status: its state, the log lag (bytes the
     * reader is behind the server's head) and the apply lag (how long the oldest key read waits for the
     * mirror). Read from memory, so the status stays within its budget.
     *
     * @param status the capture's details, as its health shows them
     */
    public void showCdc(java.util.function.Supplier<Map<String, Object>> status) {
        this.cdc = status;
    }

    /**
     * Shows the staged backfill plans under {@code plans} in the status (from each plan's last look, so from
     * memory) and lets {@code POST /actuator/dualwrite/plan} act on them.
     *
     * @param runner the plans' runner
     */
    public void showPlans(BackfillPlanRunner runner) {
        this.plans = Objects.requireNonNull(runner, "runner");
        showSection("plans", () -> {
            Map<String, Object> details = new LinkedHashMap<>();
            runner.plans().forEach(plan -> details.put(plan.name(), runner.lastProgress(plan.name())
                    .<Object>map(DualWriteEndpoint::plan).orElse(Map.of("status", "not looked at yet"))));
            return details;
        });
    }

    /**
     * Shows a capability's details under its own name in the status, e.g. {@code incremental}. The supplier
     * must read memory only, so the status stays within its budget.
     *
     * @param name the section's name
     * @param details the details
     */
    public void showSection(String name, java.util.function.Supplier<Map<String, Object>> details) {
        sections.put(java.util.Objects.requireNonNull(name, "name"), java.util.Objects.requireNonNull(details,
                "details"));
    }

    /**
     * Offers the degradation operations ({@link #degraded}) and shows the marks under {@code degraded} in the
     * status.
     *
     * @param degradation the marks
     * @param recopyTimeout how long an unmark's re-copy retries keys held by writers
     */
    public void showDegradation(io.dualwrite.degrade.Degradation degradation, Duration recopyTimeout) {
        this.degraded = new DegradeActions(degradation, mirror, controller, recopyTimeout);
    }

    /**
     * Takes rows out of the migration and back: {@code POST /actuator/dualwrite/degraded/{action}}, refused
     * unless {@code dualwrite.management.write-enabled=true}. Every action needs {@code actor} and {@code reason},
     * kept in the marks table and logged.
     * <ul>
     *   <li>{@code mark} {@code {"table": "t_order", "key": "7"}}, or {@code "from"} and {@code "to"} (a key
     *       range, to exclusive), or {@code "value"} (a routing value: a user): not mirrored from the fleet's next
     *       poll on, not copied, not compared;</li>
     *   <li>{@code purge} {@code {"id": 3}}: deletes the mark's rows from the target, throttled and checkpointed,
     *       leaving rows the target is primary for; 409 in TARGET_ONLY or for a mark not in force;</li>
     *   <li>{@code unmark} {@code {"id": 3}}: unmarks, waits until no instance can still skip the rows, and copies
     *       them again from the source.</li>
     * </ul>
     * A purge or unmark still running after a moment answers 202 and goes on in the background.
     *
     * @param part {@code degraded}
     * @param action {@code mark}, {@code purge} or {@code unmark}
     * @param table for {@code mark}: the source table
     * @param key for {@code mark}: one key ({@code 7}, or {@code ["eu",7]} for a composite key)
     * @param from for {@code mark}: the first key of a range
     * @param to for {@code mark}: the end of a range (exclusive)
     * @param value for {@code mark}: a routing value
     * @param id for {@code purge} and {@code unmark}: the mark's id
     * @param actor who asks
     * @param reason why
     * @return the mark, or the job's outcome; 403, 400, 404 (no degradation here), 409 or 503 as for the other writes
     */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> degraded(@Selector String part, @Selector String action,
            @Nullable String table, @Nullable String key, @Nullable String from, @Nullable String to,
            @Nullable String value, @Nullable String id, @Nullable String actor, @Nullable String reason) {
        if (!properties.getManagement().isWriteEnabled()) {
            return error(STATUS_FORBIDDEN, "dualwrite write operations are disabled; set"
                    + " dualwrite.management.write-enabled=true to allow '" + part + "/" + action + "'");
        }
        DegradeActions degradation = degraded;
        if (!"degraded".equals(part) || degradation == null) {
            return error(WebEndpointResponse.STATUS_NOT_FOUND, "no operation '" + part + "/" + action + "'"
                    + (degradation == null ? "; degradation is off (dualwrite.degraded.enabled)" : ""));
        }
        try {
            return degradation.run(action, table, key, from, to, value, id, actor, reason);
        } catch (IllegalStateException refused) {
            return error(STATUS_CONFLICT, refused.getMessage());
        } catch (IllegalArgumentException bad) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, bad.getMessage());
        } catch (SQLException e) {
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, "the target could not be reached: "
                    + e.getMessage());
        }
    }

    /**
     * Waits until this instance's mirrors (the forward one, and the reverse one of RAMP) have applied, or
     * parked, every change committed before the request: {@code GET /actuator/dualwrite/drained?waitSeconds=30}.
     * Changes committed while it waits do not extend the wait, so it ends under a steady write load too. Use it
     * before a reconcile, a maintenance of the target, or a test's comparison. It covers this instance's
     * in-memory queues (SYNC, ASYNC) and the whole outbox table (OUTBOX, spilled keys); in a fleet that does
     * not run OUTBOX, ask every instance.
     *
     * @param part {@code drained}
     * @param waitSeconds how long to wait, 0..{@value #MAX_DRAIN_WAIT_SECONDS}; left out, 0: only says whether
     *     anything committed before now still waits
     * @return 200 with {@code "drained": true} once drained; 503 with {@code "drained": false} when the wait ran
     *     out; 400 for a bad wait, 404 for another part. The body also holds each mirror's status.
     */
    @ReadOperation
    public WebEndpointResponse<Map<String, Object>> drained(@Selector String part, @Nullable Integer waitSeconds) {
        if (!"drained".equals(part)) {
            return error(WebEndpointResponse.STATUS_NOT_FOUND, "unknown part '" + part + "'; GET /actuator/dualwrite"
                    + " for the status, or /actuator/dualwrite/drained?waitSeconds=30 to wait for the mirrors");
        }
        int wait = waitSeconds == null ? 0 : waitSeconds;
        if (wait < 0 || wait > MAX_DRAIN_WAIT_SECONDS) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "drained: waitSeconds must be 0.."
                    + MAX_DRAIN_WAIT_SECONDS + ", was " + wait);
        }
        long started = System.nanoTime();
        java.time.Instant asOf = java.time.Instant.now();
        long deadline = started + Duration.ofSeconds(wait).toNanos();
        boolean drained;
        try {
            drained = mirror.awaitAppliedUpTo(started, Duration.ofSeconds(wait));
            if (reverse != null) {
                drained &= reverse.awaitAppliedUpTo(started, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, "drained: interrupted while waiting");
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("drained", drained);
        body.put("committedBefore", asOf.toString());
        body.put("waitedMillis", Duration.ofNanos(System.nanoTime() - started).toMillis());
        body.put("mirror", mirror(mirror));
        if (reverse != null) {
            body.put("reverseMirror", mirror(reverse));
        }
        return new WebEndpointResponse<>(body, drained ? WebEndpointResponse.STATUS_OK
                : WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE);
    }

    /**
     * Shows the outcome of desired settings (feature flags, refreshed properties) under {@code routing.desired}.
     *
     * @param settings the executor of desired settings, or null
     */
    public void showDesired(@Nullable DesiredSettings settings) {
        this.desired = settings;
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
        routing.put("keyless", keyless(rules));
        DesiredSettings desiredSettings = desired;
        if (desiredSettings != null) {
            routing.put("desired", desiredSettings.last().<Object>map(DualWriteEndpoint::desired).orElse("none yet"));
        }
        return routing;
    }

    /** The last desired setting (feature flags, refreshed properties) and what became of it. */
    private static Map<String, Object> desired(DesiredSettings.Report report) {
        Map<String, Object> desired = new LinkedHashMap<>();
        desired.put("source", report.source());
        desired.put("desired", report.desired().toString());
        desired.put("outcome", report.outcome().name());
        desired.put("message", report.message());
        desired.put("steps", report.steps());
        desired.put("inForce", report.actual().toString());
        desired.put("at", report.at().toString());
        return desired;
    }

    /** Requests without a routing key: in RAMP they take the default route at every percent, so say so. */
    private Map<String, Object> keyless(RoutingRules rules) {
        KeylessRequests.Share share = controller.keylessRequests().lastMinute();
        Map<String, Object> keyless = new LinkedHashMap<>();
        keyless.put("lastMinute", Map.of("requests", share.requests(), "withoutKey", share.keyless(),
                "share", share.ratio()));
        keyless.put("defaultRoutedInRamp", controller.keylessRequests().defaultRouted());
        if (rules.phase() == Phase.RAMP && share.keyless() > 0) {
            keyless.put("warning", share + " of this instance's requests in the last minute carried no routing key"
                    + " and took the default route " + rules.defaultRoute() + ", whatever the percent; bind the key"
                    + " (dualwrite.routing.web.*, @RoutingKey, RoutingContext) before the transaction opens");
        }
        return keyless;
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
        result.put("repairProblems", report.repairProblems());
        Map<String, Object> samples = new LinkedHashMap<>();
        report.samples().forEach((kind, keys) -> samples.put(kind.name(), keys.stream().map(Object::toString).toList()));
        result.put("samples", samples);
        result.put("tookMillis", report.took().toMillis());
        if (!report.shards().isEmpty()) {
            List<Map<String, Object>> units = new ArrayList<>();
            for (var unit : report.shards()) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("unit", unit.unit());
                entry.put("done", unit.done());
                entry.put("compared", unit.compared());
                entry.put("missingInTarget", unit.missingInTarget());
                entry.put("extraInTarget", unit.extraInTarget());
                entry.put("different", unit.different());
                entry.put("repaired", unit.repaired());
                entry.put("unrepaired", unit.unrepaired());
                unit.owner().ifPresent(owner -> entry.put("owner", owner));
                units.add(entry);
            }
            result.put("shards", units);
        }
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
        result.put("rateWindowSeconds", BackfillProgress.RATE_WINDOW.toSeconds());
        result.put("averageRowsPerSecond", Math.round(progress.averageRowsPerSecond()));
        result.put("rangesDone", progress.rangesDone());
        result.put("ranges", progress.ranges());
        progress.eta().ifPresent(eta -> {
            result.put("eta", eta.toString());
            result.put("etaSeconds", eta.toSeconds());
        });
        progress.lastError().ifPresent(error -> result.put("lastError", error));
        if (!progress.shards().isEmpty()) {
            List<Map<String, Object>> shards = new ArrayList<>();
            for (BackfillProgress.Shard shard : progress.shards()) {
                Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("shard", shard.shard());
                entry.put("status", shard.status().name());
                entry.put("rowsCopied", shard.rowsCopied());
                shard.owner().ifPresent(owner -> entry.put("owner", owner));
                shards.add(entry);
            }
            result.put("shards", shards);
        }
        return result;
    }

    /**
     * Changes something. Every write is refused unless {@code dualwrite.management.write-enabled=true}.
     *
     * @param operation what to change: {@code backfill}, {@code phase}, {@code percent}, {@code lists},
     *     {@code reconcile} or {@code drop-instance}
     * @param action for {@code backfill}: {@code start}, {@code pause}, {@code resume} or {@code retry}
     * @param table for {@code backfill} and {@code reconcile}: the source table, or {@code null} for every one
     * @param reason why, for {@code pause}; kept in the checkpoint table
     * @param phase for {@code phase}: SOURCE_ONLY, DUAL_WRITE, RAMP or TARGET_ONLY
     * @param percent for {@code percent}: a whole number in 0..100 (a JSON number or string)
     * @param allow for {@code lists}: comma-separated keys always routed to the target (left out: unchanged)
     * @param deny for {@code lists}: comma-separated keys always routed to the source (left out: unchanged)
     * @param force for {@code phase}, {@code percent}, {@code lists}: override the guards (logged)
     * @param windowed for {@code reconcile}: compare only the last {@code dualwrite.verify.reconcile.window}
     * @param instance for {@code drop-instance}: the instance's id, as the status lists it
     * @param plan for {@code plan}: the plan's name
     * @param stage for {@code plan} {@code restart}: the stage to restart from, or {@code null} for the current
     * @param actor for {@code plan} {@code approve} without an authenticated user: who approves
     * @param security the request's security, whose user (when authenticated) is who approves
     * @param key for {@code move-user}: the user's routing key
     * @param route for {@code move-user}: SOURCE or TARGET
     * @return what happened; 403 when writes are not enabled, 400 for a bad request, 409 when the state does
     *     not allow it (a guard refused, a step reverted, a backfill not in a state for the action)
     */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> write(@Selector String operation, @Nullable String action,
            @Nullable String table, @Nullable String reason, @Nullable String phase, @Nullable String percent,
            @Nullable String allow, @Nullable String deny, @Nullable Boolean force, @Nullable Boolean windowed,
            @Nullable String instance, @Nullable String plan, @Nullable String stage, @Nullable String actor,
            @Nullable String key, @Nullable String route, @Nullable SecurityContext security) {
        if (!properties.getManagement().isWriteEnabled()) {
            return error(STATUS_FORBIDDEN, "dualwrite write operations are disabled; set"
                    + " dualwrite.management.write-enabled=true to allow '" + operation + "'");
        }
        boolean forced = Boolean.TRUE.equals(force);
        try {
            switch (operation) {
                case "backfill":
                    return backfill(action, table, reason);
                case "plan":
                    return plan(action, plan, stage, security != null && security.getPrincipal() != null
                            ? security.getPrincipal().getName() : actor, reason);
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
                    return step(controller.requestPercent(percent(percent), forced));
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
                case "move-user":
                    return moveUser(key, route, reason);
                default:
                    return error(WebEndpointResponse.STATUS_BAD_REQUEST, "unknown operation '" + operation
                            + "'; expected one of [backfill, plan, phase, percent, lists, reconcile,"
                            + " drop-instance, move-user]");
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

    /**
     * {@link #write} without the {@code move-user} parameters, as it was before them.
     *
     * @param operation see {@link #write}
     * @param action see {@link #write}
     * @param table see {@link #write}
     * @param reason see {@link #write}
     * @param phase see {@link #write}
     * @param percent see {@link #write}
     * @param allow see {@link #write}
     * @param deny see {@link #write}
     * @param force see {@link #write}
     * @param windowed see {@link #write}
     * @param instance see {@link #write}
     * @return see {@link #write}
     */
    public WebEndpointResponse<Map<String, Object>> write(String operation, String action, String table, String reason,
            String phase, String percent, String allow, String deny, Boolean force, Boolean windowed, String instance) {
        return write(operation, action, table, reason, phase, percent, allow, deny, force, windowed, instance, null,
                null, null, null, null, null);
    }

    private WebEndpointResponse<Map<String, Object>> moveUser(String key, String route, String reason)
            throws SQLException, InterruptedException {
        if (key == null || key.isBlank() || route == null
                || !List.of("SOURCE", "TARGET").contains(route.trim().toUpperCase(Locale.ROOT))) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "move-user: give \"key\": the user's routing key, and"
                    + " \"route\": SOURCE or TARGET");
        }
        return step(controller.moveUser(key.trim(), Route.valueOf(route.trim().toUpperCase(Locale.ROOT)), "actuator",
                reason, properties.getRouting().getStepTimeout()));
    }

    /**
     * The percent as the controller takes it. Taken as text, so that a value that is no number gets the
     * same named refusal as one out of range, not the web layer's anonymous 400.
     */
    private static int percent(String percent) {
        try {
            return Integer.parseInt(percent.trim());
        } catch (NumberFormatException notANumber) {
            throw new IllegalArgumentException("dualwrite.routing.percent: '" + percent + "' is not a whole number in"
                    + " 0..100", notANumber);
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

    private WebEndpointResponse<Map<String, Object>> plan(String action, String plan, String stage, String actor,
            String reason) throws SQLException {
        BackfillPlanRunner runner = plans;
        if (runner == null) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "plan: no backfill plan is configured; define one"
                    + " under dualwrite.backfill.plans");
        }
        List<String> names = runner.plans().stream().map(p -> p.name()).toList();
        if (plan == null || plan.isBlank()) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "plan: give \"plan\": one of " + names);
        }
        String verb = action == null ? "" : action.trim().toLowerCase(Locale.ROOT);
        switch (verb) {
            case "start" -> runner.start(plan);
            case "pause" -> runner.pause(plan, reason == null ? "paused through the dualwrite endpoint" : reason);
            case "resume" -> runner.resume(plan);
            case "restart" -> runner.restart(plan, stage);
            case "approve" -> {
                if (actor == null || actor.isBlank()) {
                    return error(WebEndpointResponse.STATUS_BAD_REQUEST, "plan: approve needs who approves: sign in,"
                            + " or give \"actor\"");
                }
                runner.approve(plan, actor, reason);
            }
            default -> {
                return error(WebEndpointResponse.STATUS_BAD_REQUEST, "plan: unknown action '" + action
                        + "'; expected one of [start, pause, resume, restart, approve]");
            }
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("outcome", verb.toUpperCase(Locale.ROOT));
        body.put("plan", plan(runner.progress(plan)));
        return new WebEndpointResponse<>(body, WebEndpointResponse.STATUS_OK);
    }

    /** A plan's progress as the endpoint shows it. */
    private static Map<String, Object> plan(PlanProgress progress) {
        Map<String, Object> plan = new LinkedHashMap<>();
        plan.put("name", progress.plan());
        plan.put("status", progress.status().name());
        plan.put("currentStage", progress.currentStage() < progress.stages().size()
                ? progress.stages().get(progress.currentStage()).stage() : null);
        plan.put("stageIndex", progress.currentStage());
        plan.put("stageCount", progress.stages().size());
        plan.put("rowsCopied", progress.rowsCopied());
        List<Map<String, Object>> stages = new ArrayList<>();
        for (PlanProgress.StageProgress stage : progress.stages()) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("name", stage.stage());
            s.put("status", stage.status().name());
            s.put("table", stage.table().orElse(null));
            s.put("rowsCopied", stage.rowsCopied());
            s.put("failedRows", stage.failedRows());
            s.put("rangesDone", stage.rangesDone());
            s.put("ranges", stage.ranges());
            s.put("gateResult", stage.gateResult().orElse(null));
            s.put("approvedBy", stage.approvedBy().orElse(null));
            s.put("approvedAt", stage.approvedAt().map(Object::toString).orElse(null));
            s.put("approvalReason", stage.approvalReason().orElse(null));
            s.put("reason", stage.reason().orElse(null));
            s.put("startedAt", stage.startedAt().map(Object::toString).orElse(null));
            s.put("finishedAt", stage.finishedAt().map(Object::toString).orElse(null));
            stages.add(s);
        }
        plan.put("stages", stages);
        progress.lastError().ifPresent(e -> plan.put("lastError", e));
        return plan;
    }

    private WebEndpointResponse<Map<String, Object>> backfill(String action, String table, String reason) {
        String verb = action == null ? "" : action.trim().toLowerCase(Locale.ROOT);
        if (!List.of("start", "pause", "resume", "retry").contains(verb)) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "backfill: unknown action '" + action
                    + "'; expected one of [start, pause, resume, retry]");
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
        if (table == null && verb.equals("start")) {
            // Every table: parents before children, by the target's foreign keys or dualwrite.backfill.order.
            try {
                backfill.startAll(names);
            } catch (IllegalStateException refused) {
                return error(STATUS_CONFLICT, "backfill: " + refused.getMessage());
            } catch (SQLException e) {
                return error(WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE, "backfill: the store could not be"
                        + " reached: " + e.getMessage());
            }
            for (String name : names) {
                outcome.put(name, progress(name));
            }
            return new WebEndpointResponse<>(outcome, status);
        }
        for (String name : names) {
            try {
                int retried = -1;
                switch (verb) {
                    case "start" -> backfill.start(name);
                    case "pause" -> pause(name, reason);
                    case "retry" -> retried = backfill.retryFailedRows(name);
                    default -> backfill.resume(name);
                }
                Map<String, Object> progress = progress(name);
                if (retried >= 0) {
                    progress.put("retried", retried);
                }
                outcome.put(name, progress);
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
