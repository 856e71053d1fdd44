package io.dualwrite.expiring;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One table migrated incrementally: where a row lives is decided by the row itself, and the table's expiry
 * column says when the source no longer holds anything alive. Immutable; built and validated by
 * {@link #builder(String)}.
 *
 * <pre>{@code
 * ExpiringTable coupons = ExpiringTable.builder("coupon")
 *         .keyColumn("id")
 *         .newKeysAbove(48_000_000L)        // or .createdFrom("created_at", cutover)
 *         .expiresColumn("expires_at")
 *         .build();
 * }</pre>
 */
public final class ExpiringTable {

    /** How a row's store is told. */
    public enum Split {
        /** keys above a boundary were created in the target, the others live in the source */
        KEY_BOUNDARY,
        /** rows created at or after a cut-over instant live in the target, older ones in the source */
        CREATED_FROM
    }

    private final String name;
    private final String sourceTable;
    private final String targetTable;
    private final String keyColumn;
    private final Split split;
    private final Number keyBoundary;
    private final String createdColumn;
    private final Instant cutover;
    private final String expiresColumn;

    private ExpiringTable(Builder builder) {
        this.name = builder.name;
        this.sourceTable = builder.sourceTable == null ? builder.name : builder.sourceTable;
        this.targetTable = builder.targetTable == null ? builder.name : builder.targetTable;
        this.keyColumn = builder.keyColumn;
        this.split = builder.keyBoundary != null ? Split.KEY_BOUNDARY : Split.CREATED_FROM;
        this.keyBoundary = builder.keyBoundary;
        this.createdColumn = builder.createdColumn;
        this.cutover = builder.cutover;
        this.expiresColumn = builder.expiresColumn;
    }

    /**
     * @param name the table's name, also its name in both stores unless set apart
     * @return a builder
     */
    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** @return the table's name, as configured */
    public String name() {
        return name;
    }

    /** @return the table's name in the source */
    public String sourceTable() {
        return sourceTable;
    }

    /** @return the table's name in the target */
    public String targetTable() {
        return targetTable;
    }

    /** @return the single key column */
    public String keyColumn() {
        return keyColumn;
    }

    /** @return how a row's store is told */
    public Split split() {
        return split;
    }

    /** @return the largest key of the source with {@link Split#KEY_BOUNDARY}, else null */
    public Number keyBoundary() {
        return keyBoundary;
    }

    /** @return the creation-time column with {@link Split#CREATED_FROM}, else null */
    public String createdColumn() {
        return createdColumn;
    }

    /** @return the cut-over instant with {@link Split#CREATED_FROM}, else null */
    public Instant cutover() {
        return cutover;
    }

    /** @return the column after whose time a row is no longer alive */
    public String expiresColumn() {
        return expiresColumn;
    }

    @Override
    public String toString() {
        return "ExpiringTable[" + name + ", key=" + keyColumn + ", " + (split == Split.KEY_BOUNDARY
                ? "new keys above " + keyBoundary : "created from " + cutover + " by " + createdColumn)
                + ", expires=" + expiresColumn + "]";
    }

    /** Builds an {@link ExpiringTable}; property paths in messages are those of the starter. */
    public static final class Builder {
        private final String name;
        private String sourceTable;
        private String targetTable;
        private String keyColumn;
        private Number keyBoundary;
        private String createdColumn;
        private Instant cutover;
        private String expiresColumn;

        private Builder(String name) {
            if (name == null || name.isBlank()) {
                throw new IllegalArgumentException("dualwrite.incremental.tables: a table needs a name");
            }
            this.name = name;
        }

        /**
         * @param table the table's name in the source, when it differs
         * @return this builder
         */
        public Builder sourceTable(String table) {
            this.sourceTable = table;
            return this;
        }

        /**
         * @param table the table's name in the target, when it differs
         * @return this builder
         */
        public Builder targetTable(String table) {
            this.targetTable = table;
            return this;
        }

        /**
         * @param column the single key column, the same in both stores
         * @return this builder
         */
        public Builder keyColumn(String column) {
            this.keyColumn = column;
            return this;
        }

        /**
         * Rows whose key is above the boundary were created in the target. The target's key generator must
         * start above it; the stores are checked when the migration is built.
         *
         * @param boundary the largest key the source may hold
         * @return this builder
         */
        public Builder newKeysAbove(Number boundary) {
            this.keyBoundary = boundary;
            return this;
        }

        /**
         * Rows created at or after the cut-over live in the target.
         *
         * @param column the creation-time column, the same in both stores
         * @param instant when new rows began to be created in the target
         * @return this builder
         */
        public Builder createdFrom(String column, Instant instant) {
            this.createdColumn = column;
            this.cutover = instant;
            return this;
        }

        /**
         * @param column the column after whose time a row is no longer alive (a null value never expires)
         * @return this builder
         */
        public Builder expiresColumn(String column) {
            this.expiresColumn = column;
            return this;
        }

        /**
         * @return the table
         * @throws IllegalArgumentException naming every property to fix when a part is missing or two
         *     ways of splitting are set
         */
        public ExpiringTable build() {
            String prefix = "dualwrite.incremental.tables." + name + ".";
            List<String> problems = new ArrayList<>();
            if (blank(keyColumn)) {
                problems.add(prefix + "key-column: the single key column is required");
            }
            if (blank(expiresColumn)) {
                problems.add(prefix + "expires-column: the expiry column is required (it tells when the source"
                        + " holds no live row)");
            }
            boolean byCreation = createdColumn != null || cutover != null;
            if (keyBoundary != null && byCreation) {
                problems.add(prefix + "new-keys-above and " + prefix + "created-from: set one way of telling new rows"
                        + " from old ones, not both");
            } else if (keyBoundary == null && !byCreation) {
                problems.add(prefix + "new-keys-above or " + prefix + "created-column with created-from: say how new"
                        + " rows are told from old ones");
            } else if (byCreation && (blank(createdColumn) || cutover == null)) {
                problems.add(prefix + (cutover == null ? "created-from" : "created-column")
                        + ": a creation-time split needs both the column and the cut-over instant");
            }
            if (keyBoundary != null && !(keyBoundary instanceof Long || keyBoundary instanceof Integer
                    || keyBoundary instanceof java.math.BigInteger || keyBoundary instanceof java.math.BigDecimal)) {
                problems.add(prefix + "new-keys-above: " + keyBoundary + " is not an integer or decimal number");
            }
            if (!problems.isEmpty()) {
                throw new IllegalArgumentException(String.join("; ", problems));
            }
            return new ExpiringTable(this);
        }

        private static boolean blank(String text) {
            return text == null || text.isBlank();
        }
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof ExpiringTable that && name.equals(that.name);
    }

    @Override
    public int hashCode() {
        return Objects.hash(name);
    }
}
