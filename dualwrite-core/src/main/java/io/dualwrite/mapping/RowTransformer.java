package io.dualwrite.mapping;

import io.dualwrite.jdbc.Row;

/**
 * Turns one source row into one target row when renames and ignored columns are not enough. It
 * receives every source column that is not ignored, and must return every target column the mapping
 * writes (see {@link MappedTable#targetColumns()}), key and version columns included, except those the
 * target fills itself: a generated column, or one with a default, may be left out of the returned row; the
 * target then computes or defaults it on insert and keeps it on update, and the verifier does not compare
 * it. (A generated column is never written, even when returned.)
 *
 * <p>Values arrive as the dialects read them (see {@code TypeFamily}): a date-time without a time zone
 * ({@code DATETIME}, {@code timestamp}) as a {@link java.time.LocalDateTime}, never a {@code java.sql.Timestamp},
 * which could not hold a time the JVM's zone skips; JSON, {@code inet}, {@code interval} and {@code bit(n)} as
 * their text; arrays as a {@link java.util.List}; MySQL's {@code YEAR} and {@code TINYINT(1)} as numbers.
 *
 * <p>During RAMP rows also travel back from the target to the source; a transformer that can do that
 * overrides {@link #toSource} and {@link #reversible()}. One that cannot marks its table one-way, and
 * RAMP is refused for it.
 *
 * <p>Implementations must be thread-safe and free of side effects: a row may be transformed more than
 * once.
 */
public interface RowTransformer {

    /**
     * Maps a source row to the target row.
     *
     * @param source the source row, after ignored columns are removed
     * @return the target row
     * @throws IllegalArgumentException if a value cannot be converted; the row is then parked
     */
    Row toTarget(Row source);

    /**
     * Maps a target row back to the source row.
     *
     * @param target the target row
     * @return the source row
     * @throws UnsupportedOperationException if the transformer is one-way (the default)
     */
    default Row toSource(Row target) {
        throw new UnsupportedOperationException(getClass().getName() + " cannot map target rows back to the source");
    }

    /** @return whether {@link #toSource} is implemented; false makes the table one-way */
    default boolean reversible() {
        return false;
    }
}
