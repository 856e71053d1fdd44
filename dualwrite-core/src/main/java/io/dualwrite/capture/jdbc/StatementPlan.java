package io.dualwrite.capture.jdbc;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * What capture does with one SQL text, decided once and cached: let it pass, refuse or report it, or
 * find the keys it writes — from its values, from the generated keys (an insert's, or a predicate
 * UPDATE's or DELETE's {@code RETURNING}), or from a locking pre-read that the statement is then
 * narrowed to ({@link Pinned}).
 */
final class StatementPlan {

    enum Kind {
        /** Writes no mapped table: runs untouched. */
        PASS,
        /** Writes a mapped table; the keys can be found. */
        WRITE,
        /** Writes (or may write) a mapped table, and the keys cannot be found. */
        UNATTRIBUTABLE
    }

    static final StatementPlan PASS = new StatementPlan(Kind.PASS, null, null, List.of(), null, List.of(), null,
            null, false, null);

    private final Kind kind;
    private final String sql;
    private final CapturedTable table;
    private final List<CapturedTable> unattributedTables;
    private final String reason;
    private final List<KeyShape> shapes;
    private final PreSelect preSelect;
    private final List<ValueSource> newKey;
    private final boolean generatedKeys;
    private final Pinned pinned;
    private final boolean[] recordedParameters;
    private final boolean schemaChange;
    private final AtomicBoolean warned = new AtomicBoolean();

    private StatementPlan(Kind kind, String sql, CapturedTable table, List<CapturedTable> unattributedTables,
            String reason, List<KeyShape> shapes, PreSelect preSelect, List<ValueSource> newKey,
            boolean generatedKeys, Pinned pinned) {
        this(kind, sql, table, unattributedTables, reason, shapes, preSelect, newKey, generatedKeys, pinned, false);
    }

    private StatementPlan(Kind kind, String sql, CapturedTable table, List<CapturedTable> unattributedTables,
            String reason, List<KeyShape> shapes, PreSelect preSelect, List<ValueSource> newKey,
            boolean generatedKeys, Pinned pinned, boolean schemaChange) {
        this.schemaChange = schemaChange;
        this.kind = kind;
        this.sql = sql;
        this.table = table;
        this.unattributedTables = unattributedTables;
        this.reason = reason;
        this.shapes = shapes;
        this.preSelect = preSelect;
        this.newKey = newKey;
        this.generatedKeys = generatedKeys;
        this.pinned = pinned;
        this.recordedParameters = recordedParameters(shapes, pinned != null ? pinned.preSelect() : preSelect, newKey);
    }

    /** The parameters the keys are found from: a statement keeps only these, not every value it binds. */
    private static boolean[] recordedParameters(List<KeyShape> shapes, PreSelect preSelect,
            List<ValueSource> newKey) {
        List<Integer> indexes = new ArrayList<>();
        for (KeyShape shape : shapes) {
            for (List<ValueSource> column : shape.alternatives()) {
                column.forEach(source -> addIndex(source, indexes));
            }
        }
        if (newKey != null) {
            newKey.forEach(source -> addIndex(source, indexes));
        }
        if (preSelect != null) {
            for (int index : preSelect.parameterIndexes()) {
                indexes.add(index);
            }
        }
        boolean[] recorded = new boolean[indexes.stream().mapToInt(Integer::intValue).max().orElse(-1) + 1];
        indexes.forEach(index -> recorded[index] = true);
        return recorded;
    }

    private static void addIndex(ValueSource source, List<Integer> indexes) {
        if (source instanceof ValueSource.Parameter parameter) {
            indexes.add(parameter.index());
        }
    }

    /**
     * DDL on a mapped table: unattributable, but governed by the {@link SchemaChangePolicy} and the phase
     * rather than by the {@link UnattributablePolicy}.
     */
    static StatementPlan schemaChange(String sql, List<CapturedTable> tables) {
        return new StatementPlan(Kind.UNATTRIBUTABLE, sql, null, List.copyOf(tables), "DDL on a mapped table",
                List.of(), null, null, false, null, true);
    }

    /** @return whether this is DDL on a mapped table ({@link #schemaChange}) */
    boolean isSchemaChange() {
        return schemaChange;
    }

    static StatementPlan unattributable(String sql, List<CapturedTable> tables, String reason) {
        return new StatementPlan(Kind.UNATTRIBUTABLE, sql, null, List.copyOf(tables), reason, List.of(), null, null,
                false, null);
    }

