package io.dualwrite.mirror;

import io.dualwrite.config.Settings;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.util.Objects;

/**
 * The mirror's settings. Immutable; build with {@link #builder()}. Every setting has a default that
 * suits a service doing a few thousand writes a second.
 *
 * <pre>{@code
 * MirrorConfig config = MirrorConfig.builder()
 *     .mode(MirrorMode.OUTBOX)
 *     .maxAttempts(12)
 *     .build();
 * }</pre>
 */
public final class MirrorConfig {

    private final MirrorMode mode;
    private final int lanes;
    private final int queueCapacity;
    private final int batchSize;
    private final Duration batchLinger;
    private final Duration applyTimeout;
    private final Duration syncTimeout;
    private final int maxAttempts;
    private final Duration initialBackoff;
    private final Duration maxBackoff;
    private final Duration lockRetryDelay;
    private final int maxLockRetries;
    private final Duration writeLockTimeout;
    private final Duration outboxPollInterval;
    private final int outboxBatchSize;
    private final String outboxTable;
    private final boolean createOutboxTable;
    private final Duration shutdownTimeout;
    private final Duration waitLimit;
    private final String sourceUrlSetting;
    private final String targetUrlSetting;
    private final ObservationRegistry observationRegistry;

    private final boolean versionGuard;

    private MirrorConfig(Builder b, Duration syncTimeout, Duration applyTimeout, Duration writeLockTimeout) {
        this.versionGuard = b.versionGuard;
        this.mode = b.mode;
        this.lanes = b.lanes;
        this.queueCapacity = b.queueCapacity;
        this.batchSize = b.batchSize;
        this.batchLinger = b.batchLinger;
        this.applyTimeout = applyTimeout;
        this.syncTimeout = syncTimeout;
        this.maxAttempts = b.maxAttempts;
        this.initialBackoff = b.initialBackoff;
        this.maxBackoff = b.maxBackoff;
        this.lockRetryDelay = b.lockRetryDelay;
        this.maxLockRetries = b.maxLockRetries;
        this.writeLockTimeout = writeLockTimeout;
        this.outboxPollInterval = b.outboxPollInterval;
        this.outboxBatchSize = b.outboxBatchSize;
        this.outboxTable = b.outboxTable;
        this.createOutboxTable = b.createOutboxTable;
        this.shutdownTimeout = b.shutdownTimeout;
        this.waitLimit = b.waitLimit;
        this.sourceUrlSetting = b.sourceUrlSetting;
        this.targetUrlSetting = b.targetUrlSetting;
        this.observationRegistry = b.observationRegistry;
    }

    /** @return a builder with every default set */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the configuration with every default */
    public static MirrorConfig defaults() {
        return builder().build();
    }

    /** @return how changes travel; default {@link MirrorMode#ASYNC} */
    public MirrorMode mode() {
        return mode;
    }

    /**
     * @return where the application sets the source store's JDBC URL, which the start-up warning about
     *     missing batching settings tells it to change (the starter: {@code spring.datasource.url}); by
     *     default the URL of the source pool
     */
    public String sourceUrlSetting() {
        return sourceUrlSetting;
    }

    /**
     * @return where the application sets the target store's JDBC URL, named like {@link #sourceUrlSetting()}
     *     (the starter: {@code dualwrite.target.url}); by default the URL of the target pool
     */
    public String targetUrlSetting() {
        return targetUrlSetting;
    }

    /**
     * @return where each apply is observed ({@code dualwrite.mirror.apply}: a timer and, with a tracer, a span);
     *     default {@link ObservationRegistry#NOOP}
     */
    public ObservationRegistry observationRegistry() {
        return observationRegistry;
    }

    /** @return how many worker lanes apply changes; default the number of cores, at most 4 */
    public int lanes() {
        return lanes;
    }

    /**
     * @return how many keys the lanes hold in memory together; beyond it a key is spilled to the outbox
     *     table, or parked when there is none (see {@link Mirror}); default 100,000
     */
    public int queueCapacity() {
        return queueCapacity;
    }

