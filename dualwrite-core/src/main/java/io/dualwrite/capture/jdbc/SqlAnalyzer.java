package io.dualwrite.capture.jdbc;

import io.dualwrite.jdbc.Dialect;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import net.sf.jsqlparser.expression.DoubleValue;
import net.sf.jsqlparser.expression.Expression;
import net.sf.jsqlparser.expression.JdbcParameter;
import net.sf.jsqlparser.expression.LongValue;
import net.sf.jsqlparser.expression.SignedExpression;
import net.sf.jsqlparser.expression.StringValue;
import net.sf.jsqlparser.expression.operators.conditional.AndExpression;
import net.sf.jsqlparser.expression.operators.relational.EqualsTo;
import net.sf.jsqlparser.expression.operators.relational.ExpressionList;
import net.sf.jsqlparser.expression.operators.relational.InExpression;
import net.sf.jsqlparser.expression.operators.relational.ParenthesedExpressionList;
import net.sf.jsqlparser.parser.CCJSqlParser;
import net.sf.jsqlparser.parser.CCJSqlParserUtil;
import net.sf.jsqlparser.schema.Column;
import net.sf.jsqlparser.schema.Table;
import net.sf.jsqlparser.statement.Statement;
import net.sf.jsqlparser.statement.Statements;
import net.sf.jsqlparser.statement.alter.Alter;
import net.sf.jsqlparser.statement.alter.RenameTableStatement;
import net.sf.jsqlparser.statement.create.index.CreateIndex;
import net.sf.jsqlparser.statement.create.table.CreateTable;
import net.sf.jsqlparser.statement.delete.Delete;
import net.sf.jsqlparser.statement.delete.ParenthesedDelete;
import net.sf.jsqlparser.statement.drop.Drop;
import net.sf.jsqlparser.statement.execute.Execute;
import net.sf.jsqlparser.statement.insert.Insert;
import net.sf.jsqlparser.statement.insert.ParenthesedInsert;
import net.sf.jsqlparser.statement.merge.Merge;
import net.sf.jsqlparser.statement.select.Limit;
import net.sf.jsqlparser.statement.select.OrderByElement;
import net.sf.jsqlparser.statement.select.Select;

import net.sf.jsqlparser.statement.select.Values;
import net.sf.jsqlparser.statement.select.WithItem;
import net.sf.jsqlparser.statement.truncate.Truncate;
import net.sf.jsqlparser.statement.update.ParenthesedUpdate;
import net.sf.jsqlparser.statement.update.Update;
import net.sf.jsqlparser.statement.update.UpdateSet;
import net.sf.jsqlparser.statement.upsert.Upsert;
import net.sf.jsqlparser.util.deparser.ExpressionDeParser;
import net.sf.jsqlparser.util.deparser.SelectDeParser;
import net.sf.jsqlparser.util.deparser.StatementDeParser;

/**
 * Reads one SQL text into a {@link StatementPlan}. Text that names no mapped table (a whole-word
 * match, before any parsing) passes at once; the rest is parsed with JSqlParser.
 */
final class SqlAnalyzer {

    /** H2's {@code MERGE INTO t (cols) KEY (k) VALUES ...}, which JSqlParser does not read: parsed as an INSERT. */
    private static final Pattern H2_MERGE = Pattern.compile(
            "(?is)\\s*MERGE\\s+INTO\\s+([\\w.\"`$]+)\\s*(\\([^)]*\\))?\\s*(?:KEY\\s*\\(([^)]*)\\))?\\s*(VALUES\\b.*)");
    private static final Pattern CALL = Pattern.compile("(?is)\\s*(\\{\\s*(\\?\\s*=\\s*)?call\\b|call\\b|exec\\b|execute\\b).*");
    private static final Pattern DDL = Pattern.compile("(?is)\\s*(create|alter|drop|truncate|rename|comment\\s+on)\\b.*");
    private static final int MAX_SQL_SHOWN = 300;
    private static final String PINNED_KEYS_MARKER = "dualwrite_pinned_keys_marker";

    /**
     * Plans predicate UPDATEs and DELETEs as before the narrowing: keys by pre-read only, which misses a
     * row entering the predicate after it. For the negative controls of {@code PredicateWriteTest}.
     */
    static volatile boolean preReadOnlyForTesting;

