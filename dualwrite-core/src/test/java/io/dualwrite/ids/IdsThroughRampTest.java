package io.dualwrite.ids;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.JdbcControlStore;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.RoutingContext;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.StepResult;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.jdbc.support.GeneratedKeyHolder;
import org.springframework.jdbc.support.KeyHolder;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The whole path on MariaDB -> PostgreSQL: the controller steps into RAMP with {@link IdAlignment}
 * registered, users on both routes insert rows whose ids the stores generate, both mirrors copy them over,
 * and at the end the stores hold the same rows, each inserted row once. Then TARGET_ONLY, and the target
 * goes on past every id.
 */
class IdsThroughRampTest {

    @ParameterizedTest
    @EnumSource(value = IdStrategy.class, names = {"DISJOINT", "INTERLEAVE"})
    void insertsOnBothStoresDuringRamp_neverCollide(IdStrategy strategy) throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "idramp_src");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "idramp_tgt");
                var oddSessions = IdAlignmentTest.oddSessions(source)) {
            source.execute(IdAlignmentTest.ddl(Store.MARIADB));
            target.execute(IdAlignmentTest.ddl(Store.POSTGRESQL));
            for (int i = 0; i < 50; i++) {
                IdAlignmentTest.insert(source.dataSource(), "old " + i);
            }
            source.queryForList("SELECT id, name FROM owners").forEach(row -> IdAlignmentTest.copy(target,
                    ((Number) row.get("id")).longValue(), (String) row.get("name")));
            // INTERLEAVE needs the application's MariaDB sessions to generate odd ids.
            var applicationSource = strategy == IdStrategy.INTERLEAVE ? oddSessions : source.dataSource();

            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("owners").build()),
                    applicationSource, target.dataSource(), true);
            JdbcControlStore store = JdbcControlStore.open(target.dataSource(), "ids",
                    RoutingRules.initial().withPhase(Phase.DUAL_WRITE), true);
            MigrationController controller = MigrationController.builder(store).instanceId("ids-" + strategy)
                    .pollInterval(Duration.ofMillis(100)).stepTimeout(Duration.ofSeconds(20)).build();
            DualWriteRoutingDataSource routing = new DualWriteRoutingDataSource(applicationSource, target.dataSource(),
                    controller);
            MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.ASYNC).build();
            EventPublisher events = new EventPublisher();
            Mirror forward = Mirror.create(config, tables, applicationSource, target.dataSource(), routing, events);
            Mirror reverse = Mirror.create(config, tables.reversed(), target.dataSource(), applicationSource, routing,
                    events);
            controller.addDrain(MigrationController.Drain.of(forward));
            controller.addDrain(MigrationController.Drain.of(reverse));
            IdAlignment ids = IdAlignment.builder(tables, applicationSource, target.dataSource()).strategy(strategy)
                    .range(1_000_000).build();
            controller.addGuard(ids.guard());
            controller.addPreparation(ids.preparation());
            forward.start();
            reverse.start();
            controller.start();
            try {
                ChangeCapture capture = new ChangeCapture(
                        new io.dualwrite.routing.RoutingChangeSink(controller, tables, forward, reverse), tables::contains);
                TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(routing));
                JdbcTemplate jdbc = new JdbcTemplate(routing);

                assertThat(controller.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
                assertThat(controller.requestPercent(50, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);

                List<Long> inserted = Collections.synchronizedList(new ArrayList<>());
                ExecutorService users = Executors.newFixedThreadPool(4);
                try {
                    List<Future<?>> done = new ArrayList<>();
                    for (int u = 0; u < 4; u++) {
                        int firstUser = u;
                        done.add(users.submit(() -> {
                            for (int i = 0; i < 60; i++) {
                                long user = firstUser + 4L * i;
                                RoutingContext.run(user, () -> transactions.executeWithoutResult(status -> {
                                    KeyHolder keys = new GeneratedKeyHolder();
                                    jdbc.update(connection -> {
                                        var statement = connection.prepareStatement(
                                                "INSERT INTO owners (name, gmt_modified) VALUES (?, ?)", new String[] {"id"});
                                        statement.setString(1, "user " + user);
                                        statement.setTimestamp(2, new Timestamp(System.currentTimeMillis()));
                                        return statement;
                                    }, keys);
                                    long id = keys.getKey().longValue();
                                    inserted.add(id);
                                    capture.record("owners", id);
                                }));
                            }
                        }));
                    }
                    for (Future<?> future : done) {
                        future.get();
                    }
                } finally {
                    users.shutdown();
                }
                assertThat(forward.awaitDrained(Duration.ofSeconds(30))).isTrue();
                assertThat(reverse.awaitDrained(Duration.ofSeconds(30))).isTrue();

                assertThat(inserted).hasSize(240).doesNotHaveDuplicates();
                List<Long> onSource = new JdbcTemplate(source.dataSource()).queryForList("SELECT id FROM owners ORDER BY id", Long.class);
                List<Long> onTarget = new JdbcTemplate(target.dataSource()).queryForList("SELECT id FROM owners ORDER BY id", Long.class);
                assertThat(onSource).hasSize(290).isEqualTo(onTarget);
                assertThat(new JdbcTemplate(source.dataSource()).queryForList("SELECT name FROM owners ORDER BY id", String.class))
                        .isEqualTo(new JdbcTemplate(target.dataSource()).queryForList("SELECT name FROM owners ORDER BY id", String.class));

                assertThat(controller.requestPercent(100, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
                assertThat(controller.requestPhase(Phase.TARGET_ONLY, false).outcome())
                        .isEqualTo(StepResult.Outcome.ACTIVATED);
                long afterCutOver = IdAlignmentTest.insert(target.dataSource(), "after cut-over");
                assertThat(afterCutOver).isGreaterThan(onSource.get(onSource.size() - 1));
            } finally {
                controller.close();
                forward.close();
                reverse.close();
            }
        }
    }
}
