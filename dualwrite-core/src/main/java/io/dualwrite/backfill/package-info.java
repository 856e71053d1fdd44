/**
 * Backfill: copy the history that existed before dual-write, in key order, without hurting the live
 * source, surviving pauses, crashes and redeploys, and shared by every instance of the service.
 *
 * <p>Entry type: {@link io.dualwrite.backfill.BackfillRunner}, configured by an immutable
 * {@link io.dualwrite.backfill.BackfillConfig}. Progress lives in {@code dualwrite_checkpoint} in the
 * target, one row per key range: a chunk's rows and its checkpoint commit in one target transaction, so a
 * restart resumes exactly after the last committed chunk. Ranges are leased with
 * {@code FOR UPDATE SKIP LOCKED}, so several instances share a job and a dead one's range is taken over
 * when its lease expires. A sharded source's ranges are its physical shards, one each ({@code shard} in the
 * checkpoint row), so the shard is the unit that instances share and a restart resumes.
 *
 * <p>Each chunk is read under the same non-waiting share lock as the mirror's apply and written the same
 * way, so chunks and applies reach the target in commit order: the backfill never overwrites a newer row,
 * never waits on the application, and a row deleted while its chunk is in flight cannot be resurrected.
 * The backfill deletes only where a target row holds a unique value the source has moved to a row of
 * the chunk and its key is gone from the source ({@link io.dualwrite.mapping.UniqueMoves}); a holder
 * still in the source is written in its current state with the chunk.
 *
 * <p>Into PostgreSQL a chunk is written through {@code COPY} ({@link io.dualwrite.backfill.BackfillConfig#postgresCopy()},
 * on by default; {@link io.dualwrite.jdbc.TableOps#copyUpsert}): the rows whose keys the target lacks straight into
 * the table when it holds few of the chunk's key span (the others by the batched upsert), else into a temporary
 * staging table merged by the batched upsert's own guarded statement, in the same target transaction and under the
 * same source lock. A chunk that fails there (a bad value) is written the
 * batched way, which records its failing rows; a value without an exact COPY text sends the table the batched way
 * for the rest of the job. Into MariaDB or MySQL through MariaDB Connector/J the same holds for {@code LOAD DATA
 * LOCAL INFILE} ({@link io.dualwrite.backfill.BackfillConfig#mariadbLoadData()}, {@link
 * io.dualwrite.jdbc.TableOps#loadDataUpsert}), where a load that leaves a warning counts as failed; a target that
 * refuses {@code LOCAL INFILE} is said once at WARN, and every chunk goes batched.
 *
 * <p>It copies only while the source is the primary of every row: each chunk, and
 * {@code retryFailedRows}, pass a {@link io.dualwrite.backfill.BackfillGate} (the routing controller's in
 * a routing service), which refuses them in RAMP and TARGET_ONLY, where target-routed users write the
 * target first, and makes a step into RAMP wait for the chunk in flight.
 *
 * <p>Several tables: {@code startAll} runs a table once the tables it references through the target's
 * foreign keys are done (parents first), or in {@link io.dualwrite.backfill.BackfillConfig#order()} when
 * given; a cycle of foreign keys is refused naming its constraints (see {@code BackfillOrder}).
 *
 * <p>Staged plans: a {@link io.dualwrite.backfill.BackfillPlan} copies its tables in stages (a test region, a
 * window of creation times, the rest), each a backfill restricted to its rows with its own throttle and its
 * own checkpoints ({@code table@plan.stage}), held after it by gates (a reconcile of its rows, an operator's
 * approval). {@link io.dualwrite.backfill.BackfillPlanRunner} runs them on top of the runner, never a second
 * copy loop, and keeps their state in {@code dualwrite_backfill_plan} ({@code PlanStore}), changed only under
 * the rows' lock so every instance may follow every plan. A plan whose last stage has no filter covers its
 * tables, and once done marks each table's own backfill DONE ({@code BackfillRunner.closeAfterPlan}), so the
 * RAMP guard reads one status whichever way a table was copied.
 */
package io.dualwrite.backfill;
