package io.dualwrite.backfill;

import java.lang.management.ManagementFactory;
import java.time.Clock;
import io.dualwrite.config.Settings;
import io.micrometer.observation.ObservationRegistry;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.function.Supplier;

/**
 * The backfill's settings. Immutable; build with {@link #builder()}. Single settings are checked as they
 * are set, combinations in {@link Builder#build()}.
 *
 * <pre>{@code
 * BackfillConfig config = BackfillConfig.builder()
 *     .rowsPerSecond(5_000)
 *     .hourlyLimit(7, 1_000).hourlyLimit(22, 10_000)
 *     .timeWindow("t_order", "gmt_create", from, to)
 *     .build();
 * }</pre>
 */
public final class BackfillConfig {

    /**
     * A restriction of one table's backfill: rows with {@code column} in {@code [from, to)}, and/or an
     * extra SQL condition with bound parameters.
     *
     * @param timeColumn the column of the time window, or {@code null}
     * @param from the window's inclusive start, or {@code null}
     * @param to the window's exclusive end, or {@code null}
     * @param condition a trusted SQL condition with {@code ?} placeholders, or {@code null}
     * @param parameters the condition's parameters
     */
    public record Filter(String timeColumn, Object from, Object to, String condition, List<Object> parameters) {

        /** Copies the parameters. */
        public Filter {
            parameters = Collections.unmodifiableList(new ArrayList<>(parameters));
        }
    }

    private final int chunkSize;
    private final int minChunkSize;
    private final int maxChunkSize;
    private final Duration targetChunkTime;
    private final long rowsPerSecond;
    private final Map<Integer, Long> hourlyLimits;
    private final ZoneId zone;
    private final Supplier<Duration> mirrorLag;
    private final Duration maxMirrorLag;
    private final Duration maxChunkWriteTime;
    private final Duration backoffPause;
    private final int breakerWindowRows;
    private final double breakerMaxErrorRate;
    private final int rangesPerTable;
    private final int threads;
    private final Duration leaseDuration;
    private final String ownerId;
    private final Map<String, Filter> filters;
    private final Clock clock;
    private final Duration lockRetryDelay;
    private final Duration progressLogInterval;
    private final String checkpointTable;
    private final String failureTable;
    private final boolean createTables;
    private final List<String> order;
    private final ObservationRegistry observationRegistry;

    private final boolean versionGuard;
    /** Null for a table's own backfill; a plan stage's name otherwise (see {@link #runName()}). */
    private final String runName;
    private final boolean postgresCopy;
    private final boolean mariadbLoadData;
    private final boolean readAhead;

    private BackfillConfig(Builder b) {
        this.runName = null;
        this.versionGuard = b.versionGuard;
        this.postgresCopy = b.postgresCopy;
        this.mariadbLoadData = b.mariadbLoadData;
        this.readAhead = b.readAhead;
        this.chunkSize = b.chunkSize;
        this.minChunkSize = b.minChunkSize;
        this.maxChunkSize = b.maxChunkSize;
        this.targetChunkTime = b.targetChunkTime;
        this.rowsPerSecond = b.rowsPerSecond;
        this.hourlyLimits = Collections.unmodifiableMap(new TreeMap<>(b.hourlyLimits));
        this.zone = b.zone;
        this.mirrorLag = b.mirrorLag;
        this.maxMirrorLag = b.maxMirrorLag;
        this.maxChunkWriteTime = b.maxChunkWriteTime;
        this.backoffPause = b.backoffPause;
        this.breakerWindowRows = b.breakerWindowRows;
        this.breakerMaxErrorRate = b.breakerMaxErrorRate;
        this.rangesPerTable = b.rangesPerTable;
        this.threads = b.threads;
        this.leaseDuration = b.leaseDuration;
        this.ownerId = b.ownerId;
        this.filters = Collections.unmodifiableMap(new LinkedHashMap<>(b.filters));
        this.clock = b.clock;
        this.lockRetryDelay = b.lockRetryDelay;
        this.progressLogInterval = b.progressLogInterval;
        this.checkpointTable = b.checkpointTable;
        this.failureTable = b.failureTable;
        this.createTables = b.createTables;
        this.order = List.copyOf(b.order);
        this.observationRegistry = b.observationRegistry;
    }

