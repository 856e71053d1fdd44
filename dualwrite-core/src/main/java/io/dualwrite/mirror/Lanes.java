package io.dualwrite.mirror;

import io.dualwrite.capture.Change;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The ASYNC machinery, also used by SYNC for its background retries: a fixed number of lanes, each a
 * single worker thread with its own queue. A key always hashes to the same lane, so one key is never
 * applied twice at once in this process, and a key changed again while it waits is coalesced into one
 * apply. A full lane makes the caller apply its own changes (under the lane's apply lock, so the
 * one-key-at-a-time rule holds): back-pressure, never a silent drop. Failed keys are retried with
 * backoff and parked after the last attempt.
 */
final class Lanes implements AutoCloseable {

    /** Held connections go back to the pool this often, so that its maximum lifetime still holds. */
    private static final long SESSION_RENEWAL_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final MirrorConfig config;
    private final MappedTables tables;
    private final MirrorApplier applier;
    private final EventPublisher events;
    private final Lane[] lanes;
    private final int capacityPerLane;
    private final AtomicLong parked = new AtomicLong();
    private volatile boolean running;

    Lanes(MirrorConfig config, MappedTables tables, MirrorApplier applier, EventPublisher events) {
        this.config = config;
        this.tables = tables;
        this.applier = applier;
        this.events = events;
        this.lanes = new Lane[config.lanes()];
        this.capacityPerLane = Math.max(1, config.queueCapacity() / config.lanes());
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane(i);
        }
    }

    void start() {
        running = true;
        for (Lane lane : lanes) {
            Thread thread = new Thread(lane, "dualwrite-lane-" + lane.index);
            thread.setDaemon(true);
            lane.thread = thread;
            thread.start();
        }
    }

    /** Queues committed changes; those whose lane is full are applied on the calling thread. */
    void submit(Collection<Change> changes, long committedAtNanos) {
        Map<Lane, List<Change>> overflow = null;
        for (Change change : changes) {
            Lane lane = laneOf(change);
            if (!running || !lane.offer(change, committedAtNanos)) {
                if (overflow == null) {
                    overflow = new LinkedHashMap<>();
                }
                overflow.computeIfAbsent(lane, l -> new ArrayList<>()).add(change);
            }
        }
        if (overflow != null) {
            overflow.forEach((lane, laneChanges) -> lane.applyOnCaller(laneChanges, committedAtNanos));
        }
    }

    /** Hands changes that SYNC could not finish in time to the background, keeping their attempts. */
    void retryLater(Change change, long committedAtNanos, int attempts, long delayNanos) {
        Pending pending = new Pending(change, committedAtNanos);
        pending.attempts = attempts;
        laneOf(change).requeue(pending, delayNanos);
    }

    long pending() {
        long total = 0;
        for (Lane lane : lanes) {
            total += lane.size();
        }
        return total;
    }

    /** @return the commit time of the oldest key still waiting in any lane, or empty when none waits */
    java.util.OptionalLong oldestPendingCommitNanos() {
        long oldest = Long.MAX_VALUE;
        boolean any = false;
        for (Lane lane : lanes) {
            lane.queueLock.lock();
            try {
                for (Pending pending : lane.waiting.values()) {
                    oldest = Math.min(oldest, pending.firstCommitNanos);
                    any = true;
                }
                if (lane.inFlightOldestNanos != Long.MAX_VALUE) {
                    oldest = Math.min(oldest, lane.inFlightOldestNanos);
                    any = true;
                }
            } finally {
                lane.queueLock.unlock();
            }
        }
        return any ? java.util.OptionalLong.of(oldest) : java.util.OptionalLong.empty();
    }

    long parked() {
        return parked.get();
    }

    /** Waits until every lane is empty and idle. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Lane lane : lanes) {
            if (!lane.awaitIdle(deadline)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void close() {
        try {
            awaitIdle(config.shutdownTimeout());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        running = false;
        for (Lane lane : lanes) {
            lane.stop();
        }
        for (Lane lane : lanes) {
            for (Pending left : lane.drainAll()) {
                park(left, "the mirror was closed before this key was applied");
            }
        }
    }

    private Lane laneOf(Change change) {
        return lanes[Math.floorMod(change.key().hashCode() * 31 + change.table().hashCode(), lanes.length)];
    }

    private void park(Pending pending, String reason) {
        parked.incrementAndGet();
        Failures.DEAD_LETTER.error("dualwrite parked key: table=" + pending.change.table() + " key="
                + pending.change.key() + " attempts=" + pending.attempts + " reason=" + reason);
        events.publish(new DualWriteEvent.KeyParked(pending.change.table(), pending.change.key(), reason));
    }

    /** Applies one batch of one table and decides what happens to each key. */
    private void process(Lane lane, String table, List<Pending> batch) {
        MappedTable mapped = tables.get(table);
        Map<RowKey, Pending> byKey = new LinkedHashMap<>();
        for (Pending pending : batch) {
            byKey.merge(pending.change.key(), pending, Pending::mergeInto);
        }
        MirrorApplier.Outcome outcome;
        try {
            outcome = applier.apply(mapped, byKey.keySet(), lane.session());
        } catch (Exception failure) {
            lane.discardSession();
            if (byKey.size() > 1 && !io.dualwrite.jdbc.Dialect.isConnectionFailure(failure)) {
                // One bad row must not hold the rest hostage: find it by applying keys one at a time.
                for (Pending single : byKey.values()) {
                    process(lane, table, List.of(single));
                }
                return;
            }
            fail(lane, table, byKey.values(), failure);
            return;
        }
        long now = System.nanoTime();
        List<Duration> lags = new ArrayList<>(outcome.applied().size());
        for (RowKey key : outcome.applied()) {
            lags.add(Duration.ofNanos(now - byKey.get(key).firstCommitNanos));
        }
        if (!lags.isEmpty()) {
            events.publish(new DualWriteEvent.ChangesApplied(table, outcome.upserted(), outcome.deleted(), lags));
        }
        if (!outcome.deferred().isEmpty()) {
            events.publish(new DualWriteEvent.ApplyDeferred(table, outcome.deferred().size()));
            List<Pending> exhausted = new ArrayList<>();
            for (RowKey key : outcome.deferred()) {
                Pending pending = byKey.get(key);
                if (++pending.lockRetries >= config.maxLockRetries()) {
                    pending.lockRetries = 0;
                    exhausted.add(pending);
                } else {
                    lane.requeue(pending, config.lockRetryDelay().toNanos());
                }
            }
            if (!exhausted.isEmpty()) {
                fail(lane, table, exhausted, new IllegalStateException("rows stayed locked by writers for "
                        + config.maxLockRetries() + " tries"));
            }
        }
    }

    private void fail(Lane lane, String table, Collection<Pending> failed, Throwable failure) {
        int attempt = 0;
        for (Pending pending : failed) {
            pending.attempts++;
            attempt = Math.max(attempt, pending.attempts);
        }
        boolean willRetry = attempt < config.maxAttempts();
        events.publish(new DualWriteEvent.ApplyFailed(table, failed.size(), attempt, willRetry, failure));
        for (Pending pending : failed) {
            if (pending.attempts >= config.maxAttempts()) {
                park(pending, Failures.describe(failure));
            } else {
                lane.requeue(pending, Failures.backoffNanos(pending.attempts, config.initialBackoff(),
                        config.maxBackoff()));
            }
        }
    }

    /** A key waiting in a lane. */
    private static final class Pending {
        final Change change;
        long firstCommitNanos;
        int attempts;
        int lockRetries;
        long dueNanos;
        long readyNanos;

        Pending(Change change, long committedAtNanos) {
            this.change = change;
            this.firstCommitNanos = committedAtNanos;
        }

        Pending mergeInto(Pending other) {
            firstCommitNanos = Math.min(firstCommitNanos, other.firstCommitNanos);
            attempts = Math.max(attempts, other.attempts);
            return this;
        }
    }

    private final class Lane implements Runnable {
        final int index;
        final ReentrantLock applyLock = new ReentrantLock();
        final ReentrantLock queueLock = new ReentrantLock();
        final Condition changed = queueLock.newCondition();
        final Map<Change, Pending> waiting = new HashMap<>();
        final ArrayDeque<Pending> ready = new ArrayDeque<>();
        final PriorityQueue<Pending> delayed = new PriorityQueue<>((a, b) -> Long.compare(a.dueNanos, b.dueNanos));
        int inFlight;
        /** The first commit time of the batch being applied, or {@code Long.MAX_VALUE}; under queueLock. */
        long inFlightOldestNanos = Long.MAX_VALUE;
        volatile Thread thread;
        volatile boolean stopped;
        private MirrorApplier.Session session;

        Lane(int index) {
            this.index = index;
        }

        /** The lane's held connections; called only under {@link #applyLock}. */
        MirrorApplier.Session session() throws java.sql.SQLException {
            if (session != null && session.olderThan(SESSION_RENEWAL_NANOS)) {
                discardSession();
            }
            if (session == null) {
                session = applier.openSession((int) Math.min(Integer.MAX_VALUE, config.applyTimeout().toMillis()));
            }
            return session;
        }

        void discardSession() {
            if (session != null) {
                session.close();
                session = null;
            }
        }

        boolean offer(Change change, long committedAtNanos) {
            queueLock.lock();
            try {
                Pending existing = waiting.get(change);
                if (existing != null) {
                    existing.firstCommitNanos = Math.min(existing.firstCommitNanos, committedAtNanos);
                    return true;
                }
                if (waiting.size() >= capacityPerLane) {
                    return false;
                }
                Pending pending = new Pending(change, committedAtNanos);
                pending.readyNanos = System.nanoTime();
                waiting.put(change, pending);
                ready.add(pending);
                // Wake the worker only when it may be idle or a batch is full: it lingers for the rest.
                if (ready.size() == 1 || ready.size() >= config.batchSize()) {
                    changed.signalAll();
                }
                return true;
            } finally {
                queueLock.unlock();
            }
        }

        /** Puts a key back for a later try; never refused, since dropping it would lose a change. */
        void requeue(Pending pending, long delayNanos) {
            queueLock.lock();
            try {
                Pending existing = waiting.get(pending.change);
                if (existing != null) {
                    // Changed again meanwhile: one apply of the current state covers both.
                    existing.mergeInto(pending);
                    return;
                }
                pending.dueNanos = System.nanoTime() + delayNanos;
                waiting.put(pending.change, pending);
                delayed.add(pending);
                changed.signalAll();
            } finally {
                queueLock.unlock();
            }
        }

        void applyOnCaller(List<Change> changes, long committedAtNanos) {
            Map<String, List<Pending>> byTable = new LinkedHashMap<>();
            for (Change change : changes) {
                byTable.computeIfAbsent(change.table(), t -> new ArrayList<>())
                        .add(new Pending(change, committedAtNanos));
            }
            applyLock.lock();
            try {
                byTable.forEach((table, batch) -> process(this, table, batch));
                if (!running) {
                    // No worker will reuse the connections (before start or after close): give them back.
                    discardSession();
                }
            } finally {
                applyLock.unlock();
            }
        }

        int size() {
            queueLock.lock();
            try {
                return waiting.size() + inFlight;
            } finally {
                queueLock.unlock();
            }
        }

        boolean awaitIdle(long deadlineNanos) throws InterruptedException {
            queueLock.lock();
            try {
                while (!waiting.isEmpty() || inFlight > 0) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    changed.awaitNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(50)));
                }
                return true;
            } finally {
                queueLock.unlock();
            }
        }

        void stop() {
            stopped = true;
            queueLock.lock();
            try {
                changed.signalAll();
            } finally {
                queueLock.unlock();
            }
            Thread worker = thread;
            if (worker != null) {
                try {
                    worker.join(TimeUnit.SECONDS.toMillis(5));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            applyLock.lock();
            try {
                discardSession();
            } finally {
                applyLock.unlock();
            }
        }

        List<Pending> drainAll() {
            queueLock.lock();
            try {
                List<Pending> left = new ArrayList<>(waiting.values());
                waiting.clear();
                ready.clear();
                delayed.clear();
                return left;
            } finally {
                queueLock.unlock();
            }
        }

        @Override
        public void run() {
            while (!stopped) {
                String table;
                List<Pending> batch;
                queueLock.lock();
                try {
                    long now = System.nanoTime();
                    while (!delayed.isEmpty() && delayed.peek().dueNanos <= now) {
                        Pending due = delayed.poll();
                        due.readyNanos = due.dueNanos;
                        ready.add(due);
                    }
                    if (ready.isEmpty()) {
                        long wait = delayed.isEmpty() ? TimeUnit.MILLISECONDS.toNanos(100)
                                : Math.max(0, delayed.peek().dueNanos - now);
                        changed.awaitNanos(wait);
                        continue;
                    }
                    // Linger: a batch of many keys costs about what a batch of one does, so wait a
                    // moment for more keys unless the batch is full or the oldest key has waited enough.
                    long lingerLeft = ready.peek().readyNanos + config.batchLinger().toNanos() - now;
                    if (lingerLeft > 0 && ready.size() < config.batchSize() && !stopped) {
                        changed.awaitNanos(lingerLeft);
                        continue;
                    }
                    table = ready.peek().change.table();
                    batch = new ArrayList<>();
                    for (Iterator<Pending> it = ready.iterator(); it.hasNext() && batch.size() < config.batchSize();) {
                        Pending pending = it.next();
                        if (pending.change.table().equals(table)) {
                            it.remove();
                            waiting.remove(pending.change);
                            batch.add(pending);
                            inFlightOldestNanos = Math.min(inFlightOldestNanos, pending.firstCommitNanos);
                        }
                    }
                    inFlight += batch.size();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                } finally {
                    queueLock.unlock();
                }
                applyLock.lock();
                try {
                    process(this, table, batch);
                } catch (RuntimeException unexpected) {
                    // process() handles every apply failure; reaching here is a bug, but the lane must live on.
                    for (Pending pending : batch) {
                        requeue(pending, config.maxBackoff().toNanos());
                    }
                    Failures.DEAD_LETTER.error("dualwrite lane " + index + " failed unexpectedly", unexpected);
                } finally {
                    applyLock.unlock();
                    queueLock.lock();
                    try {
                        inFlight -= batch.size();
                        inFlightOldestNanos = Long.MAX_VALUE;
                        changed.signalAll();
                    } finally {
                        queueLock.unlock();
                    }
                }
            }
        }
    }
}
