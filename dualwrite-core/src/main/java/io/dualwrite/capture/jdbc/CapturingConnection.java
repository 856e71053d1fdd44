package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.Dialect;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.CallableStatement;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.springframework.jdbc.datasource.ConnectionHolder;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The connection handed to the application: statements on mapped tables come back wrapped, and the
 * changes of a transaction Spring does not manage wait here for {@code commit()} (dropped on
 * {@code rollback()} or on close without commit).
 *
 * <p>A Spring-managed transaction is recognised by its {@link ConnectionHolder} holding this very
 * connection; its changes go to the recorder at once, which puts them in the transaction's change set
 * exactly as {@link io.dualwrite.capture.DualWrite} does.
 */
final class CapturingConnection implements InvocationHandler {

    private final Connection delegate;
    private final CaptureContext context;
    private final Connection proxy;
    private final List<Change> pending = new ArrayList<>();

    private CapturingConnection(Connection delegate, CaptureContext context) {
        this.delegate = delegate;
        this.context = context;
        this.proxy = (Connection) Proxy.newProxyInstance(CapturingConnection.class.getClassLoader(),
                new Class<?>[] {Connection.class}, this);
    }

    static Connection wrap(Connection delegate, CaptureContext context) {
        return new CapturingConnection(delegate, context).proxy;
    }

    Connection proxy() {
        return proxy;
    }

    Connection delegate() {
        return delegate;
    }

    CaptureContext context() {
        return context;
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        switch (method.getName()) {
            case "createStatement":
                return CapturingStatement.wrap((Statement) call(delegate, method, args), Statement.class, this, null);
            case "prepareStatement":
                return prepare(method, args, PreparedStatement.class);
            case "prepareCall":
                return prepare(method, args, CallableStatement.class);
            case "commit":
                try {
                    delegate.commit();
                } finally {
                    // Even a commit that failed may have committed; a needless apply only re-reads the rows.
                    handOnPending();
                }
                return null;
            case "rollback":
                if (args == null || args.length == 0) {
                    delegate.rollback();
                    pending.clear();
                    return null;
                }
                // Which changes came after the savepoint is unknown; keeping them all costs one needless apply.
                return call(delegate, method, args);
            case "setAutoCommit":
                boolean wasInTransaction = !delegate.getAutoCommit();
                delegate.setAutoCommit((Boolean) args[0]);
                if ((Boolean) args[0] && wasInTransaction) {
                    // Switching autocommit on commits the open transaction (JDBC).
                    handOnPending();
                }
                return null;
            case "close":
                pending.clear();
                delegate.close();
                return null;
            case "equals":
                return self == args[0];
            case "hashCode":
                return System.identityHashCode(self);
            case "toString":
                return "CapturingConnection[" + delegate + "]";
            default:
                return call(delegate, method, args);
        }
    }

    private Object prepare(Method method, Object[] args, Class<? extends PreparedStatement> type) throws Throwable {
        StatementPlan plan = context.plan((String) args[0]);
        switch (plan.kind()) {
            case PASS:
                return call(delegate, method, args);
            case UNATTRIBUTABLE:
                context.refuseIfFailing(plan);
                return wrap((Statement) call(delegate, method, args), type, plan);
            default:
                if (plan.pinned() != null && !(plan.generatedKeys() && returnsKeys(type, args))) {
                    return CapturingStatement.wrap((Statement) call(delegate, method, args), type, this, plan, true);
                }
                Statement statement = plan.generatedKeys() && type == PreparedStatement.class
                        ? prepareForKeys(plan, method, args) : (Statement) call(delegate, method, args);
                return wrap(statement, type, plan);
        }
    }

    private Statement wrap(Statement statement, Class<? extends PreparedStatement> type, StatementPlan plan) {
        if (type == PreparedStatement.class) {
            return CapturingStatement.wrapPrepared((PreparedStatement) statement, this, plan);
        }
        return CapturingStatement.wrap(statement, type, this, plan);
    }

