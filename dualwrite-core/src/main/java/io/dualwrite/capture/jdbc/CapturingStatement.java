package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.RowKey;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import javax.sql.rowset.CachedRowSet;
import javax.sql.rowset.RowSetFactory;
import javax.sql.rowset.RowSetProvider;

/**
 * A statement on a capturing connection: notes bound values, finds the keys before the statement
 * runs (locking pre-read included), reads generated keys after it, and records the changes through
 * its connection. A plain {@link Statement} is analysed per SQL text it executes; a prepared one was
 * analysed when prepared.
 */
final class CapturingStatement implements InvocationHandler {

    private static final Object[] NO_PARAMETERS = new Object[0];
    private static volatile RowSetFactory rowSets;

    private final Statement delegate;
    private final CapturingConnection connection;
    private final StatementPlan prepared;
    private Object[] parameters = NO_PARAMETERS;
    private final List<Object[]> batch = new ArrayList<>();
    private final List<StatementPlan> plainBatch = new ArrayList<>();
    private CachedRowSet generatedKeys;

    private CapturingStatement(Statement delegate, CapturingConnection connection, StatementPlan prepared) {
        this.delegate = delegate;
        this.connection = connection;
        this.prepared = prepared;
    }

    static Statement wrap(Statement delegate, Class<? extends Statement> type, CapturingConnection connection,
            StatementPlan prepared) {
        return (Statement) Proxy.newProxyInstance(CapturingStatement.class.getClassLoader(), new Class<?>[] {type},
                new CapturingStatement(delegate, connection, prepared));
    }

    /**
     * Wraps a prepared statement without a dynamic proxy: a batch calls its setters once per value,
     * and a proxy would allocate an argument array (and box a primitive) for each.
     */
    static PreparedStatement wrapPrepared(PreparedStatement delegate, CapturingConnection connection,
            StatementPlan prepared) {
        return new CapturingPreparedStatement(delegate, new CapturingStatement(delegate, connection, prepared));
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (prepared != null && args != null && args.length >= 2 && args[0] instanceof Integer index
                && name.startsWith("set")) {
            if (records(index)) {
                bind(index, name.equals("setNull") ? new ValueSource.BoundNull((Integer) args[1]) : args[1]);
            }
            if (args.length == 2 && setDirectly(name, index, args[1])) {
                return null;
            }
            return CapturingConnection.call(delegate, method, args);
        }
        switch (name) {
            case "execute":
            case "executeUpdate":
            case "executeLargeUpdate":
            case "executeQuery":
                if (args == null || args.length == 0) {
                    return executePrepared(() -> CapturingConnection.call(delegate, method, args));
                }
                return executePlain(method, args);
            case "addBatch":
                if (args == null || args.length == 0) {
                    addBatch();
                } else {
                    StatementPlan plan = plainBatchPlan((String) args[0]);
                    connection.context().refuseIfFailing(plan);
                    plainBatch.add(plan);
                }
                return CapturingConnection.call(delegate, method, args);
            case "clearBatch":
                clearBatch();
                return CapturingConnection.call(delegate, method, args);
            case "executeBatch":
            case "executeLargeBatch":
                return executeBatch(() -> CapturingConnection.call(delegate, method, args));
            case "clearParameters":
                clearParameters();
                return CapturingConnection.call(delegate, method, args);
            case "getGeneratedKeys":
                if (generatedKeys != null) {
                    generatedKeys.beforeFirst();
                    return generatedKeys;
                }
                return CapturingConnection.call(delegate, method, args);
            case "getConnection":
                return connection.proxy();
            case "equals":
                return self == args[0];
            case "hashCode":
                return System.identityHashCode(self);
            case "toString":
                return "CapturingStatement[" + delegate + "]";
            default:
                return CapturingConnection.call(delegate, method, args);
        }
    }

    /**
     * The setters a batch calls once per value, called without reflection: {@code Method.invoke} checks
     * access on every call, which on a 100-row batch of 6 columns was most of capture's own cost.
     *
     * @return false for any other setter, which goes through reflection as before
     */
    private boolean setDirectly(String name, int index, Object value) throws SQLException {
        java.sql.PreparedStatement statement = (java.sql.PreparedStatement) delegate;
        switch (name) {
            case "setObject" -> statement.setObject(index, value);
            case "setString" -> statement.setString(index, (String) value);
            case "setLong" -> statement.setLong(index, (Long) value);
            case "setInt" -> statement.setInt(index, (Integer) value);
            case "setBigDecimal" -> statement.setBigDecimal(index, (java.math.BigDecimal) value);
            case "setTimestamp" -> statement.setTimestamp(index, (java.sql.Timestamp) value);
            case "setNull" -> statement.setNull(index, (Integer) value);
            default -> {
                return false;
            }
        }
        return true;
    }

