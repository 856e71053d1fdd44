package io.dualwrite.mirror;

import io.dualwrite.capture.Change;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Where the keys go that the lanes cannot hold (a full queue, typically because the target is down, or
 * a mirror already closed). With an outbox table in the source they are <b>spilled</b>: written to it in a
 * short transaction of their own, on the library's connection, never the application's, and the outbox
 * relay applies them once the target answers, with the same locked apply as every other key. Without one
 * they are <b>parked</b> for the reconciler: each is counted, published and written to the dead-letter
 * log, the health check says so, and the mirror's log says so once a minute. Nothing waits for the
 * target here: an application thread waits for one pooled connection and one insert on the source, and
 * a key not written within {@link MirrorConfig#waitLimit()} is parked rather than waited for.
 */
final class Overflow {

    private static final Log log = LogFactory.getLog(Mirror.class);

    /** Whether the outbox table is there to spill to. */
    enum Table {
        /** Not known yet (the source could not be asked at start): the first spill finds out. */
        UNKNOWN,
        PRESENT,
        ABSENT
    }

    private final MirrorConfig config;
    private final DataSource source;
    private final OutboxStore store;
    private final EventPublisher events;
    private final Runnable onSpill;
    private final long logIntervalNanos;
    private final AtomicLong spilled = new AtomicLong();
    private final AtomicLong parked = new AtomicLong();
    private volatile Table table = Table.UNKNOWN;
    private long lastLineNanos;
    private long parkedSinceLine;
    private Instant parkingSince;
    private String parkingReason;

    /**
     * @param source the store whose outbox table takes the keys, through the library's own pool
     * @param onSpill called after each spill, so that the outbox relay runs from the first one on
     * @param logInterval how often the parking line repeats
     */
    Overflow(MirrorConfig config, DataSource source, OutboxStore store, EventPublisher events, Runnable onSpill,
            Duration logInterval) {
        this.config = config;
        this.source = source;
        this.store = store;
        this.events = events;
        this.onSpill = onSpill;
        this.logIntervalNanos = logInterval.toNanos();
    }

    void table(Table found) {
        this.table = found;
    }

    Table table() {
        return table;
    }

    /** Spills or parks keys on an application thread, within the wait limit. */
    void accept(Collection<Change> changes, long committedAtNanos) {
        take(changes, committedAtNanos, config.waitLimit());
    }

    /** Spills or parks the keys a closing mirror could not apply, within its shutdown timeout. */
    void acceptAtClose(Collection<Change> changes, long committedAtNanos) {
        Duration shutdown = config.shutdownTimeout();
        take(changes, committedAtNanos, shutdown.isZero() ? config.waitLimit() : shutdown);
    }

    private void take(Collection<Change> changes, long committedAtNanos, Duration patience) {
        String reason;
        if (table == Table.ABSENT) {
            reason = "the outbox table '" + config.outboxTable() + "' does not exist to spill to";
        } else {
            try {
                spill(changes, committedAtNanos, System.nanoTime() + patience.toNanos());
                return;
            } catch (SQLException | RuntimeException e) {
                reason = "spilling to the outbox table '" + config.outboxTable() + "' failed: " + Failures.describe(e);
            }
        }
        park(changes, reason);
    }

    private void spill(Collection<Change> changes, long committedAtNanos, long deadlineNanos) throws SQLException {
        try (Connection connection = source.getConnection()) {
            long leftMillis = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
            if (leftMillis <= 0) {
                throw new SQLException("no connection to the source within dualwrite.wait-limit ("
                        + config.waitLimit() + ")");
            }
            try {
                // Put back when the connection returns to its pool (HikariCP, or RestoringDataSource).
                connection.setNetworkTimeout(Runnable::run, (int) Math.min(Integer.MAX_VALUE, leftMillis));
            } catch (SQLFeatureNotSupportedException embedded) {
                // H2 in-process has no network to wait on.
            }
            connection.setAutoCommit(false);
            try {
                long committedAtMillis = System.currentTimeMillis()
                        - TimeUnit.NANOSECONDS.toMillis(Math.max(0, System.nanoTime() - committedAtNanos));
                store.insert(connection, changes, committedAtMillis);
                connection.commit();
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
                throw e;
            }
        }
        spilled.addAndGet(changes.size());
        Map<String, Integer> byTable = new LinkedHashMap<>();
        changes.forEach(change -> byTable.merge(change.table(), 1, Integer::sum));
        byTable.forEach((name, keys) -> events.publish(new DualWriteEvent.KeysSpilled(name, keys)));
        table = Table.PRESENT;
        onSpill.run();
    }

    private void park(Collection<Change> changes, String reason) {
        parked.addAndGet(changes.size());
        for (Change change : changes) {
            Failures.DEAD_LETTER.error("dualwrite parked key: table=" + change.table() + " key=" + change.key()
                    + " attempts=0 reason=the mirror's queue was full and " + reason);
            events.publish(new DualWriteEvent.KeyParked(change.table(), change.key(), "queue full; " + reason));
        }
        long now = System.nanoTime();
        synchronized (this) {
            parkedSinceLine += changes.size();
            if (parkingSince == null) {
                parkingSince = Instant.now();
            }
            parkingReason = reason;
            if (lastLineNanos != 0 && now - lastLineNanos < logIntervalNanos) {
                return;
            }
            String what = lastLineNanos == 0 ? "parks keys" : "parked " + parkedSinceLine + " more keys";
            lastLineNanos = now;
            log.warn("dualwrite mirror " + what + " (" + parked.get() + " since start): its queue"
                    + " (dualwrite.mirror.queue-capacity=" + config.queueCapacity() + ") was full, typically"
                    + " because the target is down, and " + reason + ". The application's writes go on; run the reconciler once"
                    + " the target is back, or create the outbox table (dualwrite.schema.create=true) so that such"
                    + " keys are spilled and applied instead");
            parkedSinceLine = 0;
        }
    }

    /** @return keys spilled to the outbox table since start */
    long spilled() {
        return spilled.get();
    }

    /** @return keys parked because they could be neither queued nor spilled, since start */
    long parked() {
        return parked.get();
    }

    /** @return what the health check says while keys are being parked, or empty when none has been */
    synchronized Optional<String> parking() {
        return parkingSince == null ? Optional.empty() : Optional.of(parked.get() + " keys parked since "
                + parkingSince + " because the queue was full and " + parkingReason + "; the reconciler repairs them");
    }

    /** @return the start-up line of a mirror that will park, not spill, what its queue cannot hold */
    String parksWhenFull() {
        return "dualwrite mirror (dualwrite.mirror.mode=" + config.mode() + ") has no outbox table '"
                + config.outboxTable() + "' in the source: when its queue (dualwrite.mirror.queue-capacity="
                + config.queueCapacity() + ") is full, as in a target outage, the keys it cannot hold are parked for"
                + " the reconciler instead of spilled and applied later. Create the table to spill them:\n" + store.ddl()
                + "\nor set dualwrite.schema.create=true";
    }
}
