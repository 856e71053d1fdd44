/**
 * Typed events the library publishes: rows applied, an apply failed, a key parked. Metrics, logs and
 * the application's own alerting are listeners, so the core never depends on how they are reported.
 *
 * <p>Entry types: {@link io.dualwrite.event.DualWriteEvent} and
 * {@link io.dualwrite.event.DualWriteEventListener}; {@link io.dualwrite.event.EventPublisher} fans
 * events out. A listener must be fast and must not throw; one that throws is logged and skipped, and
 * never affects the write path.
 */
package io.dualwrite.event;