    CapturingConnection connection() {
        return connection;
    }

    /** @return whether the plan reads this parameter: only those are kept, for the keys */
    boolean records(int index) {
        return prepared.recordsParameter(index);
    }

    void bind(int index, Object value) {
        if (index >= parameters.length) {
            parameters = Arrays.copyOf(parameters, Math.max(index + 1, parameters.length * 2));
        }
        parameters[index] = value;
    }

    /** Keeps the parameters bound so far for the row just added; JDBC keeps them bound for the next. */
    void addBatch() {
        batch.add(parameters.clone());
    }

    void clearBatch() {
        batch.clear();
        plainBatch.clear();
    }

    void clearParameters() {
        parameters = NO_PARAMETERS;
    }

    /** @return the copy read after the last run, or null if none was read */
    ResultSet generatedKeys() throws SQLException {
        if (generatedKeys != null) {
            generatedKeys.beforeFirst();
        }
        return generatedKeys;
    }

    /** Runs the prepared statement once with the parameters bound now. */
    Object executePrepared(Execution run) throws Throwable {
        return execute(List.of(prepared), Collections.singletonList(parameters), run);
    }

    /** A plain statement's text: keys from its literals, or by pre-read; generated keys only when asked for. */
    private Object executePlain(Method method, Object[] args) throws Throwable {
        String sql = (String) args[0];
        StatementPlan plan = connection.context().plan(sql);
        if (plan.kind() == StatementPlan.Kind.PASS) {
            return CapturingConnection.call(delegate, method, args);
        }
        Execution run = () -> CapturingConnection.call(delegate, method, args);
        if (plan.kind() == StatementPlan.Kind.WRITE && plan.generatedKeys() && args.length == 1
                && !method.getName().equals("executeQuery")) {
            boolean byName = CapturingConnection.keysByName(connection.context().dialect());
            Method withKeys = Statement.class.getMethod(method.getName(), String.class,
                    byName ? String[].class : int.class);
            Object keys = byName ? plan.table().storedKeyColumns().toArray(String[]::new)
                    : (Object) Statement.RETURN_GENERATED_KEYS;
            run = () -> CapturingConnection.call(delegate, withKeys, new Object[] {sql, keys});
        } else if (plan.kind() == StatementPlan.Kind.WRITE && plan.generatedKeys() && args.length == 2
                && args[1] instanceof String[] names) {
            Object[] withKeys = {sql, CapturingConnection.withKeyColumns(names, plan.table())};
            run = () -> CapturingConnection.call(delegate, method, withKeys);
        }
        return execute(List.of(plan), Collections.singletonList(NO_PARAMETERS), run);
    }

    /** A statement batch cannot ask for generated keys, so an insert that needs them cannot be attributed. */
    private StatementPlan plainBatchPlan(String sql) {
        StatementPlan plan = connection.context().plan(sql);
        if (plan.kind() == StatementPlan.Kind.WRITE && plan.generatedKeys()) {
            return StatementPlan.unattributable(sql, List.of(plan.table()),
                    "an insert leaving the key to the database, in a Statement batch, which cannot return generated"
                            + " keys; use a PreparedStatement batch");
        }
        return plan;
    }

    Object executeBatch(Execution run) throws Throwable {
        List<StatementPlan> plans;
        List<Object[]> parameterSets;
        if (prepared != null) {
            plans = Collections.nCopies(batch.size(), prepared);
            parameterSets = new ArrayList<>(batch);
        } else {
            plans = new ArrayList<>(plainBatch);
            parameterSets = Collections.nCopies(plans.size(), NO_PARAMETERS);
        }
        batch.clear();
        plainBatch.clear();
        return execute(plans, parameterSets, run);
    }

