package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.ToDoubleFunction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.SpringVersion;

/**
 * The mirror's benchmark (issue 2): what dual-writing costs the application, and what the mirror
 * sustains, with MariaDB as the source and PostgreSQL as the target.
 *
 * <ol>
 *   <li><b>Latency.</b> Application threads run single-row update transactions through Spring's
 *       {@code TransactionTemplate}, recording the key with the mirror's {@code ChangeRecorder}, and time
 *       the whole call. Modes OFF (no mirror, no record), ASYNC and SYNC run interleaved, in rounds whose
 *       mode order rotates, so slow drifts of a shared machine fall on every mode alike; figures are the
 *       medians across rounds. During ASYNC runs the commit-to-apply lag of every key is collected from
 *       {@code ChangesApplied} events.</li>
 *   <li><b>Throughput.</b> A backlog of changed keys is handed to a fresh ASYNC (then OUTBOX) mirror at
 *       once and timed until drained.</li>
 *   <li><b>Catch-up.</b> Writers on hot keys through a target outage ({@link OutageRun}); the time from the
 *       target's return until drained, ASYNC against OUTBOX.</li>
 * </ol>
 *
 * <p>Everything runs in a scratch database ({@code dw_bench_<random>}) on MariaDB and a scratch schema
 * of the same name on PostgreSQL, both dropped at the end, also after a failure or Ctrl-C. The report
 * goes to stdout, and as Markdown to the file given with {@code --markdown}. Run
 * {@code samples/bench.sh --help} for the options.
 */
public final class MirrorBenchmark {

    private static final double ASYNC_P50_LIMIT = 1.10;
    private static final double ASYNC_P99_LIMIT = 1.20;
    private static final double MIN_ROWS_PER_SECOND = 5_000;
    private static final Duration MAX_LAG_P99 = Duration.ofSeconds(1);
    /** Issue 19 item 4: OUTBOX catches up within twice ASYNC's time after the same outage. */
    private static final double MAX_OUTBOX_CATCH_UP_RATIO = 2.0;
    /** Cores used by the rest of the machine above which a latency comparison is marked noisy. */
    private static final double NOISY_NEIGHBOURS = 0.5;

    private final BenchOptions options;
    private final CpuMeter cpu = new CpuMeter();
    private final Report report = new Report();

    private MirrorBenchmark(BenchOptions options) {
        this.options = options;
    }

