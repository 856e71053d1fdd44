package io.dualwrite.routing;

import java.util.Optional;

/**
 * A check that may refuse a step sending more traffic to the target: entering RAMP, raising the percent,
 * growing the allow-list, entering TARGET_ONLY. A refusal can be overridden with {@code force}, and the
 * override is logged. See {@link RampGuards} for the built-in ones.
 */
@FunctionalInterface
public interface RampGuard {

    /**
     * @param from the rules in force
     * @param to the rules asked for
     * @return the reason to refuse, or empty to allow
     */
    Optional<String> check(RoutingRules from, RoutingRules to);
}
