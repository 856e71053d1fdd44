/**
 * Degradation: taking a subset of the data out of the migration without stopping the rest.
 *
 * <p>An operator marks keys, a key range or a routing value (a user) of one table as <em>not mirrored</em>
 * ({@link io.dualwrite.degrade.Degradation#mark}). The marks live in the target's {@code dualwrite_degraded}
 * table, shared by the fleet; every instance reloads them each refresh interval. While a row is marked, the
 * forward mirror's apply skips its changes (and counts them), the backfill does not copy it, and the
 * verifier ignores it. A marked row can be purged from the target (throttled, checkpointed in its mark's
 * row, refused where the target is the row's primary), and unmarked, which copies the marked rows again
 * from the source through the mirror's locked apply.
 *
 * <p>Entry type: {@link io.dualwrite.degrade.Degradation}. This package never writes the source, never
 * skips the reverse mirror (the source must stay complete for a rollback), and never lets a stale view of
 * the marks skip a change (see the class comment of {@code Degradation}).
 */
package io.dualwrite.degrade;
