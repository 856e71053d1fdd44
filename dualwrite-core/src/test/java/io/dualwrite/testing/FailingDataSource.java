package io.dualwrite.testing;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLTransientConnectionException;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * A data source that can be made to fail like a store that went down: while down, new connections are
 * refused and every call on a connection already handed out fails as if the server had killed it.
 */
public final class FailingDataSource extends DelegatingDataSource {

    private volatile boolean down;
    private final AtomicLong refusals = new AtomicLong();

    /** @param delegate the real data source */
    public FailingDataSource(DataSource delegate) {
        super(delegate);
    }

    /** @param down whether the store is down from now on */
    public void setDown(boolean down) {
        this.down = down;
    }

    /** @return how many connections or calls were refused while down */
    public long refusals() {
        return refusals.get();
    }

    @Override
    public Connection getConnection() throws SQLException {
        refuseIfDown();
        return wrap(super.getConnection());
    }

    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        refuseIfDown();
        return wrap(super.getConnection(username, password));
    }

    private void refuseIfDown() throws SQLException {
        if (down) {
            refusals.incrementAndGet();
            throw new SQLTransientConnectionException("connection refused (the test took the store down)", "08001");
        }
    }

    private Connection wrap(Connection real) {
        InvocationHandler handler = (proxy, method, args) -> {
            String name = method.getName();
            if (down && !name.equals("close") && !name.equals("isClosed") && !name.equals("rollback")) {
                refusals.incrementAndGet();
                throw new SQLNonTransientConnectionException("connection killed (the test took the store down)",
                        "08006");
            }
            try {
                return method.invoke(real, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        };
        return (Connection) Proxy.newProxyInstance(Connection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, handler);
    }
}
