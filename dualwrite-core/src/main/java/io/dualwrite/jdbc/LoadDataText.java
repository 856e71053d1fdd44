package io.dualwrite.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.sql.Types;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.util.Locale;
import java.util.Set;
import java.util.UUID;

/**
 * Writes values in the text of MariaDB's {@code LOAD DATA ... FIELDS TERMINATED BY X'09' ESCAPED BY X'5C' LINES
 * TERMINATED BY X'0A'}, read as {@code utf8mb4}: fields separated by a tab, rows ended by a newline, {@code \N} for
 * {@code NULL}, and backslash, tab, newline, carriage return and NUL escaped with a backslash, so that an empty
 * string and {@code NULL} stay apart and no value can end a field. Binary columns are written in hexadecimal and
 * loaded through a user variable and {@code UNHEX}, so their bytes never meet a character set.
 *
 * <p><b>The same value as the batched upsert, or none.</b> A value is written here only where the column reads
 * this text into the value the batched upsert's parameter becomes, whether Connector/J sends that parameter as SQL
 * text (with {@code rewriteBatchedStatements=true}, the target pools' default) or in its binary protocol: a
 * {@code LocalDateTime} as {@code yyyy-MM-dd HH:mm:ss.SSSSSS} (nanoseconds truncated, as the driver does), a
 * {@code BigDecimal} in plain notation, a {@code Double} (or a {@code Float} for a {@code FLOAT} column) by Java's
 * own {@code toString}, which reads back as that very value, a {@code Duration} for a {@code TIME} as
 * {@code [-]H:MM:SS.ffffff}. Any other pair (a {@code Float} for a {@code DOUBLE} column, which the binary protocol
 * widens exactly and the text protocol does not; a double for a {@code DECIMAL} column; an {@code OffsetDateTime},
 * which the driver may shift to the connection's zone) throws {@link Unsupported}, and the table goes the batched
 * way. What this text cannot express exactly, the server says: a value the column does not take whole is a warning
 * of the {@code LOAD DATA}, and the caller sends that chunk the batched way too.
 *
 * <p>Not thread-safe; one per load.
 */
final class LoadDataText {

    private static final char[] HEX = "0123456789ABCDEF".toCharArray();
    /** Column types read as characters, by the name MariaDB's metadata gives them. */
    private static final Set<String> CHARACTER_TYPES = Set.of("CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT",
            "LONGTEXT", "JSON", "ENUM", "SET", "UUID", "INET4", "INET6");
    private static final java.util.regex.Pattern IPV4 = java.util.regex.Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    /** A value whose exact {@code LOAD DATA} text this class does not know for its column. */
    static final class Unsupported extends RuntimeException {
        private static final long serialVersionUID = 1L;

        Unsupported(String message) {
            super(message, null, false, false);
        }
    }

    /** What a column takes, decided once per column from its metadata. */
    enum Kind {
        TEXT, INET6, BINARY, INTEGER, DECIMAL, FLOAT, DOUBLE, DATETIME, DATE, TIME, OTHER;

        static Kind of(ColumnMetadata column) {
            String type = column.typeName() == null ? "" : column.typeName().toUpperCase(Locale.ROOT);
            int space = type.indexOf(' ');
            String base = space < 0 ? type : type.substring(0, space);
            if (base.equals("INET6")) {
                return INET6;
            }
            if (base.equals("YEAR") || base.equals("BOOLEAN") || base.equals("BOOL")) {
                return INTEGER;
            }
            if (CHARACTER_TYPES.contains(base)) {
                return TEXT;
            }
            return switch (column.jdbcType()) {
                case Types.CHAR, Types.VARCHAR, Types.LONGVARCHAR, Types.CLOB, Types.NCHAR, Types.NVARCHAR,
                        Types.LONGNVARCHAR, Types.NCLOB -> TEXT;
                case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY, Types.BLOB -> BINARY;
                case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> INTEGER;
                case Types.DECIMAL, Types.NUMERIC -> DECIMAL;
                case Types.REAL -> FLOAT;
                case Types.FLOAT, Types.DOUBLE -> base.equals("FLOAT") ? FLOAT : DOUBLE;
                case Types.TIMESTAMP -> DATETIME;
                case Types.DATE -> DATE;
                case Types.TIME -> TIME;
                // BIT (a TINYINT(1) may be reported so, and takes its value as bits), geometry, and the rest.
                default -> OTHER;
            };
        }
    }

    private final StringBuilder out;

    LoadDataText(StringBuilder out) {
        this.out = out;
    }

    /** Ends a field: the next value is the row's next column. */
    void nextField() {
        out.append('\t');
    }

    /** Ends a row. */
    void endRow() {
        out.append('\n');
    }

