package io.dualwrite.autoconfigure;

import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import java.sql.SQLException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Whether a table's backfill is done, asked on the request thread before a read is sampled: the
 * checkpoint table is read at most every ten seconds per table, and a table once done stays done.
 */
final class BackfillDoneCache {

    private static final long RECHECK_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final BackfillRunner backfill;
    private final Set<String> done = ConcurrentHashMap.newKeySet();
    private final Map<String, Long> checkedAt = new ConcurrentHashMap<>();

    BackfillDoneCache(BackfillRunner backfill) {
        this.backfill = backfill;
    }

    boolean isDone(String table) {
        if (done.contains(table)) {
            return true;
        }
        long now = System.nanoTime();
        Long last = checkedAt.get(table);
        if (last != null && now - last < RECHECK_NANOS) {
            return false;
        }
        checkedAt.put(table, now);
        try {
            if (backfill.progress(table).status() == BackfillStatus.DONE) {
                done.add(table);
                return true;
            }
        } catch (SQLException | RuntimeException e) {
            // Unknown counts as not done: no comparison is better than a flood of expected differences.
        }
        return false;
    }
}
