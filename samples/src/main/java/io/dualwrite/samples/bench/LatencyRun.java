package io.dualwrite.samples.bench;

import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorMode;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * One latency measurement: N application threads run single-row update transactions on the source for
 * a warm-up and then a measured window, in one {@link Mode}, each timing the whole call — the
 * transaction and whatever dualwrite does after the commit on that thread.
 *
 * <p>Besides the whole call, each transaction carries two timestamping synchronizations, registered
 * before and after dualwrite's own. Spring runs synchronizations of equal order in registration order,
 * so the time between their {@code afterCommit} calls is exactly dualwrite's after-commit dispatch (the
 * hand-off to a lane in ASYNC, the apply in SYNC), and the time from the end of the transaction's body
 * to the first one is the commit. They are registered in every mode, OFF included, so their own small
 * cost does not bias the comparison.
 */
final class LatencyRun {

    static final String APP_THREAD_PREFIX = "bench-app-";

    static final String UPDATE = "UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?";

    private static final String[] STATUSES = {"PAID", "PACKED", "SHIPPED", "DELIVERED", "REFUNDED"};

    /** Opens (creates and starts) a mirror for one run. */
    @FunctionalInterface
    interface Mirrors {
        Mirror open(MirrorMode mode, EventPublisher events) throws SQLException;
    }

    /**
     * One run's figures; latencies in nanoseconds, counted for calls that started in the measured window.
     *
     * @param calls the whole call, per operation
     * @param statements the UPDATE statement alone
     * @param commits end of the transaction's body to the first after-commit callback
     * @param handoffs dualwrite's after-commit dispatch
     * @param events what the mirror reported (lags recorded from the window's start until drained), or
     *     {@code null} for OFF
     * @param drainNanos time from the window's end until the mirror had nothing left to apply
     * @param mirrorSource CPU seconds of the source server spent serving the mirror's connections during the
     *     window; {@code NaN} when not measured
     * @param mirrorTarget the same on the target server
     */
    record Result(Mode mode, int threads, int round, long operations, long errors, String firstError,
            double seconds, LongSamples calls, LongSamples statements, LongSamples commits, LongSamples handoffs, RunEvents events,
            long drainNanos, CpuMeter.Usage cpu, double mirrorSource, double mirrorTarget) {

        double perSecond() {
            return operations / seconds;
        }
    }

    private final DataSource source;
    private final int rows;
    private final Mirrors mirrors;
    private final CpuMeter cpu;
    private final ConnectionCpu connectionCpu;
    private final DataSourceTransactionManager transactions;
    private final JdbcTemplate jdbc;

    /** @param connectionCpu measures the mirror's connections on both servers during each window, or {@code null} */
    LatencyRun(DataSource source, int rows, Mirrors mirrors, CpuMeter cpu, ConnectionCpu connectionCpu) {
        this.source = source;
        this.rows = rows;
        this.mirrors = mirrors;
        this.cpu = cpu;
        this.connectionCpu = connectionCpu;
        this.transactions = new DataSourceTransactionManager(source);
        this.jdbc = new JdbcTemplate(source);
    }