    /**
     * @param shapes keys named by the statement's values or WHERE clause
     * @param preSelect the locking read that finds the keys otherwise, or null; alone, it misses rows that
     *     enter the predicate after it, so only {@link SqlAnalyzer#preReadOnlyForTesting} plans one
     * @param newKey for an UPDATE that sets key columns, the new value per key column (null where unchanged);
     *     null if no key column is set
     * @param generatedKeys whether the keys (or some) come back as generated keys
     */
    static StatementPlan write(String sql, CapturedTable table, List<KeyShape> shapes, PreSelect preSelect,
            List<ValueSource> newKey, boolean generatedKeys) {
        return new StatementPlan(Kind.WRITE, sql, table, List.of(), null, List.copyOf(shapes), preSelect, newKey,
                generatedKeys, null);
    }

    /**
     * An UPDATE or DELETE whose rows a predicate chooses.
     *
     * @param pinned the locking pre-read and the statement narrowed to the rows it locked
     * @param newKey as for {@link #write}
     * @param returning whether the database can return the keys of the rows the statement writes, as
     *     generated keys ({@code RETURNING}); the statement then runs as written wherever it can ask for them
     */
    static StatementPlan predicate(String sql, CapturedTable table, Pinned pinned, List<ValueSource> newKey,
            boolean returning) {
        return new StatementPlan(Kind.WRITE, sql, table, List.of(), null, List.of(), null, newKey, returning,
                pinned);
    }

    Kind kind() {
        return kind;
    }

    String sql() {
        return sql;
    }

    CapturedTable table() {
        return table;
    }

    List<CapturedTable> unattributedTables() {
        return unattributedTables;
    }

    String reason() {
        return reason;
    }

    boolean generatedKeys() {
        return generatedKeys;
    }

    boolean preSelects() {
        return preSelect != null;
    }

    /** @return the narrowed form of a predicate statement, or null if the statement names its rows */
    Pinned pinned() {
        return pinned;
    }

    /** @return whether the keys depend on the parameter with this 1-based index */
    boolean recordsParameter(int index) {
        return index < recordedParameters.length && recordedParameters[index];
    }

    /** @return true the first time only: the WARN policy logs each SQL text once */
    boolean firstWarning() {
        return warned.compareAndSet(false, true);
    }

    /**
     * Finds the keys the statement is about to write, with its bound values: from the values it names,
     * or by the locking pre-read on the statement's own connection (the caller holds a transaction open
     * across it and the statement, so that the locks keep the set of rows still).
     *
     * @param connection the raw connection the statement runs on
     * @param parameters the bound values by 1-based index
     * @param into where the keys go
     */
    void keysBefore(Connection connection, Object[] parameters, Collection<RowKey> into) throws SQLException {
        List<RowKey> old = new ArrayList<>();
        for (KeyShape shape : shapes) {
            shape.expand(table, parameters, old);
        }
        if (preSelect != null) {
            preSelect.run(connection, table, parameters, old);
        }
        into.addAll(old);
        addNewKeys(old, parameters, into);
    }

    /** For an UPDATE that sets key columns: each old key's new form, where every new value is known. */
    void addNewKeys(List<RowKey> old, Object[] parameters, Collection<RowKey> into) {
        if (newKey != null) {
            for (RowKey key : old) {
                List<Object> values = new ArrayList<>(key.values());
                boolean complete = true;
                for (int i = 0; i < newKey.size(); i++) {
                    if (newKey.get(i) != null) {
                        Object value = newKey.get(i).value(parameters);
                        complete &= value != null;
                        values.set(i, table.normalise(i, value));
                    }
                }
                if (complete) {
                    into.add(RowKey.of(values));
                }
            }
        }
    }

