package io.dualwrite.mirror;

import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/** Classifying failures, computing backoff, and the dead-letter log. */
final class Failures {

    /** The logger parked keys are written to, one line each, for operators to alert on and replay. */
    static final Log DEAD_LETTER = LogFactory.getLog("dualwrite.deadletter");

    private Failures() {
    }

    /**
     * Whether the failure is about reaching a store rather than about the rows: then splitting a batch
     * to find a bad row would only multiply the waiting.
     */
    static boolean isConnectivity(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientConnectionException || t instanceof SQLNonTransientConnectionException
                    || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && sql.getSQLState() != null && sql.getSQLState().startsWith("08")) {
                return true;
            }
        }
        return false;
    }

    /** Exponential backoff with full jitter in the upper half, so that instances do not retry in step. */
    static long backoffNanos(int attempt, Duration initial, Duration max) {
        long base = initial.toNanos();
        long capped = max.toNanos();
        long delay = attempt >= 62 ? capped : Math.min(capped, base << Math.min(attempt - 1, 30));
        return delay / 2 + ThreadLocalRandom.current().nextLong(delay / 2 + 1);
    }

    static String describe(Throwable failure) {
        String message = failure.getMessage();
        return failure.getClass().getSimpleName() + (message == null ? "" : ": " + message.replace('\n', ' '));
    }
}
