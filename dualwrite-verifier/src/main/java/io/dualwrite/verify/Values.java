package io.dualwrite.verify;

import io.dualwrite.mapping.ColumnConverter;
import io.dualwrite.mapping.Converters;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The value normalisation of {@link ComparisonRules}: brings values that legitimately differ between
 * drivers and stores to one form before they are compared, and to a JSON-safe form before they are logged.
 */
final class Values {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final java.util.regex.Pattern UUID_TEXT = java.util.regex.Pattern.compile(
            "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

    private Values() {
    }

    /**
     * How one column compares, decided once per table from the column types.
     *
     * @param padded a {@code CHAR} column: trailing spaces do not count
     * @param json a JSON column: white space and key order do not count
     * @param unordered a MySQL {@code SET} on either side (against an array, a text or another {@code SET}): the
     *     order of its members does not count
     * @param interval an {@code interval} column: {@code 1 day 02:00:00} is {@code 26:00:00}
     * @param address a network address column ({@code inet}, {@code INET6}): {@code ::ffff:10.0.0.1} is
     *     {@code 10.0.0.1}, and an IPv6 address compares whatever its spelling
     */
    record Kind(boolean padded, boolean json, boolean unordered, boolean interval, boolean address) {
        static final Kind PLAIN = new Kind(false, false, false, false, false);

        Kind(boolean padded, boolean json, boolean unordered, boolean interval) {
            this(padded, json, unordered, interval, false);
        }
    }

    /**
     * Whether two values are the same after normalisation.
     *
     * @param a the mapped source value
     * @param b the target value
     */
    static boolean same(Object a, Object b, Kind kind, ChronoUnit precision, ZoneId zone) {
        if (a == b) {
            return true;
        }
        if (a == null || b == null) {
            return false;
        }
        // The common case, same class and equal: no allocation. BigDecimal's equals sees the scale, so it
        // falls through to the numeric comparison below.
        if (a.getClass() == b.getClass() && !(a instanceof BigDecimal) && a.equals(b)) {
            return true;
        }
        if (a instanceof BigDecimal da && b instanceof BigDecimal db) {
            // What the normalisation below would come to for two decimals, without its type tests.
            return da.compareTo(db) == 0;
        }
        if ((a instanceof Float || a instanceof Double || b instanceof Float || b instanceof Double)
                && a instanceof Number na && b instanceof Number nb) {
            return sameFloatingPoint(na, nb);
        }
        if (a instanceof UUID || b instanceof UUID) {
            // A uuid column on one store is often CHAR(36) or BINARY(16) on the other: one value, three forms.
            UUID ux = uuidOrNull(a);
            return ux != null && ux.equals(uuidOrNull(b));
        }
        Object x = normalise(a, zone);
        Object y = normalise(b, zone);
        if (x instanceof BigDecimal dx && y instanceof BigDecimal dy) {
            return dx.compareTo(dy) == 0;
        }
        if (x instanceof LocalDateTime tx && y instanceof LocalDateTime ty) {
            return Math.abs(Duration.between(tx, ty).toNanos()) < precision.getDuration().toNanos();
        }
        if (x instanceof List<?> || y instanceof List<?>) {
            return sameArray(x, y, kind, precision, zone);
        }
        if (x instanceof String sx && y instanceof String sy) {
            if (kind.padded()) {
                return stripTrailing(sx).equals(stripTrailing(sy));
            }
            if (kind.json()) {
                return sameJson(sx, sy);
            }
            if (kind.interval()) {
                return sameInterval(sx, sy);
            }
            if (kind.unordered()) {
                return members(sx).equals(members(sy));
            }
            if (kind.address()) {
                return address(sx).equals(address(sy));
            }
            return sx.equals(sy);
        }
        if (x instanceof byte[] bx && y instanceof byte[] by) {
            return Arrays.equals(bx, by);
        }
        return x.equals(y);
    }

    /**
     * A floating-point value on either side. A REAL (float) column holds only a float's precision, so a
     * pair with a float on one side compares at that precision: 0.1f read back as a double is
     * 0.10000000149011612, which must equal the double 0.1 it came from. NaN equals NaN and infinities
     * equal themselves, as the stores keep them; a decimal never equals them.
     */
    private static boolean sameFloatingPoint(Number a, Number b) {
        if (a instanceof Float || b instanceof Float) {
            return Float.compare(a.floatValue(), b.floatValue()) == 0;
        }
        double x = a.doubleValue();
        double y = b.doubleValue();
        if (!Double.isFinite(x) || !Double.isFinite(y)) {
            return Double.compare(x, y) == 0 && isFloatingPoint(a) && isFloatingPoint(b);
        }
        return new BigDecimal(a.toString()).compareTo(new BigDecimal(b.toString())) == 0;
    }

    private static boolean isFloatingPoint(Number n) {
        return n instanceof Double || n instanceof Float;
    }

    /**
     * The value in one comparable form: numbers and booleans as decimals, date-times as local date-times.
     * NaN and the infinities, which no decimal can hold, stay doubles.
     */
    static Object normalise(Object value, ZoneId zone) {
        if (value instanceof BigDecimal) {
            return value;
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return BigDecimal.valueOf(((Number) value).longValue());
        }
        if (value instanceof BigInteger big) {
            return new BigDecimal(big);
        }
        if (value instanceof Double || value instanceof Float) {
            double d = ((Number) value).doubleValue();
            return Double.isFinite(d) ? new BigDecimal(value.toString()) : Double.valueOf(d);
        }
        if (value instanceof Boolean bool) {
            return bool ? BigDecimal.ONE : BigDecimal.ZERO;
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toLocalDateTime();
        }
        if (value instanceof OffsetDateTime time) {
            return time.atZoneSameInstant(zone).toLocalDateTime();
        }
        if (value instanceof ZonedDateTime time) {
            return time.withZoneSameInstant(zone).toLocalDateTime();
        }
        if (value instanceof Instant instant) {
            return LocalDateTime.ofInstant(instant, zone);
        }
        if (value instanceof java.sql.Date date) {
            return date.toLocalDate();
        }
        if (value instanceof java.sql.Time time) {
            return time.toLocalTime();
        }
        if (value instanceof Object[] array) {
            return Arrays.asList(array);
        }
        if (value instanceof java.sql.Array array) {
            try {
                return Arrays.asList((Object[]) array.getArray());
            } catch (java.sql.SQLException | ClassCastException unreadable) {
                return value;
            }
        }
        if (value != null && value.getClass().getName().startsWith("org.postgresql.")) {
            // A driver object a transformer handed on (PGobject of json, an enum, inet): its text is its value.
            return value.toString();
        }
        return value;
    }

    /**
     * Arrays compare element by element, by the same rules; a PostgreSQL array literal ({@code {a,"b c"}})
     * counts as the array it spells. Where the array holds a {@code SET}'s members, their order does not count.
     */
    private static boolean sameArray(Object x, Object y, Kind kind, ChronoUnit precision, ZoneId zone) {
        List<?> a = x instanceof String text ? arrayLiteral(text) : x instanceof List<?> list ? list : null;
        List<?> b = y instanceof String text ? arrayLiteral(text) : y instanceof List<?> list ? list : null;
        if (a == null || b == null || a.size() != b.size()) {
            return false;
        }
        if (kind.unordered()) {
            a = a.stream().map(String::valueOf).sorted().toList();
            b = b.stream().map(String::valueOf).sorted().toList();
        }
        for (int i = 0; i < a.size(); i++) {
            Object ea = a.get(i);
            Object eb = b.get(i);
            boolean literal = x instanceof String || y instanceof String;
            if (!(same(ea, eb, Kind.PLAIN, precision, zone) || literal && ea != null && eb != null
                    && String.valueOf(normalise(ea, zone)).equals(String.valueOf(normalise(eb, zone))))) {
                return false;
            }
        }
        return true;
    }

    /** Reads a one-dimensional PostgreSQL array literal; null when the text is not one. */
    private static List<String> arrayLiteral(String text) {
        if (!text.startsWith("{") || !text.endsWith("}")) {
            return null;
        }
        List<String> elements = new ArrayList<>();
        String body = text.substring(1, text.length() - 1);
        StringBuilder element = new StringBuilder();
        boolean quoted = false;
        boolean wasQuoted = false;
        for (int i = 0; i < body.length(); i++) {
            char c = body.charAt(i);
            if (c == '\\' && i + 1 < body.length()) {
                element.append(body.charAt(++i));
            } else if (c == '"') {
                quoted = !quoted;
                wasQuoted = true;
            } else if (c == ',' && !quoted) {
                elements.add(!wasQuoted && element.toString().equals("NULL") ? null : element.toString());
                element.setLength(0);
                wasQuoted = false;
            } else if (c == '{' && !quoted) {
                return null;
            } else {
                element.append(c);
            }
        }
        if (!body.isEmpty()) {
            elements.add(!wasQuoted && element.toString().equals("NULL") ? null : element.toString());
        }
        return elements;
    }

    private static final java.util.regex.Pattern ADDRESS_LITERAL = java.util.regex.Pattern.compile(
            "[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*|\\d{1,3}(\\.\\d{1,3}){3}");

    /**
     * A network address in one spelling: MariaDB keeps an IPv4 address in an {@code INET6} column as
     * {@code ::ffff:a.b.c.d}, PostgreSQL as {@code a.b.c.d}; IPv6 has several spellings of one address. Only a
     * literal is parsed (a colon, or four dotted numbers), so no name is ever looked up.
     */
    private static String address(String text) {
        String trimmed = text.strip();
        int slash = trimmed.indexOf('/');
        String host = slash < 0 ? trimmed : trimmed.substring(0, slash);
        if (!ADDRESS_LITERAL.matcher(host).matches()) {
            return trimmed;
        }
        try {
            return java.net.InetAddress.getByName(host).getHostAddress() + (slash < 0 ? "" : trimmed.substring(slash));
        } catch (java.net.UnknownHostException notAnAddress) {
            return trimmed;
        }
    }

    /** A {@code SET}'s text ({@code "a,c"}) as its members, sorted. */
    private static List<String> members(String set) {
        return set.isEmpty() ? List.of() : Arrays.stream(set.split(",", -1)).sorted().toList();
    }

    private static boolean sameInterval(String a, String b) {
        try {
            ColumnConverter interval = Converters.durationToInterval();
            return interval.toSource(a).equals(interval.toSource(b));
        } catch (IllegalArgumentException notASpan) {
            return false;
        }
    }

    /**
     * Compares two versions (the version column's values).
     *
     * @return negative, zero or positive; zero also when either is missing or they are not comparable
     */
    @SuppressWarnings({"unchecked", "rawtypes"})
    static int compareVersions(Object a, Object b, ZoneId zone) {
        if (a == null || b == null) {
            return 0;
        }
        Object x = normalise(a, zone);
        Object y = normalise(b, zone);
        if (x instanceof Comparable cx && x.getClass() == y.getClass()) {
            return cx.compareTo(y);
        }
        return 0;
    }

    /** The value as it may appear in a JSON log line. */
    static Object forLog(Object value) {
        if (value == null || value instanceof String || value instanceof Boolean || value instanceof Long
                || value instanceof Integer || value instanceof Short) {
            return value;
        }
        if (value instanceof BigDecimal decimal) {
            return decimal.toPlainString();
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toLocalDateTime().toString();
        }
        if (value instanceof byte[] bytes) {
            return "base64:" + Base64.getEncoder().encodeToString(bytes);
        }
        if (value instanceof LocalDate || value instanceof java.time.temporal.Temporal) {
            return value.toString();
        }
        if (value instanceof List<?> || value instanceof Object[]) {
            List<Object> elements = new ArrayList<>();
            (value instanceof Object[] array ? Arrays.asList(array) : (List<?>) value)
                    .forEach(element -> elements.add(forLog(element)));
            return elements;
        }
        return String.valueOf(value);
    }

    /**
     * Two differing values as a log line shows them. Values that differ but would print alike (text against an
     * array, a number against its text) are printed with their Java types, so that no line shows two identical
     * values as a difference.
     *
     * @return the source's and the target's value
     */
    static Object[] forLog(Object source, Object target) {
        Object a = forLog(source);
        Object b = forLog(target);
        if (source != null && target != null && String.valueOf(a).equals(String.valueOf(b))) {
            return new Object[] {a + " (" + source.getClass().getSimpleName() + ")",
                b + " (" + target.getClass().getSimpleName() + ")"};
        }
        return new Object[] {a, b};
    }

    /** @return the uuid a value holds as a uuid, its text (any case, CHAR padding) or its 16 bytes; else null */
    private static UUID uuidOrNull(Object value) {
        if (value instanceof UUID uuid) {
            return uuid;
        }
        if (value instanceof String text) {
            String trimmed = text.strip();
            return UUID_TEXT.matcher(trimmed).matches() ? UUID.fromString(trimmed) : null;
        }
        if (value instanceof byte[] bytes && bytes.length == 16) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
            return new UUID(buffer.getLong(), buffer.getLong());
        }
        return null;
    }

    private static boolean sameJson(String a, String b) {
        try {
            JsonNode x = JSON.readTree(a);
            JsonNode y = JSON.readTree(b);
            return x.equals(y);
        } catch (JacksonException notJson) {
            return false;
        }
    }

    private static String stripTrailing(String text) {
        int end = text.length();
        while (end > 0 && text.charAt(end - 1) == ' ') {
            end--;
        }
        return text.substring(0, end);
    }
}
