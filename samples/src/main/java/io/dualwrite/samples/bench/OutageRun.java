package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.samples.soak.FaultProxy;
import java.io.IOException;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Catching up after a target outage (issue 19 item 4): writers update a small set of hot keys through a
 * mirror whose target connections go through a {@link FaultProxy}; after a healthy second the proxy resets
 * every connection and refuses new ones for the outage, as a stopped server does; at its end the writers
 * stop and the proxy lets bytes through again. Measured: the backlog when the target returns (keys queued
 * in ASYNC, outbox rows in OUTBOX), the time from its return until the mirror has drained, and how many
 * applies that took; then the hot keys are compared on both stores.
 */
final class OutageRun {

    /** Keys updated during the run: few enough that every key changes many times during the outage. */
    static final int HOT_KEYS = 200;

    private static final Duration BEFORE_OUTAGE = Duration.ofSeconds(1);
    private static final Duration DRAIN_LIMIT = Duration.ofMinutes(2);

    /**
     * One run's figures.
     *
     * @param writes committed transactions, all of them recorded by the mirror
     * @param errors failed transactions (none expected: the target's outage must not fail source writes)
     * @param backlog what the mirror held when the target came back: keys (ASYNC) or outbox rows (OUTBOX)
     * @param catchUpNanos from the target's return until drained
     * @param appliesAfter keys applied from the target's return until drained
     * @param differences hot keys whose status or version differ between the stores afterwards
     */
    record Result(MirrorMode mode, int round, long writes, long errors, long backlog, long catchUpNanos,
            long appliesAfter, long differences) {
    }

    private final DataSource source;
    private final BenchDatabase target;
    private final int writers;
    private final Duration outage;
    private final java.util.function.Function<MirrorMode, MirrorConfig> settings;

    /**
     * @param settings the mirror's settings for a mode, as the other runs use them
     */
    OutageRun(DataSource source, BenchDatabase target, int writers, Duration outage,
            java.util.function.Function<MirrorMode, MirrorConfig> settings) {
        this.source = source;
        this.target = target;
        this.writers = writers;
        this.outage = outage;
        this.settings = settings;
    }

    Result run(MirrorMode mode, int round) throws SQLException, IOException, InterruptedException {
        try (FaultProxy proxy = new FaultProxy("bench-target", target.port())) {
            HikariDataSource targetPool = target.targetPoolThrough("bench-outage-target-" + mode + "-" + round,
                    writers + 8, proxy.port());
            try {
                return run(mode, round, proxy, targetPool);
            } finally {
                targetPool.close();
            }
        }
    }

    private Result run(MirrorMode mode, int round, FaultProxy proxy, DataSource targetPool)
            throws SQLException, InterruptedException {
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder(BenchDatabase.TABLE).build()),
                source, targetPool, false);
        RunEvents events = new RunEvents();
        MirrorConfig config = settings.apply(mode);
        try (Mirror mirror = Mirror.create(config, tables, source, targetPool, new EventPublisher().subscribe(events))) {
            mirror.start();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong writes = new AtomicLong();
            AtomicLong errors = new AtomicLong();
            TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source));
            JdbcTemplate jdbc = new JdbcTemplate(source);
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                Thread thread = new Thread(() -> write(mirror, transactions, jdbc, stop, writes, errors),
                        "bench-outage-writer-" + w);
                thread.setDaemon(true);
                threads.add(thread);
                thread.start();
            }
            Thread.sleep(BEFORE_OUTAGE.toMillis());
            proxy.mode(FaultProxy.Mode.RESET);
            Thread.sleep(outage.toMillis());
            stop.set(true);
            for (Thread thread : threads) {
                thread.join();
            }
            long backlog = mirror.pending();
            long appliedBefore = events.applied();
            long back = System.nanoTime();
            proxy.mode(FaultProxy.Mode.PASS);
            if (!mirror.awaitDrained(DRAIN_LIMIT)) {
                throw new IllegalStateException(mode + " mirror did not catch up within " + DRAIN_LIMIT + "; "
                        + mirror.pending() + " left");
            }
            long catchUp = System.nanoTime() - back;
            return new Result(mode, round, writes.get(), errors.get(), backlog, catchUp,
                    events.applied() - appliedBefore, differences(targetPool));
        }
    }

    private static void write(Mirror mirror, TransactionTemplate transactions, JdbcTemplate jdbc, AtomicBoolean stop,
            AtomicLong writes, AtomicLong errors) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        while (!stop.get()) {
            long id = 1 + random.nextInt(HOT_KEYS);
            String status = "OUT" + random.nextInt(1_000);
            try {
                transactions.executeWithoutResult(tx -> {
                    jdbc.update(LatencyRun.UPDATE, status, new Timestamp(System.currentTimeMillis()), id);
                    mirror.recorder().record(BenchDatabase.TABLE, id);
                });
                writes.incrementAndGet();
            } catch (RuntimeException e) {
                errors.incrementAndGet();
            }
        }
    }

    private long differences(DataSource targetPool) {
        String query = "SELECT id, status, gmt_modified FROM " + BenchDatabase.TABLE + " WHERE id <= " + HOT_KEYS;
        Map<Object, String> onSource = rows(new JdbcTemplate(source), query);
        Map<Object, String> onTarget = rows(new JdbcTemplate(targetPool), query);
        return onSource.entrySet().stream().filter(row -> !row.getValue().equals(onTarget.get(row.getKey()))).count();
    }

    private static Map<Object, String> rows(JdbcTemplate jdbc, String query) {
        Map<Object, String> rows = new java.util.HashMap<>();
        jdbc.query(query, rs -> {
            rows.put(rs.getLong(1), rs.getString(2) + "|" + rs.getTimestamp(3).getTime());
        });
        return rows;
    }
}
