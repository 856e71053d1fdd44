package io.dualwrite.routing;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Hands each committed change set to the mirror of the store that took it: the forward mirror for
 * source-routed transactions, the reverse mirror (target back to source) for target-routed ones during
 * RAMP, nobody in SOURCE_ONLY and TARGET_ONLY. The route is the one the transaction's connection was
 * admitted with, so a ramp step that becomes active between commit and hand-over changes nothing.
 *
 * <p>Keys arrive in the source's key space (as {@code @DualWrite} names them); those for the reverse
 * mirror are mapped to the target's.
 */
public final class RoutingChangeSink implements ChangeSink {

    private static final Log log = LogFactory.getLog(RoutingChangeSink.class);

    private final MigrationController controller;
    private final MappedTables tables;
    private final Mirror forward;
    private final Mirror reverse;

    /**
     * @param controller the migration's controller
     * @param tables the mapped tables
     * @param forward the mirror from the source to the target
     * @param reverse the mirror from the target back to the source (over {@link MappedTables#reversed()}),
     *     or null when the tables cannot be mirrored back; RAMP is then refused by
     *     {@link RampGuards#reversePathProven}
     */
    public RoutingChangeSink(MigrationController controller, MappedTables tables, Mirror forward, Mirror reverse) {
        this.controller = Objects.requireNonNull(controller, "controller");
        this.tables = Objects.requireNonNull(tables, "tables");
        this.forward = Objects.requireNonNull(forward, "forward");
        this.reverse = reverse;
    }

    @Override
    public void beforeCommit(Collection<Change> changes) {
        if (!controller.mirroring()) {
            return;
        }
        Route route = currentRoute();
        Mirror mirror = mirrorOf(route);
        if (mirror != null) {
            mirror.beforeCommit(inKeySpace(route, changes));
        }
    }

    @Override
    public void beforeCommit(Collection<Change> changes, Connection connection) throws SQLException {
        if (!controller.mirroring()) {
            return;
        }
        Route route = currentRoute();
        Mirror mirror = mirrorOf(route);
        if (mirror != null) {
            mirror.beforeCommit(inKeySpace(route, changes), connection);
        }
    }

    @Override
    public boolean writesBeforeCommit() {
        if (!controller.mirroring()) {
            return false;
        }
        Mirror mirror = mirrorOf(currentRoute());
        return mirror != null && mirror.writesBeforeCommit();
    }

    @Override
    public void afterCommit(Collection<Change> changes, long committedAtNanos) {
        if (!controller.mirroring()) {
            return;
        }
        Route route = currentRoute();
        Mirror mirror = mirrorOf(route);
        if (mirror == null) {
            log.error("dualwrite cannot mirror " + changes.size() + " target-routed changes back to the source: no"
                    + " reverse mirror is configured; the reconciler must repair " + changes);
            return;
        }
        mirror.afterCommit(inKeySpace(route, changes), committedAtNanos);
    }

    /** @return the route the current transaction was admitted with, or its key's route now */
    static Route currentRoute(MigrationController controller) {
        RoutingContext.Scope scope = RoutingContext.currentScope();
        if (scope != null && scope.admission() != null) {
            return scope.admission().route();
        }
        return controller.route(RoutingContext.currentKey());
    }

    private Route currentRoute() {
        return currentRoute(controller);
    }

    private Mirror mirrorOf(Route route) {
        return route == Route.SOURCE ? forward : reverse;
    }

    private Collection<Change> inKeySpace(Route route, Collection<Change> changes) {
        if (route == Route.SOURCE) {
            return changes;
        }
        List<Change> mapped = new ArrayList<>(changes.size());
        for (Change change : changes) {
            mapped.add(new Change(change.table(), tables.get(change.table()).toTargetKey(change.key())));
        }
        return mapped;
    }
}
