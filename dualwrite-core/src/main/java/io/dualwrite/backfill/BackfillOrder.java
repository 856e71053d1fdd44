package io.dualwrite.backfill;

import io.dualwrite.jdbc.SchemaCatalog;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The order in which several tables' backfills run: a table whose rows reference another mapped table
 * through a foreign key of the target starts once that table is done, so that no chunk meets a missing
 * parent. Read from the target's metadata; an order given by hand ({@link BackfillConfig#order()}) comes
 * first, each of its tables after the one before. A cycle of foreign keys has no such order and is refused,
 * naming the constraints and what to do. A table's reference to itself is not a dependency between tables.
 */
final class BackfillOrder {

    private BackfillOrder() {
    }

    /**
     * @param tables the mappings
     * @param names the source tables to run, as mapped
     * @param handOrder tables to run first, in this order
     * @param target a connection to the target
     * @return each table (in an order that starts parents first) to the tables that must be done before it
     * @throws IllegalArgumentException if the hand order names a table that is not mapped
     * @throws IllegalStateException if the foreign keys between tables not in the hand order form a cycle
     * @throws SQLException if the target's metadata cannot be read
     */
    static Map<String, Set<String>> prerequisites(MappedTables tables, List<String> names, List<String> handOrder,
            Connection target) throws SQLException {
        Map<String, Set<String>> before = new LinkedHashMap<>();
        Set<String> chosen = new LinkedHashSet<>();
        names.forEach(name -> chosen.add(tables.get(name).name()));
        String previous = null;
        for (String name : handOrder) {
            if (!tables.contains(name)) {
                throw new IllegalArgumentException("dualwrite.backfill.order: table '" + name + "' is not mapped;"
                        + " mapped tables: " + tables.all().stream().map(MappedTable::name).toList());
            }
            String table = tables.get(name).name();
            if (!chosen.contains(table)) {
                continue;
            }
            before.put(table, previous == null ? new LinkedHashSet<>() : new LinkedHashSet<>(List.of(previous)));
            previous = table;
        }
        Set<String> byHand = new LinkedHashSet<>(before.keySet());
        Map<String, MappedTable> byTarget = new LinkedHashMap<>();
        for (String table : chosen) {
            MappedTable mapped = tables.get(table);
            byTarget.put(mapped.target().table().name().toLowerCase(Locale.ROOT), mapped);
        }
        // The edges among the tables left to the foreign keys, each with the constraint that makes it.
        Map<String, Map<String, String>> parents = new LinkedHashMap<>();
        for (String table : chosen) {
            if (byHand.contains(table)) {
                continue;
            }
            Map<String, String> own = new LinkedHashMap<>();
            MappedTable mapped = tables.get(table);
            for (SchemaCatalog.ForeignKey key : SchemaCatalog.foreignKeys(target, mapped.target().table())) {
                MappedTable parent = byTarget.get(key.referencedTable().toLowerCase(Locale.ROOT));
                if (parent != null && parent != mapped && !byHand.contains(parent.name())) {
                    own.putIfAbsent(parent.name(), key.name());
                }
            }
            parents.put(table, own);
        }
        List<String> sorted = new ArrayList<>();
        Set<String> left = new LinkedHashSet<>(parents.keySet());
        boolean progress = true;
        while (!left.isEmpty() && progress) {
            progress = false;
            for (String table : List.copyOf(left)) {
                if (left.stream().noneMatch(parents.get(table)::containsKey)) {
                    sorted.add(table);
                    left.remove(table);
                    progress = true;
                }
            }
        }
        if (!left.isEmpty()) {
            throw new IllegalStateException(cycle(tables, left, parents));
        }
        for (String table : sorted) {
            Set<String> first = new LinkedHashSet<>(parents.get(table).keySet());
            if (previous != null) {
                // After the tables given by hand: they were named because their order matters.
                first.add(previous);
            }
            before.put(table, first);
        }
        return before;
    }

    private static String cycle(MappedTables tables, Set<String> left, Map<String, Map<String, String>> parents) {
        List<String> edges = new ArrayList<>();
        for (String table : left) {
            parents.get(table).forEach((parent, constraint) -> {
                if (left.contains(parent)) {
                    edges.add("'" + constraint + "' of " + tables.get(table).target().table().name() + " -> "
                            + tables.get(parent).target().table().name());
                }
            });
        }
        return "dualwrite.backfill: the target's foreign keys " + edges + " form a cycle between mapped tables "
                + left + ", so no order copies every row's referenced row first. Either make one of these"
                + " constraints DEFERRABLE INITIALLY DEFERRED or drop it until the backfill is done (PostgreSQL: add it"
                + " back NOT VALID, then VALIDATE CONSTRAINT), and give the order by hand with"
                + " dualwrite.backfill.order (BackfillConfig.Builder.order); rows a constraint still refuses are"
                + " recorded in the failure table for BackfillRunner.retryFailedRows";
    }
}
