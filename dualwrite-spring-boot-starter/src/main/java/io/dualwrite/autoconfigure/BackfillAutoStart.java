package io.dualwrite.autoconfigure;

import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Phase;
import java.sql.SQLException;
import java.util.List;
import java.util.function.Supplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.context.SmartLifecycle;

/**
 * {@code dualwrite.backfill.auto-start=true}: starts, or continues from its checkpoint, every mapped
 * table's backfill once the context is up, parents before children ({@link BackfillRunner#startAll}). A table an operator paused stays paused, and one already
 * done is left alone; a table that cannot start is logged, never a reason to stop the application.
 * In RAMP and TARGET_ONLY nothing starts (the runner's gate would refuse each table anyway): one error
 * line says why.
 */
final class BackfillAutoStart implements SmartLifecycle {

    private static final Log log = LogFactory.getLog(BackfillAutoStart.class);

    private final BackfillRunner backfill;
    private final MappedTables tables;
    private final Supplier<Phase> phase;
    private volatile boolean running;

    BackfillAutoStart(BackfillRunner backfill, MappedTables tables, Supplier<Phase> phase) {
        this.backfill = backfill;
        this.tables = tables;
        this.phase = phase;
    }

    @Override
    public void start() {
        if (!phase.get().sourceIsPrimaryOfEveryRow()) {
            log.error("dualwrite.backfill.auto-start ignored in phase " + phase.get() + ": users routed to the target"
                    + " write there, and a backfill would copy older source rows over their writes. Step back to"
                    + " DUAL_WRITE to finish the backfill, or reconcile the tables");
            running = true;
            return;
        }
        if (!phase.get().mirrors()) {
            log.warn("dualwrite.backfill.auto-start in phase " + phase.get() + ": changes are not captured in this"
                    + " phase, so rows written during the backfill may be missing in the target until the reconciler"
                    + " runs");
        }
        for (MappedTable table : tables.all()) {
            try {
                BackfillProgress progress = backfill.progress(table.name());
                if (progress.status() == BackfillStatus.PAUSED) {
                    log.info("dualwrite backfill of " + table.name() + " stays paused ("
                            + progress.lastError().orElse("no reason given") + "); resume it through the endpoint");
                }
            } catch (SQLException | RuntimeException e) {
                log.error("dualwrite could not read the backfill progress of " + table.name(), e);
            }
        }
        try {
            // Parents before children, by the target's foreign keys or dualwrite.backfill.order.
            backfill.startAll(List.of());
        } catch (IllegalStateException cycle) {
            log.error("dualwrite.backfill.auto-start started nothing: " + cycle.getMessage());
        } catch (SQLException | RuntimeException e) {
            log.error("dualwrite could not start the backfills", e);
        }
        running = true;
    }

    @Override
    public void stop() {
        // The runner's own close (at context shutdown) hands the leased ranges back.
        running = false;
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
