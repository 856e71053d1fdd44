package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.SoftAssertions.assertSoftly;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.OutageProxy;
import io.dualwrite.testing.Store;
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
import javax.sql.DataSource;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * ASYNC (and SYNC) through a target outage ten times longer than its queue can absorb (issue 16, item 2): eight
 * writers keep writing new and existing keys at full speed while the target is unreachable. No
 * application write may wait on the library longer than the wait limit, the keys held in memory stay
 * within the queue's capacity (the rest are spilled to the source's outbox table), and once the target
 * is back both stores converge with no parked key.
 *
 * <p>On MariaDB -> PostgreSQL the target sits behind a TCP proxy that is cut like a network partition,
 * so connections hang rather than fail; on H2 the target's data source refuses every call.
 */
class AsyncOutageTest {

    private static final int WRITERS = 8;
    private static final int QUEUE_CAPACITY = 64;
    private static final Duration WAIT_LIMIT = Duration.ofSeconds(1);
    /** Room for a descheduled thread and a GC pause on a shared two-core machine: a bound, not a target. */
    private static final Duration MARGIN = Duration.ofMillis(1_000);
    private static final Duration BEFORE_OUTAGE = Duration.ofMillis(1_000);
    /**
     * Behind the cut proxy connections hang, so the outage lasts several wait limits. H2's refusing data source fails
     * every call at once: 2 s is still many of the lanes' back-offs and outbox polls, and H2's writers put tens of
     * thousands of keys (dozens of times the queue) in it; every one is spilled and drained, so a longer outage only
     * makes the drain longer.
     */
    private static final Duration MIN_OUTAGE = Duration.ofSeconds(5);
    private static final Duration MIN_OUTAGE_H2 = Duration.ofSeconds(2);
    private static final Duration MAX_OUTAGE = Duration.ofSeconds(30);
    private static final Duration AFTER_OUTAGE = Duration.ofMillis(1_000);

    static Stream<Arguments> cases() {
        return Stream.of(MirrorMode.ASYNC, MirrorMode.SYNC).flatMap(mode -> Stream.of(
                Arguments.of(Store.H2, Store.H2, mode), Arguments.of(Store.MARIADB, Store.POSTGRESQL, mode)));
    }

