package io.dualwrite.verify;

import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingValues;
import io.dualwrite.routing.TrafficRouter;
import java.util.Objects;

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

    /**
     * Routes each row by its own routing column under the router's current rules: the row's route, not
     * the route of whichever request last wrote it, so cross-route writes are settled the same way on
     * every run. A table without a routing column, or a row whose column is null, takes the router's
     * route for a request with no key.
     *
     * @param tables the mapped tables, which name each table's routing column
     * @param router the migration's router
     * @return the routes
     */
    static RowRoutes byRoutingColumn(MappedTables tables, TrafficRouter router) {
        return byRoutingColumn(tables, router, RoutingValues.identity());
    }

    /**
     * Routes each row by the routing value its routing column leads to, as {@link #byRoutingColumn(MappedTables,
     * TrafficRouter)} does, for tables whose routing column is a foreign key to the row that holds the routing
     * key ({@code visits.pet_id -> pets.owner_id}).
     *
     * @param tables the mapped tables, which name each table's routing column
     * @param router the migration's router
     * @param values the routing value of a routing column's value
     * @return the routes
     */
    static RowRoutes byRoutingColumn(MappedTables tables, TrafficRouter router, RoutingValues values) {
        Objects.requireNonNull(tables, "tables");
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(values, "values");
        return (table, row) -> router.route(tables.get(table).mapping().routingColumn().map(row::get)
                .map(value -> values.resolve(table, value)).orElse(null));
    }
}