    /**
     * Leaves out the physical tables of sharded source tables, as before they were known: a write to
     * {@code t_order_3} then passes uncaptured. For the negative control of {@code ShardedCaptureTest}.
     */
    static volatile boolean physicalNamesIgnoredForTesting;

    private final Map<String, CapturedTable> byName;
    /** Physical table names that more than one mapped table claims: refused, never guessed. */
    private final Map<String, List<CapturedTable>> ambiguous;
    private final List<CapturedTable> all;

    SqlAnalyzer(Collection<CapturedTable> tables) {
        Map<String, CapturedTable> names = new LinkedHashMap<>();
        for (CapturedTable table : tables) {
            for (String name : table.namesInSql()) {
                names.putIfAbsent(name, table);
            }
        }
        // A sharded source's application writes its physical tables by their own names; the change belongs to
        // the logical table. A physical name that two mapped tables claim (shards of two logical tables with the
        // same name in different databases, or a shard named like another mapped table) cannot say whose row it
        // wrote: the connection does not know which real database it is on, so such a name is unattributable.
        Map<String, Set<CapturedTable>> physical = new LinkedHashMap<>();
        if (!physicalNamesIgnoredForTesting) {
            for (CapturedTable table : tables) {
                for (String name : table.physicalNamesInSql()) {
                    physical.computeIfAbsent(name, n -> new LinkedHashSet<>()).add(table);
                }
            }
        }
        Map<String, List<CapturedTable>> shared = new LinkedHashMap<>();
        physical.forEach((name, claimants) -> {
            Set<CapturedTable> claiming = new LinkedHashSet<>(claimants);
            CapturedTable named = names.get(name);
            if (named != null) {
                claiming.add(named);
            }
            if (claiming.size() == 1) {
                names.putIfAbsent(name, claiming.iterator().next());
            } else {
                names.remove(name);
                shared.put(name, List.copyOf(claiming));
            }
        });
        this.byName = names;
        this.ambiguous = shared;
        this.all = List.copyOf(tables);
    }

    StatementPlan analyse(String sql) {
        if (sql.startsWith(Dialect.MARKER)) {
            return StatementPlan.PASS;
        }
        if (CALL.matcher(sql).matches()) {
            return unattributable(sql, all, "a stored procedure call may write any table");
        }
        Set<CapturedTable> mentioned = mentioned(sql);
        if (mentioned.isEmpty()) {
            return StatementPlan.PASS;
        }
        String parsedSql = sql;
        List<String> h2MergeKey = null;
        Matcher merge = H2_MERGE.matcher(sql);
        if (merge.matches()) {
            parsedSql = "INSERT INTO " + merge.group(1) + " " + (merge.group(2) == null ? "" : merge.group(2)) + " "
                    + merge.group(4);
            h2MergeKey = merge.group(3) == null ? null : columnNames(merge.group(3));
        }
        Statements statements = parse(parsedSql);
        if (statements == null) {
            if (DDL.matcher(sql).matches()) {
                // Dialect DDL the parser does not know (MariaDB's CREATE INDEX IF NOT EXISTS, table options).
                return StatementPlan.schemaChange(sql, new ArrayList<>(mentioned));
            }
            return unattributable(sql, mentioned, "the statement does not parse");
        }
        if (statements.size() != 1) {
            return unattributable(sql, mentioned, "several statements in one text");
        }
        try {
            StatementPlan plan = plan(sql, statements.get(0), mentioned);
            if (h2MergeKey != null && plan.kind() == StatementPlan.Kind.WRITE
                    && !new HashSet<>(h2MergeKey).equals(new HashSet<>(plan.table().keyColumns()))) {
                return unattributable(sql, List.of(plan.table()), "MERGE ... KEY names columns other than the key "
                        + plan.table().keyColumns());
            }
            return plan;
        } catch (AmbiguousTable shared) {
            return unattributable(sql, shared.claimants, "table '" + shared.name + "' is a physical table of "
                    + shared.claimants.stream().map(CapturedTable::name).toList() + ", so its rows belong to no one"
                    + " logical table; give each logical table's shards names of their own"
                    + " (dualwrite.source.shards.tables.<table>.nodes)");
        } catch (RuntimeException unexpected) {
            return unattributable(sql, mentioned, "the statement could not be analysed (" + unexpected + ")");
        }
    }

