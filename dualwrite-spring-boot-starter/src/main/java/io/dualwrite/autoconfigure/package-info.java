/**
 * Spring Boot auto-configuration for dualwrite: one dependency and {@code dualwrite.*} properties make
 * the application's own {@code DataSource} the source of a migration into a target pool, and put the
 * routing {@code DataSource} in its place, so the application's own code follows every phase.
 *
 * <p>Entry types: {@link io.dualwrite.autoconfigure.DualWriteProperties} (every setting, with
 * metadata for IDEs) and {@link io.dualwrite.autoconfigure.DualWriteAutoConfiguration} (the beans, each
 * replaceable by the application's own); {@link io.dualwrite.autoconfigure.DualWriteFailureAnalyzer}
 * explains start-up failures. Beside it, one auto-configuration per further capability:
 * {@link io.dualwrite.autoconfigure.DualWriteRoutingKeyAutoConfiguration} (how requests get a routing key,
 * and the guard on those that carry none) and
 * {@link io.dualwrite.autoconfigure.DualWriteDesiredSettingsAutoConfiguration} (feature flags and refreshed
 * properties asking for steps). Listed in {@code AutoConfiguration.imports}; nothing here is found by
 * component scanning.
 *
 * <p>This package only assembles the library: it never holds migration logic of its own, never
 * replaces a {@code DataSource} other than the migrated one ({@code RoutingDataSourcePostProcessor}), and
 * never lets a mirroring problem fail the application's write.
 */
package io.dualwrite.autoconfigure;
