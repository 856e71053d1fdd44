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
import org.springframework.jdbc.datasource.ConnectionProxy;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The connection handed to the application: statements on mapped tables come back wrapped, and this is
 * where every change they capture is sent on its way. Where it waits depends on who commits (the same
 * table is in the {@linkplain io.dualwrite.capture package map}):
 * <ul>
 * <li>a Spring-managed transaction, recognised by its {@link ConnectionHolder} holding this connection,
 *     directly or through the outer proxies of other data sources (the routing data source's, for one):
 *     into the transaction's change set at once, exactly as {@link io.dualwrite.capture.DualWrite} does;
 * <li>a raw transaction ({@code setAutoCommit(false)}, then {@code commit()}): in {@code pending} here.
 *     {@code commit()} (or {@code setAutoCommit(true)}) first has the recorder write what must commit
 *     with them (the OUTBOX rows) on this connection, then commits, then hands them on; if that write
 *     fails it rolls back and throws instead. {@code rollback()} or a close without commit drops them;
 * <li>an autocommit write: when the recorder {@linkplain io.dualwrite.capture.ChangeRecorder#writesBeforeCommit()
 *     writes before commit}, the statement runs in a short transaction of its own that commits the write
 *     and its outbox rows together (see {@link #commitOwnTransaction}); otherwise it is handed on right
 *     after the statement. Under {@code SUPPORTS}, {@code NOT_SUPPORTED} and {@code NEVER} a connection
 *     that Spring holds is still in autocommit mode, and is treated as such.
 * </ul>
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
                if (springManaged()) {
                    writeLateChanges();
                }
                commitWithPending(delegate::commit);
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
                if ((Boolean) args[0] && !delegate.getAutoCommit()) {
                    // Switching autocommit on commits the open transaction (JDBC).
                    commitWithPending(() -> delegate.setAutoCommit(true));
                } else {
                    delegate.setAutoCommit((Boolean) args[0]);
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
     * Records changes a statement on this connection made in a transaction: into the Spring transaction's
     * change set, or kept for {@code commit()}; in autocommit mode, when nothing is written before commit,
     * handed on now.
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

    /**
     * Whether the recorder writes changes before their commit (OUTBOX): an autocommit write must then run
     * in a transaction of its own, so that those rows commit with it.
     */
    boolean writesBeforeCommit() {
        return context.recorder().writesBeforeCommit();
    }

    /**
     * Ends the short transaction opened around an autocommit write: commits it with its changes as
     * {@code commit()} would (after a statement failure too: what ran before it stays, as under
     * autocommit), or rolls it back when their outbox rows cannot be written; then restores autocommit.
     *
     * @param changes the changes the write made
     * @param failure the statement's own failure, or null
     * @return the failure to throw, or null
     */
    Throwable commitOwnTransaction(List<Change> changes, Throwable failure) {
        Throwable result = failure;
        try {
            commitWith(changes, delegate::commit);
        } catch (SQLException | RuntimeException e) {
            result = combine(result, e);
        }
        try {
            delegate.setAutoCommit(true);
        } catch (SQLException e) {
            result = combine(result, e);
        }
        return result;
    }

    /**
     * A Spring-managed transaction on this connection: an actual transaction (not the synchronization
     * that {@code SUPPORTS} opens without one) whose {@link ConnectionHolder} holds this connection,
     * perhaps behind other data sources' proxies.
     */
    private boolean springManaged() {
        if (!TransactionSynchronizationManager.isActualTransactionActive()
                || !TransactionSynchronizationManager.isSynchronizationActive()) {
            return false;
        }
        for (Object resource : TransactionSynchronizationManager.getResourceMap().values()) {
            if (resource instanceof ConnectionHolder holder && holder.getConnectionHandle() != null
                    && reaches(holder.getConnection())) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code connection} is this one, or a chain of {@link ConnectionProxy}s ending at it. */
    private boolean reaches(Connection connection) {
        Connection current = connection;
        // Bounded: a proxy that returned itself must not loop forever.
        for (int depth = 0; current != null && depth < 16; depth++) {
            if (current == proxy) {
                return true;
            }
            if (!(current instanceof ConnectionProxy outer)) {
                return false;
            }
            current = outer.getTargetConnection();
        }
        return false;
    }

    /**
     * A Spring-managed transaction commits here: what it recorded after Spring's {@code beforeCommit}
     * (a JPA flush inside the commit) is written on this connection first; if that fails, the transaction
     * rolls back and the commit throws.
     */
    private void writeLateChanges() throws SQLException {
        try {
            context.recorder().beforeConnectionCommit(delegate);
        } catch (SQLException | RuntimeException e) {
            try {
                delegate.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        }
    }

    private void commitWithPending(SqlAction commit) throws SQLException {
        List<Change> changes = new ArrayList<>(pending);
        pending.clear();
        commitWith(changes, commit);
    }

    /**
     * The one place a raw transaction's changes are handed on: what must commit with them is written on
     * the delegate first, and if that fails the transaction is rolled back and the failure thrown;
     * otherwise {@code commit} runs and the changes go on, even if it failed (it may have committed, and
     * a needless apply only re-reads the rows).
     */
    private void commitWith(List<Change> changes, SqlAction commit) throws SQLException {
        if (changes.isEmpty()) {
            commit.run();
            return;
        }
        Runnable handOn;
        try {
            handOn = context.recorder().recordCommitting(changes, delegate);
        } catch (SQLException | RuntimeException e) {
            try {
                delegate.rollback();
            } catch (SQLException rollback) {
                e.addSuppressed(rollback);
            }
            throw e;
        }
        try {
            commit.run();
        } finally {
            handOn.run();
        }
    }

    private static Throwable combine(Throwable first, Throwable next) {
        if (first == null) {
            return next;
        }
        first.addSuppressed(next);
        return first;
    }

    /** A commit, or the {@code setAutoCommit(true)} that commits. */
    @FunctionalInterface
    private interface SqlAction {
        void run() throws SQLException;
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