    /** SYNC too: it applies on the writer's thread within the wait limit, then hands off to the lanes. */
    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void targetOutageTenTimesTheQueue_neverBlocksWriters_boundsMemory_converges(Store sourceStore,
            Store targetStore, MirrorMode mode) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "out_src", 24);
                TestDatabase target = TestDatabase.create(targetStore, "out_tgt", 24)) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            try (Outage outage = Outage.of(target)) {
                run(source, sourceStore, target, outage, mode);
            }
        }
    }

    private void run(TestDatabase source, Store sourceStore, TestDatabase target, Outage outage, MirrorMode mode)
            throws Exception {
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                source.dataSource(), outage.dataSource(), false);
        EventPublisher events = new EventPublisher();
        AtomicLong parked = new AtomicLong();
        events.subscribe(event -> {
            if (event instanceof DualWriteEvent.KeyParked) {
                parked.incrementAndGet();
            }
        });
        MirrorConfig config = MirrorConfig.builder().mode(mode).lanes(2).queueCapacity(QUEUE_CAPACITY)
                .batchSize(16).maxAttempts(1_000).initialBackoff(Duration.ofMillis(20))
                .maxBackoff(Duration.ofMillis(300)).outboxPollInterval(Duration.ofMillis(100))
                .createOutboxTable(true).waitLimit(WAIT_LIMIT).build();
        Mirror mirror = Mirror.create(config, tables, source.dataSource(), outage.dataSource(), events);
        mirror.start();
        try {
            AspectJProxyFactory factory = new AspectJProxyFactory(new OrderWriter(source.dataSource(), sourceStore));
            factory.setProxyTargetClass(true);
            factory.addAspect(mirror.aspect());
            OrderWriter writer = factory.getProxy();
            TransactionTemplate transactions = new TransactionTemplate(
                    new DataSourceTransactionManager(source.dataSource()));

            ConcurrentLinkedQueue<Throwable> failures = new ConcurrentLinkedQueue<>();
            AtomicLong slowest = new AtomicLong();
            AtomicLong nextId = new AtomicLong();
            AtomicLong keysDuringOutage = new AtomicLong();
            AtomicBoolean targetDown = new AtomicBoolean();
            AtomicBoolean stop = new AtomicBoolean();
            ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < WRITERS; w++) {
                futures.add(pool.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (!stop.get()) {
                        boolean fresh = random.nextInt(100) < 60 || nextId.get() == 0;
                        long id = fresh ? nextId.incrementAndGet() : 1 + random.nextLong(nextId.get());
                        Runnable write = write(writer, random, id, fresh);
                        long started = System.nanoTime();
                        try {
                            transactions.executeWithoutResult(status -> write.run());
                        } catch (RuntimeException e) {
                            failures.add(e);
                        }
                        slowest.accumulateAndGet(System.nanoTime() - started, Math::max);
                        if (fresh && targetDown.get()) {
                            keysDuringOutage.incrementAndGet();
                        }
                    }
                }));
            }
            Thread.sleep(BEFORE_OUTAGE.toMillis());
            outage.begin();
            targetDown.set(true);
            long outageStart = System.nanoTime();
            long minOutage = (target.store() == Store.H2 ? MIN_OUTAGE_H2 : MIN_OUTAGE).toNanos();
            long mostQueued = 0;
            while (System.nanoTime() - outageStart < MAX_OUTAGE.toNanos()
                    && (System.nanoTime() - outageStart < minOutage
                            || keysDuringOutage.get() < 10L * QUEUE_CAPACITY)) {
                mostQueued = Math.max(mostQueued, mirror.queued());
                Thread.sleep(10);
            }
            targetDown.set(false);
            long outageEnd = System.nanoTime();
            outage.end();
            Thread.sleep(AFTER_OUTAGE.toMillis());
            stop.set(true);
            for (Future<?> future : futures) {
                future.get(60, TimeUnit.SECONDS);
            }
            pool.shutdown();

            long queuedAtMost = mostQueued;
            org.apache.commons.logging.LogFactory.getLog(AsyncOutageTest.class).info("outage of "
                    + Duration.ofNanos(outageEnd - outageStart).toMillis() + " ms: " + keysDuringOutage.get()
                    + " new keys, slowest write " + Duration.ofNanos(slowest.get()).toMillis() + " ms, at most "
                    + queuedAtMost + " keys queued, " + mirror.spilled() + " spilled");
            assertSoftly(soft -> {
                soft.assertThat(keysDuringOutage.get()).as("new keys written during the outage")
                        .isGreaterThanOrEqualTo(10L * QUEUE_CAPACITY);
                soft.assertThat(failures).as("failed application writes").isEmpty();
                soft.assertThat(Duration.ofNanos(slowest.get())).as("the slowest application write")
                        .isLessThan(WAIT_LIMIT.plus(MARGIN));
                soft.assertThat(queuedAtMost).as("keys held in memory at most, during the outage")
                        .isLessThanOrEqualTo(QUEUE_CAPACITY);
            });
            assertThat(mirror.awaitDrained(Duration.ofSeconds(90))).as("mirror drained").isTrue();
            assertThat(parked.get()).as("parked keys").isZero();
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                    .as("differences between source and target").isEmpty();
        } finally {
            mirror.close();
        }
    }

    private static Runnable write(OrderWriter writer, ThreadLocalRandom random, long id, boolean fresh) {
        Timestamp now = new Timestamp(System.currentTimeMillis());
        int choice = random.nextInt(100);
        if (fresh || choice < 40) {
            BigDecimal amount = BigDecimal.valueOf(random.nextLong(1, 1_000_000), 2);
            return () -> writer.save(id, 1000 + id, "NEW", amount, null, now);
        }
        if (choice < 80) {
            String status = "S" + random.nextInt(1000);
            return () -> writer.changeStatus(id, status, now);
        }
        return () -> writer.remove(id);
    }

    /** The target made unreachable: a cut network on a server, a refusing data source on H2. */
    private interface Outage extends AutoCloseable {
        DataSource dataSource();

        void begin();

        void end();

        @Override
        void close();

        static Outage of(TestDatabase target) throws java.io.IOException {
            if (target.store() == Store.H2) {
                FailingDataSource failing = new FailingDataSource(target.dataSource());
                return new Outage() {
                    public DataSource dataSource() {
                        return failing;
                    }

                    public void begin() {
                        failing.setDown(true);
                    }

                    public void end() {
                        failing.setDown(false);
                    }

                    public void close() {
                    }
                };
            }
            OutageProxy proxy = OutageProxy.inFrontOf(target.jdbcUrl());
            HikariConfig settings = new HikariConfig();
            settings.setPoolName("out-target-" + target.name());
            settings.setJdbcUrl(proxy.route(target.jdbcUrl()));
            settings.setUsername(target.username());
            settings.setPassword(target.password());
            settings.setMaximumPoolSize(8);
            settings.setMinimumIdle(0);
            // As the starter sets it: SYNC takes target connections on the writers' threads.
            settings.setConnectionTimeout(WAIT_LIMIT.toMillis());
            settings.setValidationTimeout(WAIT_LIMIT.toMillis() / 2);
            HikariDataSource pool = new HikariDataSource(settings);
            return new Outage() {
                public DataSource dataSource() {
                    return pool;
                }

                public void begin() {
                    proxy.cut();
                }

                public void end() {
                    proxy.restore();
                }

                public void close() {
                    pool.close();
                    proxy.close();
                }
            };
        }
    }
}
