package io.dualwrite.samples.bench;

import com.sun.management.GarbageCollectionNotificationInfo;
import io.dualwrite.backfill.BackfillStatus;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.lang.management.MemoryUsage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import javax.management.Notification;
import javax.management.NotificationEmitter;
import javax.management.NotificationListener;
import javax.management.openmbean.CompositeData;

/**
 * Runs one dualwrite backfill in a JVM of its own, started by {@link BackfillBenchmark} with a small
 * {@code -Xmx}, and reports the heap it needed. Two figures: the highest heap use seen (sampled every few
 * milliseconds and before every collection), which mostly shows how much garbage the collector lets pile
 * up; and the highest <em>live</em> heap, read right after a full collection that the probe forces every
 * {@value #LIVE_SAMPLE_MILLIS} ms, which is what the backfill really keeps. (Heap use after a young
 * collection would not do: with G1 it still counts every promoted chunk until a mixed or full
 * collection.) Copying a tenth of the table and then all of it, in two such JVMs, shows whether memory
 * grows with the table.
 *
 * <p>The forced collections slow the probe's copy down; its rate is not one of the benchmark's figures.
 * The scratch databases belong to the parent: this JVM attaches to them and never drops them.
 */
public final class BackfillMemoryProbe {

    private static final String RESULT = "probe-result";
    private static final long LIVE_SAMPLE_MILLIS = 500;

    /**
     * What a probe JVM reported.
     *
     * @param maxHeap the JVM's maximum heap (its {@code -Xmx}), bytes
     * @param peakUsed the highest heap use observed, bytes
     * @param peakLive the highest heap use right after a full collection, bytes
     * @param liveByQuarter the same, in each quarter of the backfill's duration (0 for a quarter without a
     *     full collection): a heap that grew with the rows copied would rise from quarter to quarter
     * @param collections collections during the backfill, the forced ones included
     * @param gcMillis their total time, ms
     * @param copy the backfill's own figures
     */
    record Result(long maxHeap, long peakUsed, long peakLive, List<Long> liveByQuarter, long collections,
            long gcMillis, BackfillCopy.Result copy) {
    }

    private BackfillMemoryProbe() {
    }

