package io.dualwrite.degrade;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.jdbc.RestoringDataSource;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.ControlState;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingValues;
import io.dualwrite.routing.TrafficRouter;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Takes keys, key ranges and routing values (users) out of the migration while the rest goes on: marks
 * them as not mirrored, purges them from the target, unmarks them and copies them again.
 *
 * <pre>{@code
 * Degradation degradation = Degradation.builder(source, target, tables).createTable(true).build();
 * degradation.start();
 * mirror.degradation(degradation);            // the apply skips marked rows
 * DegradeMark mark = degradation.mark(DegradeMark.routingValue("t_order", 42), "alice", "user 42's data is broken");
 * degradation.purge(mark.id(), "alice", "free the target", controller::state);
 * degradation.unmark(mark.id(), "alice", "fixed", (table, keys) -> mirror.repair(table, keys, Duration.ofMinutes(1)));
 * }</pre>
 *
 * <h2>Marks are shared, and a stale view never skips</h2>
 * The marks live in the target's {@code dualwrite_degraded} table; each instance reloads those in force every
 * refresh interval (the control poll's), so a mark reaches the fleet within one interval. Skipping is
 * optional — applying a marked row's change is always correct, the mark only says "don't care" — so an
 * instance skips only while its view is fresh: loaded by a read that <em>began</em> less than
 * {@link Builder#staleAfter} ago. A view it cannot refresh (the target unreachable, a stalled thread) lets
 * every change through.
 *
 * <h2>Unmark, then copy again: the race</h2>
 * While a row was marked, changes to it were skipped; some instance may still be skipping them a moment
 * after the unmark. The re-copy must read each row after the last skip that could ever happen, or it could
 * copy version 1 while a skipped version 2 never arrives. So {@link #unmark} commits the unmark, then waits
 * {@code staleAfter}: any read of the marks that began after the commit sees the mark gone, and any view
 * loaded by a read that began before it is stale by then, so no instance skips that row any longer. Only
 * then does the re-copy read the rows, through the mirror's own apply (share lock on the source row, write
 * of the target, as every change), so a change committed after that read is applied after it, by an
 * instance that no longer skips. A change skipped earlier was committed before the re-copy's read, which
 * therefore carries it. Rows deleted from the source while marked are deleted from the target the same way
 * (the re-copy also walks the target's marked rows).
 *
 * <h2>Purge</h2>
 * Deletes the marked rows from the target in key order, in batches, each batch one target transaction that
 * holds the mark's row locked, checks the mark is still in force, deletes, and records its checkpoint (the
 * last key looked at) in the mark's row. So a purge goes on after a restart from its last batch, and an
 * unmark, which waits for that lock, never interleaves with a batch: after the unmark commits, nothing the
 * re-copy writes is purged. A row whose primary is the target is never purged: in TARGET_ONLY nothing is;
 * in RAMP a row whose routing value routes to the target under the active rules, or under a pending step's,
 * is left and counted as refused. A batch whose control state changed while it ran is rolled back and
 * done again under the new one. (A migration step needs this instance's acknowledgement, which follows its
 * next poll; a batch commits within milliseconds of its second look at the state.)
 *
 * <p>Marks apply to the forward mirror (source to target) only; the reverse mirror of RAMP never skips,
 * so the source stays complete and a rollback loses nothing.
 */
public final class Degradation implements AutoCloseable {

    /** The marks table's default name. */
    public static final String DEFAULT_TABLE = "dualwrite_degraded";

    private static final Log log = LogFactory.getLog(Degradation.class);

    private final MarkStore store;
    private final DataSource source;
    private final MappedTables tables;
    private final EventPublisher events;
    private final RoutingValues routingValues;
    private final Duration refreshInterval;
    private final Duration staleAfter;
    private final int batchSize;
    private final int rowsPerSecond;
    private final Clock clock;
    private final Map<String, LongAdder> skipped = new ConcurrentHashMap<>();
    private volatile View view = new View(System.nanoTime() - Long.MAX_VALUE / 2, List.of(), Map.of());
    private volatile boolean warnedStale;
    private volatile boolean waitBeforeRecopy = true;
    private ScheduledExecutorService refresher;

    /** The marks in force as one read found them, and when that read began. */
    private record View(long readStartedNanos, List<DegradeMark> marks, Map<String, Selection> byTable) {
    }

    private Degradation(Builder builder) {
        this.store = new MarkStore(RestoringDataSource.of(builder.target), builder.table);
        this.source = RestoringDataSource.of(builder.source);
        this.tables = builder.tables;
        this.events = builder.events;
        this.routingValues = builder.routingValues;
        this.refreshInterval = builder.refreshInterval;
        this.staleAfter = builder.staleAfter;
        this.batchSize = builder.batchSize;
        this.rowsPerSecond = builder.rowsPerSecond;
        this.clock = builder.clock;
    }

    /**
     * @param source the source database (an unmark reads the marked rows there)
     * @param target the target database, which holds the marks table
     * @param tables the checked table mappings
     * @return a builder
     */
    public static Builder builder(DataSource source, DataSource target, MappedTables tables) {
        return new Builder(source, target, tables);
    }

    /**
     * @param table the marks table's name
     * @return its DDL; the column types are common to MariaDB, PostgreSQL and H2
     */
    public static String ddl(String table) {
        return MarkStore.ddl(table);
    }

    /**
     * Loads the marks and refreshes them every refresh interval on a daemon thread of its own.
     *
     * @throws SQLException if the first load fails
     */
    public synchronized void start() throws SQLException {
        refresh();
        if (refresher != null) {
            return;
        }
        refresher = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "dualwrite-degraded-refresh");
            thread.setDaemon(true);
            return thread;
        });
        long every = refreshInterval.toMillis();
        refresher.scheduleWithFixedDelay(() -> {
            try {
                refresh();
            } catch (SQLException | RuntimeException e) {
                log.warn("dualwrite could not reload the degradation marks (will retry; changes are not skipped"
                        + " once the marks are older than " + staleAfter + "): " + e.getMessage());
            }
        }, every, every, TimeUnit.MILLISECONDS);
    }

    /**
     * Reloads the marks in force now.
     *
     * @throws SQLException if the marks table cannot be read
     */
    public void refresh() throws SQLException {
        long began = System.nanoTime();
        List<DegradeMark> marks = store.active();
        Map<String, List<DegradeMark>> grouped = new HashMap<>();
        for (DegradeMark mark : marks) {
            if (tables.contains(mark.table())) {
                grouped.computeIfAbsent(lower(mark.table()), t -> new ArrayList<>()).add(mark);
            }
        }
        Map<String, Selection> byTable = new HashMap<>();
        grouped.forEach((table, list) -> byTable.put(table, new Selection(tables.get(table), list)));
        synchronized (this) {
            if (began - view.readStartedNanos() > 0) {
                view = new View(began, List.copyOf(marks), Map.copyOf(byTable));
                warnedStale = false;
            }
        }
    }

    /** @return the marks in force, as this instance last loaded them */
    public List<DegradeMark> marks() {
        return view.marks();
    }

    /**
     * @return every mark ever made, in force or not, with who made it and why
     * @throws SQLException if the marks table cannot be read
     */
    public List<DegradeMark> history() throws SQLException {
        return store.all();
    }

    /** @return per source table, how many changes were skipped on this instance since start */
    public Map<String, Long> skipped() {
        Map<String, Long> counts = new java.util.TreeMap<>();
        skipped.forEach((table, adder) -> counts.put(table, adder.sum()));
        return counts;
    }

    /**
     * Marks rows as not mirrored, for the whole fleet, from its next refresh on.
     *
     * @param what the rows: {@link DegradeMark#key}, {@link DegradeMark#range} or {@link DegradeMark#routingValue}
     * @param actor who asks (kept and logged)
     * @param reason why (kept and logged)
     * @return the stored mark, with its id
     * @throws IllegalArgumentException if the table is not mapped, a key does not fit the table's key, the
     *     table has no routing column for a routing-value mark, or actor or reason is blank
     * @throws SQLException if the marks table cannot be written
     */
    public DegradeMark mark(DegradeMark what, String actor, String reason) throws SQLException {
        Objects.requireNonNull(what, "what");
        requireWho(actor, reason);
        MappedTable table = mapped(what.table());
        int keySize = table.source().keyColumns().size();
        if (what.from() != null && what.from().size() != keySize) {
            throw new IllegalArgumentException("dualwrite degradation: table '" + table.name() + "' has a key of "
                    + keySize + " column(s) " + table.source().keyColumns() + ", not " + what.from().size());
        }
        if (what.kind() == DegradeMark.Kind.ROUTING_VALUE && table.mapping().routingColumn().isEmpty()) {
            throw new IllegalArgumentException("dualwrite degradation: table '" + table.name() + "' has no routing"
                    + " column to mark routing value '" + what.value() + "' by; set dualwrite.tables." + table.name()
                    + ".routing-column, or mark its keys");
        }
        // In the column's own form (a key given as text "50" is the number 50), checked here, not at the first
        // apply: a key that does not convert must not reach the table.
        RowKey from = what.from() == null ? null : table.source().canonicalKey(what.from());
        RowKey to = what.to() == null ? null : table.source().canonicalKey(what.to());
        if (to != null && Keys.compare(from, to) >= 0) {
            throw new IllegalArgumentException("dualwrite degradation: an empty key range: from " + from
                    + " is not below to " + to);
        }
        DegradeMark stored = store.insert(new DegradeMark(0, table.name(), what.kind(), from, to,
                what.value(), DegradeMark.State.MARKED, actor, reason, null, DegradeMark.PurgeState.NONE, 0, 0),
                actor, reason, clock.instant());
        log.info("dualwrite degradation: " + actor + " marked " + stored.describe() + " as not mirrored (mark "
                + stored.id() + "): " + reason);
        refresh();
        return stored;
    }

    /**
     * The source keys of one apply that are marked, as the mirror's apply asks under its share lock.
     * Empty while this instance's view of the marks is stale (see the class comment).
     *
     * @param table the table applied (the reverse mirror's tables are never skipped)
     * @param keys the source keys of the batch
     * @param primaryRows the rows the apply read from the source, by key
     * @param target a connection to the target, for the routing value of keys gone from the source
     * @return the keys to skip
     * @throws SQLException if the target cannot be read
     */
    public Set<RowKey> notMirrored(MappedTable table, Collection<RowKey> keys, Map<RowKey, Row> primaryRows,
            Connection target) throws SQLException {
        Selection selection = freshSelection(table);
        if (selection == null) {
            return Set.of();
        }
        Set<RowKey> skip = new LinkedHashSet<>();
        List<RowKey> absent = new ArrayList<>();
        for (RowKey key : keys) {
            Row row = primaryRows.get(key);
            if (selection.selectsSourceRow(key, row)) {
                skip.add(key);
            } else if (row == null && selection.byValue()) {
                absent.add(key);
            }
        }
        if (!absent.isEmpty()) {
            // A key gone from the source names no user; the target's row, if still there, does.
            Map<RowKey, RowKey> bySourceKey = new HashMap<>();
            absent.forEach(key -> bySourceKey.put(table.toTargetKey(key), key));
            for (Row row : table.target().readByKeys(target, bySourceKey.keySet(), false).values()) {
                if (selection.selectsTargetRow(row)) {
                    skip.add(table.toSourceKey(table.target().keyOf(row)));
                }
            }
        }
        count(table.name(), skip.size(), "mirror");
        return skip;
    }

    /**
     * Leaves out of a backfill chunk the rows that are marked. Keeps every row while this instance's view
     * is stale.
     *
     * @param table the table copied
     * @param sourceRows the chunk's rows, as read from the source
     * @return the rows to copy
     */
    public List<Row> notMarked(MappedTable table, List<Row> sourceRows) {
        Selection selection = freshSelection(table);
        if (selection == null) {
            return sourceRows;
        }
        List<Row> kept = new ArrayList<>(sourceRows.size());
        for (Row row : sourceRows) {
            if (!selection.selectsSourceRow(table.source().keyOf(row), row)) {
                kept.add(row);
            }
        }
        count(table.name(), sourceRows.size() - kept.size(), "backfill");
        return kept;
    }

    /**
     * Whether a comparison must leave a row alone, as the reconciler and the double read ask.
     *
     * @param table the source table
     * @param sourceKey the row's source key, or null when a target row's key does not map back
     * @param sourceRow the source's row, or null if absent
     * @param targetRow the target's row (target shape), or null if absent
     * @return whether the row is marked
     */
    public boolean ignores(String table, RowKey sourceKey, Row sourceRow, Row targetRow) {
        MappedTable mapped = tables.contains(table) ? tables.get(table) : null;
        Selection selection = mapped == null ? null : freshSelection(mapped);
        return selection != null && (selection.selectsSourceRow(sourceKey, sourceRow)
                || (targetRow != null && selection.selectsTargetRow(targetRow)));
    }

    /** @return whether any mark is in force for the table in a fresh view */
    public boolean hasMarks(String table) {
        return tables.contains(table) && freshSelection(tables.get(table)) != null;
    }

    private Selection freshSelection(MappedTable table) {
        if (table.isReversed()) {
            return null;
        }
        View current = view;
        Selection selection = current.byTable().get(lower(table.name()));
        if (selection == null) {
            return null;
        }
        if (System.nanoTime() - current.readStartedNanos() >= staleAfter.toNanos()) {
            if (!warnedStale) {
                warnedStale = true;
                log.warn("dualwrite degradation: the marks were last loaded more than " + staleAfter + " ago; marked"
                        + " rows are mirrored again until they load");
            }
            return null;
        }
        return selection;
    }

    private void count(String table, int keys, String by) {
        if (keys > 0) {
            skipped.computeIfAbsent(table, t -> new LongAdder()).add(keys);
            events.publish(new DualWriteEvent.ChangesSkipped(table, keys, by));
        }
    }

    /**
     * What a purge did.
     *
     * @param markId the mark
     * @param purged rows deleted from the target by this call
     * @param refused marked rows left because the target is their primary (RAMP), by this call
     * @param finished whether the purge reached the end of the table
     * @param refusedSample up to ten of the refused rows' target keys
     */
    public record Purged(long markId, long purged, long refused, boolean finished, List<RowKey> refusedSample) {
    }

    /**
     * Deletes a mark's rows from the target, throttled and checkpointed in the mark's row: called again
     * after an interruption or a restart, it goes on from its last batch. Rows the target is primary for are
     * left (see the class comment).
     *
     * @param markId the mark, in force
     * @param actor who asks
     * @param reason why
     * @param control the migration's current control state ({@code controller::state}), or null when no
     *     controller runs (the source is then primary for every row)
     * @return what was done
     * @throws IllegalStateException if the mark is not in force (unmarked meanwhile included), or the phase is
     *     TARGET_ONLY
     * @throws IllegalArgumentException if there is no such mark, or actor or reason is blank
     * @throws SQLException if the target fails
     * @throws InterruptedException if interrupted between batches (the checkpoint holds)
     */
    public Purged purge(long markId, String actor, String reason, Supplier<ControlState> control)
            throws SQLException, InterruptedException {
        requireWho(actor, reason);
        DegradeMark mark = store.read(markId).orElseThrow(() -> new IllegalArgumentException(
                "dualwrite degradation: there is no mark " + markId));
        MappedTable table = mapped(mark.table());
        Selection selection = new Selection(table, List.of(mark));
        log.info("dualwrite degradation: " + actor + " purges " + mark.describe() + " (mark " + markId
                + ") from the target: " + reason);
        long purged = 0;
        long refused = 0;
        List<RowKey> sample = new ArrayList<>();
        boolean first = true;
        long throttleFrom = System.nanoTime();
        while (true) {
            if (Thread.interrupted()) {
                throw new InterruptedException("dualwrite purge of mark " + markId + " interrupted; its checkpoint"
                        + " holds");
            }
            Batch batch = purgeBatch(markId, table, selection, actor, reason, first, control);
            first = false;
            if (batch == null) {
                continue;
            }
            purged += batch.deleted;
            refused += batch.refused.size();
            for (RowKey key : batch.refused) {
                if (sample.size() < 10) {
                    sample.add(key);
                }
            }
            if (batch.done) {
                log.info("dualwrite degradation: purge of mark " + markId + " finished: " + purged + " rows deleted, "
                        + refused + " left because the target is their primary");
                return new Purged(markId, purged, refused, true, List.copyOf(sample));
            }
            throttleFrom = throttle(throttleFrom, batch.deleted);
        }
    }

    private record Batch(int deleted, List<RowKey> refused, boolean done) {
    }

    /** One purge batch in one target transaction; null when the control state moved and it must be redone. */
    private Batch purgeBatch(long markId, MappedTable table, Selection selection, String actor, String reason,
            boolean first, Supplier<ControlState> control) throws SQLException {
        try (LibraryWork.Scope own = LibraryWork.enter();
                Connection connection = store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                DegradeMark mark = store.read(connection, markId, true).orElseThrow();
                if (mark.state() != DegradeMark.State.MARKED) {
                    throw new IllegalStateException("dualwrite degradation: mark " + markId + " is " + mark.state()
                            + "; only a mark in force can be purged");
                }
                ControlState before = control == null ? null : control.get();
                refuseTargetOnly(before, markId);
                if (first) {
                    store.startPurge(connection, markId, actor, reason);
                }
                RowKey after = store.purgeAfter(connection, markId);
                after = after == null ? null : table.target().canonicalKey(after);
                List<Row> rows = table.target().scan(connection, after, null, batchSize, false, null, List.of());
                List<RowKey> deletes = new ArrayList<>();
                List<RowKey> refused = new ArrayList<>();
                for (Row row : rows) {
                    if (selection.selectsTargetRow(row)) {
                        RowKey key = table.target().keyOf(row);
                        if (targetIsPrimary(before, table.name(), selection.targetRoutingValue(row))) {
                            refused.add(key);
                        } else {
                            deletes.add(key);
                        }
                    }
                }
                table.target().delete(connection, deletes);
                RowKey last = rows.isEmpty() ? after : table.target().keyOf(rows.get(rows.size() - 1));
                boolean done = rows.size() < batchSize;
                store.advancePurge(connection, markId, last, deletes.size(), refused.size(), done);
                ControlState now = control == null ? null : control.get();
                if (before != null && now.version() != before.version()) {
                    connection.rollback();
                    return null;
                }
                connection.commit();
                return new Batch(deletes.size(), refused, done);
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException suppressed) {
                    e.addSuppressed(suppressed);
                }
                throw e;
            }
        }
    }

    private static void refuseTargetOnly(ControlState state, long markId) {
        if (state == null) {
            return;
        }
        boolean targetOnly = state.active().phase() == Phase.TARGET_ONLY
                || state.pendingRules().map(rules -> rules.phase() == Phase.TARGET_ONLY).orElse(false);
        if (targetOnly) {
            throw new IllegalStateException("dualwrite degradation: mark " + markId + " cannot be purged in phase "
                    + Phase.TARGET_ONLY + ": the target is the primary of every row");
        }
    }

    private boolean targetIsPrimary(ControlState state, String table, Object routingColumnValue) {
        if (state == null) {
            return false;
        }
        Object value = routingColumnValue == null ? null : routingValues.resolve(table, routingColumnValue);
        List<RoutingRules> views = new ArrayList<>(2);
        views.add(state.active());
        state.pendingRules().ifPresent(views::add);
        for (RoutingRules rules : views) {
            if (rules.phase().sourceIsPrimaryOfEveryRow()) {
                continue;
            }
            try {
                if (TrafficRouter.route(rules, value) == Route.TARGET) {
                    return true;
                }
            } catch (IllegalArgumentException noBucket) {
                return true;
            }
        }
        return false;
    }

    /**
     * Brings keys of one table to the target through the mirror's locked apply; usually
     * {@code (table, keys) -> mirror.repair(table, keys, timeout)}.
     */
    @FunctionalInterface
    public interface Recopy {
        /**
         * @param table the source table
         * @param sourceKeys source keys
         * @return the keys that could not be applied
         * @throws SQLException if a store fails
         */
        Set<RowKey> apply(String table, Collection<RowKey> sourceKeys) throws SQLException;
    }

    /**
     * What an unmark's re-copy did.
     *
     * @param markId the mark
     * @param keys keys brought to the target again
     * @param notApplied keys the apply could not bring (held by writers past the timeout; at most 10,000 listed); the mark stays
     *     {@link DegradeMark.State#RECOPYING}, and an unmark asked again copies again
     */
    public record Recopied(long markId, long keys, Set<RowKey> notApplied) {
    }

    /**
     * Unmarks rows for the whole fleet, waits until no instance can still skip them, then copies the marked
     * rows again from the source (and deletes those gone from it) through {@code recopy}, so the target is
     * current again (see the class comment). Asked again for a mark left {@link DegradeMark.State#RECOPYING},
     * copies again.
     *
     * @param markId the mark
     * @param actor who asks
     * @param reason why
     * @param recopy the locked apply
     * @return what was copied
     * @throws IllegalArgumentException if there is no such mark, or actor or reason is blank
     * @throws IllegalStateException if the mark was already unmarked and copied
     * @throws SQLException if a store fails
     * @throws InterruptedException if interrupted while waiting or copying (the mark stays RECOPYING)
     */
    public Recopied unmark(long markId, String actor, String reason, Recopy recopy)
            throws SQLException, InterruptedException {
        requireWho(actor, reason);
        Objects.requireNonNull(recopy, "recopy");
        DegradeMark mark;
        try (Connection connection = store.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            try {
                // Waits for a purge batch in flight: none deletes after this commits.
                mark = store.read(connection, markId, true).orElseThrow(() -> new IllegalArgumentException(
                        "dualwrite degradation: there is no mark " + markId));
                if (mark.state() == DegradeMark.State.UNMARKED) {
                    throw new IllegalStateException("dualwrite degradation: mark " + markId + " was already unmarked"
                            + " and copied again");
                }
                store.setState(connection, markId, DegradeMark.State.RECOPYING, actor, reason, clock.instant());
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            }
        }
        log.info("dualwrite degradation: " + actor + " unmarked " + mark.describe() + " (mark " + markId + "): " + reason
                + "; copying its rows again once every instance's marks are older than " + staleAfter);
        refresh();
        if (waitBeforeRecopy) {
            Thread.sleep(staleAfter.toMillis() + 1);
        }
        MappedTable table = mapped(mark.table());
        Selection selection = new Selection(table, List.of(mark));
        Copying copying = new Copying(table.name(), recopy);
        if (mark.kind() == DegradeMark.Kind.KEY) {
            copying.add(table.source().canonicalKey(mark.from()));
        } else {
            // Batch by batch, never the whole selection in memory: a user or a range may hold millions of rows.
            try (LibraryWork.Scope own = LibraryWork.enter()) {
                try (Connection connection = source.getConnection()) {
                    connection.setAutoCommit(true);
                    RowKey after = null;
                    while (true) {
                        List<Row> rows = table.source().scan(connection, after, null, batchSize, false, null, List.of());
                        for (Row row : rows) {
                            RowKey key = table.source().keyOf(row);
                            if (selection.selectsSourceRow(key, row)) {
                                copying.add(key);
                            }
                        }
                        if (rows.size() < batchSize) {
                            break;
                        }
                        after = table.source().keyOf(rows.get(rows.size() - 1));
                    }
                }
                // Rows the source no longer holds: the apply deletes them (the ones found above come again, harmlessly).
                try (Connection connection = store.dataSource().getConnection()) {
                    connection.setAutoCommit(true);
                    RowKey after = null;
                    while (true) {
                        List<Row> rows = table.target().scan(connection, after, null, batchSize, false, null, List.of());
                        for (Row row : rows) {
                            if (selection.selectsTargetRow(row)) {
                                copying.add(table.source().canonicalKey(table.toSourceKey(table.target().keyOf(row))));
                            }
                        }
                        if (rows.size() < batchSize) {
                            break;
                        }
                        after = table.target().keyOf(rows.get(rows.size() - 1));
                    }
                }
            }
        }
        copying.flush();
        if (copying.notApplied.isEmpty()) {
            try (Connection connection = store.dataSource().getConnection()) {
                connection.setAutoCommit(true);
                store.setState(connection, markId, DegradeMark.State.UNMARKED, actor, reason, clock.instant());
            }
        }
        log.info("dualwrite degradation: mark " + markId + " copied again: " + copying.applied + " keys"
                + (copying.notApplied.isEmpty() ? "" : ", " + copying.notApplied.size() + " not applied (unmark again)"));
        return new Recopied(markId, copying.applied, Set.copyOf(copying.notApplied));
    }

    /** The re-copy's batches, throttled; keeps the keys not applied, up to a bound. */
    private final class Copying {
        private static final int MAX_NOT_APPLIED = 10_000;
        private final String table;
        private final Recopy recopy;
        private List<RowKey> batch = new ArrayList<>();
        private final Set<RowKey> notApplied = new LinkedHashSet<>();
        private long applied;
        private long throttleFrom = System.nanoTime();

        Copying(String table, Recopy recopy) {
            this.table = table;
            this.recopy = recopy;
        }

        void add(RowKey key) throws SQLException, InterruptedException {
            batch.add(key);
            if (batch.size() >= batchSize) {
                flush();
            }
        }

        void flush() throws SQLException, InterruptedException {
            if (batch.isEmpty()) {
                return;
            }
            Set<RowKey> failed = recopy.apply(table, batch);
            applied += batch.size() - failed.size();
            for (RowKey key : failed) {
                if (notApplied.size() < MAX_NOT_APPLIED) {
                    notApplied.add(key);
                }
            }
            throttleFrom = throttle(throttleFrom, batch.size());
            batch = new ArrayList<>();
        }
    }

    /** Sleeps so that {@code rows} more since {@code fromNanos} keep within the rate; returns the new origin. */
    private long throttle(long fromNanos, int rows) throws InterruptedException {
        long due = fromNanos + TimeUnit.SECONDS.toNanos(rows) / rowsPerSecond;
        long wait = due - System.nanoTime();
        if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
            return due;
        }
        return System.nanoTime();
    }

    private MappedTable mapped(String table) {
        if (table == null || !tables.contains(table)) {
            throw new IllegalArgumentException("dualwrite degradation: table '" + table + "' is not mapped; mapped"
                    + " tables: " + tables.all().stream().map(MappedTable::name).toList());
        }
        return tables.get(table);
    }

    private static void requireWho(String actor, String reason) {
        if (actor == null || actor.isBlank()) {
            throw new IllegalArgumentException("dualwrite degradation: say who asks (actor)");
        }
        if (reason == null || reason.isBlank()) {
            throw new IllegalArgumentException("dualwrite degradation: say why (reason)");
        }
    }

    private static String lower(String table) {
        return table.toLowerCase(Locale.ROOT);
    }

    /** Switches the wait between unmark and re-copy off: only for the test that shows the race it prevents. */
    void waitBeforeRecopyForTesting(boolean wait) {
        this.waitBeforeRecopy = wait;
    }

    /** Stops the refresh; the view goes stale, so nothing is skipped any longer. */
    @Override
    public synchronized void close() {
        if (refresher != null) {
            refresher.shutdownNow();
            refresher = null;
        }
    }

    /** Settings of a {@link Degradation}, checked as they are set. */
    public static final class Builder {
        private final DataSource source;
        private final DataSource target;
        private final MappedTables tables;
        private String table = DEFAULT_TABLE;
        private boolean createTable;
        private Duration refreshInterval = Duration.ofSeconds(5);
        private Duration staleAfter;
        private int batchSize = 500;
        private int rowsPerSecond = 2_000;
        private EventPublisher events = new EventPublisher();
        private RoutingValues routingValues = RoutingValues.identity();
        private Clock clock = Clock.systemUTC();

        private Builder(DataSource source, DataSource target, MappedTables tables) {
            this.source = Objects.requireNonNull(source, "source");
            this.target = Objects.requireNonNull(target, "target");
            this.tables = Objects.requireNonNull(tables, "tables");
        }

        /**
         * @param name the marks table (default {@value #DEFAULT_TABLE})
         * @return this builder
         */
        public Builder table(String name) {
            if (name == null || !name.matches("[A-Za-z_][A-Za-z0-9_]{0,63}")) {
                throw new IllegalArgumentException("dualwrite.degraded.table: '" + name + "' is not a plain table name");
            }
            this.table = name;
            return this;
        }

        /**
         * @param create whether a missing marks table may be created (otherwise {@link #build} names its DDL)
         * @return this builder
         */
        public Builder createTable(boolean create) {
            this.createTable = create;
            return this;
        }

        /**
         * @param interval how often the marks are reloaded (default 5 s; the starter uses the control poll's)
         * @return this builder
         */
        public Builder refreshInterval(Duration interval) {
            if (interval == null || interval.isNegative() || interval.isZero()) {
                throw new IllegalArgumentException("dualwrite.control.poll-interval: the marks' refresh interval"
                        + " must be positive, not " + interval);
            }
            this.refreshInterval = interval;
            return this;
        }

        /**
         * @param age how old a view of the marks may be and still skip changes; also how long an unmark waits
         *     before its re-copy (default three refresh intervals); must exceed the refresh interval
         * @return this builder
         */
        public Builder staleAfter(Duration age) {
            if (age == null || age.isNegative() || age.isZero()) {
                throw new IllegalArgumentException("dualwrite.degraded.stale-after must be positive, not " + age);
            }
            this.staleAfter = age;
            return this;
        }

        /**
         * @param rows rows per purge batch and per re-copy batch (default 500)
         * @return this builder
         */
        public Builder batchSize(int rows) {
            if (rows < 1 || rows > 100_000) {
                throw new IllegalArgumentException("dualwrite.degraded.batch-size must be in 1..100000, not " + rows);
            }
            this.batchSize = rows;
            return this;
        }

        /**
         * @param rows how many rows per second a purge deletes, and a re-copy copies, at most (default 2000)
         * @return this builder
         */
        public Builder rowsPerSecond(int rows) {
            if (rows < 1) {
                throw new IllegalArgumentException("dualwrite.degraded.rows-per-second must be positive, not " + rows);
            }
            this.rowsPerSecond = rows;
            return this;
        }

        /**
         * @param publisher where skipped changes are reported ({@link DualWriteEvent.ChangesSkipped})
         * @return this builder
         */
        public Builder events(EventPublisher publisher) {
            this.events = Objects.requireNonNull(publisher, "events");
            return this;
        }

        /**
         * @param values the routing value of a routing column's value, for tables that reach it through a
         *     foreign key; the purge routes rows by it (default: the column holds the routing value)
         * @return this builder
         */
        public Builder routingValues(RoutingValues values) {
            this.routingValues = Objects.requireNonNull(values, "routingValues");
            return this;
        }

        /**
         * @param value the clock of the times recorded in the marks table
         * @return this builder
         */
        public Builder clock(Clock value) {
            this.clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /**
         * Checks the settings together and the marks table.
         *
         * @return the degradation, not started
         * @throws IllegalArgumentException if {@code staleAfter} does not exceed the refresh interval
         * @throws IllegalStateException if the marks table is missing and may not be created (the message holds
         *     the DDL)
         * @throws SQLException if the target cannot be reached
         */
        public Degradation build() throws SQLException {
            Duration stale = staleAfter == null ? refreshInterval.multipliedBy(3) : staleAfter;
            if (stale.compareTo(refreshInterval) <= 0) {
                throw new IllegalArgumentException("dualwrite.degraded.stale-after (" + stale + ") must exceed the marks'"
                        + " refresh interval (" + refreshInterval + ", dualwrite.control.poll-interval), or every view"
                        + " would be stale before the next refresh");
            }
            this.staleAfter = stale;
            Degradation degradation = new Degradation(this);
            degradation.store.ensureTable(createTable);
            return degradation;
        }
    }
}