    private static Statements parse(String sql) {
        for (boolean complex : new boolean[] {false, true}) {
            try {
                CCJSqlParser parser = CCJSqlParserUtil.newParser(sql).withAllowComplexParsing(complex);
                return parser.Statements();
            } catch (Exception | StackOverflowError e) {
                // try again with complex parsing, then give up
            }
        }
        return null;
    }

    private StatementPlan plan(String sql, Statement statement, Set<CapturedTable> mentioned) {
        if (statement instanceof Insert insert) {
            return insert(sql, insert);
        }
        if (statement instanceof Upsert upsert) {
            return upsert(sql, upsert);
        }
        if (statement instanceof Update update) {
            return update(sql, update);
        }
        if (statement instanceof Delete delete) {
            return delete(sql, delete);
        }
        if (statement instanceof Select select) {
            return writingWithItems(sql, select.getWithItemsList());
        }
        if (statement instanceof Merge merge) {
            CapturedTable table = lookup(merge.getTable());
            return table == null ? StatementPlan.PASS
                    : unattributable(sql, List.of(table), "MERGE ... USING writes rows chosen by a join");
        }
        if (statement instanceof Execute) {
            return unattributable(sql, all, "a stored procedure call may write any table");
        }
        // Every table a DDL statement changes: DROP TABLE and TRUNCATE name several (DROP TABLE tmp, orders).
        List<Table> ddlTables = new ArrayList<>();
        if (statement instanceof Alter alter) {
            ddlTables.add(alter.getTable());
        } else if (statement instanceof Drop drop) {
            ddlTables.addAll(drop.getNames() != null && !drop.getNames().isEmpty() ? drop.getNames()
                    : List.of(drop.getName()));
        } else if (statement instanceof Truncate truncate) {
            ddlTables.addAll(truncate.getTables() != null && !truncate.getTables().isEmpty() ? truncate.getTables()
                    : List.of(truncate.getTable()));
        } else if (statement instanceof CreateIndex index) {
            ddlTables.add(index.getTable());
        } else if (statement instanceof CreateTable create) {
            ddlTables.add(create.getTable());
        } else if (statement instanceof RenameTableStatement
                || statement instanceof net.sf.jsqlparser.statement.create.trigger.CreateTrigger) {
            // A trigger on a mapped table changes what its writes do, as much as a new column.
            return StatementPlan.schemaChange(sql, new ArrayList<>(mentioned));
        }
        List<CapturedTable> changed = new ArrayList<>();
        for (Table named : ddlTables) {
            CapturedTable table = named == null ? null : lookup(named);
            if (table != null && !changed.contains(table)) {
                changed.add(table);
            }
        }
        return changed.isEmpty() ? StatementPlan.PASS : StatementPlan.schemaChange(sql, changed);
    }

    private StatementPlan insert(String sql, Insert insert) {
        StatementPlan fromWith = writingWithItems(sql, insert.getWithItemsList());
        if (fromWith.kind() != StatementPlan.Kind.PASS) {
            return fromWith;
        }
        CapturedTable table = lookup(insert.getTable());
        if (table == null) {
            return StatementPlan.PASS;
        }
        List<String> columns;
        List<List<Expression>> rows;
        if (insert.getSetUpdateSets() != null && insert.getSelect() == null) {
            columns = new ArrayList<>();
            List<Expression> row = new ArrayList<>();
            for (UpdateSet set : insert.getSetUpdateSets()) {
                for (int i = 0; i < set.getColumns().size(); i++) {
                    columns.add(columnName(set.getColumn(i)));
                    row.add(set.getValue(i));
                }
            }
            rows = List.of(row);
        } else if (insert.getSelect() instanceof Values values) {
            columns = insert.getColumns() == null ? table.columnOrder() : columnNames(insert.getColumns());
            rows = rows(values);
        } else {
            return unattributable(sql, List.of(table), "INSERT ... SELECT writes rows a query chooses");
        }
        String conflict = conflictProblem(table, insert.getDuplicateUpdateSets());
        if (conflict == null && insert.getConflictAction() != null) {
            conflict = conflictProblem(table, insert.getConflictAction().getUpdateSets());
        }
        if (conflict != null) {
            return unattributable(sql, List.of(table), conflict);
        }
        return inserted(sql, table, columns, rows, insert.getReturningClause() != null);
    }

