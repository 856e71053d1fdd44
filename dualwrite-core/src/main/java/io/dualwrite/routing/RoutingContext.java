package io.dualwrite.routing;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * The routing key of the current request, bound to the thread for a scope. Bind it before any
 * transaction opens — the route is fixed when the transaction takes its connection:
 *
 * <pre>{@code
 * Order order = RoutingContext.with(userId, () -> orders.create(userId, items));
 * }</pre>
 *
 * <p>or annotate a parameter with {@link RoutingKey}, or set {@code routingKey} on
 * {@link io.dualwrite.capture.DualWrite}; {@link RoutingKeyAspect} binds those before the transaction
 * interceptor runs. Work handed to another thread does not inherit the key: bind it there again.
 *
 * <p>A scope also remembers the route its first connection took, so that every transaction in the scope
 * and the mirroring of what they wrote follow that one route, and a ramp step waits for the scope to end
 * before it moves the key.
 */
public final class RoutingContext {

    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private RoutingContext() {
    }

    /**
     * Runs a body with a routing key bound.
     *
     * @param key the routing key, e.g. the user id; null binds "no key" (the default route)
     * @param body the work
     * @param <T> the result type
     * @return the body's result
     */
    public static <T> T with(Object key, Supplier<T> body) {
        try (Scope ignored = open(key)) {
            return body.get();
        }
    }

    /**
     * Runs a body with a routing key bound.
     *
     * @param key the routing key, or null
     * @param body the work
     */
    public static void run(Object key, Runnable body) {
        try (Scope ignored = open(key)) {
            body.run();
        }
    }

    /**
     * Binds a routing key until the returned scope is closed, for try-with-resources. Scopes nest; an
     * inner scope with the same key shares the outer one's route.
     *
     * @param key the routing key, or null
     * @return the scope; close it on the thread that opened it
     */
    public static Scope open(Object key) {
        Scope outer = CURRENT.get();
        Scope scope = new Scope(key, outer);
        CURRENT.set(scope);
        return scope;
    }

    /** @return the routing key bound to this thread, or null */
    public static Object currentKey() {
        Scope scope = CURRENT.get();
        return scope == null ? null : scope.key;
    }

    /** @return the innermost scope bound to this thread, or null */
    static Scope currentScope() {
        return CURRENT.get();
    }

    /** A bound routing key; closing it restores the enclosing one. */
    public static final class Scope implements AutoCloseable {
        private final Object key;
        private final Scope outer;
        private final Scope owner;
        private MigrationController.Admission admission;
        private boolean closed;

        private Scope(Object key, Scope outer) {
            this.key = key;
            this.outer = outer;
            // An inner scope for the same key must not be admitted again: a pending step waits for the
            // outer scope to end, and the inner admission would wait for the step.
            this.owner = outer != null && sameKey(outer.key, key) ? outer.owner : this;
        }

        /** @return the routing key */
        public Object key() {
            return key;
        }

        /** The admission the scope's first connection took, or null. */
        MigrationController.Admission admission() {
            return owner.admission;
        }

        void admit(MigrationController.Admission taken) {
            owner.admission = taken;
        }

        /** Ends the scope: the key it bound is unbound and its admission released. */
        @Override
        public void close() {
            if (closed) {
                return;
            }
            closed = true;
            if (CURRENT.get() == this) {
                if (outer == null) {
                    CURRENT.remove();
                } else {
                    CURRENT.set(outer);
                }
            }
            if (owner == this && admission != null) {
                admission.release();
                admission = null;
            }
        }

        private static boolean sameKey(Object a, Object b) {
            if (a == null || b == null) {
                return a == b;
            }
            return Objects.equals(TrafficRouter.text(a), TrafficRouter.text(b));
        }
    }
}
