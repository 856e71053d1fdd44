/**
 * Backfill: copy the history that existed before dual-write, in key order, without hurting the live
 * source, surviving pauses, crashes and redeploys, and shared by every instance of the service.
 *
 * <p>Entry type: {@link io.dualwrite.backfill.BackfillRunner}, configured by an immutable
 * {@link io.dualwrite.backfill.BackfillConfig}. Progress lives in {@code dualwrite_checkpoint} in the
 * target, one row per key range: a chunk's rows and its checkpoint commit in one target transaction, so a
 * restart resumes exactly after the last committed chunk. Ranges are leased with
 * {@code FOR UPDATE SKIP LOCKED}, so several instances share a job and a dead one's range is taken over
 * when its lease expires.
 *
 * <p>Each chunk is read under the same non-waiting share lock as the mirror's apply and written the same
 * way, so chunks and applies reach the target in commit order: the backfill never overwrites a newer row,
 * never waits on the application, and a row deleted while its chunk is in flight cannot be resurrected.
 * The backfill deletes only where a target row holds a unique value the source has moved to a row of
 * the chunk and its key is gone from the source ({@link io.dualwrite.mapping.UniqueMoves}); a holder
 * still in the source is written in its current state with the chunk.
 *
 * <p>It copies only while the source is the primary of every row: each chunk, and
 * {@code retryFailedRows}, pass a {@link io.dualwrite.backfill.BackfillGate} (the routing controller's in
 * a routing service), which refuses them in RAMP and TARGET_ONLY, where target-routed users write the
 * target first, and makes a step into RAMP wait for the chunk in flight.
 */
package io.dualwrite.backfill;
