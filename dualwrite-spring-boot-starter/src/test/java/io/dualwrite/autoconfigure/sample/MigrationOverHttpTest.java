package io.dualwrite.autoconfigure.sample;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
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
 * configured only through properties, writers running, the backfill started and followed over HTTP
 * through the actuator endpoint, and both stores identical at the end. Subclasses choose the stores.
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
        target.execute(OrderTable.ddl(targetStore, "orders"));
        JdbcTemplate history = new JdbcTemplate(source.dataSource());
        List<Object[]> rows = new ArrayList<>();
        for (long id = 1; id <= HISTORY_ROWS; id++) {
            rows.add(new Object[] {id, id % 97, "OLD", new Timestamp(System.currentTimeMillis())});
        }
        history.batchUpdate("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, ?, ?, ?)", rows);
        registry.add("spring.datasource.url", source::jdbcUrl);
        registry.add("spring.datasource.username", source::username);
        registry.add("spring.datasource.password", source::password);
        registry.add("dualwrite.target.url", target::jdbcUrl);
        registry.add("dualwrite.target.username", target::username);
        registry.add("dualwrite.target.password", target::password);
        registry.add("dualwrite.phase", () -> "DUAL_WRITE");
        registry.add("dualwrite.tables.t_order.target-table", () -> "orders");
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
    void writersBackfillAndEndpoint_leaveBothStoresIdentical() throws Exception {
        RestClient http = RestClient.create("http://localhost:" + port + "/actuator");
        assertThat(status(http)).containsEntry("phase", "DUAL_WRITE");

        ExecutorService writers = Executors.newFixedThreadPool(2);
        AtomicLong nextId = new AtomicLong(HISTORY_ROWS + 1);
        List<Future<?>> running = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            running.add(writers.submit(() -> write(nextId)));
        }
        Map<String, Object> started = http.post().uri("/dualwrite/backfill").contentType(MediaType.APPLICATION_JSON)
                .body(Map.of("action", "start", "table", "t_order")).retrieve().body(MAP);
        assertThat(started).containsKey("t_order");

        List<Map<String, Object>> seen = new ArrayList<>();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (!"DONE".equals(backfill(status(http)).get("status")) && System.nanoTime() < deadline) {
            seen.add(backfill(status(http)));
            Thread.sleep(100);
        }
        for (Future<?> writer : running) {
            writer.get(120, TimeUnit.SECONDS);
        }
        writers.shutdown();

        Map<String, Object> done = backfill(status(http));
        assertThat(done).containsEntry("status", "DONE").containsEntry("eta", "PT0S");
        assertThat(((Number) done.get("rowsCopied")).longValue()).isGreaterThanOrEqualTo(HISTORY_ROWS / 2);
        assertThat(seen).as("progress read while the backfill ran").isNotEmpty()
                .allSatisfy(progress -> assertThat(progress).containsKeys("status", "rowsCopied", "ranges"));

        while (pending(http) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(pending(http)).isZero();
        assertThat(OrderTable.differences(source, "t_order", target, "orders", "id")).isEmpty();
        Map<String, Object> health = http.get().uri("/health/dualwrite").retrieve().body(MAP);
        assertThat(health).containsEntry("status", "UP");
    }

    /** Inserts new rows and updates or deletes history, through the annotated DAO. */
    private void write(AtomicLong nextId) {
        ThreadLocalRandom random = ThreadLocalRandom.current();
        for (int i = 0; i < OPERATIONS_PER_WRITER; i++) {
            int choice = random.nextInt(10);
            if (choice < 3) {
                orders.insert(nextId.getAndIncrement(), random.nextLong(100), "NEW");
            } else if (choice < 8) {
                orders.updateStatus(1 + random.nextLong(HISTORY_ROWS), "PAID-" + i);
            } else {
                orders.delete(1 + random.nextLong(HISTORY_ROWS));
            }
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
    private static long pending(RestClient http) {
        return ((Number) ((Map<String, Object>) status(http).get("mirror")).get("pending")).longValue();
    }
}
