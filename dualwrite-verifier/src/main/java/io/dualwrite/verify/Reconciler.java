package io.dualwrite.verify;

import io.dualwrite.backfill.BackfillPlanRunner;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * The reconciler: compares a whole table, or the rows whose version falls in a window (yesterday, for a T+1
 * check), chunk by chunk in key order on both sides, reports missing, extra and different rows, and repairs
 * them unless it runs dry.
 *
 * <pre>{@code
 * Reconciler reconciler = Reconciler.create(config, tables, source, target, metrics);
 * ReconcileReport report = reconciler.run("t_order");
 * }</pre>
 *
 * <p>How a chunk is compared depends on the pair:
 * <ul>
 *   <li>keys that keep their order through the mapping (integral keys, identity key mapping, no key
 *       converter): both sides are read by key range and merged;</li>
 *   <li>on top of that, the same dialect and the same schema on both sides (identity mapping): each chunk's
 *       count and checksum are computed in the databases first, and rows are read only for chunks that
 *       differ;</li>
 *   <li>any other mapping (id maps, offsets, transformers, text keys whose collations may order
 *       differently): the source is walked in chunks and each chunk's rows are looked up in the target by
 *       key, then the target is walked for rows the source lacks.</li>
 * </ul>
 * Every row goes through the table's mapping and the {@link ComparisonRules}. A difference is read again by
 * key on both sides before it counts, so a row changed by live traffic between the two reads is not
 * reported, and rows that fall in the window on one side only are still compared.
 *
 * <p>Progress, counts and sample keys are checkpointed in the target after the first chunk, then at most
 * once a second, when the time budget stops a run, and at the end ({@link ReconcileConfig#checkpointTable()}),
 * so an interrupted run of the same table and window resumes, at most a second's work further back. On the
 * key-range paths two reader threads per run, one per store, read both stores at the same time and ahead of the
 * comparison, so that neither database waits for the other nor for the comparison. On the row path over unsharded
 * tables each store is read as a stream: a statement per 10,000 rows (two chunks, if chunks are smaller), its rows
 * compared as they arrive, each store at its own pace; besides the chunk being compared, up to 20,000 rows a side
 * are held ahead. A statement takes no lock and never waits on the comparison, so no snapshot outlives it. With a
 * sharded store the next chunks are read instead (the source's rows, then the target's of the same key range), up
 * to 3 chunks and 15,000 rows a side (at least one chunk); on the checksum path the target's checksum is taken
 * beside the source's. Both use only the run's two connections.
 * Repairs go through the {@link Repairer}, whose default is the mirror's locked apply: the primary wins
 * (the source before RAMP, the row's route during RAMP). One run per table at a time, across instances:
 * a run holds the table's lease ({@link ReconcileConfig#leaseTable()}), renewed with its checkpoints, and a
 * run that finds the lease held by another instance throws {@link ReconcileBusyException} without starting.
 *
 * <p>A sharded source table is reconciled in units instead, each with its own lease and checkpoint: every physical
 * source shard, walked alone with each row looked up in the target, and one walk of the target for the rows no
 * shard holds. Instances running at once share the units rather than refuse each other; see
 * {@code runByUnits}.
 */
public final class Reconciler {

    private final ReconcileConfig config;
    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final VerifyEvent.Listener listener;
    private final ReconcileCheckpoints checkpoints;
    private final ReconcileLeases leases;
    private final MismatchLog mismatchLog;

    private Reconciler(ReconcileConfig config, MappedTables tables, DataSource source, DataSource target,
            VerifyEvent.Listener listener) {
        this.config = config;
        this.tables = tables;
        this.source = source;
        this.target = target;
        this.listener = listener;
        this.checkpoints = new ReconcileCheckpoints(tables.targetDialect(), config.checkpointTable());
        this.leases = new ReconcileLeases(tables.targetDialect(), config.leaseTable());
        this.mismatchLog = new MismatchLog(config.mismatchLinesPerMinute(), System::nanoTime);
    }

    /**
     * Creates a reconciler.
     *
     * @param config the settings
     * @param tables the checked table mappings
     * @param source the source data source
     * @param target the target data source (it also holds the checkpoint table)
     * @param listener where events go, e.g. a {@link VerifyMetrics}
     * @return the reconciler
     * @throws NullPointerException if an argument is null
     */
    public static Reconciler create(ReconcileConfig config, MappedTables tables, DataSource source,
            DataSource target, VerifyEvent.Listener listener) {
        return new Reconciler(Objects.requireNonNull(config, "config"), Objects.requireNonNull(tables, "tables"),
                Objects.requireNonNull(source, "source"), Objects.requireNonNull(target, "target"),
                Objects.requireNonNull(listener, "listener"));
    }

    /** @return the DDL of the checkpoint and lease tables, for the target */
    public String ddl() {
        return checkpoints.ddl() + ";\n" + leases.ddl() + ";\n";
    }

    /**
     * Compares one table (or its window) and, unless dry, repairs what differs.
     *
     * @param table the source table, as mapped
     * @return the report; {@link ReconcileReport#complete()} is false when the time budget ran out
     * @throws SQLException if a store fails (the checkpoint keeps the chunks done so far)
     * @throws IllegalArgumentException if the table is not mapped, or a window is set on a table without a
     *     version column
     * @throws IllegalStateException if the run compared no row at all (both sides empty, or a window that
     *     matches nothing), or the checkpoint table is missing and may not be created (the message holds its
     *     DDL)
     */
    public ReconcileReport run(String table) throws SQLException {
        return run(table, null, List.of());
    }

    /**
     * Compares only the source rows of one table that match a condition (and, unless dry, repairs them), such
     * as a backfill plan stage's rows: a region, a creation-time window, a key range. The condition is
     * SQL over the source table written by the application's developers, with {@code ?} parameters. The
     * target is not filtered, for its columns may be named otherwise: target rows with no source row are
     * reported as extra wherever the walk meets them, and on integral keys the target rows between the
     * matching source rows are compared as well. Checksums are not used. The run has its own checkpoint, apart
     * from the table's whole runs and from other conditions.
     *
     * @param table the source table, as mapped
     * @param condition the condition, without {@code WHERE}
     * @param parameters its parameters
     * @return the report; {@link ReconcileReport#complete()} is false when the time budget ran out
     * @throws SQLException if a store fails (the checkpoint keeps the chunks done so far)
     * @throws IllegalArgumentException if the table is not mapped, or the condition is blank or holds a {@code ;}
     * @throws IllegalStateException if no row matched (see {@link #run(String)})
     * @throws ReconcileBusyException if another instance reconciles the table now
     */
    public ReconcileReport runWhere(String table, String condition, List<Object> parameters) throws SQLException {
        if (condition == null || condition.isBlank() || condition.contains(";")) {
            throw new IllegalArgumentException("reconcile of table '" + table + "': a single condition without ';' is"
                    + " required, was '" + condition + "'");
        }
        return run(table, condition, List.copyOf(parameters));
    }

    /**
     * This reconciler as a backfill plan's reconcile gate: each stage's rows are compared ({@link #runWhere}, or
     * {@link #run} for a stage that takes every row), dry or repairing as configured; the gate passes when a
     * complete run found no difference (a repaired difference still fails it: the stage is restarted or
     * approved on its own evidence, never waved through). A stage that matched no row fails with the run's
     * message; a table busy with another run, or a store down, makes the gate try again.
     *
     * @return the check
     */
    public BackfillPlanRunner.StageCheck asStageCheck() {
        return (plan, stage, table, condition, parameters) -> {
            ReconcileReport report;
            try {
                report = condition == null ? run(table) : runWhere(table, condition, parameters);
            } catch (ReconcileBusyException busy) {
                throw busy;
            } catch (IllegalStateException nothingCompared) {
                return new BackfillPlanRunner.StageCheck.Result(false, nothingCompared.getMessage());
            }
            return new BackfillPlanRunner.StageCheck.Result(report.complete() && report.differences() == 0,
                    report.toString());
        };
    }

    private ReconcileReport run(String table, String where, List<Object> whereParameters) throws SQLException {
        MappedTable mapped = tables.get(table);
        if ((config.windowFrom().isPresent() || config.windowTo().isPresent())
                && mapped.source().versionColumn() == null) {
            throw new IllegalArgumentException("dualwrite.verify.reconcile.window: table '" + mapped.name()
                    + "' has no version column to window on; reconcile it whole, or set"
                    + " dualwrite.tables." + mapped.name() + ".version-column");
        }
        Optional<ShardLayout> layout = mapped.source().shardLayout();
        if (layout.isPresent()) {
            return runByUnits(mapped, layout.get(), where, whereParameters);
        }
        try (Connection sourceConnection = source.getConnection();
                Connection targetConnection = target.getConnection()) {
            sourceConnection.setAutoCommit(true);
            targetConnection.setAutoCommit(true);
            ensureTables(targetConnection);
            String leased = mapped.name().toLowerCase(Locale.ROOT);
            long leaseMillis = config.lease().toMillis();
            ReconcileLeases.Holder holder = leases.claim(targetConnection, leased, config.owner(),
                    config.clock().millis(), leaseMillis);
            if (holder != null) {
                throw new ReconcileBusyException("table '" + mapped.name() + "' is being reconciled by "
                        + holder.owner() + " (its lease runs until " + Instant.ofEpochMilli(holder.validUntilMillis())
                        + "); this run did not start. One instance reconciles a table at a time (table "
                        + config.leaseTable() + ")", holder.owner());
            }
            try {
                ReconcileRun run = new ReconcileRun(config, mapped, new RowDiff(mapped, config.rules()),
                        tables.sourceDialect().product() == tables.targetDialect().product(), sourceConnection,
                        targetConnection, checkpoints, job(mapped, where, whereParameters), mismatchLog, listener,
                        renewer(targetConnection, mapped, leased, leaseMillis), where, whereParameters);
                return run.execute();
            } finally {
                try {
                    leases.release(targetConnection, leased, config.owner());
                } catch (SQLException e) {
                    // The target failed the run too; the lease runs out by itself after config.lease().
                }
            }
        }
    }

    /** How long a run waits before it looks again at the units other instances hold. */
    private static final long UNIT_POLL_MILLIS = 100;

    /**
     * A sharded source's reconcile, unit by unit: each physical source shard (walked alone, each row looked up in
     * the target by key) and the walk of the target for rows no shard holds. Each unit has its own lease
     * ({@code table#unit} in the lease table) and its own checkpoint ({@code job#unit}), so several instances share
     * the units, an interrupted unit resumes from its checkpoint, and a dead instance's unit is taken over once its
     * lease runs out. A unit done in this round is not compared again; the round begins anew (every unit's
     * checkpoint forgotten) when a run finds every unit done. The run goes on until every unit is done, by this
     * instance or another, or a unit's time budget ({@link ReconcileConfig#timeBudget()}, per unit) runs out.
     */
    private ReconcileReport runByUnits(MappedTable mapped, ShardLayout layout, String where,
            List<Object> whereParameters) throws SQLException {
        long started = System.nanoTime();
        String job = job(mapped, where, whereParameters);
        String table = mapped.name().toLowerCase(Locale.ROOT);
        List<ReconcileRun.Unit> units = new ArrayList<>();
        layout.shards().forEach(shard -> units.add(new ReconcileRun.Unit(shard.toString(), shard)));
        units.add(new ReconcileRun.Unit(ReconcileRun.Unit.TARGET_WALK, null));
        long leaseMillis = config.lease().toMillis();
        long chunks = 0;
        boolean complete;
        List<String> repairProblems = new ArrayList<>();
        try (Connection sourceConnection = source.getConnection();
                Connection targetConnection = target.getConnection()) {
            sourceConnection.setAutoCommit(true);
            targetConnection.setAutoCommit(true);
            ensureTables(targetConnection);
            complete = beginRoundIfAllDone(targetConnection, table, job, units);
            boolean othersHoldUnits = true;
            while (othersHoldUnits && complete) {
                othersHoldUnits = false;
                for (ReconcileRun.Unit unit : units) {
                    String unitJob = unitJob(job, unit);
                    ReconcileCheckpoints.State state = checkpoints.load(targetConnection, unitJob);
                    if (state != null && state.done) {
                        continue;
                    }
                    String leased = unitJob(table, unit);
                    if (leases.claim(targetConnection, leased, config.owner(), config.clock().millis(),
                            leaseMillis) != null) {
                        othersHoldUnits = true;
                        continue;
                    }
                    try {
                        // Done by another instance between the look and the claim.
                        state = checkpoints.load(targetConnection, unitJob);
                        if (state != null && state.done) {
                            continue;
                        }
                        ReconcileReport part = new ReconcileRun(config, mapped, new RowDiff(mapped, config.rules()),
                                tables.sourceDialect().product() == tables.targetDialect().product(), sourceConnection,
                                targetConnection, checkpoints, unitJob, mismatchLog, listener,
                                renewer(targetConnection, mapped, leased, leaseMillis), where, whereParameters, unit)
                                .execute();
                        chunks += part.chunks();
                        repairProblems.addAll(part.repairProblems());
                        if (!part.complete()) {
                            complete = false;
                            break;
                        }
                    } finally {
                        try {
                            leases.release(targetConnection, leased, config.owner());
                        } catch (SQLException e) {
                            // The target failed the unit too; the lease runs out by itself after config.lease().
                        }
                    }
                }
                if (othersHoldUnits && complete) {
                    try {
                        Thread.sleep(UNIT_POLL_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        complete = false;
                    }
                }
            }
            return unitsReport(targetConnection, mapped, table, job, units, complete, chunks, repairProblems,
                    started, where, whereParameters);
        }
    }

    /**
     * Forgets the units' checkpoints when every unit is done, so that this run compares the table again; under the
     * table's own lease, so that two instances starting together do not both begin a round after the other's units.
     * A run that finds that lease held waits for it and looks then: the holder may be beginning a round, and the
     * units this run sees done until it has are the finished round's, which this run must not report as its own.
     *
     * @return false when this thread was interrupted while it waited (the run then stops, incomplete)
     */
    private boolean beginRoundIfAllDone(Connection targetConnection, String table, String job,
            List<ReconcileRun.Unit> units) throws SQLException {
        while (leases.claim(targetConnection, table, config.owner(), config.clock().millis(),
                config.lease().toMillis()) != null) {
            try {
                Thread.sleep(UNIT_POLL_MILLIS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        try {
            List<String> jobs = units.stream().map(unit -> unitJob(job, unit)).toList();
            boolean allDone = true;
            for (String unitJob : jobs) {
                ReconcileCheckpoints.State state = checkpoints.load(targetConnection, unitJob);
                allDone &= state != null && state.done;
            }
            if (allDone) {
                checkpoints.delete(targetConnection, jobs);
            }
            return true;
        } finally {
            leases.release(targetConnection, table, config.owner());
        }
    }

    /** The round's totals and each unit's counts, from the units' checkpoints. */
    private ReconcileReport unitsReport(Connection targetConnection, MappedTable mapped, String table, String job,
            List<ReconcileRun.Unit> units, boolean complete, long chunks, List<String> repairProblems, long started,
            String where, List<Object> whereParameters) throws SQLException {
        List<ReconcileReport.Shard> shards = new ArrayList<>();
        long[] sums = new long[6];
        java.util.Map<Mismatch.Kind, List<io.dualwrite.jdbc.RowKey>> samples = new java.util.EnumMap<>(
                Mismatch.Kind.class);
        boolean allDone = true;
        for (ReconcileRun.Unit unit : units) {
            ReconcileCheckpoints.State state = checkpoints.load(targetConnection, unitJob(job, unit));
            ReconcileLeases.Holder holder = leases.holder(targetConnection, unitJob(table, unit));
            Optional<String> owner = Optional.ofNullable(holder).map(ReconcileLeases.Holder::owner);
            if (state == null) {
                allDone = false;
                shards.add(new ReconcileReport.Shard(unit.name(), false, 0, 0, 0, 0, 0, 0, owner));
                continue;
            }
            allDone &= state.done;
            shards.add(new ReconcileReport.Shard(unit.name(), state.done, state.compared, state.missing, state.extra,
                    state.different, state.repaired, state.unrepaired, owner));
            long[] counts = {state.compared, state.missing, state.extra, state.different, state.repaired,
                state.unrepaired};
            for (int i = 0; i < sums.length; i++) {
                sums[i] += counts[i];
            }
            state.samples.forEach((kind, keys) -> {
                List<io.dualwrite.jdbc.RowKey> kept = samples.computeIfAbsent(kind, k -> new ArrayList<>());
                keys.stream().limit(Math.max(0, config.sampleKeys() - kept.size())).forEach(kept::add);
            });
        }
        if (complete && allDone && sums[0] + sums[2] == 0) {
            throw new IllegalStateException("reconcile of table '" + mapped.name() + "' compared no rows on any of its"
                    + " " + (units.size() - 1) + " source shards" + (where == null ? "" : " where " + where + " "
                    + whereParameters) + "; a check that sees nothing proves nothing (check"
                    + " dualwrite.verify.reconcile.window and the data sources)");
        }
        return new ReconcileReport(mapped.name(), complete && allDone, sums[0], sums[1], sums[2], sums[3], sums[4],
                sums[5], samples, chunks, 0, repairProblems, java.time.Duration.ofNanos(System.nanoTime() - started),
                shards);
    }

    /** A unit's name in the checkpoint table ({@code job#unit}) or the lease table ({@code table#unit}), at most 255. */
    private static String unitJob(String job, ReconcileRun.Unit unit) {
        String unitJob = job + "#" + unit.name();
        return unitJob.length() <= 255 ? unitJob : unitJob.substring(0, 200) + "#"
                + Integer.toHexString(unitJob.hashCode());
    }

    /**
     * Renews the table's lease at most every third of it, and fences the run's checkpoint writes by it; fails the run
     * once another instance holds it.
     */
    private ReconcileRun.Lease renewer(Connection targetConnection, MappedTable mapped, String leased,
            long leaseMillis) {
        long[] renewedAt = {config.clock().millis()};
        return new ReconcileRun.Lease() {
            @Override
            public void keep() throws SQLException {
                long now = config.clock().millis();
                if (now - renewedAt[0] < leaseMillis / 3) {
                    return;
                }
                if (!leases.renew(targetConnection, leased, config.owner(), now, leaseMillis)) {
                    throw lost();
                }
                renewedAt[0] = now;
            }

            @Override
            public ReconcileLeases.Fence fence() {
                return leases.fence(leased, config.owner());
            }

            @Override
            public ReconcileBusyException lost() throws SQLException {
                ReconcileLeases.Holder holder = leases.holder(targetConnection, leased);
                String owner = holder == null ? "nobody" : holder.owner();
                return new ReconcileBusyException("the lease on table '" + mapped.name() + "' ran out before this run ("
                        + config.owner() + ") renewed it, and " + owner + " took it over; this run stopped after its"
                        + " last checkpoint, which the new holder resumes (a chunk took longer than "
                        + config.lease() + ": raise dualwrite.verify.reconcile.lease)", owner);
            }
        };
    }

    /**
     * Checks the checkpoint table now, creating it if the config allows, so that a missing table stops
     * start-up rather than the first run.
     *
     * @throws IllegalStateException if the table is missing and may not be created; the message holds its DDL
     * @throws SQLException if the target cannot be reached
     */
    public void ensureTables() throws SQLException {
        try (Connection connection = target.getConnection()) {
            connection.setAutoCommit(true);
            ensureTables(connection);
        }
    }

    private void ensureTables(Connection connection) throws SQLException {
        List<String> missing = new ArrayList<>();
        StringBuilder ddl = new StringBuilder();
        if (!checkpoints.exists(connection)) {
            missing.add(config.checkpointTable());
            ddl.append(checkpoints.ddl()).append(";\n");
        }
        if (!leases.exists(connection)) {
            missing.add(config.leaseTable());
            ddl.append(leases.ddl()).append(";\n");
        }
        if (missing.isEmpty()) {
            return;
        }
        if (!config.createTables()) {
            throw new IllegalStateException("the reconciler needs " + (missing.size() == 1 ? "table " : "tables ")
                    + "'" + String.join("' and '", missing) + "'" + " in the target database. Create "
                    + (missing.size() == 1 ? "it" : "them") + " with:\n" + ddl
                    + "or set dualwrite.schema.create=true to let dualwrite create "
                    + (missing.size() == 1 ? "it." : "them."));
        }
        if (missing.contains(config.checkpointTable())) {
            create(connection, checkpoints);
        }
        if (missing.contains(config.leaseTable())) {
            create(connection, leases);
        }
    }

    private static void create(Connection connection, LibraryTable table) throws SQLException {
        try {
            table.create(connection);
        } catch (SQLException raced) {
            // Another instance created it at the same moment (PostgreSQL then fails on its own catalog's key).
            if (!table.exists(connection)) {
                throw raced;
            }
        }
    }

    /**
     * One job per table, window and condition, so that yesterday's run never resumes into today's, nor one
     * plan stage's into another's.
     */
    private String job(MappedTable mapped, String where, List<Object> whereParameters) {
        String job = mapped.name().toLowerCase(Locale.ROOT) + "|" + config.windowFrom().map(String::valueOf).orElse("")
                + "|" + config.windowTo().map(String::valueOf).orElse("")
                + (where == null ? "" : "|" + Integer.toHexString((where + whereParameters).hashCode()));
        return job.length() <= 255 ? job : job.substring(0, 200) + "#" + Integer.toHexString(job.hashCode());
    }
}
