package io.dualwrite.routing;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * A control store in this process's memory, starting from configuration ({@code dualwrite.phase},
 * {@code dualwrite.routing.percent|strategy|allow|deny|default-route}). Changes made through a
 * {@link MigrationController} live until the process ends. For one instance, or for several
 * controllers in one JVM; a fleet of instances needs {@link JdbcControlStore}.
 */
public final class PropertiesControlStore implements ControlStore {

    private final Map<String, InstanceStatus> instances = new LinkedHashMap<>();
    private ControlState state;
    /** Routes of moved users, by routing key; a process's own, like the rest of this store. */
    private final Map<String, Route> userRoutes = new java.util.HashMap<>();

    /**
     * @param rules the initial rules
     */
    public PropertiesControlStore(RoutingRules rules) {
        this.state = ControlState.initial(Objects.requireNonNull(rules, "rules"));
    }

    /**
     * Creates a store from configuration properties.
     *
     * @param properties {@code dualwrite.*} keys and their values; missing keys take the initial rules'
     * @return the store
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static PropertiesControlStore fromProperties(Map<String, ?> properties) {
        return new PropertiesControlStore(rules(properties));
    }

    /**
     * Reads routing rules from configuration properties: {@code dualwrite.phase},
     * {@code dualwrite.routing.percent}, {@code dualwrite.routing.strategy} (MODULO or HASH),
     * {@code dualwrite.routing.allow} and {@code dualwrite.routing.deny} (comma-separated keys or
     * collections), {@code dualwrite.routing.default-route} (SOURCE or TARGET).
     *
     * @param properties the keys and values
     * @return the rules
     * @throws IllegalArgumentException naming the key and the bad value
     */
    public static RoutingRules rules(Map<String, ?> properties) {
        RoutingRules initial = RoutingRules.initial();
        Phase phase = properties.containsKey("dualwrite.phase")
                ? Phase.parse(String.valueOf(properties.get("dualwrite.phase"))) : initial.phase();
        int percent = initial.percent();
        Object percentValue = properties.get("dualwrite.routing.percent");
        if (percentValue != null) {
            try {
                percent = Integer.parseInt(String.valueOf(percentValue).trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("dualwrite.routing.percent: '" + percentValue
                        + "' is not a whole number in 0..100", e);
            }
        }
        RoutingStrategy strategy = enumValue("dualwrite.routing.strategy", properties.get("dualwrite.routing.strategy"),
                RoutingStrategy.class, initial.strategy());
        Route defaultRoute = enumValue("dualwrite.routing.default-route", properties.get("dualwrite.routing.default-route"),
                Route.class, initial.defaultRoute());
        Set<String> allow = Set.copyOf(list(properties.get("dualwrite.routing.allow")));
        Set<String> deny = Set.copyOf(list(properties.get("dualwrite.routing.deny")));
        RoutingRules rules = new RoutingRules(phase, percent, strategy, allow, deny, defaultRoute);
        checkListedKeys(rules);
        return rules;
    }

    /**
     * Checks that every listed key has a bucket under the rules' strategy.
     *
     * @param rules the rules
     * @throws IllegalArgumentException naming the list and the key
     */
    static void checkListedKeys(RoutingRules rules) {
        for (Map.Entry<String, Set<String>> list : Map.of("allow", rules.allow(), "deny", rules.deny()).entrySet()) {
            for (String key : list.getValue()) {
                try {
                    TrafficRouter.bucket(key, rules.strategy());
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException("dualwrite.routing." + list.getKey() + ": " + e.getMessage(), e);
                }
            }
        }
    }

    private static <E extends Enum<E>> E enumValue(String key, Object value, Class<E> type, E fallback) {
        if (value == null) {
            return fallback;
        }
        String name = String.valueOf(value).trim().toUpperCase(Locale.ROOT);
        for (E constant : type.getEnumConstants()) {
            if (constant.name().equals(name)) {
                return constant;
            }
        }
        throw new IllegalArgumentException(key + ": unknown value '" + value + "'; expected one of "
                + Arrays.stream(type.getEnumConstants()).map(Enum::name).collect(Collectors.joining(", ")));
    }

    private static List<String> list(Object value) {
        List<String> keys = new ArrayList<>();
        if (value instanceof Iterable<?> values) {
            values.forEach(v -> keys.add(TrafficRouter.text(v)));
        } else if (value != null) {
            for (String part : String.valueOf(value).split(",")) {
                if (!part.isBlank()) {
                    keys.add(part.trim());
                }
            }
        }
        return keys;
    }

    @Override
    public synchronized ControlState read() {
        return state;
    }

    @Override
    public synchronized boolean compareAndSet(long expectedVersion, ControlState next) {
        if (state.version() != expectedVersion || next.version() != expectedVersion + 1) {
            return false;
        }
        state = next;
        return true;
    }

    @Override
    public synchronized ControlState finishStep(long expectedVersion,
            Function<List<InstanceStatus>, ControlState> decide) {
        if (read().version() != expectedVersion) {
            return null;
        }
        ControlState current = state;
        ControlState next = decide.apply(instances());
        if (next == null || !compareAndSet(expectedVersion, next)) {
            return null;
        }
        RoutingRules.UserMove move = current.moveActivatedBy(next);
        if (move != null) {
            userRoutes.put(move.key(), move.route());
        }
        return next;
    }

    @Override
    public synchronized java.util.Optional<Route> userRoute(String key) {
        return java.util.Optional.ofNullable(userRoutes.get(key));
    }

    @Override
    public synchronized boolean routesUsersTo(Route route) {
        return userRoutes.containsValue(route);
    }

    @Override
    public synchronized void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences) {
        instances.put(instanceId, new InstanceStatus(instanceId, acknowledged, leaseUntil, fences));
    }

    @Override
    public synchronized List<InstanceStatus> instances() {
        return List.copyOf(instances.values());
    }

    @Override
    public synchronized void leave(String instanceId) {
        instances.remove(instanceId);
    }

    @Override
    public synchronized boolean drop(String instanceId, Instant lapsedBefore) {
        InstanceStatus instance = instances.get(instanceId);
        if (instance == null || instance.leaseUntil().isAfter(lapsedBefore)) {
            return false;
        }
        instances.remove(instanceId);
        return true;
    }
}
