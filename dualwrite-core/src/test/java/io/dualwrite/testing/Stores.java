package io.dualwrite.testing;

import java.util.Arrays;
import java.util.stream.Stream;

import org.junit.jupiter.params.provider.Arguments;

/**
 * Argument sources for tests that run on every store, for
 * {@code @MethodSource("io.dualwrite.testing.Stores#pairs")} and
 * {@code @MethodSource("io.dualwrite.testing.Stores#all")}.
 */
public final class Stores {

    private Stores() {
    }

    /**
     * The source-to-target pairs the mirror tests run on: H2 to H2 (fast, always available), and
     * the two directions between MariaDB and PostgreSQL, which differ in upsert syntax, locking
     * and type mapping.
     *
     * @return three {@code Arguments.of(Store source, Store target)}
     */
    public static Stream<Arguments> pairs() {
        return Stream.of(
                Arguments.of(Store.H2, Store.H2),
                Arguments.of(Store.MARIADB, Store.POSTGRESQL),
                Arguments.of(Store.POSTGRESQL, Store.MARIADB));
    }

    /**
     * Every store, for tests that need one database of each kind.
     *
     * @return the stores in declaration order
     */
    public static Stream<Store> all() {
        return Arrays.stream(Store.values());
    }
}
