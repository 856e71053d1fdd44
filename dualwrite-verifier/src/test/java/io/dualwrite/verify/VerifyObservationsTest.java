package io.dualwrite.verify;

import static io.micrometer.observation.tck.TestObservationRegistryAssert.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.micrometer.observation.Observation;
import io.micrometer.observation.tck.TestObservationRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: traces showed nothing of the library's work. A double read is an observation under the request
 * that sampled it (though it runs on the reader's threads), and each reconcile chunk is one.
 */
class VerifyObservationsTest {

    private final TestObservationRegistry registry = TestObservationRegistry.create();

    @Test
    void doubleRead_isObservedUnderTheRequestThatSampledIt_withItsOutcome() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "obs_dr")) {
            VerifyFixture.insert(f.source, 1, "PAID", "10.50", null, "2025-03-01 10:00:00");
            VerifyFixture.insert(f.target, 1, "PAID", "10.50", null, "2025-03-01 10:00:00");
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1).observationRegistry(registry).build();
            Observation request = Observation.start("http.server.requests", registry);
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {
                try (Observation.Scope scope = request.openScope()) {
                    assertThat(reader.read("t_order", 1L, () -> "row")).isEqualTo("row");
                } finally {
                    request.stop();
                }
                assertThat(reader.awaitQuiet(Duration.ofSeconds(20))).isTrue();
            }

            assertThat(registry).hasObservationWithNameEqualTo(VerifyMetrics.DOUBLE_READ_OBSERVATION).that()
                    .hasContextualNameEqualTo("dualwrite double read t_order")
                    .hasLowCardinalityKeyValue("table", "t_order").hasLowCardinalityKeyValue("outcome", "match")
                    .hasParentObservationEqualTo(request).doesNotHaveError().hasBeenStopped();
        }
    }

    @Test
    void reconcile_observesEveryChunk() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "obs_rc")) {
            for (long id = 1; id <= 25; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "10.50", null, "2025-03-01 10:00:00");
                VerifyFixture.insert(f.target, id, "PAID", "10.50", null, "2025-03-01 10:00:00");
            }
            ReconcileReport report = Reconciler.create(ReconcileConfig.builder().chunkSize(10).createTables(true)
                    .observationRegistry(registry).build(), f.tables(), f.source.dataSource(), f.target.dataSource(),
                    f.listener()).run("t_order");

            assertThat(report.compared()).isEqualTo(25);
            assertThat(registry).hasNumberOfObservationsWithNameEqualTo(VerifyMetrics.RECONCILE_CHUNK_OBSERVATION, 3)
                    .forAllObservationsWithNameEqualTo(VerifyMetrics.RECONCILE_CHUNK_OBSERVATION, chunk -> chunk
                            .hasLowCardinalityKeyValue("table", "t_order").hasLowCardinalityKeyValue("path", "checksum")
                            .doesNotHaveError());
        }
    }
}
