package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.backfill.BackfillRunner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;
import java.util.stream.Stream;

/**
 * The backfill's benchmark (issue 3): how fast dualwrite's {@link BackfillRunner} copies a million-row,
 * ten-column order table, unthrottled, from MariaDB to PostgreSQL and from MariaDB to MariaDB, against
 * the copy a developer would write with plain JDBC ({@link PlainCopy}) and, into PostgreSQL, against
 * pgloader ({@link PgloaderCopy}).
 *
 * <p>In every round each variant copies the whole table into an empty target table (truncated before each
 * copy), and the target is checked against the source with a checksum. Variant order rotates from round to
 * round and the two targets alternate, so a slow drift of a shared machine falls on every variant; the
 * figures are medians across rounds, and ratios are also given per round, where the two copies ran minutes
 * apart at most. After each backfill a second, new backfill job runs over the copied table: it must leave
 * identical rows untouched, which is checked from the servers' own counters (on PostgreSQL, also from the
 * rows' {@code xmin}). Finally the backfill runs in a separate JVM with a small heap, over a tenth of the
 * table and then over all of it, and the live heap is followed through the run to show that its memory
 * does not grow with the rows copied.
 *
 * <p>With {@code --sharded}, each round also backfills into PostgreSQL split by ShardingSphere-JDBC into 2
 * databases x 4 tables by {@code user_id} ({@link ShardedTarget}), right beside the single-table backfill, and
 * the report gives the ratio of the two.
 *
 * <p>Everything runs in scratch databases and schemas named {@code dw_bf*_<random>}, dropped at the end,
 * also after a failure or Ctrl-C. Run {@code samples/bench-backfill.sh --help} for the options.
 */
public final class BackfillBenchmark {

    private static final double PLAIN_RATIO_LIMIT = 0.80;
    /** Issue 19: the backfill into PostgreSQL against a COPY per chunk into an empty table. */
    private static final double COPY_RATIO_LIMIT = 0.80;
    private static final double PGLOADER_RATIO_LIMIT = 1.00;
    /** Cores used by the rest of the machine above which a figure is marked noisy. */
    private static final double NOISY_NEIGHBOURS = 0.5;
    /** MariaDB's row counters are server-wide: a second pass may see this share of the rows from others. */
    private static final double SERVER_WIDE_SLACK = 0.01;
    /** Peak live heap in the second half of a whole-table backfill, relative to the first, still "not growing". */
    private static final double MEMORY_GROWTH_LIMIT = 1.5;
    private static final Duration RUN_TIMEOUT = Duration.ofMinutes(15);

    /** What copies the table. */
    enum Kind {
        PLAIN("plain JDBC", PlainCopy.Step.PLAIN),
        LOCKED("plain + share lock", PlainCopy.Step.LOCKED),
        CHECKPOINTED("+ savepoint, checkpoint", PlainCopy.Step.CHECKPOINTED),
        LIBRARY_ROWS("+ library row path", PlainCopy.Step.LIBRARY_ROWS),
        DUALWRITE("dualwrite", null),
        /**
         * PostgreSQL only ({@code --sharded}): the same backfill into t_order split by ShardingSphere-JDBC into 2
         * databases x 4 tables ({@link ShardedTarget}).
         */
        SHARDED("dualwrite, sharded 2x4", null),
        /**
         * PostgreSQL only ({@code --sharded}): the single-table backfill with {@code postgresCopy(false)}, in batches as
         * the sharded one writes, to tell the cost of the shards from the cost of leaving COPY.
         */
        BATCHED("dualwrite, batches (no COPY)", null),
        /** PostgreSQL only: the plain copy's keyset chunks, each streamed into one COPY ({@link CopyBaseline}). */
        COPY("COPY per chunk", null),
        /** MariaDB only: the backfill with its LOAD DATA path switched off, every chunk the batched upsert. */
        DUALWRITE_BATCHED("dualwrite batched", null),
        /** MariaDB only: the plain copy's keyset chunks, each sent by one LOAD DATA LOCAL ({@link LoadDataBaseline}). */
        LOAD_DATA("LOAD DATA per chunk", null),
        /**
         * MariaDB only, with {@code --prefill-every}: {@code LOAD DATA ... REPLACE} per chunk into the table prefilled
         * as for the backfill ({@link LoadDataBaseline} with replace), the ceiling when rows are already there.
         */
        LOAD_DATA_REPLACE("LOAD DATA REPLACE per chunk, prefilled", null),
        PGLOADER("pgloader", null);

        private final String label;
        private final PlainCopy.Step step;

        Kind(String label, PlainCopy.Step step) {
            this.label = label;
            this.step = step;
        }
    }

    /** One way of copying into one target. */
    record Variant(Store target, Kind kind, int threads) {

        String label() {
            return kind == Kind.PGLOADER ? kind.label : kind.label + ", " + threads + (threads == 1 ? " thread"
                    : " threads");
        }
    }

    /**
     * One copy of the whole table into an empty target table.
     *
     * @param logBytes WAL (PostgreSQL) or redo (MariaDB) written by the whole server during the copy
     * @param ownCpuSeconds CPU of a copier outside this JVM (pgloader), or 0
     * @param toolSeconds the time the copier outside this JVM reports for itself (pgloader's "Total import
     *     time", without its process start), or NaN
     * @param backfill the backfill's own figures, for dualwrite runs
     */
    record Run(int round, Variant variant, long rows, long nanos, CpuMeter.Usage cpu, long logBytes,
            double ownCpuSeconds, double toolSeconds, boolean correct, BackfillCopy.Result backfill) {

        double rate() {
            return rows / seconds();
        }

        double seconds() {
            return nanos / 1e9;
        }

        /** @return cores used by everything else on the machine; pgloader's own CPU is not a neighbour's */
        double neighbours() {
            return Math.max(0, cpu.others() - ownCpuSeconds / seconds());
        }

        /** @return CPU microseconds per row copied, given a share of the machine in cores */
        double microsPerRow(double cores) {
            return cores * seconds() * 1e6 / Math.max(1, rows);
        }
    }

    /**
     * A new backfill job over a table the previous one has just copied.
     *
     * @param rewritten PostgreSQL: rows whose xmin is newer than the start of the pass; -1 on MariaDB
     * @param before the target server's counters before the pass
     * @param after the same counters once settled after it
     */
    record SecondPass(int round, Store target, int threads, BackfillCopy.Result copy, long rewritten,
            ServerCounters.Snapshot before, ServerCounters.Snapshot after, double firstPassRate, boolean correct) {

        double rate() {
            return copy.rowsPerSecond();
        }

        long updated() {
            return after.updated() - before.updated();
        }

        long inserted() {
            return after.inserted() - before.inserted();
        }

        long logBytes() {
            return after.logBytes() - before.logBytes();
        }
    }

    /**
     * One pgloader run with its summary's parts and the machine's CPU meanwhile.
     *
     * @param usage the machine's CPU during the whole process
     */
    record PgloaderRun(int round, PgloaderCopy.Result result, CpuMeter.Usage usage) {

