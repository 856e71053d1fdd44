package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.cdc.BinlogCapture;
import io.dualwrite.cdc.CdcConfig;
import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.cdc.PgLogicalCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.RowObserver;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The change-data capture's benchmark (issue 20): what reading the source's change log costs the source and
 * the application writing it, and how long a write made outside the service takes to reach the target.
 *
 * <p>Writers outside the service (plain JDBC on a pool of their own, autocommit, no library on the path)
 * run a keyed {@code UPDATE t_order SET status, note, gmt_modified WHERE id = ?} on uniform random ids at a
 * fixed total rate ({@code --rate}, 5,000 writes/s), each on its own schedule (a late write does not
 * shift the ones after it, so a stall shows as latency of the writes behind it only through their own
 * time: the figure is each write's own call time). Three modes run in each round, in an order that rotates
 * from round to round, so that slow drifts of a shared machine fall on all of them:
 * <ul>
 *   <li><b>OFF</b>: no capture; the mirror is started but gets no keys;</li>
 *   <li><b>READ</b>: the capture reads the log and decodes every change, but hands no key over (its
 *       {@code handOverWhile} says no): the reader's own cost;</li>
 *   <li><b>ON</b>: the capture hands the keys to the mirror, which applies them to the target: the whole
 *       path, and the end-to-end lag.</li>
 * </ul>
 * Each READ and ON window starts a fresh capture from the log's head (the stored position and, on
 * PostgreSQL, the slot are removed first), so no backlog of an earlier window is read in it; each window
 * has a warm-up ({@code --warmup}) before the measured {@code --seconds}.
 *
 * <p>Measured per window: the writes' p50 and p99 call time; the CPU of the capture's reader and checkpoint
 * threads ({@code dualwrite-cdc-*}, thread CPU time), of the mirror's lanes, of this JVM, and of the
 * database servers ({@link CpuMeter}); and in ON, the end-to-end lag of each measured write: from the
 * return of its commit on the writer to the moment the mirror's apply read the row for the target
 * ({@link RowObserver}; the target write follows in the same step). A write is recognised by a sequence
 * number it puts in {@code note}; one overwritten before the apply read it (the same id written twice) has
 * no lag of its own, and the share of writes seen is reported. Figures are medians across rounds; ratios
 * are the medians of the per-round ratios against OFF in the same round.
 *
 * <p>Runs in scratch databases ({@code dw_cdcb_<random>}) on both stores, dropped at the end with the
 * publication and slot. The MariaDB server must have its binary log on in ROW format:
 * {@code samples/bench-cdc.sh} points {@code DUALWRITE_IT_MARIADB_URL} at
 * {@code DUALWRITE_IT_CDC_MARIADB_URL} (default {@code jdbc:mariadb://127.0.0.1:3307/test}); PostgreSQL needs
 * {@code wal_level=logical}. Options: {@code --direction BOTH|MARIADB|POSTGRESQL} (the source; BOTH),
 * {@code --rate N} (5000), {@code --writers N} (8), {@code --seconds S} (10), {@code --warmup S} (3),
 * {@code --rounds R} (3), {@code --rows N} (100000), {@code --quick} (2 s windows, 1 s warm-up, 1 round,
 * 20000 rows), {@code --markdown FILE} to append the report.
 */
public final class CdcBenchmark {

    private static final String WRITE = "UPDATE t_order SET status = ?, note = ?, gmt_modified = ? WHERE id = ?";
    private static final String[] MODES = {"OFF", "READ", "ON"};

    private final List<Store> sources = new ArrayList<>(List.of(Store.MARIADB, Store.POSTGRESQL));
    private int rate = 5_000;
    private int writers = 8;
    private int seconds = 10;
    private int warmup = 3;
    private int rounds = 3;
    private int rows = 100_000;
    private Path markdown;
    private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    private final CpuMeter cpu = new CpuMeter();

    private CdcBenchmark() {
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class comment
     * @throws Exception if a store cannot be reached, its log cannot be read, or it refuses the setup
     */
    public static void main(String[] args) throws Exception {
        CdcBenchmark benchmark = new CdcBenchmark();
        benchmark.parse(args);
        StringBuilder report = new StringBuilder();
        report.append(String.format(Locale.ROOT, "%n### Change-data capture (issue 20): %,d writes/s by %d outside"
                + " writers, %d rounds x %d s a mode (after %d s warm-up), %,d rows%n%n", benchmark.rate,
                benchmark.writers, benchmark.rounds, benchmark.seconds, benchmark.warmup, benchmark.rows));
        report.append("| source -> target | mode | writes/s | write p50 | write p99 | p50 / OFF | p99 / OFF"
                + " | reader+checkpoint CPU | lanes CPU | JVM CPU | source server CPU | target server CPU"
                + " | lag p50 | lag p99 | lag max | writes seen |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Store source : benchmark.sources) {
            benchmark.run(source, report);
        }
        System.out.print(report);
        if (benchmark.markdown != null) {
            Files.writeString(benchmark.markdown, report, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--direction" -> {
                    String which = args[++i].toUpperCase(Locale.ROOT);
                    sources.clear();
                    if (which.equals("BOTH")) {
                        sources.addAll(List.of(Store.MARIADB, Store.POSTGRESQL));
                    } else {
                        sources.add(Store.valueOf(which));
                    }
                }
                case "--rate" -> rate = positive("--rate", args[++i]);
                case "--writers" -> writers = positive("--writers", args[++i]);
                case "--seconds" -> seconds = positive("--seconds", args[++i]);
                case "--warmup" -> warmup = positive("--warmup", args[++i]);
                case "--rounds" -> rounds = positive("--rounds", args[++i]);
                case "--rows" -> rows = positive("--rows", args[++i]);
                case "--markdown" -> markdown = Path.of(args[++i]);
                case "--quick" -> {
                    seconds = 2;
                    warmup = 1;
                    rounds = 1;
                    rows = 20_000;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; see the Javadoc of "
                        + CdcBenchmark.class.getName());
            }
        }
    }

    private static int positive(String option, String value) {
        int parsed = Integer.parseInt(value);
        if (parsed < 1) {
            throw new IllegalArgumentException(option + ": must be at least 1, was " + value);
        }
        return parsed;
    }

    /** One source store: its scratch spaces, mirror, and the rounds of the three modes. */
    private void run(Store sourceStore, StringBuilder report) throws Exception {
        Store targetStore = sourceStore == Store.MARIADB ? Store.POSTGRESQL : Store.MARIADB;
        String name = "dw_cdcb_" + Long.toHexString(new SecureRandom().nextLong() & 0xffffffffL);
        try (BenchDatabase source = BenchDatabase.create(sourceStore, name);
                BenchDatabase target = BenchDatabase.create(targetStore, name)) {
            Thread cleanup = new Thread(() -> {
                dropSlotAndPublication(source, name);
                source.close();
                target.close();
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            requireReadableLog(source);
            System.out.printf("%s -> %s: loading %,d rows into both (%s; %s)%n", sourceStore.label(),
                    targetStore.label(), rows, source.versions(), source.durability());
            Timestamp version = new Timestamp(System.currentTimeMillis());
            source.load(rows, version);
            target.load(rows, version);
            HikariDataSource writerPool = source.pool("cdcb-writers", writers, false);
            HikariDataSource mirrorSource = source.pool("cdcb-source", 4, false);
            HikariDataSource targetPool = target.pool("cdcb-target", 4, true);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), mirrorSource,
                    targetPool, false);
            LagProbe probe = new LagProbe(rate * (warmup + seconds + 5));
            try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, mirrorSource, targetPool,
                    new EventPublisher())) {
                mirror.start();
                mirror.observeRows(probe);
                List<Window[]> results = new ArrayList<>();
                for (int round = 0; round < rounds; round++) {
                    Window[] windows = new Window[MODES.length];
                    for (int turn = 0; turn < MODES.length; turn++) {
                        int mode = (round + turn) % MODES.length;
                        windows[mode] = window(mode, source, targetPool, tables, mirror, writerPool, probe, name);
                        System.out.printf("  round %d %-4s %s%n", round + 1, MODES[mode], windows[mode]);
                    }
                    results.add(windows);
                }
                summarise(sourceStore.label() + " -> " + targetStore.label(), results, report);
            } finally {
                dropSlotAndPublication(source, name);
                Runtime.getRuntime().removeShutdownHook(cleanup);
            }
        }
    }

    /** What one window measured. */
    private record Window(double writesPerSecond, long p50, long p99, double readerCores, double laneCores,
            CpuMeter.Usage usage, long lagP50, long lagP99, long lagMax, double seen) {

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%,.0f writes/s, p50 %s p99 %s, reader %.3f cores, lanes %.3f, JVM %.2f,"
                    + " MariaDB %.2f, PostgreSQL %.2f%s", writesPerSecond, micros(p50), micros(p99), readerCores,
                    laneCores, usage.jvm(), usage.mariadb(), usage.postgres(), lagP50 < 0 ? ""
                            : String.format(Locale.ROOT, ", lag p50 %s p99 %s max %s (%.0f %% of writes seen)",
                                    micros(lagP50), micros(lagP99), micros(lagMax), seen * 100));
        }
    }

    private Window window(int mode, BenchDatabase source, HikariDataSource target, MappedTables tables, Mirror mirror,
            HikariDataSource writerPool, LagProbe probe, String name) throws Exception {
        ChangeLogCapture capture = null;
        if (mode > 0) {
            resetPosition(source, target, name);
            capture = capture(source, target, tables, mirror, name, mode == 2);
            capture.start();
            if (capture.status().state() != ChangeLogCapture.State.RUNNING) {
                throw new IllegalStateException("the capture did not start reading: " + capture.status());
            }
        }
        try {
            write(writerPool, warmup, null);
            probe.begin();
            long readerBefore = cdcThreadNanos("dualwrite-cdc-");
            long lanesBefore = cdcThreadNanos("dualwrite-lane");
            CpuMeter.Snapshot before = cpu.snapshot();
            long start = System.nanoTime();
            LongSamples latencies = write(writerPool, seconds, probe);
            long wall = System.nanoTime() - start;
            CpuMeter.Usage usage = cpu.between(before, cpu.snapshot());
            double readerCores = (cdcThreadNanos("dualwrite-cdc-") - readerBefore) / (double) wall;
            double laneCores = (cdcThreadNanos("dualwrite-lane") - lanesBefore) / (double) wall;
            long measured = probe.end();
            if (capture != null) {
                if (!capture.awaitCaughtUp(Duration.ofSeconds(60)) || !mirror.awaitDrained(Duration.ofSeconds(60))) {
                    throw new IllegalStateException("the capture did not catch up within 60 s: " + capture.status());
                }
            }
            LongSamples lags = probe.lags();
            double writesPerSecond = latencies.size() / (wall / 1e9);
            if (mode == 2 && lags.size() == 0) {
                throw new IllegalStateException("ON: no write reached the target's apply; the capture status: "
                        + capture.status());
            }
            return new Window(writesPerSecond, latencies.percentile(50), latencies.percentile(99), readerCores,
                    laneCores, usage, mode == 2 ? lags.percentile(50) : -1, mode == 2 ? lags.percentile(99) : -1,
                    mode == 2 ? lags.max() : -1, measured == 0 ? 0 : (double) lags.size() / measured);
        } finally {
            if (capture != null) {
                capture.close();
            }
        }
    }

    private ChangeLogCapture capture(BenchDatabase source, HikariDataSource target, MappedTables tables,
            Mirror mirror, String name, boolean handOver) {
        URI server = URI.create(source.store().baseUrl().substring("jdbc:".length()));
        CdcConfig.Builder config = CdcConfig.builder().server(server.getHost(), server.getPort() < 0
                ? (source.store() == Store.MARIADB ? 3306 : 5432) : server.getPort())
                .credentials(source.store().user(), source.store().password()).createPositionTable(true);
        HikariDataSource sourcePool = source.pool("cdcb-capture", 2, false);
        ChangeLogCapture capture;
        if (source.store() == Store.MARIADB) {
            capture = BinlogCapture.create(config.serverId(4_000_000L + new SecureRandom().nextInt(1_000_000)).build(),
                    tables, sourcePool, target, mirror);
        } else {
            String database = server.getPath().substring(1);
            capture = PgLogicalCapture.create(config.logicalDecoding(database).slotName(name).publicationName(name)
                    .build(), tables, sourcePool, target, mirror);
        }
        return capture.handOverWhile(() -> handOver);
    }

    /**
     * Runs the writers for {@code seconds} at the fixed rate; with a probe, each write stamps its sequence
     * number in {@code note} and tells the probe its commit time.
     *
     * @return each write's call time
     */
    private LongSamples write(HikariDataSource pool, int seconds, LagProbe probe) throws Exception {
        long interval = (long) (writers * 1e9 / rate);
        long start = System.nanoTime() + 20_000_000L;
        long end = start + seconds * 1_000_000_000L;
        List<LongSamples> parts = new ArrayList<>();
        List<Thread> running = new ArrayList<>();
        Exception[] failure = new Exception[1];
        CountDownLatch done = new CountDownLatch(writers);
        for (int w = 0; w < writers; w++) {
            LongSamples samples = new LongSamples(rate * seconds / writers + 1024);
            parts.add(samples);
            long first = start + interval * w / writers;
            SplittableRandom random = new SplittableRandom(w * 7919L + System.nanoTime());
            Thread thread = new Thread(() -> {
                try (Connection connection = pool.getConnection();
                        PreparedStatement update = connection.prepareStatement(WRITE)) {
                    connection.setAutoCommit(true);
                    for (long next = first; next < end; next += interval) {
                        long wait = next - System.nanoTime();
                        if (wait > 0) {
                            LockSupport.parkNanos(wait);
                        }
                        long seq = probe == null ? -1 : probe.next();
                        update.setString(1, "S" + random.nextInt(100));
                        update.setString(2, seq < 0 ? "warm-up" : "w" + seq);
                        update.setTimestamp(3, new Timestamp(System.currentTimeMillis()));
                        update.setLong(4, 1 + random.nextInt(rows));
                        long before = System.nanoTime();
                        update.executeUpdate();
                        long after = System.nanoTime();
                        samples.add(after - before);
                        if (seq >= 0) {
                            probe.committed(seq, after);
                        }
                    }
                } catch (SQLException | RuntimeException e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                } finally {
                    done.countDown();
                }
            }, "cdcb-writer-" + w);
            running.add(thread);
            thread.start();
        }
        done.await();
        for (Thread thread : running) {
            thread.join();
        }
        if (failure[0] != null) {
            throw failure[0];
        }
        return LongSamples.merge(parts);
    }

    /**
     * The end-to-end lag: each measured write's commit time, and the moment the mirror's apply read the row
     * it wrote (recognised by the sequence number in {@code note}). Each write is counted once.
     */
    private static final class LagProbe implements RowObserver {

        private static final long SEEN = -1;

        private final AtomicLongArray commits;
        private final AtomicLong sequence = new AtomicLong();
        private volatile boolean open;
        private LongSamples lags = new LongSamples();

        LagProbe(int capacity) {
            this.commits = new AtomicLongArray(capacity);
        }

        synchronized void begin() {
            for (int i = 0; i < commits.length(); i++) {
                commits.set(i, 0);
            }
            sequence.set(0);
            lags = new LongSamples();
            open = true;
        }

        /** @return the number of writes measured */
        long end() {
            open = false;
            return Math.min(sequence.get(), commits.length());
        }

        long next() {
            return sequence.getAndIncrement();
        }

        void committed(long seq, long nanos) {
            if (seq < commits.length()) {
                // Unless the apply already read it: then the write was seen before its writer got here.
                commits.compareAndSet((int) seq, 0, nanos);
            }
        }

        synchronized LongSamples lags() {
            return lags;
        }

        @Override
        public void rowsRead(MappedTable table, Collection<Row> rows) {
            long now = System.nanoTime();
            for (Row row : rows) {
                Object note = row.get("note");
                if (note instanceof String text && text.startsWith("w")) {
                    long seq;
                    try {
                        seq = Long.parseLong(text, 1, text.length(), 10);
                    } catch (NumberFormatException other) {
                        continue;
                    }
                    if (seq < commits.length()) {
                        long committed = commits.getAndSet((int) seq, SEEN);
                        if (committed > 0) {
                            synchronized (this) {
                                lags.add(Math.max(0, now - committed));
                            }
                        }
                    }
                }
            }
        }
    }

    private long cdcThreadNanos(String prefix) {
        long total = 0;
        for (ThreadInfo info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info != null && info.getThreadName().startsWith(prefix)) {
                total += Math.max(0, threads.getThreadCpuTime(info.getThreadId()));
            }
        }
        return total;
    }

    private static void requireReadableLog(BenchDatabase source) throws SQLException {
        String query = source.store() == Store.MARIADB
                ? "SELECT CONCAT(IF(@@log_bin = 1, 'ON', 'OFF'), ' ', @@GLOBAL.binlog_format)"
                : "SELECT current_setting('wal_level')";
        String expected = source.store() == Store.MARIADB ? "ON ROW" : "logical";
        try (Connection connection = source.connect(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(query)) {
            rs.next();
            if (!expected.equalsIgnoreCase(rs.getString(1))) {
                throw new IllegalStateException(source.store().label() + " at " + source.store().baseUrl()
                        + " cannot feed change-data capture (" + query + " gives '" + rs.getString(1) + "', needs '"
                        + expected + "'): " + (source.store() == Store.MARIADB
                                ? "point DUALWRITE_IT_CDC_MARIADB_URL at the binlog server and run samples/bench-cdc.sh"
                                : "set wal_level=logical and restart the server"));
            }
        }
    }

    /** A READ or ON window starts from the log's head: no stored position, and a new slot on PostgreSQL. */
    private static void resetPosition(BenchDatabase source, HikariDataSource target, String name) throws Exception {
        try (Connection connection = target.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute("DELETE FROM dualwrite_cdc_position");
        } catch (SQLException noTableYet) {
            // The first capture creates it.
        }
        if (source.store() == Store.POSTGRESQL) {
            dropSlot(source, name);
        }
    }

    private static void dropSlot(BenchDatabase source, String name) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (true) {
            try (Connection connection = source.connect();
                    PreparedStatement drop = connection.prepareStatement("SELECT pg_drop_replication_slot(slot_name)"
                            + " FROM pg_replication_slots WHERE slot_name = ?")) {
                drop.setString(1, name);
                drop.executeQuery().close();
                return;
            } catch (SQLException active) {
                // A closed capture's walsender may hold the slot for a moment.
                if (System.nanoTime() > deadline) {
                    throw active;
                }
                Thread.sleep(200);
            }
        }
    }

    private static void dropSlotAndPublication(BenchDatabase source, String name) {
        if (source.store() != Store.POSTGRESQL) {
            return;
        }
        try {
            dropSlot(source, name);
            try (Connection connection = source.connect(); Statement statement = connection.createStatement()) {
                statement.execute("DROP PUBLICATION IF EXISTS " + name);
            }
        } catch (Exception e) {
            System.err.println("bench: could not drop replication slot / publication " + name + "; drop them by hand"
                    + " (SELECT pg_drop_replication_slot('" + name + "'); DROP PUBLICATION " + name + "): "
                    + e.getMessage());
        }
    }

    private void summarise(String direction, List<Window[]> results, StringBuilder report) {
        for (int mode = 0; mode < MODES.length; mode++) {
            int m = mode;
            double rateDone = medianDouble(results.stream().mapToDouble(w -> w[m].writesPerSecond()).toArray());
            long p50 = medianLong(results.stream().mapToLong(w -> w[m].p50()).toArray());
            long p99 = medianLong(results.stream().mapToLong(w -> w[m].p99()).toArray());
            double p50Ratio = medianDouble(results.stream().mapToDouble(w -> (double) w[m].p50() / w[0].p50()).toArray());
            double p99Ratio = medianDouble(results.stream().mapToDouble(w -> (double) w[m].p99() / w[0].p99()).toArray());
            double reader = medianDouble(results.stream().mapToDouble(w -> w[m].readerCores()).toArray());
            double lanes = medianDouble(results.stream().mapToDouble(w -> w[m].laneCores()).toArray());
            double jvm = medianDouble(results.stream().mapToDouble(w -> w[m].usage().jvm()).toArray());
            boolean mariaDbSource = direction.startsWith("MariaDB");
            double sourceServer = medianDouble(results.stream().mapToDouble(w -> mariaDbSource ? w[m].usage().mariadb()
                    : w[m].usage().postgres()).toArray());
            double targetServer = medianDouble(results.stream().mapToDouble(w -> mariaDbSource
                    ? w[m].usage().postgres() : w[m].usage().mariadb()).toArray());
            String lag = "-";
            String lag99 = "-";
            String lagMax = "-";
            String seen = "-";
            if (mode == 2) {
                lag = micros(medianLong(results.stream().mapToLong(w -> w[m].lagP50()).toArray()));
                lag99 = micros(medianLong(results.stream().mapToLong(w -> w[m].lagP99()).toArray()));
                lagMax = micros(results.stream().mapToLong(w -> w[m].lagMax()).max().orElse(-1));
                seen = String.format(Locale.ROOT, "%.0f %%",
                        100 * medianDouble(results.stream().mapToDouble(w -> w[m].seen()).toArray()));
            }
            report.append(String.format(Locale.ROOT, "| %s | %s | %,.0f | %s | %s | %.2f | %.2f | %.3f | %.3f | %.2f"
                    + " | %.2f | %.2f | %s | %s | %s | %s |%n", direction, MODES[mode], rateDone, micros(p50),
                    micros(p99), p50Ratio, p99Ratio, reader, lanes, jvm, sourceServer, targetServer, lag, lag99,
                    lagMax, seen));
        }
    }

    private static long medianLong(long[] values) {
        java.util.Arrays.sort(values);
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static double medianDouble(double[] values) {
        java.util.Arrays.sort(values);
        int n = values.length;
        return n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
    }

    private static String micros(long nanos) {
        if (nanos < 0) {
            return "-";
        }
        return nanos < 10_000_000 ? String.format(Locale.ROOT, "%,.0f µs", nanos / 1e3)
                : String.format(Locale.ROOT, "%,.1f ms", nanos / 1e6);
    }
}
