/**
 * A small order service (create, pay, ship, cancel, list by user) that migrates its orders from the old
 * schema {@code t_order} to the new schema {@code orders} with dualwrite, while simulated users shop.
 *
 * <p>Entry type: {@link io.dualwrite.samples.orders.OrderServiceApplication}. The service itself is
 * {@link io.dualwrite.samples.orders.OrderService} over {@link io.dualwrite.samples.orders.OrderDao} (the only
 * class that carries dualwrite annotations); the migration is configured in {@code application.properties}
 * and played by {@link io.dualwrite.samples.orders.MigrationScenario} through the starter's beans. The other
 * strategies (a staged plan, users moved on login through {@link io.dualwrite.samples.orders.LoginService}, a
 * degradation drill) are {@link io.dualwrite.samples.orders.StrategyScenarios}, chosen with
 * {@code --demo.scenario}.
 *
 * <p>Nothing here may reach around the library to keep the stores in step: every row the target holds got
 * there by the backfill, the mirrors or the reconciler, so the final comparison tests the library.
 */
package io.dualwrite.samples.orders;
