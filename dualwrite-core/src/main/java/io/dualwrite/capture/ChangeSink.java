package io.dualwrite.capture;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;

/**
 * Where captured changes go: the mirror implements it. Each transaction's changes arrive once, without
 * duplicates: first at one of the two {@code beforeCommit} methods, while the write can still be taken
 * back, then at {@link #afterCommit}. Which {@code beforeCommit} is called depends on who commits; see
 * the {@linkplain io.dualwrite.capture package map}.
 */
public interface ChangeSink {

    /**
     * Called inside a Spring-managed transaction, just before it commits: the place to write changes
     * durably in the same transaction (OUTBOX), on the transaction's own connection, found through the
     * transaction manager's data source. An exception here rolls the application's transaction back, so
     * implementations throw only when the store itself fails.
     *
     * <p>Also called, with nothing left to roll back, for changes that were committed before anyone
     * could see them: a {@link DualWrite} method or a {@link ChangeRecorder} call outside a transaction.
     *
     * @param changes the transaction's changes
     */
    default void beforeCommit(Collection<Change> changes) {
    }

    /**
     * Called just before a transaction Spring does not manage commits on {@code connection}: a raw JDBC
     * {@code commit()}, or the short transaction transparent capture opens around an autocommit write
     * when {@link #writesBeforeCommit()} says so. What is written on {@code connection} commits or rolls
     * back with the application's write; a failure here rolls it back and reaches the application.
     * The default calls {@link #beforeCommit(Collection)}.
     *
     * @param changes the transaction's changes
     * @param connection the application's physical connection, in its open transaction
     * @throws SQLException if the changes could not be written; the caller then rolls back
     */
    default void beforeCommit(Collection<Change> changes, Connection connection) throws SQLException {
        beforeCommit(changes);
    }

    /**
     * Whether changes must be written in the application's transaction (OUTBOX). When true, transparent
     * capture runs each autocommit write on a mapped table in a transaction of its own, with the changes
     * written before it commits. Asked once per such write, so it must be cheap.
     *
     * @return whether {@code beforeCommit} writes anything
     */
    default boolean writesBeforeCommit() {
        return false;
    }

    /**
     * Called after the application's transaction committed. Must not throw.
     *
     * @param changes the transaction's changes
     * @param committedAtNanos {@link System#nanoTime()} at commit, for lag measurement
     */
    void afterCommit(Collection<Change> changes, long committedAtNanos);
}
