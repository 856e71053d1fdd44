package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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
import org.springframework.jdbc.core.JdbcTemplate;

/** SYNC, ASYNC back-pressure, parking and start-up checks, on H2 where the store does not matter. */
class MirrorModesTest {

    private TestDatabase source;
    private TestDatabase target;
    private FailingDataSource flakyTarget;
    private MappedTables tables;
    private final List<DualWriteEvent> events = new CopyOnWriteArrayList<>();
    private final EventPublisher publisher = new EventPublisher().subscribe(events::add);
    private JdbcTemplate app;

    @BeforeEach
    void setUp() throws Exception {
        source = TestDatabase.create(Store.H2, "modes_src");
        target = TestDatabase.create(Store.H2, "modes_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
        flakyTarget = new FailingDataSource(target.dataSource());
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                flakyTarget, false);
        app = new JdbcTemplate(source.dataSource());
    }

    @AfterEach
    void tearDown() {
        source.close();
        target.close();
    }

    private void insert(long id, String status) {
        app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 1, ?, ?)", id, status,
                new Timestamp(System.currentTimeMillis()));
    }

    @Test
    void sync_appliesBeforeTheCallReturns() throws Exception {
        try (Mirror mirror = started(MirrorConfig.builder().mode(MirrorMode.SYNC).build())) {
            insert(1, "NEW");
            mirror.recorder().record("t_order", 1);
            assertThat(target.queryForObject("SELECT status FROM t_order WHERE id = 1", String.class)).isEqualTo("NEW");
        }
    }

    @Test
    void sync_targetDown_callerIsNotFailedAndTheBackgroundCatchesUp() throws Exception {
        try (Mirror mirror = started(MirrorConfig.builder().mode(MirrorMode.SYNC).syncTimeout(Duration.ofMillis(200))
                .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(50)).maxAttempts(200).build())) {
            flakyTarget.setDown(true);
            insert(1, "NEW");
            long start = System.nanoTime();
            mirror.recorder().record("t_order", 1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();
            assertThat(events).anyMatch(e -> e instanceof DualWriteEvent.ApplyFailed);
            flakyTarget.setDown(false);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        }
    }

    @Test
    void async_fullQueue_spillsToTheOutboxAndNothingIsDropped() throws Exception {
        try (Mirror mirror = started(MirrorConfig.builder().mode(MirrorMode.ASYNC).lanes(1).queueCapacity(1)
                .createOutboxTable(true).outboxPollInterval(Duration.ofMillis(20)).build())) {
            for (long id = 1; id <= 300; id++) {
                insert(id, "S" + id);
            }
            for (long id = 1; id <= 300; id++) {
                mirror.recorder().record("t_order", id);
            }
            assertThat(mirror.spilled()).as("keys the full queue spilled").isPositive();
            assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
            assertThat(events).filteredOn(e -> e instanceof DualWriteEvent.KeysSpilled).isNotEmpty();
            assertThat(mirror.parked()).isZero();
        }
    }

    /**
     * A lane lingers for more keys (here up to 1 s), but not for keys someone waits on: a step's barrier asking
     * whether what was committed up to a moment is applied ends the linger for those keys, and so does a drain.
     * A key nobody waits for still lingers.
     */
    @Test
    void async_aWaiterForAppliedChanges_endsTheLingerForThem() throws Exception {
        try (Mirror mirror = started(MirrorConfig.builder().mode(MirrorMode.ASYNC).batchLinger(Duration.ofSeconds(1))
                .build())) {
            insert(1, "NEW");
            mirror.recorder().record("t_order", 1);
            long committed = System.nanoTime();
            assertThat(mirror.awaitAppliedUpTo(committed, Duration.ofMillis(500))).isTrue();
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 1", Long.class)).isEqualTo(1);

            insert(2, "NEW");
            mirror.recorder().record("t_order", 2);
            Thread.sleep(200);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 2", Long.class))
                    .as("a key nobody waits for lingers").isZero();
            assertThat(mirror.awaitDrained(Duration.ofMillis(500))).isTrue();
            assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
        }
    }

    @Test
    void async_lastAttemptFails_keyIsParkedWithEventAndCount() throws Exception {
        // A row the target refuses: an unreachable target costs no attempt (LongOutageTest), a bad row does.
        target.execute("ALTER TABLE t_order ADD CONSTRAINT status_short CHECK (LENGTH(status) < 10)");
        try (Mirror mirror = started(MirrorConfig.builder().mode(MirrorMode.ASYNC).maxAttempts(3)
                .initialBackoff(Duration.ofMillis(5)).maxBackoff(Duration.ofMillis(10)).build())) {
            insert(42, "FAR_TOO_LONG_FOR_TARGET");
            mirror.recorder().record("t_order", 42);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
            assertThat(mirror.parked()).isEqualTo(1);
            assertThat(events).filteredOn(e -> e instanceof DualWriteEvent.KeyParked).singleElement()
                    .satisfies(e -> assertThat(((DualWriteEvent.KeyParked) e).key().values()).containsExactly(42L));
            assertThat(events).filteredOn(e -> e instanceof DualWriteEvent.ApplyFailed).hasSize(3);
        }
    }

    @Test
    void outbox_badRowIsParkedInTheOutboxAndTheRestGoesOn() throws Exception {
        target.execute("ALTER TABLE t_order ADD CONSTRAINT status_short CHECK (LENGTH(status) < 10)");
        try (Mirror mirror = started(MirrorConfig.builder().mode(MirrorMode.OUTBOX).maxAttempts(2)
                .initialBackoff(Duration.ofMillis(5)).maxBackoff(Duration.ofMillis(10)).createOutboxTable(true)
                .build())) {
            insert(1, "OK");
            insert(2, "FAR_TOO_LONG_FOR_TARGET");
            insert(3, "OK");
            mirror.recorder().recordAll("t_order", List.of(1, 2, 3));
            assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
            assertThat(target.queryForList("SELECT id FROM t_order ORDER BY id"))
                    .extracting(row -> ((Number) row.get("id")).longValue()).containsExactly(1L, 3L);
            assertThat(source.queryForList("SELECT row_key, attempts, parked, last_error FROM dualwrite_outbox"))
                    .singleElement().satisfies(row -> {
                        assertThat(row.get("row_key")).isEqualTo("[2]");
                        assertThat(((Number) row.get("parked")).intValue()).isEqualTo(1);
                        assertThat((String) row.get("last_error")).containsIgnoringCase("status_short");
                    });
        }
    }

    @Test
    void lag_growsWhileTheTargetIsDown_andIsZeroOnceDrained() throws Exception {
        for (MirrorMode mode : List.of(MirrorMode.ASYNC, MirrorMode.OUTBOX)) {
            try (Mirror mirror = started(MirrorConfig.builder().mode(mode).createOutboxTable(true)
                    .initialBackoff(Duration.ofMillis(20)).maxBackoff(Duration.ofMillis(50)).maxAttempts(500).build())) {
                assertThat(mirror.lag()).isZero();
                flakyTarget.setDown(true);
                insert(mode == MirrorMode.ASYNC ? 7 : 8, "NEW");
                mirror.recorder().record("t_order", mode == MirrorMode.ASYNC ? 7 : 8);
                Thread.sleep(300);
                assertThat(mirror.lag()).as(mode + " lag while down").isGreaterThanOrEqualTo(Duration.ofMillis(250));
                flakyTarget.setDown(false);
                assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
                assertThat(mirror.lag()).as(mode + " lag after drain").isZero();
            }
        }
    }

    @Test
    void outbox_missingTable_startFailsWithTheDdlToRun() {
        Mirror mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.OUTBOX).build(), tables,
                source.dataSource(), flakyTarget, publisher);
        assertThatThrownBy(mirror::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("dualwrite.mirror.mode=OUTBOX needs table 'dualwrite_outbox'")
                .hasMessageContaining("CREATE TABLE dualwrite_outbox")
                .hasMessageContaining("dualwrite.schema.create=true");
    }

    @Test
    void recorder_unknownTable_isRefusedAtTheCall() throws Exception {
        try (Mirror mirror = started(MirrorConfig.defaults())) {
            assertThatThrownBy(() -> mirror.recorder().record("t_ordr", 1))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("table 't_ordr' is not mapped");
        }
    }

    private Mirror started(MirrorConfig config) throws Exception {
        Mirror mirror = Mirror.create(config, tables, source.dataSource(), flakyTarget, publisher);
        mirror.start();
        return mirror;
    }
}
