package io.dualwrite.testing;

import io.dualwrite.mapping.Converters;
import io.dualwrite.mapping.KeyMapping;
import io.dualwrite.mapping.TableMapping;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

/**
 * An old order table and the new schema it migrates to, for the tests of heterogeneous mappings:
 *
 * <pre>
 * t_order_legacy (source)                    orders (target)
 *   order_no VARCHAR(32) primary key    -->    id BIGINT primary key, generated through dualwrite_id_map
 *   user_id VARCHAR(20)                 -->    buyer_id BIGINT
 *   status SMALLINT (0, 1, 2)           -->    state VARCHAR(16) (NEW, PAID, SHIPPED)
 *   amount DECIMAL(12,2)                -->    amount_cents BIGINT
 *   attributes VARCHAR(1000)            -->    attrs JSONB (PostgreSQL) / JSON
 *   full_name VARCHAR(100)              -->    first_name, last_name VARCHAR(50)
 *   legacy_flag INT                            (ignored)
 *                                              currency CHAR(3) NOT NULL, the constant 'EUR'
 *   gmt_modified DATETIME(6)            -->    gmt_modified TIMESTAMP(3), cut to milliseconds
 * </pre>
 */
public final class LegacyOrders {

    /** The status code table. */
    public static final Map<Integer, String> STATES = Map.of(0, "NEW", 1, "PAID", 2, "SHIPPED");

    private LegacyOrders() {
    }

    /**
     * Creates {@code t_order_legacy} in the source and {@code orders} in the target.
     *
     * @param source the source database
     * @param target the target database
     */
    public static void create(TestDatabase source, TestDatabase target) {
        String micros = source.store() == Store.MARIADB ? "DATETIME(6)" : "TIMESTAMP(6)";
        source.execute("CREATE TABLE t_order_legacy (order_no VARCHAR(32) NOT NULL PRIMARY KEY,"
                + " user_id VARCHAR(20) NOT NULL, status SMALLINT NOT NULL, amount DECIMAL(12,2),"
                + " attributes VARCHAR(1000), full_name VARCHAR(100), legacy_flag INT, gmt_modified " + micros
                + " NOT NULL)");
        String json = target.store() == Store.POSTGRESQL ? "JSONB" : "JSON";
        target.execute("CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, buyer_id BIGINT NOT NULL,"
                + " state VARCHAR(16) NOT NULL, amount_cents BIGINT, attrs " + json + ", first_name VARCHAR(50),"
                + " last_name VARCHAR(50), currency CHAR(3) NOT NULL, gmt_modified "
                + OrderTable.timestampType(target.store()) + " NOT NULL)");
    }

    /** @return the mapping of {@code t_order_legacy} to {@code orders} */
    public static TableMapping mapping() {
        return TableMapping.builder("t_order_legacy").targetTable("orders")
                .keyMapping(KeyMapping.idMap())
                .rename("order_no", "id")
                .rename("user_id", "buyer_id").convert("user_id", Converters.numberToString(Long.class).inverse())
                .rename("status", "state").convert("status", Converters.codeToText(STATES))
                .rename("amount", "amount_cents").convert("amount", Converters.decimalToMinorUnits(2))
                .rename("attributes", "attrs").convert("attributes", Converters.json())
                .split("full_name", Converters.splitOnFirst(" "), "first_name", "last_name")
                .convert("gmt_modified", Converters.timestampPrecision(ChronoUnit.MILLIS))
                .constant("currency", "EUR")
                .ignore("legacy_flag")
                .build();
    }

    /** @return the insert of one legacy order: order_no, user_id, status, amount, attributes, full_name, gmt_modified */
    public static String insertSql() {
        return "INSERT INTO t_order_legacy (order_no, user_id, status, amount, attributes, full_name, legacy_flag,"
                + " gmt_modified) VALUES (?, ?, ?, ?, ?, ?, 1, ?)";
    }

    /**
     * Reads the target's orders with their source keys, as text a test can compare whatever the store:
     * source key, buyer_id, state, amount_cents, first_name, last_name, currency, gmt_modified.
     *
     * @param target the target database
     * @return one list per order, ordered by buyer_id
     */
    public static List<List<String>> targetOrders(TestDatabase target) {
        return target.queryForList("SELECT m.source_key, o.buyer_id, o.state, o.amount_cents, o.first_name,"
                + " o.last_name, o.currency, o.gmt_modified FROM orders o JOIN dualwrite_id_map m"
                + " ON m.target_key = o.id AND m.namespace = 't_order_legacy' ORDER BY o.buyer_id").stream()
                .map(row -> row.values().stream().map(OrderTable::normalise)
                        .map(v -> v == null ? "null" : v.toString().trim()).toList())
                .toList();
    }

    /**
     * @param store the target's store
     * @return a query with one parameter, buyer_id, answering whether that order's attrs is a JSON object
     */
    public static String attrsIsObjectSql(Store store) {
        return switch (store) {
            case POSTGRESQL -> "SELECT jsonb_typeof(attrs) = 'object' FROM orders WHERE buyer_id = ?";
            case MARIADB -> "SELECT JSON_TYPE(attrs) = 'OBJECT' FROM orders WHERE buyer_id = ?";
            case H2 -> "SELECT attrs IS JSON OBJECT FROM orders WHERE buyer_id = ?";
        };
    }

    /**
     * @param store the target's store
     * @return a query with one parameter, buyer_id, reading that order's attrs as JSON text
     */
    public static String attrsTextSql(Store store) {
        return "SELECT " + switch (store) {
            case POSTGRESQL -> "attrs::text";
            case MARIADB -> "attrs";
            case H2 -> "CAST(attrs AS VARCHAR)";
        } + " FROM orders WHERE buyer_id = ?";
    }

    /**
     * @param orderNo a legacy order number
     * @param userId its user id, as the old system's text
     * @param status its status code
     * @param amount its amount, or null
     * @param attributes its attributes as JSON text, or null
     * @param fullName the buyer's full name, or null
     * @param modified its last-modified time
     * @return the arguments of {@link #insertSql()}
     */
    public static Object[] order(String orderNo, String userId, int status, BigDecimal amount, String attributes,
            String fullName, Timestamp modified) {
        return new Object[] {orderNo, userId, status, amount, attributes, fullName, modified};
    }
}
