package io.dualwrite.backfill;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.config.Settings;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Runs {@link BackfillPlan}s: each stage is a backfill of the plan's tables restricted to the stage's rows,
 * with the stage's throttle and its own checkpoints ({@code table@plan.stage} in the checkpoint table), so a
 * stage never resumes from another's; after it, its gates hold the next stage back.
 *
 * <pre>{@code
 * BackfillPlanRunner plans = BackfillPlanRunner.builder(tables, source, target)
 *     .backfill(backfillConfig).plans(List.of(plan)).check(reconcileCheck).build();
 * plans.open();                         // follows every plan's trigger and stages in the background
 * plans.start("orders");                // or let its trigger start it
 * plans.approve("orders", "alice", "test region looks right");
 * plans.progress("orders");
 * }</pre>
 *
 * <p>State: {@code dualwrite_backfill_plan} in the target, one row per stage, changed only under the rows'
 * lock ({@code FOR UPDATE}). Every instance runs the same loop: it reads its plans' rows, and when a step is
 * due (a trigger fired, a stage's tables all copied, a gate passed) it locks the rows, checks they still say
 * what it read, and takes the step; so several instances take each step once. The copying itself is the
 * backfill's: every instance joins a running stage's tables through the leased key ranges, so a dead
 * instance's ranges are taken over, and a restarted one resumes the stage from its checkpoints. The reconcile
 * gate runs on one instance at a time under a lease in the stage's row ({@link Builder#checkLease}).
 *
 * <p>A stage's rows: those its time window, key range and condition all match, and no earlier stage's
 * ({@code (earlier condition) IS NOT TRUE} for each), so each row is copied by one stage; a last stage without
 * a filter takes the rest. The stages replace the backfill's own per-table filters. Tables are copied one after the other in the plan's order within each stage.
 */
public final class BackfillPlanRunner implements AutoCloseable {

    private static final Log log = LogFactory.getLog(BackfillPlanRunner.class);

    /**
     * Checks a copied stage's rows of one table, typically by reconciling them (the verifier's
     * {@code Reconciler}, restricted to the condition).
     */
    @FunctionalInterface
    public interface StageCheck {

        /**
         * @param plan the plan
         * @param stage the stage
         * @param table the source table, as mapped
         * @param condition the stage's rows as an SQL condition over the source table, or {@code null} for all
         *     of them
         * @param parameters the condition's parameters
         * @return the verdict
         * @throws Exception if the check could not run (a store down, the table busy): it is tried again
         */
        Result check(String plan, String stage, String table, String condition, List<Object> parameters)
                throws Exception;

        /**
         * A verdict.
         *
         * @param passed whether the stage's rows match
         * @param summary what was compared and found, kept with the stage
         */
        record Result(boolean passed, String summary) {
        }
    }

    private final List<BackfillPlan> plans;
    private final BackfillConfig base;
    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final EventPublisher events;
    private final BackfillGate gate;
    private final StageCheck check;
    private final Duration pollInterval;
    private final Duration checkLease;
    private final PlanStore store;
    private final String planTable;
    /** Per plan, per stage, per table: the stage's rows as a source condition and its parameters. */
    private final Map<String, List<Map<String, BackfillConfig.Filter>>> filters = new LinkedHashMap<>();
    private final Map<String, BackfillRunner> runners = new ConcurrentHashMap<>();
    private final Map<String, String> lastErrors = new ConcurrentHashMap<>();
    private final Map<String, PlanProgress> snapshots = new ConcurrentHashMap<>();
    /** Plans whose tables this runner has closed ({@link #closeTables}). */
    private final java.util.Set<String> closedPlans = ConcurrentHashMap.newKeySet();
    private final Instant createdAt;
    private final Object tickLock = new Object();
    private volatile boolean tablesChecked;
    private volatile boolean closed;
    private Thread coordinator;
    private volatile BackfillRunner.ChunkHook hook;

    private BackfillPlanRunner(Builder b) {
        this.plans = List.copyOf(b.plans);
        this.base = b.backfill;
        this.tables = b.tables;
        this.source = b.source;
        this.target = b.target;
        this.events = b.events;
        this.gate = b.gate;
        this.check = b.check;
        this.pollInterval = b.pollInterval;
        this.checkLease = b.checkLease;
        this.planTable = b.planTable;
        this.store = new PlanStore(tables.targetDialect(), b.planTable);
        this.createdAt = base.clock().instant();
    }

    /**
     * @param tables the checked table mappings
     * @param source the source store
     * @param target the target store, where plan state and checkpoints are kept
     * @return a builder
     */
    public static Builder builder(MappedTables tables, DataSource source, DataSource target) {
        return new Builder(Objects.requireNonNull(tables, "tables"), Objects.requireNonNull(source, "source"),
                Objects.requireNonNull(target, "target"));
    }

    /** @return the plans this runner follows */
    public List<BackfillPlan> plans() {
        return plans;
    }

    /** @return the plan table's DDL for the target store */
    public String ddl() {
        return store.ddl();
    }

    /**
     * Checks that the plan, checkpoint and failure tables exist in the target, creating them when the
     * backfill's {@link BackfillConfig#createTables()} allows.
     *
     * @throws IllegalStateException if a table is missing and may not be created; the message holds the DDL
     * @throws SQLException if the target cannot be reached
     */
    public void ensureTables() throws SQLException {
        if (tablesChecked) {
            return;
        }
        // The loop and an operator's call may both be first here; one creates, the other then finds them.
        synchronized (tickLock) {
            createTables();
        }
    }

    private void createTables() throws SQLException {
        if (tablesChecked) {
            return;
        }
        try (Connection connection = target.getConnection()) {
            if (!store.exists(connection)) {
                if (!base.createTables()) {
                    throw new IllegalStateException("the backfill plans need table '" + planTable + "' in the target"
                            + " database. Create it with:\n" + store.ddl() + ";\nor set dualwrite.schema.create=true to"
                            + " let dualwrite create it.");
                }
                try {
                    store.create(connection);
                    if (!connection.getAutoCommit()) {
                        connection.commit();
                    }
                } catch (SQLException raced) {
                    if (!store.exists(connection)) {
                        throw raced;
                    }
                }
            }
        }
        runner(plans.get(0), 0).ensureTables();
        tablesChecked = true;
    }

    /**
     * Starts following every plan in the background: triggers, stages, gates; a plan already under way (after
     * a restart of the service) continues where its rows say.
     *
     * @throws IllegalStateException if already open or closed
     */
    public synchronized void open() {
        if (coordinator != null || closed) {
            throw new IllegalStateException("the backfill plan runner is already " + (closed ? "closed" : "open"));
        }
        coordinator = new Thread(this::follow, "dualwrite-backfill-plans");
        coordinator.setDaemon(true);
        coordinator.start();
    }

    private void follow() {
        while (!closed) {
            tickAll();
            try {
                Thread.sleep(pollInterval.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * One look at every plan; what is due is done. Its own lock, not the operations': a reconcile gate may run
     * here for long, and an operator's pause must not wait for it (the rows' lock orders the two).
     */
    void tickAll() {
        synchronized (tickLock) {
            tickEach();
        }
    }

    private void tickEach() {
        for (BackfillPlan plan : plans) {
            if (closed) {
                return;
            }
            try (LibraryWork.Scope own = LibraryWork.enter()) {
                tick(plan);
                lastErrors.remove(plan.name());
                snapshots.put(plan.name(), progress(plan.name()));
            } catch (SQLException | RuntimeException e) {
                String previous = lastErrors.put(plan.name(), e.getMessage() == null ? e.toString() : e.getMessage());
                if (!Objects.equals(previous, lastErrors.get(plan.name()))) {
                    log.warn("dualwrite backfill plan " + plan.name() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    /**
     * Starts a plan now, whatever its trigger says; the instances' loops ({@link #open()}) take its stages
     * from there at their next look.
     *
     * @param plan the plan's name
     * @throws IllegalArgumentException if no plan has that name
     * @throws IllegalStateException if the plan has started already (restart it to run a stage again)
     * @throws SQLException if the target cannot be reached
     */
    public void start(String plan) throws SQLException {
        BackfillPlan p = plan(plan);
        ensureTables();
        if (!insert(p)) {
            throw new IllegalStateException("backfill plan " + p.name() + " has already started (" + progress(plan)
                    .status() + "); call restart to run a stage again");
        }
        log.info("dualwrite backfill plan " + p.name() + " started by hand");
    }

    /**
     * Pauses a plan's current stage on every instance: its tables' chunks in flight finish, the rest waits for
     * {@link #resume}.
     *
     * @param plan the plan's name
     * @param reason why, kept with the stage
     * @throws IllegalArgumentException if no plan has that name
     * @throws IllegalStateException if the plan is not under way (not started, done, failed or paused)
     * @throws SQLException if the target cannot be reached
     */
    public synchronized void pause(String plan, String reason) throws SQLException {
        BackfillPlan p = plan(plan);
        String why = reason == null || reason.isBlank() ? "paused by an operator" : reason;
        int stage = inTransaction(connection -> {
            PlanStore.StageRow current = current(p, store.load(connection, p.name(), true), "paused");
            if (current.status == BackfillPlan.Status.FAILED || current.status == BackfillPlan.Status.PAUSED) {
                throw new IllegalStateException("backfill plan " + p.name() + " cannot be paused: stage "
                        + current.stage + " is " + current.status);
            }
            current.status = BackfillPlan.Status.PAUSED;
            current.reason = why;
            current.owner = null;
            current.leaseUntil = 0;
            store.update(connection, current, now());
            return current.index;
        });
        for (String table : p.tables()) {
            runner(p, stage).pause(table, "backfill plan " + p.name() + " paused: " + why);
        }
        log.info("dualwrite backfill plan " + p.name() + ": stage " + p.stages().get(stage).name() + " paused (" + why
                + ")");
    }

    /**
     * Resumes a paused plan's current stage here; the other instances join at their next look.
     *
     * @param plan the plan's name
     * @throws IllegalArgumentException if no plan has that name
     * @throws IllegalStateException if the current stage is not paused
     * @throws BackfillGate.Refused if the backfill's gate refuses for good, as in RAMP; the stage stays paused
     * @throws SQLException if a store cannot be reached
     */
    public synchronized void resume(String plan) throws SQLException {
        BackfillPlan p = plan(plan);
        int stage = inTransaction(connection -> {
            PlanStore.StageRow current = current(p, store.load(connection, p.name(), false), "resumed");
            if (current.status != BackfillPlan.Status.PAUSED) {
                throw new IllegalStateException("backfill plan " + p.name() + " is not paused: stage " + current.stage
                        + " is " + current.status + (current.status == BackfillPlan.Status.FAILED
                                ? "; restart it once the cause is fixed" : ""));
            }
            return current.index;
        });
        // The jobs first: a RUNNING stage whose job is still paused would be paused again at the next look.
        BackfillRunner runner = runner(p, stage);
        for (String table : p.tables()) {
            if (runner.progress(table).status() == BackfillStatus.PAUSED) {
                runner.resume(table);
            }
        }
        inTransaction(connection -> {
            for (PlanStore.StageRow row : store.load(connection, p.name(), true)) {
                if (row.index == stage && row.status == BackfillPlan.Status.PAUSED) {
                    // A stage paused while it waited for its trigger waits again; any other copies on (or, if
                    // copied, goes back to its gates, whose results and approval stand).
                    row.status = row.startedMs == null ? BackfillPlan.Status.PENDING : BackfillPlan.Status.RUNNING;
                    row.reason = null;
                    store.update(connection, row, now());
                }
            }
            return null;
        });
        log.info("dualwrite backfill plan " + p.name() + ": stage " + p.stages().get(stage).name() + " resumed");
    }

    /**
     * Runs a stage again from its first row, and every stage after it: their checkpoints are dropped, their
     * gates and approvals cleared. For a stage that failed its gate (once the cause is fixed), or to copy
     * again.
     *
     * @param plan the plan's name
     * @param stage the stage to restart from, or {@code null} for the current one
     * @throws IllegalArgumentException if no plan or stage has that name
     * @throws IllegalStateException if the plan has not started
     * @throws SQLException if the target cannot be reached
     */
    public synchronized void restart(String plan, String stage) throws SQLException {
        BackfillPlan p = plan(plan);
        int from = inTransaction(connection -> {
            List<PlanStore.StageRow> rows = store.load(connection, p.name(), false);
            if (stage == null) {
                return current(p, rows, "restarted").index;
            }
            if (rows.isEmpty()) {
                throw new IllegalStateException("backfill plan " + p.name() + " has not started; start it instead");
            }
            return stageIndex(p, stage);
        });
        // The checkpoints first: a stage reset to PENDING could otherwise start again from its old checkpoint.
        for (int s = from; s < p.stages().size(); s++) {
            for (String table : p.tables()) {
                runner(p, s).forget(table);
            }
        }
        inTransaction(connection -> {
            for (PlanStore.StageRow row : store.load(connection, p.name(), true)) {
                if (row.index >= from) {
                    row.reset();
                    store.update(connection, row, now());
                }
            }
            return null;
        });
        log.info("dualwrite backfill plan " + p.name() + ": restarted from stage " + p.stages().get(from).name());
    }

    /**
     * Approves a plan's current stage, which waits at its approval gate (after its reconcile gate passed, if
     * it has one); the next stage starts.
     *
     * @param plan the plan's name
     * @param actor who approves, kept with the stage
     * @param reason why, kept with the stage
     * @throws IllegalArgumentException if no plan has that name, or the actor is blank
     * @throws IllegalStateException if the current stage does not wait for an approval: the message says what
     *     it waits for
     * @throws SQLException if the target cannot be reached
     */
    public synchronized void approve(String plan, String actor, String reason) throws SQLException {
        BackfillPlan p = plan(plan);
        if (actor == null || actor.isBlank() || actor.length() > 128) {
            throw new IllegalArgumentException("approving backfill plan " + p.name() + ": name who approves (1 to 128"
                    + " characters)");
        }
        String stage = inTransaction(connection -> {
            PlanStore.StageRow current = current(p, store.load(connection, p.name(), true), "approved");
            BackfillPlan.Stage config = p.stages().get(current.index);
            if (!config.approvalGate()) {
                throw new IllegalStateException("backfill plan " + p.name() + ": stage " + current.stage + " has no"
                        + " approval gate (it is " + current.status + ")");
            }
            if (current.status != BackfillPlan.Status.GATED) {
                throw new IllegalStateException("backfill plan " + p.name() + ": stage " + current.stage + " is "
                        + current.status + "; it can be approved once its rows are copied"
                        + (config.reconcileGate() ? " and reconciled" : ""));
            }
            if (config.reconcileGate() && !passed(current.gateResult)) {
                throw new IllegalStateException("backfill plan " + p.name() + ": stage " + current.stage + " waits for"
                        + " its reconcile gate" + (current.gateResult == null ? "" : " (" + current.gateResult + ")")
                        + "; it can be approved once that passes");
            }
            current.status = BackfillPlan.Status.APPROVED;
            current.approvedBy = actor;
            current.approvedMs = now();
            current.approvalReason = reason;
            store.update(connection, current, now());
            return current.stage;
        });
        log.info("dualwrite backfill plan " + p.name() + ": stage " + stage + " approved by " + actor
                + (reason == null ? "" : " (" + reason + ")"));
    }

    /**
     * Reads a plan's progress from the target.
     *
     * @param plan the plan's name
     * @return the progress
     * @throws IllegalArgumentException if no plan has that name
     * @throws SQLException if the target cannot be reached
     */
    public PlanProgress progress(String plan) throws SQLException {
        BackfillPlan p = plan(plan);
        List<PlanStore.StageRow> rows;
        try (Connection connection = target.getConnection()) {
            rows = tablesChecked || store.exists(connection) ? store.load(connection, p.name(), false) : List.of();
        }
        Optional<String> lastError = Optional.ofNullable(lastErrors.get(p.name()));
        List<PlanProgress.StageProgress> stages = new ArrayList<>();
        long total = 0;
        int currentIndex = p.stages().size();
        for (int s = 0; s < p.stages().size(); s++) {
            PlanStore.StageRow row = rows.size() > s ? rows.get(s) : null;
            BackfillPlan.Status status = row == null ? BackfillPlan.Status.NOT_STARTED : row.status;
            if (status != BackfillPlan.Status.DONE && currentIndex == p.stages().size()) {
                currentIndex = s;
            }
            long copied = 0;
            long failed = 0;
            int done = 0;
            int ranges = 0;
            if (row != null && status != BackfillPlan.Status.PENDING) {
                for (String table : p.tables()) {
                    BackfillProgress progress = runner(p, s).progress(table);
                    copied += progress.rowsCopied();
                    failed += progress.failedRows();
                    done += progress.rangesDone();
                    ranges += progress.ranges();
                }
            }
            total += copied;
            Optional<String> table = row != null && status == BackfillPlan.Status.RUNNING
                    && row.tableIndex < p.tables().size() ? Optional.of(p.tables().get(row.tableIndex))
                    : Optional.empty();
            stages.add(new PlanProgress.StageProgress(p.stages().get(s).name(), status, table, copied, failed, done,
                    ranges, text(row == null ? null : row.gateResult), text(row == null ? null : row.approvedBy),
                    instant(row == null ? null : row.approvedMs), text(row == null ? null : row.approvalReason),
                    text(row == null ? null : row.reason), instant(row == null ? null : row.startedMs),
                    instant(row == null ? null : row.finishedMs)));
        }
        return new PlanProgress(p.name(), overall(rows), currentIndex, total, stages, lastError);
    }

    /**
     * The progress this instance read at its last look at the plan (every poll interval while open); cheap
     * enough for a metrics gauge.
     *
     * @param plan the plan's name
     * @return the snapshot, or empty before the first look
     * @throws IllegalArgumentException if no plan has that name
     */
    public Optional<PlanProgress> lastProgress(String plan) {
        return Optional.ofNullable(snapshots.get(plan(plan).name()));
    }

    /** Stops following the plans and this instance's copying; the plans' state stays for the next start. */
    @Override
    public void close() {
        closed = true;
        Thread thread;
        synchronized (this) {
            thread = coordinator;
        }
        if (thread != null) {
            thread.interrupt();
            try {
                thread.join(30_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        runners.values().forEach(BackfillRunner::close);
    }

    // ------------------------------------------------------------------------------------------------------
    // The step of one plan

    private void tick(BackfillPlan plan) throws SQLException {
        ensureTables();
        List<PlanStore.StageRow> rows = inTransaction(connection -> store.load(connection, plan.name(), false));
        if (rows.isEmpty()) {
            if (fired(plan.trigger(), createdAt) && insert(plan)) {
                log.info("dualwrite backfill plan " + plan.name() + " started: " + plan.trigger());
                tick(plan);
            }
            return;
        }
        PlanStore.StageRow current = rows.stream().filter(r -> r.status != BackfillPlan.Status.DONE).findFirst()
                .orElse(null);
        if (current == null) {
            closeTables(plan);
            return;
        }
        BackfillPlan.Stage stage = plan.stages().get(current.index);
        switch (current.status) {
            case PENDING -> {
                // A stage waits from the end of the one before it; the first, from the plan's start.
                long since = current.index == 0 ? current.updatedMs
                        : Optional.ofNullable(rows.get(current.index - 1).finishedMs).orElse(current.updatedMs);
                if (fired(stage.trigger(), Instant.ofEpochMilli(since))) {
                    step(plan, current, BackfillPlan.Status.PENDING, row -> {
                        row.status = BackfillPlan.Status.RUNNING;
                        row.startedMs = now();
                        row.tableIndex = 0;
                        log.info("dualwrite backfill plan " + plan.name() + ": stage " + row.stage + " started");
                    });
                    tick(plan);
                }
            }
            case RUNNING -> copy(plan, stage, current);
            case GATED -> gate(plan, stage, current);
            case APPROVED -> step(plan, current, BackfillPlan.Status.APPROVED, row -> finish(plan, row));
            case PAUSED, FAILED, DONE, NOT_STARTED -> {
                // Nothing to do until an operator resumes or restarts it.
            }
        }
    }

    private void copy(BackfillPlan plan, BackfillPlan.Stage stage, PlanStore.StageRow current) throws SQLException {
        if (current.tableIndex >= plan.tables().size()) {
            step(plan, current, BackfillPlan.Status.RUNNING, row -> afterCopy(plan, stage, row));
            return;
        }
        String table = plan.tables().get(current.tableIndex);
        BackfillRunner runner = runner(plan, current.index);
        BackfillProgress progress = runner.progress(table);
        switch (progress.status()) {
            case DONE -> {
                int next = current.tableIndex + 1;
                step(plan, current, BackfillPlan.Status.RUNNING, row -> {
                    if (row.tableIndex == current.tableIndex) {
                        row.tableIndex = next;
                        if (next == plan.tables().size()) {
                            afterCopy(plan, stage, row);
                        }
                    }
                });
                tick(plan);
            }
            case PAUSED -> step(plan, current, BackfillPlan.Status.RUNNING, row -> {
                row.status = BackfillPlan.Status.PAUSED;
                row.reason = "the backfill of " + table + " paused: " + progress.lastError().orElse("no reason given");
                log.warn("dualwrite backfill plan " + plan.name() + ": stage " + row.stage + " paused: " + row.reason);
            });
            default -> {
                if (!runner.runningHere(table)) {
                    try {
                        runner.start(table);
                    } catch (BackfillGate.Refused refused) {
                        throw refused;
                    } catch (IllegalStateException raced) {
                        // Paused or started meanwhile: the next look sees which.
                        log.debug("dualwrite backfill plan " + plan.name() + ": " + raced.getMessage());
                    }
                }
            }
        }
    }

    /** The stage's tables are copied: on to its gates, or done. */
    private void afterCopy(BackfillPlan plan, BackfillPlan.Stage stage, PlanStore.StageRow row) {
        if (stage.reconcileGate() || stage.approvalGate()) {
            row.status = BackfillPlan.Status.GATED;
            log.info("dualwrite backfill plan " + plan.name() + ": stage " + row.stage + " copied; waiting for its"
                    + (stage.reconcileGate() ? " reconcile" : "") + (stage.reconcileGate() && stage.approvalGate()
                            ? " and" : "") + (stage.approvalGate() ? " approval" : "") + " gate");
        } else {
            finish(plan, row);
        }
    }

    private void finish(BackfillPlan plan, PlanStore.StageRow row) {
        row.status = BackfillPlan.Status.DONE;
        row.finishedMs = now();
        row.owner = null;
        row.leaseUntil = 0;
        boolean last = row.index == plan.stages().size() - 1;
        log.info("dualwrite backfill plan " + plan.name() + ": stage " + row.stage + " done"
                + (last ? "; the plan is done" : ""));
    }

    private void gate(BackfillPlan plan, BackfillPlan.Stage stage, PlanStore.StageRow current) throws SQLException {
        if (stage.reconcileGate() && current.gateResult == null) {
            reconcile(plan, stage, current);
            return;
        }
        if (!stage.approvalGate() || current.approvedBy != null) {
            step(plan, current, BackfillPlan.Status.GATED, row -> finish(plan, row));
        }
        // Otherwise the stage waits for approve().
    }

    /** Runs the reconcile gate on this instance if no other holds it; its verdict goes into the stage's row. */
    private void reconcile(BackfillPlan plan, BackfillPlan.Stage stage, PlanStore.StageRow current)
            throws SQLException {
        String me = base.ownerId();
        boolean mine = step(plan, current, BackfillPlan.Status.GATED, row -> {
            if (row.gateResult == null && (row.owner == null || row.leaseUntil < now() || me.equals(row.owner))) {
                row.owner = me;
                row.leaseUntil = now() + checkLease.toMillis();
            }
        }) && inTransaction(connection -> me.equals(store.load(connection, plan.name(), false)
                .get(current.index).owner));
        if (!mine) {
            return;
        }
        List<String> summaries = new ArrayList<>();
        boolean passed = true;
        try {
            for (String table : plan.tables()) {
                BackfillConfig.Filter filter = filters.get(key(plan.name())).get(current.index).get(key(table));
                StageCheck.Result result = check.check(plan.name(), stage.name(), tables.get(table).name(),
                        filter == null ? null : filter.condition(), filter == null ? List.of() : filter.parameters());
                summaries.add(table + ": " + result.summary());
                passed &= result.passed();
            }
        } catch (Exception e) {
            step(plan, current, BackfillPlan.Status.GATED, row -> {
                if (me.equals(row.owner)) {
                    row.owner = null;
                    row.leaseUntil = 0;
                }
            });
            throw new IllegalStateException("the reconcile gate of stage " + stage.name() + " could not run; it is"
                    + " tried again: " + e.getMessage(), e);
        }
        boolean verdict = passed;
        String summary = String.join("; ", summaries);
        step(plan, current, BackfillPlan.Status.GATED, row -> {
            if (!me.equals(row.owner) || row.gateResult != null) {
                return;
            }
            row.owner = null;
            row.leaseUntil = 0;
            if (verdict) {
                row.gateResult = "passed: " + summary;
                log.info("dualwrite backfill plan " + plan.name() + ": stage " + row.stage + " passed its reconcile"
                        + " gate: " + summary);
                if (!stage.approvalGate()) {
                    finish(plan, row);
                }
            } else {
                row.gateResult = "failed: " + summary;
                row.status = BackfillPlan.Status.FAILED;
                row.reason = "the reconcile gate found differences: " + summary;
                log.warn("dualwrite backfill plan " + plan.name() + ": stage " + row.stage + " FAILED its reconcile"
                        + " gate, the plan stops there: " + summary);
            }
        });
    }

    /** A change of the current stage's row, in one transaction under the plan rows' lock. */
    @FunctionalInterface
    private interface Change {
        void apply(PlanStore.StageRow row);
    }

    /**
     * Locks the plan's rows and applies a change to the stage's row if it still has the status it was read
     * with; another instance may have taken the step meanwhile.
     *
     * @return whether the row still had that status
     */
    private boolean step(BackfillPlan plan, PlanStore.StageRow read, BackfillPlan.Status expected, Change change)
            throws SQLException {
        return inTransaction(connection -> {
            List<PlanStore.StageRow> rows = store.load(connection, plan.name(), true);
            PlanStore.StageRow row = rows.get(read.index);
            if (row.status != expected) {
                return false;
            }
            change.apply(row);
            store.update(connection, row, now());
            return true;
        });
    }

    private boolean insert(BackfillPlan plan) throws SQLException {
        ensureTables();
        return inTransaction(connection -> {
            if (!store.load(connection, plan.name(), false).isEmpty()) {
                return false;
            }
            return store.insert(connection, plan.name(), plan.stages().stream().map(BackfillPlan.Stage::name)
                    .toList(), now());
        });
    }

    private boolean fired(BackfillPlan.Trigger trigger, Instant since) throws SQLException {
        if (trigger.kind() == BackfillPlan.Trigger.Kind.AFTER_PLAN) {
            String other = plan(trigger.plan()).name();
            return overall(inTransaction(connection -> store.load(connection, other, false)))
                    == BackfillPlan.Status.DONE;
        }
        return trigger.fireTime(since).map(at -> !at.isAfter(base.clock().instant())).orElse(false);
    }

    private PlanStore.StageRow current(BackfillPlan plan, List<PlanStore.StageRow> rows, String verb) {
        if (rows.isEmpty()) {
            throw new IllegalStateException("backfill plan " + plan.name() + " has not started, so it cannot be "
                    + verb);
        }
        return rows.stream().filter(r -> r.status != BackfillPlan.Status.DONE).findFirst()
                .orElseThrow(() -> new IllegalStateException("backfill plan " + plan.name() + " is done, so it cannot"
                        + " be " + verb + (verb.equals("restarted") ? "; name the stage to restart from" : "")));
    }

    private static BackfillPlan.Status overall(List<PlanStore.StageRow> rows) {
        if (rows.isEmpty()) {
            return BackfillPlan.Status.NOT_STARTED;
        }
        for (BackfillPlan.Status status : List.of(BackfillPlan.Status.FAILED, BackfillPlan.Status.PAUSED)) {
            if (rows.stream().anyMatch(r -> r.status == status)) {
                return status;
            }
        }
        return rows.stream().filter(r -> r.status != BackfillPlan.Status.DONE).findFirst().map(r -> r.status)
                .orElse(BackfillPlan.Status.DONE);
    }

    private static boolean passed(String gateResult) {
        return gateResult != null && gateResult.startsWith("passed");
    }

    private BackfillPlan plan(String name) {
        return plans.stream().filter(p -> p.name().equalsIgnoreCase(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no backfill plan is named '" + name + "'; the plans are "
                        + plans.stream().map(BackfillPlan::name).toList()));
    }

    private static int stageIndex(BackfillPlan plan, String stage) {
        for (int i = 0; i < plan.stages().size(); i++) {
            if (plan.stages().get(i).name().equalsIgnoreCase(stage)) {
                return i;
            }
        }
        throw new IllegalArgumentException("backfill plan " + plan.name() + " has no stage '" + stage + "'; its stages"
                + " are " + plan.stages().stream().map(BackfillPlan.Stage::name).toList());
    }

    /**
     * After a plan whose last stage has no filter (so its stages took every row), marks each of its tables'
     * own backfill DONE, as a backfill of the table's own would have; a plan whose stages all have filters
     * leaves the tables as they are. Once per plan and runner; repeated on the next look if it failed.
     */
    private void closeTables(BackfillPlan plan) throws SQLException {
        if (!plan.coversEveryRow() || closedPlans.contains(key(plan.name()))) {
            return;
        }
        List<String> runs = new ArrayList<>();
        for (BackfillPlan.Stage stage : plan.stages()) {
            runs.add(key(plan.name()) + "." + key(stage.name()));
        }
        BackfillRunner own = runners.computeIfAbsent("", run -> BackfillRunner.create(base, tables, source, target,
                events, gate));
        for (String table : plan.tables()) {
            own.closeAfterPlan(table, runs, plan.name());
        }
        closedPlans.add(key(plan.name()));
    }

    /** The backfill runner of one stage: its own run name, throttle and filters. */
    private BackfillRunner runner(BackfillPlan plan, int stage) {
        BackfillPlan.Stage config = plan.stages().get(stage);
        return runners.computeIfAbsent(key(plan.name()) + "." + key(config.name()), run -> {
            BackfillRunner runner = BackfillRunner.create(base.forRun(run, config.rowsPerSecond(),
                    filters.get(key(plan.name())).get(stage)), tables, source, target, events, gate);
            BackfillRunner.ChunkHook current = hook;
            if (current != null) {
                runner.hookForTesting(current);
            }
            return runner;
        });
    }

    /** Sets a hook between every stage chunk's read and write, in this runner's stages now and later. */
    void hookForTesting(BackfillRunner.ChunkHook chunkHook) {
        this.hook = chunkHook;
        runners.values().forEach(runner -> runner.hookForTesting(chunkHook));
    }

    private long now() {
        return base.clock().millis();
    }

    private static String key(String name) {
        return name.toLowerCase(Locale.ROOT);
    }

    private static Optional<String> text(String value) {
        return Optional.ofNullable(value);
    }

    private static Optional<Instant> instant(Long millis) {
        return millis == null ? Optional.empty() : Optional.of(Instant.ofEpochMilli(millis));
    }

    @FunctionalInterface
    private interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    private <T> T inTransaction(Work<T> work) throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(false);
            try {
                T result = work.run(connection);
                connection.commit();
                return result;
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollback) {
                    e.addSuppressed(rollback);
                }
                throw e;
            }
        }
    }

    // ------------------------------------------------------------------------------------------------------
    // The stages' rows as SQL

    /** Builds every stage's filter for every table, checking columns and keys. */
    private void resolveFilters(List<String> problems) {
        for (BackfillPlan plan : plans) {
            List<Map<String, BackfillConfig.Filter>> byStage = new ArrayList<>();
            for (int s = 0; s < plan.stages().size(); s++) {
                byStage.add(new LinkedHashMap<>());
            }
            for (String table : plan.tables()) {
                MappedTable mapped;
                try {
                    mapped = tables.get(table);
                } catch (IllegalArgumentException e) {
                    problems.add("dualwrite.backfill.plans." + plan.name() + ".tables: table '" + table + "' is not"
                            + " mapped");
                    continue;
                }
                List<String> own = new ArrayList<>();
                List<List<Object>> ownParameters = new ArrayList<>();
                for (int s = 0; s < plan.stages().size(); s++) {
                    List<Object> stageParameters = new ArrayList<>();
                    own.add(condition(plan, plan.stages().get(s), mapped, stageParameters, problems));
                    ownParameters.add(stageParameters);
                    // Its own rows that no earlier stage took; only the last stage may lack a filter.
                    List<String> parts = new ArrayList<>();
                    List<Object> parameters = new ArrayList<>();
                    if (own.get(s) != null) {
                        parts.add(own.get(s));
                        parameters.addAll(stageParameters);
                    }
                    for (int e = 0; e < s; e++) {
                        parts.add("(" + own.get(e) + ") IS NOT TRUE");
                        parameters.addAll(ownParameters.get(e));
                    }
                    if (!parts.isEmpty()) {
                        byStage.get(s).put(key(mapped.name()), new BackfillConfig.Filter(null, null, null,
                                String.join(" AND ", parts), parameters));
                    }
                }
            }
            filters.put(key(plan.name()), byStage);
        }
    }

    private static String condition(BackfillPlan plan, BackfillPlan.Stage stage, MappedTable mapped,
            List<Object> parameters, List<String> problems) {
        TableOps ops = mapped.source();
        String property = "dualwrite.backfill.plans." + plan.name() + ".stages." + stage.name();
        List<String> parts = new ArrayList<>();
        if (stage.timeColumn().isPresent()) {
            Optional<String> column = ops.table().column(stage.timeColumn().get()).map(ColumnMetadata::name);
            if (column.isEmpty()) {
                problems.add(property + ".time-window: column '" + stage.timeColumn().get() + "' does not exist in"
                        + " source table '" + mapped.name() + "'");
            } else {
                bounds(ops.dialect().quote(column.get()), stage.from(), stage.to(), parts, parameters);
            }
        }
        if (stage.keyFrom() != null || stage.keyTo() != null) {
            if (ops.keyColumns().size() != 1) {
                problems.add(property + ".key-range: source table '" + mapped.name() + "' has a key of "
                        + ops.keyColumns().size() + " columns " + ops.keyColumns() + "; a key range needs a single"
                        + " key column (use where instead)");
            } else {
                bounds(ops.dialect().quote(ops.keyColumns().get(0)), stage.keyFrom(), stage.keyTo(), parts, parameters);
            }
        }
        if (stage.condition().isPresent()) {
            parts.add("(" + stage.condition().get() + ")");
            parameters.addAll(stage.parameters());
        }
        return parts.isEmpty() ? null : String.join(" AND ", parts);
    }

    private static void bounds(String column, Object from, Object to, List<String> parts, List<Object> parameters) {
        if (from != null) {
            parts.add(column + " >= ?");
            parameters.add(from);
        }
        if (to != null) {
            parts.add(column + " < ?");
            parameters.add(to);
        }
    }

    /** Builds a {@link BackfillPlanRunner}. */
    public static final class Builder {

        private final MappedTables tables;
        private final DataSource source;
        private final DataSource target;
        private final List<BackfillPlan> plans = new ArrayList<>();
        private BackfillConfig backfill = BackfillConfig.defaults();
        private EventPublisher events = new EventPublisher();
        private BackfillGate gate = BackfillGate.OPEN;
        private StageCheck check;
        private Duration pollInterval = Duration.ofSeconds(2);
        private Duration checkLease = Duration.ofMinutes(15);
        private String planTable = "dualwrite_backfill_plan";

        private Builder(MappedTables tables, DataSource source, DataSource target) {
            this.tables = tables;
            this.source = source;
            this.target = target;
        }

        /**
         * @param plans the plans to follow
         * @return this builder
         */
        public Builder plans(List<BackfillPlan> plans) {
            plans.forEach(plan -> this.plans.add(Objects.requireNonNull(plan, "plan")));
            return this;
        }

        /**
         * @param config the backfill's settings every stage starts from (chunks, leases, owner, library tables)
         * @return this builder
         */
        public Builder backfill(BackfillConfig config) {
            this.backfill = Objects.requireNonNull(config, "config");
            return this;
        }

        /**
         * @param events where the stages' chunk and state events go
         * @return this builder
         */
        public Builder events(EventPublisher events) {
            this.events = Objects.requireNonNull(events, "events");
            return this;
        }

        /**
         * @param gate what every chunk must pass, as for the backfill (the routing controller's)
         * @return this builder
         */
        public Builder gate(BackfillGate gate) {
            this.gate = Objects.requireNonNull(gate, "gate");
            return this;
        }

        /**
         * @param check how a stage's reconcile gate checks its rows; required when a stage has that gate
         * @return this builder
         */
        public Builder check(StageCheck check) {
            this.check = Objects.requireNonNull(check, "check");
            return this;
        }

        /**
         * @param interval how often each instance looks at the plans, positive; default 2 s
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = Settings.positive("dualwrite.backfill.plan-poll-interval", interval);
            return this;
        }

        /**
         * @param lease how long a reconcile gate stays with the instance running it before another may run it
         *     again, positive; default 15 minutes
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder checkLease(Duration lease) {
            this.checkLease = Settings.positive("dualwrite.backfill.plan-check-lease", lease);
            return this;
        }

        /**
         * @param table the plan table's name, a plain identifier; default {@code dualwrite_backfill_plan}
         * @return this builder
         * @throws IllegalArgumentException if not a plain identifier
         */
        public Builder planTable(String table) {
            this.planTable = Settings.tableName("dualwrite.backfill.plan-table", table);
            return this;
        }

        /**
         * @return the runner; nothing runs until {@link BackfillPlanRunner#open()} or a start
         * @throws IllegalArgumentException naming every problem found: no plan, plans named twice, a table not
         *     mapped, a column missing, a key range on a composite key, a reconcile gate without a check, a
         *     plan waiting for an unknown plan
         */
        public BackfillPlanRunner build() {
            List<String> problems = new ArrayList<>();
            if (plans.isEmpty()) {
                problems.add("dualwrite.backfill.plans: give at least one plan");
            }
            List<String> names = new ArrayList<>();
            for (BackfillPlan plan : plans) {
                if (names.stream().anyMatch(plan.name()::equalsIgnoreCase)) {
                    problems.add("dualwrite.backfill.plans: plan '" + plan.name() + "' is named twice");
                }
                names.add(plan.name());
            }
            for (BackfillPlan plan : plans) {
                List<BackfillPlan.Trigger> triggers = new ArrayList<>();
                triggers.add(plan.trigger());
                plan.stages().forEach(stage -> triggers.add(stage.trigger()));
                for (BackfillPlan.Trigger trigger : triggers) {
                    if (trigger.kind() == BackfillPlan.Trigger.Kind.AFTER_PLAN
                            && names.stream().noneMatch(trigger.plan()::equalsIgnoreCase)) {
                        problems.add("dualwrite.backfill.plans." + plan.name() + ": waits for plan '" + trigger.plan()
                                + "', which is not one of " + names);
                    }
                }
                for (BackfillPlan.Stage stage : plan.stages()) {
                    if (stage.reconcileGate() && check == null) {
                        problems.add("dualwrite.backfill.plans." + plan.name() + ".stages." + stage.name()
                                + ".reconcile-gate: no stage check (reconciler) was given to run it");
                    }
                }
            }
            BackfillPlanRunner runner = new BackfillPlanRunner(this);
            runner.resolveFilters(problems);
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException("the backfill plans are not valid:\n  " + String.join("\n  ",
                        problems));
            }
            return runner;
        }
    }
}
