package io.dualwrite.ids;

import io.dualwrite.ids.IdCounter.Reading;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.mapping.KeyMapping;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.RampGuard;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.StepPreparation;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Keeps the ids the stores generate from colliding when the target starts taking inserts. A backfill and
 * the mirror copy rows with their ids, which never moves a sequence: after them the target's counter still
 * stands where it started, and its first generated id is one the source already holds. During RAMP both
 * stores take inserts, and the mirror carries each store's new rows into the other, where a row of the
 * same id is overwritten as if it were an older version of it.
 *
 * <h2>What it does at each step</h2>
 * Registered on the controller as a {@link #preparation()} (work before the step is written as pending)
 * and a {@link #guard()} (a check before steps that send traffic to the target):
 * <ul>
 * <li><b>Into RAMP</b> the counters are split by the {@link IdStrategy}: disjoint ranges, or odd and even
 *     ids. The guard first refuses a split that cannot work (two MariaDB stores with disjoint ranges; a
 *     MariaDB pool without the interleaving session variables; a range beyond the column type).</li>
 * <li><b>Within RAMP</b> the guard refuses a step sending more traffic to the target while the counters
 *     are not apart any more: a disjoint range nearly used up, a sequence whose increment was reset.</li>
 * <li><b>Into TARGET_ONLY</b> the target's counter is moved past every id either store holds or has handed
 *     out, and loses its cap and interleaving: from now on it alone generates ids. <b>Back from RAMP</b> (a
 *     rollback to DUAL_WRITE) the source's counter is treated the same way.</li>
 * </ul>
 * Only tables with one key column, the identity key mapping and a generated key on both stores are
 * handled; {@link #tables()} lists them. On a sharded target each physical table has a counter of its own, on its
 * own real database: every move spreads them over the ids given to the target ({@link ShardedIdCounter}), so that
 * no two shards hand out the same id either.
 *
 * <h2>Races</h2>
 * The source takes inserts while its counter is moved. A MariaDB {@code ALTER TABLE ... AUTO_INCREMENT}
 * waits for every transaction that wrote the table, so the ids handed out before it are all visible after
 * it. A sequence makes no such wait: ids drawn between the reading and the move are covered by starting
 * every new range {@value #SLACK} ids above what was read. More inserts than that into one table within
 * those few milliseconds could still land in the other store's range. Every move goes forward only, so two
 * instances preparing at once waste ids but never hand one out twice.
 */
public final class IdAlignment {

    /**
     * Runs between the high store's counter move and the reading of the ids it handed out before: the
     * regression test inserts there, as the application's load does.
     */
    static volatile Runnable afterHighMoveForTesting = () -> { };

    private static final Log log = LogFactory.getLog(IdAlignment.class);

    /** The gap left between what was read and a new start, for ids drawn while counters are moved. */
    public static final long SLACK = 1000;

    private final MappedTables tables;
    private final DataSource source;
    private final DataSource target;
    private final IdStrategy strategy;
    private final long range;
    private volatile List<Pair> pairs;

    private IdAlignment(Builder builder) {
        this.tables = builder.tables;
        this.source = builder.source;
        this.target = builder.target;
        this.strategy = builder.strategy;
        this.range = builder.range;
    }

    /**
     * Starts a builder.
     *
     * @param tables the mapped tables
     * @param source the source as the application inserts into it (its pool's session settings are checked)
     * @param target the target as the application inserts into it
     * @return the builder
     */
    public static Builder builder(MappedTables tables, DataSource source, DataSource target) {
        return new Builder(tables, source, target);
    }

    /** @return the strategy */
    public IdStrategy strategy() {
        return strategy;
    }

    /** @return the work to register with {@code MigrationController.addPreparation} */
    public StepPreparation preparation() {
        return this::prepare;
    }

    /** @return the check to register with {@code MigrationController.addGuard} */
    public RampGuard guard() {
        return this::check;
    }

    /**
     * The tables whose generated ids are aligned, with their counters now.
     *
     * @return one line per table, e.g. {@code owners: source next 1043, target next 1001 (capped at 100001000)}
     * @throws SQLException if a store cannot be read
     */
    public List<String> tables() throws SQLException {
        List<String> lines = new ArrayList<>();
        try (LibraryWork.Scope work = LibraryWork.enter(); Connection s = source.getConnection();
                Connection t = target.getConnection()) {
            for (Pair pair : pairs(s, t)) {
                Reading sr = pair.source.read(s);
                Reading tr = pair.target.read(t);
                lines.add(pair.name + ": source " + show(sr) + ", target " + show(tr));
            }
        }
        return lines;
    }

    private static String show(Reading reading) {
        return "next " + reading.next() + (reading.increment() == 1 ? "" : " by " + reading.increment())
                + (reading.capped() ? " (capped at " + reading.cap() + ")" : "");
    }

    private Optional<String> check(RoutingRules from, RoutingRules to) {
        if (strategy == IdStrategy.NONE || to.phase() != Phase.RAMP) {
            return Optional.empty();
        }
        try (LibraryWork.Scope work = LibraryWork.enter(); Connection s = source.getConnection();
                Connection t = target.getConnection()) {
            List<String> problems = new ArrayList<>();
            for (Pair pair : pairs(s, t)) {
                if (from.phase() == Phase.RAMP) {
                    stillApart(pair, s, t).ifPresent(problems::add);
                } else {
                    splittable(pair, s, t).ifPresent(problems::add);
                }
            }
            return problems.isEmpty() ? Optional.empty()
                    : Optional.of("generated ids could collide: " + String.join("; ", problems));
        } catch (SQLException e) {
            return Optional.of("generated ids could not be checked: " + e.getMessage());
        }
    }

    private Optional<String> prepare(RoutingRules from, RoutingRules to) throws SQLException {
        if (strategy == IdStrategy.NONE) {
            return Optional.empty();
        }
        boolean intoRamp = to.phase() == Phase.RAMP && from.phase() != Phase.RAMP;
        boolean intoTargetOnly = to.phase() == Phase.TARGET_ONLY && from.phase() != Phase.TARGET_ONLY;
        boolean backToSource = to.phase().sourceIsPrimaryOfEveryRow() && !from.phase().sourceIsPrimaryOfEveryRow();
        if (!intoRamp && !intoTargetOnly && !backToSource) {
            return Optional.empty();
        }
        try (LibraryWork.Scope work = LibraryWork.enter(); Connection s = source.getConnection();
                Connection t = target.getConnection()) {
            s.setAutoCommit(true);
            t.setAutoCommit(true);
            List<String> problems = new ArrayList<>();
            for (Pair pair : pairs(s, t)) {
                Optional<String> problem = intoRamp ? split(pair, s, t)
                        : intoTargetOnly ? settle(pair, pair.target, t, pair.source, s)
                        : settle(pair, pair.source, s, pair.target, t);
                problem.ifPresent(problems::add);
            }
            return problems.isEmpty() ? Optional.empty()
                    : Optional.of("generated ids could not be kept apart: " + String.join("; ", problems));
        }
    }

    /** Refuses a split that cannot work, before anything is moved. */
    private Optional<String> splittable(Pair pair, Connection s, Connection t) throws SQLException {
        Optional<String> unspreadable = unspreadable(pair);
        if (unspreadable.isPresent()) {
            return unspreadable;
        }
        if (strategy == IdStrategy.DISJOINT) {
            if (pair.source.followsExplicitIds() && pair.target.followsExplicitIds()) {
                return Optional.of("dualwrite.ids.strategy=DISJOINT: table " + pair.name + " generates ids with"
                        + " AUTO_INCREMENT on both stores, and each counter follows the ids the mirror copies in from"
                        + " the other, so no range stays apart; use dualwrite.ids.strategy=INTERLEAVE");
            }
            Reading sr = pair.source.read(s);
            Reading tr = pair.target.read(t);
            IdCounter high = high(pair);
            long typeMax = Math.min(sr.typeMax(), tr.typeMax());
            long free = Math.max(sr.free(), tr.free());
            if (free > typeMax - SLACK - range) {
                return Optional.of("dualwrite.ids.range=" + range + ": table " + pair.name + " has ids up to " + (free - 1)
                        + ", and a range of that size with its start for " + high.describe() + " above it would pass"
                        + " the column's highest value " + typeMax + "; choose a smaller range");
            }
            return Optional.empty();
        }
        return interleaved(pair, s, t, false);
    }

    /** In RAMP: whether the split still holds. */
    private Optional<String> stillApart(Pair pair, Connection s, Connection t) throws SQLException {
        if (strategy == IdStrategy.INTERLEAVE) {
            return interleaved(pair, s, t, true);
        }
        IdCounter high = high(pair);
        IdCounter low = high == pair.source ? pair.target : pair.source;
        Reading h = high == pair.source ? high.read(s) : high.read(t);
        Reading l = low == pair.source ? low.read(s) : low.read(t);
        // Counters, not the tables' highest ids: each table also holds the rows copied in from the other.
        if (!l.capped() || l.cap() >= h.next()) {
            return Optional.of("table " + pair.name + ": the range of " + low.describe() + " (next " + l.next()
                    + (l.capped() ? ", capped at " + l.cap() : ", no cap") + ") is not below " + high.describe()
                    + " (next " + h.next() + "); step back to DUAL_WRITE and into RAMP again, so that dualwrite"
                    + " splits them anew");
        }
        long left = l.cap() - l.next() + 1;
        if (left < range / 10) {
            return Optional.of("table " + pair.name + ": only " + left + " ids are left in the range of " + low.describe()
                    + " (capped at " + l.cap() + "); step back to DUAL_WRITE and into RAMP again for a new range"
                    + " (dualwrite.ids.range=" + range + ")");
        }
        return Optional.empty();
    }

    /**
     * Whether both stores generate ids of their own parity, or, before the split ({@code split} false),
     * whether MariaDB's sessions are set up for it (the sequences are set by the split itself).
     */
    private Optional<String> interleaved(Pair pair, Connection s, Connection t, boolean split) throws SQLException {
        List<String> problems = new ArrayList<>();
        checkParity(pair.source, s, 1, "source", split).ifPresent(problems::add);
        checkParity(pair.target, t, 0, "target", split).ifPresent(problems::add);
        return problems.isEmpty() ? Optional.empty() : Optional.of("table " + pair.name + ": " + String.join(", ", problems));
    }

    private static Optional<String> checkParity(IdCounter counter, Connection connection, int parity, String store,
            boolean split) throws SQLException {
        if (counter instanceof IdCounter.MariaDb) {
            long[] series = IdCounter.MariaDb.sessionSeries(connection);
            if (series[0] != 2 || series[1] % 2 != parity) {
                return Optional.of("dualwrite.ids.strategy=INTERLEAVE needs the " + store + "'s MariaDB sessions to"
                        + " generate " + (parity == 1 ? "odd" : "even") + " ids, but a connection of its pool has"
                        + " auto_increment_increment=" + series[0] + " and auto_increment_offset=" + series[1]
                        + "; add sessionVariables=auto_increment_increment=2,auto_increment_offset=" + (parity == 1 ? 1 : 2)
                        + " to the " + store + "'s JDBC URL (or set both variables globally and renew the pool)");
            }
            return Optional.empty();
        }
        if (!split) {
            return Optional.empty();
        }
        Reading reading = counter.read(connection);
        if (reading.increment() != 2 || Math.floorMod(reading.next(), 2) != parity) {
            return Optional.of(counter.describe() + " generates next " + reading.next() + " by " + reading.increment()
                    + ", not " + (parity == 1 ? "odd" : "even") + " ids by 2; step back to DUAL_WRITE and into RAMP"
                    + " again, so that dualwrite sets it");
        }
        return Optional.empty();
    }

    /** The store that takes the high range: MariaDB's counter follows the low ids copied in, never into them. */
    private static IdCounter high(Pair pair) {
        return pair.target.followsExplicitIds() && !pair.source.followsExplicitIds() ? pair.target : pair.source;
    }

    private Optional<String> split(Pair pair, Connection s, Connection t) throws SQLException {
        Optional<String> refused = splittable(pair, s, t);
        if (refused.isPresent()) {
            return refused;
        }
        Reading sr = pair.source.read(s);
        Reading tr = pair.target.read(t);
        long base = Math.max(sr.free(), tr.free()) + SLACK;
        if (strategy == IdStrategy.INTERLEAVE) {
            // The target first: it takes no inserts yet, and the source's ids drawn meanwhile stay below base.
            pair.target.set(t, base % 2 == 0 ? base : base + 1, 2, 0);
            pair.source.set(s, base % 2 == 1 ? base : base + 1, 2, 0);
            log.info("dualwrite ids of " + pair.name + " interleaved from " + base + ": source odd, target even");
            return Optional.empty();
        }
        IdCounter high = high(pair);
        IdCounter low = high == pair.source ? pair.target : pair.source;
        Connection hc = high == pair.source ? s : t;
        Connection lc = low == pair.source ? s : t;
        Reading l = low.read(lc);
        if (l.capped() && l.cap() - l.next() + 1 >= range / 10 && high.read(hc).next() > l.cap()) {
            log.info("dualwrite ids of " + pair.name + " are already apart: " + low.describe() + " up to " + l.cap());
            return Optional.empty();
        }
        long highStart = base + range;
        high.set(hc, highStart, 1, 0);
        afterHighMoveForTesting.run();
        // After the move, every id the high store handed out before it is in a committed row (MariaDB) or
        // below base (a sequence, SLACK). Inserts committed since took the new range, from highStart: counting
        // them (MAX(id) over the whole table) refused the step under any insert load (the clinic sample).
        long lowStart = Math.max(base, Math.max(high.maxIdBelow(hc, highStart) + 1, low.read(lc).free()));
        if (lowStart >= highStart) {
            return Optional.of("table " + pair.name + ": " + high.describe() + " moved past " + lowStart
                    + " while its counter was being moved; ask for the step again");
        }
        low.set(lc, lowStart, 1, highStart - 1);
        log.info("dualwrite ids of " + pair.name + " split: " + low.describe() + " takes " + lowStart + ".."
                + (highStart - 1) + ", " + high.describe() + " goes on from " + highStart);
        return Optional.empty();
    }

    /**
     * A sharded table's physical counters must be spread over the ids (see {@link ShardedIdCounter}); MariaDB's
     * AUTO_INCREMENT takes no increment of its own, so its shards would hand out the same ids.
     */
    private static Optional<String> unspreadable(Pair pair) {
        for (IdCounter counter : List.of(pair.source, pair.target)) {
            if (counter instanceof ShardedIdCounter sharded && !sharded.spreadable()) {
                return Optional.of("table " + pair.name + ": " + counter.describe() + " generates ids with"
                        + " AUTO_INCREMENT on each physical table, which dualwrite cannot keep apart from each other;"
                        + " generate the key in the application (dualwrite's segment ids, or a key generator the"
                        + " library's copies do not fight), or set dualwrite.ids.strategy=NONE and keep them apart"
                        + " yourself");
            }
        }
        return Optional.empty();
    }

    /** Moves the store that takes every insert from now on past every id in use, uncapped, one by one. */
    private Optional<String> settle(Pair pair, IdCounter sole, Connection soleConnection, IdCounter other,
            Connection otherConnection) throws SQLException {
        Optional<String> unspreadable = unspreadable(pair);
        if (unspreadable.isPresent()) {
            return unspreadable;
        }
        Reading mine = sole.read(soleConnection);
        Reading theirs = other.read(otherConnection);
        long free = Math.max(mine.free(), theirs.free());
        // Behind: ids drawn while it is moved must stay below the new start.
        sole.set(soleConnection, mine.next() >= free ? 0 : free + SLACK, 1, 0);
        log.info("dualwrite ids of " + pair.name + ": " + sole.describe() + " now takes every insert, from "
                + sole.read(soleConnection).next()
                + (sole instanceof IdCounter.MariaDb && mine.increment() != 1 ? " (its sessions still step by "
                + mine.increment() + ": auto_increment_increment and auto_increment_offset may be reset)" : ""));
        return Optional.empty();
    }

    private List<Pair> pairs(Connection s, Connection t) throws SQLException {
        List<Pair> found = pairs;
        if (found != null) {
            return found;
        }
        found = new ArrayList<>();
        for (MappedTable table : tables.all()) {
            if (table.mapping().keyMapping() != KeyMapping.identity() || table.source().keyColumns().size() != 1) {
                continue;
            }
            Optional<IdCounter> sourceCounter = IdCounter.find(s, table.source().dialect(), table.source().table(),
                    table.source().keyColumns().get(0));
            // A sharded target's ids come from each physical table's own counter, on its own real database.
            Optional<IdCounter> targetCounter = table.target().shardLayout().isPresent()
                    ? ShardedIdCounter.find(t, table.target(), table.target().keyColumns().get(0))
                    : IdCounter.find(t, table.target().dialect(), table.target().table(),
                            table.target().keyColumns().get(0));
            if (sourceCounter.isPresent() && targetCounter.isPresent()) {
                found.add(new Pair(table.name(), sourceCounter.get(), targetCounter.get()));
            } else if (sourceCounter.isPresent() || targetCounter.isPresent()) {
                log.info("dualwrite ids: table " + table.name() + " generates its key on the "
                        + (sourceCounter.isPresent() ? "source" : "target") + " only; its ids are not aligned");
            }
        }
        pairs = List.copyOf(found);
        return pairs;
    }

    private record Pair(String name, IdCounter source, IdCounter target) {
    }

    /** Builds an {@link IdAlignment}. */
    public static final class Builder {

        private final MappedTables tables;
        private final DataSource source;
        private final DataSource target;
        private IdStrategy strategy = IdStrategy.DISJOINT;
        private long range = 100_000_000L;

        private Builder(MappedTables tables, DataSource source, DataSource target) {
            this.tables = Objects.requireNonNull(tables, "tables");
            this.source = Objects.requireNonNull(source, "source");
            this.target = Objects.requireNonNull(target, "target");
        }

        /**
         * @param strategy how ids are kept apart during RAMP; default DISJOINT
         * @return this builder
         */
        public Builder strategy(IdStrategy strategy) {
            this.strategy = Objects.requireNonNull(strategy, "dualwrite.ids.strategy");
            return this;
        }

        /**
         * @param range how many ids the capped store may generate per table during one stay in RAMP, with
         *     DISJOINT; default 100,000,000
         * @return this builder
         * @throws IllegalArgumentException if it is below 10,000
         */
        public Builder range(long range) {
            if (range < 10_000) {
                throw new IllegalArgumentException("dualwrite.ids.range: " + range + " is below 10000 ids");
            }
            this.range = range;
            return this;
        }

        /** @return the alignment */
        public IdAlignment build() {
            return new IdAlignment(this);
        }
    }
}
