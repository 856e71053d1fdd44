package io.dualwrite.cdc;

import java.util.ArrayDeque;
import java.util.OptionalLong;
import java.util.function.LongConsumer;
import java.util.function.Supplier;

/**
 * The low watermark of the log reader: the log position up to which every key read has been applied.
 *
 * <p>Each transaction that changed mapped rows is handed to the mirror at a {@link System#nanoTime()}
 * reading, and remembered here as (that reading, the position after its commit). The mirror's lanes keep,
 * for every key they hold, the earliest hand-over time of its waiting changes; so while any key of a
 * transaction waits, the lanes' oldest time is at or below that transaction's, and a transaction whose
 * time is below the lanes' oldest has had all its keys applied (or spilled to the durable outbox, or
 * parked for the reconciler). The watermark moves to the position of the last such transaction in log
 * order, never past one that still waits, so a reader restarted from it misses nothing: it reads again at
 * most the transactions after it, whose keys the apply then reads a second time, harmlessly.
 *
 * <p>Transactions without mapped changes hold nothing back: they move the last remembered position
 * forward, or the watermark itself when nothing waits. Used by the reader thread and the checkpoint
 * thread; every method is synchronized.
 */
final class Watermark {

    private static final class Entry {
        final long handedAtNanos;
        LogPosition after;

        Entry(long handedAtNanos, LogPosition after) {
            this.handedAtNanos = handedAtNanos;
            this.after = after;
        }
    }

    private final ArrayDeque<Entry> waiting = new ArrayDeque<>();
    private LogPosition safe;
    private long lastHandedNanos = Long.MIN_VALUE;

    Watermark(LogPosition start) {
        this.safe = start;
    }

    /**
     * Hands a transaction's keys over and remembers it, under this object's lock so that {@link #advance}
     * never reads the lanes between the hand-over and the remembering (it would see neither the keys nor
     * the transaction, and pass it).
     *
     * @param after the position after the transaction's commit
     * @param handOver called with the hand-over time, strictly after the previous one, so that two
     *     transactions never share a time
     */
    synchronized void handOver(LogPosition after, LongConsumer handOver) {
        long now = System.nanoTime();
        lastHandedNanos = now > lastHandedNanos ? now : lastHandedNanos + 1;
        handOver.accept(lastHandedNanos);
        waiting.addLast(new Entry(lastHandedNanos, after));
    }

    /** A transaction without mapped changes ends at {@code after}. */
    synchronized void passed(LogPosition after) {
        if (waiting.isEmpty()) {
            safe = after;
        } else {
            waiting.peekLast().after = after;
        }
    }

    /**
     * Moves the watermark past every transaction the mirror has finished.
     *
     * @param oldestUnappliedNanos the lanes' oldest hand-over time, or empty when they hold nothing; read
     *     under this object's lock
     * @return the watermark
     */
    synchronized LogPosition advance(Supplier<OptionalLong> oldestUnappliedNanos) {
        OptionalLong oldestUnapplied = oldestUnappliedNanos.get();
        while (!waiting.isEmpty()
                && (oldestUnapplied.isEmpty() || waiting.peekFirst().handedAtNanos < oldestUnapplied.getAsLong())) {
            safe = waiting.pollFirst().after;
        }
        return safe;
    }

    /** @return the hand-over time of the oldest transaction not yet known applied, or empty */
    synchronized OptionalLong oldestWaitingNanos() {
        return waiting.isEmpty() ? OptionalLong.empty() : OptionalLong.of(waiting.peekFirst().handedAtNanos);
    }

    /** @return the watermark as last advanced */
    synchronized LogPosition safe() {
        return safe;
    }
}
