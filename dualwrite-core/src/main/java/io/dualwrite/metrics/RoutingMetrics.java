package io.dualwrite.metrics;

import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.KeylessRequests;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.StepResult;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.MeterBinder;
import java.util.Objects;

/**
 * Meters of the routing: requests that carry no routing key ({@link MeterNames#ROUTING_KEYLESS} and
 * {@link MeterNames#ROUTING_KEYLESS_SHARE}) and the outcomes of desired settings
 * ({@link MeterNames#ROUTING_DESIRED}), read when scraped.
 */
public final class RoutingMetrics implements MeterBinder {

    private final MigrationController controller;
    private final DesiredSettings desired;

    /**
     * @param controller this instance's controller
     */
    public RoutingMetrics(MigrationController controller) {
        this(controller, null);
    }

    /**
     * @param controller this instance's controller
     * @param desired the executor of desired settings, whose outcomes are counted ({@link MeterNames#ROUTING_DESIRED}),
     *     or null
     */
    public RoutingMetrics(MigrationController controller, DesiredSettings desired) {
        this.controller = Objects.requireNonNull(controller, "controller");
        this.desired = desired;
    }

    @Override
    public void bindTo(MeterRegistry registry) {
        FunctionCounter.builder(MeterNames.ROUTING_KEYLESS, controller, c -> c.keylessRequests().defaultRouted())
                .description("Requests without a routing key that took the default route while RAMP was active")
                .register(registry);
        Gauge.builder(MeterNames.ROUTING_KEYLESS_SHARE, controller, c -> c.keylessRequests().lastMinute().ratio())
                .description("Share of this instance's requests of the last " + KeylessRequests.WINDOW_SECONDS
                        + " s that carried no routing key")
                .register(registry);
        if (desired != null) {
            for (StepResult.Outcome outcome : StepResult.Outcome.values()) {
                FunctionCounter.builder(MeterNames.ROUTING_DESIRED, desired, d -> d.count(outcome))
                        .description("Desired settings (feature flags, refreshed properties) by their outcome")
                        .tag("outcome", outcome.name()).register(registry);
            }
        }
    }
}
