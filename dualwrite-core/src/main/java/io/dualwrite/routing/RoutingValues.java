package io.dualwrite.routing;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The routing value of a row, from the value of its table's routing column. For most tables the column
 * holds the routing key itself ({@code orders.user_id}): {@link #identity()}. Some reach it only through a
 * foreign key: a visit names its pet, and the pet its owner, who is the routing key
 * ({@code visits.pet_id -> pets.id -> pets.owner_id}). For those, {@link #throughForeignKeys} looks the
 * value up in the referenced table and caches it.
 *
 * <p>The row's route decides which store wins when the reconciler repairs the row during RAMP, and whether
 * a mirrored write was a cross-route write ({@link CrossRouteWrites}). Requests are routed by the key bound
 * in {@link RoutingContext}, not by this: a request that writes a visit binds the owner's id.
 *
 * <p>The pattern for such a table: set its routing column to the foreign key ({@code
 * dualwrite.tables.visits.routing-column=pet_id}) and name the hop ({@code
 * dualwrite.routing.through.visits.table=pets}, {@code key=id}, {@code column=owner_id}). A hop whose
 * referenced row changes its own routing value (a pet given to another owner) is seen after the cache entry
 * expires; a longer chain is a custom implementation of this interface.
 */
@FunctionalInterface
public interface RoutingValues {

    /**
     * The routing value of a row.
     *
     * @param table the source table the row belongs to
     * @param routingColumnValue the value of the table's routing column, not null
     * @return the routing value (the routing key the row belongs to), or null when unknown
     */
    Object resolve(String table, Object routingColumnValue);

    /** @return routing values that are the routing column's values themselves */
    static RoutingValues identity() {
        return (table, value) -> value;
    }

    /**
     * Routing values found through one foreign-key hop per table, read from a store and cached. Tables not
     * named take their routing column's value as it is.
     *
     * @param store where the referenced tables are read (the source)
     * @param hops per source table, the hop from its routing column to the routing value
     * @param maximumSize how many looked-up values to keep
     * @param expireAfterWrite how long a looked-up value is trusted
     * @return the routing values
     * @throws IllegalArgumentException naming the property, if a hop names an invalid identifier
     */
    static RoutingValues throughForeignKeys(DataSource store, Map<String, ForeignKey> hops, long maximumSize,
            Duration expireAfterWrite) {
        return new ForeignKeyRoutingValues(store, hops, maximumSize, expireAfterWrite);
    }

    /**
     * One foreign-key hop: the routing column's value is {@code keyColumn} of a row of {@code table}, whose
     * {@code routingColumn} holds the routing value.
     *
     * @param table the referenced table, e.g. {@code pets}
     * @param keyColumn its column the foreign key refers to, e.g. {@code id}
     * @param routingColumn its column holding the routing value, e.g. {@code owner_id}
     */
    record ForeignKey(String table, String keyColumn, String routingColumn) {

        /**
         * Checks the parts.
         *
         * @throws NullPointerException if a part is null
         */
        public ForeignKey {
            Objects.requireNonNull(table, "table");
            Objects.requireNonNull(keyColumn, "keyColumn");
            Objects.requireNonNull(routingColumn, "routingColumn");
        }
    }
}
