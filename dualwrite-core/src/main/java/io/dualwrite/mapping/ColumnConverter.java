package io.dualwrite.mapping;

/**
 * Converts one column's value on its way to the target, and back. Declared per source column with
 * {@link TableMapping.Builder#convert(String, ColumnConverter)}; {@link Converters} has the built-in
 * ones.
 *
 * <p>{@code null} never reaches a converter: SQL {@code NULL} stays {@code NULL} in both directions.
 * A value that does not convert must be refused with an {@link IllegalArgumentException} that says
 * what is wrong with it; the mapping adds the table, key and column, and the row is failed and
 * parked rather than written half-converted. Never return a guess.
 *
 * <p>{@link #toSource} must undo {@link #toTarget}: for every value the source can hold,
 * {@code toSource(toTarget(v))} equals {@code v}, or rows mirrored back during RAMP would drift.
 * Implementations must be thread-safe and free of side effects.
 */
public interface ColumnConverter {

    /**
     * Converts a source value to the value written to the target.
     *
     * @param sourceValue the value read from the source, never {@code null}
     * @return the target value, never {@code null}
     * @throws IllegalArgumentException if the value cannot be converted
     */
    Object toTarget(Object sourceValue);

    /**
     * Converts a target value back to the source value.
     *
     * @param targetValue the value read from the target, never {@code null}
     * @return the source value, never {@code null}
     * @throws IllegalArgumentException if the value cannot be converted
     */
    Object toSource(Object targetValue);

    /**
     * Returns the converter that goes the other way: its {@code toTarget} is this one's
     * {@code toSource}. Turns, for example, number-to-string into string-to-number.
     *
     * @return the inverse converter
     */
    default ColumnConverter inverse() {
        ColumnConverter forward = this;
        return new ColumnConverter() {
            @Override
            public Object toTarget(Object sourceValue) {
                return forward.toSource(sourceValue);
            }

            @Override
            public Object toSource(Object targetValue) {
                return forward.toTarget(targetValue);
            }

            @Override
            public ColumnConverter inverse() {
                return forward;
            }

            @Override
            public String toString() {
                return "inverse of " + forward;
            }
        };
    }
}
