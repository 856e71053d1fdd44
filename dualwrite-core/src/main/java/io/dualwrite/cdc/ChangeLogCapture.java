package io.dualwrite.cdc;

import io.dualwrite.capture.Change;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Change-data capture from a store's own change log, whatever the store: the keys of rows that writers
 * outside the service changed are handed to the {@link Mirror}, which applies them like every other captured
 * key. Here "source" is the store whose log is read and the mirror's primary: the migration's source with
 * the forward mirror, or, during RAMP, the migration's target with the reverse mirror over
 * {@link MappedTables#reversed()} (its own reader name, position row and lease; see
 * {@code io.dualwrite.routing.ChangeLogRouting} for which keys go where). {@link BinlogCapture} reads a MariaDB/MySQL binary log, {@link PgLogicalCapture} a
 * PostgreSQL logical replication slot; what they share lives here.
 *
 * <pre>{@code
 * ChangeLogCapture capture = PgLogicalCapture.create(config, tables, source, target, mirror);
 * capture.start();     // throws CdcUnavailableException naming the server setting or grant to change
 * ...
 * capture.close();
 * }</pre>
 *
 * <p><b>Keys only.</b> A log's row images are never applied: only the key of each changed row of a mapped
 * table is taken (both keys when an UPDATE changes the key), and the mirror's apply reads the row's current
 * state under the share lock, exactly as for in-process capture. So the argument of {@code MirrorApplier}
 * holds unchanged: applies reach the target in commit order, a hot key's changes coalesce, and a key captured
 * both in-process and from the log is applied once or harmlessly twice.
 *
 * <p><b>The checkpoint is a low watermark.</b> The race it prevents: a reader that stored the position of
 * the last transaction it <em>read</em> and then died before the mirror applied those keys would resume after
 * them, and their rows would stay stale in the target until a reconciler found them. So the stored position
 * is the {@link Watermark}: the end of the last transaction all of whose keys the mirror has applied (or
 * spilled to its durable outbox table, or parked for the reconciler). A restart reads again from there; the
 * transactions after it are handed over a second time, and their applies read the current state, so a
 * repetition is harmless. {@link #crashForTesting()} kills the reader between reading and applying, and the
 * resume tests show that nothing is missing; {@link #storeReadPositionForTesting()} is their negative control.
 *
 * <p><b>One reader in a fleet.</b> Every instance may enable the capture; the one that holds the lease in
 * the position row (its {@code holder} and {@code lease_until_ms}, renewed at each checkpoint, good for
 * {@link #LEASE_CHECKPOINTS} checkpoint intervals and at least {@link #MIN_LEASE}) reads the log, and the
 * others stand by ({@link State#STANDBY}), trying for the lease at each interval; when the holder dies or
 * freezes past its lease, one of them takes over from the stored watermark. A holder that finds its lease
 * taken stops reading. Two readers for a moment (a frozen holder that wakes) cost only repeated work: every
 * apply reads the current row, and each reader's stored position is a true low watermark of keys its own
 * mirror applied, so whichever is stored last loses nothing.
 *
 * <p>Threads: one reader (owned by the subclass) and one checkpointer (every
 * {@link CdcConfig#checkpointInterval()}: renews the lease, stores the watermark, tells the server how far it
 * may discard its log, and reads the server's head for the log lag; on a standby, tries for the lease).
 */
public abstract sealed class ChangeLogCapture implements AutoCloseable permits BinlogCapture, PgLogicalCapture {

    /** Under the concrete class's name, so that logging settings for BinlogCapture keep working. */
    private final Log log = LogFactory.getLog(getClass());

    /** The lease on the log lasts this many checkpoint intervals, so a holder may miss a few renewals. */
    static final int LEASE_CHECKPOINTS = 5;

    /** Failed reconnections in a row after which the status reports a problem and health is DOWN. */
    static final int RECONNECTS_BEFORE_DOWN = 3;

    /** The shortest lease, whatever the checkpoint interval. */
    static final Duration MIN_LEASE = Duration.ofSeconds(3);

    /** The capture's state. */
    public enum State {
        /** Created, not started. */
        NEW,
        /** Reading the log. */
        RUNNING,
        /** Not reading: another instance holds the lease on this log; takes over when that lease runs out. */
        STANDBY,
        /** Not reading: the log was not readable and the capture is not required. */
        DISABLED,
        /** Stopped on an error it cannot read past; the position stays before it. */
        FAILED,
        /** Closed. */
        CLOSED
    }

    final CdcConfig config;
    final MappedTables tables;
    final DataSource source;
    final Mirror mirror;
    final PositionStore positions;
    /** This capture's name in the lease: unique per process and capture. */
    final String holder = ProcessHandle.current().pid() + "@" + UUID.randomUUID();
    final long leaseMillis;
    final Map<String, String> stopped = new ConcurrentHashMap<>();
    final AtomicLong keysHanded = new AtomicLong();
    final AtomicLong keysNotHanded = new AtomicLong();
    final AtomicLong echoesSkipped = new AtomicLong();
    final AtomicLong transactions = new AtomicLong();
    volatile State state = State.NEW;
    volatile String problem;
    volatile boolean filterEchoes = true;
    /** Whether the store marks the library's own writes in its log (set by {@link #check}). */
    volatile boolean ownWritesMarked = true;
    volatile boolean storeReadPosition;
    volatile BooleanSupplier handingOver = () -> true;
    volatile boolean stopping;
    /** Reconnections in a row that failed; past a few, status and health say the log is not being read. */
    volatile int reconnectFailures;
    volatile LogPosition readPosition;
    volatile LogPosition stored;
    volatile LogPosition head;
    volatile long logLagBytes = -1;
    volatile Watermark watermark;
    private ScheduledExecutorService checkpointer;

    ChangeLogCapture(CdcConfig config, MappedTables tables, DataSource source, DataSource target, Mirror mirror) {
        this.config = Objects.requireNonNull(config, "config");
        this.tables = Objects.requireNonNull(tables, "tables");
        this.source = Objects.requireNonNull(source, "source");
        this.mirror = Objects.requireNonNull(mirror, "mirror");
        this.positions = new PositionStore(Objects.requireNonNull(target, "target"), config.positionTable(),
                config.readerName());
        this.leaseMillis = Math.max(MIN_LEASE.toMillis(), LEASE_CHECKPOINTS * config.checkpointInterval().toMillis());
    }

    // ------------------------------------------------------------------------------------------------
    // What each log does its own way
    // ------------------------------------------------------------------------------------------------

    /** @return the log, for messages: {@code the binary log}, {@code the write-ahead log} */
    abstract String logKind();

    /** @return where the log is read, for messages: {@code the binary log of db:3306} */
    abstract String logName();

    /**
     * Checks that the log can be read and reads the mapped tables' layouts.
     *
     * @param connection a connection to the source
     * @param warnings receives what only weakens the capture
     * @return what stands in the way, each naming its fix; empty when the log can be read
     */
    abstract List<String> check(Connection connection, List<String> warnings) throws SQLException;

    /** @return the end of the server's log now */
    abstract LogPosition serverHead() throws SQLException;

    /** @return where a reader with no stored position starts; by default the server's head */
    LogPosition firstPosition() throws SQLException {
        return serverHead();
    }

    /**
     * Starts the reader thread from {@code start} and waits until it is connected.
     *
     * @return why it could not connect, or null
     */
    abstract Exception startReader(LogPosition start);

    /** @return what to check when the log could not be read from {@code start}, in parentheses */
    abstract String unreadableHint(LogPosition start);

    /** Stops the reader thread and closes its connection; waits for it, unless called on it. */
    abstract void stopReader();

    /** Closes the reader's connection from another thread, after {@link #fail}. */
    abstract void disconnectAfterFailure();

    /** Reads the server's head into {@link #head} and the log lag into {@link #logLagBytes}. */
    abstract void readHead() throws SQLException;

    /** Tells the server that the log up to {@code safe} is no longer needed; by default nothing. */
    void acknowledge(LogPosition safe) throws SQLException {
    }

    // ------------------------------------------------------------------------------------------------
    // Start
    // ------------------------------------------------------------------------------------------------

    /**
     * Sets when keys read are handed to the mirror; while the supplier says false they are dropped and
     * counted ({@link CdcStatus#keysNotHanded()}), and the position moves on past them. Within a migration,
     * {@code io.dualwrite.routing.ChangeLogRouting} sets it: the source's log while the migration mirrors, the
     * target's while the target may be the primary of some row (RAMP).
     *
     * @param handOver whether keys read now are handed over
     * @return this capture
     * @throws NullPointerException if {@code handOver} is null
     */
    public ChangeLogCapture handOverWhile(BooleanSupplier handOver) {
        this.handingOver = Objects.requireNonNull(handOver, "handOver");
        return this;
    }

    /**
     * Checks that the log can be read, takes the lease on it (or stands by while another instance holds
     * it), finds the position to read from (the stored watermark, or the server's head on the first start)
     * and starts reading.
     *
     * @throws CdcUnavailableException if the log cannot be read and the capture is required; when it is not
     *     required the capture stays {@link State#DISABLED} and the log says so once
     * @throws IllegalArgumentException if a mapped table's key cannot be read from the log
     * @throws IllegalStateException if the position table is missing and may not be created
     * @throws SQLException if the source or the target cannot be reached
     */
    public synchronized void start() throws SQLException {
        if (state != State.NEW) {
            return;
        }
        List<String> warnings = new ArrayList<>();
        List<String> problems;
        try (Connection connection = source.getConnection()) {
            problems = check(connection, warnings);
        }
        if (!problems.isEmpty()) {
            unavailable(new CdcUnavailableException(logKind(), problems));
            return;
        }
        warnings.forEach(warning -> log.warn("dualwrite.capture.cdc: " + warning));
        positions.prepare(config.createPositionTable());
        checkpointer = Executors.newSingleThreadScheduledExecutor(runnable -> {
            Thread thread = new Thread(runnable, "dualwrite-cdc-checkpoint");
            thread.setDaemon(true);
            return thread;
        });
        try {
            if (!positions.acquire(holder, System.currentTimeMillis(), leaseMillis)) {
                state = State.STANDBY;
                log.info("dualwrite: change-data capture stands by: another instance holds the lease on " + logName()
                        + " (" + config.positionTable() + ", reader '" + config.readerName() + "'); this one takes"
                        + " over if that lease runs out");
            } else {
                beginReading();
            }
        } catch (SQLException | RuntimeException e) {
            checkpointer.shutdownNow();
            throw e;
        }
        if (state != State.RUNNING && state != State.STANDBY) {
            checkpointer.shutdownNow();
            return;
        }
        long interval = config.checkpointInterval().toMillis();
        checkpointer.scheduleWithFixedDelay(this::tick, interval, interval, TimeUnit.MILLISECONDS);
    }

    /** Reads from the stored watermark (or the server's head), holding the lease. */
    private void beginReading() throws SQLException {
        stopping = false;
        Optional<LogPosition> resume = positions.read();
        LogPosition start = resume.isPresent() ? resume.get() : firstPosition();
        if (resume.isEmpty()) {
            // From here on nothing the log says is missed, even if the first watermark is never stored.
            positions.write(start, holder);
        }
        stored = start;
        readPosition = start;
        watermark = new Watermark(start);
        Exception failure = startReader(start);
        if (failure != null) {
            stopReader();
            unavailable(new CdcUnavailableException(logKind(), List.of(logName() + " could not be read from " + start
                    + " as user '" + config.username() + "': " + failure.getMessage() + " " + unreadableHint(start))));
            return;
        }
        if (state == State.FAILED) {
            // The first events already failed (fail() said why); nothing more to start.
            return;
        }
        state = State.RUNNING;
        if (stopping) {
            // fail() ran on the reader between the check above and here: it said why, and it stands.
            state = State.FAILED;
            return;
        }
        log.info("dualwrite: change-data capture reads " + logName() + " from " + start
                + (resume.isPresent() ? " (stored position)" : " (first start)") + " for " + tables.all().size()
                + " tables");
    }

    void unavailable(CdcUnavailableException unreadable) {
        if (config.required()) {
            state = State.FAILED;
            problem = unreadable.getMessage();
            throw unreadable;
        }
        state = State.DISABLED;
        problem = unreadable.getMessage();
        log.warn("dualwrite: running WITHOUT change-data capture (dualwrite.capture.cdc.required=false): "
                + String.join("; ", unreadable.problems()));
    }

    // ------------------------------------------------------------------------------------------------
    // Called on the reader thread
    // ------------------------------------------------------------------------------------------------

    /**
     * A transaction ended at {@code after}: its keys (possibly none) are handed to the mirror, or counted when
     * the migration does not mirror now, and the watermark learns the transaction.
     */
    void endTransaction(LogPosition after, Collection<Change> keys) {
        if (keys.isEmpty()) {
            watermark.passed(after);
        } else if (!handingOver.getAsBoolean()) {
            keysNotHanded.addAndGet(keys.size());
            watermark.passed(after);
        } else {
            List<Change> changes = new ArrayList<>(keys);
            watermark.handOver(after, handedAt -> mirror.captured(changes, handedAt));
            keysHanded.addAndGet(changes.size());
        }
        transactions.incrementAndGet();
        readPosition = after;
    }

    /** @return whether that table's capture stopped */
    boolean isStopped(String table) {
        return stopped.containsKey(table);
    }

    /** Stops one mapped table's capture, logging why once; the other tables go on. */
    void stopTable(String table, String reason) {
        if (stopped.putIfAbsent(table, reason) == null) {
            log.error("dualwrite: change-data capture of table '" + table + "' STOPPED: " + reason
                    + ". Writes from outside the service to this table are no longer mirrored (in-process capture"
                    + " goes on). Check the table mapping against the table's new structure, restart the service to"
                    + " capture it again, and then reconcile the table: changes made before the restart are not"
                    + " read again.");
        }
    }

    /** Stops the whole capture on an error it cannot read past; the position stays before it. */
    void fail(String reason, Exception cause) {
        if (state == State.FAILED || stopping) {
            return;
        }
        problem = reason;
        state = State.FAILED;
        stopping = true;
        log.error("dualwrite: change-data capture STOPPED: " + reason + ". Its position stays at " + stored
                + " and nothing after it is captured until the service restarts.", cause);
        Thread disconnect = new Thread(this::disconnectAfterFailure, "dualwrite-cdc-disconnect");
        disconnect.setDaemon(true);
        disconnect.start();
    }

    /** The reader lost its connection; past a few tries in a row, status and health say so. */
    void connectionLost(Exception e) {
        if (!stopping) {
            log.warn("dualwrite: change-data capture lost its connection to " + logName() + " at " + readPosition
                    + ", reading again in " + config.reconnectDelay() + ": " + e.getMessage());
            if (++reconnectFailures >= RECONNECTS_BEFORE_DOWN) {
                problem = logKind() + " could not be read from " + readPosition + " in " + reconnectFailures
                        + " tries: " + e.getMessage();
            }
        }
    }

    /** The reader is connected again. */
    void connected() {
        if (reconnectFailures > 0 && state == State.RUNNING) {
            problem = null;
        }
        reconnectFailures = 0;
    }

    // ------------------------------------------------------------------------------------------------
    // The checkpoint thread
    // ------------------------------------------------------------------------------------------------

    /**
     * The checkpointer's round: the holder renews its lease and stores the watermark, or stops reading when
     * another instance took the lease; a standby tries for the lease and takes over when it gets it.
     */
    private void tick() {
        long now = System.currentTimeMillis();
        try {
            if (state == State.RUNNING) {
                if (positions.renew(holder, now, leaseMillis)) {
                    checkpointQuietly();
                } else {
                    synchronized (this) {
                        if (state == State.RUNNING) {
                            log.warn("dualwrite: change-data capture lost its lease on " + logName() + " (another"
                                    + " instance took it over after this one missed its renewals); stops reading and"
                                    + " stands by");
                            stopReader();
                            state = State.STANDBY;
                        }
                    }
                }
            } else if (state == State.STANDBY && positions.acquire(holder, now, leaseMillis)) {
                synchronized (this) {
                    if (state == State.STANDBY) {
                        log.info("dualwrite: change-data capture takes over " + logName() + ": the lease of the"
                                + " instance that read it ran out");
                        beginReading();
                    }
                }
            }
        } catch (CdcUnavailableException e) {
            // The capture is FAILED now (DISABLED said it itself): nothing more to take over.
            log.error("dualwrite: change-data capture could not take over " + logName() + ": " + e.getMessage());
        } catch (SQLException | RuntimeException e) {
            log.warn("dualwrite: change-data capture could not renew or take its lease (" + e.getMessage()
                    + "); tries again in " + config.checkpointInterval());
        }
    }

    private void checkpointQuietly() {
        try {
            checkpoint();
        } catch (SQLException | RuntimeException e) {
            log.warn("dualwrite: change-data capture could not store its position (stays at " + stored + "): "
                    + e.getMessage());
        }
        try {
            readHead();
        } catch (SQLException | RuntimeException e) {
            log.debug("dualwrite: change-data capture could not read the log's head", e);
        }
    }

    /**
     * Stores the watermark now, if it moved, and then tells the server it may discard the log up to it.
     *
     * @return the stored position
     * @throws SQLException if the target cannot be written
     */
    LogPosition checkpoint() throws SQLException {
        // One writer at a time, so that a slower write of an older watermark never lands after a newer one.
        synchronized (positions) {
            LogPosition safe = storeReadPosition ? readPosition : watermark.advance(mirror::oldestUnappliedNanos);
            if (!safe.equals(stored) && positions.write(safe, holder)) {
                stored = safe;
            }
            // Only what is stored: a crash now resumes from the stored position, and the server must keep
            // the log from there.
            acknowledge(stored);
            return safe;
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Status and shut-down
    // ------------------------------------------------------------------------------------------------

    /**
     * What the capture is doing: its state, the positions read, stored and at the server's head, the log
     * lag (how far reading is behind the server) apart from the apply lag (how long the oldest key read
     * waits for the mirror), counts, and the tables whose capture stopped, with why.
     *
     * @return a snapshot
     */
    public CdcStatus status() {
        Watermark w = watermark;
        OptionalLong oldest = w == null ? OptionalLong.empty() : w.oldestWaitingNanos();
        Duration applyLag = oldest.isEmpty() ? Duration.ZERO
                : Duration.ofNanos(Math.max(0, System.nanoTime() - oldest.getAsLong()));
        return new CdcStatus(state, problem, readPosition, stored, head, logLagBytes, applyLag, keysHanded.get(),
                keysNotHanded.get(), echoesSkipped.get(), transactions.get(), new LinkedHashMap<>(stopped));
    }

    /**
     * Waits until the capture has read up to the server's head as of this call and the mirror has applied
     * every key read, and stores that position: what a test or a cut-over checks before comparing stores.
     *
     * @param timeout the longest wait
     * @return true once caught up; false on timeout, or when it does not read (a standby waits to take over)
     * @throws SQLException if the source or the target cannot be reached
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitCaughtUp(Duration timeout) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        LogPosition target = serverHead();
        while (System.nanoTime() < deadline) {
            if (state == State.STANDBY) {
                // Another instance reads the log; this one may take over before the deadline.
                Thread.sleep(20);
                continue;
            }
            if (state != State.RUNNING) {
                return false;
            }
            LogPosition at = readPosition;
            if (at != null && at.compareTo(target) >= 0 && checkpoint().compareTo(target) >= 0) {
                return true;
            }
            Thread.sleep(20);
        }
        return false;
    }

    /**
     * Waits until the position stored for this log (by whichever instance of the fleet reads it) has passed
     * the server's head as of this call: every change committed before the call has been applied. A step out
     * of DUAL_WRITE runs it first, since keys read after the step are no longer handed over.
     *
     * @param timeout the longest wait
     * @return empty once passed; otherwise why not, for the step's refusal
     * @throws SQLException if the source or the target cannot be reached
     * @throws InterruptedException if interrupted while waiting
     */
    public Optional<String> awaitStoredPastHead(Duration timeout) throws SQLException, InterruptedException {
        if (state == State.DISABLED) {
            return Optional.empty();
        }
        LogPosition target = serverHead();
        long deadline = System.nanoTime() + timeout.toNanos();
        Optional<LogPosition> at = positions.read();
        while (at.isEmpty() || at.get().compareTo(target) < 0) {
            if (System.nanoTime() >= deadline) {
                return Optional.of("the change-data capture has applied " + logKind() + " only up to "
                        + at.map(String::valueOf).orElse("nothing yet") + " of " + target + " after " + timeout
                        + (state == State.FAILED ? " (it STOPPED: " + problem + ")" : "")
                        + "; changes outside the service read after the step would not be mirrored");
            }
            Thread.sleep(Math.max(10, Math.min(200, config.checkpointInterval().toMillis() / 2)));
            at = positions.read();
        }
        return Optional.empty();
    }

    /**
     * Whether this store's log tells the library's own writes apart, so that they are skipped rather than
     * handed over again: MariaDB with {@code binlog_annotate_row_events=ON}, PostgreSQL 14 and later. Known
     * once {@link #start()} has checked the store; true before. Where both stores take application writes
     * (RAMP) an echo handed over is not harmless (see {@code io.dualwrite.routing.ChangeLogRouting}), so a
     * capture that cannot tell them apart hands nothing over there.
     *
     * @return whether the library's own writes are recognised in the log
     */
    public boolean recognisesOwnWrites() {
        return ownWritesMarked;
    }

    /** @return this reader's name: its row in the position table */
    public String readerName() {
        return config.readerName();
    }

    /**
     * Reads the end of the server's log now: every change committed before this call lies before it.
     *
     * @return the server's head
     * @throws SQLException if the store cannot be reached
     */
    public LogPosition currentHead() throws SQLException {
        return serverHead();
    }

    /**
     * Whether the position stored for this log, by whichever instance of the fleet reads it, has reached
     * {@code position}: every change before it has been applied (or was not to be handed over).
     *
     * @param position a position of this log, e.g. from {@link #currentHead()}
     * @return true once stored up to there; true also when this capture does not read (disabled, failed or
     *     closed: nothing will ever be stored, and health reports why)
     * @throws SQLException if the position table cannot be read
     */
    public boolean storedUpTo(LogPosition position) throws SQLException {
        if (state != State.RUNNING && state != State.STANDBY) {
            return true;
        }
        Optional<LogPosition> at = positions.read();
        return at.isPresent() && at.get().compareTo(position) >= 0;
    }

    /**
     * Test switch: whether the changes of the library's own writes are skipped (on by default).
     *
     * @param filter false to hand their keys over like any other
     */
    public void filterEchoesForTesting(boolean filter) {
        this.filterEchoes = filter;
    }

    /**
     * Test switch, the negative control of the watermark: from now on the position stored is the end of the
     * last transaction read, whether or not its keys were applied.
     */
    public void storeReadPositionForTesting() {
        this.storeReadPosition = true;
    }

    /**
     * Test switch: dies like a killed process, between reading and applying: the reader and the checkpointer
     * stop at once, nothing more is stored, keys read and not yet applied are left where they are.
     */
    public synchronized void crashForTesting() {
        stopping = true;
        if (checkpointer != null) {
            checkpointer.shutdownNow();
        }
        stopReader();
        state = State.CLOSED;
    }

    /** Stops reading, stores the last watermark, and closes the log connection. */
    @Override
    public synchronized void close() {
        if (state == State.CLOSED) {
            return;
        }
        stopping = true;
        if (checkpointer != null) {
            checkpointer.shutdown();
            try {
                checkpointer.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (watermark != null && state == State.RUNNING) {
            try {
                // Before the reader stops: a PostgreSQL slot is acknowledged on the reader's connection.
                checkpoint();
            } catch (SQLException | RuntimeException e) {
                log.warn("dualwrite: change-data capture could not store its last position (stays at " + stored
                        + "): " + e.getMessage());
            }
        }
        stopReader();
        try {
            // A standby takes over at its next round rather than after the lease.
            positions.release(holder);
        } catch (SQLException | RuntimeException e) {
            log.debug("dualwrite: change-data capture could not release its lease; it runs out by itself", e);
        }
        state = State.CLOSED;
    }
}
