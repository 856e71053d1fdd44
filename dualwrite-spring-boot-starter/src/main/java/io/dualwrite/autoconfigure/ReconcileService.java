package io.dualwrite.autoconfigure;

import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.verify.ReconcileBusyException;
import io.dualwrite.verify.ReconcileConfig;
import io.dualwrite.verify.ReconcileReport;
import io.dualwrite.verify.Reconciler;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.scheduling.concurrent.ThreadPoolTaskScheduler;
import org.springframework.scheduling.support.CronTrigger;

/**
 * Runs the reconciler for the endpoint and on {@code dualwrite.verify.reconcile.cron}: every mapped table,
 * or one, whole or over the last {@code dualwrite.verify.reconcile.window} of versions; keeps each table's
 * last report in {@link VerifyStatus}. One run at a time per instance.
 */
public final class ReconcileService implements AutoCloseable {

    private static final Log log = LogFactory.getLog(ReconcileService.class);

    private final Supplier<ReconcileConfig.Builder> config;
    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final VerifyStatus status;
    private final Duration window;
    /** One run at a time; not the object's monitor, so that closing never waits for a run. */
    private final Object runs = new Object();
    private volatile ThreadPoolTaskScheduler scheduler;

    /**
     * @param config a fresh builder with the settings each run shares (repair, routes, throttle)
     * @param tables the mapped tables
     * @param source the source store
     * @param target the target store
     * @param status where reports go
     * @param window the window of versions a scheduled run compares, or null for whole tables
     */
    public ReconcileService(Supplier<ReconcileConfig.Builder> config, MappedTables tables, DataSource source,
            DataSource target, VerifyStatus status, Duration window) {
        this.config = Objects.requireNonNull(config, "config");
        this.tables = Objects.requireNonNull(tables, "tables");
        this.source = Objects.requireNonNull(source, "source");
        this.target = Objects.requireNonNull(target, "target");
        this.status = Objects.requireNonNull(status, "status");
        this.window = window;
    }

    /** @return a reconciler over whole tables with the shared settings */
    Reconciler wholeTables() {
        return Reconciler.create(config.get().build(), tables, source, target, status);
    }

    /**
     * Reconciles tables now.
     *
     * @param table one source table, or null for every mapped table
     * @param windowed whether to compare only the last window of versions
     * @return each table's report, or the reason it failed
     * @throws IllegalArgumentException if the table is not mapped
     */
    public Map<String, Object> run(String table, boolean windowed) {
        synchronized (runs) {
            return runLocked(table, windowed);
        }
    }

    private Map<String, Object> runLocked(String table, boolean windowed) {
        Map<String, Object> results = new LinkedHashMap<>();
        for (MappedTable mapped : table == null ? tables.all() : java.util.List.of(tables.get(table))) {
            ReconcileConfig.Builder builder = config.get();
            if (windowed && window != null && mapped.mapping().versionColumn().isPresent()) {
                Instant to = Instant.now();
                builder.window(Timestamp.from(to.minus(window)), Timestamp.from(to));
            }
            try {
                ReconcileReport report = Reconciler.create(builder.build(), tables, source, target, status)
                        .run(mapped.name());
                status.reconciled(report);
                log.info("dualwrite " + report);
                results.put(mapped.name(), report);
            } catch (ReconcileBusyException busy) {
                // Another instance is checking this table right now: once is enough.
                log.info("dualwrite reconcile of " + mapped.name() + " skipped: " + busy.getMessage());
                results.put(mapped.name(), "skipped: " + busy.getMessage());
            } catch (SQLException | RuntimeException e) {
                status.reconcileFailed(mapped.name(), e.getMessage());
                log.warn("dualwrite reconcile of " + mapped.name() + " failed: " + e.getMessage());
                results.put(mapped.name(), "failed: " + e.getMessage());
            }
        }
        return results;
    }

    /**
     * Schedules runs of every table on a cron expression.
     *
     * @param cron a Spring cron expression
     * @throws IllegalArgumentException naming {@code dualwrite.verify.reconcile.cron} if it does not parse
     */
    synchronized void schedule(String cron) {
        CronTrigger trigger;
        try {
            trigger = new CronTrigger(cron);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("dualwrite.verify.reconcile.cron: '" + cron + "' is not a cron"
                    + " expression (six fields, e.g. \"0 0 3 * * *\"): " + e.getMessage(), e);
        }
        scheduler = new ThreadPoolTaskScheduler();
        scheduler.setThreadNamePrefix("dualwrite-reconcile-");
        scheduler.setDaemon(true);
        scheduler.initialize();
        scheduler.schedule(() -> run(null, true), trigger);
    }

    @Override
    public void close() {
        ThreadPoolTaskScheduler current = scheduler;
        if (current != null) {
            current.shutdown();
        }
    }
}
