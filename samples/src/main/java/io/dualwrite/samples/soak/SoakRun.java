package io.dualwrite.samples.soak;

import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingStrategy;
import io.dualwrite.routing.TrafficRouter;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * One seed of the soak: set up, migrate under faults, heal, drain, judge.
 *
 * <h2>The service and its load</h2>
 * Table {@code account(id, user_id, val, gmt_modified)} in a new MariaDB database on the shared server
 * (the source) and in a PostgreSQL cluster of the soak's own ({@link PrivatePostgres}, the target, which
 * also holds the control store). Sixteen users own one hot key each ({@code id = user * 100}), beside
 * cold history rows. Eight writers each own two users, so every key has one writer and its writes
 * are ordered by acknowledgement; each write goes to a random instance, so one user's writes cross the
 * fleet. A writer that could not learn a write's outcome leaves that user alone for a while, so that a
 * request stuck in a frozen instance does not make the next one wait on its row lock.
 *
 * <h2>The migration and the faults</h2>
 * The plan: DUAL_WRITE, backfill, RAMP, 10, 50, 100, back to 0, 100. Each item is run while a fault
 * drawn from the seed is on (or none): a SIGSTOP of one instance past its lease, a kill -9 and restart,
 * the target stopped, or the network between one instance and the target cut (blackhole or reset), so
 * that steps are taken while an instance is lapsed; a fault is healed on a timer, whether or not the
 * step waits for the victim. The step into RAMP and RAMP 10 always share one cut or freeze: an instance
 * lapsed in DUAL_WRITE while the others step past it. The fault sequence ({@link #schedule}) is a
 * function of the seed; the threads' interleaving is not.
 *
 * <h2>The verdict</h2>
 * With every fault healed and the mirrors drained: the stores hold the same rows (SQL), no outbox row is
 * left, every key holds its last acknowledged write (or a later one whose outcome its writer could not
 * learn) on the store its user routes to, no write failed before the ramp began, and the requests held
 * in RAMP ({@code RouteHeldException}) stay under a bound.
 */
final class SoakRun {

    /** Users 1, 7, 13, ... 91: their MODULO buckets spread over 0-99, so RAMP 10, 50 and 100 each move some. */
    private static final int USERS = 16;
    private static final int HOT_KEYS_PER_USER = 1;
    private static final int COLD_ROWS = 3_000;
    private static final int WRITERS = 8;
    private static final int INSTANCES = 3;
    private static final long LEASE_MS = 3_000;
    private static final long WRITE_DEADLINE_MS = 3_000;

    private enum Outcome { OK, HELD, FAIL, DOUBT, UNKNOWN, UNSENT }

    enum Fault { FREEZE, KILL, TARGET_DOWN, CUT_BLACKHOLE, CUT_RESET, NONE }

    private final long seed;
    private final boolean fenceOff;
    private final Path work;
    private final long dwellMs = Long.getLong("soak.dwell.ms", 3_000);
    private final double heldMaxRatio = Double.parseDouble(System.getProperty("soak.held.max.ratio", "0.05"));
    private final ConcurrentLinkedQueue<Attempt> attempts = new ConcurrentLinkedQueue<>();
    private final List<String> faultLog = Collections.synchronizedList(new ArrayList<>());
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1))
            .version(HttpClient.Version.HTTP_1_1).build();
    private final Process[] processes = new Process[INSTANCES];
    private final int[] ports = new int[INSTANCES];
    private final FaultProxy[] proxies = new FaultProxy[INSTANCES];
    /**
     * The rules in force over time, as the coordinator saw them: a segment begins when a step is asked
     * (rules unknown until it ends) and when it is seen in force. Its start is a {@link System#nanoTime()}.
     */
    private final List<Segment> timeline = Collections.synchronizedList(new ArrayList<>(List.of(
            new Segment(0, RoutingRules.initial().withStrategy(RoutingStrategy.MODULO)))));
    /** True until the step into RAMP is asked: a write failing in this stage breaks invariant 1. */
    private volatile boolean beforeRamp = true;
    private volatile boolean writing = true;
    private String sourceUrl;
    private String database;
    private PrivatePostgres target;

    SoakRun(long seed, boolean fenceOff, Path work) {
        this.seed = seed;
        this.fenceOff = fenceOff;
        this.work = work.resolve("seed-" + seed);
    }

    Verdict run() throws Exception {
        long started = System.nanoTime();
        Files.createDirectories(work);
        System.out.printf(Locale.ROOT, "soak seed %d: starting (fence %s), logs in %s%n", seed, fenceOff ? "OFF" : "on",
                work);
        try {
            setUp();
            List<Thread> writers = startWriters();
            Verdict verdict;
            try {
                migrateUnderFaults();
            } finally {
                writing = false;
                for (Thread writer : writers) {
                    writer.join(TimeUnit.SECONDS.toMillis(30));
                }
                healEverything();
            }
            verdict = judge(System.nanoTime() - started);
            return verdict;
        } finally {
            tearDown();
        }
    }

    // ------------------------------------------------------------------ set-up

    private void setUp() throws Exception {
        String server = System.getenv().getOrDefault("DUALWRITE_IT_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/");
        server = server.endsWith("/") ? server : server.substring(0, server.lastIndexOf('/') + 1);
        database = "soak_" + seed + "_" + Long.toHexString(System.nanoTime() & 0xffffff);
        try (Connection connection = DriverManager.getConnection(server, mariaUser(), mariaPassword());
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + database);
        }
        sourceUrl = server + database;
        target = PrivatePostgres.start(Path.of(System.getProperty("soak.pg.bin", "/usr/lib/postgresql/15/bin")));
        try (Connection connection = DriverManager.getConnection(target.url("postgres"), "postgres", "");
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE soak");
        }
        try (Connection source = source(); Connection pg = targetDirect()) {
            source.createStatement().execute("CREATE TABLE account (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,"
                    + " val VARCHAR(40), gmt_modified DATETIME(6) NOT NULL)");
            pg.createStatement().execute("CREATE TABLE account (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,"
                    + " val VARCHAR(40), gmt_modified TIMESTAMP(6) NOT NULL)");
            source.setAutoCommit(false);
            try (PreparedStatement insert = source.prepareStatement(
                    "INSERT INTO account (id, user_id, val, gmt_modified) VALUES (?, ?, ?, ?)")) {
                Timestamp then = new Timestamp(System.currentTimeMillis() - 86_400_000L);
                for (Map.Entry<Long, String> row : initialRows().entrySet()) {
                    insert.setLong(1, row.getKey());
                    insert.setLong(2, userOf(row.getKey()));
                    insert.setString(3, row.getValue());
                    insert.setTimestamp(4, then);
                    insert.addBatch();
                }
                insert.executeBatch();
            }
            source.commit();
        }
        for (int i = 0; i < INSTANCES; i++) {
            proxies[i] = new FaultProxy("i" + i, target.port());
            ports[i] = PrivatePostgres.freePort();
        }
        // The first instance creates the library's tables; the others would race it for them.
        launch(0);
        awaitReady(0);
        for (int i = 1; i < INSTANCES; i++) {
            launch(i);
        }
        for (int i = 1; i < INSTANCES; i++) {
            awaitReady(i);
        }
        System.out.printf(Locale.ROOT, "soak seed %d: source %s, target %s, instances on ports %s%n", seed, sourceUrl,
                target.url("soak"), java.util.Arrays.toString(ports));
    }

    /** The rows before the migration: three of each user's five hot keys, and the cold history. */
    private static Map<Long, String> initialRows() {
        Map<Long, String> rows = new TreeMap<>();
        for (int index = 0; index < USERS; index++) {
            rows.put(user(index) * 100, "history");
        }
        for (int n = 0; n < COLD_ROWS; n++) {
            rows.put(1_000_000L + n, "cold-" + n);
        }
        return rows;
    }

    private static long user(int index) {
        return index * 6L + 1;
    }

    private static long userOf(long key) {
        return key >= 1_000_000 ? user((int) ((key - 1_000_000) % USERS)) : key / 100;
    }

    private void launch(int i) throws IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> command = new ArrayList<>(List.of(java, "-Xmx200m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", System.getProperty("java.class.path"),
                "-Dsoak.id=i" + i, "-Dsoak.port=" + ports[i],
                "-Dsoak.source.url=" + sourceUrl + "?sessionVariables=innodb_lock_wait_timeout=3,idle_transaction_timeout=5",
                "-Dsoak.target.url=jdbc:postgresql://127.0.0.1:" + proxies[i].port() + "/soak?socketTimeout=5"
                        + "&connectTimeout=2&loginTimeout=3&reWriteBatchedInserts=true",
                "-Dsoak.lease.ms=" + LEASE_MS, "-Dsoak.poll.ms=300", "-Dsoak.hold.ms=1500", "-Dsoak.step.ms=15000"));
        if (fenceOff) {
            command.add("-Ddualwrite.soak.fence=off");
        }
        command.add(SoakInstance.class.getName());
        Path log = work.resolve("i" + i + ".log");
        processes[i] = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
    }

    private void awaitReady(int i) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (System.nanoTime() < deadline) {
            if (!processes[i].isAlive()) {
                throw new IllegalStateException("soak instance i" + i + " exited at start-up; see " + work.resolve("i" + i + ".log"));
            }
            if (call(i, "GET", "/status", 2_000).startsWith("200")) {
                return;
            }
            Thread.sleep(250);
        }
        throw new IllegalStateException("soak instance i" + i + " did not answer within 90 s; see " + work.resolve("i" + i + ".log"));
    }

    // ------------------------------------------------------------------ load

    private List<Thread> startWriters() {
        List<Thread> threads = new ArrayList<>();
        for (int w = 0; w < WRITERS; w++) {
            int writer = w;
            Thread thread = new Thread(() -> writeLoop(writer), "soak-writer-" + w);
            thread.setDaemon(true);
            thread.start();
            threads.add(thread);
        }
        return threads;
    }

    private void writeLoop(int writer) {
        SplittableRandom random = new SplittableRandom(seed * 1_000 + writer);
        Map<Long, Long> quietUntil = new HashMap<>();
        long sequence = 0;
        while (writing) {
            long user = user(writer + WRITERS * random.nextInt(USERS / WRITERS));
            long key = user * 100 + random.nextInt(HOT_KEYS_PER_USER);
            int instance = random.nextInt(INSTANCES);
            boolean put = random.nextInt(100) < 80;
            String value = "w" + writer + "-" + (++sequence);
            if (quietUntil.getOrDefault(user, 0L) - System.nanoTime() > 0) {
                sleepQuietly(2);
                continue;
            }
            boolean before = beforeRamp;
            long sent = System.nanoTime();
            String reply = call(instance, "POST", "/write?user=" + user + "&key=" + key + "&op=" + (put ? "PUT" : "DEL")
                    + "&val=" + value + "&deadline=" + (System.currentTimeMillis() + WRITE_DEADLINE_MS),
                    WRITE_DEADLINE_MS + 1_500);
            long done = System.nanoTime();
            Outcome outcome = outcomeOf(reply);
            if (outcome == Outcome.UNKNOWN || outcome == Outcome.DOUBT) {
                quietUntil.put(user, done + TimeUnit.SECONDS.toNanos(10));
            }
            attempts.add(new Attempt(writer, user, key, put ? value : null, instance, sent, done, outcome,
                    before && beforeRamp, reply));
            sleepQuietly(2);
        }
    }

    private static Outcome outcomeOf(String reply) {
        if (reply.startsWith("200 OK")) {
            return Outcome.OK;
        }
        if (reply.startsWith("503 HELD")) {
            return Outcome.HELD;
        }
        if (reply.startsWith("500 DOUBT")) {
            return Outcome.DOUBT;
        }
        if (reply.startsWith("500 FAIL")) {
            return Outcome.FAIL;
        }
        return reply.startsWith("UNSENT") ? Outcome.UNSENT : Outcome.UNKNOWN;
    }

    /** @return "status body", "UNSENT ..." when the connection was refused, or "UNKNOWN ..." */
    private String call(int instance, String method, String path, long timeoutMs) {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[instance] + path))
                .timeout(Duration.ofMillis(timeoutMs)).method(method, HttpRequest.BodyPublishers.noBody()).build();
        try {
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            return response.statusCode() + " " + response.body();
        } catch (ConnectException e) {
            return "UNSENT " + e;
        } catch (IOException e) {
            return "UNKNOWN " + e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "UNKNOWN interrupted";
        }
    }

    // ------------------------------------------------------------------ migration and faults

    /**
     * The faults, drawn from the seed before anything runs. Items 2 and 3 (the step into RAMP and RAMP 10)
     * always run while one instance is cut off or frozen: the hole issue 16 starts from, an instance lapsed
     * in DUAL_WRITE while the others step past it. Among the other items: a kill, the target stopped, a cut
     * during RAMP 50 or 100, the rest drawn at random (none included).
     */
    static List<Planned> schedule(long seed) {
        Random random = new Random(seed);
        List<String> plan = List.of("phase=DUAL_WRITE", "backfill", "phase=RAMP", "percent=10", "percent=50",
                "percent=100", "percent=0", "percent=100");
        Fault lapse = List.of(Fault.CUT_BLACKHOLE, Fault.CUT_RESET, Fault.FREEZE).get(random.nextInt(3));
        List<Fault> others = new ArrayList<>(List.of(Fault.KILL, Fault.TARGET_DOWN,
                random.nextBoolean() ? Fault.CUT_BLACKHOLE : Fault.CUT_RESET, Fault.FREEZE,
                Fault.values()[random.nextInt(Fault.values().length)], Fault.values()[random.nextInt(Fault.values().length)]));
        Collections.shuffle(others, random);
        // others[k] goes with item 0, 1, 4, 5, 6, 7; one cut lands on RAMP 50 or 100.
        int cut = others.indexOf(others.stream().filter(f -> f == Fault.CUT_BLACKHOLE || f == Fault.CUT_RESET)
                .findFirst().orElseThrow());
        if (cut != 2 && cut != 3) {
            Collections.swap(others, cut, 2 + random.nextInt(2));
        }
        List<Planned> schedule = new ArrayList<>();
        int next = 0;
        for (int item = 0; item < plan.size(); item++) {
            boolean pair = item == 2;
            Fault fault = pair ? lapse : others.get(next++);
            schedule.add(new Planned(pair ? plan.subList(2, 4) : List.of(plan.get(item)), fault,
                    random.nextInt(INSTANCES), LEASE_MS + 500 + random.nextInt(1_000)));
            item += pair ? 1 : 0;
        }
        return schedule;
    }

    private void migrateUnderFaults() throws Exception {
        List<Planned> schedule = schedule(seed);
        System.out.printf(Locale.ROOT, "soak seed %d: plan %s%n", seed, schedule);
        sleepQuietly(dwellMs);
        for (Planned planned : schedule) {
            Fault fault = planned.fault;
            int victim = planned.victim;
            long faultStart = System.nanoTime();
            inject(fault, victim, String.join(" and ", planned.items));
            // Healed on a timer, not when the step ends: a step may rightly wait for the victim to come back.
            long faultMs = fault == Fault.TARGET_DOWN ? LEASE_MS * 2 : LEASE_MS * 2 + 5_000;
            java.util.concurrent.CompletableFuture<Void> healed = java.util.concurrent.CompletableFuture.runAsync(() -> {
                sleepQuietly(faultMs);
                try {
                    heal(fault, victim, faultStart);
                } catch (Exception e) {
                    throw new IllegalStateException("soak: could not heal " + fault + " of i" + victim, e);
                }
            });
            if (fault == Fault.TARGET_DOWN) {
                // The control store is down with it: nothing can step. Writes go on meanwhile.
                healed.get();
            } else {
                // Past the victim's lease, so that the others may count it out and step without it.
                sleepQuietly(planned.waitMs);
            }
            for (String item : planned.items) {
                run(item, victim, fault);
                sleepQuietly(500);
            }
            healed.get();
            sleepQuietly(dwellMs);
        }
    }

    private void inject(Fault fault, int victim, String during) throws Exception {
        String what = switch (fault) {
            case FREEZE -> {
                signal("STOP", victim);
                yield "SIGSTOP i" + victim;
            }
            case KILL -> {
                processes[victim].destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                yield "kill -9 i" + victim;
            }
            case TARGET_DOWN -> {
                target.stopServer();
                yield "target stopped (pg_ctl stop -m fast)";
            }
            case CUT_BLACKHOLE -> {
                proxies[victim].mode(FaultProxy.Mode.BLACKHOLE);
                yield "network i" + victim + " <-> target blackholed";
            }
            case CUT_RESET -> {
                proxies[victim].mode(FaultProxy.Mode.RESET);
                yield "network i" + victim + " <-> target reset";
            }
            case NONE -> "no fault";
        };
        if (fault != Fault.NONE) {
            faultLog.add(what + " during " + during);
        }
        System.out.printf(Locale.ROOT, "soak seed %d: %s during %s%n", seed, what, during);
    }

    private void heal(Fault fault, int victim, long since) throws Exception {
        switch (fault) {
            case FREEZE -> signal("CONT", victim);
            case KILL -> {
                launch(victim);
                awaitReady(victim);
            }
            case TARGET_DOWN -> target.startServer();
            case CUT_BLACKHOLE, CUT_RESET -> proxies[victim].mode(FaultProxy.Mode.PASS);
            case NONE -> {
                return;
            }
        }
        System.out.printf(Locale.ROOT, "soak seed %d: healed %s after %d ms%n", seed, fault,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - since));
    }

    /** Runs one plan item through an instance the fault leaves healthy, until it is in force. */
    private void run(String item, int victim, Fault fault) throws Exception {
        if (item.startsWith("phase=RAMP")) {
            beforeRamp = false;
        }
        int admin = (victim + 1) % INSTANCES;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        int tries = 0;
        while (System.nanoTime() < deadline) {
            tries++;
            String reply;
            if (item.equals("backfill")) {
                reply = backfill(victim, fault);
                if (reply.startsWith("DONE")) {
                    System.out.printf(Locale.ROOT, "soak seed %d: backfill DONE%n", seed);
                    return;
                }
                sleepQuietly(500);
                continue;
            }
            timeline.add(new Segment(System.nanoTime(), null));
            reply = call(admin, "POST", "/step?" + item, 30_000);
            String state = call(admin, "GET", "/status", 5_000);
            if (inForce(item, state)) {
                timeline.add(new Segment(System.nanoTime(), rulesOf(state)));
                System.out.printf(Locale.ROOT, "soak seed %d: %s in force after %d tries (%s)%n", seed, item, tries,
                        state.substring(4));
                return;
            }
            System.out.printf(Locale.ROOT, "soak seed %d: %s not in force yet: %s%n", seed, item, abbreviate(reply));
            sleepQuietly(1_000);
        }
        throw new IllegalStateException("soak: " + item + " did not come into force within 120 s");
    }

    private String backfill(int victim, Fault fault) {
        String last = "";
        for (int i = 0; i < INSTANCES; i++) {
            if (i == victim && fault != Fault.NONE && fault != Fault.TARGET_DOWN) {
                continue;
            }
            String reply = call(i, "POST", "/backfill?start", 10_000);
            if (reply.startsWith("200 DONE")) {
                return "DONE";
            }
            last = reply;
        }
        return last;
    }

    private static RoutingRules rulesOf(String status) {
        Phase phase = Phase.valueOf(status.replaceAll(".*phase=(\\w+) .*", "$1").trim());
        int percent = Integer.parseInt(status.replaceAll(".*percent=(\\d+) .*", "$1").trim());
        return new RoutingRules(phase, percent, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE);
    }

    /** @return the rules in force from before {@code sent} until after {@code done}, or null if a step fell between */
    private RoutingRules rulesThroughout(long sent, long done) {
        synchronized (timeline) {
            RoutingRules rules = null;
            for (Segment segment : timeline) {
                if (segment.start - sent <= 0) {
                    rules = segment.rules;
                } else if (segment.start - done < 0) {
                    return null;
                }
            }
            return rules;
        }
    }

    private static boolean inForce(String item, String status) {
        if (!status.startsWith("200") || !status.contains(" pending=- ")) {
            return false;
        }
        String[] parts = item.split("=");
        return parts[0].equals("phase") ? status.contains("phase=" + parts[1] + " ")
                : status.contains("phase=RAMP percent=" + parts[1] + " ");
    }

    private void signal(String signal, int victim) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(processes[victim].pid())).start();
        if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
            throw new IOException("kill -" + signal + " " + processes[victim].pid() + " failed");
        }
    }

    private void healEverything() throws Exception {
        for (int i = 0; i < INSTANCES; i++) {
            proxies[i].mode(FaultProxy.Mode.PASS);
            if (processes[i].isAlive()) {
                signal("CONT", i);
            } else {
                launch(i);
            }
        }
        try (Connection probe = targetDirect()) {
            probe.isValid(2);
        } catch (SQLException down) {
            target.startServer();
        }
        for (int i = 0; i < INSTANCES; i++) {
            awaitReady(i);
        }
    }

    // ------------------------------------------------------------------ verdict

    private Verdict judge(long elapsedNanos) throws Exception {
        List<String> violations = new ArrayList<>();
        // Every instance drains its mirrors, then the outboxes of all of them must be empty.
        for (int i = 0; i < INSTANCES; i++) {
            String drained = call(i, "POST", "/drain", 70_000);
            if (!drained.startsWith("200")) {
                violations.add("instance i" + i + " did not drain: " + abbreviate(drained));
            }
        }
        String finalStatus = call(0, "GET", "/status", 5_000);
        if (!inForce("percent=100", finalStatus)) {
            violations.add("the migration did not end at RAMP 100: " + finalStatus);
        }
        RoutingRules finalRules = new RoutingRules(Phase.RAMP, 100, RoutingStrategy.MODULO, Set.of(), Set.of(),
                Route.SOURCE);
        Map<Long, String> sourceRows;
        Map<Long, String> targetRows;
        try (Connection source = source(); Connection pg = targetDirect()) {
            long sourceOutbox = count(source, "SELECT COUNT(*) FROM dualwrite_outbox");
            long targetOutbox = count(pg, "SELECT COUNT(*) FROM dualwrite_outbox");
            if (sourceOutbox + targetOutbox > 0) {
                violations.add("outbox rows left after the drain: source " + sourceOutbox + ", target " + targetOutbox);
            }
            sourceRows = rows(source);
            targetRows = rows(pg);
        }
        // 1. The stores agree.
        List<String> differences = new ArrayList<>();
        Set<Long> keys = new java.util.TreeSet<>(sourceRows.keySet());
        keys.addAll(targetRows.keySet());
        for (long key : keys) {
            if (!Objects.equals(sourceRows.get(key), targetRows.get(key))) {
                differences.add("key " + key + ": source " + sourceRows.get(key) + ", target " + targetRows.get(key));
            }
        }
        if (!differences.isEmpty()) {
            violations.add(differences.size() + " differences between the stores, e.g. "
                    + differences.subList(0, Math.min(5, differences.size())));
        }
        // 2. Every key holds its last acknowledged write on the store its user routes to.
        Map<Long, List<Attempt>> byKey = new TreeMap<>();
        for (Attempt attempt : attempts) {
            byKey.computeIfAbsent(attempt.key, k -> new ArrayList<>()).add(attempt);
        }
        Map<Long, String> initial = initialRows();
        Set<Long> allKeys = new java.util.TreeSet<>(initial.keySet());
        allKeys.addAll(byKey.keySet());
        List<String> lost = new ArrayList<>();
        for (long key : allKeys) {
            List<Attempt> history = byKey.getOrDefault(key, new ArrayList<>());
            history.sort((a, b) -> Long.compare(a.sent, b.sent));
            int lastOk = -1;
            for (int i = 0; i < history.size(); i++) {
                if (history.get(i).outcome == Outcome.OK) {
                    lastOk = i;
                }
            }
            List<String> allowed = new ArrayList<>();
            allowed.add(lastOk < 0 ? initial.get(key) : history.get(lastOk).value);
            for (int i = lastOk + 1; i < history.size(); i++) {
                Outcome outcome = history.get(i).outcome;
                if (outcome == Outcome.UNKNOWN || outcome == Outcome.DOUBT) {
                    allowed.add(history.get(i).value);
                }
            }
            Map<Long, String> routed = TrafficRouter.route(finalRules, userOf(key)) == Route.TARGET ? targetRows
                    : sourceRows;
            String actual = routed.get(key);
            if (!allowed.contains(actual)) {
                lost.add("key " + key + " holds " + actual + ", expected one of " + allowed + "; last writes "
                        + history.subList(Math.max(0, history.size() - 4), history.size()));
            }
        }
        if (!lost.isEmpty()) {
            violations.add(lost.size() + " keys lost their last acknowledged write, e.g. " + lost.subList(0,
                    Math.min(5, lost.size())));
        }
        // 3. No write is acknowledged on a route other than its user's under the rules in force throughout
        // the request: that is the split brain the barrier and the lease fence exist to prevent.
        List<String> stale = new ArrayList<>();
        long staleCount = 0;
        for (Attempt attempt : attempts) {
            RoutingRules rules = attempt.outcome == Outcome.OK ? rulesThroughout(attempt.sent, attempt.done) : null;
            if (rules != null && !attempt.reply.endsWith(" " + TrafficRouter.route(rules, attempt.user))) {
                staleCount++;
                if (stale.size() < 5) {
                    stale.add("user " + attempt.user + " " + attempt + " answered '" + attempt.reply + "' under " + rules);
                }
            }
        }
        if (staleCount > 0) {
            violations.add(staleCount + " writes acknowledged on a stale route (split brain), e.g. " + stale);
        }
        // 4. Invariant 1: nothing fails before the ramp; 5. held requests in RAMP are bounded.
        Map<Outcome, Long> counts = new TreeMap<>();
        long failedBeforeRamp = 0;
        long rampWrites = 0;
        long heldInRamp = 0;
        List<String> examples = new ArrayList<>();
        List<Long> latencies = new ArrayList<>();
        for (Attempt attempt : attempts) {
            counts.merge(attempt.outcome, 1L, Long::sum);
            boolean failed = attempt.outcome == Outcome.HELD || attempt.outcome == Outcome.FAIL
                    || attempt.outcome == Outcome.DOUBT;
            if (attempt.beforeRamp && failed) {
                failedBeforeRamp++;
                if (examples.size() < 3) {
                    examples.add(abbreviate(attempt.reply));
                }
            }
            if (!attempt.beforeRamp && attempt.outcome != Outcome.UNSENT) {
                rampWrites++;
                heldInRamp += attempt.outcome == Outcome.HELD ? 1 : 0;
            }
            if (attempt.outcome == Outcome.OK) {
                latencies.add(attempt.done - attempt.sent);
            }
        }
        if (failedBeforeRamp > 0) {
            violations.add(failedBeforeRamp + " application writes failed in SOURCE_ONLY/DUAL_WRITE, e.g. " + examples);
        }
        long heldBound = Math.max(20, (long) (rampWrites * heldMaxRatio));
        if (heldInRamp > heldBound) {
            violations.add(heldInRamp + " RouteHeldExceptions in RAMP, above the bound " + heldBound
                    + " (soak.held.max.ratio " + heldMaxRatio + " of " + rampWrites + " RAMP writes)");
        }
        Collections.sort(latencies);
        Verdict verdict = new Verdict(seed, violations, counts, faultLog, heldInRamp, rampWrites,
                percentile(latencies, 50), percentile(latencies, 99),
                latencies.isEmpty() ? 0 : latencies.get(latencies.size() - 1), elapsedNanos);
        verdict.print();
        return verdict;
    }

    private static long percentile(List<Long> sorted, int p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p / 100.0 * sorted.size()) - 1));
    }

    private static long count(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement(); ResultSet rs = statement.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static Map<Long, String> rows(Connection connection) throws SQLException {
        Map<Long, String> rows = new TreeMap<>();
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT id, user_id, val FROM account")) {
            while (rs.next()) {
                rows.put(rs.getLong(1), rs.getString(3));
                if (rs.getLong(2) != userOf(rs.getLong(1))) {
                    rows.put(rs.getLong(1), rs.getString(3) + " (user " + rs.getLong(2) + ")");
                }
            }
        }
        return rows;
    }

    // ------------------------------------------------------------------ tear-down and helpers

    private void tearDown() {
        for (Process process : processes) {
            if (process != null) {
                process.destroyForcibly();
            }
        }
        for (FaultProxy proxy : proxies) {
            if (proxy != null) {
                try {
                    proxy.close();
                } catch (IOException ignored) {
                    // closing anyway
                }
            }
        }
        if (target != null) {
            try {
                target.close();
            } catch (Exception e) {
                System.err.println("soak: could not remove the private PostgreSQL cluster: " + e.getMessage());
            }
        }
        if (database != null && !Boolean.getBoolean("soak.keep")) {
            try (Connection connection = source(); Statement statement = connection.createStatement()) {
                statement.execute("DROP DATABASE " + database);
            } catch (SQLException e) {
                System.err.println("soak: could not drop " + database + ": " + e.getMessage());
            }
        }
    }

    private Connection source() throws SQLException {
        return DriverManager.getConnection(sourceUrl, mariaUser(), mariaPassword());
    }

    private Connection targetDirect() throws SQLException {
        return DriverManager.getConnection(target.url("soak") + "?connectTimeout=2", "postgres", "");
    }

    private static String mariaUser() {
        return System.getenv().getOrDefault("DUALWRITE_IT_MARIADB_USER", "root");
    }

    private static String mariaPassword() {
        return System.getenv().getOrDefault("DUALWRITE_IT_MARIADB_PASSWORD", "");
    }

    private static String abbreviate(String text) {
        return text.length() <= 300 ? text : text.substring(0, 300) + "...";
    }

    private static void sleepQuietly(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private record Segment(long start, RoutingRules rules) {
    }

    /** A fault and the plan items run while it is on. */
    record Planned(List<String> items, Fault fault, int victim, long waitMs) {
        @Override
        public String toString() {
            return items + " under " + fault + (fault == Fault.NONE || fault == Fault.TARGET_DOWN ? "" : " of i" + victim);
        }
    }

    private record Attempt(int writer, long user, long key, String value, int instance, long sent, long done,
            Outcome outcome, boolean beforeRamp, String reply) {
        @Override
        public String toString() {
            return outcome + " " + (value == null ? "DEL" : value) + " via i" + instance;
        }
    }

    /** What one seed found. */
    record Verdict(long seed, List<String> violations, Map<Outcome, Long> counts, List<String> faults, long heldInRamp,
            long rampWrites, long p50Nanos, long p99Nanos, long maxNanos, long elapsedNanos) {

        boolean passed() {
            return violations.isEmpty();
        }

        void print() {
            long writes = counts.values().stream().mapToLong(Long::longValue).sum();
            System.out.printf(Locale.ROOT, "soak seed %d: %s in %.0f s%n", seed, passed() ? "PASSED" : "FAILED",
                    elapsedNanos / 1e9);
            System.out.printf(Locale.ROOT, "  writes     %,d attempted: %s%n", writes, counts);
            System.out.printf(Locale.ROOT, "  faults     %d: %s%n", faults.size(), faults);
            System.out.printf(Locale.ROOT, "  latency    acknowledged writes p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                    p50Nanos / 1e6, p99Nanos / 1e6, maxNanos / 1e6);
            System.out.printf(Locale.ROOT, "  RAMP       %,d writes, %,d held (RouteHeldException)%n", rampWrites,
                    heldInRamp);
            for (String violation : violations) {
                System.out.println("  VIOLATION  " + violation);
            }
            if (!passed()) {
                System.out.println("  replay     .ci/soak --seed " + seed + " (or -Dsoak.seeds=" + seed + ")");
            }
        }
    }
}
