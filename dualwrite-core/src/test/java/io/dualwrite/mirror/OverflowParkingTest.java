package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * ASYNC without an outbox table, the target down and the queue full: the keys the queue cannot hold are
 * parked for the reconciler at once (never held in memory, never waited for), counted and published, shown
 * by {@link Mirror#overflowParking()}, and the log says so once at start-up and once a minute, not per key.
 */
class OverflowParkingTest {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
        {
            list = new CopyOnWriteArrayList<>();
        }
    };
    private final Logger logger = (Logger) LoggerFactory.getLogger(Mirror.class);

    @BeforeEach
    void capture() {
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void release() {
        logger.detachAppender(appender);
    }

    @Test
    void fullQueueWithoutOutboxTable_parksAtOnce_withOneLogLineAndHealthDetail() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "park_src");
                TestDatabase target = TestDatabase.create(Store.H2, "park_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            FailingDataSource flaky = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), flaky, false);
            List<DualWriteEvent> events = new CopyOnWriteArrayList<>();
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).lanes(1).queueCapacity(4)
                    .initialBackoff(Duration.ofMillis(10)).maxBackoff(Duration.ofMillis(50)).maxAttempts(1_000)
                    .build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), flaky,
                    new EventPublisher().subscribe(events::add))) {
                mirror.start();
                assertThat(lines(Level.WARN, "has no outbox table 'dualwrite_outbox'")).as("the start-up line")
                        .singleElement().satisfies(line -> assertThat(line)
                                .contains("keys it cannot hold are parked for the reconciler")
                                .contains("CREATE TABLE dualwrite_outbox").contains("dualwrite.schema.create=true"));
                assertThat(mirror.overflowParking()).isEmpty();

                flaky.setDown(true);
                JdbcTemplate app = new JdbcTemplate(source.dataSource());
                long slowest = 0;
                for (long id = 1; id <= 200; id++) {
                    app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'NEW', ?)", id,
                            new Timestamp(System.currentTimeMillis()));
                    long started = System.nanoTime();
                    mirror.recorder().record("t_order", id);
                    slowest = Math.max(slowest, System.nanoTime() - started);
                    assertThat(mirror.queued()).as("keys held in memory").isLessThanOrEqualTo(4);
                }

                assertThat(mirror.parked()).as("keys parked").isBetween(196L, 200L);
                assertThat(events).filteredOn(e -> e instanceof DualWriteEvent.KeyParked)
                        .hasSize((int) mirror.parked())
                        .allSatisfy(e -> assertThat(((DualWriteEvent.KeyParked) e).reason()).startsWith("queue full"));
                assertThat(mirror.spilled()).isZero();
                assertThat(mirror.overflowParking()).hasValueSatisfying(detail -> assertThat(detail)
                        .startsWith(mirror.parked() + " keys parked since ")
                        .contains("the outbox table 'dualwrite_outbox' does not exist to spill to")
                        .contains("the reconciler repairs them"));
                assertThat(lines(Level.WARN, "dualwrite mirror parks keys")).as("one line for the first minute")
                        .singleElement().satisfies(line -> assertThat(line)
                                .contains("dualwrite.mirror.queue-capacity=4")
                                .contains("does not exist to spill to").contains("run the reconciler"));
                assertThat(lines(Level.WARN, "more keys")).isEmpty();
                assertThat(Duration.ofNanos(slowest)).as("the slowest record() while parking")
                        .isLessThan(config.waitLimit());

                flaky.setDown(false);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).as("what the queue held drains").isTrue();
                assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class))
                        .isEqualTo(200 - mirror.parked());
            }
        }
    }

    @Test
    void parkingThatLasts_isLoggedOncePerInterval_withTheCount() throws Exception {
        MirrorConfig config = MirrorConfig.builder().queueCapacity(8).build();
        List<DualWriteEvent> events = new CopyOnWriteArrayList<>();
        Overflow overflow = new Overflow(config, null, null, new EventPublisher().subscribe(events::add), () -> {
        }, Duration.ofMillis(100));
        overflow.table(Overflow.Table.ABSENT);
        List<io.dualwrite.capture.Change> three = List.of(change(1), change(2), change(3));

        overflow.accept(three, System.nanoTime());
        overflow.accept(three, System.nanoTime());
        Thread.sleep(120);
        overflow.accept(three, System.nanoTime());

        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactly(
                first -> assertThat(first).startsWith("dualwrite mirror parks keys (3 since start): its queue"
                        + " (dualwrite.mirror.queue-capacity=8) was full, typically because the target is down, and the"
                        + " outbox table 'dualwrite_outbox' does not exist to spill to."),
                later -> assertThat(later).startsWith("dualwrite mirror parked 6 more keys (9 since start)"));
        assertThat(overflow.parked()).isEqualTo(9);
        assertThat(events).filteredOn(e -> e instanceof DualWriteEvent.KeyParked).hasSize(9);
    }

    private static io.dualwrite.capture.Change change(long id) {
        return new io.dualwrite.capture.Change("t_order", io.dualwrite.jdbc.RowKey.of(id));
    }

    private List<String> lines(Level level, String text) {
        return appender.list.stream().filter(e -> e.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(text)).toList();
    }
}
