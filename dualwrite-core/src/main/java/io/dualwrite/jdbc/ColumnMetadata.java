package io.dualwrite.jdbc;

import java.util.Locale;

/**
 * One column as {@link java.sql.DatabaseMetaData} reports it.
 *
 * @param name the column's name exactly as stored (the case the database uses)
 * @param jdbcType the {@link java.sql.Types} code
 * @param typeName the database's own type name
 * @param nullable whether the column accepts {@code NULL}
 * @param hasDefault whether the column has a default value, or is generated or auto-incremented
 * @param size the length or numeric precision ({@code COLUMN_SIZE}), 0 if not reported
 * @param scale the numeric scale or fractional-second digits ({@code DECIMAL_DIGITS}), 0 if not reported
 * @param collation the text column's collation where the store reports one per column (MySQL and
 *     MariaDB, such as {@code utf8mb4_general_ci}), otherwise {@code null}
 */
public record ColumnMetadata(String name, int jdbcType, String typeName, boolean nullable, boolean hasDefault,
        int size, int scale, String collation) {

    /**
     * Creates column metadata without a collation.
     *
     * @param name the column's stored name
     * @param jdbcType the {@link java.sql.Types} code
     * @param typeName the database's type name
     * @param nullable whether it accepts {@code NULL}
     * @param hasDefault whether it has a default
     * @param size the length or precision, 0 if not reported
     * @param scale the scale, 0 if not reported
     */
    public ColumnMetadata(String name, int jdbcType, String typeName, boolean nullable, boolean hasDefault, int size,
            int scale) {
        this(name, jdbcType, typeName, nullable, hasDefault, size, scale, null);
    }

    /**
     * Creates column metadata without size and scale.
     *
     * @param name the column's stored name
     * @param jdbcType the {@link java.sql.Types} code
     * @param typeName the database's type name
     * @param nullable whether it accepts {@code NULL}
     * @param hasDefault whether it has a default
     */
    public ColumnMetadata(String name, int jdbcType, String typeName, boolean nullable, boolean hasDefault) {
        this(name, jdbcType, typeName, nullable, hasDefault, 0, 0, null);
    }

    /** @return the column name in lower case, the form mappings and rows use */
    public String canonicalName() {
        return name.toLowerCase(Locale.ROOT);
    }

    /**
     * Returns the same column with a collation.
     *
     * @param columnCollation the collation's name
     * @return the column
     */
    public ColumnMetadata withCollation(String columnCollation) {
        return new ColumnMetadata(name, jdbcType, typeName, nullable, hasDefault, size, scale, columnCollation);
    }

    /** @return whether an insert must supply a value for this column */
    public boolean requiresValue() {
        return !nullable && !hasDefault;
    }
}
