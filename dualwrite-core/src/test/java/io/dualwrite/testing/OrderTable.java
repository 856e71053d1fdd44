package io.dualwrite.testing;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/** The order table most mirror tests use, with DDL for each store, and a row-by-row comparison. */
public final class OrderTable {

    private OrderTable() {
    }

    /** @return the timestamp type with millisecond precision on this store */
    public static String timestampType(Store store) {
        return store == Store.MARIADB ? "DATETIME(3)" : "TIMESTAMP(3)";
    }

    /**
     * @param store the store
     * @param table the table name
     * @return {@code CREATE TABLE} for an order table: id, user_id, status, amount, note, gmt_modified
     */
    public static String ddl(Store store, String table) {
        return "CREATE TABLE " + table + " (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,"
                + " status VARCHAR(32) NOT NULL, amount DECIMAL(12,2), note VARCHAR(200), gmt_modified "
                + timestampType(store) + " NOT NULL)";
    }

    /**
     * Compares a table on two stores, row by row, after normalising what legitimately differs between
     * drivers (integer widths, decimal scale, timestamp classes).
     *
     * @return one line per differing key; empty when the tables are equal
     */
    public static List<String> differences(TestDatabase source, String sourceTable, TestDatabase target,
            String targetTable, String... keyColumns) {
        Map<String, Map<String, Object>> left = load(source, sourceTable, keyColumns);
        Map<String, Map<String, Object>> right = load(target, targetTable, keyColumns);
        List<String> differences = new ArrayList<>();
        for (Map.Entry<String, Map<String, Object>> row : left.entrySet()) {
            Map<String, Object> other = right.get(row.getKey());
            if (other == null) {
                differences.add("missing in target: " + row.getValue());
            } else if (!Objects.equals(row.getValue(), other)) {
                differences.add("differs: source " + row.getValue() + " target " + other);
            }
        }
        for (Map.Entry<String, Map<String, Object>> row : right.entrySet()) {
            if (!left.containsKey(row.getKey())) {
                differences.add("extra in target: " + row.getValue());
            }
        }
        return differences;
    }

    private static Map<String, Map<String, Object>> load(TestDatabase db, String table, String... keyColumns) {
        Map<String, Map<String, Object>> rows = new TreeMap<>();
        for (Map<String, Object> row : db.queryForList("SELECT * FROM " + table)) {
            Map<String, Object> normalised = new LinkedHashMap<>();
            row.forEach((column, value) -> normalised.put(column, normalise(value)));
            StringBuilder key = new StringBuilder();
            for (String column : keyColumns) {
                key.append(normalised.get(column)).append('|');
            }
            rows.put(key.toString(), normalised);
        }
        return rows;
    }

    /** Brings a value to a driver-independent form. */
    public static Object normalise(Object value) {
        if (value instanceof BigDecimal decimal) {
            return decimal.stripTrailingZeros().toPlainString();
        }
        if (value instanceof Number number) {
            return new BigDecimal(number.toString()).stripTrailingZeros().toPlainString();
        }
        if (value instanceof Timestamp timestamp) {
            return timestamp.toLocalDateTime().truncatedTo(ChronoUnit.MILLIS).toString();
        }
        if (value instanceof LocalDateTime time) {
            return time.truncatedTo(ChronoUnit.MILLIS).toString();
        }
        if (value instanceof OffsetDateTime time) {
            return time.toLocalDateTime().truncatedTo(ChronoUnit.MILLIS).toString();
        }
        return value;
    }
}
