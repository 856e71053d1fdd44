package io.dualwrite.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Types;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.UUID;

/**
 * Writes values in the text format of PostgreSQL's {@code COPY ... FROM STDIN}: fields separated by a tab,
 * rows ended by a newline, {@code \N} for {@code NULL}, and backslash, tab, newline and carriage return
 * escaped with a backslash, so that an empty string and {@code NULL} stay apart and no value can end a field.
 *
 * <p><b>The same value as the batched upsert, or none.</b> A value is written only when its Java type and the
 * target column's type form a pair whose text the server reads exactly as it reads the parameter
 * {@link PostgresDialect#bind} sends for it: a {@code LocalDateTime} for a {@code timestamp} in full, a
 * {@code java.sql.Timestamp} in the JVM's zone with its offset (as the driver sends it), a
 * {@code BigDecimal} in plain notation, bytes in {@code bytea}'s hex form, a {@code float} widened as the
 * server widens it. Any other pair (a {@code double} for a {@code numeric} column, which the server would
 * round to 15 digits through a {@code float8} parameter; a string for an {@code integer} column, which the
 * batched upsert refuses) throws {@link Unsupported}, and the caller writes the chunk the batched way. Values
 * are never read back as text: temporal values are formatted from their fields here.
 *
 * <p>Not thread-safe; one per COPY.
 */
final class CopyText {

    /** The types pgjdbc sends a {@code String} as without help (as {@link PostgresDialect}). */
    private static final Set<String> PLAIN_TEXT = Set.of("varchar", "text", "bpchar", "char", "name");
    private static final char[] HEX = "0123456789abcdef".toCharArray();

    /** A value whose exact COPY text this class does not know for its column; the chunk goes the batched way. */
    static final class Unsupported extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    /** What a column takes, decided once per column from its metadata. */
    enum Kind {
        TEXT, INTEGER, NUMERIC, FLOAT4, FLOAT8, BOOLEAN, TIMESTAMP, TIMESTAMPTZ, DATE, TIME, TIMETZ, BYTEA, UUID,
        /** A type the server parses from text, which the batched upsert sends untyped (enum, json, inet, ...). */
        UNTYPED, ARRAY, OTHER;

        static Kind of(ColumnMetadata column) {
            String type = column.typeName() == null ? "" : column.typeName().toLowerCase(java.util.Locale.ROOT);
            switch (type) {
                case "int2", "int4", "int8", "smallint", "integer", "bigint", "serial", "bigserial", "smallserial":
                    return INTEGER;
                case "numeric", "decimal":
                    return NUMERIC;
                case "float4", "real":
                    return FLOAT4;
                case "float8", "double precision":
                    return FLOAT8;
                case "bool", "boolean":
                    return BOOLEAN;
                case "timestamp":
                    return TIMESTAMP;
                case "timestamptz":
                    return TIMESTAMPTZ;
                case "date":
                    return DATE;
                case "time":
                    return TIME;
                case "timetz":
                    return TIMETZ;
                case "bytea":
                    return BYTEA;
                case "uuid":
                    return UUID;
                default:
                    break;
            }
            if (PLAIN_TEXT.contains(type)) {
                return TEXT;
            }
            if (type.startsWith("_") || column.jdbcType() == Types.ARRAY) {
                return ARRAY;
            }
            return switch (column.jdbcType()) {
                case Types.OTHER, Types.BIT, Types.DISTINCT, Types.VARCHAR -> UNTYPED;
                default -> OTHER;
            };
        }
    }

    private final StringBuilder out;
    private final ZoneId zone = ZoneId.systemDefault();

    CopyText(StringBuilder out) {
        this.out = out;
    }

    /** Ends a field: the next value is the row's next column. */
    void nextField() {
        out.append('\t');
    }

    /** Writes {@code \N}. */
    void appendNull() {
        out.append("\\N");
    }