    /**
     * A plan stage's copy of a configuration: its own run name (so its checkpoints are its own), throttle and
     * filters; everything else as in {@code base}. Every field is final and assigned here, so a setting added
     * later that is not copied fails to compile rather than silently reverting a stage to its default.
     */
    private BackfillConfig(BackfillConfig base, String runName, long rowsPerSecond, Map<String, Filter> filters) {
        this.runName = runName;
        this.versionGuard = base.versionGuard;
        this.postgresCopy = base.postgresCopy;
        this.mariadbLoadData = base.mariadbLoadData;
        this.readAhead = base.readAhead;
        this.chunkSize = base.chunkSize;
        this.minChunkSize = base.minChunkSize;
        this.maxChunkSize = base.maxChunkSize;
        this.targetChunkTime = base.targetChunkTime;
        this.rowsPerSecond = rowsPerSecond;
        this.hourlyLimits = base.hourlyLimits;
        this.zone = base.zone;
        this.mirrorLag = base.mirrorLag;
        this.maxMirrorLag = base.maxMirrorLag;
        this.maxChunkWriteTime = base.maxChunkWriteTime;
        this.backoffPause = base.backoffPause;
        this.breakerWindowRows = base.breakerWindowRows;
        this.breakerMaxErrorRate = base.breakerMaxErrorRate;
        this.rangesPerTable = base.rangesPerTable;
        this.threads = base.threads;
        this.leaseDuration = base.leaseDuration;
        this.ownerId = base.ownerId;
        Map<String, Filter> copy = new LinkedHashMap<>();
        filters.forEach((table, filter) -> copy.put(table.toLowerCase(Locale.ROOT), filter));
        this.filters = Collections.unmodifiableMap(copy);
        this.clock = base.clock;
        this.lockRetryDelay = base.lockRetryDelay;
        this.progressLogInterval = base.progressLogInterval;
        this.checkpointTable = base.checkpointTable;
        this.failureTable = base.failureTable;
        this.createTables = base.createTables;
        this.order = base.order;
        this.observationRegistry = base.observationRegistry;
    }

    /**
     * The configuration of one run apart from a table's own backfill, such as a plan's stage.
     *
     * @param runName the run's name, kept with each table's checkpoints ({@code table@runName})
     * @param rowsPerSecond the run's rate; 0 keeps this configuration's
     * @param filters source table to the run's filter; these replace this configuration's filters
     * @return the configuration
     */
    BackfillConfig forRun(String runName, long rowsPerSecond, Map<String, Filter> filters) {
        return new BackfillConfig(this, Objects.requireNonNull(runName, "runName"),
                rowsPerSecond > 0 ? rowsPerSecond : this.rowsPerSecond, filters);
    }

    /**
     * @return the name of a run apart from a table's own backfill (a plan stage), kept in the checkpoint
     *     table as {@code table@runName}; empty for a table's own backfill, kept as the table's name
     */
    Optional<String> runName() {
        return Optional.ofNullable(runName);
    }

    /** @return a builder with every default set */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the configuration with every default */
    public static BackfillConfig defaults() {
        return builder().build();
    }

    /** @return the first chunk's size in rows; default 1,000 */
    public int chunkSize() {
        return chunkSize;
    }

    /** @return the smallest chunk the adaptation may choose; default 50 */
    public int minChunkSize() {
        return minChunkSize;
    }

    /** @return the largest chunk the adaptation may choose; default 10,000 */
    public int maxChunkSize() {
        return maxChunkSize;
    }

    /** @return the time per chunk the chunk size adapts toward; default 0.5 s */
    public Duration targetChunkTime() {
        return targetChunkTime;
    }

    /** @return the rows per second allowed when no hourly limit applies; 0 (the default) means unthrottled */
    public long rowsPerSecond() {
        return rowsPerSecond;
    }

