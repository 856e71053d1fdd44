package io.dualwrite.mirror;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RestoringDataSource;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.springframework.jdbc.datasource.DataSourceUtils;

/**
 * The dual-write mirror of one migration: receives the keys each source transaction changed and
 * brings their current state to the target, in the configured {@link MirrorMode}.
 *
 * <pre>{@code
 * MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
 *         source, target, false);
 * Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source, target, new EventPublisher());
 * mirror.start();
 * ChangeRecorder changes = mirror.recorder();   // or register mirror.aspect() for @DualWrite
 * }</pre>
 *
 * <p>{@code source} must be the very {@link DataSource} the application's transaction manager uses:
 * OUTBOX writes its rows on a Spring transaction's own connection, found through it. Transparent capture
 * hands over the connection itself for a transaction Spring does not manage
 * ({@link #beforeCommit(Collection, Connection)}).
 */
public final class Mirror implements ChangeSink, AutoCloseable {

    /** How often the log repeats that applies are still failing. */
    static final Duration OUTAGE_LOG_INTERVAL = Duration.ofMinutes(1);

    private static final Log log = LogFactory.getLog(Mirror.class);

    private final MirrorConfig config;
    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final DataSource transactional;
    private final EventPublisher events;
    private final OutageLog outageLog;
    private final MirrorApplier applier;
    private final Lanes lanes;
    private final OutboxStore outbox;
    private final OutboxRelay relay;
    private final Overflow overflow;
    /** Whether the outbox is in use: OUTBOX mode, or a table the lanes spill to; the relay runs then. */
    private final AtomicBoolean relayStarted = new AtomicBoolean();
    private final ChangeCapture capture;
    private final DualWriteAspect aspect;
    private volatile boolean started;
    private volatile boolean closed;
    private boolean spilledBefore;
    /** When this mirror carries a sharded store's writes: where its outbox rows go in the application's transaction. */
    private final io.dualwrite.jdbc.ShardedHome shardedHome;

    private Mirror(MirrorConfig config, MappedTables tables, DataSource source, DataSource target,
            DataSource transactional, EventPublisher events) {
        this.config = config;
        this.tables = tables;
        // The library's own connections go back to the pool with the settings they came out with.
        this.source = RestoringDataSource.of(source);
        this.target = RestoringDataSource.of(target);
        this.transactional = transactional;
        this.shardedHome = shardedHome(source);
        // The mirror's own events also feed its outage log lines; everything goes on to the caller's publisher.
        this.outageLog = new OutageLog("mirror " + tables.sourceDialect().product() + " -> "
                + tables.targetDialect().product(), this::pending, this::lag, OUTAGE_LOG_INTERVAL);
        this.events = new EventPublisher().subscribe(events::publish).subscribe(outageLog);
        this.applier = new MirrorApplier(this.source, this.target, config.versionGuard());
        applier.observations(config.observationRegistry());
        applier.writeLockTimeout(tables.targetDialect().lockTimeoutStatements(config.writeLockTimeout()));
        // OUTBOX writes every change there; ASYNC and SYNC spill there what their full queue cannot hold.
        this.outbox = new OutboxStore(tables.sourceDialect(), config.outboxTable());
        this.relay = new OutboxRelay(config, tables, applier, this.events, this.source, outbox);
        this.overflow = new Overflow(config, this.source, outbox, this.events, this::startRelay, OUTAGE_LOG_INTERVAL);
        this.lanes = new Lanes(config, tables, applier, this.events, overflow);
        this.capture = new ChangeCapture(this, tables::contains);
        this.aspect = new DualWriteAspect(capture);
    }

    /**
     * Creates a mirror; call {@link #start()} before the application writes.
     *
     * @param config the settings
     * @param tables the checked table mappings
     * @param source the application's source data source (the one its transactions use)
     * @param target the target data source
     * @param events where events go
     * @return the mirror
     */
    public static Mirror create(MirrorConfig config, MappedTables tables, DataSource source, DataSource target,
            EventPublisher events) {
        return create(config, tables, source, target, source, events);
    }

