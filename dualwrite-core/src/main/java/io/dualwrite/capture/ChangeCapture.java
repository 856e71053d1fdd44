package io.dualwrite.capture;

import io.dualwrite.jdbc.RowKey;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The {@link ChangeRecorder} behind the annotation, the programmatic API and transparent capture: a
 * change set per Spring transaction, bound with {@link TransactionSynchronizationManager}, handed to the
 * {@link ChangeSink} before and after commit and dropped on rollback. A transaction suspended by
 * {@code REQUIRES_NEW} keeps its own set. Where each kind of change waits is mapped in the
 * {@linkplain io.dualwrite.capture package documentation}.
 *
 * <p>Only an actual transaction gets a change set. Under {@code SUPPORTS}, {@code NOT_SUPPORTED} or
 * {@code NEVER} Spring's synchronization is active without one: every write has auto-committed, and a
 * method that throws never reaches after-commit, so such changes are handed on at once, like those
 * recorded with no synchronization at all.
 *
 * <p>Outside a transaction, during a call that {@link DualWriteAspect} intercepts, committed changes
 * wait for the call's end and go on once, so that the annotation and the capturing {@code DataSource}
 * together name each key once; keys whose outbox rows were written in their own write's transaction
 * ({@link #recordCommitting}) are not written again.
 */
public final class ChangeCapture implements ChangeRecorder {

    private static final Log log = LogFactory.getLog(ChangeCapture.class);

    private final ChangeSink sink;
    private final Predicate<String> knownTable;
    /** The changes collected during the current intercepted call outside a transaction; null outside one. */
    private final ThreadLocal<CallScope> callScope = new ThreadLocal<>();
    private volatile boolean warnedOutboxAfterCommit;

    /**
     * Creates the capture.
     *
     * @param sink where committed changes go
     * @param knownTable tells whether a table is mapped, so that a typo fails at the call
     */
    public ChangeCapture(ChangeSink sink, Predicate<String> knownTable) {
        this.sink = Objects.requireNonNull(sink, "sink");
        this.knownTable = Objects.requireNonNull(knownTable, "knownTable");
    }

    @Override
    public void record(String table, Object key) {
        recordAll(List.of(change(table, key)));
    }

    @Override
    public void recordAll(String table, Collection<?> keys) {
        recordAll(keys.stream().map(key -> change(table, key)).toList());
    }

    /**
     * Records changes, possibly of several tables, as one unit: in the current transaction's change set,
     * or handed on at once when no transaction is active (auto-committed writes).
     *
     * @param changes the changes
     */
    @Override
    public void recordAll(Collection<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        requireAllMapped(changes);
        if (TransactionSynchronizationManager.isActualTransactionActive()
                && TransactionSynchronizationManager.isSynchronizationActive()) {
            ChangeSet set = (ChangeSet) TransactionSynchronizationManager.getResource(this);
            if (set == null) {
                set = new ChangeSet();
                TransactionSynchronizationManager.bindResource(this, set);
                TransactionSynchronizationManager.registerSynchronization(set);
            }
            set.record(changes);
        } else {
            handOnCommitted(changes);
        }
    }

    @Override
    public void recordCommitted(Collection<Change> changes) {
        if (changes.isEmpty()) {
            return;
        }
        requireAllMapped(changes);
        handOnCommitted(changes);
    }

    /**
     * Writes the changes' outbox rows on {@code connection}, in the transaction about to commit there,
     * and returns their hand-over for after the commit.
     *
     * @throws SQLException if the sink could not write them; the caller rolls back
     */
    @Override
    public Runnable recordCommitting(Collection<Change> changes, Connection connection) throws SQLException {
        if (changes.isEmpty()) {
            return () -> { };
        }
        requireAllMapped(changes);
        Set<Change> unique = new LinkedHashSet<>(changes);
        sink.beforeCommit(unique, connection);
        return () -> handOnWritten(unique);
    }

    @Override
    public void beforeConnectionCommit(Connection connection) throws SQLException {
        if (TransactionSynchronizationManager.isSynchronizationActive()
                && TransactionSynchronizationManager.getResource(this) instanceof ChangeSet set) {
            set.writeUnwritten(connection);
        }
    }

    @Override
    public boolean writesBeforeCommit() {
        return sink.writesBeforeCommit();
    }

    /** Changes committed with nothing written for them yet: written now (too late to roll back), then handed on. */
    private void handOnCommitted(Collection<Change> changes) {
        CallScope scope = callScope.get();
        if (scope != null) {
            scope.committed.addAll(changes);
            return;
        }
        Set<Change> unique = new LinkedHashSet<>(changes);
        sink.beforeCommit(unique);
        handOn(unique, System.nanoTime());
    }

    /** Changes whose before-commit part went with their transaction: only the after-commit part is left. */
    private void handOnWritten(Set<Change> changes) {
        CallScope scope = callScope.get();
        if (scope != null) {
            scope.written.addAll(changes);
            return;
        }
        handOn(changes, System.nanoTime());
    }

    /**
     * Opens a call scope on this thread, unless one is open already.
     *
     * @return whether this call opened it, and so must {@linkplain #closeCallScope() close} it
     */
    boolean openCallScope() {
        if (callScope.get() != null) {
            return false;
        }
        callScope.set(new CallScope());
        return true;
    }

    /**
     * Closes this thread's call scope and hands on what it collected: those changes are committed
     * already, so they go on whether or not the call succeeded. Only keys that nobody wrote before their
     * commit go to {@link ChangeSink#beforeCommit(Collection)}.
     */
    void closeCallScope() {
        CallScope collected = callScope.get();
        callScope.remove();
        if (collected == null) {
            return;
        }
        Set<Change> unwritten = new LinkedHashSet<>(collected.committed);
        unwritten.removeAll(collected.written);
        if (!unwritten.isEmpty()) {
            if (sink.writesBeforeCommit() && !warnedOutboxAfterCommit) {
                warnedOutboxAfterCommit = true;
                log.warn("dualwrite OUTBOX: a @DualWrite call on " + unwritten.iterator().next().table() + " ran outside"
                        + " a transaction, so its outbox rows were written after its write had committed; a crash in"
                        + " between leaves the row to the reconciler. Make the method @Transactional, or turn on"
                        + " dualwrite.capture.transparent (said once)");
            }
            sink.beforeCommit(unwritten);
        }
        Set<Change> all = new LinkedHashSet<>(collected.written);
        all.addAll(unwritten);
        if (!all.isEmpty()) {
            handOn(all, System.nanoTime());
        }
    }

    private Change change(String table, Object key) {
        requireMapped(table);
        return new Change(table, RowKey.from(key));
    }

    /** A batch's changes mostly name one table: each name is checked when it differs from the one before. */
    private void requireAllMapped(Collection<Change> changes) {
        String checked = null;
        for (Change change : changes) {
            if (checked == null || !checked.equals(change.table())) {
                requireMapped(change.table());
                checked = change.table();
            }
        }
    }

    private void requireMapped(String table) {
        if (table == null || !knownTable.test(table)) {
            throw new IllegalArgumentException("table '" + table + "' is not mapped; add dualwrite.tables." + table
                    + " or record the source table's configured name");
        }
    }

    private void handOn(Collection<Change> changes, long committedAtNanos) {
        try {
            sink.afterCommit(changes, committedAtNanos);
        } catch (RuntimeException e) {
            // The application's transaction has committed; its caller must not see a mirroring problem.
            log.error("dualwrite could not hand on " + changes.size() + " committed changes; the reconciler will"
                    + " repair them", e);
        }
    }

    /** What an intercepted call outside a transaction committed, by whether it is written already. */
    private static final class CallScope {
        final Set<Change> committed = new LinkedHashSet<>();
        final Set<Change> written = new LinkedHashSet<>();
    }

    private final class ChangeSet implements TransactionSynchronization {

        private final Set<Change> changes = new LinkedHashSet<>();
        /** Recorded, with nothing written for them yet (the OUTBOX rows). */
        private final Set<Change> unwritten = new LinkedHashSet<>();

        void record(Collection<Change> recorded) {
            for (Change change : recorded) {
                if (changes.add(change)) {
                    unwritten.add(change);
                }
            }
        }

        @Override
        public void beforeCommit(boolean readOnly) {
            sink.beforeCommit(unwritten);
            unwritten.clear();
        }

        /**
         * The physical commit is next: changes recorded since {@link #beforeCommit} ran — a JPA provider
         * flushes inside the commit, after Spring's callbacks, and its set may even be created then — are
         * written on the committing connection, so they commit with their writes or not at all.
         */
        void writeUnwritten(Connection connection) throws SQLException {
            if (unwritten.isEmpty()) {
                return;
            }
            Set<Change> late = new LinkedHashSet<>(unwritten);
            sink.beforeCommit(late, connection);
            unwritten.removeAll(late);
        }

        @Override
        public void afterCommit() {
            if (!unwritten.isEmpty()) {
                // Committed through a connection this library did not see commit: written late, said once.
                if (sink.writesBeforeCommit() && !warnedOutboxAfterCommit) {
                    warnedOutboxAfterCommit = true;
                    log.warn("dualwrite OUTBOX: a transaction on " + unwritten.iterator().next().table() + " wrote after"
                            + " its beforeCommit callbacks and committed on a connection dualwrite does not wrap, so its"
                            + " outbox rows were written after the commit; a crash in between leaves the row to the"
                            + " reconciler (said once)");
                }
                sink.beforeCommit(unwritten);
                unwritten.clear();
            }
            handOn(changes, System.nanoTime());
        }

        @Override
        public void afterCompletion(int status) {
            TransactionSynchronizationManager.unbindResourceIfPossible(ChangeCapture.this);
        }

        @Override
        public void suspend() {
            TransactionSynchronizationManager.unbindResourceIfPossible(ChangeCapture.this);
        }

        @Override
        public void resume() {
            TransactionSynchronizationManager.bindResource(ChangeCapture.this, this);
        }
    }
}
