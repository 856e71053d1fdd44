package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.BatchUpdateException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import javax.sql.rowset.CachedRowSet;
import javax.sql.rowset.RowSetFactory;
import javax.sql.rowset.RowSetProvider;

/**
 * A statement on a capturing connection: notes bound values, finds the keys before the statement
 * runs, reads generated keys after it, and records the changes through its connection. A plain
 * {@link Statement} is analysed per SQL text it executes; a prepared one was analysed when prepared.
 *
 * <p>An UPDATE or DELETE whose rows a predicate chooses either asks for its keys as generated keys, or
 * runs narrowed ({@link StatementPlan.Pinned}): the pre-read locks the rows, and a new statement,
 * limited to those keys and bound with every value the application bound (kept here as the setter
 * calls it made), runs instead of the application's; its update count and results are served as the
 * application's until the next run or close.
 */
final class CapturingStatement implements InvocationHandler {

    private static final Object[] NO_PARAMETERS = new Object[0];
    private static volatile RowSetFactory rowSets;

    /**
     * Runs on the writing thread after the keys are found (a pre-read's locks taken) and just before the
     * statement itself: the window in which a row may enter the statement's predicate. For tests only.
     */
    static volatile Runnable beforeStatementForTesting;

    private final Statement delegate;
    private final CapturingConnection connection;
    private final StatementPlan prepared;
    /** Whether this prepared statement runs narrowed to its locked rows, as a new statement with its values. */
    private final boolean narrows;
    private Object[] parameters = NO_PARAMETERS;
    private final List<Object[]> batch = new ArrayList<>();
    private final List<StatementPlan> plainBatch = new ArrayList<>();
    private Map<Integer, Bind> binds = new HashMap<>();
    private final List<Map<Integer, Bind>> bindBatch = new ArrayList<>();
    private CachedRowSet generatedKeys;
    /** The narrowed statement that ran last: its results are the application's. */
    private Statement narrowed;

    private CapturingStatement(Statement delegate, CapturingConnection connection, StatementPlan prepared,
            boolean narrows) {
        this.delegate = delegate;
        this.connection = connection;
        this.prepared = prepared;
        this.narrows = narrows;
    }

    static Statement wrap(Statement delegate, Class<? extends Statement> type, CapturingConnection connection,
            StatementPlan prepared) {
        return wrap(delegate, type, connection, prepared, false);
    }

    /**
     * @param narrows whether the statement (a predicate UPDATE or DELETE) is run narrowed to the rows
     *     its pre-read locks; every value the application binds is then kept, to bind the narrowed text
     */
    static Statement wrap(Statement delegate, Class<? extends Statement> type, CapturingConnection connection,
            StatementPlan prepared, boolean narrows) {
        return (Statement) Proxy.newProxyInstance(CapturingStatement.class.getClassLoader(), new Class<?>[] {type},
                new CapturingStatement(delegate, connection, prepared, narrows));
    }

    /**
     * Wraps a prepared statement without a dynamic proxy: a batch calls its setters once per value,
     * and a proxy would allocate an argument array (and box a primitive) for each.
     */
    static PreparedStatement wrapPrepared(PreparedStatement delegate, CapturingConnection connection,
            StatementPlan prepared) {
        return new CapturingPreparedStatement(delegate, new CapturingStatement(delegate, connection, prepared, false));
    }

