package io.dualwrite.mirror;

import io.dualwrite.degrade.Degradation;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.UniqueMoves;
import io.dualwrite.metrics.MeterNames;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * Applies the current primary-side state of a batch of keys to the other store. Every dispatch mode
 * ends here.
 *
 * <h2>The race</h2>
 * Mirroring runs after the application's commit, on another thread or another instance, so two
 * applies of one key can overlap: A reads version 1, the application commits version 2, B reads
 * version 2 and writes it, then A — slow — writes version 1 over it. A version guard alone does not
 * save us: two versions can carry the same {@code gmt_modified} (clock resolution, or a clock that
 * went back), and equal versions must be allowed to overwrite or an update within the same
 * millisecond would be lost. Deletes are worse: a deleted row has no version to compare, so a late
 * apply that read the row before the delete would resurrect it on the target.
 *
 * <h2>The lock order that prevents it</h2>
 * The apply opens a transaction on the primary and reads the keys with a share lock
 * ({@code FOR SHARE NOWAIT}; {@code LOCK IN SHARE MODE NOWAIT} on MariaDB; {@code FOR UPDATE NOWAIT}
 * on H2), writes the other store (upsert of present rows, delete of absent keys), commits the
 * other store, and only then ends the primary transaction. While A holds the share lock no writer can
 * commit a new version of those rows, so any write that commits after A's read also applies after A's
 * write has landed, and its own apply reads its newer state: applies reach the other store in the
 * order the versions were committed, ties included. So the write to the other store needs no version
 * guard: it replaces a row that differs (identical rows are left alone), which is right even when the
 * application's {@code gmt_modified} goes backwards between two commits (PostgreSQL's {@code now()} is the
 * transaction's start) — a guard would refuse that later commit forever. The guard
 * ({@link MirrorConfig#versionGuard()}) stays available; in RAMP the ramp barrier, not the guard, keeps the
 * two directions from crossing (see {@code io.dualwrite.routing.MigrationController}).
 *
 * <h2>Absent rows</h2>
 * PostgreSQL and H2 take no lock on a row that does not exist (no gap locks), so "the key is absent"
 * is not protected: after A reads the key as absent, the application may re-insert it, commit, and
 * B may apply the new row before A's delete lands. So the delete happens in an open transaction on the
 * other store, then the keys are read again under the share lock; if any has come back (or is locked by
 * a writer), the delete is rolled back and the keys are retried. A re-insert that commits after that
 * second read applies after the delete, because its apply's upsert waits for, or follows, our delete.
 *
 * <h2>Unique values that move between keys</h2>
 * The lock orders the versions of one key, but a unique index besides the key ties keys together: the
 * source moves {@code email='a'} from row 2 to row 1, and row 1 may reach the other store while row 2
 * still holds 'a' there (another lane, or key order within one batch). MariaDB's
 * {@code ON DUPLICATE KEY UPDATE} would then update row 2 with row 1's columns and report success;
 * PostgreSQL and H2 would refuse it until the key is parked. So before writing, the apply asks the other
 * store which keys hold the batch's unique values ({@link UniqueMoves}), reads those keys from the
 * primary under the same share lock NOWAIT (a busy one defers the batch, like any busy key), and in one
 * transaction on the other store deletes the rows that give a value up and the keys gone from the
 * primary, then writes every row, then re-checks the absent keys as above. Every row involved was locked
 * at the same time, so together they are one state of the primary, whose unique index they satisfy.
 * Without a moving value the apply is the plain one above, plus one indexed look-up per batch.
 *
 * <h2>Rows not mirrored</h2>
 * Every capture path ends here, so this is where the marks of {@link Degradation} are asked, once the
 * primary rows are read under the share lock (a routing-value mark needs the row): marked keys are
 * reported applied and not written. A change that was captured before its row was marked and applied after
 * is skipped too, which is what the mark means; the unmark's re-copy reads such rows again.
 *
 * <h2>Never the one that waits</h2>
 * NOWAIT makes the library give way: a key held by a writer fails the read at once, and the batch is
 * retried a moment later. The library never waits on an application lock, so it can never be part of
 * a deadlock cycle, and an application writer waits on the library's share lock for one write to the
 * other store at most.
 */
final class MirrorApplier {

    /** Hooks between the steps of an apply; only tests set one, to force an interleaving. */
    interface Hook {
        /** Called after the primary rows were read, before the other store is written. */
        void afterPrimaryRead(MappedTable table, Collection<RowKey> keys);
    }

    /**
     * What an apply did.
     *
     * @param applied keys whose state reached the other store
     * @param deferred keys a writer held, to retry soon
     * @param upserted rows written
     * @param deleted keys deleted
     */
    record Outcome(Set<RowKey> applied, Set<RowKey> deferred, int upserted, int deleted) {
    }

    private final DataSource primary;
    private final DataSource other;
    private final boolean versionGuard;
    private volatile boolean lockPrimaryRows = true;
    private volatile boolean recheckAbsent = true;
    private volatile boolean resolveUniqueMoves = true;
    private volatile Hook hook;
    private volatile Degradation degradation;
    private volatile RowObserver observer;
    private volatile List<String> writeLockTimeout = List.of();
    private volatile ObservationRegistry observations = ObservationRegistry.NOOP;

    MirrorApplier(DataSource primary, DataSource other) {
        this(primary, other, false);
    }

    MirrorApplier(DataSource primary, DataSource other, boolean versionGuard) {
        this.primary = primary;
        this.other = other;
        this.versionGuard = versionGuard;
    }

    /** Where each apply is observed ({@link MeterNames#MIRROR_APPLY_OBSERVATION}). */
    void observations(ObservationRegistry registry) {
        this.observations = registry;
    }

    /** Switches the primary-side lock off: only for the test that shows the race it prevents. */
    void lockPrimaryRowsForTesting(boolean lock) {
        this.lockPrimaryRows = lock;
    }

    /** Switches the absent-key re-check off: only for the test that shows the race it prevents. */
    void recheckAbsentForTesting(boolean recheck) {
        this.recheckAbsent = recheck;
    }

    /** Switches the look-up of unique values held by other keys off: only for the test that shows why. */
    void resolveUniqueMovesForTesting(boolean resolve) {
        this.resolveUniqueMoves = resolve;
    }

    /** Sets the statements that bound, then reset, the other store's lock waits (see Dialect). */
    void writeLockTimeout(List<String> setAndReset) {
        this.writeLockTimeout = setAndReset;
    }

    void observer(RowObserver rowObserver) {
        this.observer = rowObserver;
    }

    /** Sets the marks of rows not to mirror (see {@link Degradation}); null for none. */
    void degradation(Degradation marks) {
        this.degradation = marks;
    }

    void hookForTesting(Hook hook) {
        this.hook = hook;
    }

    /**
     * A pair of connections held open across applies by one worker, so that an apply costs its own
     * statements only, not the session set-up and the pool's reset each time. Discarded after any
     * failure, and renewed after a while so that a pool's maximum lifetime still applies.
     */
    final class Session implements AutoCloseable {
        private final Connection otherConnection;
        private final Connection primaryConnection;
        private final long openedNanos = System.nanoTime();

        private Session(Connection otherConnection, Connection primaryConnection) {
            this.otherConnection = otherConnection;
            this.primaryConnection = primaryConnection;
        }

        boolean olderThan(long nanos) {
            return System.nanoTime() - openedNanos > nanos;
        }

        @Override
        public void close() {
            closeQuietly(primaryConnection);
            // The bound on lock waits is a session setting: the pool must not hand it to its next user.
            if (!writeLockTimeout.isEmpty()) {
                try {
                    otherConnection.rollback();
                    otherConnection.setAutoCommit(true);
                    try (java.sql.Statement statement = otherConnection.createStatement()) {
                        statement.execute(writeLockTimeout.get(1));
                    }
                } catch (SQLException e) {
                    abortQuietly(otherConnection);
                }
            }
            closeQuietly(otherConnection);
        }
    }

    /**
     * Opens a session for repeated applies. The other store's connection comes first: if that store is
     * down, we fail before taking anything from the primary.
     *
     * @param timeoutMillis the socket timeout for both connections, or 0 for the pools' own
     * @return the session; the caller closes it
     * @throws SQLException if either store cannot be reached
     */
    Session openSession(int timeoutMillis) throws SQLException {
        return openSession(timeoutMillis, 0);
    }

    /**
     * Opens a session whose network waits end by a deadline: they get what is left of it once both
     * connections are out of their pools, so waiting for a connection and for the network together take
     * no longer than the longer of the pool's wait and the deadline.
     *
     * @param deadlineNanos a {@link System#nanoTime()} reading
     * @return the session; the caller closes it
     * @throws SQLException if either store cannot be reached, or the deadline passed waiting for a pool
     */
    Session openSessionUntil(long deadlineNanos) throws SQLException {
        return openSession(0, deadlineNanos);
    }

    private Session openSession(int fixedTimeoutMillis, long deadlineNanos) throws SQLException {
        Connection otherConnection = other.getConnection();
        try {
            Connection primaryConnection = primary.getConnection();
            try {
                int timeoutMillis = fixedTimeoutMillis;
                if (deadlineNanos != 0) {
                    long left = java.util.concurrent.TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
                    if (left <= 0) {
                        throw new java.sql.SQLTransientConnectionException("the deadline passed while waiting for"
                                + " connections", "08001");
                    }
                    timeoutMillis = (int) Math.min(Integer.MAX_VALUE, left);
                }
                if (timeoutMillis > 0) {
                    boundNetworkWait(otherConnection, timeoutMillis);
                    boundNetworkWait(primaryConnection, timeoutMillis);
                }
                if (!writeLockTimeout.isEmpty()) {
                    // Outside a transaction: PostgreSQL would undo a SET made in one that rolls back.
                    otherConnection.setAutoCommit(true);
                    try (java.sql.Statement statement = otherConnection.createStatement()) {
                        statement.execute(writeLockTimeout.get(0));
                    }
                    if (otherConnection.isWrapperFor(io.dualwrite.jdbc.ShardedStore.class)) {
                        // A sharded store's statements above reach its home only; each shard is bounded as it opens.
                        otherConnection.unwrap(io.dualwrite.jdbc.ShardedStore.class)
                                .boundLockWaits(writeLockTimeout.get(0), writeLockTimeout.get(1));
                    }
                }
                otherConnection.setAutoCommit(false);
                primaryConnection.setAutoCommit(false);
                primaryConnection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                return new Session(otherConnection, primaryConnection);
            } catch (SQLException | RuntimeException e) {
                closeQuietly(primaryConnection);
                if (!writeLockTimeout.isEmpty()) {
                    // The lock bound may be set: this connection must not go back to the pool as it is.
                    abortQuietly(otherConnection);
                }
                throw e;
            }
        } catch (SQLException | RuntimeException e) {
            closeQuietly(otherConnection);
            throw e;
        }
    }

    /**
     * Applies the keys' current state on connections of its own.
     *
     * @param table the table
     * @param keys distinct keys of that table
     * @return what was applied and what must be retried because a writer held it
     * @throws SQLException when either store fails (lock conflicts are returned as deferred instead)
     * @throws IllegalArgumentException when a row cannot be transformed
     */
    Outcome apply(MappedTable table, Collection<RowKey> keys) throws SQLException {
        return apply(table, keys, 0);
    }

    /**
     * Applies the keys' current state on connections of its own, with every network read bounded.
     *
     * @param timeoutMillis the socket timeout for both connections, or 0 for the pools' own
     */
    Outcome apply(MappedTable table, Collection<RowKey> keys, int timeoutMillis) throws SQLException {
        try (Session session = openSession(timeoutMillis)) {
            return apply(table, keys, session);
        }
    }

    /**
     * Applies the keys' current state on a session's connections. After a thrown exception the session
     * should be discarded.
     */
    Outcome apply(MappedTable table, Collection<RowKey> keys, Session session) throws SQLException {
        Observation observation = Observation.createNotStarted(MeterNames.MIRROR_APPLY_OBSERVATION, observations)
                .contextualName("dualwrite apply " + table.name())
                .lowCardinalityKeyValue("table", table.name())
                .lowCardinalityKeyValue("direction", table.isReversed() ? "reverse" : "forward")
                .highCardinalityKeyValue("keys", String.valueOf(keys.size()))
                .start();
        try (Observation.Scope scope = observation.openScope()) {
            Outcome outcome = applyUnobserved(table, keys, session);
            observation.highCardinalityKeyValue("deferred", String.valueOf(outcome.deferred().size()));
            return outcome;
        } catch (SQLException | RuntimeException e) {
            observation.error(e);
            throw e;
        } finally {
            observation.stop();
        }
    }

    private Outcome applyUnobserved(MappedTable table, Collection<RowKey> keys, Session session) throws SQLException {
        Set<RowKey> unique = new LinkedHashSet<>(keys);
        Connection primaryConnection = session.primaryConnection;
        Connection otherConnection = session.otherConnection;
        try (LibraryWork.Scope own = LibraryWork.enter()) {
            Outcome outcome = applyLocked(table, unique, primaryConnection, otherConnection);
            // The primary transaction only read and locked: ending it releases the share locks.
            primaryConnection.rollback();
            return outcome;
        } catch (SQLException | RuntimeException e) {
            rollbackQuietly(otherConnection, e);
            rollbackQuietly(primaryConnection, e);
            if (e instanceof SQLException sql && (table.source().dialect().isLockConflict(sql)
                    || table.target().dialect().isLockConflict(sql))) {
                return new Outcome(Set.of(), unique, 0, 0);
            }
            throw e;
        }
    }

    private Outcome applyLocked(MappedTable table, Set<RowKey> keys, Connection primaryConnection,
            Connection otherConnection) throws SQLException {
        Map<RowKey, Row> rows = table.source().readByKeys(primaryConnection, keys, lockPrimaryRows);
        RowObserver watching = observer;
        if (watching != null && !rows.isEmpty()) {
            try {
                watching.rowsRead(table, rows.values());
            } catch (RuntimeException e) {
                // An observer only counts; it must never cost a row its mirroring.
            }
        }
        Hook current = hook;
        if (current != null) {
            current.afterPrimaryRead(table, keys);
        }
        Degradation marks = degradation;
        Set<RowKey> skip = marks == null ? Set.of() : marks.notMirrored(table, keys, rows, otherConnection);
        if (skip.isEmpty()) {
            return applyRows(table, keys, rows, primaryConnection, otherConnection);
        }
        // Rows an operator took out of the migration: their changes are skipped, and count as done.
        Set<RowKey> rest = new LinkedHashSet<>(keys);
        rest.removeAll(skip);
        Outcome outcome;
        if (rest.isEmpty()) {
            otherConnection.rollback();
            outcome = new Outcome(Set.of(), Set.of(), 0, 0);
        } else {
            Map<RowKey, Row> restRows = new java.util.LinkedHashMap<>(rows);
            restRows.keySet().removeAll(skip);
            outcome = applyRows(table, rest, restRows, primaryConnection, otherConnection);
        }
        Set<RowKey> applied = new LinkedHashSet<>(outcome.applied());
        applied.addAll(skip);
        return new Outcome(applied, outcome.deferred(), outcome.upserted(), outcome.deleted());
    }

    private Outcome applyRows(MappedTable table, Set<RowKey> keys, Map<RowKey, Row> rows, Connection primaryConnection,
            Connection otherConnection) throws SQLException {
        // Mapped before anything is written: a row that does not convert fails the batch untouched.
        List<Row> mapped = table.toTarget(rows.values());
        Set<RowKey> absent = new LinkedHashSet<>(keys);
        absent.removeAll(rows.keySet());
        if (!absent.isEmpty() && table.source().foldsKeys()) {
            // Under a _ci or PAD SPACE collation 'ab ' asks for row 'Ab': found, not absent (see KeyCodec).
            Set<RowKey> found = new java.util.HashSet<>();
            rows.keySet().forEach(key -> found.add(table.source().foldedKey(key)));
            absent.removeIf(key -> found.contains(table.source().foldedKey(key)));
        }
        Strays strays = Strays.find(table, keys, rows.keySet(), otherConnection);
        UniqueMoves plan = UniqueMoves.plan(table, primaryConnection, otherConnection, mapped, absent, lockPrimaryRows);
        if (plan.moves() && resolveUniqueMoves) {
            return applyMoves(table, keys, plan, strays, primaryConnection, otherConnection);
        }
        // Key order, so that overlapping batches of two instances cannot deadlock on the other store.
        List<Row> targetRows = inKeyOrder(mapped, table.target()::keyOf);
        write(table, otherConnection, targetRows);
        table.target().delete(otherConnection, strays.ofPresentRows());
        otherConnection.commit();
        if (absent.isEmpty()) {
            return new Outcome(keys, Set.of(), targetRows.size(), strays.ofPresentRows().size());
        }
        Set<RowKey> deletes = new LinkedHashSet<>(absent.stream().map(table::toTargetKey).toList());
        deletes.addAll(strays.ofAbsentRows());
        table.target().delete(otherConnection, deletes);
        if (recheckAbsent && !stillAbsent(table, absent, primaryConnection)) {
            otherConnection.rollback();
            Set<RowKey> applied = new LinkedHashSet<>(keys);
            applied.removeAll(absent);
            return new Outcome(applied, absent, targetRows.size(), 0);
        }
        otherConnection.commit();
        return new Outcome(keys, Set.of(), targetRows.size(), absent.size());
    }

    /**
     * Unique values move between keys (see {@link UniqueMoves}): the rows that give a value up and the
     * keys gone from the primary are deleted first, then every row is written, in one transaction, so
     * no write meets another key's row whatever order the keys came in. Keys brought along are not
     * reported: their own changes are applied (again, harmlessly) when they arrive.
     */
    private Outcome applyMoves(MappedTable table, Set<RowKey> keys, UniqueMoves plan, Strays strays,
            Connection primaryConnection, Connection otherConnection) throws SQLException {
        List<RowKey> deletes = new ArrayList<>(plan.deleteFirst());
        deletes.addAll(strays.ofPresentRows());
        deletes.addAll(strays.ofAbsentRows());
        deletes.sort(MirrorApplier::compareKeys);
        table.target().delete(otherConnection, deletes);
        List<Row> targetRows = inKeyOrder(plan.rows(), table.target()::keyOf);
        write(table, otherConnection, targetRows);
        if (recheckAbsent && !plan.absentKeys().isEmpty()
                && !stillAbsent(table, plan.absentKeys(), primaryConnection)) {
            // One transaction holds the moves and the deletes: all of it waits for the key that came back.
            otherConnection.rollback();
            return new Outcome(Set.of(), keys, 0, 0);
        }
        otherConnection.commit();
        return new Outcome(keys, Set.of(), targetRows.size(), plan.absentKeys().size());
    }

    /**
     * Rows of the other store that the primary takes for one of the keys applied, spelled otherwise: the
     * primary compares keys under a {@code _ci} or PAD SPACE collation, the other store exactly, so when a
     * row's key changes case ({@code 'Key-1'} to {@code 'KEY-1'}), or a delete names the row in another
     * spelling, the other store still holds the old spelling, which no recorded key names exactly. Those
     * of rows present on the primary go with the write (the primary's row is share-locked, so its spelling
     * holds); those of absent rows go with the absent branch's deletes, under its re-check. Accent variants
     * are not found (see {@link io.dualwrite.jdbc.KeyCodec#foldedSql}): the reconciler removes them.
     */
    private record Strays(List<RowKey> ofPresentRows, List<RowKey> ofAbsentRows) {

        private static final Strays NONE = new Strays(List.of(), List.of());

        static Strays find(MappedTable table, Set<RowKey> keys, Set<RowKey> present, Connection otherConnection)
                throws SQLException {
            if (!table.source().foldsKeys() || table.target().foldsKeys()) {
                return NONE;
            }
            Set<RowKey> asked = new java.util.HashSet<>();
            keys.forEach(key -> asked.add(table.source().foldedKey(key)));
            Set<RowKey> presentFolded = new java.util.HashSet<>();
            Set<RowKey> kept = new java.util.HashSet<>();
            for (RowKey key : present) {
                presentFolded.add(table.source().foldedKey(key));
                kept.add(table.toTargetKey(key));
            }
            List<RowKey> ofPresent = new ArrayList<>();
            List<RowKey> ofAbsent = new ArrayList<>();
            for (RowKey found : table.target().keysFoldedLike(otherConnection, keys, table.source())) {
                RowKey folded = table.source().foldedKey(table.reversed().toTargetKey(found));
                if (kept.contains(found) || !asked.contains(folded)) {
                    continue;
                }
                (presentFolded.contains(folded) ? ofPresent : ofAbsent).add(found);
            }
            return ofPresent.isEmpty() && ofAbsent.isEmpty() ? NONE : new Strays(ofPresent, ofAbsent);
        }
    }

    private void write(MappedTable table, Connection otherConnection, List<Row> targetRows) throws SQLException {
        if (versionGuard) {
            table.target().upsert(otherConnection, targetRows);
        } else {
            table.target().overwrite(otherConnection, targetRows);
        }
    }

    /**
     * Proves the path without changing anything: reads up to a few rows of the primary, maps them, and
     * writes them to the other store in a transaction that is rolled back. Of those rows, the ones the other store
     * holds too are written, when there are any: they already meet its foreign keys there. A row just deleted on
     * the other side together with its parent, the deletion not yet mirrored back, would fail a foreign key over
     * that race rather than over the path (a ramp step's guard refused a step under load that way).
     *
     * @return how many rows went through; 0 when the primary table is empty
     * @throws SQLException if a statement fails on either store
     * @throws IllegalArgumentException if a row does not map
     */
    int probe(MappedTable table, int timeoutMillis) throws SQLException {
        // A session, so that the probe is bounded like an apply: network timeout and lock-wait bound.
        try (Session session = openSession(timeoutMillis)) {
            try {
                List<Row> rows = table.source().scan(session.primaryConnection, null, null, 3, false, null, List.of());
                List<Row> mapped = table.toTarget(rows);
                Set<RowKey> held = table.target().readByKeys(session.otherConnection,
                        mapped.stream().map(table.target()::keyOf).toList(), false).keySet();
                List<Row> proving = mapped.stream().filter(row -> held.contains(table.target().keyOf(row))).toList();
                write(table, session.otherConnection, proving.isEmpty() ? mapped : proving);
                return mapped.size();
            } finally {
                // Nothing a probe wrote may stay; a failed rollback fails the session's reset, which discards it.
                for (Connection connection : List.of(session.otherConnection, session.primaryConnection)) {
                    try {
                        connection.rollback();
                    } catch (SQLException ignored) {
                        // see above
                    }
                }
            }
        }
    }

    private boolean stillAbsent(MappedTable table, Set<RowKey> absent, Connection primaryConnection)
            throws SQLException {
        try {
            return table.source().readByKeys(primaryConnection, absent, true).isEmpty();
        } catch (SQLException e) {
            if (table.source().dialect().isLockConflict(e)) {
                // A writer holds one of the keys right now: its own apply will follow; retry ours too.
                return false;
            }
            throw e;
        }
    }

    private static void boundNetworkWait(Connection connection, int timeoutMillis) throws SQLException {
        try {
            // Put back when the connection is returned: by HikariCP, and by RestoringDataSource on any pool.
            connection.setNetworkTimeout(Runnable::run, timeoutMillis);
        } catch (SQLFeatureNotSupportedException embedded) {
            // H2 in-process has no network to wait on.
        }
    }

    /** Sorts rows by key, working out each row's key once (not once per comparison). */
    static List<Row> inKeyOrder(List<Row> rows, Function<Row, RowKey> keyOf) {
        if (rows.size() < 2) {
            return rows;
        }
        List<Map.Entry<RowKey, Row>> keyed = new ArrayList<>(rows.size());
        for (Row row : rows) {
            keyed.add(Map.entry(keyOf.apply(row), row));
        }
        keyed.sort((x, y) -> compareKeys(x.getKey(), y.getKey()));
        List<Row> sorted = new ArrayList<>(keyed.size());
        for (Map.Entry<RowKey, Row> entry : keyed) {
            sorted.add(entry.getValue());
        }
        return sorted;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    static int compareKeys(RowKey a, RowKey b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            Object x = a.get(i);
            Object y = b.get(i);
            int c = x instanceof Comparable cx && x.getClass() == y.getClass() ? cx.compareTo(y)
                    : String.valueOf(x).compareTo(String.valueOf(y));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static void closeQuietly(Connection connection) {
        try {
            connection.close();
        } catch (SQLException ignored) {
            // Closing a broken connection fails too; the pool discards it either way.
        }
    }

    /** A connection whose session could not be restored must not go back to the pool as it is. */
    private static void abortQuietly(Connection connection) {
        try {
            connection.abort(Runnable::run);
        } catch (SQLException | RuntimeException ignored) {
            // Closing follows; the pool discards a broken connection.
        }
    }

    private static void rollbackQuietly(Connection connection, Exception cause) {
        try {
            connection.rollback();
        } catch (SQLException rollbackFailure) {
            cause.addSuppressed(rollbackFailure);
        }
    }
}
