package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.verify.DoubleReadConfig;
import io.dualwrite.verify.DoubleReader;
import io.dualwrite.verify.ReconcileConfig;
import io.dualwrite.verify.ReconcileReport;
import io.dualwrite.verify.Reconciler;
import io.dualwrite.verify.VerifyEvent;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;

/**
 * The reconciler's benchmark (issue 5): how fast dualwrite's {@link Reconciler} compares a million identical
 * rows of the ten-column order table, MariaDB against PostgreSQL (the row path: rows read in key ranges on
 * both sides, mapped, normalised and merged) and MariaDB against MariaDB (the checksum path: per-chunk
 * checksums computed in the databases), beside:
 * <ul>
 *   <li>the fair baseline a developer would write ({@link TwoReaderCompare}): two streamed cursors over the whole
 *       tables, ordered by key, each read by a thread of its own, compared value by value by the calling thread;</li>
 *   <li>{@code pt-table-sync --print --algorithms Chunk} on the MariaDB pair, when it is on the PATH;</li>
 *   <li>with {@code --one-thread-reference}, the earlier baseline, which reads both cursors on one thread in turn
 *       (a reference only: it never reads both stores at once).</li>
 * </ul>
 * Each round runs every variant once, in a rotating order; figures are medians in rows per second. Targets
 * (issue 19): the row path at least as fast as the fair baseline, MariaDB vs PostgreSQL and MariaDB vs MariaDB;
 * the checksum path faster than pt-table-sync with no more database CPU per row, all in the heap the JVM was
 * given (the script passes {@code -Xmx256m}). Database CPU per row is reported twice: for the run's own
 * connections ({@link ConnectionCpu}: the server threads serving the scratch databases or the PostgreSQL pool),
 * and for the whole server processes ({@link CpuMeter}, which includes other clients of the same servers).
 * {@code --only V1,V2} runs only the named variants (for a profile).
 *
 * <p>After the rounds, unless {@code --double-read-seconds 0}: the caller's latency of a keyed
 * {@code SELECT} on the source through {@link DoubleReader#read} with a 1% sample rate, against the same
 * {@code SELECT} without it, in alternating windows ({@link #doubleReadLatency}).
 *
 * <pre>
 * samples/bench-reconcile.sh --rows 1000000 --rounds 3
 * samples/bench-reconcile.sh --rows 20000 --rounds 1      # smoke run
 * </pre>
 *
 * Scratch databases and schemas are named {@code dw_rc*_<random>} and dropped at the end.
 */
public final class ReconcileBenchmark {

    /** Issue 19: the row path at least as fast as the fair baseline, the checksum path faster than pt-table-sync. */
    private static final double ROW_PATH_TARGET = 1.0;
    private static final int STREAM_FETCH = TwoReaderCompare.FETCH;

    private ReconcileBenchmark() {
    }

    /** One way of comparing the tables. */
    private enum Variant {
        BASELINE_PG("two streamed cursors, two reader threads, MariaDB vs PostgreSQL"),
        DUALWRITE_PG("dualwrite row path, MariaDB vs PostgreSQL"),
        BASELINE_MARIADB("two streamed cursors, two reader threads, MariaDB vs MariaDB"),
        DUALWRITE_CHECKSUM("dualwrite checksum path, MariaDB vs MariaDB"),
        DUALWRITE_ROWS_MARIADB("dualwrite row path, MariaDB vs MariaDB"),
        PT_TABLE_SYNC("pt-table-sync --algorithms Chunk, MariaDB vs MariaDB"),
        /** The earlier, unfair baseline, kept as a reference only: it never reads both stores at once. */
        ONE_THREAD_PG("(reference) two cursors read alternately by one thread, MariaDB vs PostgreSQL");

        private final String label;

        Variant(String label) {
            this.label = label;
        }
    }

