/**
 * Incremental-only migration for data that expires (coupons, sessions, notifications): no backfill and
 * no mirror. New rows are created in the target; rows that existed before the switch stay in the source
 * and are updated there until they expire; reads query both stores and merge by key; once the source
 * holds no live row any more it can be archived.
 *
 * <p>Entry type: {@link io.dualwrite.expiring.IncrementalMigration}, one per pair of stores, configured
 * with an {@link io.dualwrite.expiring.ExpiringTable} per table. Which store holds a row is decided by the
 * row alone: by a key boundary (keys above it are new) or by a creation-time cut-over. Because no row is
 * ever copied, a key lives in exactly one store, and the merged read needs no version rule.
 *
 * <p>What it must never do: write a row to the store that does not hold it (an update of an old row goes
 * to the source even after the switch); copy or delete rows between the stores; treat a table the mirror
 * also maps as expiring (the two strategies would disagree about where a row lives).
 */
package io.dualwrite.expiring;
