package io.dualwrite.mapping;

import io.dualwrite.jdbc.Row;

/**
 * Turns one source row into one target row when renames and ignored columns are not enough. It
 * receives every source column that is not ignored, and must return every target column the mapping
 * writes (see {@link MappedTable#targetColumns()}), key and version columns included.
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
