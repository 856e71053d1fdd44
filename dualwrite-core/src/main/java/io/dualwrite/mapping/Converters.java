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
import java.util.Set;
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
        return new Named(name, Set.of(TypeFamily.INTEGER, TypeFamily.DECIMAL, TypeFamily.FLOAT), TypeFamily.TEXT) {
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
        return new Named("codeToText(" + texts + ")", Set.of(TypeFamily.INTEGER), TypeFamily.TEXT) {
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
        return new Named("json()", Set.of(TypeFamily.TEXT, TypeFamily.JSON), TypeFamily.JSON) {
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
        return new Named("decimalToMinorUnits(" + scale + ")",
                Set.of(TypeFamily.DECIMAL, TypeFamily.INTEGER, TypeFamily.FLOAT), TypeFamily.INTEGER) {
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
        return new Named("timestampPrecision(" + precision + ")",
                Set.of(TypeFamily.TIMESTAMP, TypeFamily.TIMESTAMPTZ, TypeFamily.TIME), null) {
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
        return new Named("timeZoneShift(" + sourceZone + " -> " + targetZone + ")", Set.of(TypeFamily.TIMESTAMP),
                TypeFamily.TIMESTAMP) {
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
        return new Named("splitOnFirst('" + separator + "')", Set.of(TypeFamily.TEXT), null) {
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

    /**
     * A boolean in the source, {@code 1} or {@code 0} in the target: a PostgreSQL {@code boolean} into an
     * {@code integer}, or MySQL's {@code BIT(1)} into a number. Back in the source, {@code 1} is
     * {@code true} and {@code 0} is {@code false}; any other number fails the row rather than being read as
     * true. Implied for a boolean column mapped to a number column; {@code inverse()} is implied the other
     * way ({@code TINYINT(1)} into {@code boolean}).
     *
     * @return the converter
     */
    public static ColumnConverter booleanToNumber() {
        return new Named("booleanToNumber()", Set.of(TypeFamily.BOOLEAN), TypeFamily.INTEGER) {
            @Override
            public Object toTarget(Object sourceValue) {
                return require(sourceValue, Boolean.class, "a boolean") ? 1 : 0;
            }

            @Override
            public Object toSource(Object targetValue) {
                if (targetValue instanceof Boolean bool) {
                    return bool;
                }
                long number = wholeNumber(targetValue, "0 or 1");
                if (number != 0 && number != 1) {
                    throw new IllegalArgumentException(targetValue + " is not a boolean: only 0 (false) and 1 (true)"
                            + " are");
                }
                return number == 1;
            }
        };
    }

    /**
     * A MySQL {@code SET} (its values joined by commas, as the store returns them) in the source, an array
     * such as PostgreSQL's {@code text[]} or an enum array in the target: {@code "a,c"} becomes
     * {@code [a, c]} and the empty set an empty array. Back in the source the elements are joined by commas;
     * an element that is {@code NULL} or holds a comma fails the row, since no {@code SET} member can.
     * Implied for a {@code SET} column mapped to an array column, and usable on any comma-separated text.
     *
     * @return the converter; its target value is a {@link List} of texts
     */
    public static ColumnConverter setToArray() {
        return new Named("setToArray()", Set.of(TypeFamily.SET, TypeFamily.TEXT, TypeFamily.ENUM), TypeFamily.ARRAY) {
            @Override
            public Object toTarget(Object sourceValue) {
                String text = require(sourceValue, String.class, "the text of a SET");
                return text.isEmpty() ? List.of() : List.of(text.split(",", -1));
            }

            @Override
            public Object toSource(Object targetValue) {
                List<?> elements = targetValue instanceof Object[] array ? Arrays.asList(array)
                        : require(targetValue, List.class, "an array");
                StringBuilder joined = new StringBuilder();
                for (Object element : elements) {
                    if (element == null || element.toString().contains(",")) {
                        throw new IllegalArgumentException("array " + elements + " holds " + (element == null ? "a NULL"
                                : "'" + element + "', which holds a comma,") + " and cannot be a SET");
                    }
                    joined.append(joined.isEmpty() ? "" : ",").append(element);
                }
                return joined.toString();
            }
        };
    }

    /**
     * MySQL's {@code BIT(n)} (the bytes the driver returns, or a boolean for {@code BIT(1)}) in the source,
     * PostgreSQL's {@code bit(n)} or {@code varbit} (its text of 0s and 1s) in the target: {@code b'10101'}
     * becomes {@code "10101"} for {@code n = 5}. Back in the source the text becomes bytes again; a text
     * longer than {@code n} bits or holding other characters fails the row. Implied for that pair.
     *
     * @param length the source column's {@code n}, 1..64
     * @return the converter
     * @throws IllegalArgumentException if the length is out of range
     */
    public static ColumnConverter bitsToText(int length) {
        if (length < 1 || length > 64) {
            throw new IllegalArgumentException("bitsToText: length must be 1..64, was " + length);
        }
        return new Named("bitsToText(" + length + ")", Set.of(TypeFamily.BITS, TypeFamily.BOOLEAN), TypeFamily.BITS) {
            @Override
            public Object toTarget(Object sourceValue) {
                if (sourceValue instanceof Boolean bool) {
                    return length == 1 ? (bool ? "1" : "0") : "0".repeat(length - 1) + (bool ? "1" : "0");
                }
                byte[] bytes = require(sourceValue, byte[].class, "the bytes of a BIT(" + length + ")");
                long bits = 0;
                for (byte b : bytes) {
                    if (bits >>> 56 != 0) {
                        throw new IllegalArgumentException("more than 64 bits in " + bytes.length + " bytes");
                    }
                    bits = bits << 8 | (b & 0xff);
                }
                if (length < 64 && bits >>> length != 0) {
                    throw new IllegalArgumentException("value " + Long.toBinaryString(bits) + " has more than " + length
                            + " bits");
                }
                String text = Long.toBinaryString(bits);
                return "0".repeat(length - text.length()) + text;
            }

            @Override
            public Object toSource(Object targetValue) {
                String text = require(targetValue, String.class, "a text of 0s and 1s");
                if (text.isEmpty() || text.length() > length || !text.chars().allMatch(c -> c == '0' || c == '1')) {
                    throw new IllegalArgumentException("'" + text + "' is not a string of 1 to " + length + " bits");
                }
                long bits = Long.parseUnsignedLong(text, 2);
                byte[] bytes = new byte[(length + 7) / 8];
                for (int i = bytes.length - 1; i >= 0; i--, bits >>>= 8) {
                    bytes[i] = (byte) bits;
                }
                return bytes;
            }
        };
    }

    /**
     * A date-time in the source ({@code DATETIME}), a date in the target ({@code date}), for columns that
     * only ever hold midnight: {@code 2024-03-01 00:00:00} becomes {@code 2024-03-01}. A value with a time of
     * day fails the row rather than losing it. Back in the source a date becomes its midnight. Implied for
     * that pair.
     *
     * @return the converter, for {@link Timestamp} and {@link LocalDateTime} source values
     */
    public static ColumnConverter dateTimeToDate() {
        return new Named("dateTimeToDate()", Set.of(TypeFamily.TIMESTAMP), TypeFamily.DATE) {
            @Override
            public Object toTarget(Object sourceValue) {
                LocalDateTime time = sourceValue instanceof Timestamp timestamp ? timestamp.toLocalDateTime()
                        : require(sourceValue, LocalDateTime.class, "a date-time");
                if (!time.toLocalTime().equals(LocalTime.MIDNIGHT)) {
                    throw new IllegalArgumentException(time + " has a time of day, which a date column cannot hold");
                }
                return time.toLocalDate();
            }

            @Override
            public Object toSource(Object targetValue) {
                if (targetValue instanceof java.sql.Date date) {
                    return date.toLocalDate().atStartOfDay();
                }
                return require(targetValue, java.time.LocalDate.class, "a date").atStartOfDay();
            }
        };
    }

    /**
     * A wall-clock time in the source ({@code DATETIME}, {@code TIMESTAMP WITHOUT TIME ZONE}) that was written
     * in {@code zone}, an instant in the target ({@code timestamptz}): {@code 2024-07-01 12:00} in
     * {@code Asia/Shanghai} becomes {@code 2024-07-01T04:00Z}. Back in the source the instant is written as
     * its wall-clock time in {@code zone}. A time that does not exist in the zone (a daylight-saving gap) fails
     * the row; one that exists twice (clocks going back) is taken as the earlier. Implied with the JVM's time
     * zone, as the drivers would write it; declare it to state the zone.
     *
     * @param zone the zone the source's wall-clock times are in
     * @return the converter, for {@link Timestamp} and {@link LocalDateTime} source values and
     *     {@link Timestamp}, {@link OffsetDateTime} and {@link Instant} target values
     */
    public static ColumnConverter wallClockToInstant(ZoneId zone) {
        Objects.requireNonNull(zone, "zone");
        return new Named("wallClockToInstant(" + zone + ")", Set.of(TypeFamily.TIMESTAMP), TypeFamily.TIMESTAMPTZ) {
            @Override
            public Object toTarget(Object sourceValue) {
                LocalDateTime time = sourceValue instanceof Timestamp timestamp ? timestamp.toLocalDateTime()
                        : require(sourceValue, LocalDateTime.class, "a wall-clock time");
                if (zone.getRules().getValidOffsets(time).isEmpty()) {
                    throw new IllegalArgumentException(time + " does not exist in time zone " + zone
                            + " (it falls in a daylight-saving gap)");
                }
                return time.atZone(zone).toOffsetDateTime();
            }

            @Override
            public Object toSource(Object targetValue) {
                Instant instant;
                if (targetValue instanceof Timestamp timestamp) {
                    instant = timestamp.toInstant();
                } else if (targetValue instanceof OffsetDateTime time) {
                    instant = time.toInstant();
                } else if (targetValue instanceof ZonedDateTime time) {
                    instant = time.toInstant();
                } else {
                    instant = require(targetValue, Instant.class, "an instant");
                }
                return LocalDateTime.ofInstant(instant, zone);
            }
        };
    }

    /**
     * MySQL's {@code TIME}, a span of time ({@link java.time.Duration}, up to 838 hours either way), in the
     * source; a time of day ({@code time}) in the target. A span outside {@code 00:00:00} to
     * {@code 23:59:59.999999} fails the row. Implied for that pair.
     *
     * @return the converter; target values are {@link LocalTime}s, and {@link java.sql.Time}s are read back
     */
    public static ColumnConverter durationToTimeOfDay() {
        return new Named("durationToTimeOfDay()", Set.of(TypeFamily.DURATION), TypeFamily.TIME) {
            @Override
            public Object toTarget(Object sourceValue) {
                java.time.Duration span = require(sourceValue, java.time.Duration.class, "a span of time");
                if (span.isNegative() || span.compareTo(java.time.Duration.ofDays(1)) >= 0) {
                    throw new IllegalArgumentException(span + " is not a time of day");
                }
                return LocalTime.ofNanoOfDay(span.toNanos());
            }

            @Override
            public Object toSource(Object targetValue) {
                LocalTime time = targetValue instanceof java.sql.Time sqlTime ? sqlTime.toLocalTime()
                        : require(targetValue, LocalTime.class, "a time of day");
                return java.time.Duration.ofNanos(time.toNanoOfDay());
            }
        };
    }

    /**
     * MySQL's {@code TIME}, a span of time ({@link java.time.Duration}), in the source; PostgreSQL's
     * {@code interval} in the target, written as the text PostgreSQL prints it ({@code 26:03:04.5},
     * {@code -01:00:00}). Back in the source, the interval's text becomes a span again: days count 24 hours;
     * an interval with months or years, which have no fixed length, fails the row. Implied for that pair.
     *
     * @return the converter; target values are texts
     */
    public static ColumnConverter durationToInterval() {
        return new Named("durationToInterval()", Set.of(TypeFamily.DURATION), TypeFamily.INTERVAL) {
            @Override
            public Object toTarget(Object sourceValue) {
                return intervalText(require(sourceValue, java.time.Duration.class, "a span of time"));
            }

            @Override
            public Object toSource(Object targetValue) {
                return parseInterval(require(targetValue, String.class, "the text of an interval"));
            }
        };
    }

    /**
     * A uuid kept as its 16 bytes in the source ({@code BINARY(16)}), a {@code uuid} in the target. Implied
     * for that pair; key columns need no converter, as their values are brought to one form anyway.
     *
     * @return the converter
     */
    public static ColumnConverter uuidBytes() {
        return new Named("uuidBytes()", Set.of(TypeFamily.BINARY), TypeFamily.UUID) {
            @Override
            public Object toTarget(Object sourceValue) {
                byte[] bytes = require(sourceValue, byte[].class, "16 bytes");
                if (bytes.length != 16) {
                    throw new IllegalArgumentException(bytes.length + " bytes are not a uuid, which has 16");
                }
                java.nio.ByteBuffer buffer = java.nio.ByteBuffer.wrap(bytes);
                return new java.util.UUID(buffer.getLong(), buffer.getLong());
            }

            @Override
            public Object toSource(Object targetValue) {
                java.util.UUID uuid = targetValue instanceof String text ? java.util.UUID.fromString(text)
                        : require(targetValue, java.util.UUID.class, "a uuid");
                return java.nio.ByteBuffer.allocate(16).putLong(uuid.getMostSignificantBits())
                        .putLong(uuid.getLeastSignificantBits()).array();
            }
        };
    }

    /**
     * A span of time as PostgreSQL prints an interval of hours: {@code [-]HH:MM:SS[.fraction]}, the fraction
     * without trailing zeros. Reading the text back with {@link #parseInterval} gives the span again.
     */
    static String intervalText(java.time.Duration span) {
        java.time.Duration size = span.abs();
        long seconds = size.getSeconds();
        StringBuilder text = new StringBuilder(span.isNegative() ? "-" : "")
                .append(String.format(java.util.Locale.ROOT, "%02d:%02d:%02d", seconds / 3600, seconds / 60 % 60,
                        seconds % 60));
        if (size.getNano() != 0) {
            String fraction = String.format(java.util.Locale.ROOT, "%09d", size.getNano());
            text.append('.').append(fraction.replaceAll("0+$", ""));
        }
        return text.toString();
    }

    /**
     * Reads an interval as PostgreSQL prints it in its default style ({@code 1 day -02:03:04.5},
     * {@code 26:00:00}, {@code 3 days}) or in ISO 8601 ({@code PT26H}), as a span where a day is 24 hours.
     *
     * @throws IllegalArgumentException for months, years or text that is no interval
     */
    static java.time.Duration parseInterval(String text) {
        String trimmed = text.trim();
        if (trimmed.startsWith("P") || trimmed.startsWith("-P")) {
            try {
                return java.time.Duration.parse(trimmed);
            } catch (java.time.format.DateTimeParseException e) {
                throw new IllegalArgumentException("'" + text + "' is not an interval of days, hours, minutes and"
                        + " seconds");
            }
        }
        java.time.Duration span = java.time.Duration.ZERO;
        String[] words = trimmed.split("\\s+");
        for (int i = 0; i < words.length; i++) {
            String word = words[i];
            if (word.contains(":")) {
                span = span.plus(clock(word, text));
            } else if (i + 1 < words.length && words[i + 1].startsWith("day")) {
                span = span.plusDays(Long.parseLong(word.replace("+", "")));
                i++;
            } else if (i + 1 < words.length && (words[i + 1].startsWith("mon") || words[i + 1].startsWith("year"))) {
                throw new IllegalArgumentException("interval '" + text + "' has months or years, which have no fixed"
                        + " length");
            } else {
                throw new IllegalArgumentException("'" + text + "' is not an interval of days, hours, minutes and"
                        + " seconds");
            }
        }
        return span;
    }

    private static java.time.Duration clock(String word, String text) {
        boolean negative = word.startsWith("-");
        String[] parts = word.replaceFirst("^[-+]", "").split(":");
        if (parts.length != 3) {
            throw new IllegalArgumentException("'" + text + "' is not an interval of days, hours, minutes and seconds");
        }
        try {
            java.time.Duration span = java.time.Duration.ofHours(Long.parseLong(parts[0]))
                    .plusMinutes(Long.parseLong(parts[1]))
                    .plusNanos(new BigDecimal(parts[2]).movePointRight(9).longValueExact());
            return negative ? span.negated() : span;
        } catch (NumberFormatException | ArithmeticException e) {
            throw new IllegalArgumentException("'" + text + "' is not an interval of days, hours, minutes and seconds");
        }
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

    /**
     * Gives each built-in converter the name messages and {@code toString()} show, and the column types it
     * reads and writes, which start-up checks against the mapped columns (see {@link TypePairs}).
     */
    abstract static class Named implements ColumnConverter {

        private final String name;
        private final Set<TypeFamily> reads;
        private final TypeFamily writes;

        /**
         * @param reads the source column families it accepts values of
         * @param writes the family of the values it returns, or {@code null} for the source column's own
         */
        Named(String name, Set<TypeFamily> reads, TypeFamily writes) {
            this.name = name;
            this.reads = reads;
            this.writes = writes;
        }

        Set<TypeFamily> reads() {
            return reads;
        }

        TypeFamily writes(TypeFamily source) {
            return writes == null ? source : writes;
        }

        @Override
        public String toString() {
            return "Converters." + name;
        }
    }
}