    private StatementPlan upsert(String sql, Upsert upsert) {
        CapturedTable table = lookup(upsert.getTable());
        if (table == null) {
            return StatementPlan.PASS;
        }
        List<String> columns;
        List<List<Expression>> rows;
        if (upsert.getUpdateSets() != null && upsert.getSelect() == null) {
            columns = new ArrayList<>();
            List<Expression> row = new ArrayList<>();
            for (UpdateSet set : upsert.getUpdateSets()) {
                for (int i = 0; i < set.getColumns().size(); i++) {
                    columns.add(columnName(set.getColumn(i)));
                    row.add(set.getValue(i));
                }
            }
            rows = List.of(row);
        } else if (upsert.getSelect() instanceof Values values) {
            columns = upsert.getColumns() == null ? table.columnOrder() : columnNames(upsert.getColumns());
            rows = rows(values);
        } else {
            return unattributable(sql, List.of(table), "REPLACE ... SELECT writes rows a query chooses");
        }
        String conflict = conflictProblem(table, upsert.getDuplicateUpdateSets());
        if (conflict != null) {
            return unattributable(sql, List.of(table), conflict);
        }
        return inserted(sql, table, columns, rows, false);
    }

    private StatementPlan inserted(String sql, CapturedTable table, List<String> columns, List<List<Expression>> rows,
            boolean returning) {
        List<Integer> keyPositions = new ArrayList<>();
        for (String key : table.keyColumns()) {
            keyPositions.add(columns.indexOf(key));
        }
        List<StatementPlan.KeyShape> shapes = new ArrayList<>();
        boolean generated = false;
        for (List<Expression> row : rows) {
            if (row.size() != columns.size()) {
                return unattributable(sql, List.of(table), "a VALUES row has " + row.size() + " values for "
                        + columns.size() + " columns");
            }
            List<List<ValueSource>> alternatives = new ArrayList<>();
            for (int position : keyPositions) {
                ValueSource value = position < 0 ? null : valueSource(row.get(position));
                if (value == null) {
                    break;
                }
                alternatives.add(List.of(value));
            }
            if (alternatives.size() == keyPositions.size()) {
                shapes.add(new StatementPlan.KeyShape(alternatives));
            } else {
                generated = true;
            }
        }
        if (generated && returning) {
            return unattributable(sql, List.of(table), "an INSERT ... RETURNING that leaves the key to the database");
        }
        return StatementPlan.write(sql, table, shapes, null, null, generated);
    }

    /** An upsert's update part may not move a row to another key: the inserted values name the key. */
    private static String conflictProblem(CapturedTable table, List<UpdateSet> sets) {
        if (sets == null) {
            return null;
        }
        for (UpdateSet set : sets) {
            for (int i = 0; i < set.getColumns().size(); i++) {
                String column = columnName(set.getColumn(i));
                if (!table.keyColumns().contains(column)) {
                    continue;
                }
                String value = String.valueOf(set.getValue(i)).replaceAll("[\\s\"`]", "").toLowerCase(Locale.ROOT);
                if (!value.equals(column) && !value.equals("values(" + column + ")")
                        && !value.equals("excluded." + column)) {
                    return "the conflict update sets key column '" + column + "' to " + set.getValue(i);
                }
            }
        }
        return null;
    }