    /**
     * Reads the keys from a statement's generated keys.
     *
     * @return false if the result does not hold every key column
     */
    boolean keysGenerated(ResultSet generated, Collection<RowKey> into) throws SQLException {
        List<String> keys = table.storedKeyColumns();
        ResultSetMetaData meta = generated.getMetaData();
        int[] positions = new int[keys.size()];
        for (int k = 0; k < keys.size(); k++) {
            for (int c = 1; c <= meta.getColumnCount(); c++) {
                if (meta.getColumnLabel(c).equalsIgnoreCase(keys.get(k))) {
                    positions[k] = c;
                }
            }
            if (positions[k] == 0) {
                // MariaDB names its one generated column insert_id, whatever the key is called.
                if (keys.size() == 1 && meta.getColumnCount() == 1) {
                    positions[k] = 1;
                } else {
                    return false;
                }
            }
        }
        while (generated.next()) {
            List<Object> values = new ArrayList<>(keys.size());
            for (int k = 0; k < keys.size(); k++) {
                values.add(table.normalise(k, generated.getObject(positions[k])));
            }
            if (!values.contains(null)) {
                into.add(RowKey.of(values));
            }
        }
        return true;
    }

    /** Keys a statement names: per key column, the values it may take (one each for an inserted row). */
    record KeyShape(List<List<ValueSource>> alternatives) {

        void expand(CapturedTable table, Object[] parameters, Collection<RowKey> into) {
            expand(table, parameters, 0, new Object[alternatives.size()], into);
        }

        private void expand(CapturedTable table, Object[] parameters, int column, Object[] key,
                Collection<RowKey> into) {
            if (column == key.length) {
                into.add(RowKey.of(key.clone()));
                return;
            }
            for (ValueSource source : alternatives.get(column)) {
                Object value = source.value(parameters);
                if (value != null) {
                    key[column] = table.normalise(column, value);
                    expand(table, parameters, column + 1, key, into);
                }
            }
        }
    }

    /**
     * A predicate UPDATE or DELETE narrowed to the rows its pre-read locked:
     * {@code <head>(<the WHERE>) AND key IN (<locked keys>)<tail>}, the key condition as the store spells it
     * ({@link Dialect#keyIn}). The pre-read and the statement then write the same rows, whatever committed in
     * between; see the package documentation for why that is a legal outcome of the statement under every
     * isolation level.
     *
     * @param preSelect the locking read of the keys
     * @param head the statement up to where the key condition goes
     * @param headParameters the statement's parameter indexes in the order {@code head} binds them
     * @param dialect the table's store's dialect, which spells the key condition ({@link Dialect#keyIn})
     * @param keyColumns the key columns, quoted and qualified as the statement names the table
     * @param tail the rest of the statement
     * @param tailParameters the statement's parameter indexes in the order {@code tail} binds them
     */
    record Pinned(PreSelect preSelect, String head, int[] headParameters, Dialect dialect, List<String> keyColumns,
            String tail, int[] tailParameters) {

        /** @return the statement's text for this many locked keys; none matches no row */
        String sql(int keys) {
            StringBuilder text = new StringBuilder(head.length() + tail.length() + 16 + keys * keyColumns.size() * 3);
            text.append(head);
            text.append(keys == 0 ? "1 = 0" : dialect.keyIn(keyColumns, keys));
            return text.append(tail).toString();
        }

        /** @return the keys of the rows the statement is about to write, locked until the transaction ends */
        List<RowKey> lock(Connection connection, CapturedTable table, Object[] parameters) throws SQLException {
            List<RowKey> keys = new ArrayList<>();
            preSelect.run(connection, table, parameters, keys);
            return keys;
        }
    }

    /**
     * {@code SELECT key FROM table WHERE <the statement's WHERE> FOR UPDATE}, with the positions of the
     * statement's parameters it binds, in order.
     */
    record PreSelect(String sql, int[] parameterIndexes) {

        void run(Connection connection, CapturedTable table, Object[] parameters, Collection<RowKey> into)
                throws SQLException {
            try (PreparedStatement select = connection.prepareStatement(sql)) {
                for (int i = 0; i < parameterIndexes.length; i++) {
                    int index = parameterIndexes[i];
                    Object value = index < parameters.length ? parameters[index] : null;
                    if (value instanceof ValueSource.BoundNull bound) {
                        select.setNull(i + 1, bound.sqlType());
                    } else {
                        select.setObject(i + 1, value);
                    }
                }
                try (ResultSet rows = select.executeQuery()) {
                    int width = table.keyColumns().size();
                    while (rows.next()) {
                        Object[] key = new Object[width];
                        for (int k = 0; k < width; k++) {
                            key[k] = table.normalise(k, rows.getObject(k + 1));
                        }
                        into.add(RowKey.of(key));
                    }
                }
            }
        }
    }
}
