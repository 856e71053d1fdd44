package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.capture.jdbc.CapturingDataSource;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The capturing data source's benchmark (issue 8): what capture in the {@code DataSource} costs the
 * application thread, against the same code on the pool itself (capture off).
 *
 * <p>Two workloads, each a Spring transaction through {@code JdbcTemplate}: a keyed single-row
 * {@code UPDATE ... WHERE id = ?}, and a batched {@code INSERT} of {@code --batch} rows. Capture ON and
 * OFF run interleaved in rounds whose order alternates, so that slow drifts of a shared machine fall on
 * both alike; figures are the medians across rounds of each round's p50 and p99, the median of the
 * per-round ON/OFF ratios (each from two windows run back to back), and the application thread's own CPU
 * time per call (less sensitive than latency to neighbours on a shared machine). Changes go to a
 * {@link ChangeCapture} whose sink only counts them: the mirror's own cost after commit is
 * {@link MirrorBenchmark}'s subject, this one measures parsing (cached), the JDBC wrappers, key
 * extraction and the change set. Target: ON/OFF at p50 at most {@value #P50_LIMIT}.
 *
 * <p>Runs in scratch databases ({@code dw_cbench_<random>}) on the source store and the other one (the
 * mapping needs a target), dropped at the end. Options: {@code --store MARIADB|POSTGRESQL} (source, default
 * MARIADB), {@code --rows N} preloaded (100000), {@code --seconds S} per workload, mode and round (5),
 * {@code --rounds R} (6), {@code --batch B} (100), {@code --quick} (1 s, 2 rounds, 10000 rows),
 * {@code --markdown FILE} to append the report.
 */
public final class CaptureBenchmark {

    private static final double P50_LIMIT = 1.05;
    private static final String UPDATE = "UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?";
    private static final String INSERT = "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
            + " VALUES (?, ?, ?, ?, ?, ?)";

    private Store store = Store.MARIADB;
    private int rows = 100_000;
    private int seconds = 5;
    private int rounds = 6;
    private int batch = 100;
    private Path markdown;

    private CaptureBenchmark() {
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class comment
     * @throws Exception if a store cannot be reached or refuses the setup
     */
    public static void main(String[] args) throws Exception {
        CaptureBenchmark benchmark = new CaptureBenchmark();
        benchmark.parse(args);
        benchmark.run();
    }

    private void parse(String[] args) {
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--store" -> store = Store.valueOf(args[++i].toUpperCase(Locale.ROOT));
                case "--rows" -> rows = Integer.parseInt(args[++i]);
                case "--seconds" -> seconds = Integer.parseInt(args[++i]);
                case "--rounds" -> rounds = Integer.parseInt(args[++i]);
                case "--batch" -> batch = Integer.parseInt(args[++i]);
                case "--markdown" -> markdown = Path.of(args[++i]);
                case "--quick" -> {
                    seconds = 1;
                    rounds = 2;
                    rows = 10_000;
                }
                default -> throw new IllegalArgumentException("unknown option " + args[i] + "; see the Javadoc of "
                        + CaptureBenchmark.class.getName());
            }
        }
    }

    private void run() throws Exception {
        String name = "dw_cbench_" + Long.toHexString(new SecureRandom().nextLong() & 0xffffffffL);
        Store targetStore = store == Store.MARIADB ? Store.POSTGRESQL : Store.MARIADB;
        try (BenchDatabase source = BenchDatabase.create(store, name);
                BenchDatabase target = BenchDatabase.create(targetStore, name)) {
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                source.close();
                target.close();
            }));
            System.out.printf("loading %,d rows into %s%n", rows, store.label());
            source.load(rows, new Timestamp(System.currentTimeMillis()));
            HikariDataSource pool = source.pool("cbench-source", 2, false);
            HikariDataSource targetPool = target.pool("cbench-target", 1, true);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), pool,
                    targetPool, false);
            LongAdder captured = new LongAdder();
            ChangeSink counting = new ChangeSink() {
                @Override
                public void afterCommit(Collection<Change> changes, long committedAtNanos) {
                    captured.add(changes.size());
                }
            };
            CapturingDataSource capturing = CapturingDataSource.builder(pool, tables,
                    new ChangeCapture(counting, tables::contains)).build();
            Workload off = new Workload(pool);
            Workload on = new Workload(capturing);
            AtomicLong nextId = new AtomicLong(rows + 1L);

            // Warm-up: JIT, the statement cache and the plan cache, on both sides.
            for (Workload workload : List.of(off, on)) {
                LongSamples.timed(Math.max(1, seconds / 2), () -> workload.update());
                LongSamples.timed(Math.max(1, seconds / 2), () -> workload.insert(nextId, batch));
            }
            long capturedBefore = captured.sum();
            List<long[]> updates = new ArrayList<>();
            List<long[]> inserts = new ArrayList<>();
            for (int round = 0; round < rounds; round++) {
                boolean onFirst = round % 2 == 1;
                long[] update = new long[6];
                long[] insert = new long[6];
                // Each workload's OFF and ON windows run back to back, so both see the same neighbours.
                for (int workloadIndex = 0; workloadIndex < 2; workloadIndex++) {
                    long[] figures = workloadIndex == 0 ? update : insert;
                    for (int turn = 0; turn < 2; turn++) {
                        boolean captureOn = onFirst == (turn == 0);
                        Workload workload = captureOn ? on : off;
                        long cpuBefore = cpuNanos();
                        LongSamples samples = workloadIndex == 0 ? LongSamples.timed(seconds, workload::update)
                                : LongSamples.timed(seconds, () -> workload.insert(nextId, batch));
                        long cpuPerCall = (cpuNanos() - cpuBefore) / Math.max(1, samples.size());
                        int slot = captureOn ? 2 : 0;
                        figures[slot] = samples.percentile(50);
                        figures[slot + 1] = samples.percentile(99);
                        figures[captureOn ? 5 : 4] = cpuPerCall;
                    }
                }
                updates.add(update);
                inserts.add(insert);
                System.out.printf("round %d: update p50 off %s on %s (thread cpu/call off %s on %s); batch insert p50"
                        + " off %s on %s (thread cpu/call off %s on %s)%n", round + 1, micros(update[0]),
                        micros(update[2]), micros(update[4]), micros(update[5]), micros(insert[0]), micros(insert[2]),
                        micros(insert[4]), micros(insert[5]));
            }
            if (captured.sum() == capturedBefore) {
                throw new IllegalStateException("capture recorded nothing: the ON runs did not capture");
            }
            report(updates, inserts);
        }
    }

    private void report(List<long[]> updates, List<long[]> inserts) throws IOException {
        StringBuilder out = new StringBuilder();
        out.append(String.format("%n### Capture in the DataSource: application-thread latency, %s, %d rounds x %d s%n%n",
                store.label(), rounds, seconds));
        out.append("| workload | OFF p50 | ON p50 | ON/OFF p50 | ON/OFF p50 per round | median of round ratios"
                + " | OFF p99 | ON p99 | app-thread CPU per call OFF / ON | verdict (p50 <= ").append(P50_LIMIT)
                .append(") |\n|---|---|---|---|---|---|---|---|---|---|\n");
        row(out, "keyed single-row UPDATE, one transaction", updates);
        row(out, "batched INSERT of " + batch + " rows, one transaction", inserts);
        System.out.print(out);
        if (markdown != null) {
            Files.writeString(markdown, out, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                    StandardOpenOption.APPEND);
        }
    }

    private static void row(StringBuilder out, String name, List<long[]> rounds) {
        long offP50 = median(rounds, 0);
        long offP99 = median(rounds, 1);
        long onP50 = median(rounds, 2);
        long onP99 = median(rounds, 3);
        double ratio = (double) onP50 / offP50;
        List<Double> perRound = new ArrayList<>();
        StringBuilder shown = new StringBuilder();
        for (long[] round : rounds) {
            double r = (double) round[2] / round[0];
            perRound.add(r);
            shown.append(shown.length() == 0 ? "" : " / ").append(String.format(Locale.ROOT, "%.2f", r));
        }
        perRound.sort(null);
        int n = perRound.size();
        double pairedMedian = n % 2 == 1 ? perRound.get(n / 2) : (perRound.get(n / 2 - 1) + perRound.get(n / 2)) / 2;
        out.append(String.format(Locale.ROOT, "| %s | %s | %s | %.3f | %s | %.3f | %s | %s | %s / %s | %s |%n", name,
                micros(offP50), micros(onP50), ratio, shown, pairedMedian, micros(offP99), micros(onP99),
                micros(median(rounds, 4)), micros(median(rounds, 5)), ratio <= P50_LIMIT ? "pass" : "FAIL"));
    }

    private static long cpuNanos() {
        java.lang.management.ThreadMXBean threads = java.lang.management.ManagementFactory.getThreadMXBean();
        return threads.isCurrentThreadCpuTimeSupported() ? threads.getCurrentThreadCpuTime() : 0;
    }

    private static long median(List<long[]> rounds, int slot) {
        long[] values = rounds.stream().mapToLong(r -> r[slot]).sorted().toArray();
        return values.length % 2 == 1 ? values[values.length / 2]
                : (values[values.length / 2 - 1] + values[values.length / 2]) / 2;
    }

    private static String micros(long nanos) {
        return nanos < 100_000 ? String.format(Locale.ROOT, "%.1f µs", nanos / 1e3)
                : String.format(Locale.ROOT, "%,d µs", nanos / 1_000);
    }

    /** The application's code, the same on both data sources. */
    private final class Workload {

        private final JdbcTemplate jdbc;
        private final TransactionTemplate transactions;
        private final SplittableRandom random = new SplittableRandom(7);

        Workload(DataSource dataSource) {
            this.jdbc = new JdbcTemplate(dataSource);
            this.transactions = new TransactionTemplate(new DataSourceTransactionManager(dataSource));
        }

        void update() {
            long id = 1 + random.nextInt(rows);
            String status = "S" + random.nextInt(100);
            transactions.executeWithoutResult(s -> jdbc.update(UPDATE, status,
                    new Timestamp(System.currentTimeMillis()), id));
        }

        void insert(AtomicLong nextId, int size) {
            long first = nextId.getAndAdd(size);
            Timestamp now = new Timestamp(System.currentTimeMillis());
            List<Object[]> values = new ArrayList<>(size);
            for (int i = 0; i < size; i++) {
                values.add(new Object[] {first + i, 1 + random.nextInt(10_000), "NEW",
                    BigDecimal.valueOf(100 + random.nextInt(1_000_000), 2), "order " + (first + i), now});
            }
            transactions.executeWithoutResult(s -> jdbc.batchUpdate(INSERT, values));
        }
    }

    @Override
    public String toString() {
        return "CaptureBenchmark" + Arrays.asList(store, rows, seconds, rounds, batch);
    }
}
