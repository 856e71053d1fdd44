package io.dualwrite.samples.orders;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.DualWriteEventListener;
import java.time.Duration;
import java.util.Arrays;
import org.springframework.stereotype.Component;

/**
 * Keeps every mirror lag the library reports (the time from a source commit to its apply in the other
 * store, per key), for the report's percentiles. A bean implementing {@link DualWriteEventListener} is
 * all it takes for the starter to deliver the events.
 */
@Component
public class LagRecorder implements DualWriteEventListener {

    private static final int MAX_SAMPLES = 4_000_000;

    private long[] micros = new long[1 << 16];
    private int size;

    @Override
    public void onEvent(DualWriteEvent event) {
        if (event instanceof DualWriteEvent.ChangesApplied applied) {
            synchronized (this) {
                for (Duration lag : applied.lags()) {
                    if (size == micros.length) {
                        if (size == MAX_SAMPLES) {
                            return;
                        }
                        micros = Arrays.copyOf(micros, Math.min(MAX_SAMPLES, size * 2));
                    }
                    micros[size++] = lag.toNanos() / 1_000;
                }
            }
        }
    }

    /** @return a mark for {@link #since(int)} */
    public synchronized int mark() {
        return size;
    }

    /** @return the lags recorded so far */
    public Lags all() {
        return since(0);
    }

    /**
     * @param mark a value of {@link #mark()}
     * @return the lags recorded since then
     */
    public synchronized Lags since(int mark) {
        long[] sorted = Arrays.copyOfRange(micros, Math.min(mark, size), size);
        Arrays.sort(sorted);
        return new Lags(sorted.length, percentile(sorted, 0.50), percentile(sorted, 0.99),
                sorted.length == 0 ? 0 : sorted[sorted.length - 1]);
    }

    private static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return 0;
        }
        int index = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, index))];
    }

    /**
     * Mirror lag percentiles.
     *
     * @param count keys applied
     * @param p50Micros median lag in microseconds
     * @param p99Micros 99th percentile in microseconds
     * @param maxMicros the largest lag in microseconds
     */
    public record Lags(long count, long p50Micros, long p99Micros, long maxMicros) {

        @Override
        public String toString() {
            return count == 0 ? "no keys mirrored"
                    : String.format("p50 %s, p99 %s, max %s over %,d keys", millis(p50Micros), millis(p99Micros),
                            millis(maxMicros), count);
        }

        private static String millis(long micros) {
            return String.format("%.1f ms", micros / 1000.0);
        }
    }
}
