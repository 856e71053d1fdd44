package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 16, item 3: the target being down showed up only as driver and pool stack traces. The mirror now
 * says it once when its applies start failing, once a minute while they go on, and once when it has caught
 * up; health carries the same.
 */
class OutageLogTest {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>() {
        {
            list = new CopyOnWriteArrayList<>(); // appended to from the lanes' threads
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
    void targetDownThenBack_saysSoOnceEach_andNotPerAttempt() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "outage_src");
                TestDatabase target = TestDatabase.create(Store.H2, "outage_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.H2, "t_order"));
            FailingDataSource flaky = new FailingDataSource(target.dataSource());
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), flaky, false);
            List<DualWriteEvent> events = new CopyOnWriteArrayList<>();
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).initialBackoff(Duration.ofMillis(10))
                    .maxBackoff(Duration.ofMillis(50)).maxAttempts(1_000).createOutboxTable(true).build();
            try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), flaky,
                    new EventPublisher().subscribe(events::add))) {
                mirror.start();
                flaky.setDown(true);
                JdbcTemplate app = new JdbcTemplate(source.dataSource());
                for (long id = 1; id <= 20; id++) {
                    app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, 'NEW', ?)", id,
                            new Timestamp(System.currentTimeMillis()));
                    mirror.recorder().record("t_order", id);
                }
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (events.stream().filter(e -> e instanceof DualWriteEvent.ApplyFailed).count() < 10
                        && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertThat(mirror.currentFailure()).hasValueSatisfying(
                        failure -> assertThat(failure).contains("connection refused"));

                flaky.setDown(false);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
                deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
                while (mirror.currentFailure().isPresent() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }

                assertThat(events.stream().filter(e -> e instanceof DualWriteEvent.ApplyFailed).count())
                        .as("failed attempts").isGreaterThanOrEqualTo(10);
                assertThat(lines(Level.WARN, "cannot apply changes")).hasSize(1);
                assertThat(lines(Level.WARN, "cannot apply changes").get(0))
                        .startsWith("dualwrite mirror H2 -> H2 cannot apply changes of table 't_order', key ")
                        .contains(": SQLTransientConnectionException");
                assertThat(lines(Level.INFO, "applies changes again after")).hasSize(1);
                assertThat(appender.list).as("nothing else from the mirror").hasSize(2);
                assertThat(mirror.currentFailure()).isEmpty();
            }
        }
    }

    @Test
    void failureThatLasts_isRepeatedOncePerInterval_withWhatWaits() throws Exception {
        AtomicLong pending = new AtomicLong(7);
        OutageLog outage = new OutageLog("mirror A -> B", pending::get, () -> Duration.ofSeconds(42),
                Duration.ofMillis(50));
        DualWriteEvent failed = new DualWriteEvent.ApplyFailed("t_order", 3, 1, true, new SQLException("down"),
                RowKey.of(42L));

        outage.onEvent(failed);
        outage.onEvent(failed);
        Thread.sleep(60);
        outage.onEvent(failed);
        outage.onEvent(new DualWriteEvent.ChangesApplied("t_order", 1, 0, List.of()));
        outage.onEvent(new DualWriteEvent.ChangesApplied("t_order", 1, 0, List.of()));

        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactly(
                first -> assertThat(first).startsWith("dualwrite mirror A -> B cannot apply changes of table"
                        + " 't_order', key 42 and 2 more: SQLException: down."),
                still -> assertThat(still).startsWith("dualwrite mirror A -> B still failing after 0 s: 7 keys"
                        + " pending, oldest change 42 s old, 3 failed attempts; last error on table 't_order', key 42"
                        + " and 2 more: SQLException: down"),
                again -> assertThat(again).startsWith("dualwrite mirror A -> B applies changes again after 0 s of"
                        + " failures (3 failed attempts); 7 keys still pending"));
    }

    /**
     * Issue 18: a row the target refuses fails while other keys apply, so each of its retries ended one
     * failure and started the next, and every one was a line. Now the WARN lines are at most one per interval,
     * name the table, the key and the cause, and the next line says what was left out; parked keys are said
     * the same way.
     */
    @Test
    void aKeyThatKeepsFailingWhileOthersApply_isLoggedOncePerInterval_withTableKeyAndCause() throws Exception {
        OutageLog outage = new OutageLog("mirror A -> B", () -> 0, () -> Duration.ZERO, Duration.ofMillis(300));
        DualWriteEvent refused = new DualWriteEvent.ApplyFailed("t_order", 1, 1, true,
                new SQLException("new row violates check constraint \"amount_positive\""), RowKey.of(7L));
        DualWriteEvent applied = new DualWriteEvent.ChangesApplied("t_order", 5, 0, List.of());

        for (int retry = 0; retry < 5; retry++) {
            outage.onEvent(refused);
            outage.onEvent(applied);
        }
        outage.onEvent(new DualWriteEvent.KeyParked("t_order", RowKey.of(7L), "SQLException: new row violates"));
        Thread.sleep(350);
        outage.onEvent(new DualWriteEvent.KeyParked("t_order", RowKey.of(8L), "SQLException: new row violates"));

        assertThat(appender.list).extracting(ILoggingEvent::getFormattedMessage).satisfiesExactly(
                first -> assertThat(first).startsWith("dualwrite mirror A -> B cannot apply changes of table"
                        + " 't_order', key 7: SQLException: new row violates check constraint \"amount_positive\"."),
                recovered -> assertThat(recovered).startsWith("dualwrite mirror A -> B applies changes again"),
                parked -> assertThat(parked).startsWith("dualwrite mirror A -> B parked table 't_order', key 8:"
                        + " SQLException: new row violates. It stays out of sync until the reconciler repairs it")
                        .endsWith("(not logged since the last line: 4 failed attempts, 1 parked keys)"));
        assertThat(appender.list).filteredOn(e -> e.getLevel() == Level.WARN).hasSize(2);
    }

    @Test
    void failingFor_countsFromTheFirstFailureUntilAnApplySucceeds() throws Exception {
        OutageLog outage = new OutageLog("mirror A -> B", () -> 0, () -> Duration.ZERO, Duration.ofMinutes(1));
        assertThat(outage.failingFor()).isZero();
        outage.onEvent(new DualWriteEvent.ApplyFailed("t_order", 1, 1, true, new SQLException("down")));
        Thread.sleep(50);
        outage.onEvent(new DualWriteEvent.ApplyFailed("t_order", 1, 2, true, new SQLException("down")));
        assertThat(outage.failingFor()).isGreaterThanOrEqualTo(Duration.ofMillis(50));
        outage.onEvent(new DualWriteEvent.ChangesApplied("t_order", 1, 0, List.of()));
        assertThat(outage.failingFor()).isZero();
    }

    private List<String> lines(Level level, String text) {
        return appender.list.stream().filter(e -> e.getLevel() == level)
                .map(ILoggingEvent::getFormattedMessage).filter(m -> m.contains(text)).toList();
    }
}
