package io.dualwrite.routing;

import java.sql.SQLTransientException;

/**
 * A request on a key that a ramp step was moving waited longer than the hold timeout. It fails rather
 * than go on by the old route, which could let a late mirror apply undo its write; retrying it is safe.
 */
public class RouteHeldException extends SQLTransientException {

    private static final long serialVersionUID = 1L;

    /**
     * @param message what was held, for how long, and what to look at
     */
    public RouteHeldException(String message) {
        super(message);
    }
}
