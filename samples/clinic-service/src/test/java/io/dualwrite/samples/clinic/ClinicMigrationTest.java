package io.dualwrite.samples.clinic;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.HttpClientErrorException;
import org.springframework.web.client.RestClient;

/**
 * Issue 18's proof: the clinic (Spring Data JPA, {@code IDENTITY} ids, Flyway migrations for both stores,
 * owners, pets and visits related by foreign keys, the owner bound as routing key by the library's filter)
 * migrates from MariaDB to PostgreSQL while HTTP clients register owners, add and rename pets and add and cancel
 * visits: SOURCE_ONLY, DUAL_WRITE, the backfill, RAMP 10, 50 and 100 with inserts on both stores, the rollback
 * to DUAL_WRITE and forward again, TARGET_ONLY. Zero differences (reconcile and a row compare after each step),
 * zero id collisions (every id the API hands out is new, and every row holds what its last write left), zero
 * application errors.
 */
@SpringBootTest(classes = ClinicApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
class ClinicMigrationTest {

    private static final ParameterizedTypeReference<Map<String, Object>> MAP = new ParameterizedTypeReference<>() {
    };
    private static final List<String> TABLES = List.of("owners", "pets", "visits");
    private static final int SEEDED_OWNERS = 20;
    private static final int CLIENTS = 2;

    static TestDatabase source;
    static TestDatabase target;

    @LocalServerPort
    int port;

    @DynamicPropertySource
    static void stores(DynamicPropertyRegistry registry) {
        source = TestDatabase.create(Store.MARIADB, "clinic_src");
        target = TestDatabase.create(Store.POSTGRESQL, "clinic_tgt");
        registry.add("spring.datasource.url", source::jdbcUrl);
        registry.add("spring.datasource.username", source::username);
        registry.add("spring.datasource.password", source::password);
        registry.add("dualwrite.target.url", target::jdbcUrl);
        registry.add("dualwrite.target.username", target::username);
        registry.add("dualwrite.target.password", target::password);
        registry.add("dualwrite.phase", () -> "SOURCE_ONLY");
        registry.add("dualwrite.control.poll-interval", () -> "200ms");
        registry.add("dualwrite.routing.step-timeout", () -> "20s");
        registry.add("dualwrite.backfill.chunk-size", () -> "100");
        registry.add("dualwrite.backfill.max-chunk-size", () -> "400");
    }

    @AfterAll
    static void dropStores() {
        source.close();
        target.close();
    }

    @Test
    void wholeMigration_underHttpLoad_noDifferencesNoCollisionsNoErrors() throws Exception {
        RestClient api = RestClient.create("http://localhost:" + port);
        RestClient actuator = RestClient.create("http://localhost:" + port + "/actuator");
        assertThat(status(actuator)).containsEntry("phase", "SOURCE_ONLY");
        assertThat(source.queryForObject("SELECT COUNT(*) FROM flyway_schema_history", Long.class)).isPositive();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM flyway_schema_history", Long.class)).isPositive();

        Clinic clinic = new Clinic(api);
        clinic.seed();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM pets", Long.class)).as("nothing mirrored yet").isZero();

        step(actuator, "phase", Map.of("phase", "DUAL_WRITE"), "DUAL_WRITE", 0);
        clinic.start();
        post(actuator, "backfill", Map.of("action", "start"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!TABLES.stream().allMatch(table -> "DONE".equals(backfill(status(actuator), table).get("status")))
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        TABLES.forEach(table -> assertThat(backfill(status(actuator), table)).as(table).containsEntry("status", "DONE"));
        clinic.pauseAndDrain(actuator);
        assertReconciled(actuator);
        clinic.resume();

        step(actuator, "phase", Map.of("phase", "RAMP"), "RAMP", 0);
        for (int percent : new int[] {10, 50, 100}) {
            step(actuator, "percent", Map.of("percent", percent), "RAMP", percent);
            clinic.runFor(800);
            clinic.pauseAndDrain(actuator);
            assertSameRows("RAMP " + percent);
            clinic.assertNothingLost();
            clinic.resume();
        }
        // Registering an owner carries no key and takes the default route (SOURCE); pets and visits are routed.
        for (String table : List.of("pets", "visits")) {
            String sequence = target.queryForObject("SELECT pg_get_serial_sequence(?, 'id')", String.class, table);
            assertThat(target.queryForObject("SELECT is_called FROM " + sequence, Boolean.class))
                    .as("the target generated %s ids during RAMP", table).isTrue();
        }

        step(actuator, "phase", Map.of("phase", "DUAL_WRITE"), "DUAL_WRITE", 100);
        clinic.runFor(500);
        step(actuator, "phase", Map.of("phase", "RAMP"), "RAMP", 100);
        clinic.runFor(800);

        clinic.stop();
        clinic.pauseAndDrain(actuator);
        assertReconciled(actuator);
        assertSameRows("before TARGET_ONLY");
        clinic.assertNothingLost();
        step(actuator, "phase", Map.of("phase", "TARGET_ONLY"), "TARGET_ONLY", 100);
        long lateOwner = clinic.registerOwner("after-cut-over");
        assertThat(target.queryForObject("SELECT name FROM owners WHERE id = ?", String.class, lateOwner))
                .isEqualTo("after-cut-over");
        long latePet = clinic.addPet(lateOwner, "late-pet");
        assertThat(target.queryForObject("SELECT owner_id FROM pets WHERE id = ?", Long.class, latePet))
                .isEqualTo(lateOwner);

        assertThat(clinic.errors).as("application errors").isEmpty();
        assertThat(clinic.collisions).as("ids handed out twice").isEmpty();
        assertThat(clinic.operations.get()).isGreaterThan(200);
        assertThat(actuator.get().uri("/health/dualwrite").retrieve().body(MAP)).containsEntry("status", "UP");
    }

    /** The clinic's clients: each owns the owners it registered and a share of the seeded ones. */
    private final class Clinic {
        final Queue<String> errors = new ConcurrentLinkedQueue<>();
        final Queue<String> collisions = new ConcurrentLinkedQueue<>();
        final AtomicLong operations = new AtomicLong();
        private final RestClient api;
        private final Map<String, Set<Long>> handedOut = new ConcurrentHashMap<>();
        private final Map<Long, String> owners = new ConcurrentHashMap<>();
        private final Map<Long, Long> petOwner = new ConcurrentHashMap<>();
        private final Map<Long, String> petName = new ConcurrentHashMap<>();
        private final Map<Long, Long> visitPet = new ConcurrentHashMap<>();
        private final Map<Long, String> visitText = new ConcurrentHashMap<>();
        private final ReentrantReadWriteLock pause = new ReentrantReadWriteLock(true);
        private final AtomicBoolean stop = new AtomicBoolean();
        private final List<Thread> threads = new ArrayList<>();

        Clinic(RestClient api) {
            this.api = api;
        }

        void seed() {
            for (int o = 0; o < SEEDED_OWNERS; o++) {
                long owner = registerOwner("owner-" + o);
                for (int p = 0; p < 2; p++) {
                    long pet = addPet(owner, "pet-" + o + "-" + p);
                    addVisit(owner, pet, "first visit of pet-" + o + "-" + p);
                }
            }
        }

        void start() {
            for (int c = 0; c < CLIENTS; c++) {
                int client = c;
                Thread thread = new Thread(() -> run(client), "clinic-client-" + c);
                threads.add(thread);
                thread.start();
            }
        }

        /** One client's loop; it only changes rows of owners it owns, so its expectations stay exact. */
        private void run(int client) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long n = 0;
            while (!stop.get()) {
                pause.readLock().lock();
                try {
                    n++;
                    List<Long> mine = owners.keySet().stream().filter(id -> id % CLIENTS == client).toList();
                    int choice = random.nextInt(10);
                    if (choice == 0 || mine.isEmpty()) {
                        registerOwner("owner-c" + client + "-" + n);
                        continue;
                    }
                    long owner = mine.get(random.nextInt(mine.size()));
                    List<Long> pets = petOwner.entrySet().stream().filter(e -> e.getValue() == owner)
                            .map(Map.Entry::getKey).toList();
                    if (choice < 4 || pets.isEmpty()) {
                        addPet(owner, "pet-c" + client + "-" + n);
                        continue;
                    }
                    long pet = pets.get(random.nextInt(pets.size()));
                    if (choice < 6) {
                        api.put().uri("/owners/{o}/pets/{p}", owner, pet).contentType(MediaType.TEXT_PLAIN)
                                .body("renamed-c" + client + "-" + n).retrieve().toBodilessEntity();
                        petName.put(pet, "renamed-c" + client + "-" + n);
                        operations.incrementAndGet();
                        continue;
                    }
                    List<Long> visits = visitPet.entrySet().stream().filter(e -> e.getValue() == pet)
                            .map(Map.Entry::getKey).toList();
                    if (choice < 9 || visits.isEmpty()) {
                        addVisit(owner, pet, "visit-c" + client + "-" + n);
                    } else {
                        long visit = visits.get(random.nextInt(visits.size()));
                        api.delete().uri("/owners/{o}/pets/{p}/visits/{v}", owner, pet, visit).retrieve()
                                .toBodilessEntity();
                        visitPet.remove(visit);
                        visitText.remove(visit);
                        operations.incrementAndGet();
                    }
                } catch (RuntimeException e) {
                    errors.add(e.toString());
                } finally {
                    pause.readLock().unlock();
                }
            }
        }

        long registerOwner(String name) {
            long id = created("owners", api.post().uri("/owners").contentType(MediaType.TEXT_PLAIN).body(name));
            owners.put(id, name);
            return id;
        }

        long addPet(long owner, String name) {
            long id = created("pets", api.post().uri("/owners/{o}/pets", owner).contentType(MediaType.TEXT_PLAIN)
                    .body(name));
            petOwner.put(id, owner);
            petName.put(id, name);
            return id;
        }

        long addVisit(long owner, long pet, String text) {
            long id = created("visits", api.post().uri("/owners/{o}/pets/{p}/visits", owner, pet)
                    .contentType(MediaType.TEXT_PLAIN).body(text));
            visitPet.put(id, pet);
            visitText.put(id, text);
            return id;
        }

        private long created(String table, RestClient.RequestBodySpec request) {
            long id = ((Number) request.retrieve().body(MAP).get("id")).longValue();
            if (!handedOut.computeIfAbsent(table, t -> ConcurrentHashMap.newKeySet()).add(id)) {
                collisions.add(table + " id " + id);
            }
            operations.incrementAndGet();
            return id;
        }

        void runFor(long millis) throws InterruptedException {
            Thread.sleep(millis);
        }

        void pauseAndDrain(RestClient actuator) throws InterruptedException {
            pause.writeLock().lock();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (pending(actuator) > 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertThat(pending(actuator)).as("drained").isZero();
        }

        void resume() {
            pause.writeLock().unlock();
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
        }

        /** Both stores hold exactly what every client's last successful write left. */
        void assertNothingLost() {
            for (TestDatabase store : List.of(source, target)) {
                assertThat(column(store, "SELECT id, name AS v FROM owners")).as("owners on " + store.store())
                        .isEqualTo(new TreeMap<>(owners));
                assertThat(column(store, "SELECT id, name AS v FROM pets")).as("pets on " + store.store())
                        .isEqualTo(new TreeMap<>(petName));
                assertThat(column(store, "SELECT id, owner_id AS v FROM pets")).as("pet owners on " + store.store())
                        .isEqualTo(strings(petOwner));
                assertThat(column(store, "SELECT id, description AS v FROM visits")).as("visits on " + store.store())
                        .isEqualTo(new TreeMap<>(visitText));
                assertThat(column(store, "SELECT id, pet_id AS v FROM visits")).as("visit pets on " + store.store())
                        .isEqualTo(strings(visitPet));
            }
        }
    }

    private static Map<Long, String> strings(Map<Long, Long> values) {
        Map<Long, String> out = new TreeMap<>();
        values.forEach((k, v) -> out.put(k, String.valueOf(v)));
        return out;
    }

    private static Map<Long, String> column(TestDatabase store, String sql) {
        Map<Long, String> out = new TreeMap<>();
        for (Map<String, Object> row : store.queryForList(sql)) {
            out.put(((Number) row.get("id")).longValue(), String.valueOf(row.get("v")));
        }
        return out;
    }

    /** Every column of every row, the same on both stores. */
    private static void assertSameRows(String when) {
        for (String table : TABLES) {
            assertThat(rows(target, table)).as(table + " " + when).isEqualTo(rows(source, table));
        }
    }

    private static List<Map<String, Object>> rows(TestDatabase store, String table) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> row : store.queryForList("SELECT * FROM " + table + " ORDER BY id")) {
            Map<String, Object> normal = new LinkedHashMap<>();
            row.forEach((column, value) -> normal.put(column.toLowerCase(java.util.Locale.ROOT),
                    value instanceof LocalDateTime time ? Timestamp.valueOf(time)
                            : value instanceof Number number ? (Object) number.longValue() : value));
            rows.add(normal);
        }
        return rows;
    }

    private static void assertReconciled(RestClient actuator) {
        Map<String, Object> reconciled = post(actuator, "reconcile", Map.of());
        for (String table : TABLES) {
            assertThat(reconciled.get(table)).as(table).asString().contains("missingInTarget=0")
                    .contains("extraInTarget=0").contains("different=0");
        }
    }

    /**
     * Asks for one step and checks it took. A step into RAMP moves the id counters apart; under this test's insert
     * load a counter can move past the new range while it is being moved, and the library then refuses the step
     * with 409 and "ask for the step again" (nothing changed); the test asks again, as an operator would.
     */
    private static void step(RestClient actuator, String operation, Map<String, Object> body, String phase,
            int percent) {
        Map<String, Object> result = null;
        for (int attempt = 1; result == null; attempt++) {
            try {
                result = post(actuator, operation, body);
            } catch (HttpClientErrorException.Conflict refused) {
                if (attempt == 5 || !refused.getResponseBodyAsString().contains("ask for the step again")) {
                    throw refused;
                }
            }
        }
        assertThat(result).as(operation + " " + body).containsEntry("outcome", "ACTIVATED");
        Map<String, Object> now = status(actuator);
        assertThat(now).containsEntry("phase", phase);
        if (phase.equals("RAMP")) {
            assertThat(routing(now)).containsEntry("percent", percent);
        }
    }

    private static Map<String, Object> post(RestClient actuator, String operation, Map<String, Object> body) {
        return actuator.post().uri("/dualwrite/" + operation).contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().body(MAP);
    }

    private static Map<String, Object> status(RestClient actuator) {
        return actuator.get().uri("/dualwrite").retrieve().body(MAP);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> backfill(Map<String, Object> status, String table) {
        Map<String, Object> tables = (Map<String, Object>) status.get("tables");
        return (Map<String, Object>) ((Map<String, Object>) tables.get(table)).get("backfill");
    }

    @SuppressWarnings("unchecked")
    private static long pending(RestClient actuator) {
        Map<String, Object> status = status(actuator);
        long pending = 0;
        for (String mirror : List.of("mirror", "reverseMirror")) {
            Map<String, Object> m = (Map<String, Object>) status.get(mirror);
            pending += m == null ? 0 : ((Number) m.get("pending")).longValue();
        }
        return pending;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> routing(Map<String, Object> status) {
        return (Map<String, Object>) status.get("routing");
    }
}