    /**
     * Runs the benchmark.
     *
     * @param args see {@link BenchOptions#USAGE}
     */
    public static void main(String[] args) {
        if (Arrays.asList(args).contains("--help")) {
            System.out.print(BenchOptions.USAGE);
            return;
        }
        BenchOptions options;
        try {
            options = BenchOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("bench: " + e.getMessage());
            System.err.print(BenchOptions.USAGE);
            System.exit(2);
            return;
        }
        quietLogging();
        try {
            new MirrorBenchmark(options).run();
        } catch (Exception e) {
            System.err.println("bench: failed: " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    /**
     * Keeps the report readable: without a configuration file, logback prints every DEBUG line of the
     * pools and of Spring. Logback is only a runtime dependency here, hence the reflection.
     */
    static void quietLogging() {
        if (System.getProperty("logback.configurationFile") != null) {
            return;
        }
        Logger root = LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME);
        try {
            Class<?> level = Class.forName("ch.qos.logback.classic.Level");
            root.getClass().getMethod("setLevel", level).invoke(root, level.getField("WARN").get(null));
        } catch (ReflectiveOperationException | RuntimeException notLogback) {
            // Another logging backend: it has its own configuration.
        }
    }

    private void run() throws Exception {
        String loadBefore = loadAverage();
        Instant startedAt = Instant.now();
        long started = System.nanoTime();
        Store sourceStore = options.reverse() ? Store.POSTGRESQL : Store.MARIADB;
        Store targetStore = options.reverse() ? Store.MARIADB : Store.POSTGRESQL;
        String name = "dw_bench_" + randomSuffix();
        List<BenchDatabase> scratch = new CopyOnWriteArrayList<>();
        Thread cleanup = new Thread(() -> {
            System.err.println("bench: stopped early; dropping the scratch database and schema " + name
                    + " (errors of the interrupted run may follow)");
            closeAll(scratch);
        }, "bench-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        try {
            progress("bench: %s; scratch database/schema %s on %s (source) and %s (target)", options.describe(),
                    BenchDatabase.SCRATCH_PREFIX + name,
                    sourceStore.label(), targetStore.label());
            BenchDatabase source = BenchDatabase.create(sourceStore, name);
            scratch.add(source);
            BenchDatabase target = BenchDatabase.create(targetStore, name);
            scratch.add(target);

            long loading = System.nanoTime();
            Timestamp loadedVersion = Timestamp.valueOf(LocalDateTime.now().minusDays(1));
            source.load(options.rows(), loadedVersion);
            target.load(options.rows(), loadedVersion);
            progress("bench: loaded %,d rows into both stores in %.1f s", options.rows(),
                    (System.nanoTime() - loading) / 1e9);

            int lanes = laneCount();
            // SYNC applies inside afterCommit, while the caller still holds its transaction's connection,
            // so each application thread may hold two source connections at once; the lanes need their own.
            HikariDataSource sourcePool = source.pool("bench-source", 2 * options.maxThreads() + lanes + 4, false);
            HikariDataSource targetPool = target.pool("bench-target", options.maxThreads() + lanes + 4, true);
            // ASYNC's lanes get source connections of their own, as the starter gives them, so that the source
            // server's CPU for the mirror can be told from the application's (see mirrorCpu below). SYNC applies on
            // the caller's thread and OUTBOX writes in the caller's transaction: they keep the application's pool.
            HikariDataSource mirrorSourcePool = source.pool("bench-mirror-source", lanes + 2, false);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder(BenchDatabase.TABLE).build()),
                    sourcePool, targetPool, false);
            LatencyRun.Mirrors mirrors = (mode, events) -> {
                Mirror mirror = Mirror.create(config(mode), tables, mode == MirrorMode.ASYNC ? mirrorSourcePool : sourcePool,
                        targetPool, events);
                mirror.start();
                return mirror;
            };

            // The target pool serves only the mirror: its backends' CPU is the mirror's on the target server; on the
            // source, the mirror pool's connections are known by the library's statement marker.
            ConnectionCpu mirrorCpu = target.store() == Store.POSTGRESQL
                    ? new ConnectionCpu(source, List.of(), List.of("/* dualwrite */"), target, List.of("bench-target"))
                    : null;
            List<LatencyRun.Result> latency = options.latency()
                    ? latencyPhase(new LatencyRun(sourcePool, options.rows(), mirrors, cpu, mirrorCpu)) : List.of();
            List<BurstRun.Result> bursts = options.throughput()
                    ? throughputPhase(new BurstRun(sourcePool, targetPool, options.rows(), mirrors, cpu)) : List.of();
            List<OutageRun.Result> outages = options.outageMillis() > 0 ? catchUpPhase(new OutageRun(sourcePool, target,
                    options.maxThreads(), Duration.ofMillis(options.outageMillis()), this::config)) : List.of();

            environment(source, target, sourcePool.getJdbcUrl(), targetPool.getJdbcUrl(), startedAt, started,
                    loadBefore, loadAverage());
            latencyReport(latency);
            throughputReport(bursts);
            catchUpReport(outages);
            verdicts(latency, bursts, outages);
            details(latency);

            String text = report.toText();
            System.out.print(text);
            if (options.markdown() != null) {
                Files.writeString(options.markdown(), "\n### MirrorBenchmark run " + startedAt + "\n"
                        + report.toMarkdown(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
                progress("bench: report appended to %s", options.markdown());
            }
        } finally {
            closeAll(scratch);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException shuttingDown) {
                // The hook is running or has run; it closes the same, idempotent, resources.
            }
        }
    }

    private MirrorConfig config(MirrorMode mode) {
        MirrorConfig.Builder builder = MirrorConfig.builder().mode(mode).createOutboxTable(mode == MirrorMode.OUTBOX);
        if (options.lanes() != null) {
            builder.lanes(options.lanes());
        }
        if (options.batchSize() != null) {
            builder.batchSize(options.batchSize());
        }
        if (options.lingerMillis() != null) {
            builder.batchLinger(Duration.ofMillis(options.lingerMillis()));
        }
        return builder.build();
    }

    private int laneCount() {
        return options.lanes() != null ? options.lanes() : MirrorConfig.defaults().lanes();
    }

    private List<LatencyRun.Result> latencyPhase(LatencyRun runs) throws SQLException, InterruptedException {
        Duration warmup = Duration.ofSeconds(options.warmupSeconds());
        Duration measure = Duration.ofSeconds(options.seconds());
        if (options.warmupSeconds() > 0) {
            // The first runs would otherwise also pay for class loading and the JIT.
            for (Mode mode : options.modes()) {
                progress("bench: JIT warm-up, %s, %d threads", mode, options.maxThreads());
                runs.run(mode, options.maxThreads(), 0, Duration.ZERO, warmup.multipliedBy(2));
            }
        }
        List<LatencyRun.Result> results = new ArrayList<>();
        int total = options.rounds() * options.threads().size() * options.modes().size();
        for (int round = 1; round <= options.rounds(); round++) {
            for (int threads : options.threads()) {
                for (Mode mode : rotated(options.modes(), round - 1)) {
                    LatencyRun.Result r = runs.run(mode, threads, round, warmup, measure);
                    results.add(r);
                    progress("[%2d/%d] round %d, %d threads, %-6s %,8.0f tx/s  p50 %6s us  p99 %6s us  hand-off"
                            + " p50 %5s us  cpu busy %s steal %s%s", results.size(), total, round, threads, mode,
                            r.perSecond(), Report.micros(r.calls().percentile(50)),
                            Report.micros(r.calls().percentile(99)), Report.micros(r.handoffs().percentile(50)),
                            Report.cores(r.cpu().machineBusy()), Report.cores(r.cpu().steal()),
                            r.errors() > 0 ? "  ERRORS " + r.errors() + ": " + r.firstError() : "");
                }
            }
        }
        return results;
    }

    private List<BurstRun.Result> throughputPhase(BurstRun bursts) throws SQLException, InterruptedException {
        List<BurstRun.Result> results = new ArrayList<>();
        List<MirrorMode> modes = options.outboxBurst() ? List.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)
                : List.of(MirrorMode.ASYNC);
        long seed = 7;
        for (MirrorMode mode : modes) {
            BurstRun.Result r = bursts.run(mode, options.burstKeys(), seed++);
            results.add(r);
            progress("bench: %s burst of %,d keys: hand-off %.0f ms, drained after %.2f s: %,.0f rows/s end to end,"
                    + " %,.0f rows/s after the hand-off; %,d of %,d rows on the target", mode, r.keys(),
                    r.handoffNanos() / 1e6, r.totalNanos() / 1e9, r.endToEndRate(), r.afterHandoffRate(),
                    r.onTarget(), r.keys());
        }
        return results;
    }

