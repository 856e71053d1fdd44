package io.dualwrite.mapping;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZonedDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.function.Function;
import tools.jackson.core.JacksonException;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The built-in {@link ColumnConverter}s. Each goes both ways and refuses a value it cannot convert
 * exactly, instead of rounding, truncating or guessing: the row then fails and is parked.
 *
 * <pre>{@code
 * TableMapping.builder("t_order")
 *     .convert("amount", Converters.decimalToMinorUnits(2))          // 12.50 -> 1250
 *     .convert("status", Converters.codeToText(Map.of(0, "NEW", 1, "PAID")))
 *     .convert("attributes", Converters.json())                      // TEXT -> jsonb
 *     .convert("legacy_no", Converters.numberToString(Long.class))
 *     .split("full_name", Converters.splitOnFirst(" "), "first_name", "last_name")
 *     .build();
 * }</pre>
 *
 * <p>Every converter's {@link ColumnConverter#inverse()} goes the other way, for example
 * {@code numberToString(Long.class).inverse()} parses a text column into a number column.
 */
public final class Converters {

    private static final JsonMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .build();

    private static final Map<Class<?>, Function<String, Number>> PARSERS = parsers();

    private Converters() {
    }

    private static Map<Class<?>, Function<String, Number>> parsers() {
        Map<Class<?>, Function<String, Number>> parsers = new LinkedHashMap<>();
        parsers.put(Long.class, Long::valueOf);
        parsers.put(Integer.class, Integer::valueOf);
        parsers.put(Short.class, Short::valueOf);
        parsers.put(Byte.class, Byte::valueOf);
        parsers.put(BigInteger.class, BigInteger::new);
        parsers.put(BigDecimal.class, BigDecimal::new);
        parsers.put(Double.class, Double::valueOf);
        parsers.put(Float.class, Float::valueOf);
        return Collections.unmodifiableMap(parsers);
    }

    /**
     * Number in the source, its decimal text in the target. Decimals keep their scale ({@code 12.50}
     * becomes {@code "12.50"}) and are never written in exponent notation. Back in the source, the
     * text is parsed strictly into {@code sourceType}: no blanks, no rounding, no overflow.
     *
     * @param sourceType the source column's Java type: {@code Long}, {@code Integer}, {@code Short},
     *     {@code Byte}, {@code BigInteger}, {@code BigDecimal}, {@code Double} or {@code Float}
     * @return the converter
     * @throws IllegalArgumentException if the type is not one of those
     */
    public static ColumnConverter numberToString(Class<? extends Number> sourceType) {
        Function<String, Number> parser = PARSERS.get(sourceType);
        if (parser == null) {
            throw new IllegalArgumentException("numberToString: unsupported number type " + sourceType
                    + "; use one of " + PARSERS.keySet().stream().map(Class::getSimpleName).toList());
        }
        String name = "numberToString(" + sourceType.getSimpleName() + ")";
        return new Named(name) {
            @Override
            public Object toTarget(Object sourceValue) {
                Number number = require(sourceValue, Number.class, "a number");
                return number instanceof BigDecimal decimal ? decimal.toPlainString() : number.toString();
            }

            @Override
            public Object toSource(Object targetValue) {
                String text = require(targetValue, String.class, "text");
                try {
                    return parser.apply(text);
                } catch (NumberFormatException | ArithmeticException e) {
                    throw new IllegalArgumentException("'" + text + "' is not a number of type "
                            + sourceType.getSimpleName());
                }
            }
        };
    }

