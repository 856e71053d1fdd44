package io.dualwrite.verify;

import io.dualwrite.jdbc.RowKey;
import java.time.Duration;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * What one {@link Reconciler} run found. Counts cover the whole job, including the chunks an earlier,
 * interrupted run of the same table and window compared before this one resumed.
 *
 * @param table the source table
 * @param complete whether the whole table (or window) was compared; false when the time budget ran out
 * @param compared source rows compared (in the window, if one was set)
 * @param missingInTarget rows the source has and the target lacks
 * @param extraInTarget rows the target has and the source lacks
 * @param different rows both have, with different values
 * @param repaired rows repaired
 * @param unrepaired differing rows left unrepaired (a dry run leaves all of them)
 * @param samples up to {@link ReconcileConfig#sampleKeys()} source keys per kind of difference
 * @param chunks chunks compared by this run
 * @param checksumChunks of those, chunks settled by their checksum without reading rows
 * @param repairProblems why repairs were refused or failed, distinct messages: a refused route, and the first
 *     rows the target would not take (key and the database's error)
 * @param took how long this run took
 * @param shards when the source table is sharded, each unit of work's own counts: every physical source shard, then
 *     the walk of the target for rows no shard holds ({@code "target"}); the counts above are then their sums over
 *     the round, whichever instance compared each unit. Otherwise empty
 */
public record ReconcileReport(String table, boolean complete, long compared, long missingInTarget,
        long extraInTarget, long different, long repaired, long unrepaired, Map<Mismatch.Kind, List<RowKey>> samples,
        long chunks, long checksumChunks, List<String> repairProblems, Duration took, List<Shard> shards) {

    /**
     * One unit of a sharded source's reconcile, from its checkpoint.
     *
     * @param unit the physical source shard ({@code dataSource.table}), or {@code "target"} for the target walk
     * @param done whether the unit is compared in this round
     * @param compared source rows of this shard compared
     * @param missingInTarget rows of this shard the target lacks
     * @param extraInTarget target rows no shard holds (the target walk only)
     * @param different rows of this shard that differ in the target
     * @param repaired rows repaired
     * @param unrepaired differing rows left unrepaired
     * @param owner the instance ({@link ReconcileConfig#owner()}) that last held the unit's lease, if any
     */
    public record Shard(String unit, boolean done, long compared, long missingInTarget, long extraInTarget,
            long different, long repaired, long unrepaired, java.util.Optional<String> owner) {

        /** @return every difference found in this unit */
        public long differences() {
            return missingInTarget + extraInTarget + different;
        }
    }

    /** A report of a table whose source is not sharded. */
    public ReconcileReport(String table, boolean complete, long compared, long missingInTarget, long extraInTarget,
            long different, long repaired, long unrepaired, Map<Mismatch.Kind, List<RowKey>> samples, long chunks,
            long checksumChunks, List<String> repairProblems, Duration took) {
        this(table, complete, compared, missingInTarget, extraInTarget, different, repaired, unrepaired, samples,
                chunks, checksumChunks, repairProblems, took, List.of());
    }

    /** Copies the collections. */
    public ReconcileReport {
        shards = List.copyOf(shards);
        EnumMap<Mismatch.Kind, List<RowKey>> copy = new EnumMap<>(Mismatch.Kind.class);
        samples.forEach((kind, keys) -> copy.put(kind, List.copyOf(keys)));
        samples = java.util.Collections.unmodifiableMap(copy);
        repairProblems = List.copyOf(repairProblems);
    }

    /** @return every difference found: missing, extra and different rows */
    public long differences() {
        return missingInTarget + extraInTarget + different;
    }

    /**
     * @param kind a kind of difference
     * @return the sample keys of that kind
     */
    public List<RowKey> samples(Mismatch.Kind kind) {
        return samples.getOrDefault(kind, List.of());
    }

    @Override
    public String toString() {
        return "reconcile of " + table + (complete ? "" : " (incomplete)") + ": " + compared + " rows compared, "
                + missingInTarget + " missing in target, " + extraInTarget + " extra in target, " + different
                + " different, " + repaired + " repaired, " + unrepaired + " unrepaired; samples " + samples + " ("
                + chunks + " chunks, " + checksumChunks + " by checksum, " + took.toMillis() + " ms)"
                + (repairProblems.isEmpty() ? "" : "; repair problems: " + String.join("; ", repairProblems))
                + (shards.isEmpty() ? "" : "; " + shards.stream().filter(Shard::done).count() + "/" + shards.size()
                        + " units done");
    }
}
