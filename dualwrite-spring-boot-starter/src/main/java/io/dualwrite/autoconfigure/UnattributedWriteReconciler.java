package io.dualwrite.autoconfigure;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.DualWriteEventListener;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.springframework.beans.factory.DisposableBean;

/**
 * Under {@code dualwrite.capture.unattributable=WARN}, a write whose rows the capturing data source could
 * not tell ran unmirrored: the table is reconciled a little later (one run per table however many such
 * writes arrive meanwhile), so the rows it changed are repaired.
 */
final class UnattributedWriteReconciler implements DualWriteEventListener, DisposableBean {

    private final ReconcileService reconcile;
    private final Duration delay;
    private final Set<String> scheduled = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(runnable -> {
        Thread thread = new Thread(runnable, "dualwrite-unattributed-reconcile");
        thread.setDaemon(true);
        return thread;
    });

    UnattributedWriteReconciler(ReconcileService reconcile, Duration delay) {
        this.reconcile = reconcile;
        this.delay = delay;
    }

    @Override
    public void onEvent(DualWriteEvent event) {
        if (event instanceof DualWriteEvent.UnattributedWrite write && scheduled.add(write.table())) {
            executor.schedule(() -> {
                scheduled.remove(write.table());
                reconcile.run(write.table(), false);
            }, delay.toMillis(), TimeUnit.MILLISECONDS);
        }
    }

    @Override
    public void destroy() {
        executor.shutdownNow();
    }
}
