/**
 * Operating a migration through Spring Boot Actuator: the {@code dualwrite} endpoint (status, and
 * backfill start, pause and resume) and the health indicator.
 *
 * <p>Entry types: {@link io.dualwrite.autoconfigure.actuate.DualWriteEndpoint} and
 * {@link io.dualwrite.autoconfigure.actuate.DualWriteHealthIndicator}, configured by
 * {@link io.dualwrite.autoconfigure.actuate.DualWriteEndpointAutoConfiguration} only when actuator is
 * present.
 *
 * <p>Nothing here changes state unless {@code dualwrite.management.write-enabled=true}; a refused
 * write changes nothing and says which property allows it.
 */
package io.dualwrite.autoconfigure.actuate;