    /** @return the most keys of one table applied in one batch; default 256 */
    public int batchSize() {
        return batchSize;
    }

    /**
     * @return how long a lane waits for more keys before applying a batch that is not full; default 50 ms.
     *     Batching is most of the mirror's efficiency: on two cores, applying keys one by one took CPU
     *     from the application itself, and at 8 writers 50 ms cost 0.64x the CPU per applied row of 20 ms,
     *     for about 17 ms more median lag (BENCHMARKS.md, "Mirror CPU per applied row"). Keys that a ramp
     *     step, a per-user move or a drain waits for are applied without lingering.
     */
    public Duration batchLinger() {
        return batchLinger;
    }

    /**
     * @return the longest an apply may wait on the network before failing (and being retried). While it
     *     waits it holds share locks on the source rows it read, so it bounds how long a hung target can make
     *     the application's writers of those rows wait: at most {@link #waitLimit()}, which it defaults to
     */
    public Duration applyTimeout() {
        return applyTimeout;
    }

    /** @return how long a SYNC apply may hold the caller; at most {@link #waitLimit()}, default 2 s */
    public Duration syncTimeout() {
        return syncTimeout;
    }

    /** @return attempts before a failing key is parked; default 10 */
    public int maxAttempts() {
        return maxAttempts;
    }

    /** @return the wait before the first retry, doubled each time; default 100 ms */
    public Duration initialBackoff() {
        return initialBackoff;
    }

    /** @return the longest wait between retries; default 30 s */
    public Duration maxBackoff() {
        return maxBackoff;
    }

    /** @return the wait before retrying a key a writer held locked; default 5 ms */
    public Duration lockRetryDelay() {
        return lockRetryDelay;
    }

    /** @return lock conflicts in a row that count as one failed attempt; default 1,000 */
    public int maxLockRetries() {
        return maxLockRetries;
    }

    /**
     * @return how long a mirror write waits for a row lock on the store it writes before it gives way and
     *     retries; at most {@link #waitLimit()}, default 2 s or the wait limit if lower (MariaDB rounds up to
     *     whole seconds)
     */
    public Duration writeLockTimeout() {
        return writeLockTimeout;
    }

    /** @return how often the outbox relay looks for rows when not woken; default 500 ms */
    public Duration outboxPollInterval() {
        return outboxPollInterval;
    }

    /** @return outbox rows claimed at a time; default 500 */
    public int outboxBatchSize() {
        return outboxBatchSize;
    }

    /** @return the outbox table's name; default {@code dualwrite_outbox} */
    public String outboxTable() {
        return outboxTable;
    }

    /** @return whether the outbox table is created when missing; default false (start-up fails with the DDL) */
    public boolean createOutboxTable() {
        return createOutboxTable;
    }

    /** @return how long {@link Mirror#close()} waits for queued changes; default 10 s */
    public Duration shutdownTimeout() {
        return shutdownTimeout;
    }

    /**
     * The longest the library makes an application thread wait, property {@code dualwrite.wait-limit}:
     * a SYNC apply ({@link #syncTimeout()} may not exceed it); an application writer waiting for a row an
     * apply holds under its share lock ({@link #applyTimeout()} and {@link #writeLockTimeout()} may not
     * exceed it); and spilling the keys the ASYNC lanes cannot hold to the outbox table (a key still
     * unwritten when it runs out is parked instead). The starter also keeps the connection waits of the
     * library's own pools, and the ramp's hold, within it.
     *
     * @return the bound; default 2 s
     */
    public Duration waitLimit() {
        return waitLimit;
    }

