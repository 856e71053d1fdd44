package io.dualwrite.routing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.ConnectionProxy;
import org.springframework.jdbc.datasource.lookup.AbstractRoutingDataSource;

/**
 * The application's {@link DataSource} during a migration: each connection comes from the store the
 * request's route names ({@link RoutingContext}'s key under the {@link MigrationController}'s rules).
 * A Spring transaction takes one connection when it begins, so the route is fixed for the whole
 * transaction; within one {@link RoutingContext} scope every connection takes the route of the first.
 *
 * <p>Every connection is admitted by the controller first: a request whose key a ramp step is moving
 * waits there (bounded), and a step waits for the requests admitted before it to end. There is no
 * lenient fallback: a route without a store is an error, never a silent default.
 *
 * <p>The admission lives as long as the transaction: in the {@link RoutingContext} scope, or else in the
 * connection handed out, which releases it on close. Every connection handed out is a proxy that asks the
 * admission before its transaction commits ({@code commit()}, or {@code setAutoCommit(true)} with a
 * transaction open), whether Spring's transaction manager or the application calls it: when this instance's
 * lease lapsed since the admission, it rolls back and throws {@link RouteHeldException} instead (see
 * {@link MigrationController}). A scope asks again for each further connection it takes.
 */
public class DualWriteRoutingDataSource extends AbstractRoutingDataSource {

    private final Supplier<MigrationController> controllers;
    private volatile MigrationController controller;
    private final DataSource source;
    private final DataSource target;
    private volatile BiFunction<Route, DataSource, DataSource> wrapper;
    private volatile DataSource sourceConnections;
    private volatile DataSource targetConnections;

    /**
     * @param source the old store (the application's own data source)
     * @param target the new store
     * @param controller the migration's controller
     */
    public DualWriteRoutingDataSource(DataSource source, DataSource target, MigrationController controller) {
        this(source, target, () -> controller);
        Objects.requireNonNull(controller, "controller");
    }

    /**
     * For containers that build the controller after this data source (it is needed by beans the
     * controller depends on): the controller is fetched on the first connection.
     *
     * @param source the old store (the application's own data source)
     * @param target the new store
     * @param controller supplies the migration's controller
     */
    public DualWriteRoutingDataSource(DataSource source, DataSource target, Supplier<MigrationController> controller) {
        this.source = Objects.requireNonNull(source, "source");
        this.target = Objects.requireNonNull(target, "target");
        this.controllers = Objects.requireNonNull(controller, "controller");
        setTargetDataSources(Map.of(Route.SOURCE, source, Route.TARGET, target));
        setLenientFallback(false);
        afterPropertiesSet();
    }

    /**
     * Wraps each store's connections, e.g. in a capturing data source that records the keys of every
     * write (see {@code io.dualwrite.capture.jdbc.CapturingDataSource}). The wrapper is applied once per
     * store, on its first connection, so it may depend on things built after this data source. Call it
     * before the first connection.
     *
     * @param wrap the route and the store in, the data source to take that route's connections from out
     */
    public void wrapConnections(BiFunction<Route, DataSource, DataSource> wrap) {
        this.wrapper = Objects.requireNonNull(wrap, "wrap");
    }

    /** @return the source store */
    public DataSource source() {
        return source;
    }

    /** @return the target store */
    public DataSource target() {
        return target;
    }

    /**
     * The route of the current request, without admission: for callers that only ask.
     *
     * @return the route of the current scope's connections, or of its key under the rules in force
     */
    @Override
    protected Object determineCurrentLookupKey() {
        RoutingContext.Scope scope = RoutingContext.currentScope();
        if (scope != null && scope.admission() != null) {
            return scope.admission().route();
        }
        return controller().route(RoutingContext.currentKey());
    }

    private MigrationController controller() {
        MigrationController current = controller;
        if (current == null) {
            current = Objects.requireNonNull(controllers.get(), "the routing data source's controller");
            controller = current;
        }
        return current;
    }

    @Override
    public Connection getConnection() throws SQLException {
        return connect(null, null);
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return connect(username, password);
    }

