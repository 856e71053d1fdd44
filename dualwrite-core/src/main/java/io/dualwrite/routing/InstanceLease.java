package io.dualwrite.routing;

import java.time.Duration;

/**
 * This instance's lease in the control store as the instance itself may trust it, and the promise its
 * heartbeats carry. The {@link MigrationController} writes the heartbeats and reads the store; this class
 * only keeps the account, so that admissions, commits and backfill chunks all judge the lease the same way.
 *
 * <p>Contract:
 * <ul>
 * <li>{@link #valid()} is true only until three quarters of the lease after the start of the last
 *     heartbeat write that succeeded, by this JVM's monotonic clock. The others count this instance out
 *     at the expiry it wrote (its wall clock plus the lease) read by their wall clocks; so, as long as
 *     wall clocks differ by less than a quarter of the lease, this instance stops trusting its lease before
 *     anyone may count it out.</li>
 * <li>{@link #promised()} is true whenever the store may hold a heartbeat of this instance that promised
 *     to fence itself: it turns true before such a heartbeat is sent, and false only once a heartbeat
 *     withdrawing the promise has been written (a failed write may have landed, so it proves nothing).</li>
 * <li>{@link #stamp()}, taken when a transaction is admitted, and {@link #mayHaveBeenCountedOutSince}
 *     tell whether the others may have counted this instance out at any moment since: the lease lapsed
 *     while a promise was (or may have been) in the store, even if it has been renewed since.</li>
 * </ul>
 */
final class InstanceLease {

    private final long trustNanos;
    /** Written after {@link #promisedLapses}, read before it: seeing a renewal means seeing its count. */
    private volatile long validUntilNanos;
    private volatile long promisedLapses;
    private volatile boolean promised;
    private boolean renewedBefore;

    InstanceLease(Duration lease) {
        this.trustNanos = lease.toNanos() * 3 / 4;
        this.validUntilNanos = System.nanoTime() - 1;
    }

    /**
     * Call just before a heartbeat is sent.
     *
     * @param promise whether the heartbeat promises that this instance fences itself when its lease lapses
     * @return the {@link System#nanoTime()} from which the lease runs if the write succeeds
     */
    long beforeWrite(boolean promise) {
        if (promise) {
            promised = true;
        }
        return System.nanoTime();
    }

    /**
     * Call once a heartbeat written from {@code startedNanos} succeeded and whatever was read after it is in
     * force.
     *
     * @param startedNanos what {@link #beforeWrite} returned
     * @param promise what the heartbeat said
     * @return whether the lease had lapsed before this renewal
     */
    synchronized boolean renewed(long startedNanos, boolean promise) {
        boolean lapsed = !valid();
        // The first lease follows no lease of this instance that anyone could have counted out.
        if (lapsed && promised && renewedBefore) {
            promisedLapses++;
        }
        renewedBefore = true;
        validUntilNanos = startedNanos + trustNanos;
        if (!promise) {
            promised = false;
        }
        return lapsed;
    }

    /** @return whether the lease is still valid by this instance's own clock */
    boolean valid() {
        return System.nanoTime() - validUntilNanos < 0;
    }

    /** @return whether the store may hold a heartbeat of this instance that promised to fence itself */
    boolean promised() {
        return promised;
    }

    /** @return a stamp to keep with an admission, for {@link #mayHaveBeenCountedOutSince} */
    long stamp() {
        return promisedLapses;
    }

    /**
     * @param stamp what {@link #stamp()} returned when the transaction was admitted
     * @return whether another instance may have counted this one out at some moment since, and so activated
     *     a step this one has not seen
     */
    boolean mayHaveBeenCountedOutSince(long stamp) {
        boolean validNow = valid();
        return promisedLapses != stamp || (!validNow && promised);
    }
}