    /** @return hour of day (0-23) to rows per second, overriding {@link #rowsPerSecond()} in that hour */
    public Map<Integer, Long> hourlyLimits() {
        return hourlyLimits;
    }

    /** @return the zone the hours of {@link #hourlyLimits()} are read in; default the system zone */
    public ZoneId zone() {
        return zone;
    }

    /** @return reads the mirror's current lag, if back-off on lag is configured */
    public Optional<Supplier<Duration>> mirrorLag() {
        return Optional.ofNullable(mirrorLag);
    }

    /** @return the mirror lag above which the backfill pauses between chunks; default 30 s */
    public Duration maxMirrorLag() {
        return maxMirrorLag;
    }

    /** @return the chunk write time above which the backfill backs off, a sign the target suffers; default 5 s */
    public Duration maxChunkWriteTime() {
        return maxChunkWriteTime;
    }

    /** @return how long a back-off lasts, also after a lost connection; default 1 s */
    public Duration backoffPause() {
        return backoffPause;
    }

    /** @return how many recent rows the error breaker looks at; default 1,000 */
    public int breakerWindowRows() {
        return breakerWindowRows;
    }

    /** @return the failed share of the window that pauses the job; default 0.05 */
    public double breakerMaxErrorRate() {
        return breakerMaxErrorRate;
    }

    /** @return key ranges a table with a single integral key is split into, for sharing; default 16 */
    public int rangesPerTable() {
        return rangesPerTable;
    }

    /** @return worker threads per table in this runner; default 1 */
    public int threads() {
        return threads;
    }

    /** @return how long a range stays leased without a heartbeat before another runner takes it; default 60 s */
    public Duration leaseDuration() {
        return leaseDuration;
    }

    /** @return this runner's name in the checkpoint table; default host, pid and a random suffix */
    public String ownerId() {
        return ownerId;
    }

    /**
     * Returns the filter of a table.
     *
     * @param table the source table, in any case
     * @return the filter, or empty when the whole table is copied
     */
    public Optional<Filter> filter(String table) {
        return Optional.ofNullable(filters.get(table.toLowerCase(Locale.ROOT)));
    }

    /**
     * @return where each chunk is observed ({@code dualwrite.backfill.chunk}); default
     *     {@link ObservationRegistry#NOOP}
     */
    public ObservationRegistry observationRegistry() {
        return observationRegistry;
    }

    /** @return the clock throttling, leases and hours are read from */
    public Clock clock() {
        return clock;
    }

    /** @return the wait before re-reading a chunk that a writer held locked; default 20 ms */
    public Duration lockRetryDelay() {
        return lockRetryDelay;
    }

    /** @return how often a progress line is logged per table; default 30 s */
    public Duration progressLogInterval() {
        return progressLogInterval;
    }

    /** @return the checkpoint table in the target; default {@code dualwrite_checkpoint} */
    public String checkpointTable() {
        return checkpointTable;
    }

    /** @return the table failed rows are recorded in, in the target; default {@code dualwrite_backfill_failure} */
    public String failureTable() {
        return failureTable;
    }

    /** @return whether missing library tables are created; default false (start fails with the DDL) */
    public boolean createTables() {
        return createTables;
    }

    /**
     * @return the source tables {@link BackfillRunner#startAll} runs first, each after the one before it is
     *     done, instead of the order the target's foreign keys give; empty (the default) for that order
     */
    public List<String> order() {
        return order;
    }

    /**
     * @return whether writes to the target refuse to replace a row whose version is newer; default false.
     *     The rule is the mirror's ({@code MirrorConfig.versionGuard()}): the source's row locks order the
     *     backfill's writes with the mirror's, latest commit wins, and the guard is an extra for a version
     *     column that never goes back. A backfill runs only while the source is the primary of every row
     *     ({@link BackfillGate}), so it never meets a newer target-routed write.
     */
    public boolean versionGuard() {
        return versionGuard;
    }