    @Override
    public Object invoke(Object self, Method method, Object[] args) throws Throwable {
        String name = method.getName();
        if (prepared != null && args != null && args.length >= 2 && args[0] instanceof Integer index
                && name.startsWith("set")) {
            if (records(index)) {
                bind(index, name.equals("setNull") ? new ValueSource.BoundNull((Integer) args[1]) : args[1]);
            }
            if (narrows) {
                binds.put(index, new Bind(method, args.clone()));
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
                    if (narrows) {
                        return executeNarrowed(prepared, parameters, binds, name);
                    }
                    return executePrepared(() -> CapturingConnection.call(delegate, method, args));
                }
                return executePlain(method, args);
            case "addBatch":
                if (args == null || args.length == 0) {
                    addBatch();
                    if (narrows) {
                        bindBatch.add(new HashMap<>(binds));
                    }
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
                if (narrows) {
                    return executeNarrowedBatch(name.equals("executeLargeBatch"));
                }
                return executeBatch(() -> CapturingConnection.call(delegate, method, args));
            case "clearParameters":
                clearParameters();
                binds = new HashMap<>();
                return CapturingConnection.call(delegate, method, args);
            case "getResultSet":
            case "getUpdateCount":
            case "getLargeUpdateCount":
            case "getMoreResults":
            case "getWarnings":
                // After a narrowed run the application's results are the narrowed statement's.
                return CapturingConnection.call(narrowed != null ? narrowed : delegate, method, args);
            case "close":
                closeNarrowed();
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
        bindBatch.clear();
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
        if (plan.kind() == StatementPlan.Kind.WRITE && plan.pinned() != null && !returnsKeys(plan, method, args)) {
            return executeNarrowed(plan, NO_PARAMETERS, Map.of(), method.getName());
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

    /**
     * Whether this call of a plain statement gets a predicate statement's keys back as generated keys:
     * asked for by name (as {@link #executePlain} does when the application asks for nothing), or all
     * of them ({@code RETURNING *} on PostgreSQL).
     */
    private boolean returnsKeys(StatementPlan plan, Method method, Object[] args) {
        if (!plan.generatedKeys() || method.getName().equals("executeQuery")) {
            return false;
        }
        return args.length == 1 || args[1] instanceof String[]
                || (args[1] instanceof Integer mode && mode == Statement.RETURN_GENERATED_KEYS
                        && connection.context().dialect().product() == Dialect.Product.POSTGRESQL);
    }

    /**
     * A statement batch can neither ask for generated keys nor be narrowed statement by statement, so an
     * insert that needs generated keys, or an UPDATE or DELETE that a predicate aims, cannot be attributed.
     */
    private StatementPlan plainBatchPlan(String sql) {
        StatementPlan plan = connection.context().plan(sql);
        if (plan.kind() == StatementPlan.Kind.WRITE && plan.pinned() != null) {
            return StatementPlan.unattributable(sql, List.of(plan.table()),
                    "an UPDATE or DELETE whose rows a predicate chooses, in a Statement batch, whose rows can be"
                            + " neither returned nor pinned; use a PreparedStatement batch");
        }
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
     * re-reads rows.
     */
    private Object execute(List<StatementPlan> plans, List<Object[]> parameterSets, Execution run) throws Throwable {
        boolean preSelects = false;
        for (StatementPlan plan : plans) {
            preSelects |= plan.preSelects();
        }
        return capture(plans, preSelects, (raw, changes) -> {
            keysBefore(raw, plans, parameterSets, changes);
            beforeStatement();
            Object result = run.run();
            StatementPlan first = plans.get(0);
            if (first.kind() == StatementPlan.Kind.WRITE && first.generatedKeys()) {
                changes.addAll(readGeneratedKeys(first));
            }
            return result;
        });
    }

    /**
     * The frame of every run: refuses or reports unattributable statements, and records the changes the
     * body found, also when it failed. An autocommit write runs in a short transaction of its own when its
     * body locks rows first (so that the locks hold the set of rows until the statement has written them),
     * or when the changes' outbox rows must commit with the write
     * ({@link CapturingConnection#commitOwnTransaction}).
     */
    private Object capture(List<StatementPlan> plans, boolean locks, CapturedRun body) throws Throwable {
        boolean writes = false;
        for (StatementPlan plan : plans) {
            connection.context().refuseIfFailing(plan);
            writes |= plan.kind() == StatementPlan.Kind.WRITE;
        }
        if (!writes) {
            try {
                return body.run(null, new ArrayList<>());
            } finally {
                reportUnattributed(plans);
            }
        }
        Connection raw = connection.delegate();
        boolean ownTransaction = raw.getAutoCommit() && (locks || connection.writesBeforeCommit());
        if (ownTransaction) {
            raw.setAutoCommit(false);
        }
        List<Change> changes = new ArrayList<>(plans.size());
        Throwable failure = null;
        Object result = null;
        try {
            result = body.run(raw, changes);
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
     * Runs a predicate UPDATE or DELETE narrowed to the rows its pre-read locks (see
     * {@link StatementPlan.Pinned}): the application's statement object is not run, a narrowed one with
     * the same values is, and its results are served as the application's.
     *
     * @param method how the application ran it: execute, executeUpdate, executeLargeUpdate or executeQuery
     */
    private Object executeNarrowed(StatementPlan plan, Object[] values, Map<Integer, Bind> bound, String method)
            throws Throwable {
        closeNarrowed();
        return capture(List.of(plan), true, (raw, changes) -> {
            PreparedStatement statement = narrowed(raw, plan, values, bound, changes);
            narrowed = statement;
            return switch (method) {
                case "executeUpdate" -> statement.executeUpdate();
                case "executeLargeUpdate" -> statement.executeLargeUpdate();
                case "executeQuery" -> statement.executeQuery();
                default -> statement.execute();
            };
        });
    }

    /**
     * A prepared batch of a predicate statement: row by row, each row's pre-read just before it runs, so
     * that a row an earlier one moved into its predicate is seen, as the batch would have seen it.
     */
    private Object executeNarrowedBatch(boolean large) throws Throwable {
        List<Object[]> rows = new ArrayList<>(batch);
        List<Map<Integer, Bind>> rowBinds = new ArrayList<>(bindBatch);
        batch.clear();
        bindBatch.clear();
        delegate.clearBatch();
        closeNarrowed();
        return capture(List.of(prepared), true, (raw, changes) -> {
            long[] counts = new long[rows.size()];
            for (int i = 0; i < rows.size(); i++) {
                try (PreparedStatement statement = narrowed(raw, prepared, rows.get(i), rowBinds.get(i), changes)) {
                    counts[i] = statement.executeLargeUpdate();
                } catch (SQLException e) {
                    throw new BatchUpdateException(e.getMessage(), e.getSQLState(), e.getErrorCode(),
                            Arrays.copyOf(counts, i), e);
                }
            }
            if (large) {
                return counts;
            }
            return Arrays.stream(counts).mapToInt(Math::toIntExact).toArray();
        });
    }

    /** Locks the rows, notes their keys, and prepares the statement narrowed to them with the application's values. */
    private PreparedStatement narrowed(Connection raw, StatementPlan plan, Object[] values, Map<Integer, Bind> bound,
            List<Change> changes) throws Throwable {
        StatementPlan.Pinned pinned = plan.pinned();
        List<RowKey> locked = pinned.lock(raw, plan.table(), values);
        List<RowKey> keys = new ArrayList<>(locked);
        plan.addNewKeys(locked, values, keys);
        changes.addAll(connection.context().changes(plan.table(), keys, plan.sql()));
        beforeStatement();
        PreparedStatement statement = raw.prepareStatement(pinned.sql(locked.size()));
        try {
            // The settings that change what the application's statement would have done or how long it may take.
            statement.setQueryTimeout(delegate.getQueryTimeout());
            statement.setMaxRows(delegate.getMaxRows());
            int position = 1;
            for (int index : pinned.headParameters()) {
                replay(bound.get(index), statement, position++);
            }
            for (RowKey key : locked) {
                for (Object value : key.values()) {
                    statement.setObject(position++, value);
                }
            }
            for (int index : pinned.tailParameters()) {
                replay(bound.get(index), statement, position++);
            }
            return statement;
        } catch (Throwable e) {
            statement.close();
            throw e;
        }
    }

    /** Binds a value the application bound, with the setter it used, at its place in the narrowed text. */
    private static void replay(Bind bind, PreparedStatement statement, int position) throws Throwable {
        if (bind == null) {
            return; // unbound: the driver reports it, as it would have for the application's statement
        }
        Object[] args = bind.args().clone();
        args[0] = position;
        CapturingConnection.call(statement, bind.setter(), args);
    }

    private void closeNarrowed() throws SQLException {
        if (narrowed != null) {
            Statement last = narrowed;
            narrowed = null;
            last.close();
        }
    }

    private static void beforeStatement() {
        Runnable hook = beforeStatementForTesting;
        if (hook != null) {
            hook.run();
        }
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

    /** A run that adds the changes it finds; {@code raw} is null when nothing runs that writes a mapped table. */
    @FunctionalInterface
    private interface CapturedRun {
        Object run(Connection raw, List<Change> changes) throws Throwable;
    }

    /** A setter call the application made, to make again on the narrowed statement. */
    private record Bind(Method setter, Object[] args) {
    }
}