    /**
     * Runs the benchmark.
     *
     * @param args {@code --rows N}, {@code --rounds N}, {@code --chunk N}, {@code --skip-pt-table-sync},
     *     {@code --double-read-seconds S} (per window; 0 skips), {@code --double-read-windows N} (per mode),
     *     {@code --double-read-only} (skips the comparisons)
     * @throws Exception if a store fails or a comparison finds a difference
     */
    public static void main(String[] args) throws Exception {
        int rows = intOption(args, "--rows", 1_000_000);
        int rounds = intOption(args, "--rounds", 3);
        int chunk = intOption(args, "--chunk", 5_000);
        int doubleReadSeconds = intOption(args, "--double-read-seconds", 2);
        int doubleReadWindows = intOption(args, "--double-read-windows", 10);
        boolean doubleReadOnly = Arrays.asList(args).contains("--double-read-only");
        boolean pt = !Arrays.asList(args).contains("--skip-pt-table-sync") && onPath("pt-table-sync");
        boolean oneThreadReference = Arrays.asList(args).contains("--one-thread-reference");
        String only = stringOption(args, "--only", null);
        String suffix = Long.toString(Math.abs(new SplittableRandom().nextLong()), 36).substring(0, 8);
        System.out.printf(Locale.ROOT, "reconcile benchmark: %,d rows, %d rounds, chunk %,d, max heap %d MiB%s%n", rows,
                rounds, chunk, Runtime.getRuntime().maxMemory() >> 20, pt ? "" : " (pt-table-sync not run)");
        try (BenchDatabase source = BenchDatabase.create(Store.MARIADB, "dw_rcs_" + suffix, OrderTable.ddl(Store.MARIADB));
                BenchDatabase postgres = BenchDatabase.create(Store.POSTGRESQL, "dw_rcp_" + suffix,
                        OrderTable.ddl(Store.POSTGRESQL));
                BenchDatabase mariadb = BenchDatabase.create(Store.MARIADB, "dw_rcm_" + suffix,
                        OrderTable.ddl(Store.MARIADB))) {
            Thread cleanup = new Thread(() -> {
                source.close();
                postgres.close();
                mariadb.close();
            });
            Runtime.getRuntime().addShutdownHook(cleanup);
            for (BenchDatabase database : List.of(source, postgres, mariadb)) {
                OrderTable.load(database, rows);
            }
            HikariDataSource sourcePool = source.pool("rc-source", 2, false);
            HikariDataSource postgresPool = postgres.pool("rc-postgres", 2, false);
            HikariDataSource mariadbPool = mariadb.pool("rc-mariadb", 2, false);
            MappedTables toPostgres = resolve(sourcePool, postgresPool);
            MappedTables toMariadb = resolve(sourcePool, mariadbPool);
            ReconcileConfig checksums = ReconcileConfig.builder().chunkSize(chunk).createTables(true).build();
            ReconcileConfig rowsOnly = ReconcileConfig.builder().chunkSize(chunk).createTables(true).checksums(false)
                    .build();

            resetHeapPeaks();
            Map<Variant, List<Double>> rates = new LinkedHashMap<>();
            Map<Variant, List<double[]>> dbCpu = new LinkedHashMap<>();
            ConnectionCpu connectionCpu = new ConnectionCpu(source, List.of(source.name(), mariadb.name()), postgres,
                    List.of("rc-postgres"));
            Map<Variant, List<Long>> heapPeaks = new LinkedHashMap<>();
            Map<Variant, List<Double>> neighbours = new LinkedHashMap<>();
            CpuMeter cpu = new CpuMeter();
            List<Variant> variants = new ArrayList<>(Arrays.asList(Variant.values()));
            if (!pt) {
                variants.remove(Variant.PT_TABLE_SYNC);
            }
            if (!oneThreadReference) {
                variants.remove(Variant.ONE_THREAD_PG);
            }
            if (only != null) {
                List<String> names = Arrays.asList(only.toUpperCase(Locale.ROOT).split(","));
                variants.removeIf(v -> !names.contains(v.name()));
            }
            for (int round = 0; round < (doubleReadOnly ? 0 : rounds); round++) {
                List<Variant> order = new ArrayList<>(variants);
                java.util.Collections.rotate(order, round);
                for (Variant variant : order) {
                    resetHeapPeaks();
                    CpuMeter.Snapshot before = cpu.snapshot();
                    connectionCpu.start();
                    long start = System.nanoTime();
                    long compared = switch (variant) {
                        case BASELINE_PG -> TwoReaderCompare.compare(sourcePool, postgresPool);
                        case ONE_THREAD_PG -> streamingCompare(sourcePool, postgresPool);
                        case DUALWRITE_PG -> reconcile(checksums, toPostgres, sourcePool, postgresPool);
                        case BASELINE_MARIADB -> TwoReaderCompare.compare(sourcePool, mariadbPool);
                        case DUALWRITE_CHECKSUM -> reconcile(checksums, toMariadb, sourcePool, mariadbPool);
                        case DUALWRITE_ROWS_MARIADB -> reconcile(rowsOnly, toMariadb, sourcePool, mariadbPool);
                        case PT_TABLE_SYNC -> ptTableSync(source, mariadb, chunk, rows);
                    };
                    double seconds = (System.nanoTime() - start) / 1e9;
                    ConnectionCpu.Usage own = connectionCpu.stop();
                    CpuMeter.Usage usage = cpu.between(before, cpu.snapshot());
                    if (compared != rows) {
                        throw new IllegalStateException(variant.label + " compared " + compared + " rows, not " + rows);
                    }
                    long heapPeak = heapPeak();
                    rates.computeIfAbsent(variant, v -> new ArrayList<>()).add(rows / seconds);
                    heapPeaks.computeIfAbsent(variant, v -> new ArrayList<>()).add(heapPeak);
                    // pt-table-sync is a process of its own: for that variant "others" holds it too.
                    neighbours.computeIfAbsent(variant, v -> new ArrayList<>()).add(usage.others());
                    // Per row, in microseconds: the servers' CPU for the benchmark's own connections, and the
                    // servers' whole CPU (their other clients and background work included).
                    double mariadbAll = usage.mariadb() * seconds * 1e6 / rows;
                    double postgresAll = usage.postgres() * seconds * 1e6 / rows;
                    double mariadbOwn = own.mariadbSeconds() * 1e6 / rows;
                    double postgresOwn = own.postgresSeconds() * 1e6 / rows;
                    dbCpu.computeIfAbsent(variant, v -> new ArrayList<>()).add(new double[] {
                        mariadbOwn + postgresOwn, mariadbAll + postgresAll, mariadbOwn, postgresOwn});
                    System.out.printf(Locale.ROOT, "  round %d  %-72s %,10.0f rows/s  (%.2f s, heap peak %d MiB,"
                            + " cores: busy %.2f jvm %.2f mariadbd %.2f postgres %.2f others %.2f; server CPU per row"
                            + " for this run's connections: mariadb %.2f us postgres %.2f us, whole servers: %.2f us /"
                            + " %.2f us)%n",
                            round + 1, variant.label, rows / seconds, seconds, heapPeak >> 20, usage.machineBusy(),
                            usage.jvm(), usage.mariadb(), usage.postgres(), usage.others(), mariadbOwn, postgresOwn,
                            mariadbAll, postgresAll);
                }
            }
            if (doubleReadOnly) {
                doubleReadLatency(sourcePool, postgresPool, toPostgres, rows, doubleReadSeconds, doubleReadWindows);
                return;
            }
            System.out.println();
            System.out.println("| variant | rows/s (median) | per round | others' cores per round | DB CPU µs/row,"
                    + " this run's connections (median) | DB CPU µs/row, whole servers (median) | heap peak,"
                    + " max of rounds |");
            System.out.println("|---|---:|---|---|---:|---:|---:|");
            rates.forEach((variant, values) -> System.out.printf(Locale.ROOT, "| %s | %,.0f | %s | %s | %.2f | %.2f"
                    + " | %s |%n", variant.label, median(values), perRound(values), perRound2(neighbours.get(variant)),
                    cpuMedian(dbCpu.get(variant), 0), cpuMedian(dbCpu.get(variant), 1),
                    variant == Variant.PT_TABLE_SYNC ? "-"
                            : (heapPeaks.get(variant).stream().mapToLong(Long::longValue).max().orElse(0) >> 20)
                                    + " MiB"));
            printRatios("row path / two-reader baseline, MariaDB vs PostgreSQL", rates.get(Variant.DUALWRITE_PG),
                    rates.get(Variant.BASELINE_PG));
            printRatios("row path / two-reader baseline, MariaDB vs MariaDB", rates.get(Variant.DUALWRITE_ROWS_MARIADB),
                    rates.get(Variant.BASELINE_MARIADB));
            printRatios("(reference) row path / one-thread baseline, MariaDB vs PostgreSQL",
                    rates.get(Variant.DUALWRITE_PG), rates.get(Variant.ONE_THREAD_PG));
            printRatios("checksum path / pt-table-sync", rates.get(Variant.DUALWRITE_CHECKSUM),
                    rates.get(Variant.PT_TABLE_SYNC));
            verdict("row path / two-reader baseline (MariaDB vs PostgreSQL)", rates, Variant.DUALWRITE_PG,
                    Variant.BASELINE_PG);
            verdict("row path / two-reader baseline (MariaDB vs MariaDB)", rates, Variant.DUALWRITE_ROWS_MARIADB,
                    Variant.BASELINE_MARIADB);
            verdict("checksum path / pt-table-sync (MariaDB vs MariaDB)", rates, Variant.DUALWRITE_CHECKSUM,
                    Variant.PT_TABLE_SYNC);
            if (dbCpu.containsKey(Variant.DUALWRITE_CHECKSUM) && dbCpu.containsKey(Variant.PT_TABLE_SYNC)) {
                double ours = cpuMedian(dbCpu.get(Variant.DUALWRITE_CHECKSUM), 0);
                double theirs = cpuMedian(dbCpu.get(Variant.PT_TABLE_SYNC), 0);
                System.out.printf(Locale.ROOT, "MariaDB CPU per row for each tool's own connections: checksum path %.2f"
                        + " us, pt-table-sync %.2f us (%.2fx; target <= 1): %s%n", ours, theirs, ours / theirs,
                        ours <= theirs ? "met" : "MISSED");
            }
            System.out.printf(Locale.ROOT, "max heap %d MiB; heap peak = sum of the heap pools' peak use during"
                    + " the variant (garbage included), pools reset before each variant%n",
                    Runtime.getRuntime().maxMemory() >> 20);
            if (doubleReadSeconds > 0) {
                doubleReadLatency(sourcePool, postgresPool, toPostgres, rows, doubleReadSeconds, doubleReadWindows);
            }
            Runtime.getRuntime().removeShutdownHook(cleanup);
        }
    }