        /**
         * @return whether the run was bound by CPU: pgloader itself used 0.9 core or more (its transform runs on
         *     one thread per table, so a core of its own is its limit), or the machine was busy on at least 90 %
         *     of its cores
         */
        boolean cpuBound() {
            double own = Double.isNaN(result.cpuSeconds()) ? 0 : result.cpuSeconds() / (result.nanos() / 1e9);
            return own >= 0.9 || usage.machineBusy() >= 0.9 * Runtime.getRuntime().availableProcessors();
        }
    }

    /** A backfill in a separate small-heap JVM over the ids up to {@code upTo} ({@code null}: all). */
    record MemoryRun(Store target, int threads, Long upTo, long expectedRows, BackfillMemoryProbe.Result probe,
            boolean correct) {
    }

    private final BackfillOptions options;
    private final CpuMeter cpu = new CpuMeter();
    private final Report report = new Report();
    private final List<Run> runs = new ArrayList<>();
    private final List<SecondPass> passes = new ArrayList<>();
    private final List<MemoryRun> memoryRuns = new ArrayList<>();
    private final List<PgloaderRun> pgloaderRuns = new ArrayList<>();
    private final Map<Store, String> upsertSql = new EnumMap<>(Store.class);

    private BenchDatabase source;
    private final Map<Store, BenchDatabase> targets = new EnumMap<>(Store.class);
    private BenchDatabase pgloaderSchema;
    private ShardedTarget sharded;
    private PgloaderCopy pgloader;
    private OrderTable.Checksum expected;
    private long[] span;

    private BackfillBenchmark(BackfillOptions options) {
        this.options = options;
    }

