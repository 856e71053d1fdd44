package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A scratch database (MariaDB) or schema (PostgreSQL) holding the benchmark's {@code t_order}, with the
 * pools opened on it. {@link #close()} closes the pools and drops it; it is idempotent, so the same
 * instance can also sit in a shutdown hook for a run stopped with Ctrl-C.
 */
final class BenchDatabase implements AutoCloseable {

    static final String TABLE = "t_order";

    private static final String INSERT = "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
            + " VALUES (?, ?, ?, ?, ?, ?)";
    private static final int LOAD_BATCH = 1_000;

    private final Store store;
    private final String name;
    private final boolean owned;
    private final List<HikariDataSource> pools = new ArrayList<>();
    private final AtomicBoolean closed = new AtomicBoolean();

    private BenchDatabase(Store store, String name, boolean owned) {
        this.store = store;
        this.name = name;
        this.owned = owned;
    }

    /**
     * Put before every scratch database and schema name this harness creates ({@code BENCH_SCRATCH_PREFIX},
     * empty by default), so that the scratch spaces on a shared server say whose they are and can be
     * cleaned up by prefix after a killed run.
     */
    static final String SCRATCH_PREFIX = scratchPrefix(System.getenv("BENCH_SCRATCH_PREFIX"));

    static String scratchPrefix(String value) {
        if (value == null || value.isEmpty()) {
            return "";
        }
        if (!value.matches("[a-z][a-z0-9_]{0,19}")) {
            throw new IllegalArgumentException("BENCH_SCRATCH_PREFIX: '" + value + "' must be 1-20 lower-case letters,"
                    + " digits or '_', starting with a letter (it begins database and schema names)");
        }
        return value;
    }

    /**
     * Creates the database or schema and the empty table.
     *
     * @throws SQLException if the server refuses
     */
    static BenchDatabase create(Store store, String name) throws SQLException {
        return create(store, name, store.createOrderTable());
    }

    /**
     * Creates the database or schema, and in it a table when {@code tableDdl} is given.
     *
     * @param tableDdl the table's {@code CREATE TABLE}, or {@code null} for an empty scratch space
     * @throws SQLException if the server refuses
     */
    static BenchDatabase create(Store store, String name, String tableDdl) throws SQLException {
        name = SCRATCH_PREFIX + name;
        try (Connection admin = connect(store, store.baseUrl()); Statement statement = admin.createStatement()) {
            statement.execute(store.createScope(name));
        }
        BenchDatabase database = new BenchDatabase(store, name, true);
        if (tableDdl == null) {
            return database;
        }
        try (Connection connection = connect(store, store.scopedUrl(name));
                Statement statement = connection.createStatement()) {
            statement.execute(tableDdl);
        } catch (SQLException | RuntimeException e) {
            database.close();
            throw e;
        }
        return database;
    }

    /**
     * Opens pools on a scratch space another process created and will drop: {@link #close()} then only
     * closes the pools.
     */
    static BenchDatabase attach(Store store, String name) {
        return new BenchDatabase(store, name, false);
    }

    Store store() {
        return store;
    }

    String name() {
        return name;
    }

    /**
     * Fills the table with {@code rows} deterministic orders (ids 1..rows), in batches over a connection
     * that carries the dialect's batching properties whatever the store's role, since loading is not
     * what is measured. Both stores get identical rows, so the mirror starts from converged tables.
     */
    void load(int rows, Timestamp version) throws SQLException {
        SplittableRandom random = new SplittableRandom(42);
        try (Connection connection = connect(store, store.dialect().withRecommendedProperties(store.scopedUrl(name)));
                PreparedStatement insert = connection.prepareStatement(INSERT)) {
            connection.setAutoCommit(false);
            for (long id = 1; id <= rows; id++) {
                insert.setLong(1, id);
                insert.setLong(2, 1 + random.nextInt(10_000));
                insert.setString(3, "NEW");
                insert.setBigDecimal(4, BigDecimal.valueOf(100 + random.nextInt(1_000_000), 2));
                insert.setString(5, "order " + id + " of the dualwrite benchmark, created by the loader");
                insert.setTimestamp(6, version);
                insert.addBatch();
                if (id % LOAD_BATCH == 0 || id == rows) {
                    insert.executeBatch();
                    connection.commit();
                }
            }
        }
        try (Connection connection = connect(store, store.scopedUrl(name));
                Statement statement = connection.createStatement()) {
            statement.execute(store.analyze());
        }
    }

    /**
     * Opens a fixed-size pool on the scratch space.
     *
     * @param asTarget whether the pool writes the target: it then gets the dialect's recommended batching
     *     properties, as dualwrite's starter gives its target pool; a source pool stays plain
     */
    HikariDataSource pool(String poolName, int size, boolean asTarget) {
        String url = store.scopedUrl(name);
        return open(poolName, size, asTarget ? store.dialect().withRecommendedProperties(url) : url, 10_000);
    }

    /**
     * Opens a target pool whose connections go through a local port (a {@code FaultProxy} in front of this
     * server), with a short connection timeout, as the library's own pools have, so a cut fails fast.
     */
    HikariDataSource targetPoolThrough(String poolName, int size, int localPort) {
        String url = store.scopedUrl(name);
        java.net.URI uri = java.net.URI.create(url.substring("jdbc:".length()));
        String routed = url.replaceFirst("//" + java.util.regex.Pattern.quote(uri.getRawAuthority()),
                "//127.0.0.1:" + localPort);
        return open(poolName, size, store.dialect().withRecommendedProperties(routed), 2_000);
    }

    /** @return the server's port, for a proxy to forward to */
    int port() {
        return java.net.URI.create(store.scopedUrl(name).substring("jdbc:".length())).getPort();
    }

    private HikariDataSource open(String poolName, int size, String url, long connectionTimeoutMillis) {
        HikariConfig config = new HikariConfig();
        config.setPoolName(poolName);
        config.setJdbcUrl(url);
        if (store.user() != null) {
            config.setUsername(store.user());
            config.setPassword(store.password());
        }
        config.setMaximumPoolSize(size);
        config.setMinimumIdle(size);
        config.setConnectionTimeout(connectionTimeoutMillis);
        if (store == Store.POSTGRESQL) {
            // The backends then carry the pool's name, so a harness can tell its own server CPU from others'.
            config.addDataSourceProperty("ApplicationName", poolName);
        }
        HikariDataSource pool = new HikariDataSource(config);
        pools.add(pool);
        return pool;
    }

    /** @return a plain connection on the scratch space, for setup and checks; the caller closes it */
    Connection connect() throws SQLException {
        return connect(store, store.scopedUrl(name));
    }

    /** @return product and driver versions, as the driver reports them */
    String versions() throws SQLException {
        try (Connection connection = connect(store, store.scopedUrl(name))) {
            DatabaseMetaData meta = connection.getMetaData();
            return meta.getDatabaseProductName() + " " + meta.getDatabaseProductVersion() + "; driver "
                    + meta.getDriverName() + " " + meta.getDriverVersion();
        }
    }

    /** @return the server settings that decide a commit's cost: durability of the log flush */
    String durability() throws SQLException {
        String query = store == Store.MARIADB
                ? "SELECT CONCAT('innodb_flush_log_at_trx_commit=', @@innodb_flush_log_at_trx_commit,"
                        + " ', sync_binlog=', @@sync_binlog, ', log_bin=', @@log_bin)"
                : "SELECT 'synchronous_commit=' || current_setting('synchronous_commit') || ', fsync='"
                        + " || current_setting('fsync') || ', wal_sync_method=' || current_setting('wal_sync_method')";
        try (Connection connection = connect(store, store.scopedUrl(name));
                Statement statement = connection.createStatement();
                ResultSet result = statement.executeQuery(query)) {
            result.next();
            return result.getString(1);
        }
    }

    /**
     * Closes the pools and drops the scratch space (unless {@linkplain #attach attached}); reports but does
     * not throw a failed drop.
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (HikariDataSource pool : pools) {
            pool.close();
        }
        if (!owned) {
            return;
        }
        try (Connection admin = connect(store, store.baseUrl()); Statement statement = admin.createStatement()) {
            statement.execute(store.shortLockWait());
            statement.execute(store.dropScope(name));
        } catch (SQLException e) {
            System.err.println("bench: could not drop " + store.label() + " " + name + "; drop it by hand with: "
                    + store.dropScope(name) + " (" + e.getMessage() + ")");
        }
    }

    private static Connection connect(Store store, String url) throws SQLException {
        Properties properties = new Properties();
        if (store.user() != null) {
            properties.setProperty("user", store.user());
            properties.setProperty("password", store.password());
        }
        return DriverManager.getConnection(url, properties);
    }
}
