/**
 * Runnable samples: {@link io.dualwrite.samples.H2MigrationDemo} mirrors a small order service between
 * two embedded H2 databases, and {@code bench} holds the benchmark harness.
 */
package io.dualwrite.samples;
