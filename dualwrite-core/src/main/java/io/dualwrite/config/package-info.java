/**
 * What every capability's configuration builder shares: the checks that turn a bad setting into an
 * {@link java.lang.IllegalArgumentException} naming the {@code dualwrite.*} property and the bad value.
 *
 * <p>Entry type: {@link io.dualwrite.config.Settings}. This package holds no configuration itself.
 */
package io.dualwrite.config;
