package io.dualwrite.verify;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.Route;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Brings rows of the other store back to their primary's state. Repairs must go through the mirror's
 * locked apply, never a plain copy, so that a repair obeys the same ordering and version guard as every
 * mirrored write and cannot undo a write committed while it runs.
 */
@FunctionalInterface
public interface Repairer {

    /**
     * Repairs rows.
     *
     * @param table the source table
     * @param primary the store whose state wins for these rows
     * @param keys the rows' source keys
     * @return the keys that could not be repaired (a writer held them until the timeout); empty when all were
     * @throws SQLException if a store fails
     * @throws IllegalStateException if rows of this primary cannot be repaired
     */
    Set<RowKey> repair(String table, Route primary, Collection<RowKey> keys) throws SQLException;

    /**
     * Repairs through a mirror's apply ({@link Mirror#repair}): rows whose primary is the source. Rows whose
     * primary is the target are refused until the reverse mirror of RAMP exists.
     *
     * @param mirror the mirror of this migration (it need not be started)
     * @param timeout how long to retry keys held by writers
     * @return the repairer
     * @throws NullPointerException if an argument is null
     */
    static Repairer throughMirror(Mirror mirror, Duration timeout) {
        Objects.requireNonNull(mirror, "mirror");
        Objects.requireNonNull(timeout, "timeout");
        return (table, primary, keys) -> {
            if (primary == Route.TARGET) {
                throw new IllegalStateException("table '" + table + "': " + keys.size() + " rows are primary in the"
                        + " target, and Repairer.throughMirror repairs only from the source until the reverse mirror"
                        + " of RAMP is available; run the reconciler dry (ReconcileConfig.Builder.dryRun(true)) or"
                        + " pass a Repairer that writes through the reverse mirror");
            }
            return mirror.repair(table, keys, timeout);
        };
    }

    /**
     * Repairs through the mirror of each row's primary: the forward mirror for rows primary in the
     * source, the reverse mirror of RAMP (over {@link MappedTables#reversed()}) for rows primary in the
     * target. Keys stay in the source's key space; those for the reverse mirror are mapped.
     *
     * @param tables the mapped tables
     * @param forward the mirror from the source to the target
     * @param reverse the mirror from the target back to the source
     * @param timeout how long to retry keys held by writers
     * @return the repairer
     * @throws NullPointerException if an argument is null
     */
    static Repairer throughMirrors(MappedTables tables, Mirror forward, Mirror reverse, Duration timeout) {
        Objects.requireNonNull(tables, "tables");
        Objects.requireNonNull(forward, "forward");
        Objects.requireNonNull(reverse, "reverse");
        Objects.requireNonNull(timeout, "timeout");
        return (table, primary, keys) -> {
            if (primary == Route.SOURCE) {
                return forward.repair(table, keys, timeout);
            }
            MappedTable mapped = tables.get(table);
            Map<RowKey, RowKey> sourceKeyOf = new LinkedHashMap<>();
            for (RowKey key : keys) {
                sourceKeyOf.put(mapped.toTargetKey(key), key);
            }
            Set<RowKey> left = new LinkedHashSet<>();
            for (RowKey targetKey : reverse.repair(table, sourceKeyOf.keySet(), timeout)) {
                left.add(sourceKeyOf.get(targetKey));
            }
            return left;
        };
    }
}
