package io.dualwrite.samples.orders;

import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.StepResult;
import java.sql.SQLException;
import java.time.Duration;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Service;

/**
 * Signing in to the new app moves the user to the new store: per-user live migration. While the migration
 * ramps (RAMP), a login asks {@link MigrationController#moveUser}: that user's requests are held for a moment,
 * every row of the user is copied to the new store under the mirror's lock, the user is routed there, and the
 * held requests go on; every other user keeps writing without waiting. A move that fails leaves the user
 * where it was and says why; the login itself still succeeds.
 */
@Service
public class LoginService {

    private final ObjectProvider<MigrationController> controllers;
    private final Duration moveTimeout;

    /**
     * @param controllers the migration's controller, when routing is on
     * @param moveTimeout how long one user's move may take ({@code demo.login.move-timeout})
     */
    public LoginService(ObjectProvider<MigrationController> controllers,
            @Value("${demo.login.move-timeout:10s}") Duration moveTimeout) {
        this.controllers = controllers;
        this.moveTimeout = moveTimeout;
    }

    /**
     * What a login did to the user's route.
     *
     * @param userId the user
     * @param route the store the user's requests go to now
     * @param outcome ACTIVATED (moved now), UNCHANGED (already there), REFUSED or REVERTED (stays), or NOT_RAMPING
     * @param message why, from the move
     */
    public record Login(long userId, Route route, String outcome, String message) {
        /** @return whether the user is on the new store now */
        public boolean onNewStore() {
            return route == Route.TARGET;
        }
    }

    /**
     * Signs a user in: moves the user to the new store if the migration is ramping.
     *
     * @param userId the user
     * @return where the user is now, and what the move did
     * @throws SQLException if the control store cannot be reached
     * @throws InterruptedException if interrupted; the move is reverted
     */
    public Login login(long userId) throws SQLException, InterruptedException {
        MigrationController controller = controllers.getIfAvailable();
        if (controller == null || controller.rules().phase() != Phase.RAMP) {
            Route route = controller == null ? Route.SOURCE : controller.route(userId);
            return new Login(userId, route, "NOT_RAMPING", "users move on login only during RAMP");
        }
        StepResult moved = controller.moveUser(userId, Route.TARGET, "login", "user " + userId
                + " signed in to the new app", moveTimeout);
        return new Login(userId, controller.route(userId), moved.outcome().name(), moved.message());
    }
}
