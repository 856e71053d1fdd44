/**
 * The mirror: after a source transaction commits, bring the changed rows' current state to the other
 * store, in the primary's commit order (the latest commit wins; the optional version guard is described
 * once, at {@link io.dualwrite.mirror.MirrorConfig#versionGuard()}), without ever failing or blocking the
 * application's write.
 *
 * <p>Entry type: {@link io.dualwrite.mirror.Mirror}, created from an immutable
 * {@link io.dualwrite.mirror.MirrorConfig}. It is the {@link io.dualwrite.capture.ChangeSink} of the
 * capture and dispatches in one of three {@link io.dualwrite.mirror.MirrorMode}s: on the caller's thread
 * (SYNC), on worker lanes (ASYNC), or through the {@code dualwrite_outbox} table (OUTBOX). Every mode
 * ends in {@code MirrorApplier}, whose header explains the locking that keeps the target from ever
 * going back to an older row.
 *
 * <p>This package must never throw into the application's write path, never wait on an application's
 * row lock, never hold an application thread longer than {@link io.dualwrite.mirror.MirrorConfig#waitLimit()},
 * never hold more keys in memory than {@link io.dualwrite.mirror.MirrorConfig#queueCapacity()} (the rest
 * are spilled to the outbox table, see {@code Overflow}), and never drop a change silently: a change is
 * applied, retried, spilled, or parked with an event and a dead-letter log line.
 */
package io.dualwrite.mirror;
