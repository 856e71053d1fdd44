package io.dualwrite.routing;

import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * The built-in {@link RampGuard}s: backfill finished, mismatch rate low, requests carry routing keys, reverse
 * path proven.
 */
public final class RampGuards {

    private RampGuards() {
    }

    /**
     * Refuses while a table's backfill is not DONE, or left failed rows behind.
     *
     * @param runner the backfill runner
     * @param tables the source tables whose backfill must be done
     * @return the guard
     */
    public static RampGuard backfillDone(BackfillRunner runner, Collection<String> tables) {
        Objects.requireNonNull(runner, "runner");
        List<String> names = List.copyOf(tables);
        return (from, to) -> {
            List<String> unfinished = new ArrayList<>();
            for (String table : names) {
                try {
                    BackfillProgress progress = runner.progress(table);
                    if (progress.status() != BackfillStatus.DONE) {
                        unfinished.add(table + " is " + progress.status() + " (" + progress.rowsCopied()
                                + (progress.estimatedTotal() < 0 ? "" : " of ~" + progress.estimatedTotal())
                                + " rows copied)");
                    } else if (progress.failedRows() > 0) {
                        unfinished.add(table + " has " + progress.failedRows() + " failed rows still failing; fix their"
                                + " cause (dualwrite_backfill_failure.error says it) and copy them again: backfill"
                                + " action 'retry' on the endpoint, or BackfillRunner.retryFailedRows");
                    }
                } catch (java.sql.SQLException | RuntimeException e) {
                    unfinished.add(table + ": progress unknown (" + e.getMessage() + ")");
                }
            }
            return unfinished.isEmpty() ? Optional.empty()
                    : Optional.of("backfill unfinished: " + String.join(", ", unfinished));
        };
    }

    /**
     * Refuses while the recent confirmed mismatch rate is above a threshold.
     *
     * @param rate the recent rate of confirmed mismatches among compared rows, 0..1
     * @param max the highest rate allowed
     * @return the guard
     */
    public static RampGuard mismatchRateAtMost(DoubleSupplier rate, double max) {
        Objects.requireNonNull(rate, "rate");
        if (!(max >= 0 && max <= 1)) {
            throw new IllegalArgumentException("dualwrite.routing.max-mismatch-rate: " + max + " is outside 0..1");
        }
        return (from, to) -> {
            double current = rate.getAsDouble();
            return current > max ? Optional.of(String.format("confirmed mismatch rate %.4f is above %.4f", current, max))
                    : Optional.empty();
        };
    }

    /**
     * Refuses a step into or within RAMP while too many of this instance's requests of the last minute
     * carried no routing key: such requests take the default route at every percent, so the step would move
     * less traffic than it says (an application that binds no key moves none at RAMP 100). A minute without
     * requests passes. Steps into TARGET_ONLY are not judged: there every request goes to the target.
     *
     * @param requests the counts, {@link MigrationController#keylessRequests()}
     * @param max the highest share of keyless requests allowed, 0..1 ({@code dualwrite.routing.max-keyless-share})
     * @return the guard
     * @throws IllegalArgumentException if {@code max} is outside 0..1
     */
    public static RampGuard keylessShareAtMost(KeylessRequests requests, double max) {
        Objects.requireNonNull(requests, "requests");
        if (!(max >= 0 && max <= 1)) {
            throw new IllegalArgumentException("dualwrite.routing.max-keyless-share: " + max + " is outside 0..1");
        }
        return (from, to) -> {
            if (to.phase() != Phase.RAMP) {
                return Optional.empty();
            }
            KeylessRequests.Share share = requests.lastMinute();
            if (share.ratio() <= max) {
                return Optional.empty();
            }
            return Optional.of(String.format("%s requests on this instance in the last minute carried no routing key and"
                    + " take the default route %s at every percent, above dualwrite.routing.max-keyless-share=%s; bind"
                    + " the key (dualwrite.routing.web.*, @RoutingKey, RoutingContext) before the transaction opens",
                    share, to.defaultRoute(), max));
        };
    }

