package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.PropertiesControlStore;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingContext;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingStrategy;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * What the routing {@code DataSource} costs per request: every connection it hands out is admitted by
 * the {@link MigrationController} (one lock, an in-flight set, the route of the key) and released on
 * close. Measured on the cheapest request there is, taking a pooled connection and giving it back, so that
 * the overhead is not hidden behind a database round trip; embedded in-memory H2 on both sides.
 *
 * <p>Modes, interleaved in every round (the order alternates): {@code PLAIN} (the pool itself),
 * {@code DUAL_WRITE} (routing data source, every key to the source) and {@code RAMP} (RAMP 50 by MODULO
 * over random keys, so half the requests go to each pool). Both routed modes bind the key with
 * {@link RoutingContext#run}, as {@code @RoutingKey} does. Figures: requests per second over all threads and
 * the per-request p50/p99, medians across rounds.
 *
 * <p>Options: {@code --threads A,B} (1,8), {@code --seconds S} per mode and round (3), {@code --rounds R} (3),
 * {@code --markdown FILE} to append the report.
 */
public final class RoutingBenchmark {

    private enum Mode { PLAIN, DUAL_WRITE, RAMP }

    private List<Integer> threads = List.of(1, 8);
    private int seconds = 3;
    private int rounds = 3;
    private Path markdown;

    private RoutingBenchmark() {
    }

    /**
     * Runs the benchmark.
     *
     * @param args see the class comment
     * @throws Exception if the embedded stores cannot start
     */
    public static void main(String[] args) throws Exception {
        RoutingBenchmark benchmark = new RoutingBenchmark();
        benchmark.parse(args);
        benchmark.run();
    }

    private void parse(String[] args) {
        Map<String, String> values = new HashMap<>();
        BenchOptions.split(args, List.of("--threads", "--seconds", "--rounds", "--markdown"), List.of(), values,
                new ArrayList<>());
        if (values.containsKey("--threads")) {
            threads = Arrays.stream(values.get("--threads").split(","))
                    .map(t -> BenchOptions.positive("--threads", t.trim())).toList();
        }
        seconds = BenchOptions.positive("--seconds", values.getOrDefault("--seconds", String.valueOf(seconds)));
        rounds = BenchOptions.positive("--rounds", values.getOrDefault("--rounds", String.valueOf(rounds)));
        markdown = values.containsKey("--markdown") ? Path.of(values.get("--markdown")) : null;
    }

    private void run() throws Exception {
        int poolSize = threads.stream().mapToInt(Integer::intValue).max().orElse(1) + 2;
        try (HikariDataSource source = pool("source", poolSize); HikariDataSource target = pool("target", poolSize)) {
            Map<Mode, List<Result>> results = new HashMap<>();
            StringBuilder report = new StringBuilder();
            report.append(String.format(Locale.ROOT, "%nRouting data source, per request = getConnection + close on"
                    + " embedded H2; %d s per mode and round, %d rounds, medians across rounds%n", seconds, rounds));
            report.append("| threads | mode | requests/s | p50 ns | p99 ns | requests/s vs PLAIN | p50 vs PLAIN |\n");
            report.append("|---:|---|---:|---:|---:|---:|---:|\n");
            for (int threadCount : threads) {
                for (int round = 1; round <= rounds; round++) {
                    List<Mode> order = new ArrayList<>(List.of(Mode.values()));
                    if (round % 2 == 0) {
                        java.util.Collections.reverse(order);
                    }
                    for (Mode mode : order) {
                        Result result = measure(mode, threadCount, source, target);
                        results.computeIfAbsent(mode, m -> new ArrayList<>()).add(result);
                        System.out.printf(Locale.ROOT, "routing-bench: round %d, %d threads, %-10s %,12.0f req/s"
                                + "  p50 %,6d ns  p99 %,7d ns%n", round, threadCount, mode, result.perSecond,
                                result.p50, result.p99);
                    }
                }
                double plainRate = median(results.get(Mode.PLAIN), r -> r.perSecond);
                double plainP50 = median(results.get(Mode.PLAIN), r -> r.p50);
                for (Mode mode : Mode.values()) {
                    List<Result> runs = results.get(mode);
                    double rate = median(runs, r -> r.perSecond);
                    double p50 = median(runs, r -> r.p50);
                    report.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %,.0f | %,.0f | %.2f | %.2f |%n",
                            threadCount, mode, rate, p50, median(runs, r -> r.p99), rate / plainRate, p50 / plainP50));
                }
                results.clear();
            }
            System.out.print(report);
            if (markdown != null) {
                Files.writeString(markdown, report.toString(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                        StandardOpenOption.APPEND);
            }
        }
    }

    private Result measure(Mode mode, int threadCount, DataSource source, DataSource target) throws Exception {
        MigrationController controller = null;
        DataSource connections = source;
        if (mode != Mode.PLAIN) {
            RoutingRules rules = mode == Mode.RAMP
                    ? new RoutingRules(Phase.RAMP, 50, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE)
                    : RoutingRules.initial().withPhase(Phase.DUAL_WRITE);
            controller = MigrationController.builder(new PropertiesControlStore(rules)).instanceId("bench")
                    .pollInterval(Duration.ofSeconds(1)).build();
            controller.start();
            connections = new DualWriteRoutingDataSource(source, target, controller);
        }
        try {
            DataSource used = connections;
            boolean routed = mode != Mode.PLAIN;
            LongSamples[] samples = new LongSamples[threadCount];
            Thread[] workers = new Thread[threadCount];
            for (int i = 0; i < threadCount; i++) {
                int index = i;
                workers[i] = new Thread(() -> {
                    SplittableRandom random = new SplittableRandom(index);
                    samples[index] = LongSamples.timed(seconds, () -> {
                        long key = random.nextLong(1, 1_000_000);
                        if (routed) {
                            RoutingContext.run(key, () -> borrow(used));
                        } else {
                            borrow(used);
                        }
                    });
                }, "routing-bench-" + i);
            }
            for (Thread worker : workers) {
                worker.start();
            }
            for (Thread worker : workers) {
                worker.join();
            }
            LongSamples all = LongSamples.merge(Arrays.asList(samples));
            return new Result(all.size() / (double) seconds, all.percentile(50), all.percentile(99));
        } finally {
            if (controller != null) {
                controller.close();
            }
        }
    }

    private static void borrow(DataSource dataSource) {
        try (Connection connection = dataSource.getConnection()) {
            if (connection.isClosed()) {
                throw new IllegalStateException("the pool handed out a closed connection");
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static HikariDataSource pool(String name, int size) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("routing-bench-" + name);
        config.setJdbcUrl("jdbc:h2:mem:rbench_" + name + "_" + UUID.randomUUID().toString().replace("-", "")
                + ";DB_CLOSE_DELAY=-1");
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        return new HikariDataSource(config);
    }

    private static double median(List<Result> runs, java.util.function.ToDoubleFunction<Result> figure) {
        double[] values = runs.stream().mapToDouble(figure).sorted().toArray();
        int middle = values.length / 2;
        return values.length % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
    }

    private record Result(double perSecond, long p50, long p99) {
    }
}
