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
 * renames, ignored columns and, for anything else, a {@link RowTransformer}. Immutable; build it with
 * {@link #builder(String)}. Column names are case-insensitive.
 *
 * <pre>{@code
 * TableMapping.builder("t_order")
 *     .targetTable("orders")
 *     .rename("amount", "amount_cents")
 *     .ignore("legacy_flag")
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
    private final Map<String, String> renames;
    private final Set<String> ignoredColumns;
    private final RowTransformer transformer;

    private TableMapping(Builder builder) {
        this.sourceTable = builder.sourceTable;
        this.targetTable = builder.targetTable == null ? builder.sourceTable : builder.targetTable;
        this.keyColumns = List.copyOf(builder.keyColumns);
        this.versionColumn = builder.versionColumn;
        this.routingColumn = builder.routingColumn;
        this.renames = Collections.unmodifiableMap(new LinkedHashMap<>(builder.renames));
        this.ignoredColumns = Collections.unmodifiableSet(new LinkedHashSet<>(builder.ignored));
        this.transformer = builder.transformer;
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
        private final Map<String, String> renames = new LinkedHashMap<>();
        private final Set<String> ignored = new LinkedHashSet<>();
        private RowTransformer transformer;

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
         * orders writes) but cannot enter RAMP.
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
         * Sets a transformer that maps whole rows; renames then cannot be used.
         *
         * @param transformer the transformer
         * @return this builder
         */
        public Builder transformer(RowTransformer transformer) {
            this.transformer = Objects.requireNonNull(transformer, "transformer");
            return this;
        }

        /**
         * Builds the mapping.
         *
         * @return the mapping
         * @throws IllegalArgumentException if settings conflict: a column both renamed and ignored, a
         *     key, version or routing column ignored, or renames together with a transformer
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
            Set<String> targets = new LinkedHashSet<>();
            for (Map.Entry<String, String> rename : renames.entrySet()) {
                if (!targets.add(rename.getValue())) {
                    problems.add(prefix + ".columns." + rename.getKey() + ": target column '" + rename.getValue()
                            + "' is already written by another column");
                }
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            return new TableMapping(this);
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
