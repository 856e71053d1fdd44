package io.dualwrite.verify;

import java.time.Clock;

/**
 * A token bucket in rows per second holding at most one second of tokens, so a pause never turns into a
 * burst; a chunk larger than the bucket goes into debt and waits it off.
 */
final class Throttle {

    private final long rate;
    private final Clock clock;
    private double tokens;
    private long last = Long.MIN_VALUE;

    Throttle(long rowsPerSecond, Clock clock) {
        this.rate = rowsPerSecond;
        this.clock = clock;
    }

    /** @return milliseconds to wait before going on after {@code rows} rows; 0 without a limit */
    synchronized long take(int rows) {
        if (rate <= 0) {
            return 0;
        }
        long now = clock.millis();
        if (last == Long.MIN_VALUE) {
            last = now;
            tokens = rate;
        }
        tokens = Math.min(rate, tokens + Math.max(0, now - last) / 1000.0 * rate);
        last = now;
        tokens -= rows;
        return tokens >= 0 ? 0 : (long) Math.ceil(-tokens / rate * 1000);
    }
}
