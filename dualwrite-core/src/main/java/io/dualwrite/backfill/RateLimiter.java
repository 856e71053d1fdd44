package io.dualwrite.backfill;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneId;
import java.util.Map;

/**
 * A token bucket in rows per second whose rate follows an hour-of-day table. The bucket holds at most
 * one second of tokens, so a pause does not turn into a burst; a chunk larger than the bucket goes
 * into debt and waits it off. Time comes from a {@link Clock}, so tests run it without sleeping.
 */
final class RateLimiter {

    private final long defaultRate;
    private final Map<Integer, Long> hourly;
    private final Clock clock;
    private final ZoneId zone;
    private double tokens;
    private Instant last;

    RateLimiter(long defaultRate, Map<Integer, Long> hourly, Clock clock, ZoneId zone) {
        this.defaultRate = defaultRate;
        this.hourly = hourly;
        this.clock = clock;
        this.zone = zone;
    }

    /** @return the rows per second allowed now; 0 means unlimited */
    long rateNow() {
        int hour = clock.instant().atZone(zone).getHour();
        return hourly.getOrDefault(hour, defaultRate);
    }

    /**
     * Takes tokens for {@code rows} rows.
     *
     * @return nanoseconds the caller must wait before copying them; 0 when it may go at once
     */
    synchronized long reserve(int rows) {
        long rate = rateNow();
        Instant now = clock.instant();
        if (rate <= 0) {
            last = now;
            tokens = 0;
            return 0;
        }
        if (last == null) {
            last = now;
            tokens = rate;
        }
        double elapsed = Math.max(0, java.time.Duration.between(last, now).toNanos() / 1e9);
        tokens = Math.min(rate, tokens + elapsed * rate);
        last = now;
        tokens -= rows;
        return tokens >= 0 ? 0 : (long) (-tokens / rate * 1e9);
    }

    /**
     * Gives back the tokens of rows that were reserved but not copied: a chunk that gave way to a writer's
     * lock, lost its connection, or came back shorter than asked. Without it a backfill under contention runs
     * below its limit. The bucket still holds at most one second of tokens.
     *
     * @param rows rows reserved and not copied
     */
    synchronized void refund(int rows) {
        long rate = rateNow();
        if (rows <= 0 || rate <= 0 || last == null) {
            return;
        }
        tokens = Math.min(rate, tokens + rows);
    }
}
