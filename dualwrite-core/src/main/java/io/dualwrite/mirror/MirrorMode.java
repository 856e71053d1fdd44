package io.dualwrite.mirror;

/** How committed changes travel to the other store. */
public enum MirrorMode {
    /** Applied on the caller's thread before the call returns, bounded by a timeout; then retried in the background. */
    SYNC,
    /** Handed to a bounded queue drained by worker lanes; the same key always goes to the same lane. */
    ASYNC,
    /** Also written to {@code dualwrite_outbox} inside the application's transaction, so a crash loses nothing. */
    OUTBOX
}
