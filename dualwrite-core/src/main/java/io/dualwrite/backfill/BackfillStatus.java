package io.dualwrite.backfill;

/** Where a table's backfill, or one of its key ranges, stands. */
public enum BackfillStatus {
    /** Not started yet, or waiting for a runner to lease it. */
    PENDING,
    /** Being copied. */
    RUNNING,
    /** Stopped by an operator or by the error breaker; resumable. */
    PAUSED,
    /** Stopped for good by an operator. */
    CANCELLED,
    /** Every row copied. */
    DONE
}