    /**
     * Creates a mirror whose application transactions run on another {@link DataSource} than
     * {@code source}: the routing data source during a migration, which hands out {@code source}'s
     * connections. OUTBOX writes its rows on the transaction's connection, found through
     * {@code transactional}; everything else uses {@code source} and {@code target} directly.
     *
     * <p>For the mirror that carries target-routed writes back during RAMP, pass
     * {@link MappedTables#reversed()} with the stores swapped: {@code source} is then the target store.
     *
     * @param config the settings
     * @param tables the checked table mappings
     * @param source the store whose committed writes this mirror carries
     * @param target the store it writes them to
     * @param transactional the data source the application's transaction manager uses
     * @param events where events go
     * @return the mirror
     */
    public static Mirror create(MirrorConfig config, MappedTables tables, DataSource source, DataSource target,
            DataSource transactional, EventPublisher events) {
        return new Mirror(Objects.requireNonNull(config, "config"), Objects.requireNonNull(tables, "tables"),
                Objects.requireNonNull(source, "source"), Objects.requireNonNull(target, "target"),
                Objects.requireNonNull(transactional, "transactional"), Objects.requireNonNull(events, "events"));
    }

    /**
     * Starts the lanes and checks the outbox table (creating it if configured). In OUTBOX mode the table
     * must be there. In ASYNC and SYNC it takes the keys a full queue cannot hold; without it they are
     * parked, which the log says once here. The relay starts here in OUTBOX mode, and in the others with
     * the first spill, or here when earlier runs left keys in the table; it first applies what they left.
     *
     * @throws IllegalStateException if in OUTBOX mode the outbox table is missing and may not be created;
     *     the message holds the DDL to run
     * @throws SQLException if in OUTBOX mode the source cannot be reached to check the outbox table
     */
    public synchronized void start() throws SQLException {
        if (started) {
            return;
        }
        if (config.mode() != MirrorMode.OUTBOX) {
            prepareSpill();
        } else {
            try (Connection connection = source.getConnection()) {
                refuseOutboxWithoutHome(connection);
                if (!outbox.exists(connection)) {
                    if (!config.createOutboxTable()) {
                        throw new IllegalStateException("dualwrite.mirror.mode=OUTBOX needs table '"
                                + config.outboxTable() + "' in the source database. Create it with:\n" + outbox.ddl()
                                + "\nor set dualwrite.schema.create=true to let dualwrite create it.");
                    }
                    outbox.create(connection);
                    if (!connection.getAutoCommit()) {
                        connection.commit();
                    }
                } else {
                    addKeyIndexIfMissing(connection);
                }
            }
        }
        warnIfWrittenStoreUnbatched(target);
        lanes.start();
        started = true;
        if (config.mode() == MirrorMode.OUTBOX || spilledBefore) {
            startRelay();
        }
    }

    /**
     * Finds (or creates, if configured) the table a full queue spills to; a source out of reach is asked
     * later. The relay starts with the first spill, or at once when earlier runs left keys there.
     */
    private void prepareSpill() {
        try (Connection connection = source.getConnection()) {
            boolean exists = outbox.exists(connection);
            if (!exists && config.createOutboxTable()) {
                outbox.create(connection);
                if (!connection.getAutoCommit()) {
                    connection.commit();
                }
                exists = true;
            }
            overflow.table(exists ? Overflow.Table.PRESENT : Overflow.Table.ABSENT);
            if (!exists) {
                log.warn(overflow.parksWhenFull());
            } else {
                addKeyIndexIfMissing(connection);
            }
            spilledBefore = exists && outbox.countPending(connection) > 0;
        } catch (SQLException e) {
            log.warn("dualwrite could not look for the outbox table '" + config.outboxTable() + "' at start-up ("
                    + e.getMessage() + "); the first key the full queue cannot hold tries to spill there, and is parked"
                    + " if that fails");
        }
    }