    /**
     * Runs one measurement. A mirror is created for the run and closed after it has drained, so a backlog
     * left by one run never lands in the next one's window.
     *
     * @throws SQLException if the mirror cannot start
     * @throws InterruptedException if interrupted
     */
    Result run(Mode mode, int threads, int round, Duration warmup, Duration measure)
            throws SQLException, InterruptedException {
        RunEvents events = mode == Mode.OFF ? null : new RunEvents();
        Mirror mirror = mode == Mode.OFF ? null : mirrors.open(mode.mirrorMode(), new EventPublisher().subscribe(events));
        try {
            ChangeRecorder recorder = mirror == null ? null : mirror.recorder();
            long start = System.nanoTime();
            long measureStart = start + warmup.toNanos();
            long measureEnd = measureStart + measure.toNanos();
            List<Worker> workers = new ArrayList<>();
            List<Thread> running = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                Worker worker = new Worker(recorder, measureStart, measureEnd);
                Thread thread = new Thread(worker, APP_THREAD_PREFIX + i);
                thread.setDaemon(true);
                workers.add(worker);
                running.add(thread);
            }
            running.forEach(Thread::start);
            sleepUntil(measureStart);
            if (connectionCpu != null) {
                connectionCpu.start();
            }
            CpuMeter.Snapshot before = cpu.snapshot();
            if (events != null) {
                events.recording(true);
            }
            sleepUntil(measureEnd);
            CpuMeter.Snapshot after = cpu.snapshot();
            ConnectionCpu.Usage own = connectionCpu == null ? new ConnectionCpu.Usage(Double.NaN, Double.NaN)
                    : connectionCpu.stop();
            for (Thread thread : running) {
                thread.join();
            }
            double appCores = workers.stream().mapToLong(w -> w.cpuAtWindowStart < 0 || w.cpuAtWindowEnd < 0 ? 0
                    : w.cpuAtWindowEnd - w.cpuAtWindowStart).sum() / (double) measure.toNanos();
            long drainStart = System.nanoTime();
            if (mirror != null && !mirror.awaitDrained(Duration.ofMinutes(2))) {
                throw new IllegalStateException(mode + " mirror did not drain within 2 minutes; " + mirror.pending()
                        + " keys left");
            }
            long drainNanos = System.nanoTime() - drainStart;
            if (events != null) {
                events.recording(false);
            }
            long operations = workers.stream().mapToLong(w -> w.operations).sum();
            long errors = workers.stream().mapToLong(w -> w.errors).sum();
            String firstError = workers.stream().map(w -> w.firstError).filter(e -> e != null).findFirst().orElse(null);
            return new Result(mode, threads, round, operations, errors, firstError, measure.toNanos() / 1e9,
                    LongSamples.merge(workers.stream().map(w -> w.calls).toList()),
                    LongSamples.merge(workers.stream().map(w -> w.statements).toList()),
                    LongSamples.merge(workers.stream().map(w -> w.commits).toList()),
                    LongSamples.merge(workers.stream().map(w -> w.handoffs).toList()),
                    events, drainNanos, cpu.between(before, after).withAppThreads(appCores), own.mariadbSeconds(), own.postgresSeconds());
        } finally {
            if (mirror != null) {
                mirror.close();
            }
        }
    }

    private static void sleepUntil(long deadlineNanos) throws InterruptedException {
        long left;
        while ((left = deadlineNanos - System.nanoTime()) > 0) {
            TimeUnit.NANOSECONDS.sleep(left);
        }
    }

    /** An application thread. */
    private final class Worker implements Runnable {

        final LongSamples calls = new LongSamples(64 * 1024);
        final LongSamples statements = new LongSamples(64 * 1024);
        final LongSamples commits = new LongSamples(64 * 1024);
        final LongSamples handoffs = new LongSamples(64 * 1024);
        final ChangeRecorder recorder;
        final long measureStart;
        final long measureEnd;
        final Stamp beforeDualwrite = new Stamp();
        final Stamp afterDualwrite = new Stamp();
        final TransactionTemplate template = new TransactionTemplate(transactions);
        long operations;
        long errors;
        long cpuAtWindowStart = -1;
        long cpuAtWindowEnd = -1;
        String firstError;
        long statementNanos;
        long bodyEnd;

        Worker(ChangeRecorder recorder, long measureStart, long measureEnd) {
            this.recorder = recorder;
            this.measureStart = measureStart;
            this.measureEnd = measureEnd;
        }

        @Override
        public void run() {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            while (true) {
                long id = random.nextLong(1, rows + 1L);
                String status = STATUSES[random.nextInt(STATUSES.length)];
                beforeDualwrite.at = 0;
                afterDualwrite.at = 0;
                long start = System.nanoTime();
                if (start >= measureEnd) {
                    cpuAtWindowEnd = cpu.currentThreadNanos();
                    return;
                }
                if (start >= measureStart && cpuAtWindowStart < 0) {
                    cpuAtWindowStart = cpu.currentThreadNanos();
                }
                try {
                    template.executeWithoutResult(transaction -> {
                        TransactionSynchronizationManager.registerSynchronization(beforeDualwrite);
                        long statementStart = System.nanoTime();
                        jdbc.update(UPDATE, status, Timestamp.valueOf(LocalDateTime.now()), id);
                        statementNanos = System.nanoTime() - statementStart;
                        if (recorder != null) {
                            recorder.record(BenchDatabase.TABLE, id);
                        }
                        TransactionSynchronizationManager.registerSynchronization(afterDualwrite);
                        bodyEnd = System.nanoTime();
                    });
                } catch (RuntimeException e) {
                    errors++;
                    if (firstError == null) {
                        firstError = e.toString();
                    }
                    continue;
                }
                long end = System.nanoTime();
                if (start >= measureStart) {
                    operations++;
                    calls.add(end - start);
                    statements.add(statementNanos);
                    commits.add(beforeDualwrite.at - bodyEnd);
                    handoffs.add(afterDualwrite.at - beforeDualwrite.at);
                }
            }
        }
    }

    /** Notes when its after-commit callback ran. */
    private static final class Stamp implements TransactionSynchronization {
        long at;

        @Override
        public void afterCommit() {
            at = System.nanoTime();
        }
    }
}
