package io.dualwrite.verify;

import io.dualwrite.mirror.Mirror;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * This instance's mirrors, waited for before the reconciler reports a difference: a row the application
 * changed moments before the comparison may still wait in a mirror's lane (ASYNC) or outbox, and that is lag,
 * not drift. The reconciler reads such a row again once every change committed before its first reading has
 * been applied here, or once the wait ran out (changes of other instances are covered only by the pause that
 * comes before the wait).
 */
@FunctionalInterface
public interface MirrorCatchUp {

    /**
     * Waits until every change committed up to a moment has been applied (or parked).
     *
     * @param committedUpToNanos a {@link System#nanoTime()} reading
     * @param timeout the longest wait
     * @return true once nothing older is left, false on timeout
     * @throws InterruptedException if interrupted while waiting
     */
    boolean awaitAppliedUpTo(long committedUpToNanos, Duration timeout) throws InterruptedException;

    /** @return no mirror to wait for: the reconciler's pause alone */
    static MirrorCatchUp none() {
        return (committedUpToNanos, timeout) -> true;
    }

    /**
     * @param mirrors the instance's mirrors, e.g. the forward and the reverse one
     * @return a catch-up that waits for each in turn, within one timeout
     */
    static MirrorCatchUp of(Mirror... mirrors) {
        List<Mirror> all = List.of(mirrors);
        all.forEach(mirror -> Objects.requireNonNull(mirror, "mirror"));
        return (committedUpToNanos, timeout) -> {
            long deadline = System.nanoTime() + timeout.toNanos();
            for (Mirror mirror : all) {
                Duration left = Duration.ofNanos(Math.max(0, deadline - System.nanoTime()));
                if (!mirror.awaitAppliedUpTo(committedUpToNanos, left)) {
                    return false;
                }
            }
            return true;
        };
    }
}
