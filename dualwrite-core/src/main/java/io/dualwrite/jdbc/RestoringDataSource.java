package io.dualwrite.jdbc;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.Executor;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Hands the library connections that go back to their pool as they came out of it: the autocommit
 * mode, isolation level, read-only flag and network timeout the library changed are put back on
 * {@code close()}, after an unfinished transaction is rolled back (never committed by the switch back to
 * autocommit).
 *
 * <p>Why: HikariCP resets these itself, but a pool that does not (DBCP without its defaults, a
 * container's pool, Spring's {@code SingleConnectionDataSource}) would hand the application a
 * connection in manual-commit mode at READ COMMITTED after the library borrowed it, and the
 * application's next writes would wait for a commit that never comes, or run at the wrong isolation.
 * A HikariCP pool is left unwrapped: reading the isolation level back costs PostgreSQL's driver a round
 * trip, which the mirror's apply should not pay for what the pool does anyway.
 */
public final class RestoringDataSource extends DelegatingDataSource {

    /** HikariCP's data source, when it is on the class path: it restores what the library changes itself. */
    private static final Class<?> HIKARI = hikari();

    private RestoringDataSource(DataSource delegate) {
        super(delegate);
    }

    /**
     * Wraps a data source, unless it is wrapped already or is (or wraps) a HikariCP pool.
     *
     * @param dataSource the pool the library borrows from
     * @return a data source whose connections go back with the settings they came out with
     */
    public static DataSource of(DataSource dataSource) {
        return dataSource instanceof RestoringDataSource || restoresItself(dataSource) ? dataSource
                : new RestoringDataSource(dataSource);
    }

    private static boolean restoresItself(DataSource dataSource) {
        try {
            return HIKARI != null && (HIKARI.isInstance(dataSource) || dataSource.isWrapperFor(HIKARI));
        } catch (SQLException e) {
            return false;
        }
    }

    private static Class<?> hikari() {
        try {
            return Class.forName("com.zaxxer.hikari.HikariDataSource", false, RestoringDataSource.class.getClassLoader());
        } catch (ClassNotFoundException | LinkageError absent) {
            return null;
        }
    }

    /**
     * @return a connection that restores its settings when closed
     * @throws SQLException if the pool cannot give one
     */
    @Override
    public Connection getConnection() throws SQLException {
        return Restoring.wrap(obtainTargetDataSource().getConnection());
    }

    /**
     * @param username the user
     * @param password the password
     * @return a connection that restores its settings when closed
     * @throws SQLException if the pool cannot give one
     */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return Restoring.wrap(obtainTargetDataSource().getConnection(username, password));
    }

    /** Records each setting the first time it is changed, and puts it back on close. */
    private static final class Restoring implements InvocationHandler {

        private final Connection delegate;
        private Boolean autoCommit;
        private Integer isolation;
        private Boolean readOnly;
        private Integer networkTimeout;
        private boolean closed;

        private Restoring(Connection delegate) {
            this.delegate = delegate;
        }

        static Connection wrap(Connection delegate) {
            return (Connection) Proxy.newProxyInstance(RestoringDataSource.class.getClassLoader(),
                    new Class<?>[] {Connection.class}, new Restoring(delegate));
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            switch (method.getName()) {
                case "setAutoCommit" -> {
                    if (autoCommit == null) {
                        autoCommit = delegate.getAutoCommit();
                    }
                }
                case "setTransactionIsolation" -> {
                    if (isolation == null) {
                        isolation = delegate.getTransactionIsolation();
                    }
                }
                case "setReadOnly" -> {
                    if (readOnly == null) {
                        readOnly = delegate.isReadOnly();
                    }
                }
                case "setNetworkTimeout" -> {
                    if (networkTimeout == null) {
                        networkTimeout = delegate.getNetworkTimeout();
                    }
                }
                case "close" -> {
                    close();
                    return null;
                }
                case "unwrap" -> {
                    if (((Class<?>) args[0]).isInstance(proxy)) {
                        return proxy;
                    }
                }
                case "equals" -> {
                    return proxy == args[0];
                }
                case "hashCode" -> {
                    return System.identityHashCode(proxy);
                }
                case "toString" -> {
                    return "Restoring[" + delegate + "]";
                }
                default -> {
                }
            }
            try {
                return method.invoke(delegate, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }

        private void close() throws SQLException {
            if (closed) {
                return;
            }
            closed = true;
            SQLException failure = null;
            try {
                if (!delegate.isClosed()) {
                    if (autoCommit != null && autoCommit && !delegate.getAutoCommit()) {
                        // Switching autocommit on would commit what is open: whatever it is, it was not finished.
                        delegate.rollback();
                        delegate.setAutoCommit(true);
                    } else if (autoCommit != null && !autoCommit && delegate.getAutoCommit()) {
                        delegate.setAutoCommit(false);
                    }
                    if (isolation != null && delegate.getTransactionIsolation() != isolation) {
                        delegate.setTransactionIsolation(isolation);
                    }
                    if (readOnly != null && delegate.isReadOnly() != readOnly) {
                        delegate.setReadOnly(readOnly);
                    }
                    if (networkTimeout != null && delegate.getNetworkTimeout() != networkTimeout) {
                        Executor direct = Runnable::run;
                        delegate.setNetworkTimeout(direct, networkTimeout);
                    }
                }
            } catch (SQLException e) {
                failure = e;
            }
            if (failure != null) {
                // A connection whose settings could not be put back must not serve the application again.
                try {
                    delegate.abort(Runnable::run);
                } catch (SQLException | RuntimeException abortFailure) {
                    failure.addSuppressed(abortFailure);
                }
            }
            try {
                delegate.close();
            } catch (SQLException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }
}
