package io.dualwrite.autoconfigure.rental;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.autoconfigure.StoreProperties;
import io.dualwrite.autoconfigure.VerifyStatus;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.dualwrite.verify.VerifyEvent;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.web.client.RestClient;

/**
 * Issue 17's sample: the five-table {@link RentalSchema} migrated from MariaDB to PostgreSQL by an operator over
 * HTTP, with every type pair the issue names carried by properties alone (no transformer, no
 * {@code stringtype=unspecified}), foreign keys on both sides and a trigger-filled target column. With writers
 * on every table: DUAL_WRITE, the backfill of all tables (parents first), RAMP 0 -> 20 -> 100, the rollback to
 * 0 with writes on both stores mirrored each way, forward to 100, TARGET_ONLY. After each step the stores hold
 * the same rows by an independent comparison in each store's own SQL, the reconciler finds no difference, and
 * no double read and no reconcile ever reported a mismatch: a false one would be a type compared by its Java
 * class rather than its meaning.
 */
@SpringBootTest(classes = RentalApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
class MultiTableMigrationOverHttpTest {

    private static final ParameterizedTypeReference<Map<String, Object>> MAP = new ParameterizedTypeReference<>() {
    };

    static TestDatabase source;
    static TestDatabase target;

    @LocalServerPort
    int port;

    @Autowired
    RentalDao rentals;

    @Autowired
    VerifyStatus verifyStatus;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        source = TestDatabase.create(Store.MARIADB, "rental_src");
        target = TestDatabase.create(Store.POSTGRESQL, "rental_tgt");
        RentalSchema.createSource(source);
        RentalSchema.createTarget(target);
        RentalSchema.history(source);
        StoreProperties.register(registry, source, target);
        registry.add("dualwrite.phase", () -> "DUAL_WRITE");
        for (String table : RentalSchema.TABLES) {
            registry.add("dualwrite.tables." + table + ".routing-column", () -> "store_id");
        }
        // The source's DATETIME holds Paris wall-clock times; the target's timestamptz the instants they name.
        registry.add("dualwrite.tables.customer.convert.created.type", () -> "WALL_CLOCK_TO_INSTANT");
        registry.add("dualwrite.tables.customer.convert.created.zone", () -> "Europe/Paris");
        // A trigger computes it from the title; nothing maps it, and it is never compared.
        registry.add("dualwrite.tables.film.compare-ignore", () -> "fulltext");
        registry.add("dualwrite.verify.sample-rate", () -> "1.0");
        // A child's change may reach the target before its parent's: it is retried until the parent is there.
        registry.add("dualwrite.mirror.max-attempts", () -> "100");
        registry.add("dualwrite.mirror.max-backoff", () -> "200ms");
        registry.add("dualwrite.routing.step-timeout", () -> "20s");
        registry.add("dualwrite.control.poll-interval", () -> "200ms");
        registry.add("dualwrite.schema.create", () -> "true");
        registry.add("dualwrite.backfill.rows-per-second", () -> "4000");
        registry.add("dualwrite.backfill.chunk-size", () -> "50");
        registry.add("dualwrite.backfill.max-chunk-size", () -> "200");
        registry.add("dualwrite.management.write-enabled", () -> "true");
        registry.add("management.endpoints.web.exposure.include", () -> "dualwrite,health");
    }

    @AfterAll
    static void dropStores() {
        source.close();
        target.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void fiveTablesOfEveryTypePair_migrateAndRollBackWithoutADifference() throws Exception {
        Queue<VerifyEvent.MismatchFound> mismatches = new ConcurrentLinkedQueue<>();
        verifyStatus.forwardTo(event -> {
            if (event instanceof VerifyEvent.MismatchFound found) {
                mismatches.add(found);
            }
        });
        RestClient http = RestClient.create("http://localhost:" + port + "/actuator");
        Writers writers = new Writers();
        writers.start(2);

        Map<String, Object> started = post(http, "backfill", Map.of("action", "start"));
        assertThat(started).containsOnlyKeys(RentalSchema.TABLES);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!RentalSchema.TABLES.stream().allMatch(t -> "DONE".equals(backfill(status(http), t).get("status")))
                && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        for (String table : RentalSchema.TABLES) {
            assertThat(backfill(status(http), table)).as("backfill of %s", table).containsEntry("status", "DONE");
        }
        writers.backfilled.set(true);
        checkpoint(http, writers, "after the backfill", true);

        step(http, "phase", Map.of("phase", "RAMP"), "RAMP", 0);
        int probes = 0;
        for (int percent : new int[] {20, 100, 0, 100}) {
            Thread.sleep(300);
            step(http, "percent", Map.of("percent", percent), "RAMP", percent);
            writers.pause.writeLock().lock();
            try {
                // The application's own transaction lands on its store's route; the other store gets it by mirror.
                long probe = RentalSchema.rentalId(RentalSchema.customerId(5, 1), 0) + 1_000_000L * ++probes;
                rentals.rent(5, probe, RentalSchema.filmId(5, 1), RentalSchema.customerId(5, 1), BigDecimal.TEN);
                writers.live.add(probe);
                boolean onTarget = percent > 5; // store 5 is in bucket 5 (MODULO)
                assertThat((onTarget ? target : source).queryForObject("SELECT COUNT(*) FROM rental WHERE rental_id = ?",
                        Long.class, probe)).as("written on the %s at RAMP %d", onTarget ? "target" : "source", percent)
                        .isEqualTo(1);
            } finally {
                writers.pause.writeLock().unlock();
            }
            checkpoint(http, writers, "RAMP " + percent, true);
        }
        writers.stop();
        drain(http);
        step(http, "phase", Map.of("phase", "TARGET_ONLY"), "TARGET_ONLY", 100);
        rentals.updateFilm(3, RentalSchema.filmId(3, 1), "NC-17", List.of("Behind the Scenes", "Trailers"), 2001);
        assertThat(target.queryForObject("SELECT array_to_string(special_features, ',') || ' ' || rating || ' '"
                + " || (fulltext IS NOT NULL) FROM film WHERE film_id = ?", String.class, RentalSchema.filmId(3, 1)))
                .as("TARGET_ONLY writes the target").isEqualTo("Behind the Scenes,Trailers NC-17 true");

        assertThat(writers.errors).as("application write errors").isEmpty();
        assertThat(writers.operations.get()).isGreaterThan(100);
        assertThat(mismatches).as("mismatches reported by double reads and reconciles").isEmpty();
        Map<String, Object> verify = (Map<String, Object>) status(http).get("verify");
        assertThat(((Number) verify.get("readsCompared")).longValue()).as("double reads compared: %s", verify).isPositive();
        assertThat(verify).containsEntry("readMismatches", 0);
    }

    /** Pauses the writers, drains both mirrors, and compares: independently, then by the reconciler. */
    @SuppressWarnings("unchecked")
    private void checkpoint(RestClient http, Writers writers, String when, boolean resume) throws Exception {
        writers.pause.writeLock().lock();
        try {
            drain(http);
            Map<String, Map<Long, String>> sourceRows = RentalSchema.sourceRows(source);
            assertThat(RentalSchema.differences(sourceRows, RentalSchema.targetRows(target)))
                    .as("rows that differ %s", when).isEmpty();
            assertThat(sourceRows.get("rental").keySet()).as("the rentals the writers left, %s", when)
                    .isEqualTo(new TreeSet<>(writers.liveRentals()));
            Map<String, Object> reconciled = post(http, "reconcile", Map.of());
            for (String table : RentalSchema.TABLES) {
                assertThat((Map<String, Object>) reconciled.get(table)).as("reconcile of %s %s", table, when)
                        .containsEntry("complete", true).containsEntry("missingInTarget", 0)
                        .containsEntry("extraInTarget", 0).containsEntry("different", 0)
                        .containsEntry("repaired", 0);
            }
        } finally {
            if (resume) {
                writers.pause.writeLock().unlock();
            }
        }
    }

    private static void drain(RestClient http) {
        Map<String, Object> drained = http.get().uri("/dualwrite/drained?waitSeconds=60").retrieve().body(MAP);
        assertThat(drained).containsEntry("drained", true);
    }

    @SuppressWarnings("unchecked")
    private static void step(RestClient http, String operation, Map<String, Object> body, String phase, int percent) {
        Map<String, Object> result = post(http, operation, body);
        assertThat(result).as(operation + " " + body).containsEntry("outcome", "ACTIVATED");
        Map<String, Object> now = status(http);
        assertThat(now).containsEntry("phase", phase);
        assertThat((Map<String, Object>) now.get("routing")).containsEntry("percent", percent);
    }

    private static Map<String, Object> post(RestClient http, String operation, Map<String, Object> body) {
        return http.post().uri("/dualwrite/" + operation).contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().body(MAP);
    }

    private static Map<String, Object> status(RestClient http) {
        return http.get().uri("/dualwrite").retrieve().body(MAP);
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> backfill(Map<String, Object> status, String table) {
        Map<String, Object> tables = (Map<String, Object>) status.get("tables");
        return (Map<String, Object>) ((Map<String, Object>) tables.get(table)).get("backfill");
    }

    /**
     * Writers over every table; writer {@code w} owns the stores {@code s} with {@code s % count == w}, so each
     * knows which of its rentals are live. Each operation reads a customer and a film back through the
     * double-read methods.
     */
    private final class Writers {
        final Queue<Throwable> errors = new ConcurrentLinkedQueue<>();
        final AtomicLong operations = new AtomicLong();
        final ReentrantReadWriteLock pause = new ReentrantReadWriteLock(true);
        private final AtomicBoolean stop = new AtomicBoolean();
        /**
         * Whether the backfill is done: before, rows are changed and deleted but none is added, and nothing is
         * read back. A child inserted after its parent table's backfill finished may be copied before the mirror
         * brings its new parent, and is then recorded as a failed row that only BackfillRunner.retryFailedRows
         * copies again (no endpoint operation does); and a read before the backfill is done is not compared,
         * and keeps its table uncompared for the next ten seconds.
         */
        final AtomicBoolean backfilled = new AtomicBoolean();
        private final Set<Long> live = ConcurrentHashMap.newKeySet();
        private final List<Thread> threads = new ArrayList<>();

        void start(int count) {
            for (int store = 0; store < RentalSchema.STORES; store++) {
                for (int n = 1; n <= RentalSchema.CUSTOMERS_PER_STORE; n++) {
                    for (int r = 1; r <= RentalSchema.RENTALS_PER_CUSTOMER; r++) {
                        live.add(RentalSchema.rentalId(RentalSchema.customerId(store, n), r));
                    }
                }
            }
            for (int w = 0; w < count; w++) {
                int writer = w;
                Thread thread = new Thread(() -> run(writer, count), "rental-writer-" + w);
                threads.add(thread);
                thread.start();
            }
        }

        Set<Long> liveRentals() {
            return live;
        }

        private void run(int writer, int count) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            int nextRental = 3;
            int nextFilm = RentalSchema.FILMS_PER_STORE + 1;
            while (!stop.get()) {
                pause.readLock().lock();
                try {
                    int store = writer + count * random.nextInt(RentalSchema.STORES / count);
                    long customer = RentalSchema.customerId(store, 1 + random.nextInt(RentalSchema.CUSTOMERS_PER_STORE));
                    long film = RentalSchema.filmId(store, 1 + random.nextInt(RentalSchema.FILMS_PER_STORE));
                    switch (random.nextInt(6)) {
                        case 0 -> {
                            long rental = RentalSchema.rentalId(customer, nextRental++ % 10);
                            if (backfilled.get() && !live.contains(rental)) {
                                rentals.rent(store, rental, film, customer, new BigDecimal("1.50"));
                                live.add(rental);
                            }
                        }
                        case 1 -> rentals.giveBack(store, RentalSchema.rentalId(customer, 1 + random.nextInt(9)));
                        case 2 -> {
                            long rental = RentalSchema.rentalId(customer, 1 + random.nextInt(9));
                            if (rentals.cancel(store, rental) == 1) {
                                live.remove(rental);
                            }
                        }
                        case 3 -> rentals.updateCustomer(store, customer, random.nextBoolean(),
                                random.nextBoolean() ? null : "{\"lang\": \"de\", \"n\": " + operations.get() + "}",
                                random.nextInt(32), random.nextBoolean() ? new BigDecimal("18446744073709551615")
                                        : BigDecimal.valueOf(random.nextLong(1_000_000)),
                                random.nextBoolean() ? null : new byte[] {(byte) random.nextInt(256), 0});
                        case 4 -> rentals.updateFilm(store, film, RentalSchema.RATINGS[random.nextInt(5)],
                                features(random), random.nextBoolean() ? null : 1901 + random.nextInt(254));
                        default -> {
                            if (backfilled.get() && nextFilm < 99) {
                                long added = RentalSchema.filmId(store, nextFilm++);
                                rentals.addFilm(store, added, "New film " + added, RentalSchema.RATINGS[random.nextInt(5)]);
                            }
                        }
                    }
                    if (backfilled.get()) {
                        rentals.findCustomer(store, customer);
                        rentals.findFilm(store, film);
                    }
                    operations.incrementAndGet();
                } catch (RuntimeException e) {
                    errors.add(e);
                } finally {
                    pause.readLock().unlock();
                }
            }
        }

        /** Some members in an order of the writer's own, not the SET's; sometimes none. */
        private List<String> features(ThreadLocalRandom random) {
            List<String> members = new ArrayList<>(List.of(RentalSchema.FEATURES));
            java.util.Collections.shuffle(members, random);
            return members.subList(0, random.nextInt(members.size() + 1));
        }

        void stop() throws InterruptedException {
            stop.set(true);
            for (Thread thread : threads) {
                thread.join(TimeUnit.SECONDS.toMillis(30));
            }
        }
    }
}
