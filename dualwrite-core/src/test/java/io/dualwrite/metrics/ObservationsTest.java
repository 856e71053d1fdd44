package io.dualwrite.metrics;

import static io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.observation.Observation;
import io.micrometer.observation.tck.TestObservationRegistry;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 18: traces showed nothing of the library's work. Applies and backfill chunks are observations now:
 * a SYNC apply under the request that committed, with the table, and the error when it fails.
 */
class ObservationsTest {

    private final TestObservationRegistry registry = TestObservationRegistry.create();
    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void stores() {
        source = TestDatabase.create(Store.H2, "obs_src");
        target = TestDatabase.create(Store.H2, "obs_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"), "INSERT INTO t_order (id, user_id, status, gmt_modified)"
                + " SELECT X, 1, 'NEW', TIMESTAMP '2026-01-01 00:00:00' FROM SYSTEM_RANGE(1, 250)");
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
    }

    @AfterEach
    void closeStores() {
        source.close();
        target.close();
    }

    @Test
    void syncApply_isObservedUnderTheRequest_andAFailedOneCarriesItsError() throws Exception {
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                source.dataSource(), target.dataSource(), false);
        MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.SYNC).maxAttempts(1).observationRegistry(registry)
                .build();
        try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                new EventPublisher())) {
            mirror.start();
            Observation request = Observation.start("http.server.requests", registry);
            try (Observation.Scope scope = request.openScope()) {
                new JdbcTemplate(source.dataSource()).update("UPDATE t_order SET status = 'PAID' WHERE id = 7");
                mirror.recorder().record("t_order", 7L);
            } finally {
                request.stop();
            }
            assertThat(registry).hasObservationWithNameEqualTo(MeterNames.MIRROR_APPLY_OBSERVATION).that()
                    .hasContextualNameEqualTo("dualwrite apply t_order")
                    .hasLowCardinalityKeyValue("table", "t_order").hasLowCardinalityKeyValue("direction", "forward")
                    .hasHighCardinalityKeyValue("keys", "1").hasHighCardinalityKeyValue("deferred", "0")
                    .hasParentObservationEqualTo(request).doesNotHaveError().hasBeenStarted().hasBeenStopped();

            registry.clear();
            target.execute("ALTER TABLE t_order ADD CONSTRAINT refuse CHECK (status <> 'REFUSED')");
            new JdbcTemplate(source.dataSource()).update("UPDATE t_order SET status = 'REFUSED' WHERE id = 8");
            mirror.recorder().record("t_order", 8L);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
            assertThat(registry).hasAnObservation(apply -> apply.hasNameEqualTo(MeterNames.MIRROR_APPLY_OBSERVATION)
                    .hasLowCardinalityKeyValue("table", "t_order").hasError());
        }
    }

    @Test
    void backfillChunks_areObservedWithTheirTableAndRows() throws Exception {
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                source.dataSource(), target.dataSource(), false);
        BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true).chunkSize(100)
                .chunkSizeBounds(100, 100).rangesPerTable(1).observationRegistry(registry).build(), tables,
                source.dataSource(), target.dataSource(), new EventPublisher());
        try {
            runner.start("t_order");
            assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(20))).isTrue();
        } finally {
            runner.close();
        }

        // 100 + 100 + 50 rows; the last, short chunk ends the range.
        assertThat(registry).hasNumberOfObservationsWithNameEqualTo(MeterNames.BACKFILL_CHUNK_OBSERVATION, 3)
                .forAllObservationsWithNameEqualTo(MeterNames.BACKFILL_CHUNK_OBSERVATION, chunk -> chunk
                        .hasLowCardinalityKeyValue("table", "t_order").hasHighCardinalityKeyValue("range", "0")
                        .hasHighCardinalityKeyValue("failed.rows", "0").doesNotHaveError())
                .hasAnObservation(chunk -> chunk.hasNameEqualTo(MeterNames.BACKFILL_CHUNK_OBSERVATION)
                        .hasHighCardinalityKeyValue("rows", "50"));
    }
}
