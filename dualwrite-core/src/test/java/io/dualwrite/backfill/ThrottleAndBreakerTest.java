package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Throttling, hour-of-day limits and the error breaker, on a fake clock: nothing sleeps. */
class ThrottleAndBreakerTest {

    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-22T10:00:00Z"));

    @Test
    void reserve_unlimited_neverWaits() {
        RateLimiter limiter = new RateLimiter(0, Map.of(), clock, ZoneOffset.UTC);
        assertThat(limiter.reserve(1_000_000)).isZero();
        assertThat(limiter.reserve(1_000_000)).isZero();
    }

    @Test
    void reserve_beyondTheBucket_waitsForTheDebtAtTheConfiguredRate() {
        RateLimiter limiter = new RateLimiter(1_000, Map.of(), clock, ZoneOffset.UTC);
        assertThat(limiter.reserve(1_000)).as("one second of tokens to start").isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(limiter.reserve(500))).isEqualTo(500);
        clock.advance(Duration.ofMillis(500));
        assertThat(TimeUnit.NANOSECONDS.toMillis(limiter.reserve(250))).as("debt paid, 250 more rows")
                .isEqualTo(250);
    }

    @Test
    void reserve_afterALongPause_doesNotBurstBeyondOneSecond() {
        RateLimiter limiter = new RateLimiter(100, Map.of(), clock, ZoneOffset.UTC);
        limiter.reserve(100);
        clock.advance(Duration.ofHours(1));
        assertThat(limiter.reserve(100)).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(limiter.reserve(100))).isEqualTo(1_000);
    }

    /** A chunk that gave way to a writer copied nothing: its tokens must not slow the next one. */
    @Test
    void refund_ofRowsNotCopied_shortensTheNextWait_butNeverFillsBeyondOneSecond() {
        RateLimiter limiter = new RateLimiter(1_000, Map.of(), clock, ZoneOffset.UTC);
        assertThat(limiter.reserve(1_000)).isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(limiter.reserve(500))).isEqualTo(500);
        limiter.refund(500);
        assertThat(TimeUnit.NANOSECONDS.toMillis(limiter.reserve(500))).as("the refunded chunk tried again")
                .isEqualTo(500);
        limiter.refund(5_000);
        assertThat(limiter.reserve(1_000)).as("a full bucket").isZero();
        assertThat(TimeUnit.NANOSECONDS.toMillis(limiter.reserve(1))).as("and no more than one second of it")
                .isEqualTo(1);
    }

    @Test
    void rateNow_followsTheHourOfDayTable() {
        RateLimiter limiter = new RateLimiter(5_000, Map.of(7, 1_000L, 12, 500L, 22, 10_000L), clock,
                ZoneOffset.UTC);
        clock.set(Instant.parse("2026-11-22T07:30:00Z"));
        assertThat(limiter.rateNow()).isEqualTo(1_000);
        clock.set(Instant.parse("2026-11-22T12:59:59Z"));
        assertThat(limiter.rateNow()).isEqualTo(500);
        clock.set(Instant.parse("2026-11-22T22:00:00Z"));
        assertThat(limiter.rateNow()).isEqualTo(10_000);
        clock.set(Instant.parse("2026-11-22T15:00:00Z"));
        assertThat(limiter.rateNow()).as("no entry: the default").isEqualTo(5_000);
    }

    @Test
    void reserve_atNoonLimit_waitsLongerThanAtNight() {
        RateLimiter limiter = new RateLimiter(0, Map.of(12, 500L, 22, 10_000L), clock, ZoneOffset.UTC);
        clock.set(Instant.parse("2026-11-22T12:00:00Z"));
        limiter.reserve(500);
        long noon = limiter.reserve(1_000);
        clock.set(Instant.parse("2026-11-22T22:00:00Z"));
        limiter.reserve(10_000);
        long night = limiter.reserve(1_000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(noon)).isEqualTo(2_000);
        assertThat(TimeUnit.NANOSECONDS.toMillis(night)).isEqualTo(100);
    }

    @Test
    void breaker_tripsWhenTheFailedShareOfTheWindowExceedsTheLimit() {
        ErrorBreaker breaker = new ErrorBreaker(1_000, 0.05);
        assertThat(breaker.record(950, 40)).isFalse();
        assertThat(breaker.record(0, 15)).as("55 of the last 1,000").isTrue();
        assertThat(breaker.rate()).isEqualTo(0.055);
    }

    @Test
    void breaker_forgetsFailuresThatLeftTheWindow() {
        ErrorBreaker breaker = new ErrorBreaker(100, 0.10);
        assertThat(breaker.record(0, 9)).isFalse();
        assertThat(breaker.record(91, 0)).isFalse();
        assertThat(breaker.record(50, 0)).isFalse();
        assertThat(breaker.rate()).as("the 9 failures slid out").isZero();
    }

    @Test
    void breaker_doesNotTripOnTheVeryFirstBadRow() {
        ErrorBreaker breaker = new ErrorBreaker(1_000, 0.05);
        assertThat(breaker.record(0, 1)).isFalse();
        assertThat(breaker.record(99, 9)).as("a tenth of the window seen, 10 of 109 failed").isTrue();
    }

    @Test
    void config_badValues_nameTheSetting() {
        assertThatThrownBy(() -> BackfillConfig.builder().rowsPerSecond(-1))
                .hasMessage("dualwrite.backfill.rows-per-second: must not be negative, was -1");
        assertThatThrownBy(() -> BackfillConfig.builder().chunkSize(0))
                .hasMessage("dualwrite.backfill.chunk-size: must be between 1 and 1000000, was 0");
        assertThatThrownBy(() -> BackfillConfig.builder().hourlyLimit(24, 10))
                .hasMessageContaining("dualwrite.backfill.hourly-limits");
        assertThatThrownBy(() -> BackfillConfig.builder().hourlyLimit(7, 0))
                .hasMessage("dualwrite.backfill.hourly-limits.07: must be positive, was 0");
        assertThatThrownBy(() -> BackfillConfig.builder().chunkSizeBounds(500, 100))
                .hasMessageContaining("min-chunk-size (500) exceeds dualwrite.backfill.max-chunk-size (100)");
        assertThatThrownBy(() -> BackfillConfig.builder().chunkSize(50_000).build())
                .hasMessageContaining("dualwrite.backfill.chunk-size (50000) must lie within the chunk size bounds");
        assertThatThrownBy(() -> BackfillConfig.builder().where("t_order", "1 = 1; DROP TABLE t_order"))
                .hasMessageContaining("dualwrite.backfill.tables.t_order.where");
        assertThatThrownBy(() -> BackfillConfig.builder().errorBreaker(100, 1.5))
                .hasMessageContaining("dualwrite.backfill.breaker.max-error-rate");
        assertThatThrownBy(() -> BackfillConfig.builder().timeWindow("t_order", "gmt_create", null, null))
                .hasMessageContaining("dualwrite.backfill.tables.t_order.time-window");
    }
}
