/**
 * Routing: which store is primary for each request during a migration, and how the migration moves
 * from phase to phase without losing a write.
 *
 * <p>Entry type: {@link io.dualwrite.routing.MigrationController}, one per service instance, which
 * follows the live setting in a {@link io.dualwrite.routing.ControlStore} (in memory from properties,
 * or the {@code dualwrite_control} table shared by a fleet) and changes it one barrier step at a time.
 * Around it:
 * <ul>
 * <li>{@link io.dualwrite.routing.TrafficRouter}: a routing key's bucket and route under
 *     {@link io.dualwrite.routing.RoutingRules} (phase, percent, MODULO or HASH, allow- and deny-lists);</li>
 * <li>{@link io.dualwrite.routing.RoutingContext}, {@link io.dualwrite.routing.RoutingKey} and
 *     {@link io.dualwrite.routing.RoutingKeyAspect}: the request's routing key, bound before the
 *     transaction opens;</li>
 * <li>{@link io.dualwrite.routing.DualWriteRoutingDataSource}: the application's data source, which
 *     admits each request through the controller and hands out the routed store's connection;</li>
 * <li>{@link io.dualwrite.routing.RoutingChangeSink}: sends each committed change set to the forward
 *     or the reverse mirror, by the route its transaction took;</li>
 * <li>{@link io.dualwrite.routing.ChangeLogRouting}: when the change-data capture of each store's log hands
 *     its keys over (the source's to the forward mirror, the target's during RAMP to the reverse mirror: a
 *     key is applied from the store whose log it came from), and the drain by which a step waits for them;</li>
 * <li>{@link io.dualwrite.routing.RampGuards}, {@link io.dualwrite.routing.CrossRouteWrites} and
 *     {@link io.dualwrite.routing.KeylessRequests} (requests that carry no routing key and so never move);</li>
 * <li>per-user moves ({@link io.dualwrite.routing.MigrationController#moveUser}): a step for one routing key,
 *     the user's rows copied through the mirrors' locked apply ({@link io.dualwrite.routing.UserCopy}), the
 *     moved users' routes in the control store's {@code dualwrite_user_route} table, cached per instance
 *     ({@code UserMoves} and {@code UserRouteTable} state their invariants).</li>
 * </ul>
 *
 * <p>Leases: each instance renews one in the control store. A step counts out an instance whose lease ran
 * out only if its last heartbeat promised that it fences itself (it does wherever the target is the primary
 * of some row); a lapsed instance that promised holds its requests and rolls back, at commit, transactions
 * admitted before the lapse; one that did not (SOURCE_ONLY, DUAL_WRITE, where the target's outage must not
 * fail a write) is waited for until an operator drops it. The rule and its clock assumption are in
 * {@link io.dualwrite.routing.MigrationController}'s class comment.
 *
 * <p>This package must never let a request take a route that a step in progress is changing (it waits,
 * or fails after the hold timeout), never activate a step before every instance it has not counted out
 * under that rule has ended the transactions it admitted before the step (whatever their routing key) and
 * drained what they committed, never let a lapsed instance that promised to fence itself admit or commit,
 * never let a backfill chunk copy over a target that target-routed users write, and never change the
 * setting except through a step (a seeded RAMP from properties passes the same guards at start-up).
 */
package io.dualwrite.routing;
