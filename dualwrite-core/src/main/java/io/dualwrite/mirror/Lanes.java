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
 * apply. Failed keys are retried with backoff and parked after the last attempt; a store that cannot be
 * reached costs no attempt, so an outage alone never parks a key.
 *
 * <p><b>A full lane</b> (the lanes hold at most {@link MirrorConfig#queueCapacity()} keys, waiting or
 * being applied) hands the keys it cannot take to {@link Overflow}: they are spilled to the source's
 * outbox table for the outbox relay, or parked for the reconciler when there is none. <b>With the target
 * down</b> the workers fail and retry their own keys, the lanes fill, and every further key overflows the
 * same way: memory stays bounded and the application never waits on the target. <b>Every wait:</b> a
 * worker's apply waits at most {@link MirrorConfig#applyTimeout()} on the network, on the worker's own
 * thread (and application writers of the rows it holds under its share lock wait no longer); an
 * application thread takes a lane's queue lock for a moment only, and a spill holds it for at most
 * {@link MirrorConfig#waitLimit()}. Both bounds are the wait limit by default, and never above it.
 */
final class Lanes implements AutoCloseable {

    /** Held connections go back to the pool this often, so that its maximum lifetime still holds. */
    private static final long SESSION_RENEWAL_NANOS = TimeUnit.SECONDS.toNanos(60);

    private final MirrorConfig config;
    private final MappedTables tables;
    private final MirrorApplier applier;
    private final EventPublisher events;
    private final Overflow overflow;
    private final Lane[] lanes;
    private final int capacityPerLane;
    private final AtomicLong parked = new AtomicLong();
    /**
     * Keys committed up to this {@link System#nanoTime()} reading are applied without lingering: someone waits for
     * them ({@link #hurry}). {@code Long.MIN_VALUE} until then.
     */
    private final AtomicLong hurryUpToNanos = new AtomicLong(Long.MIN_VALUE);
    private volatile boolean closed;

    Lanes(MirrorConfig config, MappedTables tables, MirrorApplier applier, EventPublisher events, Overflow overflow) {
        this.config = config;
        this.tables = tables;
        this.applier = applier;
        this.events = events;
        this.overflow = overflow;
        this.lanes = new Lane[config.lanes()];
        this.capacityPerLane = Math.max(1, config.queueCapacity() / config.lanes());
        for (int i = 0; i < lanes.length; i++) {
            lanes[i] = new Lane(i);
        }
    }

    void start() {
        for (Lane lane : lanes) {
            Thread thread = new Thread(lane, "dualwrite-lane-" + lane.index);
            thread.setDaemon(true);
            lane.thread = thread;
            thread.start();
        }
    }

    /** Queues committed changes; those a full lane cannot take overflow (spilled or parked) at once. */
    void submit(Collection<Change> changes, long committedAtNanos) {
        List<Change> overflowing = new ArrayList<>(0);
        for (Change change : changes) {
            if (closed || !laneOf(change).offer(new Pending(change, committedAtNanos), 0)) {
                overflowing.add(change);
            }
        }
        if (!overflowing.isEmpty()) {
            overflow.accept(overflowing, committedAtNanos);
        }
    }

    /** Hands keys that SYNC could not finish in time to the background, keeping their attempts. */
    void retryLater(String table, Collection<RowKey> keys, long committedAtNanos, int attempts, long delayNanos) {
        List<Change> overflowing = new ArrayList<>(0);
        for (RowKey key : keys) {
            Change change = new Change(table, key);
            Pending pending = new Pending(change, committedAtNanos);
            pending.attempts = attempts;
            if (closed || !laneOf(change).offer(pending, delayNanos)) {
                overflowing.add(change);
            }
        }
        if (!overflowing.isEmpty()) {
            overflow.accept(overflowing, committedAtNanos);
        }
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

    /**
     * Ends the linger for the keys committed up to a moment: a ramp step's barrier, a per-user move or a drain waits
     * for them, and a lingering lane would add its whole linger to that wait.
     *
     * @param committedUpToNanos a {@link System#nanoTime()} reading
     */
    void hurry(long committedUpToNanos) {
        hurryUpToNanos.accumulateAndGet(committedUpToNanos, Math::max);
        for (Lane lane : lanes) {
            lane.queueLock.lock();
            try {
                lane.changed.signalAll();
            } finally {
                lane.queueLock.unlock();
            }
        }
    }

    /** Waits until every lane is empty and idle, applying what waits without lingering. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        hurry(System.nanoTime());
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
        closed = true;
        for (Lane lane : lanes) {
            lane.stop();
        }
        List<Change> left = new ArrayList<>();
        long oldest = Long.MAX_VALUE;
        for (Lane lane : lanes) {
            for (Pending pending : lane.drainAll()) {
                left.add(pending.change);
                oldest = Math.min(oldest, pending.firstCommitNanos);
            }
        }
        if (!left.isEmpty()) {
            // Spilled, the relay of the next start (or of another instance) applies them.
            overflow.acceptAtClose(left, oldest);
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

    /**
     * A failed apply: each key is retried with back-off, and parked after {@code maxAttempts}. A store
     * that cannot be reached is not the keys' fault: that costs no attempt, so an outage of any length
     * parks nothing (the keys held here are bounded by the queue; the rest spill), and the outage log says
     * it is going on.
     */
    private void fail(Lane lane, String table, Collection<Pending> failed, Throwable failure) {
        boolean unreachable = io.dualwrite.jdbc.Dialect.isConnectionFailure(failure);
        int attempt = 0;
        for (Pending pending : failed) {
            if (unreachable) {
                pending.outageRetries++;
            } else {
                pending.attempts++;
            }
            attempt = Math.max(attempt, pending.attempts);
        }
        boolean willRetry = attempt < config.maxAttempts();
        events.publish(new DualWriteEvent.ApplyFailed(table, failed.size(), attempt, willRetry, failure,
                failed.isEmpty() ? null : failed.iterator().next().change.key()));
        for (Pending pending : failed) {
            if (unreachable) {
                lane.requeue(pending, Failures.backoffNanos(pending.outageRetries, config.initialBackoff(),
                        config.maxBackoff()));
            } else if (pending.attempts >= config.maxAttempts()) {
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
        /** Retries because the store could not be reached, which are not counted as attempts. */
        int outageRetries;
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
            outageRetries = Math.max(outageRetries, other.outageRetries);
            return this;
        }
    }

    private final class Lane implements Runnable {
        final int index;
        /** Held by the worker while it applies, and by {@link #stop()} to close the held connections. */
        final ReentrantLock applyLock = new ReentrantLock();
        final ReentrantLock queueLock = new ReentrantLock();
        final Condition changed = queueLock.newCondition();
        final Map<Change, Pending> waiting = new HashMap<>();
        final ArrayDeque<Pending> ready = new ArrayDeque<>();
        final PriorityQueue<Pending> delayed = new PriorityQueue<>((a, b) -> Long.compare(a.dueNanos, b.dueNanos));
        /** Keys of the batch being applied that will be retried; only the worker touches it. */
        final List<Pending> comingBack = new ArrayList<>();
        int inFlight;
        /** The first commit time of the batch being applied, or {@code Long.MAX_VALUE}; under queueLock. */
        long inFlightOldestNanos = Long.MAX_VALUE;
        volatile Thread thread;
        volatile boolean stopped;
        private MirrorApplier.Session session;

        Lane(int index) {
            this.index = index;
        }

        /** The lane's held connections; called only by the worker, under {@link #applyLock}. */
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

        /**
         * Takes a key unless the lane is full; a key already waiting absorbs it (one apply covers both).
         *
         * @param delayNanos 0 to apply as soon as possible, or how long to wait first (a retry)
         * @return false if the lane is full
         */
        boolean offer(Pending pending, long delayNanos) {
            queueLock.lock();
            try {
                Pending existing = waiting.get(pending.change);
                if (existing != null) {
                    existing.mergeInto(pending);
                    return true;
                }
                if (waiting.size() + inFlight >= capacityPerLane) {
                    return false;
                }
                waiting.put(pending.change, pending);
                if (delayNanos > 0) {
                    pending.dueNanos = System.nanoTime() + delayNanos;
                    delayed.add(pending);
                    changed.signalAll();
                } else {
                    pending.readyNanos = System.nanoTime();
                    ready.add(pending);
                    // Wake the worker only when it may be idle or a batch is full: it lingers for the rest.
                    if (ready.size() == 1 || ready.size() >= config.batchSize()) {
                        changed.signalAll();
                    }
                }
                return true;
            } finally {
                queueLock.unlock();
            }
        }

        /**
         * Puts back a key of the batch being applied, for a later try. It goes back when the batch ends
         * ({@link #settle}), in the place its batch held, so the lane never holds more than its capacity.
         */
        void requeue(Pending pending, long delayNanos) {
            pending.dueNanos = System.nanoTime() + delayNanos;
            comingBack.add(pending);
        }

        /** Ends a batch: its keys leave the lane, except those put back for a retry. Under queueLock. */
        private void settle(List<Pending> batch) {
            inFlight -= batch.size();
            inFlightOldestNanos = Long.MAX_VALUE;
            for (Pending pending : comingBack) {
                Pending existing = waiting.get(pending.change);
                if (existing != null) {
                    // Changed again meanwhile: one apply of the current state covers both.
                    existing.mergeInto(pending);
                } else {
                    waiting.put(pending.change, pending);
                    delayed.add(pending);
                }
            }
            comingBack.clear();
            changed.signalAll();
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
                    // Linger: a batch of many keys costs about what a batch of one does, so wait a moment
                    // for more keys unless the batch is full, the oldest key has waited enough, or someone
                    // waits for it to be applied (hurry).
                    Pending oldest = ready.peek();
                    long lingerLeft = oldest.readyNanos + config.batchLinger().toNanos() - now;
                    boolean awaited = oldest.firstCommitNanos <= hurryUpToNanos.get();
                    if (lingerLeft > 0 && ready.size() < config.batchSize() && !awaited && !stopped) {
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
                        settle(batch);
                    } finally {
                        queueLock.unlock();
                    }
                }
            }
        }
    }
}
