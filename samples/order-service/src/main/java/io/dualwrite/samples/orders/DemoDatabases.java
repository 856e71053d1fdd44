package io.dualwrite.samples.orders;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.shard.ShardingSphereTarget;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Random;
import java.util.random.RandomGenerator;
import javax.sql.DataSource;
import org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory;

/**
 * The world the service lives in before the migration: the old schema {@code t_order} with its
 * history, and the new schema {@code orders}, empty, in the new store.
 *
 * <pre>
 * t_order (old store)                       orders (new store)
 *   id            BIGINT primary key   -->    order_id      BIGINT primary key  (id + 1,000,000,000)
 *   user_id       BIGINT               -->    buyer_id      BIGINT
 *   status        TINYINT 0..3         -->    state         VARCHAR(16) NEW, PAID, SHIPPED, CANCELLED
 *   amount        DECIMAL(12,2)        -->    amount_cents  BIGINT
 *   ship_addr     VARCHAR(1000) JSON   -->    shipping      JSON (jsonb on PostgreSQL)
 *   gmt_create    DATETIME(3)          -->    created_at    TIMESTAMP(3)
 *   gmt_modified  DATETIME(3)          -->    updated_at    TIMESTAMP(3)  (the version column)
 *   region        VARCHAR(16)          -->    region        VARCHAR(16)   (the staged plan's test region)
 * </pre>
 */
public final class DemoDatabases {

    private static final String[][] ADDRESSES = {
        {"Lisbon", "Rua Augusta 12", "1100-053"},
        {"Berlin", "Torstrasse 5", "10119"},
        {"Osaka", "Dotonbori 1-7", "542-0071"},
        {"Nairobi", "Moi Avenue 40", "00100"},
        {"Montreal", "Rue Sainte-Catherine 300", "H2X 1L7"},
    };

    private DemoDatabases() {
    }

    /**
     * Creates {@code t_order} in the old store and {@code orders} in the new one.
     *
     * @param source the old store
     * @param target the new store
     * @throws SQLException if a statement fails
     */
    public static void createTables(DataSource source, DataSource target) throws SQLException {
        createSourceTables(source);
        execute(target, targetDdl(Dialect.of(target).product()));
        execute(target, List.of(couponDdl(Dialect.of(target).product())));
    }

    /**
     * Creates {@code t_order} and {@code coupon} in the old store.
     *
     * @param source the old store
     * @throws SQLException if a statement fails
     */
    public static void createSourceTables(DataSource source) throws SQLException {
        execute(source, sourceDdl(Dialect.of(source).product()));
        execute(source, List.of(couponDdl(Dialect.of(source).product())));
    }

    /**
     * Fills a ShardingSphere YAML template: {@code {url_0}}, {@code {url_1}}, ... become the real databases' JDBC
     * URLs, {@code {username}} and {@code {password}} their login.
     *
     * @param template the YAML with the placeholders
     * @param urls the databases' URLs, {@code ds_0} first
     * @param username their user
     * @param password their password, or null
     * @return the YAML
     * @throws IllegalArgumentException if a placeholder is left over
     */
    public static String shardingYaml(String template, List<String> urls, String username, String password) {
        String yaml = template;
        for (int i = 0; i < urls.size(); i++) {
            yaml = yaml.replace("{url_" + i + "}", urls.get(i));
        }
        yaml = yaml.replace("{username}", username == null ? "" : username)
                .replace("{password}", password == null ? "" : password);
        java.util.regex.Matcher left = java.util.regex.Pattern.compile("\\{(url_\\d+|username|password)}").matcher(yaml);
        if (left.find()) {
            throw new IllegalArgumentException("the ShardingSphere YAML template names " + left.group()
                    + ", but only " + urls.size() + " database URLs were given");
        }
        return yaml;
    }

