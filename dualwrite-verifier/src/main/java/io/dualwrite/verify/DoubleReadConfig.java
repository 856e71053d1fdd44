package io.dualwrite.verify;

import io.dualwrite.config.Settings;
import io.dualwrite.routing.Route;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The settings of {@link DoubleReader}: how many reads to sample, how hard the comparison may work, how lag
 * is told from a mismatch, how loud mismatches are, and whether they are repaired. Immutable; built by
 * {@link #builder()}, checked setting by setting and as a whole in {@link Builder#build()}.
 */
public final class DoubleReadConfig {

    private final double sampleRate;
    private final Map<String, Double> tableSampleRates;
    private final Duration recentlyComparedFor;
    private final long recentlyComparedKeys;
    private final int threads;
    private final int queueCapacity;
    private final Duration lagRecheckDelay;
    private final int lagRechecks;
    private final int mismatchLinesPerMinute;
    private final boolean repair;
    private final Repairer repairer;
    private final Supplier<Route> currentRoute;
    private final LongSupplier routingVersion;
    private final java.util.function.Predicate<String> comparing;
    private final IgnoredRows ignoredRows;
    private final ComparisonRules rules;
    private final ObservationRegistry observationRegistry;

    private DoubleReadConfig(Builder b) {
        this.sampleRate = b.sampleRate;
        this.tableSampleRates = Collections.unmodifiableMap(new LinkedHashMap<>(b.tableSampleRates));
        this.recentlyComparedFor = b.recentlyComparedFor;
        this.recentlyComparedKeys = b.recentlyComparedKeys;
        this.threads = b.threads;
        this.queueCapacity = b.queueCapacity;
        this.lagRecheckDelay = b.lagRecheckDelay;
        this.lagRechecks = b.lagRechecks;
        this.mismatchLinesPerMinute = b.mismatchLinesPerMinute;
        this.repair = b.repair;
        this.repairer = b.repairer;
        this.currentRoute = b.currentRoute;
        this.routingVersion = b.routingVersion;
        this.comparing = b.comparing;
        this.ignoredRows = b.ignoredRows;
        this.rules = b.rules;
        this.observationRegistry = b.observationRegistry;
    }

    /** @return a new builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the defaults: 1% of reads, no repair */
    public static DoubleReadConfig defaults() {
        return builder().build();
    }

    /**
     * @param table a source table
     * @return the share of its reads compared, 0..1
     */
    public double sampleRate(String table) {
        return tableSampleRates.getOrDefault(table.toLowerCase(Locale.ROOT), sampleRate);
    }

    /** @return how long a compared key is skipped by later samples; default 1 minute */
    public Duration recentlyComparedFor() {
        return recentlyComparedFor;
    }

    /** @return how many recently compared keys are remembered; default 100,000 */
    public long recentlyComparedKeys() {
        return recentlyComparedKeys;
    }

    /** @return comparison threads; default 1 */
    public int threads() {
        return threads;
    }

    /** @return comparisons that may wait for a thread before new ones are dropped; default 1,000 */
    public int queueCapacity() {
        return queueCapacity;
    }

    /** @return the wait before a possible-lag difference is compared again; default 2 s */
    public Duration lagRecheckDelay() {
        return lagRecheckDelay;
    }

    /** @return how many times a possible-lag difference is compared again before it is reported; default 3 */
    public int lagRechecks() {
        return lagRechecks;
    }

    /** @return mismatch lines written per table per minute; default 60 */
    public int mismatchLinesPerMinute() {
        return mismatchLinesPerMinute;
    }

    /** @return whether confirmed mismatches are repaired; default false */
    public boolean repair() {
        return repair;
    }

    /** @return the repairer, or {@code null} when none is set */
    public Repairer repairer() {
        return repairer;
    }

    /** @return the current request's route, asked on the caller's thread; default always SOURCE */
    public Supplier<Route> currentRoute() {
        return currentRoute;
    }

    /** @return the version of the routing this instance routes by; default always 0 */
    public LongSupplier routingVersion() {
        return routingVersion;
    }

    /** @return rows left alone: neither counted, logged nor repaired; default none */
    public IgnoredRows ignoredRows() {
        return ignoredRows;
    }

    /**
     * @return whether a table's reads are compared at all right now (by default always): not before its
     *     changes are mirrored and its history copied, when every difference would be expected
     */
    public java.util.function.Predicate<String> comparing() {
        return comparing;
    }

    /** @return the comparison rules */
    public ComparisonRules rules() {
        return rules;
    }

    /**
     * @return where each comparison is observed ({@value VerifyMetrics#DOUBLE_READ_OBSERVATION}); default
     *     {@link ObservationRegistry#NOOP}
     */
    public ObservationRegistry observationRegistry() {
        return observationRegistry;
    }

    /** Builds a {@link DoubleReadConfig}. */
    public static final class Builder {

        private double sampleRate = 0.01;
        private final Map<String, Double> tableSampleRates = new LinkedHashMap<>();
        private Duration recentlyComparedFor = Duration.ofMinutes(1);
        private long recentlyComparedKeys = 100_000;
        private int threads = 1;
        private int queueCapacity = 1_000;
        private Duration lagRecheckDelay = Duration.ofSeconds(2);
        private int lagRechecks = 3;
        private int mismatchLinesPerMinute = 60;
        private boolean repair;
        private Repairer repairer;
        private Supplier<Route> currentRoute = () -> Route.SOURCE;
        private LongSupplier routingVersion = () -> 0L;
        private java.util.function.Predicate<String> comparing = table -> true;
        private IgnoredRows ignoredRows = IgnoredRows.none();
        private ComparisonRules rules = ComparisonRules.defaults();
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

        private Builder() {
        }

        /**
         * Sets the share of reads compared, for every table without a rate of its own.
         *
         * @param rate 0 (none) to 1 (every read)
         * @return this builder
         * @throws IllegalArgumentException if outside 0..1
         */
        public Builder sampleRate(double rate) {
            this.sampleRate = rate("dualwrite.verify.sample-rate", rate);
            return this;
        }

        /**
         * Sets the share of one table's reads compared.
         *
         * @param table the source table
         * @param rate 0 (none) to 1 (every read)
         * @return this builder
         * @throws IllegalArgumentException if outside 0..1 or the table is blank
         */
        public Builder sampleRate(String table, double rate) {
            if (table == null || table.isBlank()) {
                throw new IllegalArgumentException("dualwrite.verify.tables.<table>.sample-rate: the table is blank");
            }
            tableSampleRates.put(table.toLowerCase(Locale.ROOT),
                    rate("dualwrite.verify.tables." + table + ".sample-rate", rate));
            return this;
        }

        private static double rate(String property, double rate) {
            if (!(rate >= 0 && rate <= 1)) {
                throw new IllegalArgumentException(property + ": must be between 0 and 1, was " + rate);
            }
            return rate;
        }

        /**
         * Skips keys compared recently: a hot key is compared at most once in this time.
         *
         * @param time how long a key is skipped
         * @param maximumKeys how many keys are remembered, at least 1
         * @return this builder
         * @throws IllegalArgumentException if the time is not positive or the count below 1
         */
        public Builder recentlyCompared(Duration time, long maximumKeys) {
            this.recentlyComparedFor = Settings.positive("dualwrite.verify.recently-compared-for", time);
            if (maximumKeys < 1) {
                throw new IllegalArgumentException("dualwrite.verify.recently-compared-keys: must be at least 1, was "
                        + maximumKeys);
            }
            this.recentlyComparedKeys = maximumKeys;
            return this;
        }

        /**
         * Sets the comparison threads and how many comparisons may wait; beyond that, samples are dropped and
         * counted, so the caller never waits.
         *
         * @param threads 1..64
         * @param queueCapacity 1..1,000,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder executor(int threads, int queueCapacity) {
            this.threads = Settings.range("dualwrite.verify.threads", threads, 1, 64);
            this.queueCapacity = Settings.range("dualwrite.verify.queue-capacity", queueCapacity, 1, 1_000_000);
            return this;
        }

        /**
         * Sets how a difference that may be lag is handled: when the primary's version is newer than the
         * other store's (or only one store has the row), the row is compared again after {@code delay}, up to
         * {@code rechecks} times, and reported only if the difference is still there.
         *
         * @param delay the wait before each re-check
         * @param rechecks 1..100
         * @return this builder
         * @throws IllegalArgumentException if the delay is not positive or the count out of range
         */
        public Builder lagRecheck(Duration delay, int rechecks) {
            this.lagRecheckDelay = Settings.positive("dualwrite.verify.lag-recheck-delay", delay);
            this.lagRechecks = Settings.range("dualwrite.verify.lag-rechecks", rechecks, 1, 100);
            return this;
        }

        /**
         * Sets how many mismatch lines one table may write per minute; the rest are counted and the count is
         * reported on the next line written.
         *
         * @param lines 1..100,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder mismatchLinesPerMinute(int lines) {
            this.mismatchLinesPerMinute = Settings.range("dualwrite.verify.mismatch-lines-per-minute", lines, 1,
                    100_000);
            return this;
        }

        /**
         * Repairs each confirmed mismatch through a repairer (usually {@link Repairer#throughMirror}).
         *
         * @param repairer the repairer
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder repairWith(Repairer repairer) {
            this.repairer = Objects.requireNonNull(repairer, "dualwrite.verify.repair: the repairer is null");
            this.repair = true;
            return this;
        }

        /**
         * Sets rows to leave alone, usually {@code degradation::ignores}: the rows marked as not mirrored.
         *
         * @param ignored the rows
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder ignoredRows(IgnoredRows ignored) {
            this.ignoredRows = Objects.requireNonNull(ignored, "ignoredRows");
            return this;
        }

        /**
         * Sets when a table's reads are compared at all, e.g. only once its changes are mirrored and its
         * backfill is done: before that every sampled difference is expected and would only be noise (and
         * count against the ramp guard). Asked on the caller's thread before sampling.
         *
         * @param when true for a table whose reads may be compared now
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder comparingWhen(java.util.function.Predicate<String> when) {
            this.comparing = Objects.requireNonNull(when, "comparingWhen");
            return this;
        }

        /**
         * Sets where the current request's route comes from (the router's routing context); asked on the
         * caller's thread when a read is sampled.
         *
         * @param route the supplier
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder currentRoute(Supplier<Route> route) {
            this.currentRoute = Objects.requireNonNull(route, "currentRoute");
            return this;
        }

        /**
         * Sets where the version of the routing this instance routes by comes from (the control state's
         * version, which moves when a step begins and when it becomes active). A sample's primary is the route
         * its request had; a comparison that runs after the routing moved on may read a store that is no
         * longer the key's primary and take the new primary's fresh write for a mismatch, so it is dropped.
         *
         * @param version the supplier
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder routingVersion(LongSupplier version) {
            this.routingVersion = Objects.requireNonNull(version, "routingVersion");
            return this;
        }

        /**
         * Sets the comparison rules.
         *
         * @param rules the rules
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder rules(ComparisonRules rules) {
            this.rules = Objects.requireNonNull(rules, "rules");
            return this;
        }

        /**
         * Observes every comparison as {@value VerifyMetrics#DOUBLE_READ_OBSERVATION}, as a child of the
         * observation current where the read was sampled (the request's), though it runs on the reader's own
         * threads: so a trace shows the comparison next to the request that caused it.
         *
         * @param registry the registry, e.g. the application's; {@link ObservationRegistry#NOOP} for none
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            this.observationRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /** @return the config */
        public DoubleReadConfig build() {
            return new DoubleReadConfig(this);
        }
    }
}
