package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingStrategy;
import io.dualwrite.routing.TrafficRouter;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * During RAMP the reconciler settles each row by its own route: rows of users routed to the target are
 * repaired from the target through the reverse mirror, the others from the source — whichever request
 * wrote them last (a cross-route write).
 */
class RampRepairTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void rampRepair_followsEachRowsOwnRoute(Store sourceStore, Store targetStore) throws Exception {
        try (VerifyFixture f = new VerifyFixture(sourceStore, targetStore, "ramprep")) {
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").routingColumn("user_id")
                    .build()), f.source.dataSource(), f.target.dataSource(), true);
            // MODULO at 5 %: user 3 (order 13) is routed to the target, user 7 (order 17) to the source.
            RoutingRules ramp = new RoutingRules(Phase.RAMP, 5, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE);
            TrafficRouter router = new TrafficRouter(() -> ramp);
            VerifyFixture.insert(f.source, 13, "NEW", "1.00", "cross-route write by a merchant", "2026-11-20 10:00:00");
            VerifyFixture.insert(f.target, 13, "PAID", "1.00", "written by the user", "2026-11-20 09:00:00");
            VerifyFixture.insert(f.source, 17, "SHIPPED", "2.00", "written by the user", "2026-11-20 09:00:00");
            VerifyFixture.insert(f.target, 17, "NEW", "2.00", "cross-route write by a merchant", "2026-11-20 10:00:00");
            VerifyFixture.insert(f.target, 23, "NEW", "3.00", "only on the target, user 3", "2026-11-20 10:00:00");

            try (Mirror forward = Mirror.create(MirrorConfig.defaults(), tables, f.source.dataSource(),
                    f.target.dataSource(), new EventPublisher());
                    Mirror reverse = Mirror.create(MirrorConfig.defaults(), tables.reversed(), f.target.dataSource(),
                            f.source.dataSource(), new EventPublisher())) {
                ReconcileReport report = Reconciler.create(ReconcileConfig.builder().chunkSize(10).createTables(true)
                        .dryRun(false).rowRoutes(RowRoutes.byRoutingColumn(tables, router))
                        .repairWith(Repairer.throughMirrors(tables, forward, reverse, Duration.ofSeconds(10))).build(),
                        tables, f.source.dataSource(), f.target.dataSource(), f.listener()).run("t_order");

                assertThat(report.differences()).isEqualTo(3);
                assertThat(report.repaired()).isEqualTo(3);
            }

            assertThat(OrderTable.differences(f.source, "t_order", f.target, "t_order", "id")).isEmpty();
            assertThat(f.source.queryForObject("SELECT status FROM t_order WHERE id = 13", String.class))
                    .as("user 3 is primary in the target, whatever the version says").isEqualTo("PAID");
            assertThat(f.target.queryForObject("SELECT status FROM t_order WHERE id = 17", String.class))
                    .as("user 7 is primary in the source").isEqualTo("SHIPPED");
            assertThat(f.source.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = 23", Long.class))
                    .as("a target-primary row missing in the source is copied back").isEqualTo(1);
        }
    }
}
