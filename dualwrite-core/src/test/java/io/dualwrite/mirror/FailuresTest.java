package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The retry back-off: doubles from the initial delay, never beyond the cap, with jitter in its upper half. */
class FailuresTest {

    @Test
    void backoff_doublesUpToTheCap() {
        Duration initial = Duration.ofMillis(100);
        Duration max = Duration.ofSeconds(30);
        assertThat(Failures.backoffNanos(1, initial, max)).isBetween(50_000_000L, 100_000_000L);
        assertThat(Failures.backoffNanos(4, initial, max)).isBetween(400_000_000L, 800_000_000L);
        assertThat(Failures.backoffNanos(500, initial, max)).isBetween(15_000_000_000L, 30_000_000_000L);
    }

    /** 10 s doubled 30 times is past 2^63 ns: the shift turned negative and the jitter threw. */
    @Test
    void backoff_aLongInitialDelay_saturatesAtTheCap_neverOverflows() {
        Duration initial = Duration.ofSeconds(10);
        Duration max = Duration.ofMinutes(5);
        for (int attempt = 1; attempt <= 100; attempt++) {
            long delay = Failures.backoffNanos(attempt, initial, max);
            assertThat(delay).as("attempt " + attempt).isBetween(initial.toNanos() / 2, max.toNanos());
        }
        assertThat(Failures.backoffNanos(31, initial, max)).isGreaterThanOrEqualTo(max.toNanos() / 2);
    }
}
