package io.dualwrite.mirror;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.DualWriteEventListener;
import java.time.Duration;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * What an operator reads in the log while the other store is down: one line when a mirror's applies
 * start failing, one a minute while they go on failing (keys pending, the oldest change's age, the last
 * error), and one when an apply succeeds again (with what is still pending, draining from then on). The failing
 * attempts themselves are events and metrics, not log lines, so an outage is three kinds of line, not a
 * stream of driver stack traces.
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
    private long sinceNanos;
    private long lastLineNanos;
    private long failedAttempts;
    private String lastError = "";

    /**
     * @param name the mirror, as the log names it, e.g. {@code "mirror MARIADB -> POSTGRESQL"}
     * @param pending the keys waiting to be applied
     * @param lag the age of the oldest change not applied yet
     * @param interval how often a line repeats while the failure lasts
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
            if (!failing) {
                failing = true;
                sinceNanos = now;
                lastLineNanos = now;
                log.warn("dualwrite " + name + " cannot apply changes: " + lastError + ". The application's writes go"
                        + " on; their changes wait and are retried, and this log says when the mirror has caught up");
            } else if (now - lastLineNanos >= intervalNanos) {
                lastLineNanos = now;
                log.warn("dualwrite " + name + " still failing after " + seconds(now - sinceNanos) + ": "
                        + pending.getAsLong() + " keys pending, oldest change " + seconds(lag.get().toNanos())
                        + " old, " + failedAttempts + " failed attempts; last error: " + lastError);
            }
        } else if (failing && event instanceof DualWriteEvent.ChangesApplied) {
            // The first apply that succeeds ends the outage; what waited drains from here at full speed.
            failing = false;
            log.info("dualwrite " + name + " applies changes again after " + seconds(now - sinceNanos)
                    + " of failures (" + failedAttempts + " failed attempts); " + pending.getAsLong()
                    + " keys still pending, catching up (lag and queue in the metrics and the endpoint)");
            failedAttempts = 0;
        }
    }

    /** @return whether applies are failing now */
    boolean failing() {
        return failing;
    }

    /** @return what the log last said of a failure that has not ended, or empty when applies succeed */
    synchronized java.util.Optional<String> currentFailure() {
        return failing ? java.util.Optional.of("failing for " + seconds(System.nanoTime() - sinceNanos) + " ("
                + failedAttempts + " attempts): " + lastError) : java.util.Optional.empty();
    }

    private static String seconds(long nanos) {
        return Duration.ofNanos(nanos).toSeconds() + " s";
    }
}
