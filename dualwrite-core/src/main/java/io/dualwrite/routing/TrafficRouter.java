package io.dualwrite.routing;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * Decides the route of a routing key under the current {@link RoutingRules}. Application code with a
 * new data model can branch on {@link #route(Object)} like on a feature flag.
 *
 * <p>A key's bucket (0..99) never changes, and during RAMP buckets below the percent go to the target,
 * so a key routed to the target at percent p stays there at every percent above p: raising the percent
 * only ever moves keys from the source to the target, lowering it only back.
 *
 * <h2>Precedence, in one place</h2>
 * Outside RAMP the phase decides alone (SOURCE_ONLY and DUAL_WRITE: the source; TARGET_ONLY: the target). In
 * RAMP, first match wins:
 * <ol>
 * <li>no routing key: the default route;</li>
 * <li>a moved user: the route its last per-user move gave it ({@link MigrationController#moveUser}), kept in
 *     the control store's user-route table (and, for the user a step is moving, in the rules' {@code move});</li>
 * <li>the deny-list: the source;</li>
 * <li>the allow-list: the target;</li>
 * <li>the bucket: the target below the percent, else the source.</li>
 * </ol>
 * A move is the most specific and the latest decision about one user, so neither lists nor the percent
 * override it: a percent step leaves moved users where they are (and does not hold them), and invariant 6
 * holds for every user never moved. To let the lists and the percent decide for a moved user again, move
 * it to the route they give.
 */
public final class TrafficRouter {

    /** No user was ever moved. */
    static final Function<String, Route> NO_MOVED_USERS = key -> null;

    private final Supplier<RoutingRules> rules;
    private final Function<String, Route> movedUsers;

    /**
     * Creates a router that reads the rules at every call, so it follows live changes; it knows no moved
     * users but the one in the rules ({@link MigrationController#router()} knows them all).
     *
     * @param rules the current rules, e.g. {@code MigrationController::rules}
     */
    public TrafficRouter(Supplier<RoutingRules> rules) {
        this(rules, NO_MOVED_USERS);
    }

    /**
     * @param rules the current rules
     * @param movedUsers a routing key's text to its moved route, or null when it was never moved
     */
    TrafficRouter(Supplier<RoutingRules> rules, Function<String, Route> movedUsers) {
        this.rules = Objects.requireNonNull(rules, "rules");
        this.movedUsers = Objects.requireNonNull(movedUsers, "movedUsers");
    }

    /**
     * The route of a request with this routing key under the current rules.
     *
     * @param key the routing key (usually the user id), or null for a request without one
     * @return the route
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    public Route route(Object key) {
        return route(rules.get(), movedUsers, key);
    }

    /**
     * The route of a routing key under given rules, knowing no moved user but the one in the rules' move.
     *
     * @param rules the rules
     * @param key the routing key, or null
     * @return the route
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    public static Route route(RoutingRules rules, Object key) {
        return route(rules, NO_MOVED_USERS, key);
    }

    /**
     * The route of a routing key under given rules and moved users (see the class comment for the precedence).
     *
     * @param rules the rules
     * @param movedUsers a routing key's text to its moved route, or null when it was never moved
     * @param key the routing key, or null
     * @return the route
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    static Route route(RoutingRules rules, Function<String, Route> movedUsers, Object key) {
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
        if (rules.move() != null && rules.move().key().equals(text)) {
            return rules.move().route();
        }
        Route moved = movedUsers.apply(text);
        if (moved != null) {
            return moved;
        }
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
