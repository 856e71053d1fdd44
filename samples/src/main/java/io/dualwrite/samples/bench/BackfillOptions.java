package io.dualwrite.samples.bench;

import io.dualwrite.backfill.BackfillConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The backfill benchmark's command line. {@code --quick} only changes defaults, so {@code --quick --rounds 2}
 * means quick settings with two rounds.
 */
record BackfillOptions(int rows, int rounds, List<Integer> threads, List<Store> targets, int plainChunk,
        boolean pgloader, boolean secondPass, boolean memory, String probeHeap, boolean ablation, boolean versionGuard,
        boolean quick, Path markdown, int prefillEvery, boolean sharded, boolean baselines, boolean readAhead) {

    static final String USAGE = """
            usage: BackfillBenchmark [options]
              --rows N           rows in the source t_order (default 1000000; quick 100000)
              --rounds N         rounds of interleaved variants (default 3; quick 1)
              --threads A,B      thread counts of the plain copy and of the backfill (default 1,2)
              --targets T,...    POSTGRESQL and/or MARIADB (default both; the source is always MariaDB)
              --plain-chunk N    rows per read and batch of the plain JDBC copy (default 10000)
              --skip-pgloader    no pgloader runs
              --skip-second-pass no second backfill over the copied table
              --skip-memory      no backfill in a separate small-heap JVM
              --probe-heap SIZE  -Xmx of that JVM (default 256m)
              --ablation         also run the plain copy with the backfill's steps added one at a time
                                 (share lock, savepoint + checkpoint, library row path), to attribute the gap
              --version-guard    backfill with versionGuard(true), and the plain copy with the guarded upsert
                                 (default: BackfillConfig's default, and the matching statement)
              --prefill-every N  before each backfill, put every Nth source row (id divisible by N) into the target
                                 table, as a mirror running during the backfill would have (default 0: none);
                                 into MariaDB also a LOAD DATA REPLACE baseline into the table prefilled alike
              --sharded          also backfill into PostgreSQL split by ShardingSphere-JDBC into 2 databases x 4
                                 tables by user_id, beside the single table, in the same rounds (needs POSTGRESQL)
              --skip-baselines   no plain JDBC and COPY copies (only the backfills; pgloader by --skip-pgloader)
              --no-read-ahead    backfill with readAhead(false): each chunk read only after the one before committed
              --quick            100k rows, one round: a smoke run
              --markdown FILE    also append the report as Markdown to FILE
            Servers: DUALWRITE_IT_MARIADB_URL / _USER / _PASSWORD (default jdbc:mariadb://127.0.0.1:3306/test, root)
                     DUALWRITE_IT_POSTGRES_URL / _USER / _PASSWORD (default jdbc:postgresql://127.0.0.1:5432/test, postgres)
            pgloader reaches the same servers through URLs built from those variables.
            """;

    /**
     * Parses the arguments.
     *
     * @throws IllegalArgumentException naming the bad argument
     */
    static BackfillOptions parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        List<String> flags = new ArrayList<>();
        BenchOptions.split(args, List.of("--rows", "--rounds", "--threads", "--targets", "--plain-chunk", "--probe-heap",
                "--markdown", "--prefill-every"), List.of("--skip-pgloader", "--skip-second-pass", "--skip-memory", "--ablation",
                                "--version-guard", "--quick", "--sharded", "--skip-baselines",
                "--no-read-ahead"), values, flags);
        boolean quick = flags.contains("--quick");
        List<Integer> threads = Arrays.stream(values.getOrDefault("--threads", "1,2").split(","))
                .map(t -> BenchOptions.positive("--threads", t.trim())).distinct().toList();
        List<Store> targets = Arrays.stream(values.getOrDefault("--targets", "POSTGRESQL,MARIADB").split(","))
                .map(t -> target(t.trim())).distinct().toList();
        String heap = values.getOrDefault("--probe-heap", "256m");
        if (!heap.matches("[0-9]+[kKmMgG]?")) {
            throw new IllegalArgumentException("--probe-heap: '" + heap + "' is not a heap size such as 256m");
        }
        return new BackfillOptions(
                BenchOptions.positive("--rows", values.getOrDefault("--rows", quick ? "100000" : "1000000")),
                BenchOptions.positive("--rounds", values.getOrDefault("--rounds", quick ? "1" : "3")),
                threads, targets,
                BenchOptions.positive("--plain-chunk", values.getOrDefault("--plain-chunk", "10000")),
                !flags.contains("--skip-pgloader") && targets.contains(Store.POSTGRESQL),
                !flags.contains("--skip-second-pass"), !flags.contains("--skip-memory"), heap,
                flags.contains("--ablation"),
                flags.contains("--version-guard") || BackfillConfig.defaults().versionGuard(), quick,
                values.containsKey("--markdown") ? Path.of(values.get("--markdown")) : null,
                values.containsKey("--prefill-every") ? BenchOptions.positive("--prefill-every",
                        values.get("--prefill-every")) : 0,
                sharded(flags.contains("--sharded"), targets), !flags.contains("--skip-baselines"),
                !flags.contains("--no-read-ahead"));
    }

    private static boolean sharded(boolean asked, List<Store> targets) {
        if (asked && !targets.contains(Store.POSTGRESQL)) {
            throw new IllegalArgumentException("--sharded: the sharded target is PostgreSQL; add it to --targets");
        }
        return asked;
    }

    String describe() {
        return "rows=" + rows + " rounds=" + rounds + " threads=" + threads + " targets=" + targets + " plain-chunk="
                + plainChunk + " pgloader=" + pgloader + " second-pass=" + secondPass + " memory="
                + (memory ? "-Xmx" + probeHeap : "off") + " version-guard=" + versionGuard
                + (ablation ? " ablation" : "") + (prefillEvery > 0 ? " prefill-every=" + prefillEvery : "")
                + (sharded ? " sharded=2x4" : "") + (baselines ? "" : " baselines=off")
                + (readAhead ? "" : " read-ahead=off")
                + (quick ? " (quick)" : "");
    }

    private static Store target(String name) {
        try {
            return Store.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--targets: '" + name + "' is not one of POSTGRESQL, MARIADB");
        }
    }
}