    /**
     * @return whether chunks into a PostgreSQL target are written through {@code COPY}; default true. Each
     *     chunk is streamed into a temporary staging table of the target session and merged into the table by one
     *     {@code INSERT ... SELECT ... ON CONFLICT} with the batched upsert's own guard and change test, under the
     *     same source lock and in the same target transaction as the checkpoint. A chunk this path cannot take
     *     (a value without an exact COPY text, a row leaving a column to the table, unique values moving between
     *     keys) or that fails in it (a bad value) is written the batched way, which isolates the failing rows.
     *     A MariaDB target has its own switch, {@link #mariadbLoadData()}; H2 always takes the batched upsert.
     */
    public boolean postgresCopy() {
        return postgresCopy;
    }

    /**
     * @return whether chunks into a MariaDB (or MySQL) target reached through MariaDB Connector/J are written through
     *     {@code LOAD DATA LOCAL INFILE}; default true. Each chunk is streamed from memory into a temporary staging
     *     table of the target session and merged into the table by one {@code INSERT ... SELECT ... ON DUPLICATE KEY
     *     UPDATE} with the batched upsert's own guard, under the same source lock and in the same target transaction
     *     as the checkpoint. A chunk this path cannot take (a value without an exact text, a row leaving a column to
     *     the table, unique values moving between keys) or that fails in it (a bad value, any warning of the load)
     *     is written the batched way, which isolates the failing rows. A server with {@code local_infile=OFF} or a
     *     target URL with {@code allowLocalInfile=false} refuses it: the job says so once and writes batched.
     */
    public boolean mariadbLoadData() {
        return mariadbLoadData;
    }

    /**
     * @return whether each backfill thread reads its next chunk while it writes the current one; default true.
     *     The next chunk is read, and share-locked, in a source transaction of its own on a second source
     *     connection as soon as the current chunk's last key is known; it is written only after the current chunk's
     *     target transaction (and checkpoint) committed, and its own lock is held until its own commit, so the
     *     checkpoint never passes a chunk that did not commit and a restart resumes as before. The price: a thread
     *     holds two source connections and two chunks in memory, and a writer touching a row of the next chunk waits
     *     for up to two chunks' time instead of one. False reads each chunk only after the one before committed.
     */
    public boolean readAhead() {
        return readAhead;
    }

    /** Builds a {@link BackfillConfig}. */
    public static final class Builder {

        private boolean versionGuard;
        private boolean postgresCopy = true;
        private boolean mariadbLoadData = true;
        private boolean readAhead = true;

        private int chunkSize = 1_000;
        private int minChunkSize = 50;
        private int maxChunkSize = 10_000;
        private Duration targetChunkTime = Duration.ofMillis(500);
        private long rowsPerSecond;
        private final Map<Integer, Long> hourlyLimits = new TreeMap<>();
        private ZoneId zone = ZoneId.systemDefault();
        private Supplier<Duration> mirrorLag;
        private Duration maxMirrorLag = Duration.ofSeconds(30);
        private Duration maxChunkWriteTime = Duration.ofSeconds(5);
        private Duration backoffPause = Duration.ofSeconds(1);
        private int breakerWindowRows = 1_000;
        private double breakerMaxErrorRate = 0.05;
        private int rangesPerTable = 16;
        private int threads = 1;
        private Duration leaseDuration = Duration.ofSeconds(60);
        private String ownerId = defaultOwner();
        private final Map<String, Filter> filters = new LinkedHashMap<>();
        private Clock clock = Clock.systemUTC();
        private Duration lockRetryDelay = Duration.ofMillis(20);
        private Duration progressLogInterval = Duration.ofSeconds(30);
        private String checkpointTable = "dualwrite_checkpoint";
        private String failureTable = "dualwrite_backfill_failure";
        private boolean createTables;
        private List<String> order = List.of();
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

        private Builder() {
        }

        private static String defaultOwner() {
            String runtime = ManagementFactory.getRuntimeMXBean().getName();
            String owner = runtime + "-" + UUID.randomUUID().toString().substring(0, 8);
            return owner.length() > 120 ? owner.substring(owner.length() - 120) : owner;
        }

