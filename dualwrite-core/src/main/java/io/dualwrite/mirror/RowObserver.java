package io.dualwrite.mirror;

import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTable;
import java.util.Collection;

/**
 * Sees the primary rows each apply read, before they are written to the other store; the router uses
 * it to count cross-route writes. Runs on the applying thread while the rows are locked: it must be
 * quick and must not throw.
 */
@FunctionalInterface
public interface RowObserver {

    /**
     * @param table the table, as the mirror sees it ({@link MappedTable#source()} is the primary)
     * @param rows the rows read
     */
    void rowsRead(MappedTable table, Collection<Row> rows);
}