    /**
     * Runs statements (one, or a batch) and records what they wrote. Keys known before the run are
     * recorded even if it fails: part of a batch may have been written, and a needless apply only
     * re-reads rows. An autocommit write runs in a short transaction of its own when a pre-read must hold
     * its locks until the statement has written the rows, or when the changes' outbox rows must commit
     * with the write ({@link CapturingConnection#commitOwnTransaction}).
     */
    private Object execute(List<StatementPlan> plans, List<Object[]> parameterSets, Execution run) throws Throwable {
        boolean writes = false;
        boolean preSelects = false;
        for (StatementPlan plan : plans) {
            connection.context().refuseIfFailing(plan);
            writes |= plan.kind() == StatementPlan.Kind.WRITE;
            preSelects |= plan.preSelects();
        }
        if (!writes) {
            try {
                return run.run();
            } finally {
                reportUnattributed(plans);
            }
        }
        Connection raw = connection.delegate();
        boolean ownTransaction = raw.getAutoCommit() && (preSelects || connection.writesBeforeCommit());
        if (ownTransaction) {
            raw.setAutoCommit(false);
        }
        List<Change> changes = new ArrayList<>(plans.size());
        Throwable failure = null;
        Object result = null;
        try {
            keysBefore(raw, plans, parameterSets, changes);
            result = run.run();
            StatementPlan first = plans.get(0);
            if (first.kind() == StatementPlan.Kind.WRITE && first.generatedKeys()) {
                changes.addAll(readGeneratedKeys(first));
            }
        } catch (Throwable e) {
            failure = e;
        } finally {
            reportUnattributed(plans);
        }
        if (ownTransaction) {
            failure = connection.commitOwnTransaction(changes, failure);
        } else {
            try {
                connection.record(changes);
            } catch (SQLException | RuntimeException e) {
                if (failure == null) {
                    throw e;
                }
                failure.addSuppressed(e);
            }
        }
        if (failure != null) {
            throw failure;
        }
        return result;
    }

    /**
     * The keys of every statement about to run, in order. A prepared batch repeats one plan: its rows'
     * keys go into one list, turned into changes at once, also when a pre-read fails part way.
     */
    private void keysBefore(Connection raw, List<StatementPlan> plans, List<Object[]> parameterSets,
            List<Change> changes) throws SQLException {
        StatementPlan keysOf = null;
        List<RowKey> keys = new ArrayList<>(plans.size());
        try {
            for (int i = 0; i < plans.size(); i++) {
                StatementPlan plan = plans.get(i);
                if (plan.kind() == StatementPlan.Kind.WRITE) {
                    if (keysOf != null && plan != keysOf) {
                        changes.addAll(connection.context().changes(keysOf.table(), keys, keysOf.sql()));
                        keys.clear();
                    }
                    keysOf = plan;
                    plan.keysBefore(raw, parameterSets.get(i), keys);
                }
            }
        } finally {
            if (keysOf != null) {
                changes.addAll(connection.context().changes(keysOf.table(), keys, keysOf.sql()));
            }
        }
    }

    private void reportUnattributed(List<StatementPlan> plans) {
        StatementPlan last = null;
        for (StatementPlan plan : plans) {
            if (plan.kind() == StatementPlan.Kind.UNATTRIBUTABLE && plan != last) {
                connection.context().reportUnattributed(plan);
                last = plan;
            }
        }
    }

    /**
     * Reads the generated keys once, into a copy the application can still read through
     * {@code getGeneratedKeys()}.
     */
    private List<Change> readGeneratedKeys(StatementPlan plan) throws SQLException {
        List<RowKey> keys = new ArrayList<>();
        try (ResultSet generated = delegate.getGeneratedKeys()) {
            CachedRowSet copy = rowSetFactory().createCachedRowSet();
            copy.populate(generated);
            if (!plan.keysGenerated(copy, keys)) {
                connection.context().reportMissingGeneratedKeys(plan, "no key column among them");
            }
            copy.beforeFirst();
            generatedKeys = copy;
        } catch (SQLException e) {
            connection.context().reportMissingGeneratedKeys(plan, e.getMessage());
        }
        return connection.context().changes(plan.table(), keys, plan.sql());
    }

    private static RowSetFactory rowSetFactory() throws SQLException {
        RowSetFactory factory = rowSets;
        if (factory == null) {
            factory = RowSetProvider.newFactory();
            rowSets = factory;
        }
        return factory;
    }

    /** One run of the wrapped statement. */
    @FunctionalInterface
    interface Execution {
        Object run() throws Throwable;
    }
}
