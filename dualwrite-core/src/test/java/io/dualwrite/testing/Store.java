package io.dualwrite.testing;

/**
 * A database product the tests run on. {@link TestDatabase#create(Store, String)} turns one into a
 * fresh, private database.
 */
public enum Store {

    /** H2 in memory, in this JVM; always available. */
    H2,

    /** A MariaDB server: a local one, a Testcontainers container, or the one named by {@code DUALWRITE_IT_MARIADB_URL}. */
    MARIADB,

    /** A PostgreSQL server: a local one, a Testcontainers container, or the one named by {@code DUALWRITE_IT_POSTGRES_URL}. */
    POSTGRESQL
}