    private StatementPlan update(String sql, Update update) {
        StatementPlan fromWith = writingWithItems(sql, update.getWithItemsList());
        if (fromWith.kind() != StatementPlan.Kind.PASS) {
            return fromWith;
        }
        CapturedTable table = lookup(update.getTable());
        boolean joined = notEmpty(update.getStartJoins()) || notEmpty(update.getJoins()) || update.getFromItem() != null;
        if (joined) {
            Set<CapturedTable> involved = mentioned(sql);
            return involved.isEmpty() ? StatementPlan.PASS
                    : unattributable(sql, involved, "a multi-table UPDATE writes rows chosen by a join");
        }
        if (table == null) {
            return StatementPlan.PASS;
        }
        List<ValueSource> newKey = null;
        for (UpdateSet set : update.getUpdateSets()) {
            if (set.getValues().size() != set.getColumns().size()) {
                if (set.getColumns().stream().anyMatch(c -> table.keyColumns().contains(columnName(c)))) {
                    return unattributable(sql, List.of(table), "key columns are set from a query");
                }
                continue;
            }
            for (int i = 0; i < set.getColumns().size(); i++) {
                int key = table.keyColumns().indexOf(columnName(set.getColumn(i)));
                if (key < 0) {
                    continue;
                }
                ValueSource value = valueSource(set.getValue(i));
                if (value == null) {
                    return unattributable(sql, List.of(table), "key column '" + table.keyColumns().get(key)
                            + "' is set to an expression, so the new key is unknown");
                }
                if (newKey == null) {
                    newKey = new ArrayList<>(java.util.Collections.nCopies(table.keyColumns().size(), null));
                }
                newKey.set(key, value);
            }
        }
        // PostgreSQL and H2 return an UPDATE's keys; only the new ones, so an UPDATE that moves a key is narrowed.
        boolean returning = newKey == null && update.getReturningClause() == null
                && (table.dialect().product() == Dialect.Product.POSTGRESQL
                        || table.dialect().product() == Dialect.Product.H2);
        return filtered(sql, table, update, update.getTable(), update.getWhere(), update.getOrderByElements(),
                update.getLimit(), newKey, returning);
    }

    private StatementPlan delete(String sql, Delete delete) {
        StatementPlan fromWith = writingWithItems(sql, delete.getWithItemsList());
        if (fromWith.kind() != StatementPlan.Kind.PASS) {
            return fromWith;
        }
        boolean joined = notEmpty(delete.getTables()) || notEmpty(delete.getJoins())
                || notEmpty(delete.getUsingFromItemList());
        if (joined) {
            Set<CapturedTable> involved = mentioned(sql);
            return involved.isEmpty() ? StatementPlan.PASS
                    : unattributable(sql, involved, "a multi-table DELETE removes rows chosen by a join");
        }
        CapturedTable table = lookup(delete.getTable());
        if (table == null) {
            return StatementPlan.PASS;
        }
        // H2 returns no keys for a DELETE; MariaDB's DELETE ... RETURNING is a query, not generated keys.
        boolean returning = delete.getReturningClause() == null
                && table.dialect().product() == Dialect.Product.POSTGRESQL;
        return filtered(sql, table, delete, delete.getTable(), delete.getWhere(), delete.getOrderByElements(),
                delete.getLimit(), null, returning);
    }

    /**
     * UPDATE and DELETE: keys from the WHERE clause when it names them. Otherwise a predicate chooses the
     * rows, and a pre-read alone would miss a row that enters the predicate after it (no predicate locks
     * on PostgreSQL, nor on MariaDB under READ COMMITTED): the keys come back from the statement itself
     * where the database returns them, or the statement is narrowed to the rows the pre-read locked.
     */
    private StatementPlan filtered(String sql, CapturedTable table, Statement statement, Table sqlTable,
            Expression where, List<OrderByElement> orderBy, Limit limit, List<ValueSource> newKey,
            boolean returning) {
        StatementPlan.KeyShape shape = where == null ? null : keyShape(table, where);
        if (shape != null) {
            return StatementPlan.write(sql, table, List.of(shape), null, newKey, false);
        }
        List<WithItem<?>> withItems = statement instanceof Update update ? update.getWithItemsList()
                : ((Delete) statement).getWithItemsList();
        StatementPlan.PreSelect preSelect = preSelect(table, sqlTable, withItems, where, orderBy, limit);
        if (preReadOnlyForTesting) {
            return StatementPlan.write(sql, table, List.of(), preSelect, newKey, false);
        }
        StatementPlan.Pinned pinned = pinned(table, statement, sqlTable, where, preSelect);
        if (pinned == null) {
            return unattributable(sql, List.of(table), "the statement could not be narrowed to the rows it locks");
        }
        return StatementPlan.predicate(sql, table, pinned, newKey, returning);
    }