    /**
     * An outbox table made before the relay claimed a key's rows together has no index on the key: each
     * claim would scan the table, so it is added when the library may create its tables, and asked for
     * once in the log otherwise.
     */
    private void addKeyIndexIfMissing(Connection connection) throws SQLException {
        if (outbox.hasKeyIndex(connection)) {
            return;
        }
        if (config.createOutboxTable()) {
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute(outbox.createKeyIndex());
            }
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
            log.info("dualwrite added the key index to the outbox table '" + config.outboxTable() + "'");
        } else {
            log.warn("dualwrite's outbox table '" + config.outboxTable() + "' has no index on (table_name, row_key):"
                    + " the relay scans the table for the other rows of each key it claims. Add it with: "
                    + outbox.createKeyIndex());
        }
    }

    private void startRelay() {
        if (!closed && relayStarted.compareAndSet(false, true)) {
            relay.start();
        }
    }

    /**
     * Batching is most of the written store's speed (DESIGN: 17.7k against 99.6k rows/s on MariaDB), and the
     * setting lives in that store's pool URL, which the application owns: say so once, loudly, naming the
     * store (the source, for the mirror that carries target-routed writes back in RAMP) and where its URL is
     * set ({@link MirrorConfig#urlSettings}).
     */
    private void warnIfWrittenStoreUnbatched(DataSource written) {
        boolean back = tables.all().stream().anyMatch(io.dualwrite.mapping.MappedTable::isReversed);
        String store = back ? "source" : "target";
        try (Connection connection = written.getConnection()) {
            String url = connection.getMetaData().getURL();
            if (url == null) {
                return;
            }
            String recommended = tables.targetDialect().withRecommendedProperties(url);
            if (!recommended.equals(url)) {
                log.warn(batchingAdvice(store, back ? config.sourceUrlSetting() : config.targetUrlSetting(), url,
                        recommended, tables.targetDialect().recommendedTargetProperties()));
            }
        } catch (SQLException e) {
            log.warn("dualwrite could not reach the " + store + " store at start-up; the mirror will retry: "
                    + e.getMessage());
        }
    }

    static String batchingAdvice(String store, String setting, String url, String recommended,
            Map<String, String> settings) {
        String writes = store.equals("target") ? "the mirror's and the backfill's writes to the target"
                : "the reverse mirror's writes to the source (target-routed writes carried back during RAMP)";
        return "dualwrite: the " + store + " store's JDBC URL " + masked(url) + " lacks the batching settings "
                + settings + ", so " + writes + " will be several times slower. Add them to " + setting + ": "
                + masked(recommended);
    }

    private static String masked(String url) {
        return url.replaceAll("password=[^&;]*", "password=***");
    }

    /**
     * Skips the changes of rows an operator marked as not mirrored. Only for a forward mirror: the reverse
     * mirror's tables are never skipped.
     *
     * @param marks the marks, or null to skip nothing
     */
    public void degradation(io.dualwrite.degrade.Degradation marks) {
        applier.degradation(marks);
    }

    /** @return the recorder for programmatic capture */
    public ChangeCapture recorder() {
        return capture;
    }

    /** @return the aspect that serves {@link io.dualwrite.capture.DualWrite}; register it as a bean */
    public DualWriteAspect aspect() {
        return aspect;
    }

    /** @return the mode */
    public MirrorMode mode() {
        return config.mode();
    }

    /**
     * @return the statements that create the outbox table and its key index on the source store, in order;
     *     empty when not in OUTBOX mode
     */
    public List<String> outboxDdl() {
        return config.mode() == MirrorMode.OUTBOX ? outbox.statements() : List.of();
    }

    /**
     * OUTBOX: writes the changes' outbox rows on the Spring transaction's connection, found through the
     * transactional data source, so that they commit with it.
     *
     * @throws IllegalStateException if the rows could not be written; the transaction then rolls back
     */
    @Override
    public void beforeCommit(Collection<Change> changes) {
        if (!writesBeforeCommit()) {
            return;
        }
        Connection connection = DataSourceUtils.getConnection(transactional);
        try {
            outbox.insert(outboxConnection(connection), canonical(changes), System.currentTimeMillis());
        } catch (SQLException e) {
            throw new IllegalStateException(outboxFailure(changes), e);
        } finally {
            DataSourceUtils.releaseConnection(connection, transactional);
        }
    }

    /**
     * OUTBOX: writes the changes' outbox rows on the application's own connection, in the transaction
     * about to commit there.
     *
     * @throws SQLException if the rows could not be written; the caller rolls the transaction back
     */
    @Override
    public void beforeCommit(Collection<Change> changes, Connection connection) throws SQLException {
        if (!writesBeforeCommit()) {
            return;
        }
        try {
            outbox.insert(outboxConnection(connection), canonical(changes), System.currentTimeMillis());
        } catch (SQLException e) {
            throw new SQLException(outboxFailure(changes), e.getSQLState(), e);
        }
    }

    /**
     * OUTBOX needs every application transaction's outbox rows where the relay reads them. A sharded source given
     * as its physical tables has no such place: an application transaction on one shard's database would write
     * its rows there, where the relay never looks (or fail for want of the table), so it is refused; so is a source
     * read through ShardingSphere, whose engine does not know the outbox table. Only a sharded store that names a
     * home database in the application's transaction ({@code ShardedHome}: a sharded target) takes OUTBOX rows.
     */
    private void refuseOutboxWithoutHome(Connection connection) throws SQLException {
        if (shardedHome == null && connection.isWrapperFor(io.dualwrite.jdbc.ShardedStore.class)) {
            throw new IllegalStateException("dualwrite.mirror.mode=OUTBOX cannot be used with a sharded source given"
                    + " as its physical tables (dualwrite.source.shards.*): the application's transactions on each"
                    + " shard's database would write their outbox rows there, and the relay reads the home database's"
                    + " only. Set dualwrite.mirror.mode=ASYNC or SYNC for this source.");
        }
    }

    /** The sharded store behind a data source, possibly wrapped (a {@code DelegatingDataSource}), or null. */
    private static io.dualwrite.jdbc.ShardedHome shardedHome(DataSource source) {
        try {
            return source.isWrapperFor(io.dualwrite.jdbc.ShardedHome.class)
                    ? source.unwrap(io.dualwrite.jdbc.ShardedHome.class) : null;
        } catch (SQLException | RuntimeException notAWrapper) {
            return null;
        }
    }

    /**
     * The connection an application transaction's outbox rows go on: its own, or, on a sharded store, the sharding
     * engine's connection to the home database in that transaction (the engine does not know the library's tables).
     */
    private Connection outboxConnection(Connection application) throws SQLException {
        return shardedHome == null ? application : shardedHome.homeConnection(application).orElse(application);
    }

    /** @return whether this mirror writes outbox rows before the application's commit */
    @Override
    public boolean writesBeforeCommit() {
        return config.mode() == MirrorMode.OUTBOX;
    }

    private String outboxFailure(Collection<Change> changes) {
        return "dualwrite could not write " + changes.size() + " changes to " + config.outboxTable()
                + " (dualwrite.mirror.outbox.table) in the source; the application's transaction is rolled back so"
                + " that no change goes unrecorded";
    }

    @Override
    public void afterCommit(Collection<Change> changes, long committedAtNanos) {
        switch (config.mode()) {
            case OUTBOX -> relay.wakeUp();
            case ASYNC -> lanes.submit(canonical(changes), committedAtNanos);
            case SYNC -> applyOnCaller(canonical(changes), committedAtNanos);
        }
    }

    /**
     * Hands keys read from the store's own change log (change-data capture, {@code io.dualwrite.cdc}) to the
     * lanes, whatever the mode: the log is already durable, so OUTBOX needs no outbox row for them, and the
     * log reader must never wait for an apply as a SYNC caller would. The apply is the same locked read of
     * the current state as for every other capture path; a key also captured in-process is coalesced in its
     * lane or applied a harmless second time.
     *
     * @param changes the changed keys, as the log gave them
     * @param seenAtNanos a {@link System#nanoTime()} reading taken before this call; {@link #oldestUnappliedNanos()}
     *     stays at or below it until every one of these keys has been applied, spilled or parked
     */
    public void captured(Collection<Change> changes, long seenAtNanos) {
        lanes.submit(canonical(changes), seenAtNanos);
    }

    /**
     * The hand-over time of the oldest key the lanes still hold, waiting or being applied: the change-data
     * capture's low watermark. Keys spilled to the outbox table are durable there and keys parked are left
     * to the reconciler, so neither holds it back.
     *
     * @return the {@link System#nanoTime()} reading of {@link #captured} or of the commit, or empty when no
     *     key waits
     */
    public java.util.OptionalLong oldestUnappliedNanos() {
        return lanes.oldestPendingCommitNanos();
    }

    /**
     * Brings each change's key to its columns' one form (see {@link io.dualwrite.jdbc.KeyCodec}) where keys
     * enter the mirror, so that lanes hash, coalesce and match them against the rows read as the same key.
     * A key that does not fit its columns goes on as recorded: the apply then fails on it with the codec's
     * message, and it is parked after its retries, never silently dropped.
     */
    private Collection<Change> canonical(Collection<Change> changes) {
        List<Change> canonical = new ArrayList<>(changes.size());
        for (Change change : changes) {
            canonical.add(canonical(change));
        }
        return canonical;
    }

    private Change canonical(Change change) {
        try {
            RowKey key = tables.get(change.table()).source().canonicalKey(change.key());
            return key == change.key() ? change : new Change(change.table(), key);
        } catch (IllegalArgumentException doesNotFit) {
            return change;
        }
    }

    /**
     * SYNC: apply on the caller's thread until the deadline ({@link MirrorConfig#syncTimeout()}, within
     * the wait limit); what is left (a locked key, a failure) goes to the lanes' background retries, so the
     * caller is never held longer than the timeout by waiting, and never sees an error. While applies are
     * failing (the target is down) the caller does not try: its keys go straight to the lanes.
     */
    private void applyOnCaller(Collection<Change> changes, long committedAtNanos) {
        if (outageLog.failing()) {
            lanes.submit(changes, committedAtNanos);
            return;
        }
        long deadline = committedAtNanos + config.syncTimeout().toNanos();
        Map<String, List<RowKey>> byTable = new LinkedHashMap<>();
        for (Change change : changes) {
            byTable.computeIfAbsent(change.table(), t -> new ArrayList<>()).add(change.key());
        }
        for (Map.Entry<String, List<RowKey>> group : byTable.entrySet()) {
            String table = group.getKey();
            List<RowKey> remaining = group.getValue();
            int attempts = 0;
            while (!remaining.isEmpty() && System.nanoTime() < deadline) {
                try {
                    MirrorApplier.Outcome outcome;
                    try (MirrorApplier.Session session = applier.openSessionUntil(deadline)) {
                        outcome = applier.apply(tables.get(table), remaining, session);
                    }
                    long now = System.nanoTime();
                    if (!outcome.applied().isEmpty()) {
                        events.publish(new DualWriteEvent.ChangesApplied(table, outcome.upserted(), outcome.deleted(),
                                outcome.applied().stream().map(k -> Duration.ofNanos(now - committedAtNanos)).toList()));
                    }
                    remaining = new ArrayList<>(outcome.deferred());
                    if (!remaining.isEmpty()) {
                        events.publish(new DualWriteEvent.ApplyDeferred(table, remaining.size()));
                        sleepUntil(Math.min(deadline, now + config.lockRetryDelay().toNanos()));
                    }
                } catch (Exception failure) {
                    attempts++;
                    events.publish(new DualWriteEvent.ApplyFailed(table, remaining.size(), attempts, true, failure,
                            remaining.get(0)));
                    break;
                }
            }
            if (!remaining.isEmpty()) {
                lanes.retryLater(table, remaining, committedAtNanos, attempts,
                        Failures.backoffNanos(Math.max(1, attempts), config.initialBackoff(), config.maxBackoff()));
            }
        }
    }

    private static void sleepUntil(long deadlineNanos) {
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) {
            try {
                Thread.sleep(left / 1_000_000, (int) (left % 1_000_000));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * How many keys wait to be applied: queued in the lanes, plus unapplied outbox rows (OUTBOX mode, or
     * keys a full queue spilled there).
     *
     * @return the count
     */
    public long pending() {
        long count = lanes.pending();
        if (relayStarted.get()) {
            try (Connection connection = source.getConnection()) {
                count += outbox.countPending(connection);
            } catch (SQLException e) {
                log.debug("dualwrite could not count outbox rows", e);
            }
        }
        return count;
    }

    /**
     * Whether applies are failing now: from the first failed attempt until an apply succeeds again. The
     * log says the same, once when it starts, once a minute while it lasts, and once when it ends.
     *
     * @return how long and why, or empty while applies succeed
     */
    public java.util.Optional<String> currentFailure() {
        return outageLog.currentFailure();
    }

    /**
     * How long applies have been failing without one succeeding in between: from the first failed attempt
     * until an apply succeeds again. A key that keeps failing while others apply (a row the target refuses)
     * does not add up here; it is parked after its attempts, which {@link #parked()} counts.
     *
     * @return the time, or zero while applies succeed
     */
    public Duration failingFor() {
        return outageLog.failingFor();
    }

    /**
     * How far the mirror is behind: the age of the oldest committed change not applied yet (zero when
     * nothing waits). The backfill backs off while it is high
     * ({@code BackfillConfig.Builder#backOffOnMirrorLag(mirror::lag, max)}).
     *
     * @return the lag
     */
    public Duration lag() {
        Duration lag = lanes.oldestPendingCommitNanos().stream()
                .mapToObj(oldest -> Duration.ofNanos(Math.max(0, System.nanoTime() - oldest)))
                .findFirst().orElse(Duration.ZERO);
        if (relayStarted.get()) {
            try (Connection connection = source.getConnection()) {
                long oldest = outbox.oldestPendingMillis(connection);
                if (oldest > 0) {
                    Duration outboxLag = Duration.ofMillis(Math.max(0, System.currentTimeMillis() - oldest));
                    lag = outboxLag.compareTo(lag) > 0 ? outboxLag : lag;
                }
            } catch (SQLException e) {
                log.debug("dualwrite could not read the outbox lag", e);
            }
        }
        return lag;
    }

    /**
     * How many keys gave up after their last retry, or could be neither queued nor spilled, since start
     * (ASYNC and SYNC), plus those parked in the outbox table.
     *
     * @return the count
     */
    public long parked() {
        long count = lanes.parked() + overflow.parked();
        if (relayStarted.get()) {
            try (Connection connection = source.getConnection()) {
                count += outbox.countParked(connection);
            } catch (SQLException e) {
                log.debug("dualwrite could not count parked outbox rows", e);
            }
        }
        return count;
    }

    /**
     * Waits until nothing is left to apply: every lane empty (applying what waits without lingering for more keys)
     * and, in OUTBOX mode, no unparked outbox row.
     *
     * @param timeout the longest wait
     * @return true if drained, false on timeout
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitDrained(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        if (!lanes.awaitIdle(timeout)) {
            return false;
        }
        if (!relayStarted.get()) {
            return true;
        }
        while (System.nanoTime() < deadline) {
            relay.wakeUp();
            try (Connection connection = source.getConnection()) {
                if (outbox.countPending(connection) == 0 && !relay.isBusy()) {
                    return true;
                }
            } catch (SQLException e) {
                log.debug("dualwrite could not count outbox rows", e);
            }
            Thread.sleep(20);
        }
        return false;
    }

    /**
     * Sets the observer of the primary rows each apply reads (one at a time; null removes it).
     *
     * @param observer the observer
     */
    public void observeRows(RowObserver observer) {
        applier.observer(observer);
    }

    /**
     * Proves that this mirror can carry a table's rows, without changing either store: a few rows are
     * read, mapped and written in a transaction that is rolled back (those of them the other store holds too, when
     * there are any, so that a row deleted there a moment ago with its parent cannot fail a foreign key). The ramp
     * guard runs it on the reverse mirror before any traffic goes to the target.
     *
     * @param table the source table's configured name
     * @return how many rows went through; 0 when the table is empty (nothing proven but the statements)
     * @throws SQLException if a statement fails on either store
     * @throws IllegalArgumentException if a row does not map, or the table is not mapped
     */
    public int probe(String table) throws SQLException {
        return applier.probe(tables.get(table), (int) Math.min(Integer.MAX_VALUE, config.applyTimeout().toMillis()));
    }

    /**
     * Waits until every change committed up to a moment has been applied (or parked): the ramp barrier's
     * "drained what it committed before acknowledging". Changes committed later may still wait. From this call
     * on, the lanes apply the changes it waits for without lingering for more keys, even when it only asks
     * (a zero timeout).
     *
     * @param committedUpToNanos a {@link System#nanoTime()} reading; in OUTBOX mode it is compared with
     *     the outbox rows' wall-clock times through the offset between the two clocks now
     * @param timeout the longest wait
     * @return true once nothing older is left, false on timeout
     * @throws InterruptedException if interrupted while waiting
     */
    public boolean awaitAppliedUpTo(long committedUpToNanos, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long upToMillis = System.currentTimeMillis() - (System.nanoTime() - committedUpToNanos) / 1_000_000;
        lanes.hurry(committedUpToNanos);
        while (true) {
            java.util.OptionalLong oldest = lanes.oldestPendingCommitNanos();
            boolean lanesDone = oldest.isEmpty() || oldest.getAsLong() > committedUpToNanos;
            boolean outboxDone = true;
            if (lanesDone && relayStarted.get()) {
                relay.wakeUp();
                try (Connection connection = source.getConnection()) {
                    long oldestRow = outbox.oldestPendingMillis(connection);
                    outboxDone = oldestRow == 0 || oldestRow > upToMillis;
                } catch (SQLException e) {
                    outboxDone = false;
                    log.debug("dualwrite could not read the outbox", e);
                }
            }
            if (lanesDone && outboxDone) {
                return true;
            }
            if (System.nanoTime() >= deadline) {
                return false;
            }
            Thread.sleep(5);
        }
    }

    /**
     * Stops the relay, then drains the lanes for up to the shutdown timeout; what is left is spilled to
     * the outbox table for the next start, or parked and logged when there is none.
     */
    @Override
    public synchronized void close() {
        closed = true;
        if (relayStarted.get()) {
            relay.close();
        }
        lanes.close();
        started = false;
    }

    /**
     * How many keys a full queue wrote to the outbox table since start, for the outbox relay to apply.
     *
     * @return the count
     */
    public long spilled() {
        return overflow.spilled();
    }

    /**
     * Whether keys are being parked because the queue is full and there is no outbox table to spill to
     * (typically during a target outage): the health check shows it, and the log says it once a minute.
     *
     * @return how many since when, and why; empty when no key was parked so
     */
    public java.util.Optional<String> overflowParking() {
        return overflow.parking();
    }

    /** @return the keys held in memory by the lanes, waiting or being applied (not the outbox rows) */
    long queued() {
        return lanes.pending();
    }

    /** Test access to the applier, for the tests that switch parts of the protocol off. */
    MirrorApplier applier() {
        return applier;
    }

    /**
     * Brings the current source state of some keys to the target now, on the caller's thread, through the
     * same locked apply as every mirrored change: so a repair obeys the same ordering and the same version
     * guard, and cannot overwrite a write that commits while it runs. Keys a writer holds are retried every
     * {@link MirrorConfig#lockRetryDelay()} until the timeout. It works whether or not the mirror was
     * started, so a reconciler may use a mirror of its own.
     *
     * @param table the source table, as mapped
     * @param keys source keys of that table
     * @param timeout how long to keep retrying keys held by writers
     * @return the keys that could not be applied before the timeout (empty when all were)
     * @throws SQLException if either store fails
     * @throws IllegalArgumentException if the table is not mapped, a key does not fit its columns, or a row
     *     does not map to the target
     */
    public Set<RowKey> repair(String table, Collection<RowKey> keys, Duration timeout) throws SQLException {
        MappedTable mapped = tables.get(table);
        long deadline = System.nanoTime() + Objects.requireNonNull(timeout, "timeout").toNanos();
        Set<RowKey> remaining = new LinkedHashSet<>();
        for (RowKey key : keys) {
            remaining.add(mapped.source().canonicalKey(key));
        }
        while (!remaining.isEmpty()) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            remaining = new LinkedHashSet<>(
                    applier.apply(mapped, remaining, (int) Math.min(Integer.MAX_VALUE, left)).deferred());
            if (remaining.isEmpty() || System.nanoTime() >= deadline) {
                break;
            }
            events.publish(new DualWriteEvent.ApplyDeferred(mapped.name(), remaining.size()));
            sleepUntil(Math.min(deadline, System.nanoTime() + config.lockRetryDelay().toNanos()));
        }
        return remaining;
    }
}
