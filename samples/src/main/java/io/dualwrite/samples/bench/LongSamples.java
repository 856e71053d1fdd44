package io.dualwrite.samples.bench;

import java.util.Arrays;
import java.util.List;

/**
 * Every sample of one measurement (nanoseconds), kept whole rather than bucketed: a run records at
 * most a few hundred thousand values, so exact percentiles cost a few megabytes and one sort.
 * Not thread-safe; each worker fills its own and they are merged afterwards.
 */
final class LongSamples {

    private long[] values;
    private int size;
    private boolean sorted;

    LongSamples() {
        this(1024);
    }

    LongSamples(int initialCapacity) {
        values = new long[Math.max(16, initialCapacity)];
    }

    void add(long value) {
        if (size == values.length) {
            values = Arrays.copyOf(values, values.length * 2);
        }
        values[size++] = value;
        sorted = false;
    }

    void addAll(LongSamples other) {
        if (size + other.size > values.length) {
            values = Arrays.copyOf(values, Math.max(values.length * 2, size + other.size));
        }
        System.arraycopy(other.values, 0, values, size, other.size);
        size += other.size;
        sorted = false;
    }

    static LongSamples merge(List<LongSamples> parts) {
        int total = parts.stream().mapToInt(LongSamples::size).sum();
        LongSamples merged = new LongSamples(total);
        parts.forEach(merged::addAll);
        return merged;
    }

    int size() {
        return size;
    }

    /**
     * The nearest-rank percentile: the smallest sample that at least {@code p} percent of the samples
     * do not exceed.
     *
     * @param p the percentile, 0 < p <= 100
     * @return the sample, or -1 when there are none
     */
    long percentile(double p) {
        if (size == 0) {
            return -1;
        }
        sort();
        int rank = (int) Math.ceil(p / 100.0 * size);
        return values[Math.min(size, Math.max(1, rank)) - 1];
    }

    long max() {
        return percentile(100);
    }

    private void sort() {
        if (!sorted) {
            Arrays.sort(values, 0, size);
            sorted = true;
        }
    }

    /**
     * Calls {@code call} back to back for {@code seconds} and keeps each call's wall time.
     *
     * @param seconds how long to keep calling
     * @param call the timed call
     * @return the samples, in nanoseconds
     */
    static LongSamples timed(int seconds, Runnable call) {
        LongSamples samples = new LongSamples(16_384);
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        long now = System.nanoTime();
        while (now < end) {
            call.run();
            long after = System.nanoTime();
            samples.add(after - now);
            now = after;
        }
        return samples;
    }
}