    /**
     * Integer code in the source, its text in the target: a code table such as
     * {@code 0 -> NEW, 1 -> PAID}. An unknown code or text fails the row; codes of any integral
     * number type match ({@code TINYINT} columns read as {@code Integer} or {@code Short}).
     *
     * @param codes code to text; texts must be distinct, so that the table also maps back
     * @return the converter
     * @throws IllegalArgumentException if the table is empty, holds a {@code null}, or two codes share
     *     a text
     */
    public static ColumnConverter codeToText(Map<Integer, String> codes) {
        if (codes.isEmpty()) {
            throw new IllegalArgumentException("codeToText: the code table is empty");
        }
        // Sorted, so that messages list codes and texts in the same order every run.
        Map<Long, String> texts = new TreeMap<>();
        Map<String, Integer> byText = new TreeMap<>();
        codes.forEach((code, text) -> {
            if (code == null || text == null) {
                throw new IllegalArgumentException("codeToText: the code table holds a null: " + code + " -> " + text);
            }
        });
        new TreeMap<>(codes).forEach((code, text) -> {
            Integer other = byText.put(text, code);
            if (other != null) {
                throw new IllegalArgumentException("codeToText: codes " + other + " and " + code + " both map to '"
                        + text + "', so the text cannot be mapped back");
            }
            texts.put(code.longValue(), text);
        });
        return new Named("codeToText(" + texts + ")") {
            @Override
            public Object toTarget(Object sourceValue) {
                long code = wholeNumber(sourceValue, "an integer code");
                String text = texts.get(code);
                if (text == null) {
                    throw new IllegalArgumentException("unknown code " + sourceValue + "; known codes are "
                            + texts.keySet());
                }
                return text;
            }

            @Override
            public Object toSource(Object targetValue) {
                String text = require(targetValue, String.class, "text");
                Integer code = byText.get(text);
                if (code == null) {
                    throw new IllegalArgumentException("unknown text '" + text + "'; known texts are "
                            + byText.keySet());
                }
                return code;
            }
        };
    }

    /**
     * JSON text in a text column in the source, a JSON column in the target (PostgreSQL
     * {@code jsonb} or {@code json}, MySQL/MariaDB {@code JSON}, H2 {@code JSON}), and back. The text
     * is checked with Jackson and passed on unchanged; invalid JSON fails the row. Stores may
     * normalise what they keep ({@code jsonb} drops white space and orders keys), so the text that
     * comes back is equal as JSON, not necessarily character for character.
     *
     * @return the converter
     */
    public static ColumnConverter json() {
        return new Named("json()") {
            @Override
            public Object toTarget(Object sourceValue) {
                return validJson(sourceValue);
            }

            @Override
            public Object toSource(Object targetValue) {
                return validJson(targetValue);
            }
        };
    }

    /**
     * A decimal amount in the source, whole minor units in the target: with {@code scale} 2,
     * {@code 12.50} becomes {@code 1250}. An amount with more decimal places than {@code scale}
     * ({@code 12.505}) fails the row rather than being rounded. Back in the source, the amount has
     * exactly {@code scale} decimal places, as a {@code DECIMAL(p, scale)} column reads.
     *
     * @param scale decimal places of the source amount, 0..18
     * @return the converter
     * @throws IllegalArgumentException if the scale is out of range
     */
    public static ColumnConverter decimalToMinorUnits(int scale) {
        if (scale < 0 || scale > 18) {
            throw new IllegalArgumentException("decimalToMinorUnits: scale must be 0..18, was " + scale);
        }
        return new Named("decimalToMinorUnits(" + scale + ")") {
            @Override
            public Object toTarget(Object sourceValue) {
                BigDecimal amount = decimal(sourceValue);
                try {
                    return amount.movePointRight(scale).longValueExact();
                } catch (ArithmeticException e) {
                    throw new IllegalArgumentException(amount.toPlainString() + " is not a whole number of minor units"
                            + " at scale " + scale + " (more decimal places, or beyond the range of a BIGINT)");
                }
            }

            @Override
            public Object toSource(Object targetValue) {
                return BigDecimal.valueOf(wholeNumber(targetValue, "whole minor units"), scale);
            }
        };
    }

