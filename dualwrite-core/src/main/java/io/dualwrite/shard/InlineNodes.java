package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;
import org.apache.shardingsphere.infra.expr.core.InlineExpressionParserFactory;

/**
 * Expands a list of data nodes written as ShardingSphere writes {@code actualDataNodes}: {@code
 * ds_${0..1}.t_order_${0..7}}, {@code ds_0.t_a, ds_1.t_b}, {@code ds_${['a', 'b']}.t_${0..3}}. The expansion is
 * ShardingSphere's own inline-expression parser (its {@code InlineExpressionParser} SPI, Groovy by default); this
 * class only checks that what comes out is a list of distinct {@code data-source.table} names, and says which
 * property to fix when it is not. It loads ShardingSphere's classes, so it is reached only when an expression is
 * given.
 */
final class InlineNodes {

    /**
     * A data source's name as configured: ShardingSphere splits a node at its dot and takes the rest as it is, and
     * names such as {@code ds-0} are common. It is only ever a key of the data sources, never put into SQL.
     */
    private static final Pattern DATA_SOURCE = Pattern.compile("[A-Za-z_][A-Za-z0-9_-]*");
    /** A physical table's name, which goes into SQL: what {@code Dialect.quote} accepts, so it fails here. */
    private static final Pattern TABLE = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}");

    private InlineNodes() {
    }

    /**
     * @param expression the nodes, as an inline expression or a comma-separated list
     * @param property the property that holds it, named in every error
     * @return the nodes, in the expression's order
     * @throws IllegalArgumentException naming the property, when the expression cannot be evaluated, or yields no
     *     node, a node that is not {@code data-source.table}, or a node twice
     */
    static List<ShardLayout.Shard> expand(String expression, String property) {
        if (expression == null || expression.isBlank()) {
            throw new IllegalArgumentException(property + ": no data nodes given; list them as"
                    + " data-source.table, for example ds_${0..1}.t_order_${0..7}");
        }
        List<String> names;
        try {
            names = InlineExpressionParserFactory.newInstance(expression.trim()).splitAndEvaluate();
        } catch (RuntimeException | LinkageError invalid) {
            // Groovy's compile errors span lines; the first says what is wrong.
            String reason = String.valueOf(invalid.getMessage()).lines().filter(l -> !l.isBlank()).findFirst()
                    .orElse(invalid.getClass().getSimpleName());
            throw new IllegalArgumentException(property + ": cannot evaluate inline expression '" + expression
                    + "' (ShardingSphere's parser: " + reason + "); write ranges as ${0..7} and lists as ${['a', 'b']}",
                    invalid);
        }
        List<ShardLayout.Shard> nodes = new ArrayList<>();
        Set<String> seen = new LinkedHashSet<>();
        for (String name : names) {
            String node = name.trim();
            int dot = node.indexOf('.');
            if (dot < 0 || node.indexOf('.', dot + 1) >= 0 || !DATA_SOURCE.matcher(node.substring(0, dot)).matches()
                    || !TABLE.matcher(node.substring(dot + 1)).matches()) {
                throw new IllegalArgumentException(property + ": inline expression '" + expression + "' gives '"
                        + node + "', which is not data-source.table (one dot; a data source's name of letters, digits,"
                        + " _ and -, a table's of letters, digits, _ and $, at most 63 characters); write ranges as"
                        + " ${0..7} and lists as ${['a', 'b']}");
            }
            if (!seen.add(node)) {
                throw new IllegalArgumentException(property + ": inline expression '" + expression + "' names data"
                        + " node '" + node + "' twice");
            }
            nodes.add(new ShardLayout.Shard(node.substring(0, dot), node.substring(dot + 1)));
        }
        if (nodes.isEmpty()) {
            throw new IllegalArgumentException(property + ": inline expression '" + expression + "' gives no data"
                    + " node");
        }
        return nodes;
    }
}
