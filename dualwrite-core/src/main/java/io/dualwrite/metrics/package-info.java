/**
 * Micrometer meters for the library's events: {@link io.dualwrite.metrics.DualWriteMetrics} is both a
 * {@link io.micrometer.core.instrument.binder.MeterBinder} and an event listener. Every meter name
 * lives in {@link io.dualwrite.metrics.MeterNames}.
 *
 * <p>This package only listens; it never changes what the mirror does.
 */
package io.dualwrite.metrics;
