package io.dualwrite.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * A fresh database on the MariaDB server whose binary log the change-data capture tests read: the server
 * named by {@code DUALWRITE_IT_CDC_MARIADB_URL} (for example {@code jdbc:mariadb://127.0.0.1:3307/test}; user
 * {@code DUALWRITE_IT_CDC_MARIADB_USER} or root, password {@code DUALWRITE_IT_CDC_MARIADB_PASSWORD} or empty),
 * started with {@code --log-bin --binlog-format=ROW --server-id=...}. The shared test server keeps its log
 * off, so these tests need their own. Unset or unreachable: skipped, or failed with {@code CI=true}
 * ({@code .ci/start-databases.sh} starts one on 3307 there).
 */
public final class CdcMariaDb implements AutoCloseable {

    private static final Pattern URL = Pattern.compile("jdbc:mariadb://([^:/?]+)(?::(\\d+))?(?:/[^?]*)?(\\?.*)?");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final String host;
    private final int port;
    private final String username;
    private final String password;
    private final String serverUrl;
    private final String name;
    private final HikariDataSource pool;

    private CdcMariaDb(String host, int port, String username, String password, String serverUrl, String name,
            HikariDataSource pool) {
        this.host = host;
        this.port = port;
        this.username = username;
        this.password = password;
        this.serverUrl = serverUrl;
        this.name = name;
        this.pool = pool;
    }

    /**
     * Creates a fresh database on the binlog-enabled server.
     *
     * @param prefix a readable part of the name: letters, digits and '_'
     * @return the database; close it to drop it
     */
    public static CdcMariaDb create(String prefix) {
        String url = System.getenv("DUALWRITE_IT_CDC_MARIADB_URL");
        boolean ci = "true".equals(System.getenv("CI"));
        if (url == null || url.isBlank()) {
            String why = "DUALWRITE_IT_CDC_MARIADB_URL is unset: the change-data capture tests need a MariaDB with"
                    + " --log-bin --binlog-format=ROW (.ci/start-databases.sh starts one on 127.0.0.1:3307 under CI)";
            if (ci) {
                Assertions.fail(why);
            }
            Assumptions.abort(why);
        }
        Matcher matcher = URL.matcher(url);
        if (!matcher.matches()) {
            throw new IllegalStateException("DUALWRITE_IT_CDC_MARIADB_URL: '" + url
                    + "' is not of the form jdbc:mariadb://<host>[:<port>]/<database>");
        }
        String host = matcher.group(1);
        int port = matcher.group(2) == null ? 3306 : Integer.parseInt(matcher.group(2));
        String user = envOr("DUALWRITE_IT_CDC_MARIADB_USER", "root");
        String password = envOr("DUALWRITE_IT_CDC_MARIADB_PASSWORD", "");
        String serverUrl = "jdbc:mariadb://" + host + ":" + port + "/";
        StringBuilder name = new StringBuilder("dw_").append(prefix.toLowerCase()).append('_');
        for (int i = 0; i < 8; i++) {
            name.append("abcdefghijklmnopqrstuvwxyz0123456789".charAt(RANDOM.nextInt(36)));
        }
        try (Connection connection = DriverManager.getConnection(serverUrl + "?connectTimeout=3000", user, password);
                Statement statement = connection.createStatement()) {
            statement.execute("CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
        } catch (SQLException e) {
            String why = "the change-data capture test server " + url + " does not answer: " + e.getMessage();
            if (ci) {
                Assertions.fail(why);
            }
            Assumptions.abort(why);
        }
        HikariConfig config = new HikariConfig();
        config.setPoolName("dw-cdc-" + name);
        config.setJdbcUrl(serverUrl + name + "?sessionVariables=time_zone='+00:00'");
        config.setUsername(user);
        config.setPassword(password);
        config.setMaximumPoolSize(24);
        config.setMinimumIdle(2);
        return new CdcMariaDb(host, port, user, password, serverUrl, name.toString(), new HikariDataSource(config));
    }

    private static String envOr(String name, String fallback) {
        String value = System.getenv(name);
        return value == null ? fallback : value;
    }

    /** @return a JDBC URL of this database, without credentials */
    public String jdbcUrl() {
        return serverUrl + name;
    }

    public DataSource dataSource() {
        return pool;
    }

    public String name() {
        return name;
    }

    public String host() {
        return host;
    }

    public int port() {
        return port;
    }

    public String username() {
        return username;
    }

    public String password() {
        return password;
    }

    /** A plain connection to this database, bypassing every pool: an outside writer. */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(serverUrl + name, username, password);
    }

    /** A plain connection to the server as another user. */
    public Connection connectAs(String user, String userPassword) throws SQLException {
        return DriverManager.getConnection(serverUrl + name, user, userPassword);
    }

    public void execute(String... sql) throws SQLException {
        try (Connection connection = pool.getConnection(); Statement statement = connection.createStatement()) {
            for (String each : sql) {
                statement.execute(each);
            }
        }
    }

    public io.dualwrite.cdc.CdcConfig.Builder config(long serverId) {
        return io.dualwrite.cdc.CdcConfig.builder().server(host, port).credentials(username, password).serverId(serverId)
                .checkpointInterval(java.time.Duration.ofMillis(100)).createPositionTable(true);
    }

    @Override
    public void close() throws SQLException {
        pool.close();
        try (Connection connection = DriverManager.getConnection(serverUrl, username, password);
                Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name);
        }
    }
}