    /**
     * Cuts timestamps to the target column's precision, so that the target holds the same value on
     * every store instead of each rounding in its own way ({@code DATETIME(6)} to {@code TIMESTAMP(3)}:
     * {@code 12:00:00.123999} becomes {@code 12:00:00.123}). Going back changes nothing, as the
     * source is at least as precise. This is the one converter that loses information: only values
     * already at {@code precision} come back unchanged.
     *
     * @param precision {@link ChronoUnit#SECONDS}, {@link ChronoUnit#MILLIS} or {@link ChronoUnit#MICROS}
     * @return the converter, for {@link Timestamp}, {@link LocalDateTime}, {@link OffsetDateTime},
     *     {@link Instant} and {@link LocalTime} values
     * @throws IllegalArgumentException for another unit
     */
    public static ColumnConverter timestampPrecision(ChronoUnit precision) {
        if (precision != ChronoUnit.SECONDS && precision != ChronoUnit.MILLIS && precision != ChronoUnit.MICROS) {
            throw new IllegalArgumentException("timestampPrecision: precision must be SECONDS, MILLIS or MICROS, was "
                    + precision);
        }
        long unitNanos = precision.getDuration().toNanos();
        return new Named("timestampPrecision(" + precision + ")") {
            @Override
            public Object toTarget(Object sourceValue) {
                if (sourceValue instanceof Timestamp timestamp) {
                    Timestamp cut = new Timestamp(timestamp.getTime());
                    cut.setNanos((int) (timestamp.getNanos() - timestamp.getNanos() % unitNanos));
                    return cut;
                }
                if (sourceValue instanceof LocalDateTime time) {
                    return time.truncatedTo(precision);
                }
                if (sourceValue instanceof OffsetDateTime time) {
                    return time.truncatedTo(precision);
                }
                if (sourceValue instanceof Instant time) {
                    return time.truncatedTo(precision);
                }
                if (sourceValue instanceof LocalTime time) {
                    return time.truncatedTo(precision);
                }
                throw unexpected(sourceValue, "a timestamp");
            }

            @Override
            public Object toSource(Object targetValue) {
                if (targetValue instanceof Timestamp || targetValue instanceof LocalDateTime
                        || targetValue instanceof OffsetDateTime || targetValue instanceof Instant
                        || targetValue instanceof LocalTime) {
                    return targetValue;
                }
                throw unexpected(targetValue, "a timestamp");
            }
        };
    }

    /**
     * Moves wall-clock times ({@code DATETIME}, {@code TIMESTAMP WITHOUT TIME ZONE}) from one time
     * zone to another: a source written in {@code Asia/Shanghai} local time, a target that keeps UTC.
     * A time that does not exist in its zone (inside a daylight-saving gap) fails the row. A time
     * that exists twice in its own zone (the hour repeated when clocks go back) is read as the earlier
     * one; a time that would land on the later of two equal times in the other zone fails the row,
     * since it could not be read back. So whatever converts comes back unchanged, and a UTC or
     * fixed-offset side never fails.
     *
     * @param sourceZone the zone source values are written in
     * @param targetZone the zone target values are written in
     * @return the converter, for {@link LocalDateTime} and {@link Timestamp} values (a
     *     {@code Timestamp} is taken as the wall-clock time it prints, as JDBC drivers read it)
     */
    public static ColumnConverter timeZoneShift(ZoneId sourceZone, ZoneId targetZone) {
        Objects.requireNonNull(sourceZone, "sourceZone");
        Objects.requireNonNull(targetZone, "targetZone");
        return new Named("timeZoneShift(" + sourceZone + " -> " + targetZone + ")") {
            @Override
            public Object toTarget(Object sourceValue) {
                return shift(sourceValue, sourceZone, targetZone);
            }

            @Override
            public Object toSource(Object targetValue) {
                return shift(targetValue, targetZone, sourceZone);
            }
        };
    }