        /**
         * @param rows the first chunk's size, 1..1,000,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder chunkSize(int rows) {
            this.chunkSize = Settings.range("dualwrite.backfill.chunk-size", rows, 1, 1_000_000);
            return this;
        }

        /**
         * @param min the smallest adaptive chunk
         * @param max the largest adaptive chunk
         * @return this builder
         * @throws IllegalArgumentException if out of range or min exceeds max
         */
        public Builder chunkSizeBounds(int min, int max) {
            Settings.range("dualwrite.backfill.min-chunk-size", min, 1, 1_000_000);
            Settings.range("dualwrite.backfill.max-chunk-size", max, 1, 1_000_000);
            if (min > max) {
                throw new IllegalArgumentException("dualwrite.backfill.min-chunk-size (" + min
                        + ") exceeds dualwrite.backfill.max-chunk-size (" + max + ")");
            }
            this.minChunkSize = min;
            this.maxChunkSize = max;
            return this;
        }

        /**
         * @param time the time per chunk to adapt toward, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder targetChunkTime(Duration time) {
            this.targetChunkTime = Settings.positive("dualwrite.backfill.target-chunk-time", time);
            return this;
        }

        /**
         * @param rows rows per second outside hourly limits; 0 for unthrottled
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder rowsPerSecond(long rows) {
            if (rows < 0) {
                throw new IllegalArgumentException("dualwrite.backfill.rows-per-second: must not be negative, was "
                        + rows);
            }
            this.rowsPerSecond = rows;
            return this;
        }

        /**
         * Limits the rate during one hour of the day, for example lower during business hours.
         *
         * @param hour the hour, 0..23
         * @param rows rows per second in that hour, positive
         * @return this builder
         * @throws IllegalArgumentException if the hour or the rate is out of range
         */
        public Builder hourlyLimit(int hour, long rows) {
            String property = "dualwrite.backfill.hourly-limits." + String.format("%02d", hour);
            Settings.range("dualwrite.backfill.hourly-limits", hour, 0, 23);
            if (rows <= 0) {
                throw new IllegalArgumentException(property + ": must be positive, was " + rows);
            }
            hourlyLimits.put(hour, rows);
            return this;
        }

        /**
         * @param zone the zone hourly limits are read in
         * @return this builder
         */
        public Builder zone(ZoneId zone) {
            this.zone = Objects.requireNonNull(zone, "zone");
            return this;
        }

        /**
         * Backs off while the mirror lags: between chunks the backfill waits while {@code lag} reads above
         * {@code max}, so live changes keep precedence over history.
         *
         * @param lag reads the mirror's current lag
         * @param max the lag above which the backfill waits, positive
         * @return this builder
         * @throws IllegalArgumentException if {@code max} is not positive
         */
        public Builder backOffOnMirrorLag(Supplier<Duration> lag, Duration max) {
            this.mirrorLag = Objects.requireNonNull(lag, "lag");
            this.maxMirrorLag = Settings.positive("dualwrite.backfill.max-mirror-lag", max);
            return this;
        }

