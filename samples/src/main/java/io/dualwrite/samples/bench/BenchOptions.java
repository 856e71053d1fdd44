package io.dualwrite.samples.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The harness's command line. {@code --quick} only changes defaults, so {@code --quick --seconds 5}
 * means quick settings with 5-second windows.
 */
record BenchOptions(int seconds, int warmupSeconds, int rounds, int rows, int burstKeys, List<Integer> threads,
        List<Mode> modes, Integer lanes, Integer lingerMillis, Integer batchSize, boolean latency, boolean throughput,
        boolean outboxBurst, int outageMillis, boolean reverse, boolean quick, Path markdown) {

    static final String USAGE = """
            usage: MirrorBenchmark [options]
              --seconds N        measured seconds per latency run (default 10; quick 2)
              --warmup N         warm-up seconds before each run's window (default 3; quick 1)
              --rounds N         rounds of interleaved modes per thread count (default 3; quick 1)
              --rows N           rows in t_order (default 100000; quick 5000)
              --burst N          keys handed to the mirror at once for throughput (default 50000; quick 2000)
              --threads A,B      application thread counts (default 1,8)
              --modes M,...      latency modes among OFF, ASYNC, SYNC, OUTBOX (default OFF,ASYNC,SYNC)
              --lanes N          mirror lanes (default: the library's default)
              --linger MS        mirror batch linger in milliseconds (default: the library's default)
              --batch N          mirror batch size, keys per apply at most (default: the library's default)
              --skip-latency     no latency runs
              --skip-throughput  no throughput bursts
              --no-outbox        throughput burst in ASYNC only
              --outage MS        catch-up runs: the target cut for MS ms under the largest thread count's writers
                                 on 200 hot keys, ASYNC and OUTBOX per round (default 8500; quick 2000; 0: none)
              --reverse          PostgreSQL is the source and MariaDB the target
              --quick            tiny settings for a smoke run
              --markdown FILE    also append the report as Markdown to FILE
            Servers: DUALWRITE_IT_MARIADB_URL / _USER / _PASSWORD (default jdbc:mariadb://127.0.0.1:3306/test, root)
                     DUALWRITE_IT_POSTGRES_URL / _USER / _PASSWORD (default jdbc:postgresql://127.0.0.1:5432/test, postgres)
            """;

    /**
     * Parses the arguments.
     *
     * @throws IllegalArgumentException naming the bad argument
     */
    static BenchOptions parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        List<String> flags = new ArrayList<>();
        split(args, List.of("--seconds", "--warmup", "--rounds", "--rows", "--burst", "--threads", "--modes", "--lanes",
                "--linger", "--batch", "--outage", "--markdown"), List.of("--skip-latency", "--skip-throughput", "--no-outbox", "--reverse", "--quick"),
                values, flags);
        boolean quick = flags.contains("--quick");
        List<Mode> modes = Arrays.stream(values.getOrDefault("--modes", "OFF,ASYNC,SYNC").split(","))
                .map(m -> Mode.valueOf(m.trim().toUpperCase(Locale.ROOT))).toList();
        List<Integer> threads = Arrays.stream(values.getOrDefault("--threads", "1,8").split(","))
                .map(t -> positive("--threads", t.trim())).toList();
        return new BenchOptions(
                positive("--seconds", values.getOrDefault("--seconds", quick ? "2" : "10")),
                nonNegative("--warmup", values.getOrDefault("--warmup", quick ? "1" : "3")),
                positive("--rounds", values.getOrDefault("--rounds", quick ? "1" : "3")),
                positive("--rows", values.getOrDefault("--rows", quick ? "5000" : "100000")),
                positive("--burst", values.getOrDefault("--burst", quick ? "2000" : "50000")),
                threads, modes,
                values.containsKey("--lanes") ? positive("--lanes", values.get("--lanes")) : null,
                values.containsKey("--linger") ? nonNegative("--linger", values.get("--linger")) : null,
                values.containsKey("--batch") ? positive("--batch", values.get("--batch")) : null,
                !flags.contains("--skip-latency"), !flags.contains("--skip-throughput"),
                !flags.contains("--no-outbox"),
                nonNegative("--outage", values.getOrDefault("--outage", quick ? "2000" : "8500")),
                flags.contains("--reverse"), quick,
                values.containsKey("--markdown") ? Path.of(values.get("--markdown")) : null);
    }

    int maxThreads() {
        return threads.stream().mapToInt(Integer::intValue).max().orElse(1);
    }

    String describe() {
        return "seconds=" + seconds + " warmup=" + warmupSeconds + " rounds=" + rounds + " rows=" + rows + " burst="
                + burstKeys + " threads=" + threads + " modes=" + modes + " lanes="
                + (lanes == null ? "default" : lanes) + " linger=" + (lingerMillis == null ? "default" : lingerMillis + " ms")
                + " batch=" + (batchSize == null ? "default" : batchSize) + " outage=" + outageMillis + " ms"
                + (quick ? " (quick)" : "");
    }

    /**
     * Splits a harness's command line into options with a value and flags.
     *
     * @throws IllegalArgumentException for an unknown argument or an option without its value
     */
    static void split(String[] args, List<String> withValue, List<String> known, Map<String, String> values,
            List<String> flags) {
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (withValue.contains(arg)) {
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(arg + " needs a value");
                }
                values.put(arg, args[++i]);
            } else if (known.contains(arg)) {
                flags.add(arg);
            } else {
                throw new IllegalArgumentException("unknown argument '" + arg + "'");
            }
        }
    }

    static int positive(String option, String value) {
        int parsed = nonNegative(option, value);
        if (parsed == 0) {
            throw new IllegalArgumentException(option + ": must be positive, was 0");
        }
        return parsed;
    }

    static int nonNegative(String option, String value) {
        try {
            int parsed = Integer.parseInt(value.replace("_", "").replace(",", ""));
            if (parsed < 0) {
                throw new IllegalArgumentException(option + ": must not be negative, was " + value);
            }
            return parsed;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(option + ": '" + value + "' is not a whole number");
        }
    }
}