    /**
     * Runs the benchmark.
     *
     * @param args see {@link BackfillOptions#USAGE}
     */
    public static void main(String[] args) {
        if (Arrays.asList(args).contains("--help")) {
            System.out.print(BackfillOptions.USAGE);
            return;
        }
        BackfillOptions options;
        try {
            options = BackfillOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(BackfillOptions.USAGE);
            System.exit(2);
            return;
        }
        MirrorBenchmark.quietLogging();
        BackfillCopy.readAhead(options.readAhead());
        try {
            boolean allCorrect = new BackfillBenchmark(options).run();
            if (!allCorrect) {
                System.err.println("bench: some copies did not match the source; see the report");
                System.exit(3);
            }
        } catch (Exception e) {
            System.err.println("bench: failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    private boolean run() throws Exception {
        String loadBefore = MirrorBenchmark.loadAverage();
        Instant startedAt = Instant.now();
        long started = System.nanoTime();
        String suffix = MirrorBenchmark.randomSuffix();
        List<BenchDatabase> scratch = new CopyOnWriteArrayList<>();
        Path workDir = Files.createTempDirectory("dw-bench-backfill-");
        Thread cleanup = new Thread(() -> {
            System.err.println("bench: stopped early; dropping the scratch databases and schemas *_" + suffix
                    + " (errors of the interrupted run may follow)");
            MirrorBenchmark.closeAll(scratch);
            closeSharded();
            deleteTree(workDir);
        }, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            MirrorBenchmark.progress("bench: %s; scratch spaces dw_bf_%s (MariaDB source, PostgreSQL target),"
                    + " dw_bft_%s (MariaDB target), dw_bfl_%s (pgloader's PostgreSQL schema)", options.describe(),
                    suffix, suffix, suffix);
            source = BenchDatabase.create(Store.MARIADB, "dw_bf_" + suffix, OrderTable.ddl(Store.MARIADB));
            scratch.add(source);
            for (Store store : options.targets()) {
                String name = (store == Store.MARIADB ? "dw_bft_" : "dw_bf_") + suffix;
                BenchDatabase target = BenchDatabase.create(store, name, OrderTable.ddl(store));
                scratch.add(target);
                targets.put(store, target);
            }
            if (options.sharded()) {
                sharded = ShardedTarget.create("dw_bfs_" + suffix);
                MirrorBenchmark.progress("bench: sharded target: PostgreSQL databases %s, t_order_0..%d in each",
                        sharded.databases(), ShardedTarget.TABLES - 1);
            }
            String pgloaderVersion = options.pgloader() ? PgloaderCopy.version() : null;
            if (options.pgloader() && pgloaderVersion == null) {
                MirrorBenchmark.progress("bench: pgloader is not installed (apt-get install -y pgloader): its runs are"
                        + " skipped");
            }
            if (pgloaderVersion != null) {
                pgloaderSchema = BenchDatabase.create(Store.POSTGRESQL, "dw_bfl_" + suffix, null);
                scratch.add(pgloaderSchema);
                pgloader = new PgloaderCopy(workDir);
            }

            long loading = System.nanoTime();
            OrderTable.load(source, options.rows());
            double loadSeconds = (System.nanoTime() - loading) / 1e9;
            try (Connection connection = source.connect()) {
                expected = OrderTable.checksum(connection, Store.MARIADB, OrderTable.NAME);
                span = OrderTable.keySpan(connection);
            }
            MirrorBenchmark.progress("bench: loaded %,d rows into MariaDB in %.1f s (%,.0f rows/s); source %s",
                    options.rows(), loadSeconds, options.rows() / loadSeconds, expected);

            warmUp();
            for (int round = 1; round <= options.rounds(); round++) {
                for (Store store : MirrorBenchmark.rotated(options.targets(), round - 1)) {
                    for (Variant variant : pgloaderFirst(MirrorBenchmark.rotated(variants(store), round - 1))) {
                        Run run = copy(round, variant);
                        runs.add(run);
                        if (variant.kind() == Kind.DUALWRITE && options.secondPass()) {
                            passes.add(secondPass(round, variant, run));
                        }
                    }
                }
            }
            if (options.memory()) {
                memoryPhase();
            }

            environment(startedAt, started, loadBefore, MirrorBenchmark.loadAverage(), loadSeconds, pgloaderVersion);
            ratesReport();
            boolean correct = verdicts();
            pgloaderReport();
            secondPassReport();
            memoryReport();
            details();

            System.out.print(report.toText());
            if (options.markdown() != null) {
                Files.writeString(options.markdown(), "\n### BackfillBenchmark run " + startedAt + "\n"
                        + report.toMarkdown(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
                MirrorBenchmark.progress("bench: report appended to %s", options.markdown());
            }
            return correct;
        } finally {
            MirrorBenchmark.closeAll(scratch);
            closeSharded();
            deleteTree(workDir);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or has run; it closes the same, idempotent, resources.
            }
        }
    }

    private List<Variant> variants(Store store) {
        List<Variant> variants = new ArrayList<>();
        for (int threads : options.threads()) {
            if (options.baselines()) {
                variants.add(new Variant(store, Kind.PLAIN, threads));
            }
            if (options.ablation()) {
                variants.add(new Variant(store, Kind.LOCKED, threads));
                variants.add(new Variant(store, Kind.CHECKPOINTED, threads));
                variants.add(new Variant(store, Kind.LIBRARY_ROWS, threads));
            }
            variants.add(new Variant(store, Kind.DUALWRITE, threads));
            if (store == Store.POSTGRESQL && options.sharded()) {
                variants.add(new Variant(store, Kind.SHARDED, threads));
                variants.add(new Variant(store, Kind.BATCHED, threads));
            }
            if (store == Store.POSTGRESQL && options.baselines()) {
                variants.add(new Variant(store, Kind.COPY, threads));
            }
            if (store == Store.MARIADB) {
                variants.add(new Variant(store, Kind.DUALWRITE_BATCHED, threads));
                variants.add(new Variant(store, Kind.LOAD_DATA, threads));
                if (options.prefillEvery() > 0) {
                    variants.add(new Variant(store, Kind.LOAD_DATA_REPLACE, threads));
                }
            }
        }
        if (store == Store.POSTGRESQL && pgloader != null) {
            variants.add(new Variant(store, Kind.PGLOADER, 1));
        }
        return variants;
    }

    /**
     * Moves pgloader to the front of a round's PostgreSQL variants: never right after a dualwrite copy and its
     * second pass, whose WAL the server is still writing back, the rotation's position that once made pgloader
     * look three times slower than on other days. The other variants keep their rotation.
     */
    private static List<Variant> pgloaderFirst(List<Variant> order) {
        List<Variant> result = new ArrayList<>(order.size());
        order.stream().filter(v -> v.kind() == Kind.PGLOADER).forEach(result::add);
        order.stream().filter(v -> v.kind() != Kind.PGLOADER).forEach(result::add);
        return result;
    }

    /** Writes PostgreSQL's dirty pages now, so that the next copy does not pay for the previous one's. */
    private static void checkpoint(BenchDatabase target) throws SQLException {
        try (Connection connection = target.connect(); java.sql.Statement statement = connection.createStatement()) {
            statement.execute("CHECKPOINT");
        }
    }

    /** @return whether pgloader ran CPU-bound in most rounds: then its rate is no ratio's baseline */
    private boolean pgloaderCpuBound() {
        return !pgloaderRuns.isEmpty()
                && pgloaderRuns.stream().filter(PgloaderRun::cpuBound).count() * 2 > pgloaderRuns.size();
    }

    /** Lets class loading and the JIT happen before anything is measured: a tenth of the table, not reported. */
    private void warmUp() throws Exception {
        long upTo = span[0] - 1 + Math.max(1, options.rows() / 10);
        for (Store store : options.targets()) {
            BenchDatabase target = targets.get(store);
            MirrorBenchmark.progress("bench: warm-up on %s, ids up to %,d", store.label(), upTo);
            truncate(target);
            if (options.baselines()) {
                try (HikariDataSource from = source.pool("bench-warmup-source", 2, false);
                        HikariDataSource to = target.pool("bench-warmup-target", 2, true)) {
                    new PlainCopy(from, to, store, options.plainChunk(), options.versionGuard()).run(1, span[0], upTo);
                    if (store == Store.POSTGRESQL) {
                        truncate(target);
                        new CopyBaseline(from, to, options.plainChunk()).run(1, span[0], upTo);
                    }
                    if (store == Store.MARIADB) {
                        truncate(target);
                        new LoadDataBaseline(from, to, options.plainChunk()).run(1, span[0], upTo);
                        truncate(target);
                        BackfillCopy.run(source, target, 1, options.versionGuard(), false, upTo, RUN_TIMEOUT, null);
                    }
                }
                truncate(target);
            }
            BackfillCopy.run(source, target, 1, options.versionGuard(), upTo, RUN_TIMEOUT, null);
            truncate(target);
            if (store == Store.POSTGRESQL && sharded != null) {
                MirrorBenchmark.progress("bench: warm-up on the sharded target, ids up to %,d", upTo);
                sharded.truncate();
                BackfillCopy.runSharded(source, sharded, 1, options.versionGuard(), upTo, RUN_TIMEOUT, null);
                sharded.truncate();
            }
        }
    }

    private Run copy(int round, Variant variant) throws Exception {
        Store store = variant.target();
        BenchDatabase target = variant.kind() == Kind.PGLOADER ? pgloaderSchema : targets.get(store);
        if (variant.kind() == Kind.SHARDED) {
            sharded.truncate();
        } else if (variant.kind() != Kind.PGLOADER) {
            truncate(target);
        }
        long logBefore = ServerCounters.read(target).logBytes();
        Run run;
        switch (variant.kind()) {
            case PLAIN, LOCKED, CHECKPOINTED, LIBRARY_ROWS -> {
                try (HikariDataSource from = source.pool("bench-plain-source", variant.threads() + 1, false);
                        HikariDataSource to = target.pool("bench-plain-target", variant.threads() + 1, true)) {
                    PlainCopy plain = new PlainCopy(from, to, store, options.plainChunk(), options.versionGuard(),
                            variant.kind().step);
                    upsertSql.putIfAbsent(store, plain.upsertSql());
                    CpuMeter.Snapshot before = cpu.snapshot();
                    PlainCopy.Result result = plain.run(variant.threads(), span[0], span[1]);
                    CpuMeter.Usage usage = cpu.between(before, cpu.snapshot());
                    run = new Run(round, variant, result.rows(), result.nanos(), usage, 0, 0, Double.NaN, false, null);
                }
            }
            case DUALWRITE, BATCHED, DUALWRITE_BATCHED -> {
                if (options.prefillEvery() > 0) {
                    prefill(target, options.prefillEvery());
                }
                BackfillCopy.Result result = BackfillCopy.run(source, target, variant.threads(), options.versionGuard(),
                        variant.kind() == Kind.DUALWRITE, null, RUN_TIMEOUT, cpu);
                if (!result.done()) {
                    MirrorBenchmark.progress("bench: the backfill ended %s with %,d failed rows: %s", result.status(),
                            result.failedRows(), result.lastError());
                }
                run = new Run(round, variant, result.rows(), result.nanos(), result.cpu(), 0, 0, Double.NaN, false,
                        result);
            }
            case SHARDED -> {
                BackfillCopy.Result result = BackfillCopy.runSharded(source, sharded, variant.threads(),
                        options.versionGuard(), null, RUN_TIMEOUT, cpu);
                if (!result.done()) {
                    MirrorBenchmark.progress("bench: the sharded backfill ended %s with %,d failed rows: %s",
                            result.status(), result.failedRows(), result.lastError());
                }
                run = new Run(round, variant, result.rows(), result.nanos(), result.cpu(), 0, 0, Double.NaN, false,
                        result);
            }
            case LOAD_DATA, LOAD_DATA_REPLACE -> {
                boolean replace = variant.kind() == Kind.LOAD_DATA_REPLACE;
                if (replace) {
                    prefill(target, options.prefillEvery());
                }
                try (HikariDataSource from = source.pool("bench-load-source", variant.threads() + 1, false);
                        HikariDataSource to = target.pool("bench-load-target", variant.threads() + 1, true)) {
                    LoadDataBaseline baseline = new LoadDataBaseline(from, to, options.plainChunk(), replace);
                    CpuMeter.Snapshot before = cpu.snapshot();
                    PlainCopy.Result result = baseline.run(variant.threads(), span[0], span[1]);
                    CpuMeter.Usage usage = cpu.between(before, cpu.snapshot());
                    run = new Run(round, variant, result.rows(), result.nanos(), usage, 0, 0, Double.NaN, false, null);
                }
            }
            case COPY -> {
                try (HikariDataSource from = source.pool("bench-copy-source", variant.threads() + 1, false);
                        HikariDataSource to = target.pool("bench-copy-target", variant.threads() + 1, true)) {
                    CopyBaseline baseline = new CopyBaseline(from, to, options.plainChunk());
                    CpuMeter.Snapshot before = cpu.snapshot();
                    PlainCopy.Result result = baseline.run(variant.threads(), span[0], span[1]);
                    CpuMeter.Usage usage = cpu.between(before, cpu.snapshot());
                    run = new Run(round, variant, result.rows(), result.nanos(), usage, 0, 0, Double.NaN, false, null);
                }
            }
            case PGLOADER -> {
                checkpoint(target);
                CpuMeter.Snapshot before = cpu.snapshot();
                PgloaderCopy.Result result = pgloader.run(source.name(), pgloaderSchema.name(),
                        RUN_TIMEOUT.toSeconds());
                CpuMeter.Usage usage = cpu.between(before, cpu.snapshot());
                if (result.exitCode() != 0) {
                    MirrorBenchmark.progress("bench: pgloader exited with %d:%n%s", result.exitCode(), result.output());
                }
                pgloaderRuns.add(new PgloaderRun(round, result, usage));
                run = new Run(round, variant, result.reportedRows() >= 0 ? result.reportedRows() : 0, result.nanos(),
                        usage, 0, Double.isNaN(result.cpuSeconds()) ? 0 : result.cpuSeconds(), result.reportedSeconds(),
                        false, null);
            }
            default -> throw new IllegalStateException("no copy for " + variant.kind());
        }
        long logBytes = ServerCounters.read(target).logBytes() - logBefore;
        OrderTable.Checksum got = variant.kind() == Kind.SHARDED ? sharded.checksum() : checksum(target, null);
        boolean correct = got.matches(expected);
        // pgloader reports its own row count; the checksum's count is what reached the table.
        long rows = variant.kind() == Kind.PGLOADER ? got.rows() : run.rows();
        run = new Run(round, variant, rows, run.nanos(), run.cpu(), logBytes, run.ownCpuSeconds(), run.toolSeconds(),
                correct, run.backfill());
        MirrorBenchmark.progress("[round %d] %-10s <- MariaDB  %-22s %,9d rows in %6.2f s = %,8.0f rows/s  cpu: jvm %s"
                + " mariadbd %s postgres %s neighbours %s%s  %s", round, store.label(), variant.label(), run.rows(),
                run.seconds(), run.rate(), Report.cores(run.cpu().jvm()), Report.cores(run.cpu().mariadb()),
                Report.cores(run.cpu().postgres()), Report.cores(run.neighbours()),
                run.backfill() != null ? String.format(Locale.ROOT, "  chunks %d (largest %,d)",
                        run.backfill().chunks(), run.backfill().largestChunk())
                        : Double.isNaN(run.toolSeconds()) ? "" : String.format(Locale.ROOT,
                                "  (pgloader's own total: %.2f s = %,.0f rows/s)", run.toolSeconds(),
                                run.rows() / run.toolSeconds()),
                correct ? "checksum ok" : "CHECKSUM MISMATCH: " + got);
        return run;
    }

    private SecondPass secondPass(int round, Variant variant, Run first) throws Exception {
        BenchDatabase target = targets.get(variant.target());
        ServerCounters.Snapshot before = ServerCounters.settled(target);
        BackfillCopy.Result result = BackfillCopy.run(source, target, variant.threads(), options.versionGuard(), null,
                RUN_TIMEOUT, cpu);
        ServerCounters.Snapshot after = ServerCounters.settled(target);
        long rewritten = variant.target() == Store.POSTGRESQL ? ServerCounters.rowsWrittenAfter(target, before.xid())
                : -1;
        boolean correct = checksum(target, null).matches(expected) && result.done();
        SecondPass pass = new SecondPass(round, variant.target(), variant.threads(), result, rewritten, before, after,
                first.rate(), correct);
        MirrorBenchmark.progress("[round %d] %-10s second pass, %d thread(s): %,9d rows in %6.2f s = %,8.0f rows/s;"
                + " %s; log %s%s", round, variant.target().label(), variant.threads(), result.rows(),
                result.nanos() / 1e9, pass.rate(), changedRows(pass), bytes(pass.logBytes()),
                correct ? "" : "  CHECKSUM MISMATCH or job not DONE: " + result.status() + " " + result.lastError());
        return pass;
    }

    private void memoryPhase() throws Exception {
        Store store = options.targets().contains(Store.POSTGRESQL) ? Store.POSTGRESQL : Store.MARIADB;
        BenchDatabase target = targets.get(store);
        int threads = options.threads().stream().mapToInt(Integer::intValue).max().orElse(1);
        long tenth = span[0] - 1 + Math.max(1, options.rows() / 10);
        for (Long upTo : Arrays.asList(tenth, null)) {
            truncate(target);
            BackfillCopy.resetJob(target);
            MirrorBenchmark.progress("bench: memory probe, a JVM with -Xmx%s, %s, %d thread(s), %s",
                    options.probeHeap(), store.label(), threads,
                    upTo == null ? "the whole table" : "ids up to " + upTo);
            BackfillMemoryProbe.Result probe = BackfillMemoryProbe.launch(options.probeHeap(), source.name(), target,
                    threads, options.versionGuard(), upTo);
            OrderTable.Checksum want;
            try (Connection connection = source.connect()) {
                want = OrderTable.checksum(connection, Store.MARIADB, OrderTable.NAME, upTo);
            }
            boolean correct = checksum(target, null).matches(want) && probe.copy().done();
            MemoryRun run = new MemoryRun(store, threads, upTo, want.rows(), probe, correct);
            memoryRuns.add(run);
            MirrorBenchmark.progress("bench: memory probe: %,d rows in %.2f s = %,.0f rows/s; heap max %s,"
                    + " peak used %s, peak live %s, %d collections (%d ms)%s", probe.copy().rows(),
                    probe.copy().nanos() / 1e9, probe.copy().rowsPerSecond(), mebibytes(probe.maxHeap()), mebibytes(probe.peakUsed()),
                    mebibytes(probe.peakLive()), probe.collections(), probe.gcMillis(),
                    correct ? "; checksum ok" : "; CHECKSUM MISMATCH or job not DONE: " + probe.copy().status() + " "
                            + probe.copy().lastError());
        }
    }

    // ---------------------------------------------------------------------------------------------------
    // Report sections

    private void environment(Instant startedAt, long started, String loadBefore, String loadAfter,
            double loadSeconds, String pgloaderVersion) throws SQLException {
        report.heading("Environment");
        Report.Table table = new Report.Table("item", "value")
                .row("started", startedAt)
                .row("duration", String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - started) / 1e9))
                .row("settings", options.describe())
                .row("cpu", Runtime.getRuntime().availableProcessors() + " x "
                        + MirrorBenchmark.firstLine("/proc/cpuinfo", "model name"))
                .row("memory", MirrorBenchmark.firstLine("/proc/meminfo", "MemTotal"))
                .row("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"))
                .row("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version")
                        + ", max heap " + mebibytes(Runtime.getRuntime().maxMemory()))
                .row("source", source.versions())
                .row("source durability", source.durability())
                .row("source table", String.format(Locale.ROOT, "%,d rows, %s on disk (InnoDB data + index),"
                        + " loaded in %.1f s", options.rows(), bytes(mariadbTableBytes(source)), loadSeconds));
        for (BenchDatabase target : targets.values()) {
            table.row("target " + target.store().label(), target.versions() + "; " + target.durability());
        }
        upsertSql.forEach((store, sql) -> table.row("upsert into " + store.label() + " (plain copy and backfill)",
                sql));
        table.row("target pool url", "as the source's, plus " + String.join(", ", targets.keySet().stream()
                        .map(s -> s.dialect().recommendedTargetProperties().toString()).toList()))
                .row("pgloader", pgloaderVersion == null ? "not run" : pgloaderVersion + "; load file: "
                        + pgloader.command(source.name(), pgloaderSchema.name()).replace("\n", " ").trim())
                .row("libraries", "HikariCP " + MirrorBenchmark.version(HikariDataSource.class) + ", dualwrite "
                        + MirrorBenchmark.version(BackfillRunner.class))
                .row("backfill config", "threads(1 or 2).rangesPerTable(16).createTables(true)"
                        + (options.versionGuard() ? ".versionGuard(true)" : "") + ", unthrottled, other settings"
                        + " default (chunk 1,000 adapting in 50..10,000 toward 0.5 s per chunk; versionGuard "
                        + options.versionGuard() + "; postgresCopy true; mariadbLoadData true, except the 'dualwrite"
                        + " batched' rows: false; readAhead " + options.readAhead() + ", source pool 2 x threads + 1)")
                .row("sharded target", sharded == null ? "not run" : "PostgreSQL databases " + sharded.databases()
                        + " on the same server, t_order_0..3 in each, through ShardingSphere-JDBC "
                        + MirrorBenchmark.version(org.apache.shardingsphere.driver.api.yaml
                                .YamlShardingSphereDataSourceFactory.class)
                        + " (ds_${user_id % 2}.t_order_${user_id.intdiv(2) % 4}; one HikariCP pool of threads + 1 per"
                        + " database, same URL properties); mapping routingColumn(user_id).immutableShardingColumn(true);"
                        + " the library writes each physical table directly, in batches (no COPY on a sharded table)")
                .row("plain JDBC copy", "keyset read in autocommit, no lock; chunk " + options.plainChunk()
                        + "; one batch of the backfill's own upsert statement (below) + commit per chunk")
                .row("COPY per chunk (PostgreSQL)", "the plain copy's keyset reads, each chunk streamed from the result"
                        + " set into one COPY t_order (...) FROM STDIN (pgjdbc CopyManager, text format) + commit")
                .row("LOAD DATA per chunk (MariaDB)", "the plain copy's keyset reads, each chunk encoded as text and"
                        + " sent by one LOAD DATA LOCAL INFILE into t_order itself (Connector/J setLocalInfileInputStream)"
                        + " + commit")
                .row("load average before", loadBefore)
                .row("load average after", loadAfter);
        report.table(table);
    }

    private void ratesReport() {
        report.heading("Copy rate into an empty table: medians across " + options.rounds() + " round(s)");
        report.text("rows/s = rows / wall time of the copy (pgloader: the whole process, including its start, table"
                + " creation and primary key build). 'per round' lists every round's figure in round order. CPU is"
                + " given as microseconds of CPU per row copied, by process: 'jvm' is this JVM (the copier, for"
                + " plain and dualwrite; idle for pgloader, whose own CPU is the 'pgloader' column). 'neighbours'"
                + " is the CPU the rest of the machine used during the copy, in cores; figures with more than "
                + Report.cores(NOISY_NEIGHBOURS) + " core of neighbours are marked '*'.");
        Report.Table table = new Report.Table("target", "variant", "rows/s", "per round", "vs plain", "vs pgloader",
                "jvm us/row", "mariadbd us/row", "postgres us/row", "pgloader us/row", "log bytes/row",
                "neighbours", "checksum");
        for (Store store : options.targets()) {
            for (Variant variant : variants(store)) {
                List<Run> selected = select(variant);
                if (selected.isEmpty()) {
                    continue;
                }
                double rate = median(selected, Run::rate);
                double neighbours = median(selected, Run::neighbours);
                List<Run> plainRuns = select(new Variant(store, Kind.PLAIN, variant.threads()));
                String plain = variant.kind() == Kind.PLAIN ? "1.00"
                        : plainRuns.isEmpty() ? "-" : Report.ratio(rate / median(plainRuns, Run::rate));
                List<Run> pgl = select(new Variant(store, Kind.PGLOADER, 1));
                String vsPgloader = pgl.isEmpty() ? "-" : pgloaderCpuBound() ? "pgloader CPU-bound"
                        : Report.ratio(rate / median(pgl, Run::rate));
                table.row(store.label(), variant.label(),
                        Report.count(rate) + (neighbours > NOISY_NEIGHBOURS ? "*" : ""),
                        String.join(" / ", selected.stream().map(r -> Report.count(r.rate())).toList()),
                        plain, vsPgloader,
                        oneDecimal(median(selected, r -> r.microsPerRow(r.cpu().jvm()))),
                        oneDecimal(median(selected, r -> r.microsPerRow(r.cpu().mariadb()))),
                        oneDecimal(median(selected, r -> r.microsPerRow(r.cpu().postgres()))),
                        variant.kind() == Kind.PGLOADER
                                ? oneDecimal(median(selected, r -> r.ownCpuSeconds() * 1e6 / Math.max(1, r.rows())))
                                : "-",
                        Report.count(median(selected, r -> (double) r.logBytes() / Math.max(1, r.rows()))),
                        Report.cores(neighbours),
                        selected.stream().filter(Run::correct).count() + "/" + selected.size() + " ok");
            }
        }
        report.table(table);
        if (options.ablation()) {
            report.text("Ablation: each '+' row is the plain copy with one more of the backfill's chunk steps, on top"
                    + " of"
                    + " the previous row's. 'plain + share lock': the source read is the dialect's keyset scan with the"
                    + " non-waiting share lock, in a READ COMMITTED transaction held until the target commits."
                    + " '+ savepoint, checkpoint': a savepoint before the batch and an UPDATE of a checkpoint row in"
                    + " the target transaction. '+ library row path': rows go through TableOps.scan (Row objects),"
                    + " MappedTable.toTarget, keyOf and TableOps.overwrite (upsert with the version guard). What"
                    + " remains between the last step and"
                    + " dualwrite is the runner itself: 16 leased ranges, the adaptive chunk size (1,000 growing to"
                    + " 20,000) instead of a fixed " + options.plainChunk() + ", a pooled connection pair and its"
                    + " session settings per chunk, and the end of the job.");
        }
    }

    private boolean verdicts() {
        report.heading("Targets");
        report.text("Ratios compare the medians across rounds; 'per round' is each round's own ratio, from two copies"
                + " that ran side by side. A verdict is marked noisy when either side's median neighbours exceeded "
                + Report.cores(NOISY_NEIGHBOURS) + " core." + (options.quick()
                        ? " This was a --quick smoke run: its verdicts are not measurements." : ""));
        Report.Table table = new Report.Table("target", "measured", "limit", "per round", "verdict");
        for (Store store : options.targets()) {
            for (int threads : options.threads()) {
                Variant dualwrite = new Variant(store, Kind.DUALWRITE, threads);
                Variant plain = new Variant(store, Kind.PLAIN, threads);
                ratioRow(table, "dualwrite / plain JDBC, " + store.label() + ", " + threads + " thread(s)", dualwrite,
                        plain, PLAIN_RATIO_LIMIT);
                if (store == Store.POSTGRESQL) {
                    ratioRow(table, "dualwrite / COPY per chunk, PostgreSQL, " + threads + " thread(s)", dualwrite,
                            new Variant(store, Kind.COPY, threads), COPY_RATIO_LIMIT);
                }
                if (store == Store.MARIADB) {
                    ratioRow(table, "dualwrite / LOAD DATA per chunk, MariaDB, " + threads + " thread(s)", dualwrite,
                            new Variant(store, Kind.LOAD_DATA, threads), COPY_RATIO_LIMIT);
                    if (options.prefillEvery() > 0) {
                        ratioRow(table, "dualwrite / LOAD DATA REPLACE per chunk into the same prefilled table,"
                                + " MariaDB, " + threads + " thread(s)", dualwrite,
                                new Variant(store, Kind.LOAD_DATA_REPLACE, threads), COPY_RATIO_LIMIT);
                    }
                    ratioRow(table, "dualwrite / dualwrite batched, MariaDB, " + threads + " thread(s)", dualwrite,
                            new Variant(store, Kind.DUALWRITE_BATCHED, threads), 1.0);
                }
            }
        }
        if (sharded != null) {
            for (int threads : options.threads()) {
                comparisonRow(table, "dualwrite into the sharded target (2 databases x 4 tables) / into the single"
                        + " table, PostgreSQL, " + threads + " thread(s)",
                        new Variant(Store.POSTGRESQL, Kind.SHARDED, threads),
                        new Variant(Store.POSTGRESQL, Kind.DUALWRITE, threads));
                comparisonRow(table, "dualwrite into the sharded target / into the single table in batches (no COPY),"
                        + " PostgreSQL, " + threads + " thread(s)",
                        new Variant(Store.POSTGRESQL, Kind.SHARDED, threads),
                        new Variant(Store.POSTGRESQL, Kind.BATCHED, threads));
            }
        }
        if (pgloader != null && pgloaderCpuBound()) {
            table.row("dualwrite / pgloader, PostgreSQL", "not quoted: pgloader ran CPU-bound in most rounds (see"
                    + " 'pgloader, part by part')", ">= "
                    + Report.ratio(PGLOADER_RATIO_LIMIT), "-", "-");
        } else if (pgloader != null) {
            Variant pgl = new Variant(Store.POSTGRESQL, Kind.PGLOADER, 1);
            for (int threads : options.threads()) {
                ratioRow(table, "dualwrite / pgloader, PostgreSQL, " + threads + " thread(s)",
                        new Variant(Store.POSTGRESQL, Kind.DUALWRITE, threads), pgl, PGLOADER_RATIO_LIMIT);
            }
        }
        for (Store store : options.targets()) {
            List<SecondPass> mine = passes.stream().filter(p -> p.target() == store).toList();
            if (mine.isEmpty()) {
                continue;
            }
            if (store == Store.POSTGRESQL) {
                long worst = mine.stream().mapToLong(SecondPass::rewritten).max().orElse(0);
                long updated = mine.stream().mapToLong(SecondPass::updated).max().orElse(0);
                table.row("second pass rewrites no identical row, PostgreSQL", "max " + Report.count(worst)
                        + " rows with a newer xmin; n_tup_upd +" + Report.count(updated), "0", "-",
                        MirrorBenchmark.verdict(worst == 0 && updated == 0, false));
            } else {
                long updated = mine.stream().mapToLong(SecondPass::updated).max().orElse(0);
                long slack = (long) (options.rows() * SERVER_WIDE_SLACK);
                table.row("second pass rewrites no identical row, MariaDB", "max Innodb_rows_updated +"
                        + Report.count(updated) + " (server-wide)", "<= " + Report.count(slack) + " (1% of rows, for"
                        + " other clients)", "-", MirrorBenchmark.verdict(updated <= slack, false));
            }
        }
        if (memoryRuns.size() == 2) {
            MemoryRun whole = memoryRuns.get(1);
            List<Long> quarters = whole.probe().liveByQuarter();
            long firstHalf = Math.max(quarters.get(0), quarters.get(1));
            long secondHalf = Math.max(quarters.get(2), quarters.get(3));
            double growth = (double) secondHalf / Math.max(1, firstHalf);
            boolean pass = whole.correct() && memoryRuns.get(0).correct() && growth <= MEMORY_GROWTH_LIMIT;
            table.row("backfill live heap does not grow with the rows copied (-Xmx" + options.probeHeap() + ", "
                    + Report.count(whole.probe().copy().rows()) + " rows)", "peak live, 2nd half of the run / 1st"
                    + " half: " + mebibytes(secondHalf) + " / " + mebibytes(firstHalf) + " = " + Report.ratio(growth),
                    "completes, and <= " + Report.ratio(MEMORY_GROWTH_LIMIT), "-",
                    MirrorBenchmark.verdict(pass, false));
        }
        long wrong = runs.stream().filter(r -> !r.correct()).count() + passes.stream().filter(p -> !p.correct()).count()
                + memoryRuns.stream().filter(m -> !m.correct()).count();
        long all = runs.size() + passes.size() + memoryRuns.size();
        table.row("every copy equals the source (count, sums, non-null notes, timestamps)",
                (all - wrong) + " of " + all, "all", "-", MirrorBenchmark.verdict(wrong == 0, false));
        report.table(table);
        return wrong == 0;
    }

    /** A ratio measured with no target set (issue 21 asks for the figure, not a limit). */
    private void comparisonRow(Report.Table table, String name, Variant measured, Variant against) {
        List<Run> mine = select(measured);
        List<Run> theirs = select(against);
        if (mine.isEmpty() || theirs.isEmpty()) {
            return;
        }
        List<String> perRound = new ArrayList<>();
        for (Run run : mine) {
            theirs.stream().filter(t -> t.round() == run.round()).findFirst()
                    .ifPresent(t -> perRound.add(Report.ratio(run.rate() / t.rate())));
        }
        boolean noisy = median(mine, Run::neighbours) > NOISY_NEIGHBOURS
                || median(theirs, Run::neighbours) > NOISY_NEIGHBOURS;
        table.row(name, Report.ratio(median(mine, Run::rate) / median(theirs, Run::rate)) + " ("
                + Report.count(median(mine, Run::rate)) + " vs " + Report.count(median(theirs, Run::rate))
                + " rows/s)", "none set", String.join(" / ", perRound), "measured" + (noisy ? " (noisy)" : ""));
    }

    private void ratioRow(Report.Table table, String name, Variant measured, Variant against, double limit) {
        List<Run> mine = select(measured);
        List<Run> theirs = select(against);
        if (mine.isEmpty() || theirs.isEmpty()) {
            return;
        }
        double ratio = median(mine, Run::rate) / median(theirs, Run::rate);
        List<String> perRound = new ArrayList<>();
        for (Run run : mine) {
            theirs.stream().filter(t -> t.round() == run.round()).findFirst()
                    .ifPresent(t -> perRound.add(Report.ratio(run.rate() / t.rate())));
        }
        boolean noisy = median(mine, Run::neighbours) > NOISY_NEIGHBOURS
                || median(theirs, Run::neighbours) > NOISY_NEIGHBOURS;
        table.row(name, Report.ratio(ratio) + " (" + Report.count(median(mine, Run::rate)) + " vs "
                + Report.count(median(theirs, Run::rate)) + " rows/s)", ">= " + Report.ratio(limit),
                String.join(" / ", perRound), MirrorBenchmark.verdict(ratio >= limit, noisy));
    }

    private void pgloaderReport() {
        if (pgloaderRuns.isEmpty()) {
            return;
        }
        report.heading("pgloader, part by part");
        report.text("From pgloader's own summary: 'copy' is its COPY Threads Completion line (first row read to last"
                + " row written) with the threads it counts, 'index build' its Index Build Completion line (the primary"
                + " key, built after the data), 'start-up' the process's wall time less its Total import time. It"
                + " ran with workers = " + PgloaderCopy.WORKERS + ", concurrency = " + PgloaderCopy.CONCURRENCY
                + ", first among the PostgreSQL copies of each round and after a CHECKPOINT. 'machine busy' is the"
                + " whole machine's CPU over the process, in cores of " + Runtime.getRuntime().availableProcessors()
                + "; when pgloader used 0.9 core or more of its own, or the machine 90 % of its cores, the run is"
                + " CPU-bound and its rate is not used as a baseline.");
        Report.Table table = new Report.Table("round", "wall s", "start-up s", "copy s", "copy threads",
                "index build s", "copy rows/s", "pgloader cores", "machine busy", "CPU-bound");
        for (PgloaderRun run : pgloaderRuns) {
            PgloaderCopy.Result result = run.result();
            PgloaderCopy.Phases phases = result.phases();
            double wall = result.nanos() / 1e9;
            table.row(run.round(), seconds(wall), seconds(result.startupSeconds()), seconds(phases.copySeconds()),
                    phases.copyThreads() < 0 ? "-" : String.valueOf(phases.copyThreads()),
                    seconds(phases.indexSeconds()),
                    Double.isNaN(phases.copySeconds()) || result.reportedRows() < 0 ? "-"
                            : Report.count(result.reportedRows() / phases.copySeconds()),
                    Double.isNaN(result.cpuSeconds()) ? "-" : Report.cores(result.cpuSeconds() / wall),
                    Report.cores(run.usage().machineBusy()), run.cpuBound() ? "yes" : "no");
        }
        report.table(table);
    }

    private static String seconds(double value) {
        return Double.isNaN(value) ? "-" : String.format(Locale.ROOT, "%.2f", value);
    }

    private void secondPassReport() {
        if (passes.isEmpty()) {
            return;
        }
        report.heading("Second pass: a new backfill job over the table just copied");
        report.text("Every row is read under the share lock and sent through the backfill's upsert again; identical"
                + " rows must stay as they are. PostgreSQL: 'rewritten' counts rows whose xmin is newer than the pass's"
                + " start; n_tup_ins / n_tup_upd are the table's statistics. MariaDB: Innodb_rows_inserted / _updated"
                + " are server-wide, so other clients' writes count too. 'log' is the WAL / redo the whole server"
                + " wrote during the pass.");
        Report.Table table = new Report.Table("round", "target", "threads", "rows", "rows/s", "vs first pass",
                "rewritten", "inserted", "updated", "log", "jvm us/row", "mariadbd us/row", "postgres us/row",
                "neighbours", "checksum");
        for (SecondPass pass : passes) {
            CpuMeter.Usage usage = pass.copy().cpu();
            double seconds = pass.copy().nanos() / 1e9;
            double rows = Math.max(1, pass.copy().rows());
            table.row(pass.round(), pass.target().label(), pass.threads(), Report.count(pass.copy().rows()),
                    Report.count(pass.rate()) + (usage.others() > NOISY_NEIGHBOURS ? "*" : ""),
                    Report.ratio(pass.rate() / pass.firstPassRate()),
                    pass.rewritten() < 0 ? "n/a" : Report.count(pass.rewritten()), Report.count(pass.inserted()),
                    Report.count(pass.updated()), bytes(pass.logBytes()),
                    oneDecimal(usage.jvm() * seconds * 1e6 / rows), oneDecimal(usage.mariadb() * seconds * 1e6 / rows),
                    oneDecimal(usage.postgres() * seconds * 1e6 / rows), Report.cores(usage.others()),
                    pass.correct() ? "ok" : "MISMATCH");
        }
        report.table(table);
    }

    private void memoryReport() {
        if (memoryRuns.isEmpty()) {
            return;
        }
        report.heading("Memory: the backfill alone in a JVM with -Xmx" + options.probeHeap());
        report.text("A separate JVM runs only the backfill (same classpath, -Xmx" + options.probeHeap() + ", default"
                + " collector G1). 'peak used' is the highest heap use seen (sampled every 5 ms and before every"
                + " collection): it mostly shows how far the collector lets garbage pile up. 'peak live' is the"
                + " highest heap use right after a full collection, which the probe forces every 500 ms: what the"
                + " backfill really keeps. 'per row in flight' divides it by threads x largest chunk: the rows two"
                + " chunks hold at once. The forced collections slow the probe down; its rows/s is not a figure of"
                + " the comparison.");
        Report.Table table = new Report.Table("target", "threads", "rows", "rows/s", "max heap", "peak used",
                "peak live", "peak live by quarter of the run", "per row in flight", "collections", "GC ms", "chunks",
                "largest chunk", "checksum");
        for (MemoryRun run : memoryRuns) {
            BackfillMemoryProbe.Result probe = run.probe();
            long inFlight = (long) run.threads() * Math.max(1, probe.copy().largestChunk());
            table.row(run.target().label(), run.threads(), Report.count(probe.copy().rows()),
                    Report.count(probe.copy().rowsPerSecond()), mebibytes(probe.maxHeap()), mebibytes(probe.peakUsed()),
                    mebibytes(probe.peakLive()), String.join(" / ", probe.liveByQuarter().stream()
                            .map(BackfillBenchmark::mebibytes).toList()),
                    String.format(Locale.ROOT, "%,.1f KiB", probe.peakLive() / 1024.0 / inFlight),
                    Report.count(probe.collections()), Report.count(probe.gcMillis()),
                    Report.count(probe.copy().chunks()), Report.count(probe.copy().largestChunk()),
                    run.correct() ? "ok" : "MISMATCH");
        }
        report.table(table);
    }

    private void details() {
        report.heading("Every copy, in the order run");
        report.text("CPU in cores of " + Runtime.getRuntime().availableProcessors() + ". 'tool's own s' is the time"
                + " pgloader reports for itself (its summary's total), without its process start. 'in chunks' is"
                + " the share of"
                + " the backfill threads' time spent inside chunks (read to commit); the rest is range claims,"
                + " job start and the wait for the last thread.");
        Report.Table table = new Report.Table("round", "target", "variant", "rows", "seconds", "rows/s",
                "tool's own s", "chunks", "largest chunk", "in chunks", "busy", "steal", "jvm", "mariadbd", "postgres",
                "pgloader", "neighbours", "log", "checksum");
        for (Run run : runs) {
            BackfillCopy.Result backfill = run.backfill();
            table.row(run.round(), run.variant().target().label(), run.variant().label(), Report.count(run.rows()),
                    String.format(Locale.ROOT, "%.2f", run.seconds()), Report.count(run.rate()),
                    Double.isNaN(run.toolSeconds()) ? "-" : String.format(Locale.ROOT, "%.2f", run.toolSeconds()),
                    backfill == null ? "-" : Report.count(backfill.chunks()),
                    backfill == null ? "-" : Report.count(backfill.largestChunk()),
                    backfill == null ? "-" : Report.ratio(backfill.inChunks(run.variant().threads())),
                    Report.cores(run.cpu().machineBusy()), Report.cores(run.cpu().steal()),
                    Report.cores(run.cpu().jvm()), Report.cores(run.cpu().mariadb()),
                    Report.cores(run.cpu().postgres()),
                    run.variant().kind() == Kind.PGLOADER ? Report.cores(run.ownCpuSeconds() / run.seconds()) : "-",
                    Report.cores(run.neighbours()), bytes(run.logBytes()), run.correct() ? "ok" : "MISMATCH");
        }
        report.table(table);
    }

    // ---------------------------------------------------------------------------------------------------
    // Plumbing

    private void closeSharded() {
        if (sharded != null) {
            sharded.close();
        }
    }

    private List<Run> select(Variant variant) {
        return runs.stream().filter(r -> r.variant().equals(variant)).sorted(Comparator.comparingInt(Run::round))
                .toList();
    }

    private static double median(List<Run> selected, ToDoubleFunction<Run> figure) {
        double[] values = selected.stream().mapToDouble(figure).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    /** Puts every {@code every}th source row into the (empty) target table, as a running mirror would have. */
    private void prefill(BenchDatabase target, int every) throws SQLException {
        String columns = String.join(", ", OrderTable.COLUMNS);
        try (Connection from = source.connect(); Connection to = target.connect();
                PreparedStatement read = from.prepareStatement("SELECT " + columns + " FROM " + OrderTable.NAME
                        + " WHERE MOD(id, ?) = 0");
                PreparedStatement write = to.prepareStatement("INSERT INTO " + OrderTable.NAME + " (" + columns
                        + ") VALUES (" + String.join(", ", java.util.Collections.nCopies(OrderTable.COLUMNS.size(), "?"))
                        + ")")) {
            read.setInt(1, every);
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    for (int c = 1; c <= OrderTable.COLUMNS.size(); c++) {
                        Object value = rs.getObject(c);
                        write.setObject(c, value instanceof java.sql.Timestamp ? rs.getObject(c,
                                java.time.LocalDateTime.class) : value);
                    }
                    write.addBatch();
                }
            }
            write.executeBatch();
            if (!to.getAutoCommit()) {
                to.commit();
            }
        }
    }

    private static void truncate(BenchDatabase target) throws SQLException {
        try (Connection connection = target.connect(); Statement statement = connection.createStatement()) {
            statement.execute("TRUNCATE TABLE " + OrderTable.NAME);
        }
    }

    private static OrderTable.Checksum checksum(BenchDatabase target, Long upTo) throws SQLException {
        try (Connection connection = target.connect()) {
            return OrderTable.checksum(connection, target.store(), OrderTable.NAME, upTo);
        }
    }

    private static long mariadbTableBytes(BenchDatabase database) throws SQLException {
        try (Connection connection = database.connect(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT DATA_LENGTH + INDEX_LENGTH FROM information_schema.TABLES"
                        + " WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = '" + OrderTable.NAME + "'")) {
            return rs.next() ? rs.getLong(1) : -1;
        }
    }

    private static String changedRows(SecondPass pass) {
        if (pass.target() == Store.POSTGRESQL) {
            return String.format(Locale.ROOT, "rows rewritten (newer xmin) %,d, n_tup_ins +%,d, n_tup_upd +%,d",
                    pass.rewritten(), pass.inserted(), pass.updated());
        }
        return String.format(Locale.ROOT, "Innodb_rows_inserted +%,d, Innodb_rows_updated +%,d (server-wide)",
                pass.inserted(), pass.updated());
    }

    private static String oneDecimal(double value) {
        return Double.isNaN(value) ? "n/a" : String.format(Locale.ROOT, "%,.1f", value);
    }

    private static String mebibytes(long bytes) {
        return String.format(Locale.ROOT, "%,.0f MiB", bytes / 1048576.0);
    }

    private static String bytes(long bytes) {
        if (bytes < 0) {
            return "n/a";
        }
        return bytes >= 10 * 1048576L ? String.format(Locale.ROOT, "%,.0f MiB", bytes / 1048576.0)
                : String.format(Locale.ROOT, "%,.1f MiB", bytes / 1048576.0);
    }

    private static void deleteTree(Path root) {
        if (!Files.exists(root)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(root)) {
            paths.sorted(Comparator.reverseOrder()).forEach(path -> {
                try {
                    Files.deleteIfExists(path);
                } catch (IOException ignored) {
                    // A temp file left behind is harmless.
                }
            });
        } catch (IOException ignored) {
            // As above.
        }
    }
}
