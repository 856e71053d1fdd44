/**
 * Routing: which store is primary for each request during a migration, and how the migration moves
 * from phase to phase.
 *
 * <p>{@link io.dualwrite.routing.Route} names a store; {@link io.dualwrite.routing.Phase} names where the
 * migration stands.
 */
package io.dualwrite.routing;
