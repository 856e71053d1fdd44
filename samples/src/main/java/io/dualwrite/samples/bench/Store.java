package io.dualwrite.samples.bench;

import io.dualwrite.jdbc.Dialect;
import java.util.Locale;

/**
 * A database server the benchmark runs against, located the way the integration tests locate it: a
 * URL, user and password from {@code DUALWRITE_IT_*} environment variables, with the same defaults.
 */
enum Store {

    MARIADB("MariaDB", Dialect.Product.MARIADB, "DUALWRITE_IT_MARIADB", "jdbc:mariadb://127.0.0.1:3306/test", "root",
            "DATETIME(3)"),
    POSTGRESQL("PostgreSQL", Dialect.Product.POSTGRESQL, "DUALWRITE_IT_POSTGRES",
            "jdbc:postgresql://127.0.0.1:5432/test", "postgres", "TIMESTAMP(3)");

    private final String label;
    private final Dialect.Product product;
    private final String variablePrefix;
    private final String defaultUrl;
    private final String defaultUser;
    private final String timestampType;

    Store(String label, Dialect.Product product, String variablePrefix, String defaultUrl, String defaultUser,
            String timestampType) {
        this.label = label;
        this.product = product;
        this.variablePrefix = variablePrefix;
        this.defaultUrl = defaultUrl;
        this.defaultUser = defaultUser;
        this.timestampType = timestampType;
    }

    String label() {
        return label;
    }

    Dialect dialect() {
        return Dialect.forProduct(product);
    }

    /** @return the server URL: {@code <prefix>_URL} or the tests' default */
    String baseUrl() {
        String url = environment(variablePrefix + "_URL");
        return url != null ? url : defaultUrl;
    }

    /** @return the user, or {@code null} when the URL carries one and the variable is unset */
    String user() {
        String user = environment(variablePrefix + "_USER");
        if (user != null) {
            return user;
        }
        return baseUrl().toLowerCase(Locale.ROOT).contains("user=") ? null : defaultUser;
    }

    /** @return the password, or {@code null} when unset (empty for the default user) */
    String password() {
        String password = environment(variablePrefix + "_PASSWORD");
        return password != null ? password : user() == null ? null : "";
    }

    /**
     * The URL of the scratch space {@code name}: on MariaDB the database in the URL's path is replaced;
     * on PostgreSQL the database stays and {@code currentSchema} points unqualified names at the schema.
     */
    String scopedUrl(String name) {
        String url = baseUrl();
        if (this == POSTGRESQL) {
            return url + (url.indexOf('?') >= 0 ? '&' : '?') + "currentSchema=" + name;
        }
        int hostStart = url.indexOf("//");
        if (hostStart < 0) {
            throw new IllegalArgumentException(variablePrefix + "_URL: '" + url
                    + "' is not of the form jdbc:mariadb://host:port/database");
        }
        int query = url.indexOf('?', hostStart + 2);
        int pathEnd = query >= 0 ? query : url.length();
        int slash = url.indexOf('/', hostStart + 2);
        if (slash < 0 || slash > pathEnd) {
            return url.substring(0, pathEnd) + "/" + name + url.substring(pathEnd);
        }
        return url.substring(0, slash + 1) + name + url.substring(pathEnd);
    }

    String createScope(String name) {
        return this == MARIADB ? "CREATE DATABASE " + name + " CHARACTER SET utf8mb4" : "CREATE SCHEMA " + name;
    }

    String dropScope(String name) {
        return this == MARIADB ? "DROP DATABASE IF EXISTS " + name : "DROP SCHEMA IF EXISTS " + name + " CASCADE";
    }

    /** @return a statement that bounds how long the drop waits for locks, so a hung run cannot hang cleanup */
    String shortLockWait() {
        return this == MARIADB ? "SET SESSION lock_wait_timeout = 10" : "SET lock_timeout = '10s'";
    }

    String createOrderTable() {
        return "CREATE TABLE t_order (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, status VARCHAR(32) NOT NULL,"
                + " amount DECIMAL(12,2), note VARCHAR(200), gmt_modified " + timestampType + " NOT NULL)"
                + (this == MARIADB ? " ENGINE=InnoDB" : "");
    }

    String analyze() {
        return this == MARIADB ? "ANALYZE TABLE t_order" : "VACUUM ANALYZE t_order";
    }

    private static String environment(String variable) {
        String value = System.getenv(variable);
        return value == null || value.isBlank() ? null : value.trim();
    }
}
