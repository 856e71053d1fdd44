package io.dualwrite.event;

import io.dualwrite.jdbc.RowKey;
import java.time.Duration;
import java.util.List;

/** Something the library did that an operator may want to count, chart or alert on. */
public sealed interface DualWriteEvent {

    /** @return the source table the event is about */
    String table();

    /**
     * A batch of changed keys reached the other store.
     *
     * @param table the source table
     * @param upserted rows written with the guarded upsert
     * @param deleted keys deleted because they are gone from the primary
     * @param lags per key, the time from the source commit to this apply's commit
     */
    record ChangesApplied(String table, int upserted, int deleted, List<Duration> lags) implements DualWriteEvent {

        /** Copies the lags. */
        public ChangesApplied {
            lags = List.copyOf(lags);
        }
    }

    /**
     * Changes of rows an operator marked as not mirrored were skipped (see {@code io.dualwrite.degrade}).
     *
     * @param table the source table
     * @param keys how many keys were skipped
     * @param by {@code mirror} (an apply skipped them) or {@code backfill} (a chunk did not copy them)
     */
    record ChangesSkipped(String table, int keys, String by) implements DualWriteEvent {
    }

    /**
     * An apply failed and will be retried, or has given up (then a {@link KeyParked} follows per key).
     *
     * @param table the source table
     * @param keys how many keys the failed apply held
     * @param attempt which attempt failed, from 1
     * @param willRetry whether another attempt is scheduled
     * @param cause what went wrong
     * @param firstKey the first of those keys, for the log to name; null when not known
     */
    record ApplyFailed(String table, int keys, int attempt, boolean willRetry, Throwable cause, RowKey firstKey)
            implements DualWriteEvent {

        /**
         * An event that names no key.
         *
         * @param table the source table
         * @param keys how many keys the failed apply held
         * @param attempt which attempt failed, from 1
         * @param willRetry whether another attempt is scheduled
         * @param cause what went wrong
         */
        public ApplyFailed(String table, int keys, int attempt, boolean willRetry, Throwable cause) {
            this(table, keys, attempt, willRetry, cause, null);
        }
    }

    /**
     * An apply was refused because a writer held a row (the NOWAIT read gave way); it is retried a
     * moment later and is not a failure.
     *
     * @param table the source table
     * @param keys how many keys the apply held
     */
    record ApplyDeferred(String table, int keys) implements DualWriteEvent {
    }

    /**
     * The backfill copied one chunk of a table.
     *
     * @param table the source table
     * @param range the key range the chunk belongs to
     * @param rows rows written to the target
     * @param failedRows rows that could not be copied and were recorded for a retry
     * @param took the time from the chunk's read to its commit
     * @param shard the physical source shard ({@code dataSource.table}) the chunk was read from, when the source
     *     table is sharded and its backfill walks each shard as a unit of work; otherwise empty
     */
    record ChunkCopied(String table, int range, int rows, int failedRows, Duration took, String shard)
            implements DualWriteEvent {

        /** A chunk of a source table that is not sharded. */
        public ChunkCopied(String table, int range, int rows, int failedRows, Duration took) {
            this(table, range, rows, failedRows, took, "");
        }
    }

    /**
     * A table's backfill changed state: started, paused (by an operator or the error breaker), resumed,
     * cancelled or finished.
     *
     * @param table the source table
     * @param status the new status
     * @param reason why, for pauses and failures; otherwise empty
     */
    record BackfillStateChanged(String table, String status, String reason) implements DualWriteEvent {
    }

    /**
     * A key gave up after its last retry: it stays out of sync until the reconciler repairs it or an
     * operator replays it.
     *
     * @param table the source table
     * @param key the key
     * @param reason the last error
     */
    record KeyParked(String table, RowKey key, String reason) implements DualWriteEvent {
    }

    /**
     * Keys the mirror's full queue could not hold were written to the outbox table instead; the outbox
     * relay applies them.
     *
     * @param table the source table
     * @param keys how many keys
     */
    record KeysSpilled(String table, int keys) implements DualWriteEvent {
    }

    /**
     * A statement wrote a mapped table in a way capture cannot attribute to keys (a multi-table update,
     * {@code INSERT ... SELECT}, a stored procedure, DDL), and ran because
     * {@code dualwrite.capture.unattributable=WARN}: the table needs a reconcile to bring the other store
     * back in line.
     *
     * @param table the source table, as named in the table mappings
     * @param sql the statement's text
     */
    record UnattributedWrite(String table, String sql) implements DualWriteEvent {
    }
}
