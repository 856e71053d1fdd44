package io.dualwrite.degrade;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.routing.TrafficRouter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The rows some marks of one table select, in a form fast to test: keys in the source's canonical form,
 * ranges, routing values as text. Immutable.
 */
final class Selection {

    private final MappedTable table;
    private final Set<RowKey> keys = new HashSet<>();
    private final List<RowKey[]> ranges = new ArrayList<>();
    private final Set<String> values = new HashSet<>();
    private final String sourceColumn;
    private final String targetColumn;

    Selection(MappedTable table, Collection<DegradeMark> marks) {
        this.table = table;
        this.sourceColumn = table.mapping().routingColumn().orElse(null);
        String renamed = sourceColumn == null ? null
                : table.mapping().renames().get(sourceColumn.toLowerCase(Locale.ROOT));
        this.targetColumn = renamed == null ? sourceColumn : renamed;
        for (DegradeMark mark : marks) {
            switch (mark.kind()) {
                case KEY -> keys.add(table.source().canonicalKey(mark.from()));
                case RANGE -> ranges.add(new RowKey[] {table.source().canonicalKey(mark.from()),
                    table.source().canonicalKey(mark.to())});
                default -> values.add(mark.value());
            }
        }
    }

    MappedTable table() {
        return table;
    }

    /** @return whether a mark selects rows by their routing value, which the key alone does not tell */
    boolean byValue() {
        return !values.isEmpty();
    }

    /** @return whether the source key is marked by key or range */
    boolean selectsKey(RowKey sourceKey) {
        if (sourceKey == null) {
            return false;
        }
        if (keys.contains(sourceKey)) {
            return true;
        }
        for (RowKey[] range : ranges) {
            if (Keys.compare(range[0], sourceKey) <= 0 && Keys.compare(sourceKey, range[1]) < 0) {
                return true;
            }
        }
        return false;
    }

    /** @return whether a row in the source's shape is marked, by its key or its routing value */
    boolean selectsSourceRow(RowKey sourceKey, Row sourceRow) {
        return selectsKey(sourceKey) || (sourceRow != null && selectsValueIn(sourceRow, sourceColumn));
    }

    /** @return whether a row in the target's shape is marked, by its key or its routing value */
    boolean selectsTargetRow(Row targetRow) {
        return selectsKey(table.toSourceKey(table.target().keyOf(targetRow)))
                || selectsValueIn(targetRow, targetColumn);
    }

    /** @return the routing value of a row in the target's shape, or null */
    Object targetRoutingValue(Row targetRow) {
        return targetColumn == null || !targetRow.has(targetColumn) ? null : targetRow.get(targetColumn);
    }

    private boolean selectsValueIn(Row row, String column) {
        if (values.isEmpty() || column == null || !row.has(column)) {
            return false;
        }
        Object value = row.get(column);
        return value != null && values.contains(TrafficRouter.text(value));
    }
}
