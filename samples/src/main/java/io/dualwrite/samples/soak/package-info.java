/**
 * The fault-injection soak (issue 16 item 4): a fleet of three {@link io.dualwrite.samples.soak.SoakInstance}
 * JVMs migrating a MariaDB table to a PostgreSQL cluster of the soak's own, eight writers on a hot key space,
 * and a {@link io.dualwrite.samples.soak.SoakCoordinator} that runs the whole migration while it freezes,
 * kills and restarts instances, stops the target and cuts one instance's network to it, all drawn from a
 * seed. The verdict is SQL on both stores against every client's record of what was acknowledged.
 *
 * <p>Run it with {@code .ci/soak} (or {@code ./mvnw -Psoak -pl samples -am verify -DskipTests}); it needs
 * root (it runs the private cluster as the {@code postgres} OS user) and the shared MariaDB server, in which
 * it creates a database {@code soak_<seed>_<n>} and drops it at the end. It never touches the shared
 * PostgreSQL server. {@code dualwrite.soak.fence=off} with {@code soak.expect=fail} is its negative control.
 */
package io.dualwrite.samples.soak;
