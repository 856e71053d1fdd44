package io.dualwrite.verify;

import io.dualwrite.config.Settings;
import io.micrometer.observation.ObservationRegistry;
import java.lang.management.ManagementFactory;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;

/**
 * The settings of a {@link Reconciler} run: chunk size, throttle, the version window, checksums, repair,
 * checkpointing and the comparison rules. Immutable; built by {@link #builder()}, checked setting by setting
 * and as a whole in {@link Builder#build()}.
 *
 * <pre>{@code
 * // T+1: yesterday's rows, repaired through the mirror
 * ReconcileConfig config = ReconcileConfig.builder()
 *         .window(yesterday.atStartOfDay(), today.atStartOfDay())
 *         .rowsPerSecond(50_000)
 *         .repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10)))
 *         .build();
 * }</pre>
 */
public final class ReconcileConfig {

    /** The default name of the checkpoint table, in the target. */
    public static final String DEFAULT_CHECKPOINT_TABLE = "dualwrite_reconcile_checkpoint";

    private final int chunkSize;
    private final long rowsPerSecond;
    private final Object windowFrom;
    private final Object windowTo;
    private final boolean checksums;
    private final boolean dryRun;
    private final Repairer repairer;
    private final RowRoutes rowRoutes;
    private final IgnoredRows ignoredRows;
    private final MirrorCatchUp mirrorCatchUp;
    private final int sampleKeys;
    private final ComparisonRules rules;
    private final String checkpointTable;
    private final boolean createTables;
    private final boolean resume;
    private final Duration timeBudget;
    private final Clock clock;
    private final int mismatchLinesPerMinute;
    private final String owner;
    private final Duration lease;
    private final ObservationRegistry observationRegistry;

    private ReconcileConfig(Builder b) {
        this.chunkSize = b.chunkSize;
        this.rowsPerSecond = b.rowsPerSecond;
        this.windowFrom = b.windowFrom;
        this.windowTo = b.windowTo;
        this.checksums = b.checksums;
        this.dryRun = b.dryRun == null ? b.repairer == null : b.dryRun;
        this.repairer = b.repairer;
        this.rowRoutes = b.rowRoutes;
        this.ignoredRows = b.ignoredRows;
        this.mirrorCatchUp = b.mirrorCatchUp;
        this.sampleKeys = b.sampleKeys;
        this.rules = b.rules;
        this.checkpointTable = b.checkpointTable;
        this.createTables = b.createTables;
        this.resume = b.resume;
        this.timeBudget = b.timeBudget;
        this.clock = b.clock;
        this.mismatchLinesPerMinute = b.mismatchLinesPerMinute;
        this.owner = b.owner;
        this.lease = b.lease;
        this.observationRegistry = b.observationRegistry;
    }

    /** @return a new builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the defaults: whole tables, dry run, checksums where possible */
    public static ReconcileConfig defaults() {
        return builder().build();
    }

    /**
     * @return rows per chunk on each side; default 5,000. On the checksum path over a MariaDB or MySQL table with
     *     an integer key a chunk is a span of key values aimed at this many rows, and holds at most twice as many
     */
    public int chunkSize() {
        return chunkSize;
    }

    /** @return rows compared per second at most, 0 for no limit; default 0 */
    public long rowsPerSecond() {
        return rowsPerSecond;
    }

    /** @return the window's inclusive lower version bound, if any */
    public Optional<Object> windowFrom() {
        return Optional.ofNullable(windowFrom);
    }

    /** @return the window's exclusive upper version bound, if any */
    public Optional<Object> windowTo() {
        return Optional.ofNullable(windowTo);
    }

    /** @return whether same-dialect, same-schema tables compare chunk checksums first; default true */
    public boolean checksums() {
        return checksums;
    }

    /** @return whether differences are only reported, not repaired; default true */
    public boolean dryRun() {
        return dryRun;
    }

    /** @return the repairer, or {@code null} */
    public Repairer repairer() {
        return repairer;
    }

    /** @return rows left alone: neither counted, logged nor repaired; default none */
    public IgnoredRows ignoredRows() {
        return ignoredRows;
    }

    /** @return the mirrors a difference waits for before it is read again; default none (the pause alone) */
    public MirrorCatchUp mirrorCatchUp() {
        return mirrorCatchUp;
    }

    /** @return which store is primary for each row; default the source for all */
    public RowRoutes rowRoutes() {
        return rowRoutes;
    }

    /** @return sample keys kept per kind of difference; default 10 */
    public int sampleKeys() {
        return sampleKeys;
    }

    /** @return the comparison rules */
    public ComparisonRules rules() {
        return rules;
    }

    /** @return the checkpoint table in the target */
    public String checkpointTable() {
        return checkpointTable;
    }

    /** @return whether the checkpoint table is created when missing; default false */
    public boolean createTables() {
        return createTables;
    }

