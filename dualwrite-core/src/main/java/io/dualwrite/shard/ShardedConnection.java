package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import java.sql.Array;
import java.sql.Blob;
import java.sql.CallableStatement;
import java.sql.Clob;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.NClob;
import java.sql.PreparedStatement;
import java.sql.SQLClientInfoException;
import java.sql.SQLException;
import java.sql.SQLWarning;
import java.sql.SQLXML;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Struct;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.Executor;
import javax.sql.DataSource;

/**
 * One library connection to a sharded store (a {@link ShardingSphereTarget} or a {@link ShardedSource}): its own statements run on the home database, and
 * {@link #shard} opens, on first use, a connection to each other real database, in the same mode. Commit goes to
 * the shards first and to the home last, so that the home's rows (a backfill checkpoint) never get ahead of the
 * rows they describe; a failure between two commits leaves some shards written, which every writer of the library
 * repeats harmlessly (it writes a key's current state, not a delta). There is no atomic commit across databases,
 * and none is needed: a key lives on one shard, and the order of one key's writes is kept by the primary's lock.
 */
final class ShardedConnection implements Connection, ShardedStore {

    private final Connection home;
    private final String homeName;
    private final ShardSet target;
    private final Map<String, Connection> shards = new LinkedHashMap<>();
    private Integer isolation;
    private Executor timeoutExecutor;
    private int networkTimeout = -1;
    private String boundWaits;
    private String unboundWaits;

    ShardedConnection(Connection home, String homeName, ShardSet target) {
        this.home = home;
        this.homeName = homeName;
        this.target = target;
    }

    @Override
    public Optional<ShardLayout> layout(String logicalTable) {
        return target.layout(logicalTable);
    }

    @Override
    public Connection shard(String dataSource) throws SQLException {
        if (dataSource.equals(homeName)) {
            return home;
        }
        Connection open = shards.get(dataSource);
        if (open != null) {
            return open;
        }
        DataSource physical = target.physical(dataSource);
        Connection connection = physical.getConnection();
        try {
            if (boundWaits != null) {
                runOutsideTransaction(connection, boundWaits);
            }
            connection.setAutoCommit(home.getAutoCommit());
            if (isolation != null) {
                connection.setTransactionIsolation(isolation);
            }
            if (networkTimeout >= 0) {
                connection.setNetworkTimeout(timeoutExecutor, networkTimeout);
            }
        } catch (SQLException | RuntimeException e) {
            connection.close();
            throw e;
        }
        shards.put(dataSource, connection);
        return connection;
    }

    @Override
    public void boundLockWaits(String set, String reset) throws SQLException {
        this.boundWaits = set;
        this.unboundWaits = reset;
        for (Connection connection : shards.values()) {
            boolean autoCommit = connection.getAutoCommit();
            runOutsideTransaction(connection, set);
            connection.setAutoCommit(autoCommit);
        }
    }

