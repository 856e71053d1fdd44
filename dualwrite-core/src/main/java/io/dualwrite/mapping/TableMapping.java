package io.dualwrite.mapping;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * How one source table maps to one target table: target name, key columns, version column, column
 * renames, ignored columns, value converters, constants for new target columns, column splits, key
 * mapping and, for anything else, a {@link RowTransformer}. Immutable; build it with
 * {@link #builder(String)}. Column names are case-insensitive.
 *
 * <pre>{@code
 * TableMapping.builder("t_order")
 *     .targetTable("orders")
 *     .rename("amount", "amount_cents")
 *     .convert("amount", Converters.decimalToMinorUnits(2))
 *     .convert("attributes", Converters.json())
 *     .split("buyer_name", Converters.splitOnFirst(" "), "buyer_first_name", "buyer_last_name")
 *     .constant("currency", "EUR")
 *     .ignore("legacy_flag")
 *     .keyMapping(KeyMapping.offset(10_000_000))
 *     .build();
 * }</pre>
 */
public final class TableMapping {

    /** The version column a table has unless told otherwise. */
    public static final String DEFAULT_VERSION_COLUMN = "gmt_modified";

    private final String sourceTable;
    private final String targetTable;
    private final List<String> keyColumns;
    private final String versionColumn;
    private final String routingColumn;
    private final boolean immutableShardingColumn;
    private final Map<String, String> renames;
    private final Set<String> ignoredColumns;
    private final RowTransformer transformer;
    private final Map<String, ColumnConverter> converters;
    private final Map<String, Split> splits;
    private final Map<String, Object> constants;
    private final KeyMapping keyMapping;

    /**
     * One source column written to several target columns.
     *
     * @param targetColumns the target columns, lower case, in the order of the converter's parts
     * @param converter turns the source value into a {@link List} with one value per target column,
     *     and such a list back into the source value
     */
    public record Split(List<String> targetColumns, ColumnConverter converter) {

        /**
         * Creates a split, copying the column list.
         *
         * @param targetColumns the target columns
         * @param converter the converter
         */
        public Split {
            targetColumns = List.copyOf(targetColumns);
            Objects.requireNonNull(converter, "converter");
        }
    }

    private TableMapping(Builder builder) {
        this.sourceTable = builder.sourceTable;
        this.targetTable = builder.targetTable == null ? builder.sourceTable : builder.targetTable;
        this.keyColumns = List.copyOf(builder.keyColumns);
        this.versionColumn = builder.versionColumn;
        this.routingColumn = builder.routingColumn;
        this.immutableShardingColumn = builder.immutableShardingColumn;
        this.renames = Collections.unmodifiableMap(new LinkedHashMap<>(builder.renames));
        this.ignoredColumns = Collections.unmodifiableSet(new LinkedHashSet<>(builder.ignored));
        this.transformer = builder.transformer;
        this.converters = Collections.unmodifiableMap(new LinkedHashMap<>(builder.converters));
        this.splits = Collections.unmodifiableMap(new LinkedHashMap<>(builder.splits));
        this.constants = Collections.unmodifiableMap(new LinkedHashMap<>(builder.constants));
        this.keyMapping = builder.keyMapping;
    }

    /**
     * Starts a mapping for a source table.
     *
     * @param sourceTable the source table's name, optionally {@code schema.table}
     * @return a builder
     * @throws IllegalArgumentException if the name is blank
     */
    public static Builder builder(String sourceTable) {
        return new Builder(sourceTable);
    }

    /** @return the source table's name as configured */
    public String sourceTable() {
        return sourceTable;
    }

    /** @return the target table's name (the source table's name unless set) */
    public String targetTable() {
        return targetTable;
    }

    /** @return the configured key columns (source names, lower case); empty means the primary key */
    public List<String> keyColumns() {
        return keyColumns;
    }

    /** @return the version column (source name), or empty for a table without one */
    public Optional<String> versionColumn() {
        return Optional.ofNullable(versionColumn);
    }

    /** @return the routing column (source name) used during RAMP, or empty */
    public Optional<String> routingColumn() {
        return Optional.ofNullable(routingColumn);
    }

    /**
     * Whether the application promises never to change a row's sharding column on a sharded target whose key does
     * not hold it ({@code dualwrite.tables.<table>.immutable-sharding-column}).
     *
     * @return true when the promise is given
     */
    public boolean immutableShardingColumn() {
        return immutableShardingColumn;
    }

    /** @return source column to target column renames (lower case) */
    public Map<String, String> renames() {
        return renames;
    }

    /** @return source columns that are not copied (lower case) */
    public Set<String> ignoredColumns() {
        return ignoredColumns;
    }

    /** @return the transformer, or empty for the declarative mapping */
    public Optional<RowTransformer> transformer() {
        return Optional.ofNullable(transformer);
    }

    /** @return source column to the converter of its values (lower case) */
    public Map<String, ColumnConverter> converters() {
        return converters;
    }

    /** @return source column to the target columns it is split into (lower case) */
    public Map<String, Split> splits() {
        return splits;
    }

    /** @return target column to the constant written to it (lower case) */
    public Map<String, Object> constants() {
        return constants;
    }

    /** @return how keys map between the stores; {@link KeyMapping#identity()} unless set */
    public KeyMapping keyMapping() {
        return keyMapping;
    }

    @Override
    public String toString() {
        return "TableMapping[" + sourceTable + " -> " + targetTable + "]";
    }

    /** Builds a {@link TableMapping}; single settings are checked as they are set, combinations in {@link #build()}. */
    public static final class Builder {

        private final String sourceTable;
        private String targetTable;
        private final List<String> keyColumns = new ArrayList<>();
        private String versionColumn = DEFAULT_VERSION_COLUMN;
        private String routingColumn;
        private boolean immutableShardingColumn;
        private final Map<String, String> renames = new LinkedHashMap<>();
        private final Set<String> ignored = new LinkedHashSet<>();
        private RowTransformer transformer;
        private final Map<String, ColumnConverter> converters = new LinkedHashMap<>();
        private final Map<String, Split> splits = new LinkedHashMap<>();
        private final Map<String, Object> constants = new LinkedHashMap<>();
        private KeyMapping keyMapping = KeyMapping.identity();

        private Builder(String sourceTable) {
            this.sourceTable = requireName(sourceTable, "source table");
        }

        /**
         * Sets the target table (default: the source table's name).
         *
         * @param targetTable the name, optionally {@code schema.table}
         * @return this builder
         * @throws IllegalArgumentException if the name is blank
         */
        public Builder targetTable(String targetTable) {
            this.targetTable = requireName(targetTable, "dualwrite.tables." + sourceTable + ".target-table");
            return this;
        }

        /**
         * Sets the key columns (default: the source table's primary key).
         *
         * @param columns source column names in key order
         * @return this builder
         * @throws IllegalArgumentException if a name is blank or repeated
         */
        public Builder keyColumns(String... columns) {
            keyColumns.clear();
            for (String column : columns) {
                String name = lower(requireName(column, "dualwrite.tables." + sourceTable + ".key-columns"));
                if (keyColumns.contains(name)) {
                    throw new IllegalArgumentException("dualwrite.tables." + sourceTable + ".key-columns: column '"
                            + column + "' is listed twice");
                }
                keyColumns.add(name);
            }
            return this;
        }

        /**
         * Sets the version column (default {@value TableMapping#DEFAULT_VERSION_COLUMN}).
         *
         * @param column the source column holding the row's last-modified time
         * @return this builder
         * @throws IllegalArgumentException if the name is blank
         */
        public Builder versionColumn(String column) {
            this.versionColumn = lower(requireName(column, "dualwrite.tables." + sourceTable + ".version-column"));
            return this;
        }

        /**
         * Declares that the table has no version column: it can be dual-written (the apply's lock still
         * orders writes) and cut over by the ramp barrier in one step (to percent 100), but
         * not ramped partly, with some requests writing each store.
         *
         * @return this builder
         */
        public Builder noVersionColumn() {
            this.versionColumn = null;
            return this;
        }

        /**
         * Sets the column whose value routes the row during RAMP (usually the user id).
         *
         * @param column the source column
         * @return this builder
         * @throws IllegalArgumentException if the name is blank
         */
        public Builder routingColumn(String column) {
            this.routingColumn = lower(requireName(column, "dualwrite.tables." + sourceTable + ".routing-column"));
            return this;
        }

        /**
         * Promises that no update changes the sharding column of a sharded target whose key does not hold that
         * column, so that a row never moves between shards. Without it such a table is refused at start-up: a row
         * whose sharding value changed would be written to its new shard and stay on its old one.
         *
         * @param immutable whether the sharding column never changes
         * @return this builder
         */
        public Builder immutableShardingColumn(boolean immutable) {
            this.immutableShardingColumn = immutable;
            return this;
        }

        /**
         * Renames a column on the way to the target.
         *
         * @param sourceColumn the source column
         * @param targetColumn the target column it is written to
         * @return this builder
         * @throws IllegalArgumentException if a name is blank
         */
        public Builder rename(String sourceColumn, String targetColumn) {
            String property = "dualwrite.tables." + sourceTable + ".columns." + sourceColumn;
            renames.put(lower(requireName(sourceColumn, property)), lower(requireName(targetColumn, property)));
            return this;
        }

        /**
         * Leaves source columns out of the copy.
         *
         * @param columns source column names
         * @return this builder
         * @throws IllegalArgumentException if a name is blank
         */
        public Builder ignore(String... columns) {
            for (String column : columns) {
                ignored.add(lower(requireName(column, "dualwrite.tables." + sourceTable + ".ignore-columns")));
            }
            return this;
        }

        /**
         * Sets a transformer that maps whole rows; renames, converters, splits and constants then
         * cannot be used. A key mapping still applies to the keys the transformer returns.
         *
         * @param transformer the transformer
         * @return this builder
         */
        public Builder transformer(RowTransformer transformer) {
            this.transformer = Objects.requireNonNull(transformer, "transformer");
            return this;
        }

        /**
         * Converts a column's values on the way to the target and back (see {@link Converters}). The
         * column may also be renamed. On a key column, the converter also maps the keys of deletes.
         *
         * @param sourceColumn the source column
         * @param converter the converter
         * @return this builder
         * @throws IllegalArgumentException if the name is blank
         */
        public Builder convert(String sourceColumn, ColumnConverter converter) {
            String property = "dualwrite.tables." + sourceTable + ".columns." + sourceColumn + ".converter";
            converters.put(lower(requireName(sourceColumn, property)), Objects.requireNonNull(converter, property));
            return this;
        }

        /**
         * Writes one source column into several target columns, for example {@code full_name} into
         * {@code first_name} and {@code last_name}, and merges them back on the way to the source.
         *
         * @param sourceColumn the source column
         * @param converter turns a value into a {@link List} of one value per target column and back,
         *     such as {@link Converters#splitOnFirst(String)}
         * @param targetColumns the target columns, at least two
         * @return this builder
         * @throws IllegalArgumentException if a name is blank or repeated, or fewer than two target
         *     columns are given
         */
        public Builder split(String sourceColumn, ColumnConverter converter, String... targetColumns) {
            String property = "dualwrite.tables." + sourceTable + ".columns." + sourceColumn + ".split";
            String column = lower(requireName(sourceColumn, property));
            Objects.requireNonNull(converter, property);
            List<String> targets = new ArrayList<>();
            for (String target : targetColumns) {
                String name = lower(requireName(target, property));
                if (targets.contains(name)) {
                    throw new IllegalArgumentException(property + ": target column '" + target + "' is listed twice");
                }
                targets.add(name);
            }
            if (targets.size() < 2) {
                throw new IllegalArgumentException(property + ": a split needs at least two target columns, got "
                        + targets + "; use " + "dualwrite.tables." + sourceTable + ".columns." + sourceColumn
                        + ".converter for one");
            }
            splits.put(column, new Split(targets, converter));
            return this;
        }

        /**
         * Writes a constant into a target column no source column fills, typically a new
         * {@code NOT NULL} column without a default. Constants do not travel back to the source.
         *
         * @param targetColumn the target column
         * @param value the value, not {@code null}
         * @return this builder
         * @throws IllegalArgumentException if the name is blank or the value {@code null}
         */
        public Builder constant(String targetColumn, Object value) {
            String property = "dualwrite.tables." + sourceTable + ".constants." + targetColumn;
            String column = lower(requireName(targetColumn, property));
            if (value == null) {
                throw new IllegalArgumentException(property + ": a constant needs a value; a nullable column that"
                        + " no source column fills is simply left NULL");
            }
            constants.put(column, value);
            return this;
        }

        /**
         * Sets how keys map between the stores (default {@link KeyMapping#identity()}).
         *
         * @param keyMapping the key mapping
         * @return this builder
         */
        public Builder keyMapping(KeyMapping keyMapping) {
            this.keyMapping = Objects.requireNonNull(keyMapping, "dualwrite.tables." + sourceTable + ".key-mapping");
            return this;
        }

        /**
         * Builds the mapping.
         *
         * @return the mapping
         * @throws IllegalArgumentException if settings conflict: a column both renamed and ignored, a
         *     key, version or routing column ignored, renames, converters, splits or constants
         *     together with a transformer, a split column also renamed, converted or ignored, a key or
         *     version column split, a converter on a key column whose keys are also mapped, or two
         *     ways of writing one target column
         */
        public TableMapping build() {
            String prefix = "dualwrite.tables." + sourceTable;
            List<String> problems = new ArrayList<>();
            for (String column : renames.keySet()) {
                if (ignored.contains(column)) {
                    problems.add(prefix + ".columns." + column + ": column '" + column
                            + "' is both renamed and ignored; remove it from " + prefix + ".ignore-columns or drop the rename");
                }
            }
            for (String key : keyColumns) {
                if (ignored.contains(key)) {
                    problems.add(prefix + ".ignore-columns: key column '" + key + "' cannot be ignored");
                }
            }
            if (versionColumn != null && ignored.contains(versionColumn)) {
                problems.add(prefix + ".ignore-columns: version column '" + versionColumn + "' cannot be ignored");
            }
            if (routingColumn != null && ignored.contains(routingColumn)) {
                problems.add(prefix + ".ignore-columns: routing column '" + routingColumn + "' cannot be ignored");
            }
            if (transformer != null && !renames.isEmpty()) {
                problems.add(prefix + ".transformer: a transformer maps whole rows, so " + prefix
                        + ".columns renames cannot be used with it; do the renames in the transformer");
            }
            if (transformer != null && !(converters.isEmpty() && splits.isEmpty() && constants.isEmpty())) {
                problems.add(prefix + ".transformer: a transformer maps whole rows, so converters, splits and"
                        + " constants cannot be used with it; convert the values in the transformer");
            }
            for (String column : converters.keySet()) {
                if (ignored.contains(column)) {
                    problems.add(prefix + ".columns." + column + ".converter: column '" + column
                            + "' is both converted and ignored");
                }
                if (keyColumns.contains(column) && keyMapping != KeyMapping.identity()) {
                    problems.add(prefix + ".columns." + column + ".converter: key column '" + column
                            + "' is converted and its keys are also mapped by " + prefix
                            + ".key-mapping; map the key one way");
                }
            }
            for (String column : splits.keySet()) {
                String where = prefix + ".columns." + column + ".split: column '" + column + "' ";
                if (ignored.contains(column)) {
                    problems.add(where + "is both split and ignored");
                }
                if (renames.containsKey(column) || converters.containsKey(column)) {
                    problems.add(where + "is split, so it cannot also be renamed or converted; the split's"
                            + " converter does both");
                }
                if (keyColumns.contains(column) || column.equals(versionColumn)) {
                    problems.add(where + "is a key or version column, which cannot be split");
                }
            }
            Map<String, String> writers = new LinkedHashMap<>();
            for (Map.Entry<String, String> rename : renames.entrySet()) {
                claim(writers, rename.getValue(), "column '" + rename.getKey() + "'",
                        prefix + ".columns." + rename.getKey(), problems);
            }
            splits.forEach((column, split) -> split.targetColumns().forEach(target -> claim(writers, target,
                    "the split of column '" + column + "'", prefix + ".columns." + column + ".split", problems)));
            for (String column : constants.keySet()) {
                claim(writers, column, "a constant", prefix + ".constants." + column, problems);
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            return new TableMapping(this);
        }

        /** Records who writes a target column, and reports a second writer. */
        private static void claim(Map<String, String> writers, String targetColumn, String writer, String property,
                List<String> problems) {
            String first = writers.putIfAbsent(targetColumn, writer);
            if (first != null) {
                problems.add(property + ": target column '" + targetColumn + "' is already written by " + first);
            }
        }

        private static String requireName(String name, String what) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException(what + ": a name is required, got '" + name + "'");
            }
            return name.trim();
        }

        private static String lower(String name) {
            return name.toLowerCase(Locale.ROOT);
        }
    }
}