    /**
     * Refuses while the way back is unproven: a table with a one-way transformer, or a probe through the
     * reverse mirror (rows read on the target, mapped back, written to the source in a rolled-back
     * transaction) that fails. Also refuses a table without a version column a step that would split the
     * routing keys between the stores ({@link RoutingRules#splitsTraffic()}): the barrier keeps
     * each user's writes in order without one, but a row written from both stores (a cross-route write) could
     * then be settled only by a whole-table reconcile, and double reads could not tell lag from a mismatch.
     * Such a table is cut over in one barrier step (percent 100, no deny-list, no user moved back), or gets a
     * version column first.
     *
     * @param tables the mapped tables
     * @param reverse the mirror from the target back to the source, or null when none could be built
     * @return the guard
     */
    public static RampGuard reversePathProven(MappedTables tables, Mirror reverse) {
        return reversePathProven(tables, reverse, rules -> rules.splitsTraffic());
    }

    /**
     * {@link #reversePathProven(MappedTables, Mirror)} for a service that moves users one at a time: whether a
     * step splits the routing keys counts the users moved before ({@link MigrationController#splitsTraffic}), so
     * a table without a version column is refused a first user moved to the target at percent 0, and RAMP 100
     * while a user moved back still writes the source.
     *
     * @param tables the mapped tables
     * @param reverse the mirror from the target back to the source, or null when none could be built
     * @param controller the controller whose control store keeps the moved users' routes
     * @return the guard
     */
    public static RampGuard reversePathProven(MappedTables tables, Mirror reverse, MigrationController controller) {
        Objects.requireNonNull(controller, "controller");
        return reversePathProven(tables, reverse, controller::splitsTraffic);
    }

    /** Whether rules send some routing keys to each store; may read the control store. */
    @FunctionalInterface
    private interface Splits {
        boolean test(RoutingRules rules) throws java.sql.SQLException;
    }

    private static RampGuard reversePathProven(MappedTables tables, Mirror reverse, Splits splits) {
        Objects.requireNonNull(tables, "tables");
        return (from, to) -> {
            List<String> problems = new ArrayList<>();
            boolean split;
            try {
                split = splits.test(to);
            } catch (java.sql.SQLException | RuntimeException e) {
                return Optional.of("reverse path unproven: whether " + to + " sends some routing keys to each store"
                        + " is unknown: the moved users' routes cannot be read (" + e.getMessage() + ")");
            }
            for (MappedTable table : tables.all()) {
                String property = "dualwrite.tables." + table.name();
                if (table.mapping().versionColumn().isEmpty() && split) {
                    problems.add(property + ".version-column: table '" + table.name() + "' has no version column, so"
                            + " it may not take writes on both stores at once (" + to + " sends some routing keys to each):"
                            + " a row written from both sides could be settled only by a whole-table reconcile, and"
                            + " double reads could not tell lag from a mismatch. Add the column (with a database default"
                            + " and ON UPDATE CURRENT_TIMESTAMP, or a trigger), or cut the table over in one barrier"
                            + " step to percent 100 with no deny-list and no user moved back to the source");
                } else if (!table.reversible()) {
                    problems.add(property + ".transformer: table '" + table.name() + "' cannot be mapped back to the"
                            + " source");
                } else if (reverse == null) {
                    problems.add("no mirror from the target back to the source is configured");
                } else {
                    try {
                        reverse.probe(table.name());
                    } catch (java.sql.SQLException | RuntimeException e) {
                        problems.add("probe of the reverse path for table '" + table.name() + "' failed: " + e.getMessage());
                    }
                }
            }
            return problems.isEmpty() ? Optional.empty() : Optional.of("reverse path unproven: " + String.join("; ", problems));
        };
    }
}
