package io.dualwrite.routing;

/**
 * The store that is primary for a request, a transaction or a row: the one that takes the write and
 * whose state wins when the two stores differ.
 */
public enum Route {
    /** The old store. */
    SOURCE,
    /** The new store. */
    TARGET;

    /**
     * The store that is not primary: where mirroring writes and double reads compare.
     *
     * @return the other route
     */
    public Route other() {
        return this == SOURCE ? TARGET : SOURCE;
    }
}
