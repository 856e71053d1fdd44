package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The backfill benchmark's table: a ten-column {@code t_order} with a BIGINT key, the shape of a real
 * order table (money, currency, counts, two free-text columns with NULLs, two millisecond timestamps),
 * its deterministic content, and a checksum that both stores compute the same way.
 *
 * <p>This is wider than the mirror benchmark's six-column {@code t_order} ({@link Store#createOrderTable()}),
 * because a copy's cost grows with the bytes and values per row.
 */
final class OrderTable {

    static final String NAME = "t_order";
    static final List<String> COLUMNS = List.of("id", "user_id", "status", "amount", "currency", "item_count", "note",
            "address", "gmt_create", "gmt_modified");

    private static final int LOAD_BATCH = 5_000;
    private static final String[] STATUSES = {"NEW", "PAID", "SHIPPED", "DELIVERED", "CANCELLED"};
    private static final String[] CURRENCIES = {"EUR", "USD", "CNY", "GBP", "JPY"};
    private static final String[] WORDS = {"please", "leave", "the", "parcel", "at", "front", "door", "call", "before",
            "delivery", "gift", "wrap", "no", "invoice", "fragile", "weekend", "only", "ring", "twice", "neighbour"};
    private static final String[] STREETS = {"Harbour Road", "Elm Street", "Station Avenue", "Mill Lane", "Kings Way",
            "Rue de la Paix", "Hauptstrasse", "Nanjing Road"};
    private static final String[] CITIES = {"Lisbon", "Leeds", "Lyon", "Leipzig", "Shanghai", "Osaka", "Denver"};
    private static final LocalDateTime EPOCH = LocalDateTime.of(2024, 1, 1, 0, 0);

    private OrderTable() {
    }

    /** @return the table's DDL on a store: DATETIME(3) on MariaDB, TIMESTAMP(3) on PostgreSQL */
    static String ddl(Store store) {
        String timestamp = store == Store.MARIADB ? "DATETIME(3)" : "TIMESTAMP(3)";
        return "CREATE TABLE " + NAME + " (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL,"
                + " status VARCHAR(32) NOT NULL, amount DECIMAL(12,2) NOT NULL, currency CHAR(3) NOT NULL,"
                + " item_count INT NOT NULL, note VARCHAR(200), address VARCHAR(200),"
                + " gmt_create " + timestamp + " NOT NULL, gmt_modified " + timestamp + " NOT NULL)"
                + (store == Store.MARIADB ? " ENGINE=InnoDB" : "");
    }

