package io.dualwrite.autoconfigure.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.StoreProperties;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.web.client.RestClient;

/**
 * The starter end to end, driven as an operator would: an application with a plain JdbcTemplate DAO,
 * configured only through properties and steered only through the actuator endpoint over HTTP. With
 * writers running: DUAL_WRITE, the backfill, a reconcile with zero differences, RAMP 10 -> 100, the
 * rollback to 0 and forward to 100 again, TARGET_ONLY. After every step the stores are identical and hold
 * every write's last state, and every step shows in the GET output. Subclasses choose the stores.
 */
@SpringBootTest(classes = OrderApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
abstract class MigrationOverHttpTest {

    private static final int HISTORY_ROWS = 2_000;
    private static final int OPERATIONS_PER_WRITER = 300;
    private static final ParameterizedTypeReference<Map<String, Object>> MAP = new ParameterizedTypeReference<>() {
    };

    /** The databases of the running subclass; set before its context starts. */
    static TestDatabase source;
    static TestDatabase target;

    @LocalServerPort
    int port;

    @Autowired
    OrderDao orders;

    /** Creates both stores with history in the source, and points the application at them. */
    static void stores(Store sourceStore, Store targetStore, DynamicPropertyRegistry registry) {
        source = TestDatabase.create(sourceStore, "http_src");
        target = TestDatabase.create(targetStore, "http_tgt");
        source.execute(OrderTable.ddl(sourceStore, "t_order"));
        // The same table name on both sides: in RAMP the application's own SQL runs on the target too.
        target.execute(OrderTable.ddl(targetStore, "t_order"));
        JdbcTemplate history = new JdbcTemplate(source.dataSource());
        List<Object[]> rows = new ArrayList<>();
        for (long id = 1; id <= HISTORY_ROWS; id++) {
            rows.add(new Object[] {id, id % 97, "OLD", new Timestamp(System.currentTimeMillis())});
        }
        history.batchUpdate("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, ?, ?, ?)", rows);
        StoreProperties.register(registry, source, target);
        registry.add("dualwrite.phase", () -> "DUAL_WRITE");
        registry.add("dualwrite.tables.t_order.routing-column", () -> "user_id");
        registry.add("dualwrite.routing.step-timeout", () -> "20s");
        registry.add("dualwrite.control.poll-interval", () -> "200ms");
        registry.add("dualwrite.schema.create", () -> "true");
        registry.add("dualwrite.backfill.rows-per-second", () -> "4000");
        registry.add("dualwrite.backfill.chunk-size", () -> "100");
        // The throttle reserves a whole chunk before reading it, so small ranges want small chunks.
        registry.add("dualwrite.backfill.max-chunk-size", () -> "400");
        registry.add("dualwrite.management.write-enabled", () -> "true");
        registry.add("management.endpoints.web.exposure.include", () -> "dualwrite,health");
        registry.add("management.endpoint.health.show-details", () -> "always");
    }

    @AfterAll
    static void dropStores() {
        source.close();
        target.close();
    }

    @Test
    void wholeMigrationOverHttp_losesNoWrite() throws Exception {
        RestClient http = RestClient.create("http://localhost:" + port + "/actuator");
        assertThat(status(http)).containsEntry("phase", "DUAL_WRITE");
        Writers writers = new Writers();
        writers.start(2);

        Map<String, Object> started = post(http, "backfill", Map.of("action", "start", "table", "t_order"));
        assertThat(started).containsKey("t_order");
        List<Map<String, Object>> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!"DONE".equals(backfill(status(http)).get("status")) && System.nanoTime() < deadline) {
            seen.add(backfill(status(http)));
            Thread.sleep(100);
        }
        Map<String, Object> done = backfill(status(http));
        assertThat(done).containsEntry("status", "DONE").containsEntry("eta", "PT0S");
        assertThat(seen).as("progress read while the backfill ran").isNotEmpty()
                .allSatisfy(progress -> assertThat(progress).containsKeys("status", "rowsCopied", "ranges"));

        writers.pauseAndDrain(http);
        Map<String, Object> reconciled = post(http, "reconcile", Map.of("table", "t_order"));
        assertThat(reconciled.get("t_order")).asString().contains("compared=").contains("missingInTarget=0")
                .contains("extraInTarget=0").contains("different=0");
        assertThat(verify(status(http)).get("lastReconcile")).asString().contains("different=0");
        writers.resume();

        step(http, "phase", Map.of("phase", "RAMP"), "RAMP", 0);
        AtomicLong probes = new AtomicLong(900_000);
        for (int percent : new int[] {10, 100, 0, 100}) {
            Thread.sleep(400);
            step(http, "percent", Map.of("percent", percent), "RAMP", percent);
            writers.pauseAndDrain(http);
            // The application's own transaction lands on its route's store; the other gets it by mirror.
            long probe = probes.incrementAndGet();
            orders.insert(probe, 5, "ROUTED");
            writers.expected.put(probe, "ROUTED");
            boolean onTarget = percent > 5; // user 5 is in bucket 5 (MODULO)
            assertThat((onTarget ? target : source).queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?",
                    Long.class, probe)).as("written on the %s at RAMP %d", onTarget ? "target" : "source", percent)
                    .isEqualTo(1);
            // Still paused: only drain. A second pauseAndDrain took the reentrant pause lock twice for one resume,
            // so the writers stayed paused from the first step on and stop() waited out its joins (30 s each).
            writers.drain(http);
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                    .as("stores after RAMP %d", percent).isEmpty();
            writers.assertNothingLost();
            writers.resume();
        }
        writers.stop();
        writers.pauseAndDrain(http);
        step(http, "phase", Map.of("phase", "TARGET_ONLY"), "TARGET_ONLY", 100);

        assertThat(writers.errors).as("application write errors").isEmpty();
        assertThat(writers.operations.get()).isGreaterThan(100);
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        writers.assertNothingLost();
        orders.insert(999_999, 5, "AFTER");
        assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 999999", String.class))
                .as("TARGET_ONLY writes the target").isEqualTo("AFTER");
        assertThat(http.get().uri("/health/dualwrite").retrieve().body(MAP)).containsEntry("status", "UP");
    }

    /** One ramp step over HTTP, and the GET output that shows it. */
    private static void step(RestClient http, String operation, Map<String, Object> body, String phase, int percent) {
        Map<String, Object> result = post(http, operation, body);
        assertThat(result).as(operation + " " + body).containsEntry("outcome", "ACTIVATED");
        Map<String, Object> now = status(http);
        assertThat(now).containsEntry("phase", phase);
        assertThat(routing(now)).containsEntry("percent", percent).doesNotContainKey("pending");
    }

    private static Map<String, Object> post(RestClient http, String operation, Map<String, Object> body) {
        return http.post().uri("/dualwrite/" + operation).contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().body(MAP);
    }

    /**
     * Writers over the history and new rows, each owning the ids of its parity, so that each keeps the
     * truth about its rows: the state its last successful write left.
     */
    private final class Writers {
        final java.util.Queue<Throwable> errors = new java.util.concurrent.ConcurrentLinkedQueue<>();
        final AtomicLong operations = new AtomicLong();
        final Map<Long, String> expected = new java.util.concurrent.ConcurrentHashMap<>();
        private final java.util.concurrent.locks.ReentrantReadWriteLock pause =
                new java.util.concurrent.locks.ReentrantReadWriteLock(true);
        private final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();

        void start(int count) {
            for (long id = 1; id <= HISTORY_ROWS; id++) {
                expected.put(id, "OLD");
            }
            for (int w = 0; w < count; w++) {
                int writer = w;
                Thread thread = new Thread(() -> run(writer, count), "writer-" + w);
                threads.add(thread);
                thread.start();
            }
        }

        private void run(int writer, int count) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long nextId = HISTORY_ROWS + 1 + writer;
            while (!stop.get()) {
                pause.readLock().lock();
                try {
                    int choice = random.nextInt(10);
                    if (choice < 3) {
                        long id = nextId;
                        nextId += count;
                        orders.insert(id, id % 97, "NEW");
                        expected.put(id, "NEW");
                    } else {
                        long id = 1 + writer + count * random.nextLong(HISTORY_ROWS / count);
                        if (choice < 8) {
                            String status = "PAID-" + operations.get();
                            if (orders.updateStatus(id, id % 97, status) == 1) {
                                expected.put(id, status);
                            }
                        } else if (orders.delete(id, id % 97) == 1) {
                            expected.remove(id);
                        }
                    }
                    operations.incrementAndGet();
                } catch (RuntimeException e) {
                    errors.add(e);
                } finally {
                    pause.readLock().unlock();
                }
            }
        }

        void pauseAndDrain(RestClient http) throws InterruptedException {
            pause.writeLock().lock();
            drain(http);
        }

        /** Waits until both mirrors have applied everything; the writers must be paused. */
        void drain(RestClient http) throws InterruptedException {
            assertThat(pause.isWriteLockedByCurrentThread()).as("writers paused").isTrue();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while ((pending(http, "mirror") > 0 || pending(http, "reverseMirror") > 0) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(pending(http, "mirror") + pending(http, "reverseMirror")).as("drained").isZero();
        }

        void resume() {
            pause.writeLock().unlock();
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
                assertThat(thread.isAlive()).as("%s stopped", thread.getName()).isFalse();
            }
        }

        void assertNothingLost() {
            Map<Long, String> actual = new java.util.TreeMap<>();
            for (Map<String, Object> row : target.queryForList("SELECT id, status FROM t_order")) {
                actual.put(((Number) row.get("id")).longValue(), String.valueOf(row.get("status")));
            }
            assertThat(actual).as("the target holds every write's last state").isEqualTo(new java.util.TreeMap<>(expected));
        }
    }

    private static Map<String, Object> status(RestClient http) {
        return http.get().uri("/dualwrite").retrieve().body(MAP);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> backfill(Map<String, Object> status) {
        Map<String, Object> tables = (Map<String, Object>) status.get("tables");
        return (Map<String, Object>) ((Map<String, Object>) tables.get("t_order")).get("backfill");
    }

    @SuppressWarnings("unchecked")
    private static long pending(RestClient http, String mirror) {
        Map<String, Object> status = (Map<String, Object>) status(http).get(mirror);
        return status == null ? 0 : ((Number) status.get("pending")).longValue();
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> routing(Map<String, Object> status) {
        return (Map<String, Object>) status.get("routing");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> verify(Map<String, Object> status) {
        return (Map<String, Object>) status.get("verify");
    }
}