    /** @return whether an unfinished run of the same table and window resumes from its checkpoint; default true */
    public boolean resume() {
        return resume;
    }

    /** @return how long one run may take before it stops and leaves the rest to the next, if limited */
    public Optional<Duration> timeBudget() {
        return Optional.ofNullable(timeBudget);
    }

    /**
     * @return where each chunk is observed ({@value VerifyMetrics#RECONCILE_CHUNK_OBSERVATION}); default
     *     {@link ObservationRegistry#NOOP}
     */
    public ObservationRegistry observationRegistry() {
        return observationRegistry;
    }

    /** @return the clock of the time budget and the throttle */
    public Clock clock() {
        return clock;
    }

    /** @return mismatch lines written per table per minute; default 60 */
    public int mismatchLinesPerMinute() {
        return mismatchLinesPerMinute;
    }

    /** @return the table holding one lease per reconciled table: the checkpoint table's name plus {@code _lease} */
    public String leaseTable() {
        return checkpointTable + "_lease";
    }

    /** @return who this reconciler is in the lease table; default {@code pid@host} and a random suffix */
    public String owner() {
        return owner;
    }

    /** @return how long a table's lease lasts unless renewed (it is renewed as the run goes); default 2 minutes */
    public Duration lease() {
        return lease;
    }

    /** Builds a {@link ReconcileConfig}. */
    public static final class Builder {

        private int chunkSize = 5_000;
        private long rowsPerSecond;
        private Object windowFrom;
        private Object windowTo;
        private boolean checksums = true;
        /** Set by {@link #dryRun}; unset, a run repairs exactly when it has a repairer. */
        private Boolean dryRun;
        private Repairer repairer;
        private RowRoutes rowRoutes = RowRoutes.allSource();
        private IgnoredRows ignoredRows = IgnoredRows.none();
        private MirrorCatchUp mirrorCatchUp = MirrorCatchUp.none();
        private int sampleKeys = 10;
        private ComparisonRules rules = ComparisonRules.defaults();
        private String checkpointTable = DEFAULT_CHECKPOINT_TABLE;
        private boolean createTables;
        private boolean resume = true;
        private Duration timeBudget;
        private Clock clock = Clock.systemUTC();
        private int mismatchLinesPerMinute = 60;
        private String owner = ManagementFactory.getRuntimeMXBean().getName() + "/"
                + Long.toHexString(new SecureRandom().nextLong() & 0xffffffL);
        private Duration lease = Duration.ofMinutes(2);
        private ObservationRegistry observationRegistry = ObservationRegistry.NOOP;

        private Builder() {
        }

        /**
         * Sets the rows per chunk, read in key order on each side.
         *
         * @param rows 10..100,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder chunkSize(int rows) {
            this.chunkSize = Settings.range("dualwrite.verify.reconcile.chunk-size", rows, 10, 100_000);
            return this;
        }

        /**
         * Limits the rows compared per second, to spare the stores.
         *
         * @param rows rows per second, 0 for no limit
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder rowsPerSecond(long rows) {
            if (rows < 0) {
                throw new IllegalArgumentException("dualwrite.verify.reconcile.rows-per-second: must be 0 (no limit)"
                        + " or positive, was " + rows);
            }
            this.rowsPerSecond = rows;
            return this;
        }

        /**
         * Compares only rows whose version column falls in {@code [from, to)}, on each side (T+1: yesterday).
         * A row whose version is in the window on one side only is compared with the other side's row.
         *
         * @param from the inclusive lower bound (a value of the version column's type), or null
         * @param to the exclusive upper bound, or null
         * @return this builder
         * @throws IllegalArgumentException if both are null
         */
        public Builder window(Object from, Object to) {
            if (from == null && to == null) {
                throw new IllegalArgumentException("dualwrite.verify.reconcile.window: give a start, an end, or both");
            }
            this.windowFrom = from;
            this.windowTo = to;
            return this;
        }

        /**
         * Sets whether tables of the same dialect and schema compare chunk checksums computed in the database
         * first, reading rows only for chunks that differ.
         *
         * @param use true to use checksums where possible
         * @return this builder
         */
        public Builder checksums(boolean use) {
            this.checksums = use;
            return this;
        }