    /**
     * The statement printed back from its parse tree with its WHERE clause extended by a marker, cut at
     * the marker: the caller puts the locked keys there. Parameters are noted in print order, so that
     * the narrowed statement binds the application's values where they now stand.
     */
    private static StatementPlan.Pinned pinned(CapturedTable table, Statement statement, Table sqlTable,
            Expression where, StatementPlan.PreSelect preSelect) {
        Column marker = new Column(PINNED_KEYS_MARKER);
        Expression narrowed = where == null ? marker
                : new AndExpression(new ParenthesedExpressionList<>(where), marker);
        if (statement instanceof Update update) {
            update.setWhere(narrowed);
        } else {
            ((Delete) statement).setWhere(narrowed);
        }
        List<Integer> order = new ArrayList<>();
        StringBuilder buffer = new StringBuilder();
        SelectDeParser selects = new SelectDeParser(buffer);
        ExpressionDeParser expressions = new ParameterOrder(selects, buffer, order) {
            @Override
            public <S> StringBuilder visit(Column column, S context) {
                if (column == marker) {
                    order.add(-1);
                }
                return super.visit(column, context);
            }
        };
        selects.setExpressionVisitor(expressions);
        statement.accept(new StatementDeParser(expressions, selects, buffer), null);
        String text = buffer.toString();
        int at = text.indexOf(PINNED_KEYS_MARKER);
        int split = order.indexOf(-1);
        if (at < 0 || at != text.lastIndexOf(PINNED_KEYS_MARKER) || split < 0 || order.contains(null)) {
            return null;
        }
        String qualifier = sqlTable.getAlias() != null ? sqlTable.getAlias().getName() + "." : "";
        List<String> keys = new ArrayList<>();
        for (String key : table.storedKeyColumns()) {
            keys.add(qualifier + table.dialect().quote(key));
        }
        return new StatementPlan.Pinned(preSelect, text.substring(0, at),
                order.subList(0, split).stream().mapToInt(Integer::intValue).toArray(), table.dialect(),
                List.copyOf(keys),
                text.substring(at + PINNED_KEYS_MARKER.length()),
                order.subList(split + 1, order.size()).stream().mapToInt(Integer::intValue).toArray());
    }

    /** The key columns pinned by top-level {@code AND}ed equalities or {@code IN} lists, or null. */
    private static StatementPlan.KeyShape keyShape(CapturedTable table, Expression where) {
        List<Expression> conjuncts = new ArrayList<>();
        flattenAnd(where, conjuncts);
        Map<String, List<ValueSource>> pinned = new LinkedHashMap<>();
        for (Expression conjunct : conjuncts) {
            if (conjunct instanceof EqualsTo equals) {
                pin(pinned, equals.getLeftExpression(), equals.getRightExpression());
                pin(pinned, equals.getRightExpression(), equals.getLeftExpression());
            } else if (conjunct instanceof InExpression in && !in.isNot()
                    && in.getLeftExpression() instanceof Column column
                    && in.getRightExpression() instanceof ExpressionList<?> list) {
                List<ValueSource> values = new ArrayList<>();
                for (Expression each : list) {
                    ValueSource value = valueSource(each);
                    if (value == null) {
                        values = null;
                        break;
                    }
                    values.add(value);
                }
                if (values != null) {
                    pinned.putIfAbsent(columnName(column), values);
                }
            }
        }
        List<List<ValueSource>> alternatives = new ArrayList<>();
        for (String key : table.keyColumns()) {
            List<ValueSource> values = pinned.get(key);
            if (values == null) {
                return null;
            }
            alternatives.add(values);
        }
        return new StatementPlan.KeyShape(alternatives);
    }

    private static void pin(Map<String, List<ValueSource>> pinned, Expression left, Expression right) {
        if (left instanceof Column column) {
            ValueSource value = valueSource(right);
            if (value != null) {
                pinned.putIfAbsent(columnName(column), List.of(value));
            }
        }
    }

    private static void flattenAnd(Expression expression, List<Expression> into) {
        Expression unwrapped = unwrap(expression);
        if (unwrapped instanceof AndExpression and) {
            flattenAnd(and.getLeftExpression(), into);
            flattenAnd(and.getRightExpression(), into);
        } else {
            into.add(unwrapped);
        }
    }

    private static Expression unwrap(Expression expression) {
        Expression current = expression;
        while (true) {
            if (current instanceof ParenthesedExpressionList<?> list && list.size() == 1) {
                current = list.get(0);
            } else {
                return current;
            }
        }
    }

