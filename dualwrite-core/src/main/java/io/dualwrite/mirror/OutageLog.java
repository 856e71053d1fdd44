package io.dualwrite.mirror;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.DualWriteEventListener;
import io.dualwrite.jdbc.RowKey;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * What an operator reads in the log when a mirror's applies fail: a WARN line when they start failing
 * (the table, a key, the cause), one per interval while they go on failing (keys pending, the oldest
 * change's age, the last failure), an INFO line when an apply succeeds again (with what is still pending,
 * draining from then on), and a WARN line when a key is parked (its table, key and cause). The failing
 * attempts themselves are events and metrics, not log lines, so an outage is three kinds of line, not a
 * stream of driver stack traces.
 *
 * <p>Rate limit: at most one WARN line per interval. A key that keeps failing while other keys apply (a row
 * the target refuses) ends and starts a failure with every retry; after the first line, its failures and
 * the keys parked in that interval are counted, and the next line says how many went unlogged. The
 * recovery line follows only a failure whose start was logged. Every parked key still gets its own line
 * on {@link Failures#DEAD_LETTER}, for replay.
 *
 * <p>It listens to the mirror's own events (the lanes and the outbox relay publish them); a mirror lock
 * conflict ({@link DualWriteEvent.ApplyDeferred}) is the NOWAIT read giving way, not a failure.
 */
final class OutageLog implements DualWriteEventListener {

    private static final Log log = LogFactory.getLog(Mirror.class);

    private final String name;
    private final LongSupplier pending;
    private final Supplier<Duration> lag;
    private final long intervalNanos;
    private volatile boolean failing;
    private volatile long sinceNanos;
    private boolean startLogged;
    private boolean anyLine;
    private long lastLineNanos;
    private long failedAttempts;
    private long unloggedFailures;
    private long unloggedParked;
    private String lastError = "";
    private String lastWhere = "";

    /**
     * @param name the mirror, as the log names it, e.g. {@code "mirror MARIADB -> POSTGRESQL"}
     * @param pending the keys waiting to be applied
     * @param lag the age of the oldest change not applied yet
     * @param interval the shortest time between two WARN lines
     */
    OutageLog(String name, LongSupplier pending, Supplier<Duration> lag, Duration interval) {
        this.name = name;
        this.pending = pending;
        this.lag = lag;
        this.intervalNanos = interval.toNanos();
    }

    @Override
    public synchronized void onEvent(DualWriteEvent event) {
        long now = System.nanoTime();
        if (event instanceof DualWriteEvent.ApplyFailed failed) {
            failedAttempts++;
            lastError = Failures.describe(failed.cause());
            lastWhere = where(failed.table(), failed.firstKey(), failed.keys());
            if (!failing) {
                sinceNanos = now;
                failing = true;
                startLogged = false;
            }
            if (!startLogged) {
                if (mayLog(now)) {
                    startLogged = true;
                    log.warn("dualwrite " + name + " cannot apply changes of " + lastWhere + ": " + lastError
                            + ". The application's writes go on; their changes wait and are retried, and this log says"
                            + " when the mirror has caught up" + unlogged());
                } else {
                    unloggedFailures++;
                }
            } else if (mayLog(now)) {
                log.warn("dualwrite " + name + " still failing after " + seconds(now - sinceNanos) + ": "
                        + pending.getAsLong() + " keys pending, oldest change " + seconds(lag.get().toNanos())
                        + " old, " + failedAttempts + " failed attempts; last error on " + lastWhere + ": " + lastError
                        + unlogged());
            }
        } else if (event instanceof DualWriteEvent.KeyParked parked) {
            if (mayLog(now)) {
                log.warn("dualwrite " + name + " parked " + where(parked.table(), parked.key(), 1) + ": "
                        + parked.reason() + ". It stays out of sync until the reconciler repairs it; every parked key is"
                        + " listed on the dualwrite.deadletter log" + unlogged());
            } else {
                unloggedParked++;
            }
        } else if (failing && event instanceof DualWriteEvent.ChangesApplied) {
            // The first apply that succeeds ends the failure; what waited drains from here at full speed.
            failing = false;
            if (startLogged) {
                log.info("dualwrite " + name + " applies changes again after " + seconds(now - sinceNanos)
                        + " of failures (" + failedAttempts + " failed attempts); " + pending.getAsLong()
                        + " keys still pending, catching up (lag and queue in the metrics and the endpoint)");
            }
            failedAttempts = 0;
        }
    }

    /** Whether a WARN line may be written now; if so, the caller writes one, and it counts from now. */
    private boolean mayLog(long now) {
        if (anyLine && now - lastLineNanos < intervalNanos) {
            return false;
        }
        anyLine = true;
        lastLineNanos = now;
        return true;
    }

    /** What the rate limit kept out of the log since the last line, and resets the counts. */
    private String unlogged() {
        if (unloggedFailures == 0 && unloggedParked == 0) {
            return "";
        }
        String said = " (not logged since the last line: " + unloggedFailures + " failed attempts, " + unloggedParked
                + " parked keys)";
        unloggedFailures = 0;
        unloggedParked = 0;
        return said;
    }

    private static String where(String table, RowKey key, int keys) {
        String where = "table '" + table + "'";
        if (key == null) {
            return where + " (" + keys + (keys == 1 ? " key)" : " keys)");
        }
        return where + ", key " + key + (keys > 1 ? " and " + (keys - 1) + " more" : "");
    }

    /** @return whether applies are failing now */
    boolean failing() {
        return failing;
    }

    /** @return how long applies have failed without one succeeding; zero while they succeed */
    Duration failingFor() {
        return failing ? Duration.ofNanos(Math.max(0, System.nanoTime() - sinceNanos)) : Duration.ZERO;
    }

    /** @return what the log last said of a failure that has not ended, or empty when applies succeed */
    synchronized Optional<String> currentFailure() {
        return failing ? Optional.of("failing for " + seconds(System.nanoTime() - sinceNanos) + " ("
                + failedAttempts + " attempts), last on " + lastWhere + ": " + lastError) : Optional.empty();
    }

    private static String seconds(long nanos) {
        return Duration.ofNanos(nanos).toSeconds() + " s";
    }
}
