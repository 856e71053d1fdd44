package io.dualwrite.verify;

import java.time.ZoneId;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.BiPredicate;

/**
 * What counts as "the same value" when a source row, mapped to the target's shape, is compared with the
 * target row: the double reads and the reconciler share one set of rules.
 *
 * <p>Always normalised, because stores legitimately differ there: numbers compare by value whatever their
 * class and scale ({@code 12.5} = {@code 12.50}, {@code 7} = {@code 7L}), booleans equal {@code 1}/{@code 0},
 * trailing spaces of {@code CHAR} columns are ignored, JSON columns compare as JSON, and timestamps compare
 * as wall-clock times in {@link #zone()} within {@link #timestampPrecision()} (so {@code 10:00:00.123456}
 * read from a {@code DATETIME(6)} equals {@code 10:00:00.123} in a {@code TIMESTAMP(3)}, rounded or cut).
 * Configured here: columns left out of the comparison, columns whose values never reach a log line
 * (masked), and per-column equivalences for anything else.
 *
 * <p>Tables are source table names as mapped; columns are target column names (a masked or ignored
 * column may also be named by its source name). Immutable.
 *
 * <pre>{@code
 * ComparisonRules rules = ComparisonRules.builder()
 *         .ignore("t_order", "gmt_create")
 *         .mask("t_order", "card_no", "phone")
 *         .equivalence("t_order", "note", (source, target) -> source == null && "".equals(target))
 *         .build();
 * }</pre>
 */
public final class ComparisonRules {

    private static final ComparisonRules DEFAULTS = builder().build();

    private final Map<String, Set<String>> ignored;
    private final Map<String, Set<String>> masked;
    private final Map<String, Map<String, BiPredicate<Object, Object>>> equivalences;
    private final ChronoUnit timestampPrecision;
    private final ZoneId zone;

    private ComparisonRules(Builder b) {
        this.ignored = freeze(b.ignored);
        this.masked = freeze(b.masked);
        Map<String, Map<String, BiPredicate<Object, Object>>> copy = new LinkedHashMap<>();
        b.equivalences.forEach((table, columns) -> copy.put(table, Collections.unmodifiableMap(
                new LinkedHashMap<>(columns))));
        this.equivalences = Collections.unmodifiableMap(copy);
        this.timestampPrecision = b.timestampPrecision;
        this.zone = b.zone;
    }

    private static Map<String, Set<String>> freeze(Map<String, Set<String>> map) {
        Map<String, Set<String>> copy = new LinkedHashMap<>();
        map.forEach((table, columns) -> copy.put(table, Collections.unmodifiableSet(new LinkedHashSet<>(columns))));
        return Collections.unmodifiableMap(copy);
    }

    /** @return a new builder */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the rules with nothing configured: the built-in normalisation only */
    public static ComparisonRules defaults() {
        return DEFAULTS;
    }

    /**
     * @param table a source table
     * @return the columns left out of the comparison, lower case
     */
    public Set<String> ignored(String table) {
        return ignored.getOrDefault(key(table), Set.of());
    }

    /**
     * @param table a source table
     * @return the columns whose values never appear in a mismatch, lower case
     */
    public Set<String> masked(String table) {
        return masked.getOrDefault(key(table), Set.of());
    }

    /**
     * @param table a source table
     * @return column (lower case) to the predicate that declares two values equal
     */
    public Map<String, BiPredicate<Object, Object>> equivalences(String table) {
        return equivalences.getOrDefault(key(table), Map.of());
    }

    /** @return timestamps closer than one of this unit are equal; default milliseconds */
    public ChronoUnit timestampPrecision() {
        return timestampPrecision;
    }

    /** @return the zone zone-less timestamps are read in, to compare them with zoned ones; default the JVM's */
    public ZoneId zone() {
        return zone;
    }

    private static String key(String table) {
        return table.toLowerCase(Locale.ROOT);
    }

    /** Builds {@link ComparisonRules}; every setting is checked as it is given. */
    public static final class Builder {