        /**
         * @param max the chunk write time above which the backfill backs off, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder maxChunkWriteTime(Duration max) {
            this.maxChunkWriteTime = Settings.positive("dualwrite.backfill.max-chunk-write-time", max);
            return this;
        }

        /**
         * @param pause how long a back-off lasts, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder backoffPause(Duration pause) {
            this.backoffPause = Settings.positive("dualwrite.backfill.backoff-pause", pause);
            return this;
        }

        /**
         * Pauses the job when more than {@code maxErrorRate} of the last {@code windowRows} rows failed.
         *
         * @param windowRows rows looked at, at least 1
         * @param maxErrorRate the failed share that trips it, in (0, 1]
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder errorBreaker(int windowRows, double maxErrorRate) {
            Settings.range("dualwrite.backfill.breaker.window-rows", windowRows, 1, 10_000_000);
            if (!(maxErrorRate > 0 && maxErrorRate <= 1)) {
                throw new IllegalArgumentException("dualwrite.backfill.breaker.max-error-rate: must be in (0, 1], was "
                        + maxErrorRate);
            }
            this.breakerWindowRows = windowRows;
            this.breakerMaxErrorRate = maxErrorRate;
            return this;
        }

        /**
         * @param ranges key ranges per table with a single integral key, 1..4,096
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder rangesPerTable(int ranges) {
            this.rangesPerTable = Settings.range("dualwrite.backfill.ranges-per-table", ranges, 1, 4_096);
            return this;
        }

        /**
         * @param threads worker threads per table, 1..64
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder threads(int threads) {
            this.threads = Settings.range("dualwrite.backfill.threads", threads, 1, 64);
            return this;
        }

        /**
         * @param lease how long a range stays leased without a heartbeat, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder leaseDuration(Duration lease) {
            this.leaseDuration = Settings.positive("dualwrite.backfill.lease-duration", lease);
            return this;
        }

        /**
         * @param owner this runner's name in the checkpoint table, 1..128 characters, unique per instance
         * @return this builder
         * @throws IllegalArgumentException if blank or too long
         */
        public Builder ownerId(String owner) {
            if (owner == null || owner.isBlank() || owner.length() > 128) {
                throw new IllegalArgumentException("dualwrite.backfill.owner-id: must be 1 to 128 characters, was '"
                        + owner + "'");
            }
            this.ownerId = owner;
            return this;
        }

        /**
         * Copies only rows whose {@code column} lies in {@code [from, to)}; either bound may be {@code null}.
         *
         * @param table the source table
         * @param column the column, checked against the table at start
         * @param from the inclusive start, or {@code null}
         * @param to the exclusive end, or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if both bounds are {@code null}
         */
        public Builder timeWindow(String table, String column, Object from, Object to) {
            if (from == null && to == null) {
                throw new IllegalArgumentException("dualwrite.backfill.tables." + table
                        + ".time-window: give a start, an end, or both");
            }
            String key = table.toLowerCase(Locale.ROOT);
            Filter current = filters.get(key);
            filters.put(key, new Filter(Objects.requireNonNull(column, "column"), from, to,
                    current == null ? null : current.condition(),
                    current == null ? List.of() : current.parameters()));
            return this;
        }

        /**
         * Copies only rows matching a condition. The condition is SQL written by the application's
         * developers (never by its users): values must be {@code ?} parameters.
         *
         * @param table the source table
         * @param condition the condition, without {@code WHERE}
         * @param parameters its parameters
         * @return this builder
         * @throws IllegalArgumentException if the condition is blank or holds a {@code ;}
         */
        public Builder where(String table, String condition, Object... parameters) {
            if (condition == null || condition.isBlank() || condition.contains(";")) {
                throw new IllegalArgumentException("dualwrite.backfill.tables." + table
                        + ".where: a single condition without ';' is required, was '" + condition + "'");
            }
            String key = table.toLowerCase(Locale.ROOT);
            Filter current = filters.get(key);
            filters.put(key, new Filter(current == null ? null : current.timeColumn(),
                    current == null ? null : current.from(), current == null ? null : current.to(), condition,
                    List.of(parameters)));
            return this;
        }

        /**
         * Observes every chunk, from its read to its commit, as {@code dualwrite.backfill.chunk}
         * (low-cardinality key {@code table}; high-cardinality {@code range}, {@code rows}, {@code failed.rows}).
         *
         * @param registry the registry, e.g. the application's; {@link ObservationRegistry#NOOP} for none
         * @return this builder
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            this.observationRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * @param clock the clock for throttling, leases and hours (tests pass a fake one)
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param delay the wait before re-reading a locked chunk, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder lockRetryDelay(Duration delay) {
            this.lockRetryDelay = Settings.positive("dualwrite.backfill.lock-retry-delay", delay);
            return this;
        }

        /**
         * @param interval how often progress is logged per table, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder progressLogInterval(Duration interval) {
            this.progressLogInterval = Settings.positive("dualwrite.backfill.progress-log-interval", interval);
            return this;
        }

        /**
         * @param table the checkpoint table's name, a plain identifier
         * @return this builder
         * @throws IllegalArgumentException if not a plain identifier
         */
        public Builder checkpointTable(String table) {
            this.checkpointTable = Settings.tableName("dualwrite.backfill.checkpoint-table", table);
            return this;
        }

