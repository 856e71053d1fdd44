package io.dualwrite.routing;

import io.dualwrite.jdbc.Row;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mirror.RowObserver;
import java.util.Collection;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Counts and logs cross-route writes: a row written on one store through a request whose route is that
 * store, while the row's own routing column routes it to the other (a merchant updating a user's
 * order). Such a row takes writes on both stores during RAMP; the reconciler settles it by the row's own
 * route. Register one per mirror with {@link io.dualwrite.mirror.Mirror#observeRows}.
 */
public final class CrossRouteWrites implements RowObserver {

    private static final Log log = LogFactory.getLog(CrossRouteWrites.class);
    private static final long LOG_INTERVAL_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final MigrationController controller;
    private final Route primary;
    private final RoutingValues values;
    private final AtomicLong count = new AtomicLong();
    private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();

    /**
     * @param controller the migration's controller
     * @param primary the store the observed mirror reads: SOURCE for the forward mirror, TARGET for the reverse
     */
    public CrossRouteWrites(MigrationController controller, Route primary) {
        this(controller, primary, RoutingValues.identity());
    }

    /**
     * @param controller the migration's controller
     * @param primary the store the observed mirror reads: SOURCE for the forward mirror, TARGET for the reverse
     * @param values a row's routing value from its routing column's value (through a foreign key, for some)
     */
    public CrossRouteWrites(MigrationController controller, Route primary, RoutingValues values) {
        this.controller = Objects.requireNonNull(controller, "controller");
        this.primary = Objects.requireNonNull(primary, "primary");
        this.values = Objects.requireNonNull(values, "values");
    }

    @Override
    public void rowsRead(MappedTable table, Collection<Row> rows) {
        RoutingRules rules = controller.rules();
        if (rules.phase() != Phase.RAMP) {
            return;
        }
        String column = table.mapping().routingColumn().orElse(null);
        if (column == null) {
            return;
        }
        // The routing column is named on the source table; the reverse mirror reads target rows.
        String readColumn = table.isReversed() ? targetColumnOf(table, column) : column;
        int crossing = 0;
        Object example = null;
        for (Row row : rows) {
            Object value = row.get(readColumn);
            if (value != null) {
                value = values.resolve(table.name(), value);
            }
            try {
                if (value != null && TrafficRouter.route(rules, controller::movedRoute, value) != primary) {
                    crossing++;
                    example = value;
                }
            } catch (IllegalArgumentException noBucket) {
                crossing++;
                example = value;
            }
        }
        if (crossing == 0) {
            return;
        }
        count.addAndGet(crossing);
        long now = System.nanoTime();
        Long last = lastLogged.get(table.name());
        if (last == null || now - last > LOG_INTERVAL_NANOS) {
            lastLogged.put(table.name(), now);
            log.warn("dualwrite cross-route write: " + crossing + " row(s) of " + table.name() + " written on the "
                    + primary + " while their " + column + " (e.g. " + example + ") routes them to the "
                    + primary.other() + "; the reconciler settles them by the row's route (" + count.get()
                    + " so far)");
        }
    }

    private static String targetColumnOf(MappedTable reversed, String sourceColumn) {
        String renamed = reversed.mapping().renames().get(sourceColumn.toLowerCase(java.util.Locale.ROOT));
        return renamed == null ? sourceColumn : renamed;
    }

    /** @return how many cross-route rows were seen since start */
    public long count() {
        return count.get();
    }
}
