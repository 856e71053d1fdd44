package io.dualwrite.cdc.kafka;

import java.util.ArrayDeque;
import java.util.OptionalLong;

/**
 * The low watermark of one partition: the offset up to which every key read from it has been applied, which
 * is the offset committed for it. The same argument as {@code io.dualwrite.cdc.Watermark} for a log reader,
 * with offsets for positions: the records of a poll are handed to the mirror at one {@link System#nanoTime()}
 * reading, remembered here as (that reading, the offset after the partition's last record of the poll); the
 * mirror's oldest unapplied hand-over time stays at or below that reading while any of their keys waits, so
 * once it is above (or nothing waits) the whole poll's records of this partition are applied and the offset
 * may be committed. Records whose keys were not handed over (none mapped, or the migration not mirroring)
 * hold nothing back. Used by the consumer thread only.
 */
final class PartitionWatermark {

    private static final class Entry {
        final long handedAtNanos;
        long after;

        Entry(long handedAtNanos, long after) {
            this.handedAtNanos = handedAtNanos;
            this.after = after;
        }
    }

    private final ArrayDeque<Entry> waiting = new ArrayDeque<>();
    private long safe;
    private long committed;
    private long read;
    /** The offset of a refused record: nothing at or past it is ever marked safe. */
    private long blockedAt = -1;

    /**
     * @param start the partition's position when it was assigned (its committed offset, or where the group
     *     starts reading it)
     */
    PartitionWatermark(long start) {
        this.safe = start;
        this.committed = start;
        this.read = start;
    }

    /** Records up to {@code after} (exclusive) were handed over at {@code handedAtNanos}. */
    void handedOver(long handedAtNanos, long after) {
        read = Math.max(read, after);
        if (blockedAt >= 0) {
            return;
        }
        waiting.addLast(new Entry(handedAtNanos, after));
    }

    /** Records up to {@code after} (exclusive) carried nothing to hand over. */
    void passed(long after) {
        read = Math.max(read, after);
        if (blockedAt >= 0) {
            return;
        }
        if (waiting.isEmpty()) {
            safe = Math.max(safe, after);
        } else {
            waiting.peekLast().after = after;
        }
    }

    /** The record at {@code offset} was refused: the watermark never passes it. */
    void block(long offset) {
        if (blockedAt < 0) {
            blockedAt = offset;
        }
    }

    /** @return whether a refused record holds this partition */
    boolean blocked() {
        return blockedAt >= 0;
    }

    /**
     * Moves the watermark past every poll the mirror has finished.
     *
     * @param oldestUnapplied the mirror's oldest unapplied hand-over time, or empty when nothing waits
     * @return the watermark
     */
    long advance(OptionalLong oldestUnapplied) {
        while (!waiting.isEmpty()
                && (oldestUnapplied.isEmpty() || waiting.peekFirst().handedAtNanos < oldestUnapplied.getAsLong())) {
            safe = Math.max(safe, waiting.pollFirst().after);
        }
        if (blockedAt >= 0 && safe > blockedAt) {
            safe = blockedAt;
        }
        return safe;
    }

    /** @return the hand-over time of the oldest poll not yet known applied, or empty */
    OptionalLong oldestWaitingNanos() {
        return waiting.isEmpty() ? OptionalLong.empty() : OptionalLong.of(waiting.peekFirst().handedAtNanos);
    }

    /** @return the offset after the last record read, whether or not its keys were applied */
    long read() {
        return read;
    }

    long committed() {
        return committed;
    }

    void committed(long offset) {
        committed = offset;
    }
}
