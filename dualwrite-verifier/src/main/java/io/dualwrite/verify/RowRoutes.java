package io.dualwrite.verify;

import io.dualwrite.jdbc.Row;
import io.dualwrite.routing.Route;

/**
 * Which store is primary for a row, so that a repair keeps the primary's state: before RAMP always the
 * source; during RAMP the route of the row's routing column. The routing layer provides the real one; the
 * default, {@link #allSource()}, is right for every phase before RAMP.
 */
@FunctionalInterface
public interface RowRoutes {

    /**
     * Returns the primary store of a row.
     *
     * @param table the source table
     * @param sourceRow the row in the source's shape: as read from the source, or, for a row only the
     *     target holds, mapped back to the source's shape (when the mapping is reversible)
     * @return the primary route
     */
    Route routeOf(String table, Row sourceRow);

    /** @return routes that make the source primary for every row (every phase before RAMP) */
    static RowRoutes allSource() {
        return (table, row) -> Route.SOURCE;
    }
}