    /**
     * Fills the table with {@code rows} orders (ids 1..rows) in batches over a connection that carries the
     * dialect's batch rewriting ({@code rewriteBatchedStatements=true} on MariaDB), so a million rows load in
     * seconds. Loading is set-up, not a measurement.
     *
     * @throws SQLException if an insert fails
     */
    static void load(BenchDatabase database, int rows) throws SQLException {
        Store store = database.store();
        SplittableRandom random = new SplittableRandom(42);
        try (HikariDataSource pool = database.pool("bench-load", 1, true);
                Connection connection = pool.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO " + NAME + " ("
                        + String.join(", ", COLUMNS) + ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            connection.setAutoCommit(false);
            for (long id = 1; id <= rows; id++) {
                LocalDateTime created = EPOCH.plusSeconds(random.nextLong(2L * 365 * 86_400))
                        .plusNanos(random.nextInt(1_000) * 1_000_000L);
                LocalDateTime modified = created.plusNanos(random.nextLong(30L * 86_400_000) * 1_000_000L);
                insert.setLong(1, id);
                insert.setLong(2, 1 + random.nextInt(200_000));
                insert.setString(3, STATUSES[random.nextInt(STATUSES.length)]);
                insert.setBigDecimal(4, BigDecimal.valueOf(100 + random.nextLong(9_999_900), 2));
                insert.setString(5, CURRENCIES[random.nextInt(CURRENCIES.length)]);
                insert.setInt(6, 1 + random.nextInt(20));
                insert.setString(7, random.nextInt(10) < 7 ? note(random) : null);
                insert.setString(8, random.nextInt(20) == 0 ? null : (1 + random.nextInt(999)) + " "
                        + STREETS[random.nextInt(STREETS.length)] + ", " + (10_000 + random.nextInt(90_000)) + " "
                        + CITIES[random.nextInt(CITIES.length)]);
                insert.setTimestamp(9, Timestamp.valueOf(created));
                insert.setTimestamp(10, Timestamp.valueOf(modified));
                insert.addBatch();
                if (id % LOAD_BATCH == 0 || id == rows) {
                    insert.executeBatch();
                    connection.commit();
                }
            }
        }
        try (Connection connection = database.connect(); Statement statement = connection.createStatement()) {
            statement.execute(store.analyze());
        }
    }

    private static String note(SplittableRandom random) {
        StringBuilder note = new StringBuilder("order note:");
        int words = 3 + random.nextInt(10);
        for (int i = 0; i < words; i++) {
            note.append(' ').append(WORDS[random.nextInt(WORDS.length)]);
        }
        return note.toString();
    }

    /**
     * What a copy must preserve, computed in the database: row count, sum of ids, non-null notes, sum of
     * amounts, sum of item counts, characters of addresses, and the sum of {@code gmt_modified} in
     * milliseconds since 2000-01-01 (read as a wall-clock time on both stores, so no time zone enters).
     *
     * @param values the seven figures, in that order
     */
    record Checksum(List<BigDecimal> values) {

        boolean matches(Checksum other) {
            for (int i = 0; i < values.size(); i++) {
                if (values.get(i).compareTo(other.values.get(i)) != 0) {
                    return false;
                }
            }
            return true;
        }

        long rows() {
            return values.get(0).longValueExact();
        }

        /** @return the checksum of both tables together: each figure is a count or a sum, so they add up */
        Checksum plus(Checksum other) {
            List<BigDecimal> sum = new ArrayList<>();
            for (int i = 0; i < values.size(); i++) {
                sum.add(values.get(i).add(other.values.get(i)));
            }
            return new Checksum(sum);
        }

        @Override
        public String toString() {
            return "rows=" + values.get(0) + " sum(id)=" + values.get(1) + " count(note)=" + values.get(2)
                    + " sum(amount)=" + values.get(3) + " sum(item_count)=" + values.get(4) + " chars(address)="
                    + values.get(5) + " sum(gmt_modified ms)=" + values.get(6);
        }
    }

    /**
     * Computes the checksum of a table on a connection.
     *
     * @param table the table, optionally schema-qualified (pgloader's copy lives in its own schema)
     * @throws SQLException if the query fails
     */
    static Checksum checksum(Connection connection, Store store, String table) throws SQLException {
        return checksum(connection, store, table, null);
    }

    /**
     * Computes the checksum of the rows of a table with ids up to {@code upToId}.
     *
     * @param upToId the largest id counted, or {@code null} for every row
     * @throws SQLException if the query fails
     */
    static Checksum checksum(Connection connection, Store store, String table, Long upToId) throws SQLException {
        String millis = store == Store.MARIADB
                ? "TIMESTAMPDIFF(MICROSECOND, '2000-01-01', gmt_modified) DIV 1000"
                // pgloader makes gmt_modified a timestamptz: the session zone below makes it read as UTC.
                : "FLOOR(EXTRACT(EPOCH FROM (gmt_modified - TIMESTAMP '2000-01-01')) * 1000)";
        String sql = "SELECT COUNT(*), COALESCE(SUM(id), 0), COUNT(note), COALESCE(SUM(amount), 0),"
                + " COALESCE(SUM(item_count), 0), COALESCE(SUM(CHAR_LENGTH(address)), 0), COALESCE(SUM(" + millis
                + "), 0) FROM " + table + (upToId == null ? "" : " WHERE id <= " + upToId);
        try (Statement statement = connection.createStatement()) {
            if (store == Store.POSTGRESQL) {
                statement.execute("SET TIME ZONE 'UTC'");
            }
            try (ResultSet rs = statement.executeQuery(sql)) {
                rs.next();
                List<BigDecimal> values = new ArrayList<>();
                for (int i = 1; i <= 7; i++) {
                    values.add(rs.getBigDecimal(i));
                }
                return new Checksum(values);
            }
        }
    }

    /** @return the smallest and largest id, or {@code null} when the table is empty */
    static long[] keySpan(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT MIN(id), MAX(id) FROM " + NAME)) {
            rs.next();
            long min = rs.getLong(1);
            return rs.wasNull() ? null : new long[] {min, rs.getLong(2)};
        }
    }
}
