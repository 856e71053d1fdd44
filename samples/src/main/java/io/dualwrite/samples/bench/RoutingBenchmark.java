package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.JdbcControlStore;
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
 *
 * <p>{@code --moved-users N} measures instead the look-up of per-user routes (issue 22): a
 * {@link JdbcControlStore} on an embedded file H2 whose {@code dualwrite_user_route} holds N moved users (half to
 * each store), RAMP 50, and {@link MigrationController#route} timed per call. {@code WARM}: keys drawn from half
 * as many moved users as the route cache holds ({@code --cache C}, default 100,000), looked up once before timing
 * with as many never-moved ones, so every call is a cache hit. {@code COLD}: keys drawn from all N users, so nearly every call misses the cache and reads
 * the table (an embedded H2 query, no network: a real control store adds its round trip). {@code UNMOVED}: warm
 * keys of users never moved (a cached "no route").
 */
public final class RoutingBenchmark {

    private enum Mode { PLAIN, DUAL_WRITE, RAMP }

    private List<Integer> threads = List.of(1, 8);
    private int seconds = 3;
    private int rounds = 3;
    private Path markdown;
    private int movedUsers;
    private int cacheSize = 100_000;

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
        BenchOptions.split(args, List.of("--threads", "--seconds", "--rounds", "--markdown", "--moved-users", "--cache"),
                List.of(), values, new ArrayList<>());
        if (values.containsKey("--moved-users")) {
            movedUsers = BenchOptions.positive("--moved-users", values.get("--moved-users"));
        }
        cacheSize = BenchOptions.positive("--cache", values.getOrDefault("--cache", String.valueOf(cacheSize)));
        if (values.containsKey("--threads")) {
            threads = Arrays.stream(values.get("--threads").split(","))
                    .map(t -> BenchOptions.positive("--threads", t.trim())).toList();
        }
        seconds = BenchOptions.positive("--seconds", values.getOrDefault("--seconds", String.valueOf(seconds)));
        rounds = BenchOptions.positive("--rounds", values.getOrDefault("--rounds", String.valueOf(rounds)));
        markdown = values.containsKey("--markdown") ? Path.of(values.get("--markdown")) : null;
    }

    private void run() throws Exception {
        if (movedUsers > 0) {
            runMovedUsers();
            return;
        }
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

    private enum Lookup { WARM, COLD, UNMOVED }

    private void runMovedUsers() throws Exception {
        Path dir = Files.createTempDirectory("routing-bench-users");
        HikariConfig config = new HikariConfig();
        config.setPoolName("routing-bench-control");
        config.setJdbcUrl("jdbc:h2:file:" + dir.resolve("control") + ";DB_CLOSE_DELAY=-1");
        config.setMaximumPoolSize(threads.stream().mapToInt(Integer::intValue).max().orElse(1) + 2);
        try (HikariDataSource control = new HikariDataSource(config)) {
            RoutingRules rules = new RoutingRules(Phase.RAMP, 50, RoutingStrategy.MODULO, Set.of(), Set.of(),
                    Route.SOURCE);
            JdbcControlStore store = JdbcControlStore.open(control, "bench", rules, true);
            long filled = System.nanoTime();
            try (Connection connection = control.getConnection();
                    java.sql.Statement statement = connection.createStatement()) {
                statement.executeUpdate("INSERT INTO " + JdbcControlStore.USER_ROUTE_TABLE + " (migration, routing_key,"
                        + " route, moved_version, moved_by, moved_ms) SELECT 'bench', CAST(X AS VARCHAR),"
                        + " CASE WHEN MOD(X, 2) = 0 THEN 'TARGET' ELSE 'SOURCE' END, 1, 'bench', 0"
                        + " FROM SYSTEM_RANGE(1, " + movedUsers + ")");
            }
            System.out.printf(Locale.ROOT, "routing-bench: %,d moved users written in %,d ms%n", movedUsers,
                    (System.nanoTime() - filled) / 1_000_000);
            MigrationController controller = MigrationController.builder(store).instanceId("bench")
                    .pollInterval(Duration.ofSeconds(1)).userRouteCacheSize(cacheSize).build();
            controller.start();
            try {
                // Moved and never-moved warm keys together fit the cache.
                int working = Math.min(cacheSize / 2, movedUsers);
                for (long user = 1; user <= working; user++) {
                    controller.route(user);
                    controller.route(-user);
                }
                StringBuilder report = new StringBuilder(String.format(Locale.ROOT, "%nPer-user route look-up"
                        + " (MigrationController.route), %,d moved users in dualwrite_user_route on embedded file H2,"
                        + " route cache %,d; %d s per mode and round, %d rounds, medians across rounds%n", movedUsers,
                        cacheSize, seconds, rounds));
                report.append("| threads | look-up | look-ups/s | p50 ns | p99 ns | store reads per look-up |\n");
                report.append("|---:|---|---:|---:|---:|---:|\n");
                for (int threadCount : threads) {
                    Map<Lookup, List<Result>> results = new HashMap<>();
                    Map<Lookup, List<Double>> reads = new HashMap<>();
                    for (int round = 1; round <= rounds; round++) {
                        for (Lookup lookup : Lookup.values()) {
                            long loadsBefore = controller.userRouteLoads();
                            Result result = lookups(controller, lookup, threadCount, working);
                            double perLookup = (controller.userRouteLoads() - loadsBefore)
                                    / Math.max(1, result.perSecond * seconds);
                            results.computeIfAbsent(lookup, l -> new ArrayList<>()).add(result);
                            reads.computeIfAbsent(lookup, l -> new ArrayList<>()).add(perLookup);
                            System.out.printf(Locale.ROOT, "routing-bench: round %d, %d threads, %-8s %,12.0f look-ups/s"
                                    + "  p50 %,7d ns  p99 %,8d ns  store reads per look-up %.3f%n", round, threadCount,
                                    lookup, result.perSecond, result.p50, result.p99, perLookup);
                        }
                    }
                    for (Lookup lookup : Lookup.values()) {
                        List<Result> runs = results.get(lookup);
                        double[] r = reads.get(lookup).stream().mapToDouble(Double::doubleValue).sorted().toArray();
                        report.append(String.format(Locale.ROOT, "| %d | %s | %,.0f | %,.0f | %,.0f | %.3f |%n",
                                threadCount, lookup, median(runs, x -> x.perSecond), median(runs, x -> x.p50),
                                median(runs, x -> x.p99), r[r.length / 2]));
                    }
                }
                System.out.print(report);
                if (markdown != null) {
                    Files.writeString(markdown, report.toString(), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                            StandardOpenOption.APPEND);
                }
            } finally {
                controller.close();
            }
        }
    }

    private Result lookups(MigrationController controller, Lookup lookup, int threadCount, int working)
            throws InterruptedException {
        LongSamples[] samples = new LongSamples[threadCount];
        Thread[] workers = new Thread[threadCount];
        for (int i = 0; i < threadCount; i++) {
            int index = i;
            workers[i] = new Thread(() -> {
                SplittableRandom random = new SplittableRandom(index * 31L + lookup.ordinal());
                samples[index] = LongSamples.timed(seconds, () -> {
                    long user = switch (lookup) {
                        case WARM -> random.nextLong(1, working + 1L);
                        case COLD -> random.nextLong(1, movedUsers + 1L);
                        case UNMOVED -> -random.nextLong(1, working + 1L);
                    };
                    if (controller.route(user) == null) {
                        throw new IllegalStateException("no route");
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