    /**
     * Splits a text at the first {@code separator} into two target columns, for
     * {@link TableMapping.Builder#split(String, ColumnConverter, String...)}: {@code "Ada Lovelace"}
     * becomes {@code ("Ada", "Lovelace")}, {@code "Mary Ann Smith"} becomes {@code ("Mary", "Ann Smith")},
     * and a text without the separator fills only the first column ({@code "Plato"} becomes
     * {@code ("Plato", null)}). Merging joins the parts with the separator, so every source text comes
     * back unchanged. A first part written in the target that itself holds the separator merges into
     * a text that splits differently; a missing first part merges as empty.
     *
     * @param separator the separator, not empty
     * @return the converter; its target value is a list of two texts
     * @throws IllegalArgumentException if the separator is empty
     */
    public static ColumnConverter splitOnFirst(String separator) {
        if (separator == null || separator.isEmpty()) {
            throw new IllegalArgumentException("splitOnFirst: the separator must not be empty");
        }
        return new Named("splitOnFirst('" + separator + "')") {
            @Override
            public Object toTarget(Object sourceValue) {
                String text = require(sourceValue, String.class, "text");
                int at = text.indexOf(separator);
                return at < 0 ? Arrays.asList(text, null)
                        : Arrays.asList(text.substring(0, at), text.substring(at + separator.length()));
            }

            @Override
            public Object toSource(Object targetValue) {
                List<?> parts = require(targetValue, List.class, "a list of two texts");
                if (parts.size() != 2) {
                    throw new IllegalArgumentException("expected two parts to merge, got " + parts);
                }
                String first = parts.get(0) == null ? "" : require(parts.get(0), String.class, "text");
                return parts.get(1) == null ? first : first + separator + require(parts.get(1), String.class, "text");
            }
        };
    }

    private static String validJson(Object value) {
        String text = require(value, String.class, "JSON text");
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new IllegalArgumentException("invalid JSON: " + e.getOriginalMessage());
        }
        if (node == null || node.isMissingNode()) {
            throw new IllegalArgumentException("invalid JSON: the text holds no JSON value");
        }
        return text;
    }

    private static Object shift(Object value, ZoneId from, ZoneId to) {
        if (value instanceof LocalDateTime time) {
            return shift(time, from, to);
        }
        if (value instanceof Timestamp timestamp) {
            return Timestamp.valueOf(shift(timestamp.toLocalDateTime(), from, to));
        }
        throw unexpected(value, "a wall-clock time (LocalDateTime or Timestamp)");
    }

    private static LocalDateTime shift(LocalDateTime time, ZoneId from, ZoneId to) {
        if (from.getRules().getValidOffsets(time).isEmpty()) {
            throw new IllegalArgumentException(time + " does not exist in time zone " + from
                    + " (it falls in a daylight-saving gap)");
        }
        ZonedDateTime instant = time.atZone(from);
        LocalDateTime shifted = instant.withZoneSameInstant(to).toLocalDateTime();
        if (!shifted.atZone(to).toInstant().equals(instant.toInstant())) {
            throw new IllegalArgumentException(time + " in time zone " + from + " is " + shifted + " in " + to
                    + ", a time that exists twice there (clocks go back), and would be read back as the other one");
        }
        return shifted;
    }

    private static BigDecimal decimal(Object value) {
        if (value instanceof BigDecimal decimal) {
            return decimal;
        }
        if (value instanceof BigInteger integer) {
            return new BigDecimal(integer);
        }
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return BigDecimal.valueOf(((Number) value).longValue());
        }
        if (value instanceof Double || value instanceof Float) {
            double number = ((Number) value).doubleValue();
            if (!Double.isFinite(number)) {
                throw new IllegalArgumentException(value + " is not an amount");
            }
            return BigDecimal.valueOf(number);
        }
        throw unexpected(value, "a decimal number");
    }

    private static long wholeNumber(Object value, String what) {
        if (value instanceof Long || value instanceof Integer || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger || value instanceof BigDecimal) {
            try {
                return decimal(value).longValueExact();
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(value + " is not " + what + " (not a whole number in the range of a"
                        + " BIGINT)");
            }
        }
        throw unexpected(value, what);
    }

    private static <T> T require(Object value, Class<T> type, String what) {
        if (!type.isInstance(value)) {
            throw unexpected(value, what);
        }
        return type.cast(value);
    }

    private static IllegalArgumentException unexpected(Object value, String what) {
        return new IllegalArgumentException("expected " + what + ", got " + value.getClass().getSimpleName()
                + " '" + value + "'");
    }

    /** Gives each built-in converter the name messages and {@code toString()} show. */
    private abstract static class Named implements ColumnConverter {

        private final String name;

        Named(String name) {
            this.name = name;
        }

        @Override
        public String toString() {
            return "Converters." + name;
        }
    }
}