    private List<OutageRun.Result> catchUpPhase(OutageRun runs) throws Exception {
        List<OutageRun.Result> results = new ArrayList<>();
        for (int round = 1; round <= options.rounds(); round++) {
            for (MirrorMode mode : rotated(List.of(MirrorMode.ASYNC, MirrorMode.OUTBOX), round - 1)) {
                OutageRun.Result r = runs.run(mode, round);
                results.add(r);
                progress("bench: catch-up round %d, %-6s %,d writes (%d failed), backlog %,d, caught up %.2f s after"
                        + " the target's return with %,d applies; %d hot keys differ", round, mode, r.writes(),
                        r.errors(), r.backlog(), r.catchUpNanos() / 1e9, r.appliesAfter(), r.differences());
            }
        }
        return results;
    }

    static <T> List<T> rotated(List<T> list, int by) {
        List<T> result = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            result.add(list.get((i + by) % list.size()));
        }
        return result;
    }

    // ---------------------------------------------------------------------------------------------------
    // Report sections

    private void environment(BenchDatabase source, BenchDatabase target, String sourceUrl, String targetUrl,
            Instant startedAt, long started, String loadBefore, String loadAfter) throws SQLException {
        report.heading("Environment");
        Report.Table table = new Report.Table("item", "value")
                .row("started", startedAt)
                .row("duration", String.format(Locale.ROOT, "%.0f s", (System.nanoTime() - started) / 1e9))
                .row("settings", options.describe())
                .row("cpu", Runtime.getRuntime().availableProcessors() + " x " + firstLine("/proc/cpuinfo",
                        "model name"))
                .row("memory", firstLine("/proc/meminfo", "MemTotal"))
                .row("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                        + System.getProperty("os.arch"))
                .row("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"))
                .row("source", source.versions())
                .row("source durability", source.durability())
                .row("source pool url", sourceUrl)
                .row("target", target.versions())
                .row("target durability", target.durability())
                .row("target pool url", targetUrl)
                .row("libraries", "HikariCP " + version(HikariDataSource.class) + ", Spring " + SpringVersion.getVersion()
                        + ", dualwrite " + version(Mirror.class))
                .row("mirror", "lanes " + laneCount() + ", linger " + config(MirrorMode.ASYNC).batchLinger().toMillis()
                        + " ms, batch size " + config(MirrorMode.ASYNC).batchSize()
                        + ", queue capacity " + MirrorConfig.defaults().queueCapacity())
                .row("load average before", loadBefore)
                .row("load average after", loadAfter);
        report.table(table);
    }

    private void latencyReport(List<LatencyRun.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        report.heading("Application latency: medians across " + options.rounds() + " rounds (us)");
        report.text("Whole call = transaction (begin, UPDATE, commit) + dualwrite's after-commit dispatch on the"
                + " application thread. Ratios compare medians; 'round ratios' is the range of the per-round ratios.");
        Report.Table table = new Report.Table("threads", "mode", "tx/s", "p50", "p99", "p50 / OFF", "p99 / OFF",
                "round ratios p50", "round ratios p99", "hand-off p50", "hand-off p99", "DESIGN.md p50 / p99");
        for (int threads : options.threads()) {
            for (Mode mode : options.modes()) {
                List<LatencyRun.Result> runs = select(results, threads, mode);
                table.row(threads, mode, Report.count(median(runs, LatencyRun.Result::perSecond)),
                        Report.micros(median(runs, r -> r.calls().percentile(50))),
                        Report.micros(median(runs, r -> r.calls().percentile(99))),
                        Report.ratio(ratioToOff(results, threads, mode, 50)),
                        Report.ratio(ratioToOff(results, threads, mode, 99)),
                        roundRatios(results, threads, mode, 50), roundRatios(results, threads, mode, 99),
                        Report.micros(median(runs, r -> r.handoffs().percentile(50))),
                        Report.micros(median(runs, r -> r.handoffs().percentile(99))),
                        designBaseline(threads, mode));
            }
        }
        report.table(table);

        report.heading("CPU during the measured windows: medians across rounds (cores of "
                + Runtime.getRuntime().availableProcessors() + ")");
        report.text("app = application threads; dualwrite = lane/relay threads; jvm = this whole JVM (app, dualwrite,"
                + " JIT, GC, pools); mariadbd/postgres = the servers (all their clients); other = the rest of the"
                + " machine. steal = time the hypervisor gave to other guests.");
        Report.Table cpuTable = new Report.Table("threads", "mode", "busy", "steal", "app", "dualwrite", "jvm",
                "mariadbd", "postgres", "other", "commit p50 us");
        for (int threads : options.threads()) {
            for (Mode mode : options.modes()) {
                List<LatencyRun.Result> runs = select(results, threads, mode);
                cpuTable.row(threads, mode, Report.cores(median(runs, r -> r.cpu().machineBusy())),
                        Report.cores(median(runs, r -> r.cpu().steal())),
                        Report.cores(median(runs, r -> r.cpu().appThreads())),
                        Report.cores(median(runs, r -> r.cpu().laneThreads())),
                        Report.cores(median(runs, r -> r.cpu().jvm())),
                        Report.cores(median(runs, r -> r.cpu().mariadb())),
                        Report.cores(median(runs, r -> r.cpu().postgres())),
                        Report.cores(median(runs, r -> r.cpu().others())),
                        Report.micros(median(runs, r -> r.commits().percentile(50))));
            }
        }
        report.table(cpuTable);

        perAppliedRow(results);

        report.heading("Commit-to-apply lag (ms), from ChangesApplied.lags()");
        Report.Table lags = new Report.Table("threads", "mode", "round", "keys", "p50", "p99", "max");
        for (int threads : options.threads()) {
            for (Mode mode : options.modes()) {
                if (mode == Mode.OFF) {
                    continue;
                }
                List<LatencyRun.Result> runs = select(results, threads, mode);
                for (LatencyRun.Result r : runs) {
                    LongSamples l = r.events().lags();
                    lags.row(threads, mode, r.round(), Report.count(l.size()), Report.millis(l.percentile(50)),
                            Report.millis(l.percentile(99)), Report.millis(l.max()));
                }
                lags.row(threads, mode, "median", "-", Report.millis(median(runs, r -> r.events().lags().percentile(50))),
                        Report.millis(median(runs, r -> r.events().lags().percentile(99))),
                        Report.millis(median(runs, r -> r.events().lags().max())));
            }
        }
        report.table(lags);
    }

    /**
     * The mirror's CPU per applied row: what issue 19 asks to halve. Lanes from the JVM's thread CPU; the target
     * pool's backends and the mirror source pool's server threads from {@link ConnectionCpu}.
     */
    private void perAppliedRow(List<LatencyRun.Result> results) {
        report.heading("Mirror CPU per applied row (us): medians across rounds");
        report.text("rows = the window's transactions (one changed key each; the mirror applies them all, coalescing"
                + " none here); lanes = dualwrite-* threads; target = the target server's backends serving the mirror's"
                + " pool; source = the source server's threads serving the mirror's own pool (known by the /* dualwrite */"
                + " marker; the first sighting of a connection is late by up to a poll, so slightly low); total = the"
                + " three; target all = the whole target server (background writer, WAL writer, autovacuum and other"
                + " clients too), for comparison.");
        Report.Table table = new Report.Table("threads", "mode", "rows/s", "keys/apply", "lanes", "source", "target",
                "total", "target all", "mirror cores");
        for (int threads : options.threads()) {
            for (Mode mode : options.modes()) {
                if (mode != Mode.ASYNC) {
                    continue;
                }
                List<LatencyRun.Result> runs = select(results, threads, mode);
                table.row(threads, mode, Report.count(median(runs, LatencyRun.Result::perSecond)),
                        Report.ratio(median(runs, r -> (double) r.events().applied() / Math.max(1, r.events().batches()))),
                        Report.ratio(median(runs, r -> r.cpu().laneThreads() / r.perSecond() * 1e6)),
                        Report.ratio(median(runs, r -> r.mirrorSource() / r.operations() * 1e6)),
                        Report.ratio(median(runs, r -> r.mirrorTarget() / r.operations() * 1e6)),
                        Report.ratio(median(runs, r -> mirrorSeconds(r) / r.operations() * 1e6)),
                        Report.ratio(median(runs, r -> r.cpu().postgres() / r.perSecond() * 1e6)),
                        Report.cores(median(runs, r -> mirrorSeconds(r) / r.seconds())));
            }
        }
        report.table(table);
    }

    private static double mirrorSeconds(LatencyRun.Result r) {
        return r.cpu().laneThreads() * r.seconds() + r.mirrorSource() + r.mirrorTarget();
    }

    private void throughputReport(List<BurstRun.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        report.heading("Mirror throughput: a backlog handed over at once");
        report.text("hand-off = the recordAll call (ASYNC: queueing; OUTBOX: writing the outbox rows in autocommit);"
                + " end to end = keys / (hand-off start .. awaitDrained); after hand-off = keys / (hand-off end .."
                + " awaitDrained), the relay's own rate in OUTBOX.");
        Report.Table table = new Report.Table("mode", "keys", "hand-off ms", "drained s", "rows/s end to end",
                "rows/s after hand-off", "lag p50 ms", "lag p99 ms", "on target", "keys/apply", "failed", "busy", "jvm",
                "mariadbd", "postgres");
        for (BurstRun.Result r : results) {
            table.row(r.mode(), Report.count(r.keys()), Report.millis(r.handoffNanos()),
                    String.format(Locale.ROOT, "%.2f", r.totalNanos() / 1e9), Report.count(r.endToEndRate()),
                    Report.count(r.afterHandoffRate()), Report.millis(r.events().lags().percentile(50)),
                    Report.millis(r.events().lags().percentile(99)), Report.count(r.onTarget()),
                    Report.ratio((double) r.events().applied() / Math.max(1, r.events().batches())),
                    Report.count(r.events().failed()), Report.cores(r.cpu().machineBusy()), Report.cores(r.cpu().jvm()),
                    Report.cores(r.cpu().mariadb()), Report.cores(r.cpu().postgres()));
        }
        report.table(table);
    }

    private void catchUpReport(List<OutageRun.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        report.heading("Catch-up after a target outage of " + options.outageMillis() + " ms: medians across "
                + options.rounds() + " rounds");
        report.text(options.maxThreads() + " writers update " + OutageRun.HOT_KEYS + " hot keys; the target's"
                + " connections are reset and new ones refused for the outage; the writers stop as it ends. backlog ="
                + " keys queued (ASYNC) or outbox rows (OUTBOX) at the target's return; caught up = from its return"
                + " until drained; applies = keys applied meanwhile; differ = hot keys that differ afterwards.");
        Report.Table table = new Report.Table("mode", "writes", "failed writes", "backlog", "caught up s", "applies",
                "differ", "rounds: caught up s");
        for (MirrorMode mode : List.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)) {
            List<OutageRun.Result> runs = results.stream().filter(r -> r.mode() == mode).toList();
            table.row(mode, Report.count(medianOf(runs, OutageRun.Result::writes)),
                    Report.count(runs.stream().mapToLong(OutageRun.Result::errors).sum()),
                    Report.count(medianOf(runs, OutageRun.Result::backlog)),
                    String.format(Locale.ROOT, "%.2f", medianOf(runs, OutageRun.Result::catchUpNanos) / 1e9),
                    Report.count(medianOf(runs, OutageRun.Result::appliesAfter)),
                    runs.stream().mapToLong(OutageRun.Result::differences).sum(),
                    String.join(" / ", runs.stream().map(r -> String.format(Locale.ROOT, "%.2f", r.catchUpNanos() / 1e9))
                            .toList()));
        }
        report.table(table);
    }

    private static double medianOf(List<OutageRun.Result> runs, java.util.function.ToLongFunction<OutageRun.Result> figure) {
        long[] values = runs.stream().mapToLong(figure).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2.0;
    }

    private void verdicts(List<LatencyRun.Result> latency, List<BurstRun.Result> bursts, List<OutageRun.Result> outages) {
        report.heading("Targets");
        report.text("'neighbours' is the CPU the rest of the machine used during the compared windows (median"
                + " across rounds, OFF / ASYNC); above " + Report.cores(NOISY_NEIGHBOURS) + " core the latency"
                + " comparison says more about the neighbours than about dualwrite, and the verdict is marked noisy."
                + (options.quick() ? " This was a --quick smoke run: its verdicts are not measurements." : ""));
        Report.Table table = new Report.Table("target", "measured", "limit", "verdict", "neighbours (cores)");
        if (!latency.isEmpty() && options.modes().contains(Mode.OFF) && options.modes().contains(Mode.ASYNC)) {
            for (int threads : options.threads()) {
                double p50 = ratioToOff(latency, threads, Mode.ASYNC, 50);
                double p99 = ratioToOff(latency, threads, Mode.ASYNC, 99);
                double offNoise = median(select(latency, threads, Mode.OFF), r -> r.cpu().others());
                double asyncNoise = median(select(latency, threads, Mode.ASYNC), r -> r.cpu().others());
                boolean noisy = offNoise > NOISY_NEIGHBOURS || asyncNoise > NOISY_NEIGHBOURS;
                String neighbours = Report.cores(offNoise) + " / " + Report.cores(asyncNoise);
                table.row("ASYNC p50 / OFF p50, " + threads + " threads", Report.ratio(p50),
                        "<= " + Report.ratio(ASYNC_P50_LIMIT), verdict(p50 <= ASYNC_P50_LIMIT, noisy), neighbours);
                table.row("ASYNC p99 / OFF p99, " + threads + " threads", Report.ratio(p99),
                        "<= " + Report.ratio(ASYNC_P99_LIMIT), verdict(p99 <= ASYNC_P99_LIMIT, noisy), neighbours);
            }
        }
        if (!latency.isEmpty() && options.modes().contains(Mode.ASYNC)) {
            int threads = options.maxThreads();
            List<LatencyRun.Result> runs = select(latency, threads, Mode.ASYNC);
            double lag = median(runs, r -> r.events().lags().percentile(99));
            table.row("ASYNC commit-to-apply lag p99, " + threads + " threads", Report.millis(lag) + " ms",
                    "< " + MAX_LAG_P99.toMillis() + " ms", verdict(lag < MAX_LAG_P99.toNanos(), false),
                    Report.cores(median(runs, r -> r.cpu().others())));
        }
        for (BurstRun.Result r : bursts) {
            boolean complete = r.onTarget() == r.keys();
            double rate = r.mode() == MirrorMode.OUTBOX ? r.afterHandoffRate() : r.endToEndRate();
            table.row(r.mode() + " throughput" + (r.mode() == MirrorMode.OUTBOX ? " (relay, after hand-off)"
                    : " (end to end)"), Report.count(rate) + " rows/s", ">= " + Report.count(MIN_ROWS_PER_SECOND)
                    + " rows/s", complete ? verdict(rate >= MIN_ROWS_PER_SECOND, false)
                    : "MISS (" + r.onTarget() + " of " + r.keys() + " rows reached the target)",
                    Report.cores(r.cpu().others()));
        }
        if (!outages.isEmpty()) {
            double async = medianOf(outages.stream().filter(r -> r.mode() == MirrorMode.ASYNC).toList(),
                    OutageRun.Result::catchUpNanos);
            double outbox = medianOf(outages.stream().filter(r -> r.mode() == MirrorMode.OUTBOX).toList(),
                    OutageRun.Result::catchUpNanos);
            boolean converged = outages.stream().allMatch(r -> r.differences() == 0 && r.errors() == 0);
            table.row("OUTBOX catch-up / ASYNC catch-up", Report.ratio(outbox / async), "<= "
                    + Report.ratio(MAX_OUTBOX_CATCH_UP_RATIO), converged ? verdict(outbox / async
                    <= MAX_OUTBOX_CATCH_UP_RATIO, false) : "MISS (hot keys differ or writes failed)", "");
        }
        report.table(table);
    }

    private void details(List<LatencyRun.Result> results) {
        if (results.isEmpty()) {
            return;
        }
        report.heading("Every latency run (us), in the order run");
        Report.Table table = new Report.Table("round", "threads", "mode", "tx/s", "p50", "p90", "p99", "p99.9", "max",
                "update p50", "update p99", "commit p50", "commit p99", "hand-off p50", "hand-off p99", "busy", "steal", "app", "dualwrite", "mariadbd",
                "postgres", "other", "applied", "keys/apply", "deferred", "drain ms", "errors");
        for (LatencyRun.Result r : results) {
            RunEvents e = r.events();
            table.row(r.round(), r.threads(), r.mode(), Report.count(r.perSecond()),
                    Report.micros(r.calls().percentile(50)), Report.micros(r.calls().percentile(90)),
                    Report.micros(r.calls().percentile(99)), Report.micros(r.calls().percentile(99.9)),
                    Report.micros(r.calls().max()), Report.micros(r.statements().percentile(50)),
                    Report.micros(r.statements().percentile(99)), Report.micros(r.commits().percentile(50)),
                    Report.micros(r.commits().percentile(99)),
                    Report.micros(r.handoffs().percentile(50)), Report.micros(r.handoffs().percentile(99)),
                    Report.cores(r.cpu().machineBusy()), Report.cores(r.cpu().steal()),
                    Report.cores(r.cpu().appThreads()), Report.cores(r.cpu().laneThreads()),
                    Report.cores(r.cpu().mariadb()), Report.cores(r.cpu().postgres()), Report.cores(r.cpu().others()),
                    e == null ? "-" : Report.count(e.applied()),
                    e == null || e.batches() == 0 ? "-" : Report.ratio((double) e.applied() / e.batches()),
                    e == null ? "-" : Report.count(e.deferred()),
                    e == null ? "-" : Report.millis(r.drainNanos()), Report.count(r.errors()));
        }
        report.table(table);
    }

    // ---------------------------------------------------------------------------------------------------
    // Figures

    private static List<LatencyRun.Result> select(List<LatencyRun.Result> results, int threads, Mode mode) {
        return results.stream().filter(r -> r.threads() == threads && r.mode() == mode).toList();
    }

    private static double median(List<LatencyRun.Result> runs, ToDoubleFunction<LatencyRun.Result> figure) {
        double[] values = runs.stream().mapToDouble(figure).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (values.length == 0) {
            return Double.NaN;
        }
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private static double ratioToOff(List<LatencyRun.Result> results, int threads, Mode mode, double percentile) {
        double off = median(select(results, threads, Mode.OFF), r -> r.calls().percentile(percentile));
        double measured = median(select(results, threads, mode), r -> r.calls().percentile(percentile));
        return measured / off;
    }

    private static String roundRatios(List<LatencyRun.Result> results, int threads, Mode mode, double percentile) {
        double min = Double.POSITIVE_INFINITY;
        double max = Double.NEGATIVE_INFINITY;
        for (LatencyRun.Result r : select(results, threads, mode)) {
            for (LatencyRun.Result off : select(results, threads, Mode.OFF)) {
                if (off.round() == r.round()) {
                    double ratio = (double) r.calls().percentile(percentile) / off.calls().percentile(percentile);
                    min = Math.min(min, ratio);
                    max = Math.max(max, ratio);
                }
            }
        }
        return min > max ? "n/a" : Report.ratio(min) + ".." + Report.ratio(max);
    }

    private static String designBaseline(int threads, Mode mode) {
        if (threads != 1) {
            return "-";
        }
        return switch (mode) {
            case OFF -> "213 / 434";
            case SYNC -> "584 / 1,214";
            default -> "-";
        };
    }

    static String verdict(boolean pass, boolean noisy) {
        return (pass ? "PASS" : "MISS") + (noisy ? " (noisy)" : "");
    }

    // ---------------------------------------------------------------------------------------------------
    // Plumbing

    static void closeAll(List<BenchDatabase> scratch) {
        for (int i = scratch.size() - 1; i >= 0; i--) {
            scratch.get(i).close();
        }
    }

    static void progress(String format, Object... args) {
        System.out.println(String.format(Locale.ROOT, format, args));
        System.out.flush();
    }

    static String randomSuffix() {
        SecureRandom random = new SecureRandom();
        String alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        StringBuilder suffix = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            suffix.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return suffix.toString();
    }

    static String loadAverage() {
        try {
            String[] fields = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return fields[0] + " " + fields[1] + " " + fields[2] + " (1, 5, 15 min)";
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static String firstLine(String file, String key) {
        try (var lines = Files.lines(Path.of(file))) {
            return lines.filter(l -> l.startsWith(key)).map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst()
                    .orElse("n/a");
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }

    static String version(Class<?> type) {
        String version = type.getPackage().getImplementationVersion();
        if (version != null) {
            return version;
        }
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI()).getFileName().toString();
        } catch (Exception e) {
            return "n/a";
        }
    }
}