    /**
     * Creates a sharded new store's physical tables in every real database its ShardingSphere YAML names, found
     * by ShardingSphere itself (a data source built from the YAML, closed again).
     *
     * @param shardingYaml the ShardingSphere-JDBC YAML of the new store
     * @param tables how many physical {@code orders_N} tables each database holds
     * @return the real databases' names, the home one first
     * @throws SQLException if ShardingSphere refuses the YAML or a statement fails
     */
    public static List<String> createShards(byte[] shardingYaml, int tables) throws SQLException {
        DataSource sharding;
        try {
            sharding = YamlShardingSphereDataSourceFactory.createDataSource(shardingYaml);
        } catch (java.io.IOException e) {
            throw new SQLException("the ShardingSphere YAML cannot be read: " + e.getMessage(), e);
        }
        try {
            ShardingSphereTarget target = ShardingSphereTarget.of(sharding);
            List<String> names = new java.util.ArrayList<>(List.of(target.home()));
            target.dataSourceNames().stream().filter(name -> !name.equals(target.home())).forEach(names::add);
            for (String name : names) {
                createShardTables(target.physical(name), tables, name.equals(target.home()));
            }
            return names;
        } finally {
            try {
                ((AutoCloseable) sharding).close();
            } catch (Exception e) {
                throw new SQLException("could not close ShardingSphere: " + e.getMessage(), e);
            }
        }
    }

    /**
     * Creates the physical tables of a sharded new store in one of its real databases: {@code orders_0} ..
     * {@code orders_<tables - 1>}, each the schema of {@code orders}, and in the home database the single
     * {@code coupon} table too. ShardingSphere's YAML names which of them holds which orders.
     *
     * @param database one real database of the new store
     * @param tables how many physical {@code orders_N} tables each database holds
     * @param home whether it is the home database, which holds {@code coupon} and the library's own tables
     * @throws SQLException if a statement fails
     */
    public static void createShardTables(DataSource database, int tables, boolean home) throws SQLException {
        Dialect.Product product = Dialect.of(database).product();
        for (int t = 0; t < tables; t++) {
            execute(database, targetDdl(product, "orders_" + t));
        }
        if (home) {
            execute(database, List.of(couponDdl(product)));
        }
    }

    /**
     * The expiring {@code coupon} table, the same in both stores: migrated incrementally, never copied.
     *
     * @param product the store's product
     * @return its DDL
     */
    static String couponDdl(Dialect.Product product) {
        String time = product == Dialect.Product.MARIADB || product == Dialect.Product.MYSQL ? "DATETIME(3)"
                : "TIMESTAMP(3)";
        return "CREATE TABLE coupon (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, code VARCHAR(24) NOT NULL,"
                + " redeemed SMALLINT NOT NULL, created_at " + time + " NOT NULL, expires_at " + time + " NOT NULL)";
    }

    /**
     * Fills the old store's {@code coupon} table: ids 1..rows, a third of them expired, the others valid for
     * up to 30 more days.
     *
     * @param source the old store
     * @param rows how many coupons
     * @param users how many users they belong to
     * @param seed the random seed
     * @throws SQLException if the insert fails
     */
    public static void seedCoupons(DataSource source, int rows, int users, long seed) throws SQLException {
        Random random = new Random(seed);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (Connection connection = source.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO coupon (id, user_id, code,"
                        + " redeemed, created_at, expires_at) VALUES (?, ?, ?, 0, ?, ?)")) {
            connection.setAutoCommit(false);
            for (int id = 1; id <= rows; id++) {
                Instant created = now.minus(Duration.ofDays(1 + random.nextInt(60)));
                Instant expires = id % 3 == 0 ? now.minus(Duration.ofHours(1 + random.nextInt(500)))
                        : now.plus(Duration.ofHours(1 + random.nextInt(30 * 24)));
                insert.setLong(1, id);
                long user = 1 + random.nextInt(users);
                insert.setLong(2, user);
                insert.setString(3, "OLD-" + id);
                insert.setTimestamp(4, Timestamp.from(created));
                insert.setTimestamp(5, Timestamp.from(expires));
                insert.addBatch();
            }
            insert.executeBatch();
            connection.commit();
        }
    }

