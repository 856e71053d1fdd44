package io.dualwrite.routing;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Decides the route of a routing key under the current {@link RoutingRules}. Application code with a
 * new data model can branch on {@link #route(Object)} like on a feature flag.
 *
 * <p>A key's bucket (0..99) never changes, and during RAMP buckets below the percent go to the target,
 * so a key routed to the target at percent p stays there at every percent above p: raising the percent
 * only ever moves keys from the source to the target, lowering it only back.
 */
public final class TrafficRouter {

    private final Supplier<RoutingRules> rules;

    /**
     * Creates a router that reads the rules at every call, so it follows live changes.
     *
     * @param rules the current rules, e.g. {@code MigrationController::rules}
     */
    public TrafficRouter(Supplier<RoutingRules> rules) {
        this.rules = Objects.requireNonNull(rules, "rules");
    }

    /**
     * The route of a request with this routing key under the current rules.
     *
     * @param key the routing key (usually the user id), or null for a request without one
     * @return the route
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    public Route route(Object key) {
        return route(rules.get(), key);
    }

    /**
     * The route of a routing key under given rules.
     *
     * @param rules the rules
     * @param key the routing key, or null
     * @return the route
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    public static Route route(RoutingRules rules, Object key) {
        switch (rules.phase()) {
            case SOURCE_ONLY:
            case DUAL_WRITE:
                return Route.SOURCE;
            case TARGET_ONLY:
                return Route.TARGET;
            default:
                break;
        }
        if (key == null) {
            return rules.defaultRoute();
        }
        String text = text(key);
        if (rules.deny().contains(text)) {
            return Route.SOURCE;
        }
        if (rules.allow().contains(text)) {
            return Route.TARGET;
        }
        return bucket(key, rules.strategy()) < rules.percent() ? Route.TARGET : Route.SOURCE;
    }

    /**
     * The bucket of a routing key.
     *
     * @param key the routing key
     * @param strategy how keys become buckets
     * @return 0..99
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     * @throws NullPointerException if the key is null
     */
    public static int bucket(Object key, RoutingStrategy strategy) {
        Objects.requireNonNull(key, "key");
        if (strategy == RoutingStrategy.MODULO) {
            return wholeNumber(key).mod(BigInteger.valueOf(100)).intValue();
        }
        return (int) Long.remainderUnsigned(mix(fnv1a(text(key))), 100);
    }

    /**
     * The text a key is listed and hashed by: integral numbers of any Java type as their decimal digits
     * (so {@code 42}, {@code 42L} and {@code "42"} are one key), anything else by {@code toString()}.
     *
     * @param key the routing key
     * @return its text
     */
    public static String text(Object key) {
        if (key instanceof Long || key instanceof Integer || key instanceof Short || key instanceof Byte
                || key instanceof BigInteger) {
            return key.toString();
        }
        if (key instanceof BigDecimal decimal) {
            BigDecimal stripped = decimal.stripTrailingZeros();
            return stripped.scale() <= 0 ? stripped.toBigIntegerExact().toString() : stripped.toPlainString();
        }
        return key.toString().trim();
    }

    private static BigInteger wholeNumber(Object key) {
        String text = text(key);
        if (!text.isEmpty() && text.length() <= 40 && text.matches("-?\\d+")) {
            return new BigInteger(text);
        }
        throw new IllegalArgumentException("dualwrite.routing.strategy=MODULO needs whole-number routing keys, but"
                + " got '" + text + "' (" + key.getClass().getSimpleName() + "); use dualwrite.routing.strategy=HASH"
                + " for keys that are not numbers");
    }

    private static long fnv1a(String text) {
        long hash = 0xcbf29ce484222325L;
        for (byte b : text.getBytes(StandardCharsets.UTF_8)) {
            hash ^= b & 0xff;
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    /** A 64-bit finaliser, so that keys differing in their last digit spread over all buckets. */
    private static long mix(long hash) {
        long h = hash;
        h ^= h >>> 33;
        h *= 0xff51afd7ed558ccdL;
        h ^= h >>> 33;
        h *= 0xc4ceb9fe1a85ec53L;
        h ^= h >>> 33;
        return h;
    }
}
