package io.dualwrite.mirror;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Applies outbox rows: claims a batch with {@code FOR UPDATE SKIP LOCKED} (so any number of instances
 * share the outbox) and the other rows of the hot keys in it, applies each key once through
 * {@link MirrorApplier}, and in the same outbox transaction deletes what was applied and reschedules or
 * parks what was not. A crash at any point leaves the rows in the outbox for the next relay: nothing
 * committed is lost. Woken right after each local commit, and polls otherwise, so it also picks up other
 * instances' leftovers. While the target is out of reach the rows stay due and the relay backs off, up to
 * {@link #OUTAGE_PROBE_LIMIT}.
 */
final class OutboxRelay implements AutoCloseable {

    private static final Log log = LogFactory.getLog(OutboxRelay.class);

    /** How many more rows of the claimed keys one claim may take, per row of the batch size: bounds its memory. */
    private static final int SAME_KEY_ROWS_PER_CLAIMED_ROW = 10;

    /** The longest the relay waits between tries while the target is out of reach. */
    static final Duration OUTAGE_PROBE_LIMIT = Duration.ofSeconds(1);

    private final MirrorConfig config;
    private final MappedTables tables;
    private final MirrorApplier applier;
    private final EventPublisher events;
    private final DataSource primary;
    private final OutboxStore store;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition wake = lock.newCondition();
    private boolean woken;
    private boolean busy;
    private volatile boolean running;
    private Thread thread;
    /** Only the relay's thread touches it. */
    private long lastWarningNanos;
    /** Whether the batch in hand found the target out of reach; only the relay's thread touches it. */
    private boolean unreachable;
    /** Batches in a row that found the target out of reach; only the relay's thread touches it. */
    private int outageBatches;

    OutboxRelay(MirrorConfig config, MappedTables tables, MirrorApplier applier, EventPublisher events,
            DataSource primary, OutboxStore store) {
        this.config = config;
        this.tables = tables;
        this.applier = applier;
        this.events = events;
        this.primary = primary;
        this.store = store;
    }

    void start() {
        running = true;
        thread = new Thread(this::loop, "dualwrite-outbox-relay");
        thread.setDaemon(true);
        thread.start();
    }

    void wakeUp() {
        lock.lock();
        try {
            woken = true;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private void loop() {
        while (running) {
            int claimed = 0;
            unreachable = false;
            try {
                setBusy(true);
                claimed = relayOnce();
            } catch (SQLException | RuntimeException e) {
                long now = System.nanoTime();
                if (lastWarningNanos == 0 || now - lastWarningNanos >= Mirror.OUTAGE_LOG_INTERVAL.toNanos()) {
                    // Once a minute: with its store down the relay fails every poll, and must not flood the log.
                    lastWarningNanos = now;
                    log.warn("dualwrite outbox relay could not process a batch; retrying: " + Failures.describe(e));
                } else {
                    log.debug("dualwrite outbox relay could not process a batch; retrying: " + Failures.describe(e));
                }
                pause(config.initialBackoff());
            } finally {
                setBusy(false);
            }
            if (unreachable) {
                // The rows stay due: the relay, not each row, waits for the target, and finds it back within
                // OUTAGE_PROBE_LIMIT of its return however long the outage lasted.
                outageBatches++;
                Duration limit = config.maxBackoff().compareTo(OUTAGE_PROBE_LIMIT) < 0 ? config.maxBackoff()
                        : OUTAGE_PROBE_LIMIT;
                pause(Duration.ofNanos(Failures.backoffNanos(outageBatches, config.initialBackoff(), limit)));
            } else {
                outageBatches = 0;
                if (claimed < config.outboxBatchSize()) {
                    waitForWork();
                }
            }
        }
    }

    /** Claims, applies and settles one batch. @return how many rows were claimed */
    int relayOnce() throws SQLException {
        try (Connection connection = primary.getConnection()) {
            connection.setAutoCommit(false);
            // No gap locks: the application's own outbox inserts must never wait for the relay.
            connection.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
            try {
                long now = System.currentTimeMillis();
                List<OutboxStore.Entry> entries = new ArrayList<>(store.claim(connection, config.outboxBatchSize(), now));
                // Hot keys (two rows or more in the batch): their other rows come along, for one apply each,
                // every row deleted after (OutboxStore). A batch of distinct keys looks nothing up.
                entries.addAll(store.claimSameKeys(connection, entries,
                        config.outboxBatchSize() * SAME_KEY_ROWS_PER_CLAIMED_ROW));
                Map<String, List<OutboxStore.Entry>> byTable = new LinkedHashMap<>();
                for (OutboxStore.Entry entry : entries) {
                    byTable.computeIfAbsent(entry.table(), t -> new ArrayList<>()).add(entry);
                }
                for (Map.Entry<String, List<OutboxStore.Entry>> group : byTable.entrySet()) {
                    settle(connection, group.getKey(), group.getValue());
                }
                connection.commit();
                return entries.size();
            } catch (SQLException | RuntimeException e) {
                try {
                    connection.rollback();
                } catch (SQLException rollbackFailure) {
                    e.addSuppressed(rollbackFailure);
                }
                throw e;
            }
        }
    }

    private void settle(Connection connection, String table, List<OutboxStore.Entry> entries) throws SQLException {
        if (!tables.contains(table)) {
            store.reschedule(connection, entries, 0, true, true, "table '" + table
                    + "' is not mapped any more; add dualwrite.tables." + table + " and reset parked rows");
            entries.forEach(e -> events.publish(new DualWriteEvent.KeyParked(table, e.key(), "table not mapped")));
            return;
        }
        MappedTable mapped = tables.get(table);
        Map<RowKey, List<OutboxStore.Entry>> byKey = new LinkedHashMap<>();
        for (OutboxStore.Entry entry : entries) {
            RowKey key;
            try {
                // JSON brings uuids, dates and the like back as text: the key must be the rows' key again.
                key = mapped.source().canonicalKey(entry.key());
            } catch (IllegalArgumentException doesNotFit) {
                // No retry can make it fit: park it now rather than fail its batch again and again.
                store.reschedule(connection, List.of(entry), 0, true, true, doesNotFit.getMessage());
                Failures.DEAD_LETTER.error("dualwrite parked outbox key: table=" + table + " key=" + entry.key()
                        + " reason=" + doesNotFit.getMessage());
                events.publish(new DualWriteEvent.KeyParked(table, entry.key(), doesNotFit.getMessage()));
                continue;
            }
            byKey.computeIfAbsent(key, k -> new ArrayList<>()).add(entry);
        }
        if (byKey.isEmpty()) {
            return;
        }
        try {
            MirrorApplier.Outcome outcome = applier.apply(mapped, byKey.keySet(),
                    (int) Math.min(Integer.MAX_VALUE, config.applyTimeout().toMillis()));
            long now = System.currentTimeMillis();
            List<OutboxStore.Entry> done = new ArrayList<>();
            List<Duration> lags = new ArrayList<>();
            for (RowKey key : outcome.applied()) {
                List<OutboxStore.Entry> rows = byKey.get(key);
                done.addAll(rows);
                long first = rows.stream().mapToLong(OutboxStore.Entry::createdMillis).min().orElse(now);
                lags.add(Duration.ofMillis(Math.max(0, now - first)));
            }
            store.delete(connection, done);
            if (!lags.isEmpty()) {
                events.publish(new DualWriteEvent.ChangesApplied(table, outcome.upserted(), outcome.deleted(), lags));
            }
            if (!outcome.deferred().isEmpty()) {
                List<OutboxStore.Entry> deferred = new ArrayList<>();
                outcome.deferred().forEach(key -> deferred.addAll(byKey.get(key)));
                store.reschedule(connection, deferred, now + config.lockRetryDelay().toMillis(), false, false, null);
                events.publish(new DualWriteEvent.ApplyDeferred(table, outcome.deferred().size()));
            }
        } catch (Exception failure) {
            if (byKey.size() > 1 && !io.dualwrite.jdbc.Dialect.isConnectionFailure(failure)) {
                for (List<OutboxStore.Entry> single : byKey.values()) {
                    settle(connection, table, single);
                }
                return;
            }
            if (io.dualwrite.jdbc.Dialect.isConnectionFailure(failure)) {
                // The store cannot be reached: not the rows' fault, so no attempt is spent and none is parked
                // however long it lasts. They stay due while the relay backs off (loop), so the first batch
                // after the store returns takes them; the outage log reports it meanwhile.
                unreachable = true;
                events.publish(new DualWriteEvent.ApplyFailed(table, byKey.size(), 0, true, failure,
                        byKey.keySet().iterator().next()));
                return;
            }
            // Only the rows of the keys tried: a row parked above because its key does not fit stays parked.
            List<OutboxStore.Entry> tried = byKey.values().stream().flatMap(List::stream).toList();
            int attempt = tried.stream().mapToInt(OutboxStore.Entry::attempts).max().orElse(0) + 1;
            boolean park = attempt >= config.maxAttempts();
            long next = System.currentTimeMillis() + TimeUnit.NANOSECONDS.toMillis(
                    Failures.backoffNanos(attempt, config.initialBackoff(), config.maxBackoff()));
            store.reschedule(connection, tried, next, true, park, Failures.describe(failure));
            events.publish(new DualWriteEvent.ApplyFailed(table, byKey.size(), attempt, !park, failure,
                    byKey.keySet().iterator().next()));
            if (park) {
                for (RowKey key : byKey.keySet()) {
                    Failures.DEAD_LETTER.error("dualwrite parked outbox key: table=" + table + " key=" + key
                            + " attempts=" + attempt + " reason=" + Failures.describe(failure));
                    events.publish(new DualWriteEvent.KeyParked(table, key, Failures.describe(failure)));
                }
            }
        }
    }

    private void setBusy(boolean value) {
        lock.lock();
        try {
            busy = value;
            wake.signalAll();
        } finally {
            lock.unlock();
        }
    }

    boolean isBusy() {
        lock.lock();
        try {
            return busy;
        } finally {
            lock.unlock();
        }
    }

    private void waitForWork() {
        lock.lock();
        try {
            if (!woken && running) {
                wake.await(config.outboxPollInterval().toNanos(), TimeUnit.NANOSECONDS);
            }
            woken = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        } finally {
            lock.unlock();
        }
    }

    private void pause(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    @Override
    public void close() {
        running = false;
        wakeUp();
        if (thread != null) {
            try {
                thread.join(config.shutdownTimeout().toMillis() + 1000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