    /**
     * The version rule, stated once for the whole library (README "How an apply stays correct" and the
     * {@code dualwrite.mirror.version-guard} / {@code dualwrite.backfill.version-guard} properties say the
     * same): <b>the latest commit wins, and the primary's row lock is what orders commits.</b> Every
     * write to the other store (mirror, backfill, repair) reads the primary's row under a share lock and
     * replaces a row that differs, so writes land in the primary's commit order even when two commits
     * carry the same {@code gmt_modified} or the second carries an older one. The guard is an extra, off
     * by default: with it, a write also never replaces a row whose version column is newer. Turn it on only
     * when that column never goes back in commit order (set under the row lock by a clock that does not
     * go back) and something besides the library may write the other store; otherwise it refuses a later
     * commit for good (PostgreSQL's {@code now()} is the transaction's start), and the reconciler reports
     * the row. RAMP needs no guard: its barrier keeps the two mirror directions apart for each routing key,
     * and the backfill does not run there ({@code BackfillGate}). The model in {@code model/} shows both
     * halves of the argument.
     *
     * @return whether writes to the other store refuse to replace a row whose version is newer; default false
     */
    public boolean versionGuard() {
        return versionGuard;
    }

    /** Builds a {@link MirrorConfig}. */
    public static final class Builder {

        private boolean versionGuard;

        private MirrorMode mode = MirrorMode.ASYNC;
        private int lanes = Math.max(1, Math.min(4, Runtime.getRuntime().availableProcessors()));
        private int queueCapacity = 100_000;
        private int batchSize = 256;
        private Duration batchLinger = Duration.ofMillis(50);
        private Duration applyTimeout;
        private Duration syncTimeout;
        private int maxAttempts = 10;
        private Duration initialBackoff = Duration.ofMillis(100);
        private Duration maxBackoff = Duration.ofSeconds(30);
        private Duration lockRetryDelay = Duration.ofMillis(5);
        private int maxLockRetries = 1_000;
        private Duration writeLockTimeout;
        private Duration outboxPollInterval = Duration.ofMillis(500);
        private int outboxBatchSize = 500;
        private String outboxTable = "dualwrite_outbox";
        private boolean createOutboxTable;
        private Duration shutdownTimeout = Duration.ofSeconds(10);
        private Duration waitLimit = Duration.ofSeconds(2);
        private String sourceUrlSetting = "the source pool's JDBC URL";
        private String targetUrlSetting = "the target pool's JDBC URL";
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

        private Builder() {
        }

        /**
         * @param mode how changes travel
         * @return this builder
         */
        public Builder mode(MirrorMode mode) {
            if (mode == null) {
                throw new IllegalArgumentException("dualwrite.mirror.mode: must be SYNC, ASYNC or OUTBOX, was null");
            }
            this.mode = mode;
            return this;
        }

        /**
         * @param lanes worker lanes, 1..256
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder lanes(int lanes) {
            this.lanes = Settings.range("dualwrite.mirror.lanes", lanes, 1, 256);
            return this;
        }

        /**
         * @param queueCapacity keys that may wait, at least 1
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder queueCapacity(int queueCapacity) {
            this.queueCapacity = Settings.range("dualwrite.mirror.queue-capacity", queueCapacity, 1, Integer.MAX_VALUE);
            return this;
        }

        /**
         * @param batchSize keys per batch, 1..10,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder batchSize(int batchSize) {
            this.batchSize = Settings.range("dualwrite.mirror.batch-size", batchSize, 1, 10_000);
            return this;
        }

        /**
         * @param batchLinger how long a lane waits for more keys before a batch that is not full, 0..1 s
         * @return this builder
         * @throws IllegalArgumentException if negative or above one second
         */
        public Builder batchLinger(Duration batchLinger) {
            if (batchLinger == null || batchLinger.isNegative() || batchLinger.compareTo(Duration.ofSeconds(1)) > 0) {
                throw new IllegalArgumentException("dualwrite.mirror.batch-linger: must be between 0 and 1s, was "
                        + batchLinger);
            }
            this.batchLinger = batchLinger;
            return this;
        }