    /**
     * Writes one value for a column of the given kind.
     *
     * @throws Unsupported if the pair of Java type and column kind has no exact text here
     */
    void append(Object value, Kind kind, ColumnMetadata column) {
        if (value == null) {
            appendNull();
            return;
        }
        switch (kind) {
            case TEXT -> {
                if (value instanceof String s) {
                    appendEscaped(s);
                } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                        || value instanceof Byte || value instanceof BigInteger) {
                    out.append(value);
                } else if (value instanceof BigDecimal d) {
                    out.append(d.toPlainString());
                } else {
                    throw unsupported(value, column);
                }
            }
            case UNTYPED -> {
                if (!(value instanceof String s)) {
                    throw unsupported(value, column);
                }
                appendEscaped(s);
            }
            case INTEGER -> {
                if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
                        || value instanceof BigInteger) {
                    out.append(value);
                } else {
                    throw unsupported(value, column);
                }
            }
            case NUMERIC -> {
                if (value instanceof BigDecimal d) {
                    out.append(d.toPlainString());
                } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                        || value instanceof Byte || value instanceof BigInteger) {
                    out.append(value);
                } else {
                    throw unsupported(value, column);
                }
            }
            case FLOAT8 -> {
                if (value instanceof Double d) {
                    out.append(d.doubleValue());
                } else if (value instanceof Float f) {
                    // A float4 parameter is widened exactly; so is this.
                    out.append((double) f.floatValue());
                } else if (value instanceof Long || value instanceof Integer || value instanceof Short
                        || value instanceof Byte) {
                    out.append(value);
                } else {
                    throw unsupported(value, column);
                }
            }
            case FLOAT4 -> {
                if (value instanceof Float f) {
                    out.append(f.floatValue());
                } else if (value instanceof Double d) {
                    // The server narrows a float8 parameter with a C cast: the float nearest the double.
                    float narrowed = (float) d.doubleValue();
                    if (Float.isInfinite(narrowed) && !d.isInfinite()) {
                        throw unsupported(value, column);
                    }
                    out.append(narrowed);
                } else {
                    throw unsupported(value, column);
                }
            }
            case BOOLEAN -> {
                if (!(value instanceof Boolean b)) {
                    throw unsupported(value, column);
                }
                out.append(b ? 't' : 'f');
            }
            case TIMESTAMP -> {
                if (value instanceof LocalDateTime t) {
                    appendDateTime(t);
                } else if (value instanceof java.sql.Timestamp t) {
                    // Sent untyped as the JVM zone's wall clock with its offset; a timestamp column drops the offset.
                    appendDateTime(wallClock(t));
                } else {
                    throw unsupported(value, column);
                }
            }
            case TIMESTAMPTZ -> {
                if (value instanceof LocalDateTime t) {
                    // Read in the session's zone, as the driver's timestamp parameter is cast.
                    appendDateTime(t);
                } else if (value instanceof java.sql.Timestamp t) {
                    Instant instant = Instant.ofEpochSecond(Math.floorDiv(t.getTime(), 1000L), t.getNanos());
                    appendDateTime(LocalDateTime.ofInstant(instant, zone));
                    appendOffset(zone.getRules().getOffset(instant));
                } else if (value instanceof OffsetDateTime t) {
                    appendOffsetDateTime(t);
                } else if (value instanceof Instant t) {
                    appendOffsetDateTime(t.atOffset(ZoneOffset.UTC));
                } else {
                    throw unsupported(value, column);
                }
            }
            case DATE -> {
                if (value instanceof LocalDate d) {
                    appendDate(d);
                } else if (value instanceof java.sql.Date d) {
                    appendDate(d.toLocalDate());
                } else {
                    throw unsupported(value, column);
                }
            }
            case TIME -> {
                if (value instanceof LocalTime t) {
                    appendTime(t.getHour(), t.getMinute(), t.getSecond(), t.getNano());
                } else if (value instanceof java.sql.Time t) {
                    // The driver formats a Time in the JVM's zone, milliseconds included.
                    LocalTime local = Instant.ofEpochMilli(t.getTime()).atZone(zone).toLocalTime();
                    appendTime(local.getHour(), local.getMinute(), local.getSecond(), local.getNano());
                } else {
                    throw unsupported(value, column);
                }
            }
            case TIMETZ -> {
                if (!(value instanceof OffsetTime t)) {
                    throw unsupported(value, column);
                }
                appendTime(t.getHour(), t.getMinute(), t.getSecond(), t.getNano());
                appendOffset(t.getOffset());
            }
            case BYTEA -> {
                if (!(value instanceof byte[] bytes)) {
                    throw unsupported(value, column);
                }
                // bytea's hex form \x..., its backslash escaped for COPY.
                out.append("\\\\x");
                for (byte b : bytes) {
                    out.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
                }
            }
            case UUID -> {
                if (value instanceof UUID u) {
                    out.append(u);
                } else if (value instanceof String s) {
                    // A string for a uuid column goes untyped, and the server parses it.
                    appendEscaped(s);
                } else {
                    throw unsupported(value, column);
                }
            }
            case ARRAY -> appendArray(value, column);
            case OTHER -> throw unsupported(value, column);
        }
    }

    /**
     * An array column: a string is an array literal the server parses; a list or an array of plain values
     * becomes the literal {@code {"a","b",NULL}}, each element quoted, which the server reads into the
     * column's element type as it reads {@code createArrayOf}'s.
     */
    private void appendArray(Object value, ColumnMetadata column) {
        if (value instanceof String s) {
            appendEscaped(s);
            return;
        }
        List<?> elements;
        if (value instanceof List<?> list) {
            elements = list;
        } else if (value instanceof Object[] array) {
            elements = java.util.Arrays.asList(array);
        } else {
            throw unsupported(value, column);
        }
        StringBuilder literal = new StringBuilder("{");
        for (int i = 0; i < elements.size(); i++) {
            Object element = elements.get(i);
            if (i > 0) {
                literal.append(',');
            }
            if (element == null) {
                literal.append("NULL");
                continue;
            }
            String text;
            if (element instanceof String s) {
                text = s;
            } else if (element instanceof Long || element instanceof Integer || element instanceof Short
                    || element instanceof Byte || element instanceof BigInteger) {
                text = element.toString();
            } else if (element instanceof BigDecimal d) {
                text = d.toPlainString();
            } else {
                throw unsupported(value, column);
            }
            literal.append('"');
            for (int c = 0; c < text.length(); c++) {
                char ch = text.charAt(c);
                if (ch == '"' || ch == '\\') {
                    literal.append('\\');
                }
                literal.append(ch);
            }
            literal.append('"');
        }
        appendEscaped(literal.append('}').toString());
    }

    private LocalDateTime wallClock(java.sql.Timestamp t) {
        return LocalDateTime.ofInstant(Instant.ofEpochSecond(Math.floorDiv(t.getTime(), 1000L), t.getNanos()), zone);
    }

    /** A string's characters, with those that would end a field or a row escaped. */
    void appendEscaped(String s) {
        int length = s.length();
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                default -> out.append(c);
            }
        }
    }

    private void appendDateTime(LocalDateTime t) {
        if (t.equals(LocalDateTime.MAX)) {
            out.append("infinity");
            return;
        }
        if (t.equals(LocalDateTime.MIN)) {
            out.append("-infinity");
            return;
        }
        // Rounded to the microsecond, half up, as the driver rounds the parameter.
        LocalDateTime rounded = roundToMicros(t);
        LocalDate date = rounded.toLocalDate();
        appendYearMonthDay(date);
        out.append(' ');
        appendTime(rounded.getHour(), rounded.getMinute(), rounded.getSecond(), rounded.getNano());
        appendEra(date);
    }

    private void appendOffsetDateTime(OffsetDateTime t) {
        if (t.equals(OffsetDateTime.MAX)) {
            out.append("infinity");
            return;
        }
        if (t.equals(OffsetDateTime.MIN)) {
            out.append("-infinity");
            return;
        }
        LocalDateTime rounded = roundToMicros(t.toLocalDateTime());
        LocalDate date = rounded.toLocalDate();
        appendYearMonthDay(date);
        out.append(' ');
        appendTime(rounded.getHour(), rounded.getMinute(), rounded.getSecond(), rounded.getNano());
        appendOffset(t.getOffset());
        appendEra(date);
    }

    private static LocalDateTime roundToMicros(LocalDateTime t) {
        int nanos = t.getNano() % 1000;
        if (nanos == 0) {
            return t;
        }
        return nanos >= 500 ? t.plusNanos(1000 - nanos) : t.minusNanos(nanos);
    }

    private void appendDate(LocalDate d) {
        if (d.equals(LocalDate.MAX)) {
            out.append("infinity");
            return;
        }
        if (d.equals(LocalDate.MIN)) {
            out.append("-infinity");
            return;
        }
        appendYearMonthDay(d);
        appendEra(d);
    }

    private void appendYearMonthDay(LocalDate d) {
        int year = d.getYear();
        // Year 0 of ISO is 1 BC, which PostgreSQL writes with the era.
        pad(year <= 0 ? 1 - year : year, 4);
        out.append('-');
        pad(d.getMonthValue(), 2);
        out.append('-');
        pad(d.getDayOfMonth(), 2);
    }

    private void appendEra(LocalDate d) {
        if (d.getYear() <= 0) {
            out.append(" BC");
        }
    }

    private void appendTime(int hour, int minute, int second, int nanos) {
        pad(hour, 2);
        out.append(':');
        pad(minute, 2);
        out.append(':');
        pad(second, 2);
        if (nanos != 0) {
            out.append('.');
            pad(nanos, 9);
        }
    }

    private void appendOffset(ZoneOffset offset) {
        int seconds = offset.getTotalSeconds();
        out.append(seconds < 0 ? '-' : '+');
        seconds = Math.abs(seconds);
        pad(seconds / 3600, 2);
        out.append(':');
        pad(seconds / 60 % 60, 2);
        if (seconds % 60 != 0) {
            out.append(':');
            pad(seconds % 60, 2);
        }
    }

    private void pad(long value, int width) {
        String digits = Long.toString(value);
        for (int i = digits.length(); i < width; i++) {
            out.append('0');
        }
        out.append(digits);
    }

    private static Unsupported unsupported(Object value, ColumnMetadata column) {
        return new Unsupported("no exact COPY text for a " + value.getClass().getName() + " in column '"
                + column.name() + "' of type " + column.typeName());
    }
}