    /**
     * Whether a predicate UPDATE or DELETE prepared so gets its keys back as generated keys (see
     * {@link #prepareForKeys}); otherwise it is narrowed to the rows its pre-read locks.
     */
    private boolean returnsKeys(Class<? extends PreparedStatement> type, Object[] args) {
        if (type != PreparedStatement.class) {
            return false;
        }
        if (args.length == 1 || args.length == 2 && args[1] instanceof String[]) {
            return true;
        }
        if (args.length == 2 && args[1] instanceof Integer mode) {
            return mode == Statement.RETURN_GENERATED_KEYS && context.dialect().product() == Dialect.Product.POSTGRESQL;
        }
        return args.length >= 3 && (Integer) args[1] == ResultSet.TYPE_FORWARD_ONLY
                && (Integer) args[2] == ResultSet.CONCUR_READ_ONLY;
    }

    /**
     * Prepares an insert whose keys the database generates so that they come back, whatever the
     * application asked for; its own request is kept where it already yields the keys.
     */
    private Statement prepareForKeys(StatementPlan plan, Method method, Object[] args) throws Throwable {
        String sql = (String) args[0];
        if (args.length == 2 && args[1] instanceof Integer mode && mode == Statement.RETURN_GENERATED_KEYS) {
            return (Statement) call(delegate, method, args);
        }
        if (args.length == 2 && args[1] instanceof String[] names) {
            return delegate.prepareStatement(sql, withKeyColumns(names, plan.table()));
        }
        if (args.length == 2 && args[1] instanceof int[]) {
            return (Statement) call(delegate, method, args);
        }
        if (args.length >= 3 && ((Integer) args[1] != ResultSet.TYPE_FORWARD_ONLY
                || (Integer) args[2] != ResultSet.CONCUR_READ_ONLY)) {
            // A scrollable or updatable insert cannot also return keys; the keys are read if they come anyway.
            return (Statement) call(delegate, method, args);
        }
        return keysByName(context.dialect())
                ? delegate.prepareStatement(sql, plan.table().storedKeyColumns().toArray(String[]::new))
                : delegate.prepareStatement(sql, Statement.RETURN_GENERATED_KEYS);
    }

    /** PostgreSQL and H2 return the named columns; MySQL and MariaDB only ever the auto-increment value. */
    static boolean keysByName(Dialect dialect) {
        return dialect.product() == Dialect.Product.POSTGRESQL || dialect.product() == Dialect.Product.H2;
    }

    /** The application's columns, then any key column it left out: its own still come first. */
    static String[] withKeyColumns(String[] names, CapturedTable table) {
        List<String> columns = new ArrayList<>(Arrays.asList(names));
        for (String key : table.storedKeyColumns()) {
            if (columns.stream().noneMatch(key::equalsIgnoreCase)) {
                columns.add(key);
            }
        }
        return columns.toArray(String[]::new);
    }

    /**
     * Records changes a statement on this connection made: into the Spring transaction's change set,
     * handed on now in autocommit mode, or kept for {@code commit()}.
     */
    void record(List<Change> changes) throws SQLException {
        if (changes.isEmpty()) {
            return;
        }
        if (springManaged()) {
            context.recorder().recordAll(changes);
        } else if (delegate.getAutoCommit()) {
            context.recorder().recordCommitted(changes);
        } else {
            pending.addAll(changes);
        }
    }

    private boolean springManaged() {
        if (!TransactionSynchronizationManager.isSynchronizationActive()) {
            return false;
        }
        for (Object resource : TransactionSynchronizationManager.getResourceMap().values()) {
            if (resource instanceof ConnectionHolder holder && holder.getConnectionHandle() != null
                    && holder.getConnection() == proxy) {
                return true;
            }
        }
        return false;
    }

    private void handOnPending() {
        if (pending.isEmpty()) {
            return;
        }
        List<Change> committed = new ArrayList<>(pending);
        pending.clear();
        context.recorder().recordCommitted(committed);
    }

    static Object call(Object target, Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @Override
    public String toString() {
        return "CapturingConnection[" + delegate + ", pending " + Arrays.toString(pending.toArray()) + "]";
    }
}
