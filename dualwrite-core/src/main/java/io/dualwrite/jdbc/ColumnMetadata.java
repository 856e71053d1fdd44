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
 */
public record ColumnMetadata(String name, int jdbcType, String typeName, boolean nullable, boolean hasDefault) {

    /** @return the column name in lower case, the form mappings and rows use */
    public String canonicalName() {
        return name.toLowerCase(Locale.ROOT);
    }

    /** @return whether an insert must supply a value for this column */
    public boolean requiresValue() {
        return !nullable && !hasDefault;
    }
}
