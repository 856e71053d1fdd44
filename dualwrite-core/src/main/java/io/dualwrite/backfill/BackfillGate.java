package io.dualwrite.backfill;

/**
 * Lets a backfill chunk copy source rows over the target only while the source is the primary of every
 * row, and keeps the migration from moving keys to the target while a chunk is in flight.
 *
 * <p>Why: a chunk writes the source's rows to the target without a version guard, which is right only
 * while no application write can reach the target first. In RAMP a user routed to the target writes
 * there; a chunk (or {@link BackfillRunner#retryFailedRows}) that read the source's older row would
 * overwrite that write, and the reverse mirror would then copy the stale row back to the source.
 *
 * <p>The routing controller is the gate of a service that routes ({@code
 * io.dualwrite.routing.MigrationController#backfillGate()}): it refuses a chunk in RAMP and
 * TARGET_ONLY, and while a step into them is pending, and counts an admitted chunk as a transaction in
 * flight, so that such a step is not acknowledged before the chunk has committed or rolled back.
 */
@FunctionalInterface
public interface BackfillGate {

    /** Always open: for a migration that never leaves DUAL_WRITE in this process (no routing). */
    BackfillGate OPEN = table -> () -> {
    };

    /**
     * Lets one chunk in.
     *
     * @param table the source table, as mapped
     * @return the pass, to close once the chunk's transactions have ended
     * @throws Refused if the chunk may not copy now
     */
    Pass enter(String table);

    /** A chunk's pass; closing it tells the gate that the chunk's transactions have ended. */
    @FunctionalInterface
    interface Pass extends AutoCloseable {

        /**
         * Whether the chunk may still commit: false when, since {@link #enter}, this instance could have
         * been counted out of a step it did not see (its lease lapsed). The chunk then rolls back.
         *
         * @return whether to commit
         */
        default boolean stillValid() {
            return true;
        }

        @Override
        void close();
    }

    /** Why a chunk may not copy now. */
    final class Refused extends IllegalStateException {

        private static final long serialVersionUID = 1L;

        private final boolean lasting;

        /**
         * @param message what stands in the way and what to do
         * @param lasting true when waiting will not help (the phase), false when it may (a step pending, a
         *     lease being renewed)
         */
        public Refused(String message, boolean lasting) {
            super(message);
            this.lasting = lasting;
        }

        /**
         * @return true when the backfill should pause with this reason; false when it should retry soon
         */
        public boolean lasting() {
            return lasting;
        }
    }
}