    /**
     * Builds the pre-read. The WHERE clause is printed back from the parse tree, noting each
     * parameter's original position as it is printed, so that the pre-read binds the same values.
     */
    private static StatementPlan.PreSelect preSelect(CapturedTable table, Table sqlTable,
            List<WithItem<?>> withItems, Expression where,
            List<OrderByElement> orderBy, Limit limit) {
        List<Integer> order = new ArrayList<>();
        StringBuilder buffer = new StringBuilder();
        SelectDeParser selects = new SelectDeParser(buffer);
        ExpressionDeParser expressions = new ParameterOrder(selects, buffer, order);
        selects.setExpressionVisitor(expressions);
        StringBuilder text = new StringBuilder(Dialect.MARKER).append(' ');
        if (withItems != null && !withItems.isEmpty()) {
            // The WHERE clause may name the statement's common table expressions: the pre-read needs them too.
            text.append("WITH ");
            for (int i = 0; i < withItems.size(); i++) {
                buffer.setLength(0);
                selects.visit(withItems.get(i), null);
                text.append(i == 0 ? "" : ", ").append(buffer);
            }
            text.append(' ');
        }
        text.append("SELECT ");
        String qualifier = sqlTable.getAlias() != null ? sqlTable.getAlias().getName() : null;
        StringBuilder keyList = new StringBuilder();
        for (int i = 0; i < table.storedKeyColumns().size(); i++) {
            keyList.append(i == 0 ? "" : ", ");
            if (qualifier != null) {
                keyList.append(qualifier).append('.');
            }
            keyList.append(table.dialect().quote(table.storedKeyColumns().get(i)));
        }
        text.append(keyList).append(" FROM ").append(sqlTable);
        if (where != null) {
            buffer.setLength(0);
            where.accept(expressions, null);
            text.append(" WHERE ").append(buffer);
        }
        if (orderBy != null && !orderBy.isEmpty()) {
            text.append(" ORDER BY ");
            for (int i = 0; i < orderBy.size(); i++) {
                buffer.setLength(0);
                orderBy.get(i).getExpression().accept(expressions, null);
                text.append(i == 0 ? "" : ", ").append(buffer).append(orderBy.get(i).isAsc() ? "" : " DESC");
            }
        }
        if ((orderBy == null || orderBy.isEmpty()) && limit == null) {
            // Locks taken in key order: two such statements running at once queue instead of deadlocking.
            text.append(" ORDER BY ").append(keyList);
        }
        if (limit != null && limit.getRowCount() != null) {
            buffer.setLength(0);
            limit.getRowCount().accept(expressions, null);
            text.append(" LIMIT ").append(buffer);
        }
        text.append(" FOR UPDATE");
        return new StatementPlan.PreSelect(text.toString(), order.stream().mapToInt(Integer::intValue).toArray());
    }

    private StatementPlan writingWithItems(String sql, List<WithItem<?>> withItems) {
        if (withItems == null) {
            return StatementPlan.PASS;
        }
        for (WithItem<?> item : withItems) {
            // Not getInsert() and its siblings: each casts the item's statement, and throws for any other kind.
            Object body = item.getStatement();
            if (body instanceof ParenthesedInsert || body instanceof ParenthesedUpdate
                    || body instanceof ParenthesedDelete) {
                Set<CapturedTable> involved = mentioned(sql);
                if (!involved.isEmpty()) {
                    return unattributable(sql, involved, "a WITH clause that writes");
                }
            }
        }
        return StatementPlan.PASS;
    }

    private static List<List<Expression>> rows(Values values) {
        ExpressionList<?> list = values.getExpressions();
        List<List<Expression>> rows = new ArrayList<>();
        if (list instanceof ParenthesedExpressionList<?>) {
            rows.add(new ArrayList<>(list));
            return rows;
        }
        for (Expression row : list) {
            if (row instanceof ExpressionList<?> inner) {
                rows.add(new ArrayList<>(inner));
            } else {
                rows.add(List.of(row));
            }
        }
        return rows;
    }

