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
 * share the outbox), applies each table's keys through {@link MirrorApplier}, and in the same outbox
 * transaction deletes what was applied and reschedules or parks what was not. A crash at any point
 * leaves the rows in the outbox for the next relay: nothing committed is lost. Woken right after each
 * local commit, and polls otherwise, so it also picks up other instances' leftovers.
 */
final class OutboxRelay implements AutoCloseable {

    private static final Log log = LogFactory.getLog(OutboxRelay.class);

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
            if (claimed < config.outboxBatchSize()) {
                waitForWork();
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
                List<OutboxStore.Entry> entries = store.claim(connection, config.outboxBatchSize(), now);
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
                // however long it lasts; they wait the longest back-off, and the outage log reports it.
                store.reschedule(connection, entries, System.currentTimeMillis() + config.maxBackoff().toMillis(),
                        false, false, null);
                events.publish(new DualWriteEvent.ApplyFailed(table, byKey.size(), 0, true, failure));
                return;
            }
            int attempt = entries.stream().mapToInt(OutboxStore.Entry::attempts).max().orElse(0) + 1;
            boolean park = attempt >= config.maxAttempts();
            long next = System.currentTimeMillis() + TimeUnit.NANOSECONDS.toMillis(
                    Failures.backoffNanos(attempt, config.initialBackoff(), config.maxBackoff()));
            store.reschedule(connection, entries, next, true, park, Failures.describe(failure));
            events.publish(new DualWriteEvent.ApplyFailed(table, byKey.size(), attempt, !park, failure));
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
