package io.dualwrite.mapping;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect.Product;
import java.sql.Types;
import java.util.Locale;
import java.util.Set;

/**
 * What a column holds, as far as carrying its values to another store goes: the same family on both
 * sides travels as it is, a few pairs of families travel through a converter the pair implies (see
 * {@link TypePairs}), and the rest need a declared one. The family is read from the column's type as the
 * driver reports it, with the Java value the library reads from it (see {@code Dialect.read}):
 *
 * <table>
 *   <caption>Families and the values read</caption>
 *   <tr><th>family</th><th>MySQL / MariaDB</th><th>PostgreSQL</th><th>value read</th></tr>
 *   <tr><td>BOOLEAN</td><td>{@code BIT(1)}</td><td>{@code boolean}</td><td>{@code Boolean}</td></tr>
 *   <tr><td>INTEGER</td><td>integers, {@code TINYINT(1)}/{@code BOOLEAN}, {@code YEAR}</td>
 *       <td>{@code smallint}, {@code integer}, {@code bigint}</td>
 *       <td>{@code Integer}, {@code Long}, {@code BigInteger} ({@code BIGINT UNSIGNED})</td></tr>
 *   <tr><td>DECIMAL, FLOAT</td><td>{@code DECIMAL}; {@code FLOAT}, {@code DOUBLE}</td>
 *       <td>{@code numeric}; {@code real}, {@code double precision}</td><td>numbers</td></tr>
 *   <tr><td>TEXT</td><td>{@code CHAR}, {@code VARCHAR}, {@code TEXT}s</td><td>{@code text}, {@code varchar},
 *       {@code char}</td><td>{@code String}</td></tr>
 *   <tr><td>ENUM, SET</td><td>{@code ENUM}, {@code SET}</td><td>enum types</td><td>{@code String}</td></tr>
 *   <tr><td>ARRAY</td><td></td><td>arrays</td><td>{@code List}</td></tr>
 *   <tr><td>JSON</td><td>{@code JSON} (MySQL; MariaDB's is {@code LONGTEXT})</td><td>{@code json},
 *       {@code jsonb}</td><td>its text</td></tr>
 *   <tr><td>BINARY</td><td>{@code BINARY}, {@code VARBINARY}, {@code BLOB}s</td><td>{@code bytea}</td>
 *       <td>{@code byte[]}</td></tr>
 *   <tr><td>BITS</td><td>{@code BIT(n)}, n &gt; 1</td><td>{@code bit(n)}, {@code varbit}</td>
 *       <td>{@code byte[]}; PostgreSQL: its text of 0s and 1s</td></tr>
 *   <tr><td>DATE, TIME, TIMESTAMP, TIMESTAMPTZ</td><td>{@code DATE}; {@code DATETIME}, {@code TIMESTAMP}</td>
 *       <td>{@code date}, {@code time}, {@code timestamp}, {@code timestamptz}</td><td>JDBC's; TIMESTAMP (no
 *       zone) as {@code LocalDateTime}</td></tr>
 *   <tr><td>DURATION</td><td>{@code TIME} (a span of -838..838 hours)</td><td></td><td>{@code Duration}</td></tr>
 *   <tr><td>INTERVAL</td><td></td><td>{@code interval}</td><td>its text</td></tr>
 *   <tr><td>UUID</td><td>{@code UUID}</td><td>{@code uuid}</td><td>{@code UUID}</td></tr>
 *   <tr><td>INET</td><td>{@code INET4}, {@code INET6}</td><td>{@code inet}, {@code cidr}</td><td>its text</td></tr>
 * </table>
 *
 * <p>OTHER is a type the library does not know; it is carried as it is and never reported.
 */
enum TypeFamily {
    BOOLEAN, INTEGER, DECIMAL, FLOAT, TEXT, ENUM, SET, ARRAY, JSON, BINARY, BITS, DATE, TIME, DURATION, TIMESTAMP,
    TIMESTAMPTZ, INTERVAL, UUID, INET, OTHER;

    private static final Set<String> POSTGRES_TEXT = Set.of("text", "varchar", "bpchar", "char", "name", "citext");

    /** Whether the family holds numbers. */
    boolean numeric() {
        return this == INTEGER || this == DECIMAL || this == FLOAT;
    }

    /** Whether the family holds text (text, enum and set values are all read as {@code String}). */
    boolean textual() {
        return this == TEXT || this == ENUM || this == SET;
    }

    /**
     * The family of a column.
     *
     * @param column the column
     * @param product the store it lives in
     * @return its family
     */
    static TypeFamily of(ColumnMetadata column, Product product) {
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase(Locale.ROOT);
        return switch (product) {
            case MYSQL, MARIADB -> mysql(column, type);
            case POSTGRESQL -> postgres(column, type);
            case H2 -> byJdbcType(column, type);
        };
    }

    private static TypeFamily mysql(ColumnMetadata column, String type) {
        String base = type.replace(" unsigned", "").replace(" zerofill", "").trim();
        return switch (base) {
            case "bit" -> column.size() <= 1 ? BOOLEAN : BITS;
            case "boolean", "bool", "year" -> INTEGER;
            case "enum" -> ENUM;
            case "set" -> SET;
            case "json" -> JSON;
            case "time" -> DURATION;
            case "uuid" -> UUID;
            case "inet4", "inet6" -> INET;
            default -> byJdbcType(column, base);
        };
    }

    private static TypeFamily postgres(ColumnMetadata column, String type) {
        if (column.jdbcType() == Types.ARRAY || type.startsWith("_")) {
            return ARRAY;
        }
        return switch (type) {
            case "bool", "boolean" -> BOOLEAN;
            case "json", "jsonb" -> JSON;
            case "bit", "varbit" -> BITS;
            case "timestamptz" -> TIMESTAMPTZ;
            case "timetz", "time" -> TIME;
            case "interval" -> INTERVAL;
            case "uuid" -> UUID;
            case "inet", "cidr" -> INET;
            default -> column.jdbcType() == Types.VARCHAR && !POSTGRES_TEXT.contains(type) ? ENUM
                    : byJdbcType(column, type);
        };
    }

    private static TypeFamily byJdbcType(ColumnMetadata column, String type) {
        switch (type) {
            case "json":
                return JSON;
            case "uuid":
                return UUID;
            case "enum":
                return ENUM;
            case "interval":
                return INTERVAL;
            default:
                break;
        }
        if (type.startsWith("interval")) {
            return INTERVAL;
        }
        if (type.endsWith(" array") || type.equals("array")) {
            return ARRAY;
        }
        return switch (column.jdbcType()) {
            case Types.BOOLEAN, Types.BIT -> BOOLEAN;
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> INTEGER;
            case Types.DECIMAL, Types.NUMERIC -> column.scale() == 0 && column.size() > 0 ? INTEGER : DECIMAL;
            case Types.REAL, Types.FLOAT, Types.DOUBLE -> FLOAT;
            case Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR, Types.LONGNVARCHAR,
                    Types.CLOB, Types.NCLOB -> TEXT;
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> BINARY;
            case Types.DATE -> DATE;
            case Types.TIME, Types.TIME_WITH_TIMEZONE -> TIME;
            case Types.TIMESTAMP -> TIMESTAMP;
            case Types.TIMESTAMP_WITH_TIMEZONE -> TIMESTAMPTZ;
            case Types.ARRAY -> ARRAY;
            default -> OTHER;
        };
    }
}