    /** A value known before the statement runs: a parameter or a literal; null for anything else. */
    private static ValueSource valueSource(Expression expression) {
        Expression value = unwrap(expression);
        if (value instanceof JdbcParameter parameter && parameter.getIndex() != null) {
            return ValueSource.parameter(parameter.getIndex());
        }
        if (value instanceof LongValue number) {
            return ValueSource.literal(number.getValue());
        }
        if (value instanceof StringValue text) {
            return ValueSource.literal(text.getValue().replace("''", "'"));
        }
        if (value instanceof DoubleValue number) {
            return ValueSource.literal(number.getValue());
        }
        if (value instanceof SignedExpression signed && signed.getSign() == '-'
                && signed.getExpression() instanceof LongValue number) {
            return ValueSource.literal(-number.getValue());
        }
        return null;
    }

    private CapturedTable lookup(Table table) {
        if (table == null) {
            return null;
        }
        String name = unquote(table.getName()).toLowerCase(Locale.ROOT);
        if (table.getSchemaName() != null) {
            CapturedTable qualified = byName.get(unquote(table.getSchemaName()).toLowerCase(Locale.ROOT) + "." + name);
            if (qualified != null) {
                return qualified;
            }
        }
        List<CapturedTable> claimants = ambiguous.get(name);
        if (claimants != null) {
            throw new AmbiguousTable(name, claimants);
        }
        return byName.get(name);
    }

    /** A physical table name that several mapped tables claim, named by a statement. */
    private static final class AmbiguousTable extends RuntimeException {

        private final String name;
        private final List<CapturedTable> claimants;

        AmbiguousTable(String name, List<CapturedTable> claimants) {
            super(name, null, false, false);
            this.name = name;
            this.claimants = claimants;
        }
    }

    /** Mapped tables whose name occurs as a whole word in the text: cheap, and errs towards "mentioned". */
    Set<CapturedTable> mentioned(String sql) {
        Set<CapturedTable> found = new LinkedHashSet<>();
        int length = sql.length();
        int i = 0;
        while (i < length) {
            char c = sql.charAt(i);
            if (Character.isLetter(c) || c == '_') {
                int start = i;
                while (i < length && isWordPart(sql.charAt(i))) {
                    i++;
                }
                String word = sql.substring(start, i).toLowerCase(Locale.ROOT);
                CapturedTable table = byName.get(word);
                if (table != null) {
                    found.add(table);
                }
                found.addAll(ambiguous.getOrDefault(word, List.of()));
            } else {
                i++;
            }
        }
        return found;
    }

    private static boolean isWordPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_' || c == '$';
    }

    private static List<String> columnNames(ExpressionList<Column> columns) {
        List<String> names = new ArrayList<>();
        for (Column column : columns) {
            names.add(columnName(column));
        }
        return names;
    }

    private static List<String> columnNames(String list) {
        List<String> names = new ArrayList<>();
        for (String part : list.split(",")) {
            names.add(unquote(part.trim()).toLowerCase(Locale.ROOT));
        }
        return names;
    }

    private static String columnName(Column column) {
        return unquote(column.getColumnName()).toLowerCase(Locale.ROOT);
    }

    private static String unquote(String identifier) {
        if (identifier.length() >= 2) {
            char first = identifier.charAt(0);
            char last = identifier.charAt(identifier.length() - 1);
            if ((first == '"' || first == '`' || first == '[') && (last == '"' || last == '`' || last == ']')) {
                return identifier.substring(1, identifier.length() - 1);
            }
        }
        return identifier;
    }

    private static boolean notEmpty(List<?> list) {
        return list != null && !list.isEmpty();
    }

    private static StatementPlan unattributable(String sql, Collection<CapturedTable> tables, String reason) {
        return StatementPlan.unattributable(sql, new ArrayList<>(tables), reason);
    }

    /** The statement as messages show it: whitespace collapsed, long text cut. */
    static String shown(String sql) {
        String flat = sql.replaceAll("\\s+", " ").trim();
        return flat.length() <= MAX_SQL_SHOWN ? flat : flat.substring(0, MAX_SQL_SHOWN) + "... (" + flat.length()
                + " characters)";
    }

    /** Prints expressions back while noting each parameter's original position in print order. */
    private static class ParameterOrder extends ExpressionDeParser {
        private final List<Integer> order;

        ParameterOrder(SelectDeParser selects, StringBuilder buffer, List<Integer> order) {
            super(selects, buffer);
            this.order = order;
        }

        @Override
        public <S> StringBuilder visit(JdbcParameter parameter, S context) {
            order.add(parameter.getIndex());
            return super.visit(parameter, context);
        }
    }
}
