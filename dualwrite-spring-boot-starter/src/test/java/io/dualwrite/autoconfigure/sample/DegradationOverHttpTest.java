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
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.context.SpringBootTest.WebEnvironment;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.ParameterizedTypeReference;
import org.springframework.http.MediaType;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.test.annotation.DirtiesContext;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.web.client.RestClient;

/**
 * Degradation steered only through the actuator endpoint over HTTP: a key range and a user are marked, the
 * application's writes to them are skipped and counted while the rest is mirrored, a reconcile finds zero
 * differences, the range is purged from the target, and unmark + re-copy leave the whole table equal.
 * Subclasses choose the stores.
 */
@SpringBootTest(classes = OrderApplication.class, webEnvironment = WebEnvironment.RANDOM_PORT)
@DirtiesContext
abstract class DegradationOverHttpTest {

    private static final int ROWS = 200;
    private static final ParameterizedTypeReference<Map<String, Object>> MAP = new ParameterizedTypeReference<>() {
    };

    static TestDatabase source;
    static TestDatabase target;

    @LocalServerPort
    int port;

    @Autowired
    OrderDao orders;

    /** Both stores hold the same rows (user = id mod 10); the application points at them. */
    static void stores(Store sourceStore, Store targetStore, DynamicPropertyRegistry registry) {
        source = TestDatabase.create(sourceStore, "dghttp_src");
        target = TestDatabase.create(targetStore, "dghttp_tgt");
        for (TestDatabase db : List.of(source, target)) {
            db.execute(OrderTable.ddl(db.store(), "t_order"));
            List<Object[]> rows = new ArrayList<>();
            for (long id = 1; id <= ROWS; id++) {
                rows.add(new Object[] {id, id % 10, "OLD", Timestamp.valueOf("2025-03-01 10:00:00")});
            }
            new JdbcTemplate(db.dataSource()).batchUpdate(
                    "INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, ?, ?, ?)", rows);
        }
        StoreProperties.register(registry, source, target);
        registry.add("dualwrite.phase", () -> "DUAL_WRITE");
        registry.add("dualwrite.tables.t_order.routing-column", () -> "user_id");
        registry.add("dualwrite.control.poll-interval", () -> "200ms");
        registry.add("dualwrite.degraded.rows-per-second", () -> "100000");
        registry.add("dualwrite.schema.create", () -> "true");
        registry.add("dualwrite.management.write-enabled", () -> "true");
        registry.add("management.endpoints.web.exposure.include", () -> "dualwrite");
    }

    @AfterAll
    static void dropStores() {
        source.close();
        target.close();
    }

    @Test
    @SuppressWarnings("unchecked")
    void markSkipsAndCounts_reconcileIgnores_purgeDeletes_unmarkRecopies() throws Exception {
        RestClient http = RestClient.create("http://localhost:" + port + "/actuator");
        ResponseEntity<Map<String, Object>> noActor = http.post().uri("/dualwrite/degraded/mark")
                .contentType(MediaType.APPLICATION_JSON).body(Map.of("table", "t_order", "key", "1", "reason", "x"))
                .retrieve().onStatus(status -> true, (request, response) -> { }).toEntity(MAP);
        assertThat(noActor.getStatusCode().value()).isEqualTo(400);
        assertThat(noActor.getBody()).extractingByKey("error").asString().contains("actor");

        Map<String, Object> range = (Map<String, Object>) degraded(http, "mark", Map.of("table", "t_order",
                "from", "50", "to", "100", "actor", "alice", "reason", "rows 50..99 hold a bad import")).get("mark");
        Map<String, Object> user = (Map<String, Object>) degraded(http, "mark", Map.of("table", "t_order",
                "value", "3", "actor", "bob", "reason", "user 3 asked")).get("mark");
        assertThat(range).containsEntry("kind", "RANGE").containsEntry("markedBy", "alice");
        assertThat(user).containsEntry("kind", "ROUTING_VALUE").containsEntry("value", "3");

        for (long id = 1; id <= ROWS; id++) {
            orders.updateStatus(id, id % 10, "NEW");
        }
        drained(http);
        Map<String, Object> degradedStatus = (Map<String, Object>) status(http).get("degraded");
        assertThat((List<Object>) degradedStatus.get("marks")).hasSize(2);
        // 50 rows of the range, 20 of user 3, 5 of them in both.
        assertThat((Map<String, Object>) degradedStatus.get("skipped")).containsEntry("t_order", 65);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE status = 'OLD'", Long.class))
                .isEqualTo(65L);

        Map<String, Object> reconciled = post(http, "reconcile", Map.of("table", "t_order"));
        assertThat(reconciled.get("t_order")).asString().contains("missingInTarget=0").contains("extraInTarget=0")
                .contains("different=0");

        Map<String, Object> purged = degraded(http, "purge", Map.of("id", range.get("id"), "actor", "alice",
                "reason", "free the target"));
        assertThat(purged).containsEntry("outcome", "PURGED").containsEntry("purged", 50).containsEntry("refused", 0);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id >= 50 AND id < 100", Long.class))
                .isZero();
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(ROWS - 50L);

        for (Object id : List.of(range.get("id"), user.get("id"))) {
            Map<String, Object> unmarked = degraded(http, "unmark", Map.of("id", id, "actor", "carol",
                    "reason", "fixed"));
            if ("RUNNING".equals(unmarked.get("outcome"))) {
                awaitNoMarkRunning(http);
            } else {
                assertThat(unmarked).containsEntry("outcome", "UNMARKED");
            }
        }
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                .as("unmark + re-copy: the whole table is equal").isEmpty();
        assertThat((List<Object>) ((Map<String, Object>) status(http).get("degraded")).get("marks")).isEmpty();
    }

    private static Map<String, Object> degraded(RestClient http, String action, Map<String, Object> body) {
        return post(http, "degraded/" + action, body);
    }

    private static Map<String, Object> post(RestClient http, String operation, Map<String, Object> body) {
        return http.post().uri("/dualwrite/" + operation).contentType(MediaType.APPLICATION_JSON).body(body)
                .retrieve().body(MAP);
    }

    private static Map<String, Object> status(RestClient http) {
        return http.get().uri("/dualwrite").retrieve().body(MAP);
    }

    private static void drained(RestClient http) {
        assertThat(http.get().uri("/dualwrite/drained?waitSeconds=30").retrieve().body(MAP))
                .containsEntry("drained", true);
    }

    @SuppressWarnings("unchecked")
    private static void awaitNoMarkRunning(RestClient http) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            Map<String, Object> jobs = (Map<String, Object>) ((Map<String, Object>) status(http).get("degraded"))
                    .get("jobs");
            if (jobs.values().stream().noneMatch(outcome -> String.valueOf(outcome).endsWith("running"))) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("an unmark did not finish within 60 s");
    }
}