        /**
         * Repairs the differences found (the primary's state wins), through this repairer, usually
         * {@link Repairer#throughMirror}; unless {@link #dryRun dryRun(true)} was asked for, in either order.
         *
         * @param repairer the repairer
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder repairWith(Repairer repairer) {
            this.repairer = Objects.requireNonNull(repairer, "dualwrite.verify.reconcile.repair: the repairer is null");
            return this;
        }

        /**
         * Sets whether differences are only reported or also repaired, which needs {@link #repairWith}.
         * It wins over {@code repairWith} whichever is called first: a dry run writes nothing, ever. Unset,
         * a run repairs exactly when it has a repairer.
         *
         * @param dryRun true to only report
         * @return this builder
         */
        public Builder dryRun(boolean dryRun) {
            this.dryRun = dryRun;
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
         * Sets the mirrors of this instance that a difference waits for before it is read again and reported,
         * usually {@link MirrorCatchUp#of} the forward and reverse mirror: a change still waiting in an ASYNC
         * lane or the outbox when the rows were read is lag, not drift, and repairing it would report a
         * difference that was never there.
         *
         * @param catchUp the mirrors
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder mirrorCatchUp(MirrorCatchUp catchUp) {
            this.mirrorCatchUp = Objects.requireNonNull(catchUp, "mirrorCatchUp");
            return this;
        }

        /**
         * Sets which store is primary for a row during RAMP (the row's routing column through the router).
         *
         * @param routes the routes
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder rowRoutes(RowRoutes routes) {
            this.rowRoutes = Objects.requireNonNull(routes, "rowRoutes");
            return this;
        }

        /**
         * Sets how many keys of each kind of difference the report keeps.
         *
         * @param keys 0..1,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder sampleKeys(int keys) {
            this.sampleKeys = Settings.range("dualwrite.verify.reconcile.sample-keys", keys, 0, 1_000);
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
         * Sets the checkpoint table's name.
         *
         * @param table a plain table name
         * @return this builder
         * @throws IllegalArgumentException if not a plain name
         */
        public Builder checkpointTable(String table) {
            this.checkpointTable = Settings.tableName("dualwrite.verify.reconcile.checkpoint-table", table);
            return this;
        }

        /**
         * Sets whether the checkpoint table is created in the target when missing
         * ({@code dualwrite.schema.create}); otherwise a run fails with the DDL to run.
         *
         * @param create true to create it
         * @return this builder
         */
        public Builder createTables(boolean create) {
            this.createTables = create;
            return this;
        }

        /**
         * Sets whether an unfinished run of the same table and window resumes after its last chunk, or
         * starts over.
         *
         * @param resume true to resume
         * @return this builder
         */
        public Builder resume(boolean resume) {
            this.resume = resume;
            return this;
        }

        /**
         * Stops a run after this long; the report says it is incomplete and the next run resumes.
         *
         * @param budget the budget
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder timeBudget(Duration budget) {
            this.timeBudget = Settings.positive("dualwrite.verify.reconcile.time-budget", budget);
            return this;
        }

        /**
         * Observes every chunk compared (and repaired) as {@value VerifyMetrics#RECONCILE_CHUNK_OBSERVATION}
         * (low-cardinality keys {@code table} and {@code path}, {@code checksum} or {@code rows}), under the
         * observation current where the run was started.
         *
         * @param registry the registry, e.g. the application's; {@link ObservationRegistry#NOOP} for none
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder observationRegistry(ObservationRegistry registry) {
            this.observationRegistry = Objects.requireNonNull(registry, "registry");
            return this;
        }

        /**
         * Sets the clock of the time budget and the throttle (tests).
         *
         * @param clock the clock
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * Sets how many mismatch lines one table may write per minute.
         *
         * @param lines 1..100,000
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder mismatchLinesPerMinute(int lines) {
            this.mismatchLinesPerMinute = Settings.range("dualwrite.verify.reconcile.mismatch-lines-per-minute",
                    lines, 1, 100_000);
            return this;
        }

        /**
         * Names this reconciler in the lease table, so that the endpoint and the logs say which instance
         * is reconciling a table.
         *
         * @param name up to 255 characters
         * @return this builder
         * @throws IllegalArgumentException if blank or longer
         */
        public Builder owner(String name) {
            if (name == null || name.isBlank() || name.length() > 255) {
                throw new IllegalArgumentException("the reconciler's owner name must be 1 to 255 characters, was '"
                        + name + "'");
            }
            this.owner = name;
            return this;
        }

        /**
         * Sets how long a table's lease lasts unless renewed. A run renews it with its checkpoints (at least
         * every third of it); an instance that dies mid-run frees the table after this long.
         *
         * @param duration at least 3 seconds
         * @return this builder
         * @throws IllegalArgumentException if shorter
         */
        public Builder lease(Duration duration) {
            Settings.positive("dualwrite.verify.reconcile.lease", duration);
            if (duration.compareTo(Duration.ofSeconds(3)) < 0) {
                throw new IllegalArgumentException("dualwrite.verify.reconcile.lease must be at least 3 s, was "
                        + duration);
            }
            this.lease = duration;
            return this;
        }

        /**
         * @return the config
         * @throws IllegalArgumentException if repair is asked for without a repairer
         */
        public ReconcileConfig build() {
            if (Boolean.FALSE.equals(dryRun) && repairer == null) {
                throw new IllegalArgumentException("dualwrite.verify.reconcile.dry-run=false needs a repairer:"
                        + " call repairWith(Repairer.throughMirror(mirror, timeout))");
            }
            return new ReconcileConfig(this);
        }
    }
}