    /**
     * Entry point of the probe JVM.
     *
     * @param args {@code --source DB --target-store MARIADB|POSTGRESQL --target NAME --threads N
     *     --version-guard true|false [--up-to ID]}
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> options = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i], args[i + 1]);
        }
        MirrorBenchmark.quietLogging();
        Store targetStore = Store.valueOf(options.get("--target-store"));
        int threads = Integer.parseInt(options.get("--threads"));
        Long upTo = options.containsKey("--up-to") ? Long.valueOf(options.get("--up-to")) : null;
        HeapWatch watch = new HeapWatch();
        try (BenchDatabase source = BenchDatabase.attach(Store.MARIADB, options.get("--source"));
                BenchDatabase target = BenchDatabase.attach(targetStore, options.get("--target"))) {
            watch.start();
            BackfillCopy.Result copy = BackfillCopy.run(source, target, threads,
                    Boolean.parseBoolean(options.get("--version-guard")), upTo, Duration.ofMinutes(10), null);
            watch.stop();
            System.out.println(String.format(Locale.ROOT, "%s maxHeap=%d peakUsed=%d peakLive=%d liveByQuarter=%s"
                    + " collections=%d gcMillis=%d rows=%d nanos=%d chunks=%d chunkNanos=%d largestChunk=%d"
                    + " failedRows=%d status=%s", RESULT, Runtime.getRuntime().maxMemory(), watch.peakUsed.get(),
                    watch.peakLive.get(), watch.liveByQuarter().stream().map(String::valueOf)
                            .collect(Collectors.joining(",")),
                    watch.collections(), watch.gcMillis(), copy.rows(), copy.nanos(), copy.chunks(),
                    copy.chunkNanos(), copy.largestChunk(), copy.failedRows(), copy.status()));
            if (!copy.lastError().isEmpty()) {
                System.out.println("probe-error " + copy.lastError());
            }
        }
    }

    /**
     * Starts a probe JVM and waits for its report.
     *
     * @param heap the {@code -Xmx} value, such as {@code 256m}
     * @param upTo copy only ids up to this one, or {@code null} for the whole table
     * @throws IOException if the JVM cannot be started or reports nothing
     * @throws InterruptedException if interrupted
     */
    static Result launch(String heap, String sourceDatabase, BenchDatabase target, int threads, boolean versionGuard,
            Long upTo) throws IOException, InterruptedException {
        String java = ProcessHandle.current().info().command()
                .orElse(System.getProperty("java.home") + "/bin/java");
        List<String> command = new ArrayList<>(List.of(java, "-Xmx" + heap, "-cp",
                System.getProperty("java.class.path"), BackfillMemoryProbe.class.getName(), "--source", sourceDatabase,
                "--target-store", target.store().name(), "--target", target.name(), "--threads",
                String.valueOf(threads), "--version-guard", String.valueOf(versionGuard)));
        if (upTo != null) {
            command.add("--up-to");
            command.add(String.valueOf(upTo));
        }
        Process process = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        Map<String, String> values = new HashMap<>();
        String error = "";
        try (BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(),
                StandardCharsets.UTF_8))) {
            for (String line = out.readLine(); line != null; line = out.readLine()) {
                if (line.startsWith(RESULT + " ")) {
                    for (String pair : line.substring(RESULT.length() + 1).split(" ")) {
                        int eq = pair.indexOf('=');
                        values.put(pair.substring(0, eq), pair.substring(eq + 1));
                    }
                } else if (line.startsWith("probe-error ")) {
                    error = line.substring("probe-error ".length());
                } else {
                    System.out.println("  probe: " + line);
                }
            }
        }
        if (!process.waitFor(10, TimeUnit.MINUTES) || values.isEmpty()) {
            process.destroyForcibly();
            throw new IOException("the memory probe JVM (-Xmx" + heap + ") exited with "
                    + (process.isAlive() ? "no report" : process.exitValue()) + " and reported nothing: " + command);
        }
        BackfillCopy.Result copy = new BackfillCopy.Result(Long.parseLong(values.get("rows")),
                Long.parseLong(values.get("nanos")), Long.parseLong(values.get("chunks")),
                Long.parseLong(values.get("chunkNanos")), Integer.parseInt(values.get("largestChunk")),
                Long.parseLong(values.get("failedRows")),
                BackfillStatus.valueOf(values.get("status")), error, null);
        return new Result(Long.parseLong(values.get("maxHeap")), Long.parseLong(values.get("peakUsed")),
                Long.parseLong(values.get("peakLive")),
                Arrays.stream(values.get("liveByQuarter").split(",")).map(Long::valueOf).toList(),
                Long.parseLong(values.get("collections")),
                Long.parseLong(values.get("gcMillis")), copy);
    }

    /** Heap use during the run: a sampler that also forces the full collections, and every collection's figures. */
    private static final class HeapWatch implements NotificationListener {

        private final AtomicLong peakUsed = new AtomicLong();
        private final AtomicLong peakLive = new AtomicLong();
        /** Pairs of (nanoTime, live bytes) from the full collections. */
        private final List<long[]> live = new CopyOnWriteArrayList<>();
        private long startedNanos;
        private long stoppedNanos;
        private final Set<String> heapPools = ManagementFactory.getMemoryPoolMXBeans().stream()
                .filter(p -> p.getType() == MemoryType.HEAP).map(MemoryPoolMXBean::getName)
                .collect(Collectors.toSet());
        private final List<GarbageCollectorMXBean> collectors = ManagementFactory.getGarbageCollectorMXBeans();
        private long collectionsBefore;
        private long gcMillisBefore;
        private volatile boolean running;
        private Thread sampler;

        void start() {
            for (GarbageCollectorMXBean collector : collectors) {
                if (collector instanceof NotificationEmitter emitter) {
                    emitter.addNotificationListener(this, null, null);
                }
            }
            startedNanos = System.nanoTime();
            collectionsBefore = collectors.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum();
            gcMillisBefore = collectors.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum();
            running = true;
            sampler = new Thread(() -> {
                long nextFull = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LIVE_SAMPLE_MILLIS);
                while (running) {
                    peakUsed.accumulateAndGet(ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed(),
                            Math::max);
                    if (System.nanoTime() - nextFull >= 0) {
                        // Reported through handleNotification as a major collection.
                        System.gc();
                        nextFull = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(LIVE_SAMPLE_MILLIS);
                    }
                    try {
                        Thread.sleep(5);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "bench-heap-sampler");
            sampler.setDaemon(true);
            sampler.start();
        }

        void stop() throws InterruptedException {
            stoppedNanos = System.nanoTime();
            running = false;
            sampler.join();
        }

        List<Long> liveByQuarter() {
            long[] quarters = new long[4];
            double length = Math.max(1, stoppedNanos - startedNanos);
            for (long[] sample : live) {
                int quarter = (int) Math.min(3, Math.max(0, (sample[0] - startedNanos) / length * 4));
                if (sample[0] <= stoppedNanos) {
                    quarters[quarter] = Math.max(quarters[quarter], sample[1]);
                }
            }
            return Arrays.stream(quarters).boxed().toList();
        }

        long collections() {
            return collectors.stream().mapToLong(GarbageCollectorMXBean::getCollectionCount).sum() - collectionsBefore;
        }

        long gcMillis() {
            return collectors.stream().mapToLong(GarbageCollectorMXBean::getCollectionTime).sum() - gcMillisBefore;
        }

        @Override
        public void handleNotification(Notification notification, Object handback) {
            if (!GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
                return;
            }
            var gc = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
            peakUsed.accumulateAndGet(heapUsed(gc.getGcInfo().getMemoryUsageBeforeGc()), Math::max);
            if (gc.getGcAction().contains("major")) {
                long after = heapUsed(gc.getGcInfo().getMemoryUsageAfterGc());
                peakLive.accumulateAndGet(after, Math::max);
                live.add(new long[] {System.nanoTime(), after});
            }
        }

        private long heapUsed(Map<String, MemoryUsage> pools) {
            return pools.entrySet().stream().filter(e -> heapPools.contains(e.getKey()))
                    .mapToLong(e -> e.getValue().getUsed()).sum();
        }
    }
}
