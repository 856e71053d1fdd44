package io.dualwrite.routing;

import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * One complete routing setting: the phase, the ramp percent and how keys map to buckets, the allow- and
 * deny-lists, and the route of requests that carry no routing key. Immutable; compared by value.
 *
 * @param phase where the migration stands
 * @param percent 0..100: during RAMP, buckets below it go to the target
 * @param strategy how keys become buckets
 * @param allow keys (as text) always routed to the target during RAMP
 * @param deny keys (as text) always routed to the source during RAMP; deny wins over allow
 * @param defaultRoute the route during RAMP of a request with no routing key
 * @param move the one user the last or pending per-user move step routes (see {@link UserMoves}), or null. The
 *     routes of all moved users live in the control store's user-route table; this component only carries the
 *     user a step is moving (in the pending rules), and, once it is active, tells every instance which cached
 *     route to drop
 */
public record RoutingRules(Phase phase, int percent, RoutingStrategy strategy, Set<String> allow, Set<String> deny,
        Route defaultRoute, UserMove move) {

    /**
     * Rules without a per-user move.
     *
     * @param phase where the migration stands
     * @param percent 0..100
     * @param strategy how keys become buckets
     * @param allow keys always routed to the target during RAMP
     * @param deny keys always routed to the source during RAMP
     * @param defaultRoute the route during RAMP of a request with no routing key
     * @throws IllegalArgumentException if the percent is outside 0..100
     */
    public RoutingRules(Phase phase, int percent, RoutingStrategy strategy, Set<String> allow, Set<String> deny,
            Route defaultRoute) {
        this(phase, percent, strategy, allow, deny, defaultRoute, null);
    }

    /**
     * One user's route, as a per-user move step sets it.
     *
     * @param key the routing key, as {@link TrafficRouter#text} writes it
     * @param route the route the user moves to
     */
    public record UserMove(String key, Route route) {
        /** Checks the parts. */
        public UserMove {
            Objects.requireNonNull(key, "key");
            Objects.requireNonNull(route, "route");
            if (key.isEmpty() || key.length() > UserRouteTable.MAX_KEY) {
                throw new IllegalArgumentException("dualwrite move-user: a routing key of 1 to " + UserRouteTable.MAX_KEY
                        + " characters is needed, not '" + key + "'");
            }
        }

        @Override
        public String toString() {
            return key + "->" + route;
        }
    }

    /**
     * Checks the parts.
     *
     * @throws IllegalArgumentException if the percent is outside 0..100
     * @throws NullPointerException if a part is null
     */
    public RoutingRules {
        Objects.requireNonNull(phase, "phase");
        Objects.requireNonNull(strategy, "strategy");
        Objects.requireNonNull(defaultRoute, "defaultRoute");
        if (percent < 0 || percent > 100) {
            throw new IllegalArgumentException("dualwrite.routing.percent: " + percent + " is outside 0..100");
        }
        allow = Collections.unmodifiableSortedSet(new TreeSet<>(Objects.requireNonNull(allow, "allow")));
        deny = Collections.unmodifiableSortedSet(new TreeSet<>(Objects.requireNonNull(deny, "deny")));
    }

    /**
     * The rules before a migration starts: SOURCE_ONLY, 0 %, HASH, no lists, default route SOURCE.
     *
     * @return the initial rules
     */
    public static RoutingRules initial() {
        return new RoutingRules(Phase.SOURCE_ONLY, 0, RoutingStrategy.HASH, Set.of(), Set.of(), Route.SOURCE);
    }

    /**
     * @param next the phase
     * @return these rules in another phase
     */
    public RoutingRules withPhase(Phase next) {
        return new RoutingRules(next, percent, strategy, allow, deny, defaultRoute, move);
    }

    /**
     * @param next 0..100
     * @return these rules with another percent
     * @throws IllegalArgumentException if outside 0..100
     */
    public RoutingRules withPercent(int next) {
        return new RoutingRules(phase, next, strategy, allow, deny, defaultRoute, move);
    }

    /**
     * @param next the strategy
     * @return these rules with another strategy
     */
    public RoutingRules withStrategy(RoutingStrategy next) {
        return new RoutingRules(phase, percent, next, allow, deny, defaultRoute, move);
    }

    /**
     * @param nextAllow keys forced to the target
     * @param nextDeny keys forced to the source
     * @return these rules with other lists
     */
    public RoutingRules withLists(Collection<String> nextAllow, Collection<String> nextDeny) {
        return new RoutingRules(phase, percent, strategy, new LinkedHashSet<>(nextAllow), new LinkedHashSet<>(nextDeny),
                defaultRoute, move);
    }

    /**
     * @param next the route of requests without a key during RAMP
     * @return these rules with another default route
     */
    public RoutingRules withDefaultRoute(Route next) {
        return new RoutingRules(phase, percent, strategy, allow, deny, next, move);
    }

    /**
     * @param next the user a per-user move step routes, or null
     * @return these rules with another move
     */
    public RoutingRules withMove(UserMove next) {
        return new RoutingRules(phase, percent, strategy, allow, deny, defaultRoute, next);
    }

    /**
     * Whether these rules split the routing keys between the stores, counting only the user this step moves
     * ({@link #move()}): see {@link #splitsTraffic(java.util.function.Predicate)}, which also counts the users
     * moved before ({@link MigrationController#splitsTraffic} asks the control store for them).
     *
     * @return true if both stores are primary for some routing keys
     */
    public boolean splitsTraffic() {
        return splitsTraffic(route -> false);
    }

    /**
     * Whether these rules split the routing keys between the stores: RAMP with neither every key on the source
     * (percent 0, no allow-list, no user moved to the target) nor every key on the target (percent 100, no
     * deny-list, no user moved to the source). A moved user's route wins over the percent ({@link TrafficRouter}),
     * so one user moved to the target at percent 0 splits the traffic as much as an allow-list does. Requests
     * without a key take the default route either way; {@link KeylessRequests} watches those.
     *
     * @param usersMovedTo whether any user moved earlier (the control store's user routes) is routed to a store;
     *     the rules' own {@link #move()} is counted besides
     * @return true if both stores are primary for some routing keys
     */
    public boolean splitsTraffic(java.util.function.Predicate<Route> usersMovedTo) {
        Objects.requireNonNull(usersMovedTo, "usersMovedTo");
        if (phase != Phase.RAMP) {
            return false;
        }
        boolean allSource = percent == 0 && allow.isEmpty() && !movedTo(Route.TARGET, usersMovedTo);
        boolean allTarget = percent == 100 && deny.isEmpty() && !movedTo(Route.SOURCE, usersMovedTo);
        return !allSource && !allTarget;
    }

    private boolean movedTo(Route route, java.util.function.Predicate<Route> usersMovedTo) {
        return (move != null && move.route() == route) || usersMovedTo.test(route);
    }

    /**
     * Checks that every listed key has a bucket under the strategy (MODULO needs whole numbers).
     *
     * @return these rules
     * @throws IllegalArgumentException naming the list and the key
     */
    public RoutingRules requireListedKeysHaveBuckets() {
        PropertiesControlStore.checkListedKeys(this);
        return this;
    }

    @Override
    public String toString() {
        StringBuilder text = new StringBuilder(phase.name());
        if (phase == Phase.RAMP) {
            text.append(' ').append(percent).append("% ").append(strategy);
        }
        if (!allow.isEmpty()) {
            text.append(" allow=").append(allow);
        }
        if (!deny.isEmpty()) {
            text.append(" deny=").append(deny);
        }
        if (defaultRoute != Route.SOURCE) {
            text.append(" default=").append(defaultRoute);
        }
        if (move != null) {
            text.append(" move=").append(move);
        }
        return text.toString();
    }
}
