package io.dualwrite.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Types;
import java.text.Normalizer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The one form a key column's values take inside a {@link RowKey}, whatever form they arrive in. A key
 * reaches the library as the application recorded it (a {@code String} for a {@code uuid}, a padded
 * {@code CHAR}, a {@code java.sql.Date}), as a driver returned it ({@code UUID}, {@code byte[]},
 * {@code Timestamp}), or as a library table stored it in JSON (text); keys are compared, hashed to lanes,
 * coalesced and matched against the rows a read returned, so two forms of one key must become one
 * value, or a present row is taken for absent and deleted.
 *
 * <table>
 *   <caption>Canonical forms</caption>
 *   <tr><th>column type</th><th>form</th><th>accepted</th></tr>
 *   <tr><td>integer types, {@code DECIMAL(p,0)}</td><td>{@code Long} ({@code BigInteger} past 64 bits)</td>
 *       <td>any whole number, digits</td></tr>
 *   <tr><td>{@code DECIMAL(p,s)}</td><td>{@code BigDecimal} of scale s</td><td>numbers, digits</td></tr>
 *   <tr><td>{@code CHAR}, {@code VARCHAR}, {@code TEXT}</td><td>{@code String}, trailing spaces stripped
 *       for {@code CHAR(n)}</td><td>text, {@code UUID}, whole numbers</td></tr>
 *   <tr><td>{@code uuid} (PostgreSQL, H2, MariaDB)</td><td>{@code UUID}</td><td>{@code UUID}, its text in any
 *       case, 16 bytes</td></tr>
 *   <tr><td>{@code BINARY}, {@code VARBINARY}, {@code bytea}</td><td>{@link KeyBytes}, zero-padded to n for
 *       {@code BINARY(n)}</td><td>bytes, {@code UUID} (16 bytes, big-endian), uuid text, other text as UTF-8</td></tr>
 *   <tr><td>{@code DATE}</td><td>{@code LocalDate}</td><td>{@code java.sql.Date}, ISO text</td></tr>
 *   <tr><td>{@code TIME}</td><td>{@code LocalTime}</td><td>{@code java.sql.Time}, ISO text</td></tr>
 *   <tr><td>{@code TIMESTAMP}, {@code DATETIME}</td><td>{@code LocalDateTime}</td><td>{@code Timestamp},
 *       ISO text with {@code T} or a space</td></tr>
 *   <tr><td>{@code TIMESTAMP WITH TIME ZONE}</td><td>{@code OffsetDateTime} in UTC</td><td>{@code Timestamp},
 *       {@code Instant}, zoned and offset times, ISO text</td></tr>
 *   <tr><td>{@code BOOLEAN}, {@code BIT(1)}</td><td>{@code Boolean}</td><td>0 and 1, their text</td></tr>
 * </table>
 *
 * <p><b>Collations that are not exact.</b> MariaDB's {@code _ci} collations (case- and, unless
 * {@code _as_}, accent-insensitive), its PAD SPACE collations (trailing spaces ignored; all but
 * {@code _nopad_}), PostgreSQL's {@code citext} and H2's {@code VARCHAR_IGNORECASE} make {@code 'Ab'} and
 * {@code 'ab '} one key. The canonical form keeps the text as given — it is what a case-sensitive other
 * store must receive, and what is bound — and {@link #folded} gives the form the store compares by, which
 * the apply uses to recognise the row a store returned for a key spelled differently (see
 * {@link TableOps#foldedKey}). The folding is Java's approximation of the collation (lower case in the
 * root locale; accents removed after canonical decomposition); collations that equate more, such as
 * {@code 'ß'} with {@code 'ss'}, are not followed, and a key spelled that way is applied as absent and left
 * to the reconciler.
 *
 * <p>Other types ({@code FLOAT}, {@code DOUBLE}, large objects, JSON, arrays, ...) cannot be keys:
 * {@link #unsupported} says why, and {@code MappedTables} refuses them at start-up. Immutable and
 * thread-safe.
 */
public final class KeyCodec {

    private static final Pattern UUID_TEXT = Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private static final Pattern MARKS = Pattern.compile("\\p{M}+");

    private enum Kind { INTEGER, DECIMAL, TEXT, UUID, BINARY, DATE, TIME, TIMESTAMP, TIMESTAMP_TZ, BOOLEAN }

    private final String table;
    private final ColumnMetadata column;
    private final Kind kind;
    private final Dialect.Product product;
    private final boolean fixedText;
    private final int fixedBinaryLength;
    private final boolean ignoreCase;
    private final boolean ignoreAccents;
    private final boolean ignoreTrailingSpaces;

    private KeyCodec(String table, ColumnMetadata column, Kind kind, Dialect.Product product) {
        this.table = table;
        this.column = column;
        this.kind = kind;
        this.product = product;
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase(Locale.ROOT);
        this.fixedText = kind == Kind.TEXT && (column.jdbcType() == Types.CHAR || column.jdbcType() == Types.NCHAR);
        this.fixedBinaryLength = kind == Kind.BINARY && column.jdbcType() == Types.BINARY && !type.equals("bytea")
                && column.size() > 0 && column.size() <= 255 ? column.size() : 0;
        boolean mysql = product == Dialect.Product.MARIADB || product == Dialect.Product.MYSQL;
        String collation = column.collation() == null ? "" : column.collation().toLowerCase(Locale.ROOT);
        if (kind != Kind.TEXT) {
            this.ignoreCase = false;
            this.ignoreAccents = false;
            this.ignoreTrailingSpaces = false;
        } else if (mysql) {
            this.ignoreCase = collation.contains("_ci");
            this.ignoreAccents = ignoreCase && !collation.contains("_as_");
            // Every MariaDB collation but the _nopad_ ones compares with trailing spaces ignored; MySQL 8's
            // utf8mb4_0900 ones are NO PAD.
            this.ignoreTrailingSpaces = !collation.contains("nopad") && !collation.contains("_0900_");
        } else {
            this.ignoreCase = type.equals("citext") || type.equals("varchar_ignorecase");
            this.ignoreAccents = false;
            this.ignoreTrailingSpaces = false;
        }
    }

    /**
     * Finds the codec of a key column.
     *
     * @param table the table's name, for messages
     * @param column the key column
     * @param product the store's product
     * @return the codec
     * @throws IllegalArgumentException if the column's type cannot be a key (see {@link #unsupported})
     */
    public static KeyCodec of(String table, ColumnMetadata column, Dialect.Product product) {
        Optional<String> problem = unsupported(column);
        if (problem.isPresent()) {
            throw new IllegalArgumentException("key column '" + column.name() + "' of table '" + table + "' "
                    + problem.get());
        }
        return new KeyCodec(table, column, kindOf(column), product);
    }

    /**
     * Says why a column cannot be a key column, if it cannot.
     *
     * @param column the column
     * @return the reason, starting with the column's type ("has type FLOAT, ..."); empty if it can
     */
    public static Optional<String> unsupported(ColumnMetadata column) {
        if (kindOf(column) != null) {
            return Optional.empty();
        }
        String reason = switch (column.jdbcType()) {
            case Types.FLOAT, Types.REAL, Types.DOUBLE -> "approximate numbers do not compare exactly, so a key read"
                    + " back may not equal the key recorded";
            case Types.BLOB, Types.CLOB, Types.NCLOB -> "large objects cannot be compared by value";
            default -> "dualwrite has no key form for it";
        };
        return Optional.of("has type " + column.typeName() + ", which dualwrite cannot use as a key: " + reason
                + ". Key columns may be of integer, decimal, text (CHAR, VARCHAR), uuid, binary (BINARY, VARBINARY,"
                + " bytea), DATE, TIME, TIMESTAMP or BOOLEAN type");
    }

    private static Kind kindOf(ColumnMetadata column) {
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase(Locale.ROOT);
        if (type.equals("uuid")) {
            return Kind.UUID;
        }
        if (type.equals("citext")) {
            return Kind.TEXT;
        }
        if (type.equals("timestamptz") || type.startsWith("timestamp with time zone")) {
            return Kind.TIMESTAMP_TZ;
        }
        return switch (column.jdbcType()) {
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> Kind.INTEGER;
            case Types.NUMERIC, Types.DECIMAL -> column.scale() > 0 ? Kind.DECIMAL : Kind.INTEGER;
            case Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.NCHAR, Types.NVARCHAR, Types.LONGNVARCHAR ->
                    Kind.TEXT;
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY -> Kind.BINARY;
            case Types.DATE -> Kind.DATE;
            case Types.TIME -> Kind.TIME;
            case Types.TIMESTAMP -> Kind.TIMESTAMP;
            case Types.TIMESTAMP_WITH_TIMEZONE -> Kind.TIMESTAMP_TZ;
            case Types.BOOLEAN -> Kind.BOOLEAN;
            case Types.BIT -> column.size() <= 1 ? Kind.BOOLEAN : null;
            default -> null;
        };
    }

    /**
     * Brings a value of this column to its canonical form.
     *
     * @param value a non-null value in any accepted form
     * @return the canonical value; the same instance when it already was
     * @throws IllegalArgumentException naming the table, the column, its type and the value, if the value
     *     does not convert
     */
    public Object canonical(Object value) {
        try {
            Object result = switch (kind) {
                case INTEGER -> integer(value);
                case DECIMAL -> decimal(value);
                case TEXT -> text(value);
                case UUID -> uuid(value);
                case BINARY -> binary(value);
                case DATE -> date(value);
                case TIME -> time(value);
                case TIMESTAMP -> timestamp(value);
                case TIMESTAMP_TZ -> timestampTz(value);
                case BOOLEAN -> bool(value);
            };
            if (result == null) {
                throw new IllegalArgumentException("a " + value.getClass().getName() + " is not one of its forms");
            }
            return result;
        } catch (ArithmeticException | DateTimeParseException | IllegalArgumentException e) {
            String shown = value instanceof byte[] bytes ? KeyBytes.wrap(bytes).toString() : String.valueOf(value);
            throw new IllegalArgumentException("key value '" + shown + "' (" + value.getClass().getSimpleName()
                    + ") does not fit key column '" + column.name() + "' of table '" + table + "', of type "
                    + column.typeName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * The value to bind for a canonical value: what this store's driver takes for the column.
     *
     * @param canonical a value returned by {@link #canonical}
     * @return the value to bind
     */
    public Object bindable(Object canonical) {
        if (canonical instanceof KeyBytes bytes) {
            return bytes.toByteArray();
        }
        if (canonical instanceof UUID uuid && product != Dialect.Product.POSTGRESQL && product != Dialect.Product.H2) {
            // MariaDB's UUID type takes the text; its driver has no mapping for java.util.UUID.
            return uuid.toString();
        }
        return canonical;
    }

    /** @return whether the column holds text (of any collation), not uuid, bytes, numbers or times */
    public boolean holdsText() {
        return kind == Kind.TEXT;
    }

    /** @return whether the store compares this column's values other than exactly (see the class comment) */
    public boolean folds() {
        return ignoreCase || ignoreTrailingSpaces;
    }

    /**
     * The same fold as {@link #folded}, written in SQL that every supported store runs, for a column of
     * another store holding this column's values: {@code LOWER(RTRIM(col))} and the like. Accents are not
     * taken out (no portable SQL does), so it finds fewer spellings than this column equates, never more.
     *
     * @param quotedColumn the other store's quoted column
     * @return the SQL expression; the column itself when nothing folds
     */
    public String foldedSql(String quotedColumn) {
        String expression = ignoreTrailingSpaces ? "RTRIM(" + quotedColumn + ")" : quotedColumn;
        return ignoreCase ? "LOWER(" + expression + ")" : expression;
    }

    /**
     * The value {@link #foldedSql} compares with: folded as the SQL folds, accents left in.
     *
     * @param canonical a value returned by {@link #canonical}
     * @return the value to bind
     */
    public Object foldedForSql(Object canonical) {
        if (!folds() || !(canonical instanceof String text)) {
            return canonical;
        }
        String folded = ignoreTrailingSpaces ? text.stripTrailing() : text;
        return ignoreCase ? folded.toLowerCase(Locale.ROOT) : folded;
    }

    /**
     * The form the store compares a canonical value by: for a column whose collation {@link #folds()}, the
     * text with what the collation ignores taken out; otherwise the value itself.
     *
     * @param canonical a value returned by {@link #canonical}
     * @return the folded value
     */
    public Object folded(Object canonical) {
        Object folded = foldedForSql(canonical);
        return ignoreAccents && folded instanceof String text
                ? MARKS.matcher(Normalizer.normalize(text, Normalizer.Form.NFD)).replaceAll("") : folded;
    }

    private static Object integer(Object value) {
        if (value instanceof Long) {
            return value;
        }
        if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        BigInteger whole;
        if (value instanceof BigInteger big) {
            whole = big;
        } else if (value instanceof BigDecimal decimal) {
            whole = decimal.toBigIntegerExact();
        } else if (value instanceof String text) {
            whole = new BigDecimal(text.trim()).toBigIntegerExact();
        } else {
            return null;
        }
        return whole.bitLength() < 64 ? (Object) whole.longValue() : whole;
    }

    private Object decimal(Object value) {
        BigDecimal decimal;
        if (value instanceof BigDecimal d) {
            decimal = d;
        } else if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            decimal = BigDecimal.valueOf(((Number) value).longValue());
        } else if (value instanceof BigInteger big) {
            decimal = new BigDecimal(big);
        } else if (value instanceof Double || value instanceof Float) {
            decimal = new BigDecimal(value.toString());
        } else if (value instanceof String text) {
            decimal = new BigDecimal(text.trim());
        } else {
            return null;
        }
        return decimal.scale() == column.scale() ? decimal : decimal.setScale(column.scale());
    }

    private Object text(Object value) {
        String text;
        if (value instanceof String s) {
            text = s;
        } else if (value instanceof UUID || value instanceof Character || value instanceof Long
                || value instanceof Integer || value instanceof Short || value instanceof BigInteger) {
            text = value.toString();
        } else if (value instanceof BigDecimal decimal) {
            text = decimal.toPlainString();
        } else {
            return null;
        }
        if (fixedText) {
            text = text.stripTrailing();
        }
        return value instanceof String && text.equals(value) ? value : text;
    }

    private static Object uuid(Object value) {
        if (value instanceof UUID) {
            return value;
        }
        if (value instanceof String text) {
            return parseUuid(text.trim());
        }
        byte[] bytes = value instanceof byte[] b ? b : value instanceof KeyBytes k ? k.toByteArray() : null;
        if (bytes == null) {
            return null;
        }
        if (bytes.length != 16) {
            throw new IllegalArgumentException("a uuid has 16 bytes, not " + bytes.length);
        }
        ByteBuffer buffer = ByteBuffer.wrap(bytes);
        return new UUID(buffer.getLong(), buffer.getLong());
    }

    private static UUID parseUuid(String text) {
        if (!UUID_TEXT.matcher(text).matches()) {
            throw new IllegalArgumentException("not a uuid (8-4-4-4-12 hexadecimal digits)");
        }
        return UUID.fromString(text);
    }

    private Object binary(Object value) {
        byte[] bytes;
        if (value instanceof KeyBytes keyBytes) {
            if (fixedBinaryLength == 0 || keyBytes.length() == fixedBinaryLength) {
                return keyBytes;
            }
            bytes = keyBytes.toByteArray();
        } else if (value instanceof byte[] b) {
            bytes = b.clone();
        } else if (value instanceof UUID uuid) {
            bytes = uuidBytes(uuid);
        } else if (value instanceof String text) {
            bytes = UUID_TEXT.matcher(text).matches() ? uuidBytes(UUID.fromString(text))
                    : text.getBytes(StandardCharsets.UTF_8);
        } else {
            return null;
        }
        if (fixedBinaryLength > 0 && bytes.length != fixedBinaryLength) {
            if (bytes.length > fixedBinaryLength) {
                throw new IllegalArgumentException(bytes.length + " bytes do not fit BINARY(" + fixedBinaryLength + ")");
            }
            // BINARY(n) stores shorter values padded with zero bytes, and returns them padded.
            bytes = Arrays.copyOf(bytes, fixedBinaryLength);
        }
        return KeyBytes.wrap(bytes);
    }

    private static byte[] uuidBytes(UUID uuid) {
        return ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits()).putLong(uuid.getLeastSignificantBits())
                .array();
    }

    private static Object date(Object value) {
        if (value instanceof LocalDate) {
            return value;
        }
        if (value instanceof java.sql.Date date) {
            return date.toLocalDate();
        }
        LocalDateTime time = value instanceof LocalDateTime t ? t
                : value instanceof java.sql.Timestamp t ? t.toLocalDateTime() : null;
        if (time != null) {
            if (!time.toLocalTime().equals(LocalTime.MIDNIGHT)) {
                throw new IllegalArgumentException("a date has no time of day");
            }
            return time.toLocalDate();
        }
        if (value instanceof String text) {
            return LocalDate.parse(text.trim());
        }
        return null;
    }

    private static Object time(Object value) {
        if (value instanceof LocalTime) {
            return value;
        }
        if (value instanceof java.sql.Time time) {
            return time.toLocalTime();
        }
        if (value instanceof String text) {
            return LocalTime.parse(text.trim());
        }
        return null;
    }

    private static Object timestamp(Object value) {
        if (value instanceof LocalDateTime) {
            return value;
        }
        if (value instanceof java.sql.Timestamp timestamp) {
            return timestamp.toLocalDateTime();
        }
        if (value instanceof LocalDate date) {
            return date.atStartOfDay();
        }
        if (value instanceof OffsetDateTime || value instanceof ZonedDateTime || value instanceof Instant) {
            // Drivers convert between instants and wall-clock times in the JVM's zone; so do we.
            return LocalDateTime.ofInstant(instant(value), ZoneId.systemDefault());
        }
        if (value instanceof String text) {
            return LocalDateTime.parse(text.trim().replace(' ', 'T'));
        }
        return null;
    }

    private static Object timestampTz(Object value) {
        if (value instanceof OffsetDateTime time) {
            return time.getOffset().equals(ZoneOffset.UTC) ? time : time.withOffsetSameInstant(ZoneOffset.UTC);
        }
        if (value instanceof ZonedDateTime || value instanceof Instant || value instanceof java.sql.Timestamp) {
            return instant(value).atOffset(ZoneOffset.UTC);
        }
        if (value instanceof LocalDateTime time) {
            return time.atZone(ZoneId.systemDefault()).toOffsetDateTime().withOffsetSameInstant(ZoneOffset.UTC);
        }
        if (value instanceof String text) {
            return OffsetDateTime.parse(text.trim().replace(' ', 'T')).withOffsetSameInstant(ZoneOffset.UTC);
        }
        return null;
    }

    private static Instant instant(Object value) {
        if (value instanceof OffsetDateTime time) {
            return time.toInstant();
        }
        if (value instanceof ZonedDateTime time) {
            return time.toInstant();
        }
        if (value instanceof java.sql.Timestamp timestamp) {
            return timestamp.toInstant();
        }
        return (Instant) value;
    }

    private static Object bool(Object value) {
        if (value instanceof Boolean) {
            return value;
        }
        String text = value instanceof Number || value instanceof String ? value.toString().trim() : null;
        if ("1".equals(text) || "true".equalsIgnoreCase(text)) {
            return Boolean.TRUE;
        }
        if ("0".equals(text) || "false".equalsIgnoreCase(text)) {
            return Boolean.FALSE;
        }
        if (text != null) {
            throw new IllegalArgumentException("not a boolean");
        }
        return null;
    }

    @Override
    public String toString() {
        return "KeyCodec[" + table + "." + column.name() + " " + column.typeName() + " -> " + kind + "]";
    }
}