    /**
     * Fills {@code t_order} with the history the backfill will copy.
     *
     * @param source the old store
     * @param rows how many orders, with ids 1..rows
     * @param users how many users they belong to
     * @param seed the random seed
     * @throws SQLException if the insert fails
     */
    public static void seedHistory(DataSource source, int rows, int users, long seed) throws SQLException {
        Random random = new Random(seed);
        Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
        try (Connection connection = source.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO t_order (id, user_id, status,"
                        + " amount, ship_addr, gmt_create, gmt_modified, region) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")) {
            connection.setAutoCommit(false);
            for (int id = 1; id <= rows; id++) {
                int dice = random.nextInt(10);
                OrderStatus status = dice < 4 ? OrderStatus.NEW : dice < 7 ? OrderStatus.PAID
                        : dice < 9 ? OrderStatus.SHIPPED : OrderStatus.CANCELLED;
                Instant created = now.minus(Duration.ofMinutes(1 + random.nextInt(365 * 24 * 60)));
                Instant modified = created.plusMillis(random.nextInt(3_600_000));
                insert.setLong(1, id);
                long user = 1 + random.nextInt(users);
                insert.setLong(2, user);
                insert.setInt(3, status.code());
                insert.setBigDecimal(4, BigDecimal.valueOf(100 + random.nextInt(50_000), 2));
                insert.setString(5, random.nextInt(5) == 0 ? null : address(random));
                insert.setTimestamp(6, Timestamp.from(created));
                insert.setTimestamp(7, Timestamp.from(modified.isAfter(now) ? now : modified));
                insert.setString(8, region(user));
                insert.addBatch();
                if (id % 1000 == 0) {
                    insert.executeBatch();
                }
            }
            insert.executeBatch();
            connection.commit();
        }
    }

    /**
     * The region of a user's historic orders: every twentieth user is in the test region, whose rows a staged
     * backfill plan copies and checks first ({@code dualwrite.backfill.plans.rollout}).
     *
     * @param user the user
     * @return {@code test}, {@code eu} or {@code us}
     */
    static String region(long user) {
        return user % 20 == 0 ? TEST_REGION : user % 2 == 0 ? "eu" : "us";
    }

    /** The test region's name, as the plan's first stage selects it. */
    static final String TEST_REGION = "test";

    /**
     * @param random where the choice comes from
     * @return a shipping address as compact JSON text, as the old service wrote it
     */
    static String address(RandomGenerator random) {
        String[] address = ADDRESSES[random.nextInt(ADDRESSES.length)];
        return "{\"city\":\"" + address[0] + "\",\"street\":\"" + address[1] + "\",\"zip\":\"" + address[2] + "\"}";
    }

    static List<String> sourceDdl(Dialect.Product product) {
        String time = product == Dialect.Product.MARIADB || product == Dialect.Product.MYSQL ? "DATETIME(3)"
                : "TIMESTAMP(3)";
        String code = product == Dialect.Product.POSTGRESQL ? "SMALLINT" : "TINYINT";
        return List.of("CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL, status "
                + code + " NOT NULL, amount DECIMAL(12,2) NOT NULL, ship_addr VARCHAR(1000), gmt_create " + time
                + " NOT NULL, gmt_modified " + time + " NOT NULL, region VARCHAR(16))",
                "CREATE INDEX idx_t_order_user ON t_order (user_id)");
    }

    static List<String> targetDdl(Dialect.Product product) {
        return targetDdl(product, "orders");
    }

    /** The new schema's orders table under a name: {@code orders}, or one physical shard of it. */
    static List<String> targetDdl(Dialect.Product product, String table) {
        boolean mysql = product == Dialect.Product.MARIADB || product == Dialect.Product.MYSQL;
        String time = mysql ? "DATETIME(3)" : "TIMESTAMP(3)";
        String json = product == Dialect.Product.POSTGRESQL ? "JSONB" : "JSON";
        return List.of("CREATE TABLE " + table + " (order_id BIGINT NOT NULL PRIMARY KEY, buyer_id BIGINT NOT NULL,"
                + " state VARCHAR(16) NOT NULL, amount_cents BIGINT NOT NULL, shipping " + json + ", created_at "
                + time + " NOT NULL, updated_at " + time + " NOT NULL, region VARCHAR(16))",
                "CREATE INDEX idx_" + table + "_buyer ON " + table + " (buyer_id)");
    }

    private static void execute(DataSource dataSource, List<String> statements) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            for (String sql : statements) {
                statement.execute(sql);
            }
        }
    }
}