    /** PostgreSQL undoes a SET made in a transaction that rolls back: session settings go outside one. */
    private static void runOutsideTransaction(Connection connection, String sql) throws SQLException {
        if (!connection.getAutoCommit()) {
            connection.rollback();
            connection.setAutoCommit(true);
        }
        try (Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }

    private interface Step {
        void run(Connection connection) throws SQLException;
    }

    /** Runs a step on every shard, then on the home; the first failure is thrown once all were tried. */
    private void everywhere(Step step) throws SQLException {
        SQLException failure = null;
        List<Connection> all = new ArrayList<>(shards.values());
        all.add(home);
        for (Connection connection : all) {
            try {
                step.run(connection);
            } catch (SQLException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    @Override
    public void commit() throws SQLException {
        // In order, and stopping at the first failure: the caller's rollback undoes what was not committed.
        for (Connection connection : shards.values()) {
            connection.commit();
        }
        home.commit();
    }

    @Override
    public void rollback() throws SQLException {
        everywhere(Connection::rollback);
    }

    @Override
    public void setAutoCommit(boolean autoCommit) throws SQLException {
        for (Connection connection : shards.values()) {
            connection.setAutoCommit(autoCommit);
        }
        home.setAutoCommit(autoCommit);
    }

    @Override
    public boolean getAutoCommit() throws SQLException {
        return home.getAutoCommit();
    }

    @Override
    public void close() throws SQLException {
        if (unboundWaits != null) {
            for (Connection connection : shards.values()) {
                try {
                    runOutsideTransaction(connection, unboundWaits);
                } catch (SQLException e) {
                    // The bound must not go back to the pool with the connection.
                    connection.abort(Runnable::run);
                }
            }
        }
        everywhere(Connection::close);
    }

    @Override
    public void abort(Executor executor) throws SQLException {
        everywhere(connection -> connection.abort(executor));
    }

    @Override
    public boolean isClosed() throws SQLException {
        return home.isClosed();
    }

    @Override
    public boolean isValid(int timeout) throws SQLException {
        for (Connection connection : shards.values()) {
            if (!connection.isValid(timeout)) {
                return false;
            }
        }
        return home.isValid(timeout);
    }

    @Override
    public void setTransactionIsolation(int level) throws SQLException {
        this.isolation = level;
        everywhere(connection -> connection.setTransactionIsolation(level));
    }

    @Override
    public int getTransactionIsolation() throws SQLException {
        return home.getTransactionIsolation();
    }

    @Override
    public void setNetworkTimeout(Executor executor, int milliseconds) throws SQLException {
        this.timeoutExecutor = executor;
        this.networkTimeout = milliseconds;
        everywhere(connection -> connection.setNetworkTimeout(executor, milliseconds));
    }

    @Override
    public int getNetworkTimeout() throws SQLException {
        return home.getNetworkTimeout();
    }

    /** One savepoint per connection open when it was taken; a connection opened later did all its work after it. */
    private record CompositeSavepoint(Map<Connection, Savepoint> points) implements Savepoint {
        @Override
        public int getSavepointId() throws SQLException {
            return System.identityHashCode(this);
        }

        @Override
        public String getSavepointName() throws SQLException {
            return "dualwrite_shards_" + getSavepointId();
        }
    }

    @Override
    public Savepoint setSavepoint() throws SQLException {
        Map<Connection, Savepoint> points = new IdentityHashMap<>();
        for (Connection connection : shards.values()) {
            points.put(connection, connection.setSavepoint());
        }
        points.put(home, home.setSavepoint());
        return new CompositeSavepoint(points);
    }

    @Override
    public Savepoint setSavepoint(String name) throws SQLException {
        return setSavepoint();
    }

    @Override
    public void rollback(Savepoint savepoint) throws SQLException {
        Map<Connection, Savepoint> points = composite(savepoint).points();
        everywhere(connection -> {
            Savepoint point = points.get(connection);
            if (point == null) {
                connection.rollback();
            } else {
                connection.rollback(point);
            }
        });
    }

    @Override
    public void releaseSavepoint(Savepoint savepoint) throws SQLException {
        Map<Connection, Savepoint> points = composite(savepoint).points();
        everywhere(connection -> {
            Savepoint point = points.get(connection);
            if (point != null) {
                connection.releaseSavepoint(point);
            }
        });
    }

    private static CompositeSavepoint composite(Savepoint savepoint) throws SQLException {
        if (savepoint instanceof CompositeSavepoint composite) {
            return composite;
        }
        throw new SQLException("not a savepoint of this sharded connection: " + savepoint);
    }

    @Override
    public <T> T unwrap(Class<T> iface) throws SQLException {
        if (iface.isInstance(this)) {
            return iface.cast(this);
        }
        return home.unwrap(iface);
    }

    @Override
    public boolean isWrapperFor(Class<?> iface) throws SQLException {
        return iface.isInstance(this) || home.isWrapperFor(iface);
    }

    // Everything else is the home database's.

    @Override
    public Statement createStatement() throws SQLException {
        return home.createStatement();
    }

    @Override
    public PreparedStatement prepareStatement(String sql) throws SQLException {
        return home.prepareStatement(sql);
    }

    @Override
    public CallableStatement prepareCall(String sql) throws SQLException {
        return home.prepareCall(sql);
    }

    @Override
    public String nativeSQL(String sql) throws SQLException {
        return home.nativeSQL(sql);
    }

    @Override
    public DatabaseMetaData getMetaData() throws SQLException {
        return home.getMetaData();
    }

    @Override
    public void setReadOnly(boolean readOnly) throws SQLException {
        everywhere(connection -> connection.setReadOnly(readOnly));
    }

    @Override
    public boolean isReadOnly() throws SQLException {
        return home.isReadOnly();
    }

    @Override
    public void setCatalog(String catalog) throws SQLException {
        home.setCatalog(catalog);
    }

    @Override
    public String getCatalog() throws SQLException {
        return home.getCatalog();
    }

    @Override
    public SQLWarning getWarnings() throws SQLException {
        return home.getWarnings();
    }

    @Override
    public void clearWarnings() throws SQLException {
        home.clearWarnings();
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency) throws SQLException {
        return home.createStatement(resultSetType, resultSetConcurrency);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency)
            throws SQLException {
        return home.prepareStatement(sql, resultSetType, resultSetConcurrency);
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency) throws SQLException {
        return home.prepareCall(sql, resultSetType, resultSetConcurrency);
    }

    @Override
    public Map<String, Class<?>> getTypeMap() throws SQLException {
        return home.getTypeMap();
    }

    @Override
    public void setTypeMap(Map<String, Class<?>> map) throws SQLException {
        home.setTypeMap(map);
    }

    @Override
    public void setHoldability(int holdability) throws SQLException {
        home.setHoldability(holdability);
    }

    @Override
    public int getHoldability() throws SQLException {
        return home.getHoldability();
    }

    @Override
    public Statement createStatement(int resultSetType, int resultSetConcurrency, int resultSetHoldability)
            throws SQLException {
        return home.createStatement(resultSetType, resultSetConcurrency, resultSetHoldability);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int resultSetType, int resultSetConcurrency,
            int resultSetHoldability) throws SQLException {
        return home.prepareStatement(sql, resultSetType, resultSetConcurrency, resultSetHoldability);
    }

    @Override
    public CallableStatement prepareCall(String sql, int resultSetType, int resultSetConcurrency,
            int resultSetHoldability) throws SQLException {
        return home.prepareCall(sql, resultSetType, resultSetConcurrency, resultSetHoldability);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int autoGeneratedKeys) throws SQLException {
        return home.prepareStatement(sql, autoGeneratedKeys);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, int[] columnIndexes) throws SQLException {
        return home.prepareStatement(sql, columnIndexes);
    }

    @Override
    public PreparedStatement prepareStatement(String sql, String[] columnNames) throws SQLException {
        return home.prepareStatement(sql, columnNames);
    }

    @Override
    public Clob createClob() throws SQLException {
        return home.createClob();
    }

    @Override
    public Blob createBlob() throws SQLException {
        return home.createBlob();
    }

    @Override
    public NClob createNClob() throws SQLException {
        return home.createNClob();
    }

    @Override
    public SQLXML createSQLXML() throws SQLException {
        return home.createSQLXML();
    }

    @Override
    public void setClientInfo(String name, String value) throws SQLClientInfoException {
        home.setClientInfo(name, value);
    }

    @Override
    public void setClientInfo(Properties properties) throws SQLClientInfoException {
        home.setClientInfo(properties);
    }

    @Override
    public String getClientInfo(String name) throws SQLException {
        return home.getClientInfo(name);
    }

    @Override
    public Properties getClientInfo() throws SQLException {
        return home.getClientInfo();
    }

    @Override
    public Array createArrayOf(String typeName, Object[] elements) throws SQLException {
        return home.createArrayOf(typeName, elements);
    }

    @Override
    public Struct createStruct(String typeName, Object[] attributes) throws SQLException {
        return home.createStruct(typeName, attributes);
    }

    @Override
    public void setSchema(String schema) throws SQLException {
        home.setSchema(schema);
    }

    @Override
    public String getSchema() throws SQLException {
        return home.getSchema();
    }
}