        /**
         * @param applyTimeout the longest a lane's apply waits on the network, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder applyTimeout(Duration applyTimeout) {
            this.applyTimeout = Settings.positive("dualwrite.mirror.apply-timeout", applyTimeout);
            return this;
        }

        /**
         * @param syncTimeout the most a SYNC apply may hold the caller, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder syncTimeout(Duration syncTimeout) {
            this.syncTimeout = Settings.positive("dualwrite.mirror.sync-timeout", syncTimeout);
            return this;
        }

        /**
         * @param maxAttempts attempts before parking, 1..1,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder maxAttempts(int maxAttempts) {
            this.maxAttempts = Settings.range("dualwrite.mirror.max-attempts", maxAttempts, 1, 1_000);
            return this;
        }

        /**
         * @param initialBackoff the first retry's wait, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder initialBackoff(Duration initialBackoff) {
            this.initialBackoff = Settings.positive("dualwrite.mirror.initial-backoff", initialBackoff);
            return this;
        }

        /**
         * @param maxBackoff the longest wait between retries, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxBackoff(Duration maxBackoff) {
            this.maxBackoff = Settings.positive("dualwrite.mirror.max-backoff", maxBackoff);
            return this;
        }

        /**
         * @param lockRetryDelay the wait before retrying a locked key, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder lockRetryDelay(Duration lockRetryDelay) {
            this.lockRetryDelay = Settings.positive("dualwrite.mirror.lock-retry-delay", lockRetryDelay);
            return this;
        }

        /**
         * @param timeout how long a mirror write waits for a row lock on the store it writes; bounded so
         *     that during RAMP, where both stores take application writes, no wait cycle across the two
         *     stores can hold the library for long
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder writeLockTimeout(Duration timeout) {
            this.writeLockTimeout = Settings.positive("dualwrite.mirror.write-lock-timeout", timeout);
            return this;
        }

        /**
         * @param maxLockRetries lock conflicts that count as one failed attempt, at least 1
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxLockRetries(int maxLockRetries) {
            this.maxLockRetries = Settings.range("dualwrite.mirror.max-lock-retries", maxLockRetries, 1, Integer.MAX_VALUE);
            return this;
        }

        /**
         * @param outboxPollInterval the relay's idle poll interval, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder outboxPollInterval(Duration outboxPollInterval) {
            this.outboxPollInterval = Settings.positive("dualwrite.mirror.outbox.poll-interval", outboxPollInterval);
            return this;
        }

        /**
         * @param outboxBatchSize rows claimed at a time, 1..10,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder outboxBatchSize(int outboxBatchSize) {
            this.outboxBatchSize = Settings.range("dualwrite.mirror.outbox.batch-size", outboxBatchSize, 1, 10_000);
            return this;
        }

        /**
         * @param outboxTable the outbox table's name, a plain identifier
         * @return this builder
         * @throws IllegalArgumentException if not a plain identifier
         */
        public Builder outboxTable(String outboxTable) {
            Settings.tableName("dualwrite.mirror.outbox.table", outboxTable);
            this.outboxTable = outboxTable;
            return this;
        }

        /**
         * @param createOutboxTable whether to create the outbox table when missing
         * @return this builder
         */
        public Builder createOutboxTable(boolean createOutboxTable) {
            this.createOutboxTable = createOutboxTable;
            return this;
        }

        /**
         * @param shutdownTimeout how long closing waits for queued changes, not negative
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder shutdownTimeout(Duration shutdownTimeout) {
            if (shutdownTimeout == null || shutdownTimeout.isNegative()) {
                throw new IllegalArgumentException("dualwrite.mirror.shutdown-timeout: must not be negative, was "
                        + shutdownTimeout);
            }
            this.shutdownTimeout = shutdownTimeout;
            return this;
        }

        /**
         * @param waitLimit the longest the library makes an application thread wait, positive
         *     ({@code dualwrite.wait-limit})
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder waitLimit(Duration waitLimit) {
            this.waitLimit = Settings.positive("dualwrite.wait-limit", waitLimit);
            return this;
        }

        /**
         * Names the settings that hold each store's JDBC URL, for the start-up warning about missing batching
         * settings: it names the store the mirror writes (the target, or the source for the mirror that
         * carries target-routed writes back during RAMP) and tells the user to add them there.
         *
         * @param source where the source's URL is set, e.g. {@code spring.datasource.url}
         * @param target where the target's URL is set, e.g. {@code dualwrite.target.url}
         * @return this builder
         * @throws IllegalArgumentException if either is blank
         */
        public Builder urlSettings(String source, String target) {
            if (source == null || source.isBlank() || target == null || target.isBlank()) {
                throw new IllegalArgumentException("MirrorConfig.urlSettings: name where each store's URL is set,"
                        + " was '" + source + "' and '" + target + "'");
            }
            this.sourceUrlSetting = source;
            this.targetUrlSetting = target;
            return this;
        }

