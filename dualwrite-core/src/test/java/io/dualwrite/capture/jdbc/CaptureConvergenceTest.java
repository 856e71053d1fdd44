package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The mirror's convergence scenario (DESIGN invariants 1 and 3, see {@code MirrorConvergenceTest})
 * with writers that carry no annotation at all: plain JdbcTemplate code on the capturing data
 * source, some writes keyed, some found by the locking pre-read, in and out of transactions, with
 * the target down for a while. After the writers stop and the mirror drains, the stores are equal.
 */
class CaptureConvergenceTest {

    private static final int WRITERS = 8;
    private static final int KEYS_PER_WRITER = 4;
    private static final Duration WRITE_PHASE = Duration.ofMillis(4_000);
    private static final Duration OUTAGE_START = Duration.ofMillis(1_000);
    private static final Duration OUTAGE_LENGTH = Duration.ofMillis(1_500);

    static Stream<Arguments> cases() {
        return Stores.pairs().flatMap(pair -> Stream.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)
                .map(mode -> Arguments.of(pair.get()[0], pair.get()[1], mode)));
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void unannotatedWritersWithTargetOutage_converge(Store sourceStore, Store targetStore, MirrorMode mode)
            throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "capconv_src", 24);
                TestDatabase target = TestDatabase.create(targetStore, "capconv_tgt", 24)) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "t_order"));
            FailingDataSource flakyTarget = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), flakyTarget, false);
            EventPublisher events = new EventPublisher();
            AtomicLong parkedKeys = new AtomicLong();
            AtomicLong unattributed = new AtomicLong();
            events.subscribe(event -> {
                if (event instanceof DualWriteEvent.KeyParked) {
                    parkedKeys.incrementAndGet();
                } else if (event instanceof DualWriteEvent.UnattributedWrite) {
                    unattributed.incrementAndGet();
                }
            });
            // The mirror's source is the data source the transactions use (OUTBOX writes on their
            // connection), and that is the capturing one, which needs the recorder: tie the knot.
            ForwardingSink forward = new ForwardingSink();
            CapturingDataSource capturing = CapturingDataSource.builder(source.dataSource(), tables,
                    new ChangeCapture(forward, tables::contains)).events(events).build();
            MirrorConfig config = MirrorConfig.builder().mode(mode).maxAttempts(100)
                    .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(300))
                    .outboxPollInterval(Duration.ofMillis(100)).createOutboxTable(true).build();
            Mirror mirror = Mirror.create(config, tables, capturing, flakyTarget, events);
            forward.mirror = mirror;
            mirror.start();
            try {
                Writer writer = new Writer(new JdbcTemplate(capturing), sourceStore);
                TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(capturing));
                ConcurrentLinkedQueue<Throwable> applicationFailures = new ConcurrentLinkedQueue<>();
                AtomicLong writes = new AtomicLong();
                long end = System.nanoTime() + WRITE_PHASE.toNanos();
                ExecutorService pool = Executors.newFixedThreadPool(WRITERS);
                List<Future<?>> futures = new ArrayList<>();
                for (int w = 0; w < WRITERS; w++) {
                    int writerIndex = w;
                    futures.add(pool.submit(() -> {
                        ThreadLocalRandom random = ThreadLocalRandom.current();
                        while (System.nanoTime() < end) {
                            long id = writerIndex * KEYS_PER_WRITER + random.nextInt(KEYS_PER_WRITER);
                            try {
                                Runnable write = randomWrite(writer, random, id, writerIndex);
                                if (random.nextInt(4) == 0) {
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
                Thread.sleep(OUTAGE_LENGTH.toMillis());
                // On a loaded machine the lanes may spend the whole outage waiting for the writers' row locks
                // and never reach the target: keep it down until the mirror has met the outage (10 s at most).
                long feltBy = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (flakyTarget.refusals() == 0 && System.nanoTime() < feltBy) {
                    Thread.sleep(10);
                }
                flakyTarget.setDown(false);
                for (Future<?> future : futures) {
                    future.get(30, TimeUnit.SECONDS);
                }
                pool.shutdown();

                assertThat(mirror.awaitDrained(Duration.ofSeconds(60))).as("mirror drained").isTrue();
                assertThat(applicationFailures).as("failed application writes").isEmpty();
                assertThat(writes.get()).as("writes done").isGreaterThan(300);
                assertThat(flakyTarget.refusals()).as("the outage was felt").isPositive();
                assertThat(parkedKeys.get()).as("parked keys").isZero();
                assertThat(unattributed.get()).as("unattributed writes").isZero();
                assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id"))
                        .as("differences between source and target").isEmpty();
            } finally {
                mirror.close();
            }
        }
    }

    private static Runnable randomWrite(Writer writer, ThreadLocalRandom random, long id, int writerIndex) {
        Timestamp now = new Timestamp(System.currentTimeMillis());
        int choice = random.nextInt(100);
        if (choice < 40) {
            BigDecimal amount = BigDecimal.valueOf(random.nextLong(1, 1_000_000), 2);
            String note = random.nextBoolean() ? null : "note-" + random.nextInt(1000);
            return () -> writer.save(id, writerIndex, amount, note, now);
        }
        if (choice < 70) {
            String status = "S" + random.nextInt(1000);
            return () -> writer.changeStatus(id, status, now);
        }
        if (choice < 85) {
            // No key in the WHERE clause: the keys come from the locking pre-read. Each writer's rows have
            // its own user_id, so writers still never wait on each other.
            String status = "B" + random.nextInt(1000);
            return () -> writer.changeStatusOfUser(writerIndex, status, now);
        }
        return () -> writer.remove(id);
    }

    /** Application code without annotations, as a team writes it. */
    private static final class Writer {

        private final JdbcTemplate jdbc;
        private final String upsertSql;

        Writer(JdbcTemplate jdbc, Store store) {
            this.jdbc = jdbc;
            String columns = "(id, user_id, status, amount, note, gmt_modified)";
            this.upsertSql = switch (store) {
                case H2 -> "MERGE INTO t_order " + columns + " KEY (id) VALUES (?, ?, 'NEW', ?, ?, ?)";
                case MARIADB -> "INSERT INTO t_order " + columns + " VALUES (?, ?, 'NEW', ?, ?, ?) ON DUPLICATE KEY"
                        + " UPDATE user_id = VALUES(user_id), status = VALUES(status), amount = VALUES(amount),"
                        + " note = VALUES(note), gmt_modified = VALUES(gmt_modified)";
                case POSTGRESQL -> "INSERT INTO t_order " + columns + " VALUES (?, ?, 'NEW', ?, ?, ?) ON CONFLICT (id)"
                        + " DO UPDATE SET user_id = EXCLUDED.user_id, status = EXCLUDED.status, amount ="
                        + " EXCLUDED.amount, note = EXCLUDED.note, gmt_modified = EXCLUDED.gmt_modified";
            };
        }

        void save(long id, long userId, BigDecimal amount, String note, Timestamp modified) {
            jdbc.update(upsertSql, id, userId, amount, note, modified);
        }

        void changeStatus(long id, String status, Timestamp modified) {
            jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?", status, modified, id);
        }

        void changeStatusOfUser(long userId, String status, Timestamp modified) {
            jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE user_id = ?", status, modified, userId);
        }

        void remove(long id) {
            jdbc.update("DELETE FROM t_order WHERE id = ?", id);
        }
    }

    /** Passes changes to the mirror, which is created after the data source it needs. */
    private static final class ForwardingSink implements ChangeSink {

        volatile Mirror mirror;

        @Override
        public void beforeCommit(Collection<Change> changes) {
            mirror.beforeCommit(changes);
        }

        @Override
        public void afterCommit(Collection<Change> changes, long committedAtNanos) {
            mirror.afterCommit(changes, committedAtNanos);
        }
    }
}