    /**
     * The caller's latency of a keyed read with and without {@link DoubleReader} sampling 1% of the calls:
     * one application thread, a random id per call, {@code JdbcTemplate}-free plain JDBC on a pooled
     * connection, {@code windows} windows per mode alternating OFF/ON then ON/OFF. Figures are medians across
     * windows, the median of the per-pair ratios, and the caller thread's CPU per read.
     */
    static void doubleReadLatency(HikariDataSource source, HikariDataSource target, MappedTables tables, int rows,
            int seconds, int windows) throws SQLException {
        String sql = "SELECT " + String.join(", ", OrderTable.COLUMNS) + " FROM " + OrderTable.NAME + " WHERE id = ?";
        SplittableRandom random = new SplittableRandom(11);
        try (DoubleReader reader = DoubleReader.create(DoubleReadConfig.builder().sampleRate(0.01).build(), tables,
                source, target, VerifyEvent.Listener.none())) {
            java.util.function.LongFunction<Object> read = id -> {
                try (Connection c = source.getConnection(); PreparedStatement s = c.prepareStatement(sql)) {
                    s.setLong(1, id);
                    try (ResultSet rs = s.executeQuery()) {
                        return rs.next() ? rs.getString(3) : null;
                    }
                } catch (SQLException e) {
                    throw new IllegalStateException(e);
                }
            };
            // Warm-up of both paths.
            LongSamples.timed(seconds, () -> read.apply(1 + random.nextInt(rows)));
            LongSamples.timed(seconds, () -> {
                long id = 1 + random.nextInt(rows);
                reader.read(OrderTable.NAME, id, () -> read.apply(id));
            });
            List<long[]> off = new ArrayList<>();
            List<long[]> on = new ArrayList<>();
            java.lang.management.ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            for (int round = 0; round < windows; round++) {
                for (int turn = 0; turn < 2; turn++) {
                    boolean sampling = (round % 2 == 0) == (turn == 1);
                    long cpuBefore = threads.getCurrentThreadCpuTime();
                    LongSamples samples = sampling ? LongSamples.timed(seconds, () -> {
                        long id = 1 + random.nextInt(rows);
                        reader.read(OrderTable.NAME, id, () -> read.apply(id));
                    }) : LongSamples.timed(seconds, () -> read.apply(1 + random.nextInt(rows)));
                    long cpuPerRead = (threads.getCurrentThreadCpuTime() - cpuBefore) / Math.max(1, samples.size());
                    long[] figures = {samples.percentile(50), samples.percentile(99), samples.size(), cpuPerRead};
                    (sampling ? on : off).add(figures);
                    System.out.printf(Locale.ROOT, "  double read window %d %-22s p50 %,d ns  p99 %,d ns  (%,d reads,"
                            + " caller cpu %,d ns/read)%n", round + 1, sampling ? "DoubleReader 1%" : "plain read",
                            figures[0], figures[1], figures[2], figures[3]);
                }
            }
            System.out.println();
            System.out.println("| caller's keyed read (MariaDB source) | p50 µs | p99 µs | reads per window | caller CPU"
                    + " per read µs | p50 ratio per window pair |");
            System.out.println("|---|---:|---:|---:|---:|---|");
            List<Double> p50Ratios = new ArrayList<>();
            List<Double> p99Ratios = new ArrayList<>();
            for (int i = 0; i < off.size(); i++) {
                p50Ratios.add((double) on.get(i)[0] / off.get(i)[0]);
                p99Ratios.add((double) on.get(i)[1] / off.get(i)[1]);
            }
            System.out.printf(Locale.ROOT, "| plain read | %.1f | %.1f | %,d | %.1f | - |%n", medianOf(off, 0) / 1e3,
                    medianOf(off, 1) / 1e3, (long) medianOf(off, 2), medianOf(off, 3) / 1e3);
            System.out.printf(Locale.ROOT, "| through DoubleReader, sample rate 0.01 | %.1f | %.1f | %,d | %.1f | %s |%n",
                    medianOf(on, 0) / 1e3, medianOf(on, 1) / 1e3, (long) medianOf(on, 2), medianOf(on, 3) / 1e3,
                    perRound2(p50Ratios));
            System.out.printf(Locale.ROOT, "%ndouble read: caller p50 ratio of medians %.3f, median of pair ratios %.3f;"
                    + " p99 ratio of medians %.3f, median of pair ratios %.3f%n", medianOf(on, 0) / medianOf(off, 0),
                    median(p50Ratios), medianOf(on, 1) / medianOf(off, 1), median(p99Ratios));
        }
    }

