package io.dualwrite.mirror;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/** Backoff and the dead-letter log, shared by the lanes and the outbox relay. */
final class Failures {

    /** The logger parked keys are written to, one line each, for operators to alert on and replay. */
    static final Log DEAD_LETTER = LogFactory.getLog("dualwrite.deadletter");

    private Failures() {
    }

    /** Exponential backoff with full jitter in the upper half, so that instances do not retry in step. */
    static long backoffNanos(int attempt, Duration initial, Duration max) {
        long base = initial.toNanos();
        long capped = max.toNanos();
        int doublings = Math.max(0, Math.min(attempt - 1, 62));
        // Doubling saturates at the cap: a shifted long past 2^63 would turn negative (10 s shifted 30 times does).
        long delay = base > (capped >> doublings) ? capped : Math.min(capped, base << doublings);
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    static String describe(Throwable failure) {
        String message = failure.getMessage();
        return failure.getClass().getSimpleName() + (message == null ? "" : ": " + message.replace('\n', ' '));
    }
}