        private final Map<String, Set<String>> ignored = new LinkedHashMap<>();
        private final Map<String, Set<String>> masked = new LinkedHashMap<>();
        private final Map<String, Map<String, BiPredicate<Object, Object>>> equivalences = new LinkedHashMap<>();
        private ChronoUnit timestampPrecision = ChronoUnit.MILLIS;
        private ZoneId zone = ZoneId.systemDefault();

        private Builder() {
        }

        /**
         * Leaves columns out of the comparison (for example a column only one store fills).
         *
         * @param table the source table
         * @param columns target (or source) column names
         * @return this builder
         * @throws IllegalArgumentException if a name is blank
         */
        public Builder ignore(String table, String... columns) {
            add(ignored, "dualwrite.verify.tables." + table + ".ignore-columns", table, columns);
            return this;
        }

        /**
         * Keeps columns' values out of every mismatch line and event: a differing masked column is
         * named, its values never shown.
         *
         * @param table the source table
         * @param columns target (or source) column names
         * @return this builder
         * @throws IllegalArgumentException if a name is blank
         */
        public Builder mask(String table, String... columns) {
            add(masked, "dualwrite.verify.tables." + table + ".mask-columns", table, columns);
            return this;
        }

        /**
         * Declares when two values of a column are equal beyond the built-in normalisation; asked before it,
         * with the mapped source value and the target value as read.
         *
         * @param table the source table
         * @param column the target column
         * @param equal returns true when the values are to be taken as equal
         * @return this builder
         * @throws IllegalArgumentException if the column is blank
         * @throws NullPointerException if the predicate is null
         */
        public Builder equivalence(String table, String column, BiPredicate<Object, Object> equal) {
            String property = "dualwrite.verify.tables." + table + ".equivalences";
            Objects.requireNonNull(equal, property + ": the predicate is null");
            equivalences.computeIfAbsent(tableKey(property, table), t -> new LinkedHashMap<>())
                    .put(column(property, column), equal);
            return this;
        }

        /**
         * Sets how close two timestamps must be to be equal: {@code MILLIS} takes a {@code TIMESTAMP(6)} and
         * its copy in a {@code TIMESTAMP(3)} as equal, whether the store cut or rounded it.
         *
         * @param unit from {@code NANOS} to {@code SECONDS}
         * @return this builder
         * @throws IllegalArgumentException for a coarser unit
         */
        public Builder timestampPrecision(ChronoUnit unit) {
            if (unit == null || unit.compareTo(ChronoUnit.SECONDS) > 0) {
                throw new IllegalArgumentException("dualwrite.verify.timestamp-precision: must be NANOS, MICROS,"
                        + " MILLIS or SECONDS, was " + unit);
            }
            this.timestampPrecision = unit;
            return this;
        }

        /**
         * Sets the zone in which zone-less timestamps ({@code DATETIME}, {@code TIMESTAMP}) are read when they
         * are compared with zoned ones ({@code TIMESTAMPTZ}).
         *
         * @param zone the zone; default the JVM's
         * @return this builder
         * @throws NullPointerException if null
         */
        public Builder zone(ZoneId zone) {
            this.zone = Objects.requireNonNull(zone, "dualwrite.verify.zone: the zone is null");
            return this;
        }

        /** @return the rules */
        public ComparisonRules build() {
            return new ComparisonRules(this);
        }

        private static void add(Map<String, Set<String>> map, String property, String table, String... columns) {
            Set<String> set = map.computeIfAbsent(tableKey(property, table), t -> new LinkedHashSet<>());
            for (String column : columns) {
                set.add(column(property, column));
            }
        }

        private static String tableKey(String property, String table) {
            if (table == null || table.isBlank()) {
                throw new IllegalArgumentException(property + ": the table name is blank");
            }
            return key(table);
        }

        private static String column(String property, String column) {
            if (column == null || column.isBlank()) {
                throw new IllegalArgumentException(property + ": a column name is blank");
            }
            return column.trim().toLowerCase(Locale.ROOT);
        }
    }
}
