package io.dualwrite.autoconfigure;

import io.dualwrite.verify.ReconcileReport;
import io.dualwrite.verify.VerifyEvent;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What verification has seen, for the endpoint, the ramp guard and the sample's report: reads compared
 * and confirmed mismatches (in total and over a recent window), and each table's last reconcile report.
 * Every verifier event passes through here on its way to the meters.
 */
public final class VerifyStatus implements VerifyEvent.Listener {

    /** The window the recent mismatch rate covers. */
    static final Duration RECENT = Duration.ofMinutes(10);

    private final List<VerifyEvent.Listener> next = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final AtomicLong compared = new AtomicLong();
    private final AtomicLong mismatches = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong repaired = new AtomicLong();
    private final Deque<long[]> recent = new ArrayDeque<>();
    private final Map<String, ReconcileReport> lastReports = new ConcurrentHashMap<>();
    private final Map<String, String> lastFailures = new ConcurrentHashMap<>();

    /** Creates an empty status. */
    public VerifyStatus() {
    }

    /**
     * Passes every event on to another listener too, such as the verifier's meters.
     *
     * @param listener the listener
     */
    public void forwardTo(VerifyEvent.Listener listener) {
        next.add(java.util.Objects.requireNonNull(listener, "listener"));
    }

    @Override
    public void onEvent(VerifyEvent event) {
        if (event instanceof VerifyEvent.ReadCompared read) {
            compared.incrementAndGet();
            // A first comparison that differs is often lag (or a row the backfill has not reached yet) and is
            // re-checked; only a MismatchFound confirms it, so only that counts against the rate.
            remember(1, 0);
        } else if (event instanceof VerifyEvent.MismatchFound found && found.check() == VerifyEvent.Check.DOUBLE_READ) {
            mismatches.incrementAndGet();
            remember(0, 1);
        } else if (event instanceof VerifyEvent.ReadDropped) {
            dropped.incrementAndGet();
        } else if (event instanceof VerifyEvent.Repaired done) {
            repaired.addAndGet(done.repaired());
        }
        for (VerifyEvent.Listener listener : next) {
            listener.onEvent(event);
        }
    }

    private synchronized void remember(int reads, int mismatch) {
        long now = System.nanoTime();
        long[] last = recent.peekLast();
        long bucket = now / 1_000_000_000L;
        if (last != null && last[0] == bucket) {
            last[1] += reads;
            last[2] += mismatch;
        } else {
            recent.addLast(new long[] {bucket, reads, mismatch});
        }
        long oldest = bucket - RECENT.toSeconds();
        while (!recent.isEmpty() && recent.peekFirst()[0] < oldest) {
            recent.removeFirst();
        }
    }

    /** @return confirmed double-read mismatches among reads compared over the last ten minutes, 0..1 */
    public synchronized double recentMismatchRate() {
        long oldest = System.nanoTime() / 1_000_000_000L - RECENT.toSeconds();
        long reads = 0;
        long bad = 0;
        for (long[] bucket : recent) {
            if (bucket[0] >= oldest) {
                reads += bucket[1];
                bad += bucket[2];
            }
        }
        return reads == 0 ? 0 : (double) bad / reads;
    }

    /** @param report a finished reconcile run */
    void reconciled(ReconcileReport report) {
        lastReports.put(report.table(), report);
        lastFailures.remove(report.table());
    }

    /** @param table a table whose reconcile failed @param why the reason */
    void reconcileFailed(String table, String why) {
        lastFailures.put(table, why + " at " + Instant.now());
    }

    /** @return the last reconcile report of each table */
    public Map<String, ReconcileReport> lastReports() {
        return Map.copyOf(lastReports);
    }

    /** @return reads compared, mismatches confirmed, reads dropped, rows repaired since start */
    public Map<String, Object> counts() {
        Map<String, Object> counts = new LinkedHashMap<>();
        counts.put("readsCompared", compared.get());
        counts.put("readMismatches", mismatches.get());
        counts.put("readsDropped", dropped.get());
        counts.put("recentMismatchRate", recentMismatchRate());
        counts.put("rowsRepaired", repaired.get());
        return counts;
    }

    /** @return the reason of each table's last failed reconcile, if its last run failed */
    public Map<String, String> lastFailures() {
        return Map.copyOf(lastFailures);
    }
}
