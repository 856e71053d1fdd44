package io.dualwrite.verify;

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
import java.util.Arrays;
import java.util.Base64;
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

    /** How one column compares, decided once per table from the target column's type. */
    record Kind(boolean padded, boolean json) {
        static final Kind PLAIN = new Kind(false, false);
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
        if (x instanceof String sx && y instanceof String sy) {
            if (kind.padded()) {
                return stripTrailing(sx).equals(stripTrailing(sy));
            }
            if (kind.json()) {
                return sameJson(sx, sy);
            }
            return false;
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
        return value;
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
        return String.valueOf(value);
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