    private Connection connect(String username, String password) throws SQLException {
        RoutingContext.Scope scope = RoutingContext.currentScope();
        if (scope != null) {
            MigrationController.Admission admission = scope.admission();
            if (admission == null) {
                admission = controller().admit(scope.key());
                scope.admit(admission);
            } else {
                admission.checkReuse();
            }
            return fenced(open(admission.route(), username, password), admission, false);
        }
        MigrationController.Admission admission = controller().admit(null);
        try {
            return fenced(open(admission.route(), username, password), admission, true);
        } catch (SQLException | RuntimeException e) {
            admission.release();
            throw e;
        }
    }

    private Connection open(Route route, String username, String password) throws SQLException {
        DataSource store = connections(route);
        return username == null ? store.getConnection() : store.getConnection(username, password);
    }

    private DataSource connections(Route route) {
        BiFunction<Route, DataSource, DataSource> wrap = wrapper;
        if (wrap == null) {
            return route == Route.TARGET ? target : source;
        }
        DataSource wrapped = route == Route.TARGET ? targetConnections : sourceConnections;
        if (wrapped == null) {
            synchronized (this) {
                wrapped = route == Route.TARGET ? targetConnections : sourceConnections;
                if (wrapped == null) {
                    wrapped = Objects.requireNonNull(wrap.apply(route, route == Route.TARGET ? target : source),
                            "the connection wrapper returned null");
                    if (route == Route.TARGET) {
                        targetConnections = wrapped;
                    } else {
                        sourceConnections = wrapped;
                    }
                }
            }
        }
        return wrapped;
    }

    /**
     * A connection handed out: a {@link ConnectionProxy}, so that a Spring transaction holds it rather than the
     * store's connection, and capture follows {@code getTargetConnection()} to see that the transaction is
     * Spring's. Outside any routing scope ({@code releases}) the admission stays in flight until it is closed.
     */
    private static Connection fenced(Connection connection, MigrationController.Admission admission,
            boolean releases) {
        return (Connection) Proxy.newProxyInstance(DualWriteRoutingDataSource.class.getClassLoader(),
                new Class<?>[] {ConnectionProxy.class}, new FencedConnection(connection, admission, releases));
    }

    /**
     * Asks the admission before the open transaction commits, by {@code commit()} or by
     * {@code setAutoCommit(true)}, and rolls it back and throws {@link RouteHeldException} when it may not.
     * After such a refusal the transaction is empty, so the {@code setAutoCommit(true)} that cleanup code
     * (Spring's among it) sends next goes through quietly; any other call first makes a later switch throw
     * again (after rolling back), since it may have written.
     */
    private static final class FencedConnection implements InvocationHandler {
        private final Connection connection;
        private final MigrationController.Admission admission;
        private final boolean releases;
        private boolean justRefused;

        FencedConnection(Connection connection, MigrationController.Admission admission, boolean releases) {
            this.connection = connection;
            this.admission = admission;
            this.releases = releases;
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            boolean refusedBefore = justRefused;
            justRefused = false;
            switch (method.getName()) {
                case "getTargetConnection":
                    return connection;
                case "equals":
                    return proxy == args[0];
                case "hashCode":
                    return System.identityHashCode(proxy);
                case "unwrap":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                    break;
                case "isWrapperFor":
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return true;
                    }
                    break;
                case "getAutoCommit":
                case "isClosed":
                    justRefused = refusedBefore;
                    break;
                case "commit":
                    rollBackUnlessAdmitted();
                    break;
                case "setAutoCommit":
                    if (Boolean.TRUE.equals(args[0]) && !connection.getAutoCommit()) {
                        try {
                            rollBackUnlessAdmitted();
                        } catch (RouteHeldException refused) {
                            if (!refusedBefore) {
                                connection.setAutoCommit(true);
                                throw refused;
                            }
                        }
                    }
                    break;
                case "close":
                    if (!releases) {
                        break;
                    }
                    try {
                        connection.close();
                    } finally {
                        admission.release();
                    }
                    return null;
                default:
                    break;
            }
            try {
                return method.invoke(connection, args);
            } catch (InvocationTargetException e) {
                throw e.getTargetException();
            }
        }

        private void rollBackUnlessAdmitted() throws SQLException {
            try {
                admission.checkCommit();
            } catch (RouteHeldException refused) {
                try {
                    connection.rollback();
                } catch (SQLException | RuntimeException e) {
                    refused.addSuppressed(e);
                }
                justRefused = true;
                throw refused;
            }
        }
    }
}
