package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Issue 18: visits reach their owner (the routing key) only through pets. The routing value of a visit is
 * looked up through the foreign key on the source, cached, and routes the row like its owner.
 */
class RoutingValuesTest {

    private static final RoutingValues.ForeignKey PET_OWNER = new RoutingValues.ForeignKey("pets", "id", "owner_id");

    @Test
    void visitsRouteByThePetsOwner_lookedUpOnceAndCached() throws Exception {
        try (TestDatabase db = TestDatabase.create(Store.MARIADB, "rvalues")) {
            db.execute("CREATE TABLE pets (id BIGINT PRIMARY KEY, owner_id BIGINT NOT NULL)",
                    "INSERT INTO pets VALUES (1, 7), (2, 8)");
            AtomicInteger connections = new AtomicInteger();
            DataSource counting = new DelegatingDataSource(db.dataSource()) {
                @Override
                public java.sql.Connection getConnection() throws java.sql.SQLException {
                    connections.incrementAndGet();
                    return super.getConnection();
                }
            };
            RoutingValues values = RoutingValues.throughForeignKeys(counting, Map.of("Visits", PET_OWNER), 1000,
                    Duration.ofMillis(400));

            assertThat(values.resolve("visits", 1L)).isEqualTo(7L);
            assertThat(values.resolve("visits", 2)).as("42 and 42L are one key").isEqualTo(8L);
            assertThat(values.resolve("visits", 1)).isEqualTo(7L);
            assertThat(values.resolve("visits", 99L)).as("a dangling reference").isNull();
            assertThat(values.resolve("visits", 99L)).isNull();
            assertThat(connections.get()).as("one read per value").isEqualTo(3);
            assertThat(values.resolve("orders", 5L)).as("tables without a hop keep their value").isEqualTo(5L);

            db.execute("UPDATE pets SET owner_id = 9 WHERE id = 1");
            assertThat(values.resolve("visits", 1L)).as("cached").isEqualTo(7L);
            Thread.sleep(600);
            assertThat(values.resolve("visits", 1L)).as("after the expiry").isEqualTo(9L);

            RoutingRules allowSeven = RoutingRules.initial().withPhase(Phase.RAMP).withLists(Set.of("9"), Set.of());
            assertThat(TrafficRouter.route(allowSeven, values.resolve("visits", 1L))).isEqualTo(Route.TARGET);
            assertThat(TrafficRouter.route(allowSeven, values.resolve("visits", 2L))).isEqualTo(Route.SOURCE);
        }
    }

    @Test
    void aHopNamingSomethingThatIsNotAnIdentifier_isRefusedNamingTheProperty() {
        assertThatThrownBy(() -> RoutingValues.throughForeignKeys(new org.springframework.jdbc.datasource
                .SimpleDriverDataSource(), Map.of("visits", new RoutingValues.ForeignKey("pets; DROP", "id", "owner_id")),
                10, Duration.ofMinutes(1)))
                .hasMessage("dualwrite.routing.through.visits.table: 'pets; DROP' is not a valid identifier: use letters,"
                        + " digits, '_' and '$', optionally qualified as schema.name");
    }
}
