package io.dualwrite.capture;

import java.util.Collection;

/**
 * Where captured changes go: the mirror implements it. Both methods receive each transaction's
 * changes once, without duplicates.
 */
public interface ChangeSink {

    /**
     * Called inside the application's transaction, just before it commits, on its connection: the
     * place to write changes durably in the same transaction (OUTBOX). An exception here rolls the
     * application's transaction back, so implementations throw only when the source itself fails.
     *
     * @param changes the transaction's changes
     */
    default void beforeCommit(Collection<Change> changes) {
    }

    /**
     * Called after the application's transaction committed. Must not throw.
     *
     * @param changes the transaction's changes
     * @param committedAtNanos {@link System#nanoTime()} at commit, for lag measurement
     */
    void afterCommit(Collection<Change> changes, long committedAtNanos);
}