        /**
         * Observes every apply as {@code dualwrite.mirror.apply} (low-cardinality keys {@code table} and
         * {@code direction}, {@code forward} or {@code reverse}; high-cardinality {@code keys}), so that traces
         * show the library's work: a SYNC apply under the request that committed, the lanes' and the relay's
         * applies as their own traces.
         *
         * @param registry the registry, e.g. the application's; {@link ObservationRegistry#NOOP} for none
         * @return this builder
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            this.observationRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * @param guard whether target writes refuse to replace a row with a newer version (see
         *     {@link MirrorConfig#versionGuard()})
         * @return this builder
         */
        public Builder versionGuard(boolean guard) {
            this.versionGuard = guard;
            return this;
        }

        /**
         * Builds the configuration.
         *
         * @return the configuration
         * @throws IllegalArgumentException if settings conflict
         */
        public MirrorConfig build() {
            // Unset, it follows a wait limit lowered below its 2 s; set, it must fit within it.
            Duration sync = syncTimeout != null ? syncTimeout
                    : waitLimit.compareTo(Duration.ofSeconds(2)) < 0 ? waitLimit : Duration.ofSeconds(2);
            if (sync.compareTo(waitLimit) > 0) {
                throw new IllegalArgumentException("dualwrite.mirror.sync-timeout (" + syncTimeout
                        + ") exceeds dualwrite.wait-limit (" + waitLimit + "): a SYNC apply runs on the application's"
                        + " thread, which the library never holds longer than the wait limit. Lower"
                        + " dualwrite.mirror.sync-timeout or raise dualwrite.wait-limit");
            }
            Duration apply = applyTimeout != null ? applyTimeout : waitLimit;
            if (apply.compareTo(waitLimit) > 0) {
                throw new IllegalArgumentException("dualwrite.mirror.apply-timeout (" + applyTimeout
                        + ") exceeds dualwrite.wait-limit (" + waitLimit + "): an apply waiting on a hung target holds"
                        + " share locks that the application's writers of those rows wait for. Lower"
                        + " dualwrite.mirror.apply-timeout or raise dualwrite.wait-limit");
            }
            Duration writeLock = writeLockTimeout != null ? writeLockTimeout
                    : waitLimit.compareTo(Duration.ofSeconds(2)) < 0 ? waitLimit : Duration.ofSeconds(2);
            if (writeLock.compareTo(waitLimit) > 0) {
                throw new IllegalArgumentException("dualwrite.mirror.write-lock-timeout (" + writeLockTimeout
                        + ") exceeds dualwrite.wait-limit (" + waitLimit + "): a mirror write waiting for a row lock"
                        + " holds share locks that the application's writers of those rows wait for. Lower"
                        + " dualwrite.mirror.write-lock-timeout or raise dualwrite.wait-limit");
            }
            if (maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("dualwrite.mirror.max-backoff (" + maxBackoff
                        + ") is shorter than dualwrite.mirror.initial-backoff (" + initialBackoff + ")");
            }
            if (queueCapacity < lanes) {
                throw new IllegalArgumentException("dualwrite.mirror.queue-capacity (" + queueCapacity
                        + ") must be at least dualwrite.mirror.lanes (" + lanes + ")");
            }
            return new MirrorConfig(this, sync, apply, writeLock);
        }


    }
}
