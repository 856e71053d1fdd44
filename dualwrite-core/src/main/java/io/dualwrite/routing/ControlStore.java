package io.dualwrite.routing;

import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.function.Function;

/**
 * Where the migration's live setting is kept and shared by every instance of the service: the
 * {@link ControlState} and each instance's heartbeat and acknowledgement. Implementations:
 * {@link PropertiesControlStore} (one process, set from configuration) and {@link JdbcControlStore}
 * (the {@code dualwrite_control} table, for a fleet).
 */
public interface ControlStore {

    /**
     * @return the current state
     * @throws SQLException if the store cannot be read
     */
    ControlState read() throws SQLException;

    /**
     * Replaces the state if nobody changed it since {@code expectedVersion}.
     *
     * @param expectedVersion the version the change was based on
     * @param next the new state, whose version is {@code expectedVersion + 1}
     * @return true if replaced, false if another change came first
     * @throws SQLException if the store cannot be written
     */
    boolean compareAndSet(long expectedVersion, ControlState next) throws SQLException;

    /**
     * Ends a pending step, or leaves it pending: reads the instances and writes the state {@code decide}
     * makes of them, as one indivisible act. No heartbeat lands between the read and the write; one sent
     * meanwhile waits, and the state read after it is the one written here. Otherwise an instance counted
     * out on its lapsed lease could renew it and read between the two, find the step still pending, withdraw
     * its promise on the view the step is about to replace, and go on routing by that view, unfenced, after
     * the step went active ({@code model/lease.pml}, NEG_SPLIT_COUNT_OUT).
     *
     * @param expectedVersion the version of the pending state the decision is about
     * @param decide the next state (version {@code expectedVersion + 1}) given every registered instance, or
     *     null to leave the state as it is
     * @return the state written, or null if none was: {@code decide} said so, or the state is no longer
     *     {@code expectedVersion}
     * @throws SQLException if the store cannot be read or written
     */
    ControlState finishStep(long expectedVersion, Function<List<InstanceStatus>, ControlState> decide)
            throws SQLException;

    /**
     * The route a per-user move gave a routing key ({@link MigrationController#moveUser}). A store writes a
     * user's route in the same act as the state that activates the move ({@link #finishStep}), so whoever reads
     * that state reads the route too.
     *
     * @param key the routing key's text ({@link TrafficRouter#text})
     * @return the user's route, or empty if the user was never moved
     * @throws SQLException if the store cannot be read
     */
    default java.util.Optional<Route> userRoute(String key) throws SQLException {
        return java.util.Optional.empty();
    }

    /**
     * Whether any user moved by {@link MigrationController#moveUser} is routed to a store now: such users make
     * RAMP at percent 0 (or 100) send some routing keys to each store ({@link RoutingRules#splitsTraffic}).
     *
     * @param route the store
     * @return true if at least one moved user's route is that store
     * @throws SQLException if the store cannot be read
     */
    default boolean routesUsersTo(Route route) throws SQLException {
        return false;
    }

    /**
     * Renews an instance's lease and records what it has acknowledged and whether it promises to fence
     * itself.
     *
     * @param instanceId the instance
     * @param acknowledged the highest state version it has acknowledged
     * @param leaseUntil when it counts as gone unless renewed
     * @param fences whether the instance promises to take no request, and commit no transaction, once its
     *     lease has lapsed by its own clock, until it has renewed it and read the state again; only then may
     *     a step count it out when its lease runs out (see {@link MigrationController})
     * @throws SQLException if the store cannot be written
     */
    void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences) throws SQLException;

    /**
     * @return every instance that has sent a heartbeat and not left, live or not
     * @throws SQLException if the store cannot be read
     */
    List<InstanceStatus> instances() throws SQLException;

    /**
     * Removes an instance that shuts down, so that steps need not wait for its lease to expire.
     *
     * @param instanceId the instance
     * @throws SQLException if the store cannot be written
     */
    void leave(String instanceId) throws SQLException;

    /**
     * Removes an instance that an operator knows to be dead or stopped, but only if its lease ran out
     * before {@code lapsedBefore}: a live instance is never dropped, even by a race with its heartbeat.
     *
     * @param instanceId the instance
     * @param lapsedBefore the instance is removed only if its lease ran out before this instant
     * @return true if it was removed; false if it is unknown or its lease has not run out
     * @throws SQLException if the store cannot be written
     */
    boolean drop(String instanceId, Instant lapsedBefore) throws SQLException;
}