    private static double cpuMedian(List<double[]> windows, int slot) {
        if (windows == null) {
            return Double.NaN;
        }
        List<Double> values = new ArrayList<>();
        windows.forEach(w -> values.add(w[slot]));
        return median(values);
    }

    /** Prints a ratio of medians against the target of 1 (issue 19), when both variants ran. */
    private static void verdict(String what, Map<Variant, List<Double>> rates, Variant measured, Variant against) {
        if (!rates.containsKey(measured) || !rates.containsKey(against)) {
            return;
        }
        double ratio = median(rates.get(measured)) / median(rates.get(against));
        System.out.printf(Locale.ROOT, "%s: %.2f (target >= %.2f): %s%n", what, ratio, ROW_PATH_TARGET,
                ratio >= ROW_PATH_TARGET ? "met" : "MISSED");
    }

    private static double medianOf(List<long[]> windows, int slot) {
        List<Double> values = new ArrayList<>();
        windows.forEach(w -> values.add((double) w[slot]));
        return median(values);
    }

    private static String perRound(List<Double> values) {
        StringBuilder out = new StringBuilder();
        for (Double value : values) {
            out.append(out.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%,.0f", value));
        }
        return out.toString();
    }

    private static String perRound2(List<Double> values) {
        StringBuilder out = new StringBuilder();
        for (Double value : values) {
            out.append(out.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", value));
        }
        return out.toString();
    }

    /** The ratio of each round's two figures (measured in the same round), and of the medians. */
    private static void printRatios(String what, List<Double> measured, List<Double> against) {
        if (measured == null || against == null) {
            return;
        }
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < measured.size(); i++) {
            ratios.add(measured.get(i) / against.get(i));
        }
        System.out.printf(Locale.ROOT, "%s: median ratio %.2f, per round %s%n", what,
                median(measured) / median(against), perRound2(ratios));
    }

    private static void resetHeapPeaks() {
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    private static long heapPeak() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    private static MappedTables resolve(HikariDataSource source, HikariDataSource target) throws SQLException {
        return MappedTables.resolve(List.of(TableMapping.builder(OrderTable.NAME).build()), source, target, false);
    }

    private static long reconcile(ReconcileConfig config, MappedTables tables, HikariDataSource source,
            HikariDataSource target) throws SQLException {
        ReconcileReport report = Reconciler.create(config, tables, source, target, VerifyEvent.Listener.none())
                .run(OrderTable.NAME);
        if (report.differences() != 0 || !report.complete()) {
            throw new IllegalStateException("identical tables reported different: " + report);
        }
        return report.compared();
    }

    /**
     * The earlier baseline, kept as a reference only ({@code --one-thread-reference}): one streamed cursor per
     * table, in key order, both read by the calling thread in turn, so the two stores are never read at once.
     * It is not a fair baseline for the library, which reads both stores at once; {@link TwoReaderCompare} is.
     */
    static long streamingCompare(HikariDataSource left, HikariDataSource right) throws SQLException {
        String sql = "SELECT " + String.join(", ", OrderTable.COLUMNS) + " FROM " + OrderTable.NAME + " ORDER BY id";
        try (Connection a = left.getConnection(); Connection b = right.getConnection()) {
            a.setAutoCommit(false);
            b.setAutoCommit(false);
            try (PreparedStatement sa = a.prepareStatement(sql, ResultSet.TYPE_FORWARD_ONLY, ResultSet.CONCUR_READ_ONLY);
                    PreparedStatement sb = b.prepareStatement(sql, ResultSet.TYPE_FORWARD_ONLY,
                            ResultSet.CONCUR_READ_ONLY)) {
                sa.setFetchSize(STREAM_FETCH);
                sb.setFetchSize(STREAM_FETCH);
                try (ResultSet ra = sa.executeQuery(); ResultSet rb = sb.executeQuery()) {
                    int columns = OrderTable.COLUMNS.size();
                    long rows = 0;
                    while (ra.next()) {
                        if (!rb.next()) {
                            throw new IllegalStateException("right side ended after " + rows + " rows");
                        }
                        for (int i = 1; i <= columns; i++) {
                            if (!TwoReaderCompare.same(ra.getObject(i), rb.getObject(i))) {
                                throw new IllegalStateException("row " + ra.getLong(1) + " column " + i + " differs: "
                                        + ra.getObject(i) + " / " + rb.getObject(i));
                            }
                        }
                        rows++;
                    }
                    if (rb.next()) {
                        throw new IllegalStateException("right side has more rows than " + rows);
                    }
                    a.commit();
                    b.commit();
                    return rows;
                }
            }
        }
    }

    /** Runs pt-table-sync in print mode; identical tables must print no statement. */
    private static long ptTableSync(BenchDatabase source, BenchDatabase target, int chunk, int rows)
            throws IOException, InterruptedException {
        String host = Store.MARIADB.baseUrl().replaceFirst("^jdbc:mariadb://([^:/]+).*", "$1");
        String port = Store.MARIADB.baseUrl().replaceFirst("^jdbc:mariadb://[^:/]+:?([0-9]*).*", "$1");
        String user = Store.MARIADB.user() == null ? "root" : Store.MARIADB.user();
        String password = Store.MARIADB.password();
        String dsn = "h=" + host + (port.isEmpty() ? "" : ",P=" + port) + ",u=" + user
                + (password == null || password.isEmpty() ? "" : ",p=" + password);
        ProcessBuilder builder = new ProcessBuilder("pt-table-sync", "--print", "--algorithms", "Chunk",
                "--chunk-size", Integer.toString(chunk), "--no-check-triggers",
                dsn + ",D=" + source.name() + ",t=" + OrderTable.NAME, "D=" + target.name() + ",t=" + OrderTable.NAME);
        builder.redirectErrorStream(true);
        Process process = builder.start();
        ByteArrayOutputStream output = new ByteArrayOutputStream();
        try (InputStream in = process.getInputStream()) {
            in.transferTo(output);
        }
        if (!process.waitFor(30, TimeUnit.MINUTES) || process.exitValue() != 0 || output.size() > 0) {
            throw new IllegalStateException("pt-table-sync failed or printed changes (exit "
                    + (process.isAlive() ? "none" : process.exitValue()) + "): " + output);
        }
        return rows;
    }

    private static boolean onPath(String command) {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
            if (new java.io.File(dir, command).canExecute()) {
                return true;
            }
        }
        return false;
    }

    private static String stringOption(String[] args, String name, String fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return fallback;
    }

    private static int intOption(String[] args, String name, int fallback) {
        for (int i = 0; i < args.length - 1; i++) {
            if (args[i].equals(name)) {
                return Integer.parseInt(args[i + 1].replace("_", ""));
            }
        }
        return fallback;
    }

    private static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        int n = sorted.size();
        return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
    }
}
