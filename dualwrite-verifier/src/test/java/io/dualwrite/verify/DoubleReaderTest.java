package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.Store;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

class DoubleReaderTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Duration QUIET = Duration.ofSeconds(20);

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void sampledMismatch_isLoggedOnce_withoutMaskedValues(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dr_mask")) {
            VerifyFixture.insert(f.source, 1, "PAID", "10.50", "secret-source-note", "2025-03-01 10:00:00");
            VerifyFixture.insert(f.target, 1, "NEW", "10.5", "secret-target-note", "2025-03-01 10:00:00");
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1)
                    .rules(ComparisonRules.builder().mask("t_order", "note").build()).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {

                assertThat(reader.read("t_order", 1, () -> "from the primary")).isEqualTo("from the primary");
                assertThat(reader.read("t_order", 1L, () -> "again")).isEqualTo("again");
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.lines()).hasSize(1);
            String line = f.lines().get(0);
            assertThat(line).doesNotContain("secret-source-note").doesNotContain("secret-target-note");
            JsonNode json = JSON.readTree(line);
            assertThat(json.get("check").asString()).isEqualTo("double-read");
            assertThat(json.get("table").asString()).isEqualTo("t_order");
            assertThat(json.get("key").asLong()).isEqualTo(1);
            assertThat(json.get("kind").asString()).isEqualTo("DIFFERENT");
            assertThat(json.get("route").asString()).isEqualTo("SOURCE");
            assertThat(json.get("columns").toString()).isEqualTo("[\"status\",\"note\"]");
            assertThat(json.get("masked").toString()).isEqualTo("[\"note\"]");
            assertThat(json.get("source").toString()).isEqualTo("{\"status\":\"PAID\"}");
            assertThat(json.get("target").toString()).isEqualTo("{\"status\":\"NEW\"}");
            assertThat(json.get("sourceVersion").asString()).startsWith("2025-03-01T10:00");
            assertThat(json.get("targetVersion").asString()).startsWith("2025-03-01T10:00");
            assertThat(f.events(VerifyEvent.MismatchFound.class)).singleElement()
                    .satisfies(found -> assertThat(found.mismatch().sourceValues()).doesNotContainKey("note"));
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void lagThatCatchesUp_isNotReported(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dr_lag")) {
            VerifyFixture.insert(f.source, 1, "PAID", "10.50", null, "2025-03-01 10:00:00");
            VerifyFixture.insert(f.target, 1, "NEW", "10.50", null, "2025-03-01 09:00:00");
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1)
                    .lagRecheck(Duration.ofSeconds(1), 2).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {
                reader.sample("t_order", 1);
                awaitEvent(f, VerifyEvent.LagRecheck.class);
                // The mirror catches up before the re-check.
                f.target.execute("UPDATE t_order SET status = 'PAID', gmt_modified = TIMESTAMP '2025-03-01 10:00:00'"
                        + " WHERE id = 1");
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.lines()).isEmpty();
            assertThat(f.events(VerifyEvent.MismatchFound.class)).isEmpty();
            assertThat(f.events(VerifyEvent.LagRecheck.class)).hasSize(1);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void lagThatPersists_isReportedAfterTheRechecks(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dr_lag2")) {
            VerifyFixture.insert(f.source, 1, "PAID", "10.50", null, "2025-03-01 10:00:00");
            VerifyFixture.insert(f.target, 1, "NEW", "10.50", null, "2025-03-01 09:00:00");
            VerifyFixture.insert(f.source, 2, "PAID", "1.00", null, "2025-03-01 10:00:00");
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1)
                    .lagRecheck(Duration.ofMillis(20), 2).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {
                reader.sample("t_order", 1);
                reader.sample("t_order", 2);
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.events(VerifyEvent.LagRecheck.class)).hasSize(4);
            assertThat(f.lines()).hasSize(2).anySatisfy(line -> assertThat(line).contains("\"kind\":\"DIFFERENT\"")
                    .contains("\"sourceVersion\":\"2025-03-01T10:00").contains("\"targetVersion\":\"2025-03-01T09:00"))
                    .anySatisfy(line -> assertThat(line).contains("\"key\":2,\"kind\":\"MISSING_IN_TARGET\""));
        }
    }

    /**
     * RAMP 20 -> 100 as the starter's rental test ran it: a read sampled while the key's route was SOURCE found
     * lag and was re-checked after the step moved the key to the target; the new primary's write, not yet
     * mirrored back, was then confirmed as a mismatch (the target newer than the "primary" source) and the ramp
     * guard refused the next step. A comparison that outlives its routing is dropped, and the key is sampled
     * again by its next read.
     */
    @Test
    void aRecheckAfterARampStep_readsNoMismatchIntoTheNewPrimarysFreshWrite() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.MARIADB, Store.POSTGRESQL, "dr_step")) {
            VerifyFixture.insert(f.source, 1, "PAID", "10.50", null, "2025-03-01 10:00:00");
            VerifyFixture.insert(f.target, 1, "NEW", "10.50", null, "2025-03-01 09:00:00");
            AtomicReference<Route> route = new AtomicReference<>(Route.SOURCE);
            AtomicLong routing = new AtomicLong(7);
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1).currentRoute(route::get)
                    .routingVersion(routing::get).lagRecheck(Duration.ofMillis(300), 2).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {
                reader.sample("t_order", 1);
                awaitEvent(f, VerifyEvent.LagRecheck.class);
                // The step to 100 becomes active; the application writes the key on its new primary, and the
                // reverse mirror has not carried it back yet.
                routing.addAndGet(2);
                route.set(Route.TARGET);
                f.target.execute("UPDATE t_order SET status = 'SHIPPED', gmt_modified = TIMESTAMP '2025-03-01 11:00:00'"
                        + " WHERE id = 1");
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
                assertThat(f.events(VerifyEvent.MismatchFound.class)).as("a stale primary's comparison").isEmpty();

                // Sampled again by a read under the new routing: the target is the primary, the source lags.
                assertThat(reader.sample("t_order", 1)).as("sampled afresh").isTrue();
                awaitEvent(f, VerifyEvent.LagRecheck.class, 2);
                f.source.execute("UPDATE t_order SET status = 'SHIPPED', gmt_modified = TIMESTAMP '2025-03-01 11:00:00'"
                        + " WHERE id = 1");
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.lines()).isEmpty();
            assertThat(f.events(VerifyEvent.MismatchFound.class)).isEmpty();
        }
    }

    /** Without a routing change, the other store holding a newer row than the primary is a mismatch at once. */
    @Test
    void theOtherStoreNewerUnderTheSameRouting_isConfirmedWithoutARecheck() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.MARIADB, Store.POSTGRESQL, "dr_newer")) {
            VerifyFixture.insert(f.source, 1, "PAID", "10.50", null, "2025-03-01 10:00:00");
            VerifyFixture.insert(f.target, 1, "SHIPPED", "10.50", null, "2025-03-01 11:00:00");
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1).currentRoute(() -> Route.SOURCE)
                    .routingVersion(() -> 7).lagRecheck(Duration.ofMillis(300), 2).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {
                reader.sample("t_order", 1);
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.events(VerifyEvent.LagRecheck.class)).isEmpty();
            assertThat(f.events(VerifyEvent.MismatchFound.class)).singleElement()
                    .satisfies(found -> assertThat(found.mismatch().primary()).isEqualTo(Route.SOURCE));
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void aFlood_isRateLimitedPerTable_andTheSuppressedLinesAreCounted(Store sourceStore, Store targetStore)
            throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dr_flood")) {
            for (long id = 1; id <= 10; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                VerifyFixture.insert(f.target, id, "NEW", "1.00", null, "2025-03-01 10:00:00");
            }
            SimpleMeterRegistry registry = new SimpleMeterRegistry();
            VerifyMetrics metrics = new VerifyMetrics();
            metrics.bindTo(registry);
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1).mismatchLinesPerMinute(3).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), event -> {
                        f.events.add(event);
                        metrics.onEvent(event);
                    })) {
                for (long id = 1; id <= 10; id++) {
                    reader.sample("t_order", id);
                }
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.lines()).hasSize(3);
            assertThat(f.events(VerifyEvent.MismatchFound.class)).hasSize(10)
                    .filteredOn(found -> !found.logged()).hasSize(7);
            assertThat(registry.get(VerifyMetrics.MISMATCH_LINES_SUPPRESSED).counter().count()).isEqualTo(7);
            assertThat(registry.get(VerifyMetrics.MISMATCHES).tag("kind", "different").counter().count())
                    .isEqualTo(10);
            assertThat(registry.get(VerifyMetrics.READS).tag("outcome", "difference").counter().count())
                    .isEqualTo(10);
        }
    }

    @Test
    void suppressedLines_areReportedOnTheNextLineWritten() {
        long[] now = {0};
        MismatchLog log = new MismatchLog(1, () -> now[0]);
        Mismatch mismatch = new Mismatch("t_order", io.dualwrite.jdbc.RowKey.of(1), Mismatch.Kind.MISSING_IN_TARGET,
                io.dualwrite.routing.Route.SOURCE, java.util.List.of(), java.util.Set.of(), Map.of(), Map.of(), null,
                null);
        assertThat(log.write(VerifyEvent.Check.RECONCILE, mismatch)).isTrue();
        assertThat(log.write(VerifyEvent.Check.RECONCILE, mismatch)).isFalse();
        assertThat(log.write(VerifyEvent.Check.RECONCILE, mismatch)).isFalse();
        now[0] += TimeUnit.MINUTES.toNanos(1);
        assertThat(log.write(VerifyEvent.Check.RECONCILE, mismatch)).isTrue();
        assertThat(MismatchLog.line(VerifyEvent.Check.RECONCILE, mismatch, 2)).endsWith(",\"suppressed\":2}");
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void theOtherStoreFailing_neverReachesTheCaller(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "dr_fail")) {
            VerifyFixture.insert(f.source, 1, "PAID", "1.00", null, "2025-03-01 10:00:00");
            MappedTables tables = f.tables();
            FailingDataSource target = new FailingDataSource(f.target.dataSource());
            target.setDown(true);
            try (DoubleReader reader = DoubleReader.create(DoubleReadConfig.builder().sampleRate(1).build(), tables,
                    f.source.dataSource(), target, f.listener())) {

                assertThat(reader.read("t_order", 1, () -> "primary result")).isEqualTo("primary result");
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.events(VerifyEvent.ReadFailed.class)).singleElement()
                    .satisfies(failed -> assertThat(failed.cause()).isInstanceOf(java.sql.SQLException.class));
            assertThat(f.lines()).isEmpty();
        }
    }

    @Test
    void aSaturatedExecutor_dropsAndCountsInsteadOfWaiting() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "dr_drop")) {
            for (long id = 1; id <= 3; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                VerifyFixture.insert(f.target, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
            }
            CountDownLatch workerBusy = new CountDownLatch(1);
            CountDownLatch release = new CountDownLatch(1);
            VerifyEvent.Listener blocking = event -> {
                f.events.add(event);
                if (event instanceof VerifyEvent.ReadCompared && workerBusy.getCount() > 0) {
                    workerBusy.countDown();
                    awaitQuietly(release);
                }
            };
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1).executor(1, 1).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), blocking)) {
                assertThat(reader.sample("t_order", 1)).isTrue();
                assertThat(workerBusy.await(20, TimeUnit.SECONDS)).isTrue();
                assertThat(reader.sample("t_order", 2)).as("queued").isTrue();
                assertThat(reader.sample("t_order", 3)).as("dropped").isFalse();
                release.countDown();
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
                assertThat(reader.sample("t_order", 3)).as("a dropped key is not remembered as compared").isTrue();
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.events(VerifyEvent.ReadDropped.class)).hasSize(1);
            assertThat(f.events(VerifyEvent.ReadCompared.class)).hasSize(3).allMatch(VerifyEvent.ReadCompared::matched);
        }
    }

    @Test
    void dualReadAnnotation_returnsTheMethodsResultAndSamplesTheKey() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "dr_aspect")) {
            VerifyFixture.insert(f.source, 5, "PAID", "1.00", null, "2025-03-01 10:00:00");
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1)
                    .lagRecheck(Duration.ofMillis(10), 1).build();
            try (DoubleReader reader = DoubleReader.create(config, f.tables(), f.source.dataSource(),
                    f.target.dataSource(), f.listener())) {
                AspectJProxyFactory factory = new AspectJProxyFactory(new OrderReader());
                factory.setProxyTargetClass(true);
                factory.addAspect(new DualReadAspect(reader));
                OrderReader orders = factory.getProxy();

                assertThat(orders.find(5)).isEqualTo("order 5");
                assertThat(orders.findBroken(5)).isEqualTo("order 5");
                assertThat(reader.awaitQuiet(QUIET)).isTrue();
            }

            assertThat(f.lines()).singleElement().asString().contains("\"key\":5,\"kind\":\"MISSING_IN_TARGET\"");
        }
    }

    /** A read service with one good and one broken annotation. */
    static class OrderReader {

        @DualRead(table = "t_order", key = "#id")
        public String find(long id) {
            return "order " + id;
        }

        @DualRead(table = "t_order", key = "#nosuch.id")
        public String findBroken(long id) {
            return "order " + id;
        }
    }

    private static void awaitEvent(VerifyFixture f, Class<? extends VerifyEvent> type) throws InterruptedException {
        awaitEvent(f, type, 1);
    }

    private static void awaitEvent(VerifyFixture f, Class<? extends VerifyEvent> type, int count)
            throws InterruptedException {
        long deadline = System.nanoTime() + QUIET.toNanos();
        while (f.events(type).size() < count && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertThat(f.events(type)).hasSizeGreaterThanOrEqualTo(count);
    }

    private static void awaitQuietly(CountDownLatch latch) {
        try {
            latch.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @org.junit.jupiter.api.Test
    void tableNotBeingCompared_isNeverSampled() throws Exception {
        try (VerifyFixture f = new VerifyFixture(io.dualwrite.testing.Store.H2, io.dualwrite.testing.Store.H2, "gate");
                DoubleReader reader = DoubleReader.create(DoubleReadConfig.builder().sampleRate(1.0)
                        .comparingWhen(table -> false).build(), f.tables(), f.source.dataSource(),
                        f.target.dataSource(), f.listener())) {
            VerifyFixture.insert(f.source, 1, "NEW", "1.00", "only in the source", "2026-11-20 10:00:00");

            org.assertj.core.api.Assertions.assertThat(reader.sample("t_order", 1L)).isFalse();
            org.assertj.core.api.Assertions.assertThat(f.events).isEmpty();
        }
    }
}
