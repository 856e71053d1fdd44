package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.Store;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The user-moves scenario on embedded H2: users signing in are moved one at a time while everybody writes. */
class H2UserMovesScenarioTest extends StrategyScenarioTest {

    @Autowired
    MigrationController controller;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException {
        stores(Store.H2, Store.H2, registry);
    }

    @Test
    void usersSigningIn_areMovedAlone_andEveryWriteTakesItsUsersRoute() throws Exception {
        StrategyScenarios.Result moves = runAndCheck("user-moves").get(0);

        assertThat(moves.lines()).anyMatch(line -> line.startsWith("40 users signed in and moved one by one"))
                .anyMatch(line -> line.contains("; 0 off their route"))
                .anyMatch(line -> line.equals("the moved users' orders on both stores: 0 differ"));
        // Users 1, 6, 11, ... (every fifth of 200) signed in; the others stayed on the old store at RAMP 0 %.
        assertThat(controller.rules().percent()).isZero();
        assertThat(controller.route(1L)).isEqualTo(Route.TARGET);
        assertThat(controller.route(196L)).isEqualTo(Route.TARGET);
        assertThat(controller.route(2L)).isEqualTo(Route.SOURCE);
    }
}