    /**
     * Writes one value for a column of the given kind.
     *
     * @throws Unsupported if the pair of Java type and column kind has no exact text here
     */
    void append(Object value, Kind kind, ColumnMetadata column) {
        if (value == null) {
            out.append("\\N");
            return;
        }
        switch (kind) {
            case TEXT -> {
                if (value instanceof String s) {
                    appendEscaped(s);
                } else if (isIntegral(value) || value instanceof UUID) {
                    out.append(value);
                } else if (value instanceof BigDecimal d) {
                    // A decimal literal keeps its scale when the server makes text of it.
                    out.append(d.toPlainString());
                } else {
                    throw unsupported(value, column);
                }
            }
            case INET6 -> {
                if (!(value instanceof String s)) {
                    throw unsupported(value, column);
                }
                // As MySqlDialect.bind: an IPv4 address is the IPv4-mapped address.
                appendEscaped(IPV4.matcher(s).matches() ? "::ffff:" + s : s);
            }
            case BINARY -> {
                if (value instanceof byte[] bytes) {
                    appendHex(bytes);
                } else if (value instanceof String s) {
                    // The driver sends a string in the connection's utf8mb4, which a binary column keeps as bytes.
                    appendHex(s.getBytes(StandardCharsets.UTF_8));
                } else {
                    throw unsupported(value, column);
                }
            }
            case INTEGER -> {
                if (isIntegral(value)) {
                    out.append(value);
                } else if (value instanceof Boolean b) {
                    out.append(b ? '1' : '0');
                } else if (value instanceof BigDecimal d && d.signum() == 0) {
                    out.append('0');
                } else if (value instanceof BigDecimal d && d.stripTrailingZeros().scale() <= 0) {
                    // A whole number in a decimal (PostgreSQL's numeric(20) for an unsigned BIGINT).
                    out.append(d.toBigIntegerExact());
                } else {
                    throw unsupported(value, column);
                }
            }
            case DECIMAL -> {
                if (value instanceof BigDecimal d) {
                    out.append(d.toPlainString());
                } else if (isIntegral(value)) {
                    out.append(value);
                } else {
                    throw unsupported(value, column);
                }
            }
            case FLOAT -> {
                if (value instanceof Double || value instanceof Float || isIntegral(value)) {
                    // Java's shortest text of a float or double reads back as that very value, which the column
                    // then narrows as it narrows the parameter.
                    out.append(value);
                } else {
                    throw unsupported(value, column);
                }
            }
            case DOUBLE -> {
                // Not a Float: the batched upsert's binary protocol widens it exactly (0.100000001490116), its text
                // protocol sends "0.1"; which one a pool uses is the URL's affair.
                if (value instanceof Double || isIntegral(value)) {
                    out.append(value);
                } else {
                    throw unsupported(value, column);
                }
            }
            case DATETIME -> {
                if (value instanceof LocalDateTime t) {
                    appendDateTime(t);
                } else if (value instanceof java.sql.Timestamp t) {
                    // The driver formats a Timestamp in the JVM's default calendar, as toLocalDateTime reads it.
                    appendDateTime(t.toLocalDateTime());
                } else if (value instanceof LocalDate d) {
                    appendDate(d);
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
                if (value instanceof Duration d) {
                    appendSpan(d);
                } else if (value instanceof LocalTime t) {
                    appendTime(t.getHour(), t.getMinute(), t.getSecond(), t.getNano() / 1000);
                } else if (value instanceof java.sql.Time t) {
                    // The driver writes a Time as HH:mm:ss.SSS in the JVM's zone.
                    LocalTime local = java.time.Instant.ofEpochMilli(t.getTime())
                            .atZone(java.time.ZoneId.systemDefault()).toLocalTime();
                    pad(local.getHour(), 2);
                    out.append(':');
                    pad(local.getMinute(), 2);
                    out.append(':');
                    pad(local.getSecond(), 2);
                    out.append('.');
                    pad(local.getNano() / 1_000_000, 3);
                } else {
                    throw unsupported(value, column);
                }
            }
            case OTHER -> throw unsupported(value, column);
        }
    }

    private static boolean isIntegral(Object value) {
        return value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte
                || value instanceof BigInteger;
    }

    /** A string's characters, with those that would end a field or a row, or be read as an escape, escaped. */
    void appendEscaped(String s) {
        int length = s.length();
        for (int i = 0; i < length; i++) {
            char c = s.charAt(i);
            switch (c) {
                case '\\' -> out.append("\\\\");
                case '\t' -> out.append("\\t");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\0' -> out.append("\\0");
                default -> out.append(c);
            }
        }
    }

    private void appendHex(byte[] bytes) {
        for (byte b : bytes) {
            out.append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
        }
    }

    private void appendDateTime(LocalDateTime t) {
        appendYearMonthDay(t.toLocalDate());
        out.append(' ');
        appendTime(t.getHour(), t.getMinute(), t.getSecond(), t.getNano() / 1000);
    }

    private void appendDate(LocalDate d) {
        appendYearMonthDay(d);
    }

    private void appendYearMonthDay(LocalDate d) {
        int year = d.getYear();
        if (year < 0 || year > 9999) {
            // Outside MariaDB's range; the batched upsert meets the server's refusal itself.
            throw new Unsupported("no LOAD DATA text for the date " + d);
        }
        pad(year, 4);
        out.append('-');
        pad(d.getMonthValue(), 2);
        out.append('-');
        pad(d.getDayOfMonth(), 2);
    }

    /** A {@code TIME} span as the driver writes a {@code Duration}: {@code [-]H:MM:SS.ffffff}. */
    private void appendSpan(Duration d) {
        if (d.isNegative()) {
            out.append('-');
            d = d.negated();
        }
        long seconds = d.getSeconds();
        out.append(seconds / 3600).append(':');
        pad(seconds / 60 % 60, 2);
        out.append(':');
        pad(seconds % 60, 2);
        out.append('.');
        pad(d.getNano() / 1000, 6);
    }

    private void appendTime(int hour, int minute, int second, int micros) {
        pad(hour, 2);
        out.append(':');
        pad(minute, 2);
        out.append(':');
        pad(second, 2);
        if (micros != 0) {
            out.append('.');
            pad(micros, 6);
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
        return new Unsupported("no exact LOAD DATA text for a " + value.getClass().getName() + " in column '"
                + column.name() + "' of type " + column.typeName());
    }
}
