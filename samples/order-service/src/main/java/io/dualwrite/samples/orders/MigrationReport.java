package io.dualwrite.samples.orders;

import java.io.PrintStream;
import java.time.Duration;
import java.util.List;

/**
 * What a migration run did and whether it succeeded: it passed when no application write failed, every
 * step took effect, and the stores were identical at the cut-over.
 *
 * @param stores source and target products, e.g. {@code H2 -> H2}
 * @param historyRows orders in the old store before the migration
 * @param rowsCopied rows the backfill copied
 * @param backfillTook how long the backfill took
 * @param reconcileFound differences the reconcile after the backfill found
 * @param reconcileRepaired of those, rows it repaired
 * @param steps one line per ramp step
 * @param doubleReads double reads compared
 * @param doubleReadMismatches confirmed double-read mismatches
 * @param repairedByDoubleReads rows double reads repaired
 * @param lag mirror lag over the whole run
 * @param load what the simulated users did
 * @param finalDifferences differences the final reconcile found (zero when the stores are identical)
 * @param sourceRows orders in the old store at the cut-over
 * @param targetRows orders in the new store at the cut-over
 * @param rowsDiffering orders that differ when both stores are read through the service's own code
 * @param shards with a sharded new store, each physical shard read directly against the old store's orders
 *     that belong there; empty otherwise
 * @param afterCutOver what happened after TARGET_ONLY, or why it was not reached
 * @param problems why the run failed; empty when it passed
 */
public record MigrationReport(String stores, long historyRows, long rowsCopied, Duration backfillTook,
        long reconcileFound, long reconcileRepaired, List<String> steps, long doubleReads, long doubleReadMismatches,
        long repairedByDoubleReads, LagRecorder.Lags lag, LoadGenerator.Stats load, long finalDifferences,
        long sourceRows, long targetRows, long rowsDiffering, List<ShardComparison.ShardCount> shards,
        String afterCutOver, List<String> problems) {

    /** Copies the lists. */
    public MigrationReport {
        steps = List.copyOf(steps);
        shards = List.copyOf(shards);
        problems = List.copyOf(problems);
    }

    /** @return whether the migration succeeded */
    public boolean passed() {
        return problems.isEmpty();
    }

    /** @return whether both stores held the same orders at the cut-over, by both checks (and on every shard) */
    public boolean identical() {
        return finalDifferences == 0 && rowsDiffering == 0 && sourceRows == targetRows
                && shards.stream().allMatch(shard -> shard.differences() == 0);
    }

    /**
     * Prints the report.
     *
     * @param out where to
     */
    public void print(PrintStream out) {
        out.println();
        out.println("================ dualwrite order-service migration report (" + stores + ") ================");
        line(out, "history", String.format("%,d orders in t_order before the migration", historyRows));
        line(out, "backfill", String.format("%,d rows copied in %.1f s (%,.0f rows/s)", rowsCopied,
                backfillTook.toMillis() / 1000.0, backfillTook.isZero() ? 0.0 : rowsCopied * 1000.0
                        / backfillTook.toMillis()));
        line(out, "reconcile", String.format("%,d differences found after the backfill, %,d repaired", reconcileFound,
                reconcileRepaired));
        for (String step : steps) {
            line(out, "", step);
        }
        line(out, "double reads", String.format("%,d compared, %,d mismatches, %,d rows repaired", doubleReads,
                doubleReadMismatches, repairedByDoubleReads));
        line(out, "mirror lag", lag.toString());
        line(out, "application", String.format("%,d writes, %,d reads; write errors %,d, read errors %,d",
                load.writes(), load.reads(), load.writeErrors(), load.readErrors()));
        for (String error : load.firstErrors()) {
            line(out, "", "error: " + error);
        }
        line(out, afterCutOver.startsWith("not reached") ? "at the end" : "at cut-over", String.format("t_order %,d rows, orders %,d rows; reconciler %,d differences;"
                + " read back through the service %,d differ", sourceRows, targetRows, finalDifferences, rowsDiffering));
        for (ShardComparison.ShardCount shard : shards) {
            line(out, shard == shards.get(0) ? "per shard" : "", shard.toString());
        }
        line(out, "after cut-over", afterCutOver);
        line(out, "result", passed() ? "PASSED: no write errors, stores identical" : "FAILED");
        for (String problem : problems) {
            line(out, "", "- " + problem);
        }
        out.println("==========================================================================================");
    }

    private static void line(PrintStream out, String label, String text) {
        out.printf("%-15s %s%n", label, text);
    }
}