        /**
         * @param table the failed-rows table's name, a plain identifier
         * @return this builder
         * @throws IllegalArgumentException if not a plain identifier
         */
        public Builder failureTable(String table) {
            this.failureTable = Settings.tableName("dualwrite.backfill.failure-table", table);
            return this;
        }

        /**
         * @param create whether to create missing library tables in the target
         * @return this builder
         */
        public Builder createTables(boolean create) {
            this.createTables = create;
            return this;
        }

        /**
         * Gives by hand the order in which {@link BackfillRunner#startAll} runs tables, each starting once the
         * one before it is done, for when the target's foreign keys form a cycle or do not say it. Tables not
         * named run after these, in the foreign keys' order.
         *
         * @param sourceTables source tables as mapped; empty to follow the foreign keys
         * @return this builder
         * @throws IllegalArgumentException if a name is blank or repeated
         */
        public Builder order(List<String> sourceTables) {
            List<String> names = new ArrayList<>();
            for (String table : sourceTables) {
                if (table == null || table.isBlank()) {
                    throw new IllegalArgumentException("dualwrite.backfill.order: a table name is blank");
                }
                String name = table.trim();
                if (names.stream().anyMatch(name::equalsIgnoreCase)) {
                    throw new IllegalArgumentException("dualwrite.backfill.order: table '" + name + "' is named twice");
                }
                names.add(name);
            }
            this.order = names;
            return this;
        }

        /**
         * @param guard whether target writes refuse to replace a row with a newer version (see
         *     {@link BackfillConfig#versionGuard()})
         * @return this builder
         */
        public Builder versionGuard(boolean guard) {
            this.versionGuard = guard;
            return this;
        }

        /**
         * @param copy whether chunks into a PostgreSQL target go through {@code COPY} and a staging table (see
         *     {@link BackfillConfig#postgresCopy()}); false writes them with the batched upsert, as other targets
         * @return this builder
         */
        public Builder postgresCopy(boolean copy) {
            this.postgresCopy = copy;
            return this;
        }

        /**
         * @param load whether chunks into a MariaDB or MySQL target go through {@code LOAD DATA LOCAL INFILE} and a
         *     staging table (see {@link BackfillConfig#mariadbLoadData()}); false writes them with the batched upsert
         * @return this builder
         */
        public Builder mariadbLoadData(boolean load) {
            this.mariadbLoadData = load;
            return this;
        }

        /**
         * @param ahead whether each thread reads its next chunk, on a second source connection under its own lock,
         *     while it writes the current one (see {@link BackfillConfig#readAhead()}); false reads a chunk only after
         *     the one before committed
         * @return this builder
         */
        public Builder readAhead(boolean ahead) {
            this.readAhead = ahead;
            return this;
        }

        /**
         * Builds the configuration.
         *
         * @return the configuration
         * @throws IllegalArgumentException if settings conflict
         */
        public BackfillConfig build() {
            if (chunkSize < minChunkSize || chunkSize > maxChunkSize) {
                throw new IllegalArgumentException("dualwrite.backfill.chunk-size (" + chunkSize
                        + ") must lie within the chunk size bounds [" + minChunkSize + ", " + maxChunkSize + "]");
            }
            if (checkpointTable.equalsIgnoreCase(failureTable)) {
                throw new IllegalArgumentException("dualwrite.backfill.failure-table must differ from"
                        + " dualwrite.backfill.checkpoint-table, both are '" + checkpointTable + "'");
            }
            return new BackfillConfig(this);
        }



    }
}
