package io.dualwrite.routing;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.sql.SQLException;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;

/**
 * This instance's view of the moved users' routes: the control store's user-route table behind a bounded
 * Caffeine cache, which remembers users never moved too (most users are), so that a warm look-up costs no
 * query.
 *
 * <p>Invariant: once this instance has observed a control version, no look-up returns a route older than that
 * version's. A store writes a user's route in the same act as the state that activates the move
 * ({@link ControlStore#finishStep}), and {@link #observe} drops, under the controller's lock and before the new
 * state is used, every cached route a version between the two may have changed: the keys of the moves the two
 * states name, or everything when versions were skipped that may have moved users it cannot name. A load that
 * ran before the drop is dropped with it (Caffeine's invalidation waits for a load of the same key).
 */
final class UserRouteTable {

    /** The longest routing key text a move accepts (the user-route table's column). */
    static final int MAX_KEY = 255;

    private final ControlStore store;
    private final Cache<String, Optional<Route>> cache;
    private final AtomicLong loads = new AtomicLong();

    /**
     * @param store where the routes are kept
     * @param maximumSize how many users' routes (moved or not) the cache keeps
     */
    UserRouteTable(ControlStore store, long maximumSize) {
        this.store = store;
        this.cache = Caffeine.newBuilder().maximumSize(maximumSize).build();
    }

    /**
     * @param key a routing key's text
     * @return the cached answer (empty optional: never moved), or null if not cached
     */
    Optional<Route> cached(String key) {
        return cache.getIfPresent(key);
    }

    /**
     * @param key a routing key's text
     * @return the user's moved route, or null; from the cache, or the store on a miss
     * @throws IllegalStateException if the store cannot be read
     */
    Route lookup(String key) {
        return cache.get(key, this::load).orElse(null);
    }

    private Optional<Route> load(String key) {
        loads.incrementAndGet();
        try {
            return store.userRoute(key);
        } catch (SQLException e) {
            throw new IllegalStateException("dualwrite could not read the route of user '" + key + "' from the control"
                    + " store's " + JdbcControlStore.USER_ROUTE_TABLE + " table: " + e.getMessage(), e);
        }
    }

    /** @return how many look-ups went to the store, since start */
    long loads() {
        return loads.get();
    }

    /**
     * Drops what a change of the control state from {@code previous} to {@code next} may have made stale. Call
     * under the lock that publishes {@code next}, before any look-up by it.
     */
    void observe(ControlState previous, ControlState next) {
        // Each step is two versions (pending, then decided); seeing every other one, we saw every pending move.
        if (next.version() - previous.version() > 2) {
            cache.invalidateAll();
            return;
        }
        drop(previous.active());
        drop(previous.pending());
        drop(next.active());
        drop(next.pending());
    }

    private void drop(RoutingRules rules) {
        if (rules != null && rules.move() != null) {
            cache.invalidate(rules.move().key());
        }
    }
}
