package io.dualwrite.verify;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Route;
import io.micrometer.observation.Observation;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Sampled double reads: for a share of the application's reads, the same row is read from both stores off
 * the caller's thread, mapped to the target's shape, normalised and compared, and a confirmed mismatch is
 * written as one JSON line on the logger {@code dualwrite.mismatch}.
 *
 * <pre>{@code
 * DoubleReader reader = DoubleReader.create(DoubleReadConfig.builder().sampleRate(0.01).build(),
 *         tables, source, target, metrics);
 * Order order = reader.read("t_order", id, () -> orders.find(id));   // or @DualRead + reader.aspect()
 * }</pre>
 *
 * <p>The caller's result is always its own read from the primary; the comparison runs later on a bounded
 * executor. A sample that finds the executor saturated is dropped and counted, never waited for, and
 * whatever fails during a comparison is recorded as an event, never thrown to the caller.
 *
 * <p>The other store is read before the primary: whatever the other store holds was mirrored from a state
 * the primary committed earlier, so a difference whose primary version is newer (or a row only one store
 * holds) is likely lag. It is compared again after {@link DoubleReadConfig#lagRecheckDelay()} and reported
 * only if it persists. A comparison that runs after the routing moved on (a step began or became active since
 * the sample, {@link DoubleReadConfig#routingVersion()}) is dropped: the store it reads as the primary may no
 * longer be the key's, and the new primary's fresh write, not yet mirrored back, would look like a mismatch.
 * Thread-safe.
 */
public final class DoubleReader implements AutoCloseable {

    private static final Log log = LogFactory.getLog(DoubleReader.class);

    private final DoubleReadConfig config;
    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final VerifyEvent.Listener listener;
    private final Map<String, RowDiff> diffs = new ConcurrentHashMap<>();
    private final Cache<Sample, Boolean> recentlyCompared;
    private final ThreadPoolExecutor executor;
    private final ScheduledExecutorService rechecks;
    private final MismatchLog mismatchLog;
    private final AtomicInteger inFlight = new AtomicInteger();

    private record Sample(String table, RowKey key) {
    }

    /** The route the sampled request had, and the version of the routing that gave it. */
    private record Primary(Route route, long routingVersion) {
    }

    private DoubleReader(DoubleReadConfig config, MappedTables tables, DataSource source, DataSource target,
            VerifyEvent.Listener listener) {
        this.config = config;
        this.tables = tables;
        this.source = source;
        this.target = target;
        this.listener = listener;
        this.recentlyCompared = Caffeine.newBuilder().maximumSize(config.recentlyComparedKeys())
                .expireAfterWrite(config.recentlyComparedFor()).build();
        this.executor = new ThreadPoolExecutor(config.threads(), config.threads(), 0, TimeUnit.MILLISECONDS,
                new ArrayBlockingQueue<>(config.queueCapacity()), daemons("dualwrite-double-read-"),
                new ThreadPoolExecutor.AbortPolicy());
        ScheduledThreadPoolExecutor scheduler = new ScheduledThreadPoolExecutor(1, daemons("dualwrite-lag-recheck-"));
        scheduler.setRemoveOnCancelPolicy(true);
        this.rechecks = scheduler;
        this.mismatchLog = new MismatchLog(config.mismatchLinesPerMinute(), System::nanoTime);
    }

    /**
     * Creates a double reader; its threads start with the first sample.
     *
     * @param config the settings
     * @param tables the checked table mappings
     * @param source the source data source
     * @param target the target data source
     * @param listener where events go, e.g. a {@link VerifyMetrics}
     * @return the double reader
     * @throws NullPointerException if an argument is null
     */
    public static DoubleReader create(DoubleReadConfig config, MappedTables tables, DataSource source,
            DataSource target, VerifyEvent.Listener listener) {
        return new DoubleReader(Objects.requireNonNull(config, "config"), Objects.requireNonNull(tables, "tables"),
                Objects.requireNonNull(source, "source"), Objects.requireNonNull(target, "target"),
                Objects.requireNonNull(listener, "listener"));
    }

    /**
     * Runs the caller's read and, for a sampled share of calls, schedules the comparison of the row on both
     * stores. Nothing the comparison does reaches the caller.
     *
     * @param table the source table, as mapped
     * @param key the row's source key (a value, or a list or array for a composite key)
     * @param primaryRead the application's own read, from the primary
     * @param <T> the read's result type
     * @return the result of {@code primaryRead}
     */
    public <T> T read(String table, Object key, Supplier<T> primaryRead) {
        T result = primaryRead.get();
        try {
            sample(table, key);
        } catch (RuntimeException e) {
            log.warn("dualwrite could not sample a double read of table '" + table + "', key " + key + ": "
                    + e.getMessage());
        }
        return result;
    }

    /**
     * Samples one read: with the table's sample rate, unless the key was compared recently, schedules the
     * comparison of the row on both stores. Returns at once; never waits for the comparison.
     *
     * @param table the source table, as mapped
     * @param key the row's source key
     * @return true if a comparison was scheduled
     * @throws IllegalArgumentException if the table is not mapped or the key is null or has a null value
     */
    public boolean sample(String table, Object key) {
        MappedTable mapped = tables.get(table);
        double rate = config.sampleRate(mapped.name());
        if (rate <= 0 || rate < 1 && ThreadLocalRandom.current().nextDouble() >= rate
                || !config.comparing().test(mapped.name())) {
            return false;
        }
        RowKey rowKey = RowKey.from(key);
        try {
            // One form per key, so that "recently compared" knows a uuid recorded as text from the uuid itself.
            rowKey = mapped.source().canonicalKey(rowKey);
        } catch (IllegalArgumentException doesNotFit) {
            // Compared as given: the read then finds no row on either side, which is no mismatch.
        }
        Sample sample = new Sample(mapped.name(), rowKey);
        if (recentlyCompared.asMap().putIfAbsent(sample, Boolean.TRUE) != null) {
            return false;
        }
        Route route = config.currentRoute().get();
        Primary primary = new Primary(route == null ? Route.SOURCE : route, config.routingVersion().getAsLong());
        // The request's observation, so that the comparison shows in its trace though it runs elsewhere.
        Observation parent = config.observationRegistry().getCurrentObservation();
        return submit(sample, primary, 0, parent);
    }

    private boolean submit(Sample sample, Primary primary, int attempt, Observation parent) {
        inFlight.incrementAndGet();
        try {
            executor.execute(() -> {
                try {
                    compare(sample, primary, attempt, parent);
                } finally {
                    inFlight.decrementAndGet();
                }
            });
            return true;
        } catch (RejectedExecutionException saturated) {
            inFlight.decrementAndGet();
            // Forget it, so that a later sample of the key is not skipped for a comparison that never ran.
            recentlyCompared.invalidate(sample);
            publish(new VerifyEvent.ReadDropped(sample.table()));
            return false;
        }
    }

    /** One comparison, observed as {@link VerifyMetrics#DOUBLE_READ_OBSERVATION}. */
    private void compare(Sample sample, Primary primary, int attempt, Observation parent) {
        Observation observation = Observation.createNotStarted(VerifyMetrics.DOUBLE_READ_OBSERVATION,
                config.observationRegistry()).contextualName("dualwrite double read " + sample.table())
                .parentObservation(parent).lowCardinalityKeyValue("table", sample.table())
                .highCardinalityKeyValue("attempt", String.valueOf(attempt)).start();
        try (Observation.Scope scope = observation.openScope()) {
            observation.lowCardinalityKeyValue("outcome", compare(sample, primary, attempt, parent, observation));
        } finally {
            observation.stop();
        }
    }

    /** @return how it ended: match, mismatch, lag (re-checked later), route-changed (dropped) or failed */
    private String compare(Sample sample, Primary primary, int attempt, Observation parent, Observation observation) {
        String table = sample.table();
        try {
            RowDiff diff = diffs.computeIfAbsent(table.toLowerCase(Locale.ROOT),
                    t -> new RowDiff(tables.get(table), config.rules()));
            MappedTable mapped = diff.table();
            RowKey targetKey = mapped.toTargetKey(sample.key());
            Row sourceRow;
            Row targetRow;
            if (primary.route() == Route.SOURCE) {
                targetRow = readOne(target, mapped, targetKey, false);
                sourceRow = readOne(source, mapped, sample.key(), true);
            } else {
                sourceRow = readOne(source, mapped, sample.key(), true);
                targetRow = readOne(target, mapped, targetKey, false);
            }
            if (primary.routingVersion() != config.routingVersion().getAsLong()) {
                // A step began or became active since the sample: the store read as the primary may no longer
                // be the key's, and the new primary's fresh write would look like a mismatch. A later read of
                // the key is sampled afresh, with its own route.
                recentlyCompared.invalidate(sample);
                return "route-changed";
            }
            if (config.ignoredRows().ignores(table, sample.key(), sourceRow, targetRow)) {
                // Marked as not mirrored: it differs on purpose until it is unmarked and copied again.
                return "ignored";
            }
            Row mappedSource = sourceRow == null ? null : diff.toTargetShape(sourceRow);
            Mismatch.Kind kind = null;
            List<String> columns = List.of();
            if (mappedSource != null && targetRow == null) {
                kind = Mismatch.Kind.MISSING_IN_TARGET;
            } else if (mappedSource == null && targetRow != null) {
                kind = Mismatch.Kind.EXTRA_IN_TARGET;
            } else if (mappedSource != null) {
                columns = diff.differences(mappedSource, targetRow);
                kind = columns.isEmpty() ? null : Mismatch.Kind.DIFFERENT;
            }
            if (attempt == 0) {
                publish(new VerifyEvent.ReadCompared(table, kind == null));
            }
            if (kind == null) {
                return "match";
            }
            int versions = kind == Mismatch.Kind.DIFFERENT ? diff.compareVersions(mappedSource, targetRow) : 0;
            boolean primaryNewer = primary.route() == Route.SOURCE ? versions > 0 : versions < 0;
            if ((kind != Mismatch.Kind.DIFFERENT || primaryNewer) && attempt < config.lagRechecks()) {
                publish(new VerifyEvent.LagRecheck(table, attempt + 1));
                scheduleRecheck(sample, primary, attempt + 1, parent);
                return "lag";
            }
            confirm(diff, diff.mismatch(sample.key(), kind, primary.route(), orEmpty(mappedSource),
                    orEmpty(targetRow), columns));
            return "mismatch";
        } catch (SQLException | RuntimeException e) {
            log.debug("dualwrite double read of table '" + table + "', key " + sample.key() + " failed", e);
            observation.error(e);
            publish(new VerifyEvent.ReadFailed(table, e));
            return "failed";
        }
    }

    private void scheduleRecheck(Sample sample, Primary primary, int attempt, Observation parent) {
        inFlight.incrementAndGet();
        try {
            rechecks.schedule(() -> {
                try {
                    submit(sample, primary, attempt, parent);
                } finally {
                    inFlight.decrementAndGet();
                }
            }, config.lagRecheckDelay().toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closed) {
            inFlight.decrementAndGet();
        }
    }

    private void confirm(RowDiff diff, Mismatch mismatch) {
        boolean logged = mismatchLog.write(VerifyEvent.Check.DOUBLE_READ, mismatch);
        publish(new VerifyEvent.MismatchFound(mismatch.table(), VerifyEvent.Check.DOUBLE_READ, mismatch, logged));
        if (!config.repair()) {
            return;
        }
        try {
            Set<RowKey> failed = config.repairer().repair(mismatch.table(), mismatch.primary(),
                    List.of(mismatch.key()));
            publish(new VerifyEvent.Repaired(mismatch.table(), VerifyEvent.Check.DOUBLE_READ, 1 - failed.size(),
                    failed.size()));
        } catch (SQLException | RuntimeException e) {
            log.warn("dualwrite could not repair table '" + mismatch.table() + "', key " + mismatch.key() + ": "
                    + io.dualwrite.jdbc.SqlErrors.describe(e));
            publish(new VerifyEvent.Repaired(mismatch.table(), VerifyEvent.Check.DOUBLE_READ, 0, 1));
        }
    }

    private static Row orEmpty(Row row) {
        return row == null ? Row.of(Map.of()) : row;
    }

    private static Row readOne(DataSource dataSource, MappedTable table, RowKey key, boolean sourceSide)
            throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            return (sourceSide ? table.source() : table.target()).readByKeys(connection, List.of(key), false)
                    .values().stream().findFirst().orElse(null);
        }
    }

    private void publish(VerifyEvent event) {
        try {
            listener.onEvent(event);
        } catch (RuntimeException e) {
            log.warn("dualwrite verify listener " + listener + " failed on " + event.getClass().getSimpleName(), e);
        }
    }

    /**
     * Waits until no comparison is queued, running or waiting for a lag re-check; for tests and shutdown.
     *
     * @param timeout the longest wait
     * @return true if quiet, false on timeout
     * @throws InterruptedException if interrupted while waiting
     */
    boolean awaitQuiet(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (inFlight.get() > 0) {
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(5);
        }
        return true;
    }

    /** Stops the comparison threads; queued comparisons and pending re-checks are dropped. */
    @Override
    public void close() {
        rechecks.shutdownNow();
        executor.shutdownNow();
    }

    private static ThreadFactory daemons(String prefix) {
        AtomicInteger count = new AtomicInteger();
        return runnable -> {
            Thread thread = new Thread(runnable, prefix + count.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        };
    }
}
