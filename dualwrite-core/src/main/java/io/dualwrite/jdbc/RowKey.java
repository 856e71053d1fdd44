package io.dualwrite.jdbc;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.stream.Collectors;

/**
 * The primary key of one row: its key column values, in key column order. The unit of mirroring,
 * comparison and repair.
 *
 * <p>Integral numbers are normalised to {@link Long} so that a key captured from an application's
 * {@code int} id equals the same key read back from a {@code BIGINT} column, and repeated changes of
 * one key coalesce; {@code byte[]} values become {@link KeyBytes}, which are equal by content. Every
 * other form is brought to one per column type by the table's {@link KeyCodec}s
 * ({@link TableOps#canonicalKey}), which needs to know the column: a {@code RowKey} made here from an
 * application's values is not yet comparable with one read from the store until it went through them.
 */
public final class RowKey {

    /** Decimals are written and read exactly, so that {@code 12.50} comes back as {@code 12.50}, not 12.5d. */
    private static final tools.jackson.databind.json.JsonMapper JSON =
            tools.jackson.databind.json.JsonMapper.builder()
                    .enable(tools.jackson.core.StreamWriteFeature.WRITE_BIGDECIMAL_AS_PLAIN)
                    .enable(tools.jackson.databind.DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                    .build();

    private static final String BASE64 = "base64";

    private final List<Object> values;

    private RowKey(List<Object> values) {
        this.values = Collections.unmodifiableList(values);
    }

    /**
     * Creates a key from its column values.
     *
     * @param values one value per key column, none {@code null}
     * @return the key
     * @throws IllegalArgumentException if there are no values or one is {@code null}
     */
    public static RowKey of(Object... values) {
        return of(Arrays.asList(values));
    }

    /**
     * Creates a key from its column values.
     *
     * @param values one value per key column, none {@code null}
     * @return the key
     * @throws IllegalArgumentException if there are no values or one is {@code null}
     */
    public static RowKey of(List<?> values) {
        if (values.isEmpty()) {
            throw new IllegalArgumentException("a key needs at least one value");
        }
        List<Object> normalised = new ArrayList<>(values.size());
        for (Object value : values) {
            if (value == null) {
                throw new IllegalArgumentException("a key value is null in " + values);
            }
            normalised.add(normalise(value));
        }
        return new RowKey(normalised);
    }

    /**
     * Turns what an application hands over as "the key" into a key: a {@code RowKey}, a {@link List}
     * or array of column values (composite keys), or a single value.
     *
     * @param key the key object
     * @return the key
     * @throws IllegalArgumentException if the key or one of its values is {@code null}
     */
    public static RowKey from(Object key) {
        if (key instanceof RowKey rowKey) {
            return rowKey;
        }
        if (key instanceof Collection<?> collection) {
            return of(new ArrayList<>(collection));
        }
        if (key instanceof Object[] array) {
            return of(array);
        }
        if (key == null) {
            throw new IllegalArgumentException("key is null");
        }
        return of(List.of(key));
    }

    private static Object normalise(Object value) {
        if (value instanceof Integer || value instanceof Long || value instanceof Short || value instanceof Byte) {
            return ((Number) value).longValue();
        }
        if (value instanceof BigInteger big && big.bitLength() < 64) {
            return big.longValue();
        }
        if (value instanceof BigDecimal decimal && decimal.scale() <= 0 && decimal.precision() - decimal.scale() < 19) {
            return decimal.longValueExact();
        }
        if (value instanceof byte[] bytes) {
            return KeyBytes.of(bytes);
        }
        return value;
    }

    /**
     * The JSON form of one value: numbers and text as they are, binary values as {@code {"base64": ...}}
     * (so that they are never mistaken for text), everything else as its text (uuids, ISO dates and times),
     * which the column's {@link KeyCodec} parses back.
     */
    private static Object jsonValue(Object value) {
        if (value instanceof Number || value instanceof String || value instanceof Boolean) {
            return value;
        }
        if (value instanceof KeyBytes bytes) {
            return java.util.Map.of(BASE64, bytes.base64());
        }
        return value.toString();
    }

    private static Object fromJsonValue(Object value) {
        if (value instanceof java.util.Map<?, ?> map) {
            if (map.size() == 1 && map.get(BASE64) instanceof String base64) {
                return KeyBytes.wrap(java.util.Base64.getDecoder().decode(base64));
            }
            throw new IllegalArgumentException("a key value is an object other than {\"" + BASE64 + "\": ...}");
        }
        return value;
    }

    /**
     * Encodes the key as a JSON array, the form library tables store keys in.
     *
     * @return the JSON text, such as {@code [42]}, {@code ["eu",7]} or {@code [{"base64":"AAE="}]}
     */
    public String toJson() {
        List<Object> json = new ArrayList<>(values.size());
        for (Object value : values) {
            json.add(jsonValue(value));
        }
        return JSON.writeValueAsString(json);
    }

    /**
     * Decodes a key written by {@link #toJson()}. Values come back as JSON holds them (uuids, dates and
     * times as text); bring them to their column's form with {@link TableOps#canonicalKey}.
     *
     * @param json the JSON array
     * @return the key
     * @throws IllegalArgumentException if the text is not a non-empty JSON array of non-null values
     */
    public static RowKey fromJson(String json) {
        try {
            List<?> parsed = JSON.readValue(json, List.class);
            List<Object> values = new ArrayList<>(parsed.size());
            for (Object value : parsed) {
                values.add(value == null ? null : fromJsonValue(value));
            }
            return of(values);
        } catch (tools.jackson.core.JacksonException | IllegalArgumentException e) {
            throw new IllegalArgumentException("'" + json + "' is not a key written by dualwrite (a JSON array)", e);
        }
    }

    /** @return the key column values, in key column order */
    public List<Object> values() {
        return values;
    }

    /** @return how many columns the key has */
    public int size() {
        return values.size();
    }

    /**
     * Returns one value of the key.
     *
     * @param index the key column's position
     * @return the value
     * @throws IndexOutOfBoundsException if there is no such position
     */
    public Object get(int index) {
        return values.get(index);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof RowKey key && values.equals(key.values);
    }

    @Override
    public int hashCode() {
        return values.hashCode();
    }

    @Override
    public String toString() {
        return values.size() == 1
                ? String.valueOf(values.get(0))
                : values.stream().map(String::valueOf).collect(Collectors.joining(",", "(", ")"));
    }
}
