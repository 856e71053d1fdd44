package io.dualwrite.verify;

/**
 * What the verifier did, for metrics ({@link VerifyMetrics}) and the application's own alerting. Kept apart
 * from the core's events so that verification can be added to a migration without touching them.
 */
public sealed interface VerifyEvent {

    /** Which check produced an event. */
    enum Check {
        /** A sampled double read. */
        DOUBLE_READ,
        /** The reconciler. */
        RECONCILE
    }

    /** @return the source table the event is about */
    String table();

    /** Receives verifier events. Called on the verifier's threads: keep it fast; a throwing listener is skipped. */
    @FunctionalInterface
    interface Listener {

        /**
         * Handles an event.
         *
         * @param event the event
         */
        void onEvent(VerifyEvent event);

        /** @return a listener that ignores everything */
        static Listener none() {
            return event -> { };
        }
    }

    /**
     * A sampled double read compared a row; a difference that may be lag is not {@code matched} yet and is
     * followed by {@link LagRecheck} events and, if it persists, a {@link MismatchFound}.
     *
     * @param table the source table
     * @param matched whether both stores held the same row
     */
    record ReadCompared(String table, boolean matched) implements VerifyEvent {
    }

    /**
     * A sampled double read was dropped because the verifier's executor was saturated.
     *
     * @param table the source table
     */
    record ReadDropped(String table) implements VerifyEvent {
    }

    /**
     * A double read could not compare (a store failed, a row did not map); the caller never saw it.
     *
     * @param table the source table
     * @param cause what went wrong
     */
    record ReadFailed(String table, Throwable cause) implements VerifyEvent {
    }

    /**
     * A difference whose primary side was newer (or that only one store held) is to be compared again later,
     * since it may be mirroring lag.
     *
     * @param table the source table
     * @param attempt which re-check this schedules, from 1
     */
    record LagRecheck(String table, int attempt) implements VerifyEvent {
    }

    /**
     * A mismatch was confirmed.
     *
     * @param table the source table
     * @param check which check found it
     * @param mismatch the mismatch
     * @param logged whether its line was written, or suppressed by the per-table rate limit
     */
    record MismatchFound(String table, Check check, Mismatch mismatch, boolean logged) implements VerifyEvent {
    }

    /**
     * Rows were repaired, or a repair failed for some of them.
     *
     * @param table the source table
     * @param check which check repaired
     * @param repaired rows brought to their primary's state
     * @param failed rows that could not be repaired
     */
    record Repaired(String table, Check check, int repaired, int failed) implements VerifyEvent {
    }

    /**
     * The reconciler finished one chunk.
     *
     * @param table the source table
     * @param rows rows the chunk compared
     * @param byChecksum whether the chunk was settled by its checksum alone, without reading rows
     */
    record ChunkReconciled(String table, int rows, boolean byChecksum) implements VerifyEvent {
    }
}
