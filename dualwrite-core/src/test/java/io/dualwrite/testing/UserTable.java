package io.dualwrite.testing;

/**
 * A table with a unique index besides its key, for the tests of unique values that move between keys:
 * {@code t_user(id, email UNIQUE, name, gmt_modified)}.
 */
public final class UserTable {

    private UserTable() {
    }

    /**
     * @param store the store
     * @param table the table name
     * @return {@code CREATE TABLE} with a unique constraint on {@code email}
     */
    public static String ddl(Store store, String table) {
        return "CREATE TABLE " + table + " (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(64) NOT NULL,"
                + " name VARCHAR(64), gmt_modified " + OrderTable.timestampType(store) + " NOT NULL,"
                + " CONSTRAINT uk_" + table + "_email UNIQUE (email))";
    }
}
