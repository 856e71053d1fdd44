package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * DESIGN invariants 1 and 3: eight writers hammer a small hot key space with inserts, updates and
 * deletes through annotated methods, the target goes down in the middle, and after the writers stop
 * and the mirror drains, both stores hold exactly the same rows and no application write failed.
 *
 * <p>Each writer owns its own keys, so writers never wait on each other: any failed application write
 * could only be the library's doing. The keys are still hot — each is rewritten every few
 * milliseconds, often within one millisecond, so versions tie — and every one of them contends with
 * the mirror's own locked reads.
 */
class MirrorConvergenceTest {

    private static final int WRITERS = 8;
    private static final int KEYS_PER_WRITER = 4;
    private static final Duration OUTAGE_START = Duration.ofMillis(1_500);
    private static final Duration OUTAGE_LENGTH = Duration.ofMillis(2_000);
    private static final Duration WRITES_AFTER_OUTAGE = Duration.ofMillis(1_000);

    static Stream<Arguments> cases() {
        return Stores.pairs().flatMap(pair -> Stream.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)
                .map(mode -> Arguments.of(pair.get()[0], pair.get()[1], mode)));
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void hotKeysWithTargetOutage_converge(Store sourceStore, Store targetStore, MirrorMode mode) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "conv_src", 24);
                TestDatabase target = TestDatabase.create(targetStore, "conv_tgt", 24)) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            FailingDataSource flakyTarget = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), flakyTarget, false);
            EventPublisher events = new EventPublisher();
            AtomicLong failedApplies = new AtomicLong();
            AtomicLong parkedKeys = new AtomicLong();
            events.subscribe(event -> {
                if (event instanceof DualWriteEvent.ApplyFailed) {
                    failedApplies.incrementAndGet();
                } else if (event instanceof DualWriteEvent.KeyParked) {
                    parkedKeys.incrementAndGet();
                }
            });
            MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(100)
                    .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(300))
                    .outboxPollInterval(Duration.ofMillis(100)).createOutboxTable(true).build();
            Mirror mirror = Mirror.create(config, tables, source.dataSource(), flakyTarget, events);
            mirror.start();
            try {
                AspectJProxyFactory factory = new AspectJProxyFactory(new OrderWriter(source.dataSource(), sourceStore));
                factory.setProxyTargetClass(true);
                factory.addAspect(mirror.aspect());
                OrderWriter writer = factory.getProxy();
                TransactionTemplate transactions = new TransactionTemplate(
                        new DataSourceTransactionManager(source.dataSource()));

                ConcurrentLinkedQueue<Throwable> applicationFailures = new ConcurrentLinkedQueue<>();
                AtomicLong writes = new AtomicLong();
                AtomicBoolean writing = new AtomicBoolean(true);
                ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
                List<Future<?>> futures = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writerIndex = w;
                    futures.add(pool.submit(() -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        while (writing.get()) {
                            long id = writerIndex * KEYS_PER_WRITER + random.nextInt(KEYS_PER_WRITER);
                            try {
                                Runnable write = randomWrite(writer, random, id);
                                // A quarter of the writes run outside a transaction; OUTBOX refuses those
                                // (their outbox row could only follow the commit), so there all are transactional.
                                if (mode != MirrorMode.OUTBOX && random.nextInt(4) == 0) {
                                    write.run();
                                } else {
                                    transactions.executeWithoutResult(status -> write.run());
                                }
                                writes.incrementAndGet();
                            } catch (RuntimeException e) {
                                applicationFailures.add(e);
                            }
                        }
                    }));
                }
                Thread.sleep(OUTAGE_START.toMillis());
                flakyTarget.setDown(true);
                // The outage lasts its length and at least until the mirror has met it: on a loaded machine the
                // writers can stall long enough that a fixed window passes with nothing to apply.
                long outageEnd = System.nanoTime() + OUTAGE_LENGTH.toNanos();
                long giveUp = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while ((System.nanoTime() < outageEnd || flakyTarget.refusals() == 0) && System.nanoTime() < giveUp) {
                    Thread.sleep(20);
                }
                flakyTarget.setDown(false);
                Thread.sleep(WRITES_AFTER_OUTAGE.toMillis());
                writing.set(false);
                for (Future<?> future : futures) {
                    future.get(30, TimeUnit.SECONDS);
                }
                pool.shutdown();

                assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).as("mirror drained").isTrue();
                assertThat(applicationFailures).as("failed application writes").isEmpty();
                assertThat(writes.get()).as("writes done").isGreaterThan(500);
                assertThat(flakyTarget.refusals()).as("the outage was felt").isPositive();
                assertThat(failedApplies.get()).as("applies failed during the outage and were retried").isPositive();
                assertThat(parkedKeys.get()).as("parked keys").isZero();
                assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                        .as("differences between source and target").isEmpty();
            } finally {
                mirror.close();
            }
        }
    }

    private static Runnable randomWrite(OrderWriter writer, ThreadLocalRandom random, long id) {
        // Millisecond timestamps: back-to-back writes of one key often share a version.
        Timestamp now = new Timestamp(System.currentTimeMillis());
        int choice = random.nextInt(100);
        if (choice < 45) {
            BigDecimal amount = BigDecimal.valueOf(random.nextLong(1, 1_000_000), 2);
            String note = random.nextBoolean() ? null : "note-" + random.nextInt(1000);
            return () -> writer.save(id, 1000 + id, "NEW", amount, note, now);
        }
        if (choice < 80) {
            String status = "S" + random.nextInt(1000);
            return () -> writer.changeStatus(id, status, now);
        }
        return () -> writer.remove(id);
    }
}
