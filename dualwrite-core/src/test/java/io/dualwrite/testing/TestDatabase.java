package io.dualwrite.testing;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.PrintStream;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.springframework.jdbc.core.JdbcTemplate;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.JdbcDatabaseContainer;
import org.testcontainers.mariadb.MariaDBContainer;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * One freshly created, uniquely named database for one test, with a connection pool on it.
 *
 * <ul>
 *   <li>{@link Store#H2}: an in-memory database {@code jdbc:h2:mem:<name>;DB_CLOSE_DELAY=-1}
 *       (default mode), user {@code sa}.</li>
 *   <li>{@link Store#MARIADB}: {@code CREATE DATABASE <name> CHARACTER SET utf8mb4} on the server,
 *       and a pool whose URL names that database.</li>
 *   <li>{@link Store#POSTGRESQL}: {@code CREATE SCHEMA <name>} in the server's configured database,
 *       and a pool whose URL sets it as the current schema ({@code currentSchema=<name>}), so that
 *       unqualified names resolve there and nowhere else.</li>
 * </ul>
 *
 * <p>Names are {@code dw_<prefix>_<10 random [a-z0-9]>}: lower case, valid unquoted on every store,
 * and unique across JVMs running in parallel against one server. {@link #close()} closes the pool and
 * drops the database or schema.
 *
 * <p><b>Which server.</b> Decided once per JVM per store. The URL is {@code DUALWRITE_IT_MARIADB_URL}
 * (default {@code jdbc:mariadb://127.0.0.1:3306/test}, user {@code DUALWRITE_IT_MARIADB_USER} or
 * {@code root}, password {@code DUALWRITE_IT_MARIADB_PASSWORD} or empty) or
 * {@code DUALWRITE_IT_POSTGRES_URL} (default {@code jdbc:postgresql://127.0.0.1:5432/test}, user
 * {@code DUALWRITE_IT_POSTGRES_USER} or {@code postgres}, password {@code DUALWRITE_IT_POSTGRES_PASSWORD}
 * or empty); {@code user} and {@code password} parameters in the URL count when the variables are
 * unset. If the server answers within 3 s it is used. If not, and the URL variable is unset, and
 * Docker answers, a Testcontainers container ({@code mariadb:10.11}, {@code postgres:15}) is started
 * once for the JVM. Otherwise, with {@code CI=true} the test fails, naming the missing server and the
 * fix; without it the test is skipped and one loud line is printed to the process's stderr (past
 * Surefire's output capture), once per JVM.
 *
 * <p><b>Time zones.</b> Every driver converts {@code java.sql.Timestamp} values with the JVM's
 * default zone, and H2 and PostgreSQL (whose driver sends that zone at login) evaluate
 * {@code LOCALTIMESTAMP}/{@code now()} in it. MariaDB sessions get the same zone through the URL
 * parameter {@code sessionVariables=time_zone='...'}: the zone's name when the server has time zone
 * tables, its current offset otherwise (a warning is logged then, because server-computed times in
 * the other half of the DST year are off by an hour). So {@code DATETIME}, {@code TIMESTAMP},
 * {@code LocalDateTime} and {@code Timestamp} values round-trip unchanged on all three stores, and a
 * row stamped by the server carries the same wall-clock time on each. A JVM in UTC avoids every DST
 * question.
 */
public final class TestDatabase implements AutoCloseable {

    /** Maximum pool size used by {@link #create(Store, String)}. */
    public static final int DEFAULT_MAXIMUM_POOL_SIZE = 16;

    private static final Log log = LogFactory.getLog(TestDatabase.class);

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final String NAME_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
    private static final int RANDOM_LENGTH = 10;
    private static final int MAX_PREFIX_LENGTH = 24;
    private static final Pattern PREFIX = Pattern.compile("[A-Za-z0-9_]+");

    private static final int PROBE_TIMEOUT_SECONDS = 3;
    private static final long POOL_CONNECTION_TIMEOUT_MILLIS = 5_000;
    private static final int DROP_LOCK_TIMEOUT_SECONDS = 10;

    /** The outcome of looking for each server; guarded by {@code TestDatabase.class}. */
    private static final Map<Store, Located> LOCATED = new EnumMap<>(Store.class);

    private final Store store;
    private final String name;
    private final String jdbcUrl;
    private final String username;
    private final String password;
    private final Server server;
    private final HikariDataSource dataSource;
    private final JdbcTemplate jdbc;
    private final AtomicBoolean closed = new AtomicBoolean();

    private TestDatabase(Store store, String name, String jdbcUrl, String username, String password,
            Server server, HikariDataSource dataSource) {
        this.store = store;
        this.name = name;
        this.jdbcUrl = jdbcUrl;
        this.username = username;
        this.password = password;
        this.server = server;
        this.dataSource = dataSource;
        this.jdbc = new JdbcTemplate(dataSource);
    }

    /**
     * Creates a fresh database with a pool of at most {@value #DEFAULT_MAXIMUM_POOL_SIZE} connections.
     *
     * @param store  where to create it
     * @param prefix a readable part of the name, usually the test class: letters, digits and
     *               {@code _}; lower-cased and cut to 24 characters
     * @return the new database; close it to drop it
     * @throws IllegalArgumentException if the prefix is empty or has other characters
     * @throws org.opentest4j.TestAbortedException if the server is missing and {@code CI} is not
     *                                             {@code true} (the test is skipped)
     * @throws org.opentest4j.AssertionFailedError if the server is missing and {@code CI=true}
     * @throws IllegalStateException if the database cannot be created, or a {@code DUALWRITE_IT_*_URL}
     *                               variable is malformed
     */
    public static TestDatabase create(Store store, String prefix) {
        return create(store, prefix, DEFAULT_MAXIMUM_POOL_SIZE);
    }

    /**
     * Creates a fresh database with a pool of at most {@code maximumPoolSize} connections.
     *
     * @param store           where to create it
     * @param prefix          a readable part of the name, usually the test class: letters, digits
     *                        and {@code _}; lower-cased and cut to 24 characters
     * @param maximumPoolSize the pool's maximum size, at least 1
     * @return the new database; close it to drop it
     * @throws IllegalArgumentException if the prefix is empty or has other characters, or
     *                                  {@code maximumPoolSize < 1}
     * @throws org.opentest4j.TestAbortedException if the server is missing and {@code CI} is not
     *                                             {@code true} (the test is skipped)
     * @throws org.opentest4j.AssertionFailedError if the server is missing and {@code CI=true}
     * @throws IllegalStateException if the database cannot be created, or a {@code DUALWRITE_IT_*_URL}
     *                               variable is malformed
     */
    public static TestDatabase create(Store store, String prefix, int maximumPoolSize) {
        if (store == null) {
            throw new IllegalArgumentException("store must not be null");
        }
        if (maximumPoolSize < 1) {
            throw new IllegalArgumentException("maximumPoolSize must be at least 1, was " + maximumPoolSize);
        }
        String name = uniqueName(prefix);
        if (store == Store.H2) {
            String url = "jdbc:h2:mem:" + name + ";DB_CLOSE_DELAY=-1";
            return new TestDatabase(store, name, url, "sa", "", null, pool(name, url, "sa", "", maximumPoolSize));
        }
        Server server = server(store);
        String url = server.databaseUrl(name).toUrl();
        server.execute("create " + describe(store, name), server.createStatement(name));
        try {
            HikariDataSource pool = pool(name, url, server.username(), server.password(), maximumPoolSize);
            return new TestDatabase(store, name, url, server.username(), server.password(), server, pool);
        } catch (RuntimeException e) {
            try {
                server.drop(name);
            } catch (RuntimeException dropFailure) {
                e.addSuppressed(dropFailure);
            }
            throw e;
        }
    }

    /**
     * The store this database lives on.
     *
     * @return the store
     */
    public Store store() {
        return store;
    }

    /**
     * The database's name: the MariaDB database, the PostgreSQL schema, or the H2 in-memory database,
     * for example to filter {@code information_schema} queries.
     *
     * @return {@code dw_<prefix>_<random>}
     */
    public String name() {
        return name;
    }

    /**
     * The HikariCP pool on this database.
     *
     * @return the pool; closed by {@link #close()}
     */
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * A JDBC URL pointing at this database (MariaDB, H2) or schema (PostgreSQL), without
     * credentials, to build another pool with {@link #username()} and {@link #password()}.
     *
     * @return the URL the pool uses
     */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /**
     * The user the pool logs in as.
     *
     * @return the user name
     */
    public String username() {
        return username;
    }

    /**
     * The password the pool logs in with.
     *
     * @return the password, possibly empty
     */
    public String password() {
        return password;
    }

    /**
     * Runs statements in order, each in auto-commit on a pooled connection.
     *
     * @param sql the statements, typically DDL and fixture inserts
     * @throws org.springframework.dao.DataAccessException if a statement fails; the statements
     *                                                     before it stay applied
     */
    public void execute(String... sql) {
        for (String statement : sql) {
            jdbc.execute(statement);
        }
    }

    /**
     * Runs a query that returns one row of one column and converts the value.
     *
     * @param sql  the query, with {@code ?} placeholders
     * @param type the wanted type; numbers are converted between widths
     * @param args the placeholder values
     * @param <T>  the wanted type
     * @return the value, or {@code null} if it is SQL {@code NULL}
     * @throws org.springframework.dao.IncorrectResultSizeDataAccessException if there is not exactly
     *                                                                         one row
     * @throws org.springframework.dao.DataAccessException if the query fails
     */
    public <T> T queryForObject(String sql, Class<T> type, Object... args) {
        return jdbc.queryForObject(sql, type, args);
    }

    /**
     * Runs a query and returns every row as a map from lower-case column label to value, so that
     * assertions read the same on H2 (which reports upper case) and the other stores.
     *
     * @param sql  the query, with {@code ?} placeholders
     * @param args the placeholder values
     * @return the rows in result order; each map iterates in column order
     * @throws org.springframework.dao.DataAccessException if the query fails
     */
    public List<Map<String, Object>> queryForList(String sql, Object... args) {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> row : jdbc.queryForList(sql, args)) {
            Map<String, Object> lowerCased = new LinkedHashMap<>();
            row.forEach((column, value) -> lowerCased.put(column.toLowerCase(Locale.ROOT), value));
            rows.add(lowerCased);
        }
        return rows;
    }

    /**
     * Closes the pool and drops the database ({@code SHUTDOWN} on H2, {@code DROP DATABASE} on
     * MariaDB, {@code DROP SCHEMA ... CASCADE} on PostgreSQL). Calling it again does nothing.
     *
     * @throws IllegalStateException if the drop fails, for example because another connection still
     *                               holds a lock in it after a 10 s wait
     */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        dataSource.close();
        if (server == null) {
            shutdownH2();
        } else {
            server.drop(name);
        }
    }

    @Override
    public String toString() {
        return "TestDatabase[" + describe(store, name) + " at " + jdbcUrl + "]";
    }

    private void shutdownH2() {
        try (Connection connection = DriverManager.getConnection(jdbcUrl, username, password);
                Statement statement = connection.createStatement()) {
            statement.execute("SHUTDOWN");
        } catch (SQLException e) {
            throw new IllegalStateException("Could not shut down H2 database " + name + ": " + e.getMessage(), e);
        }
    }

    private static HikariDataSource pool(String name, String url, String username, String password, int maximumPoolSize) {
        HikariConfig config = new HikariConfig();
        config.setPoolName("dw-test-" + name);
        config.setJdbcUrl(url);
        config.setUsername(username);
        config.setPassword(password);
        config.setMaximumPoolSize(maximumPoolSize);
        // Connections are opened on demand: many open test databases must not exhaust the server.
        config.setMinimumIdle(Math.min(2, maximumPoolSize));
        config.setConnectionTimeout(POOL_CONNECTION_TIMEOUT_MILLIS);
        return new HikariDataSource(config);
    }

    private static String uniqueName(String prefix) {
        if (prefix == null || !PREFIX.matcher(prefix).matches()) {
            throw new IllegalArgumentException("prefix must be letters, digits and '_', was "
                    + (prefix == null ? "null" : "'" + prefix + "'"));
        }
        String readable = prefix.toLowerCase(Locale.ROOT);
        if (readable.length() > MAX_PREFIX_LENGTH) {
            readable = readable.substring(0, MAX_PREFIX_LENGTH);
        }
        StringBuilder name = new StringBuilder("dw_").append(readable).append('_');
        for (int i = 0; i < RANDOM_LENGTH; i++) {
            name.append(NAME_ALPHABET.charAt(RANDOM.nextInt(NAME_ALPHABET.length())));
        }
        return name.toString();
    }

    private static String describe(Store store, String name) {
        return switch (store) {
            case MARIADB -> "MariaDB database " + name;
            case POSTGRESQL -> "PostgreSQL schema " + name;
            case H2 -> "H2 database " + name;
        };
    }

    // ---------------------------------------------------------------------------------------------
    // Finding a server, once per JVM per store
    // ---------------------------------------------------------------------------------------------

    private static synchronized Server server(Store store) {
        Located located = LOCATED.get(store);
        if (located == null) {
            located = locate(Settings.of(store));
            LOCATED.put(store, located);
            if (located.server() != null) {
                log.info("dualwrite tests use " + located.settings().label() + " " + located.server().origin());
            } else if (!ci()) {
                shout("*** " + located.skipMessage() + " ***");
            }
        }
        if (located.server() != null) {
            return located.server();
        }
        if (ci()) {
            return Assertions.fail(located.ciMessage());
        }
        Assumptions.abort(located.skipMessage());
        throw new AssertionError("unreachable: Assumptions.abort returned");
    }

    private static Located locate(Settings settings) {
        String explicitUrl = environment(settings.urlVariable());
        ServerUrl url = ServerUrl.parse(explicitUrl != null ? explicitUrl : settings.defaultUrl(), settings.urlVariable());
        String user = firstNonNull(environment(settings.userVariable()), url.parameters().get("user"), settings.defaultUser());
        String password = firstNonNull(environment(settings.passwordVariable()), url.parameters().get("password"), "");
        ServerUrl withoutCredentials = url.without("user", "password");
        Server local = new Server(settings.store(), withoutCredentials, user, password,
                "at " + withoutCredentials.redacted(), null);
        String localProblem = local.probe();
        if (localProblem == null) {
            return Located.found(settings, local.withSessionTimeZone());
        }
        String noServer = "no server at " + withoutCredentials.redacted() + " (" + localProblem + ")";
        if (explicitUrl != null) {
            return Located.missing(settings, noServer + "; Docker was not tried because "
                    + settings.urlVariable() + " is set", "correct " + settings.urlVariable());
        }
        String dockerProblem = dockerProblem();
        if (dockerProblem != null) {
            return Located.missing(settings, noServer + " and " + dockerProblem, "set " + settings.urlVariable());
        }
        try {
            Server container = Containers.start(settings);
            String containerProblem = container.probe();
            if (containerProblem != null) {
                throw new IllegalStateException(containerProblem);
            }
            return Located.found(settings, container.withSessionTimeZone());
        } catch (RuntimeException | LinkageError e) {
            return Located.missing(settings, noServer + " and the Docker container " + settings.image()
                    + " did not start (" + rootMessage(e) + ")", "set " + settings.urlVariable());
        }
    }

    /** Testcontainers stays behind this wall, so that a missing or broken Docker setup cannot throw. */
    private static String dockerProblem() {
        try {
            return Containers.dockerAvailable() ? null : "no Docker";
        } catch (RuntimeException | LinkageError e) {
            return "no Docker (" + rootMessage(e) + ")";
        }
    }

    /**
     * Prints to the process's own stderr rather than {@code System.err}, which Surefire captures into
     * a report file when {@code redirectTestOutputToFile} is on: a skipped store must be seen.
     */
    private static void shout(String line) {
        @SuppressWarnings("resource") // closing it would close file descriptor 2
        PrintStream stderr = new PrintStream(new FileOutputStream(FileDescriptor.err), true);
        stderr.println(line);
    }

    private static boolean ci() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    private static String environment(String variable) {
        String value = System.getenv(variable);
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static String firstNonNull(String first, String second, String third) {
        return first != null ? first : second != null ? second : third;
    }

    private static String rootMessage(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String message = root.getMessage() != null ? root.getMessage() : root.getClass().getSimpleName();
        return message.replaceAll("\\s+", " ").trim();
    }

    /** What each server store is called and where it is looked for. */
    private record Settings(Store store, String label, String urlVariable, String userVariable,
            String passwordVariable, String defaultUrl, String defaultUser, String image) {

        static Settings of(Store store) {
            return switch (store) {
                case MARIADB -> new Settings(store, "MariaDB", "DUALWRITE_IT_MARIADB_URL",
                        "DUALWRITE_IT_MARIADB_USER", "DUALWRITE_IT_MARIADB_PASSWORD",
                        "jdbc:mariadb://127.0.0.1:3306/test", "root", "mariadb:10.11");
                case POSTGRESQL -> new Settings(store, "PostgreSQL", "DUALWRITE_IT_POSTGRES_URL",
                        "DUALWRITE_IT_POSTGRES_USER", "DUALWRITE_IT_POSTGRES_PASSWORD",
                        "jdbc:postgresql://127.0.0.1:5432/test", "postgres", "postgres:15");
                case H2 -> throw new IllegalArgumentException("H2 needs no server");
            };
        }
    }

    /** Either a usable server, or why there is none. */
    private record Located(Settings settings, Server server, String problem, String fix) {

        static Located found(Settings settings, Server server) {
            return new Located(settings, server, null, null);
        }

        static Located missing(Settings settings, String problem, String fix) {
            return new Located(settings, null, problem, fix);
        }

        String skipMessage() {
            return "dualwrite: " + settings.label() + " tests SKIPPED: " + problem + ". Start " + settings.label()
                    + " or " + fix + " to run them.";
        }

        String ciMessage() {
            return "dualwrite: " + settings.label() + " is required because CI=true, but there is " + problem
                    + ". Start " + settings.label() + " (.ci/start-databases.sh starts local MariaDB and PostgreSQL) or "
                    + fix + ".";
        }
    }

    /** A database server reachable with one set of credentials. */
    private record Server(Store store, ServerUrl url, String username, String password, String origin,
            String sessionTimeZone) {

        /** Returns null when the server answers, else why not. */
        String probe() {
            try (Connection connection = connect(url)) {
                return connection.isValid(PROBE_TIMEOUT_SECONDS) ? null : "connection not valid";
            } catch (SQLException e) {
                return rootMessage(e);
            }
        }

        Server withSessionTimeZone() {
            if (store != Store.MARIADB) {
                return this;
            }
            String zone;
            try (Connection connection = connect(url)) {
                zone = mariaDbTimeZone(connection);
            } catch (SQLException e) {
                throw new IllegalStateException("Could not read time zone support of MariaDB " + origin
                        + ": " + e.getMessage(), e);
            }
            return new Server(store, url, username, password, origin + " (session time_zone " + zone + ")", zone);
        }

        private String mariaDbTimeZone(Connection connection) throws SQLException {
            ZoneId zone = ZoneId.systemDefault();
            if (zone.getRules().isFixedOffset()) {
                return offset(zone.getRules().getOffset(Instant.EPOCH));
            }
            try (PreparedStatement statement =
                    connection.prepareStatement("SELECT CONVERT_TZ('2000-01-01 00:00:00', '+00:00', ?)")) {
                statement.setString(1, zone.getId());
                try (ResultSet rs = statement.executeQuery()) {
                    if (rs.next() && rs.getString(1) != null) {
                        return zone.getId();
                    }
                }
            }
            String offset = offset(zone.getRules().getOffset(Instant.now()));
            log.warn("MariaDB " + origin + " has no time zone tables, so test sessions use the fixed offset "
                    + offset + " for the JVM zone " + zone + ": times the server computes (NOW(), "
                    + "CURRENT_TIMESTAMP defaults) for the other half of the DST year differ by the DST "
                    + "shift. Load the tables (mariadb-tzinfo-to-sql /usr/share/zoneinfo | mariadb mysql) "
                    + "or run the tests with -Duser.timezone=UTC.");
            return offset;
        }

        private static String offset(ZoneOffset offset) {
            return offset.getTotalSeconds() == 0 ? "+00:00" : offset.getId();
        }

        ServerUrl databaseUrl(String name) {
            if (store == Store.POSTGRESQL) {
                return url.with("currentSchema", name);
            }
            ServerUrl database = url.withDatabase(name);
            String variables = database.parameters().get("sessionVariables");
            if (variables != null && variables.contains("time_zone")) {
                return database;
            }
            String timeZone = "time_zone='" + sessionTimeZone + "'";
            return database.with("sessionVariables", variables == null ? timeZone : variables + "," + timeZone);
        }

        String createStatement(String name) {
            return store == Store.MARIADB
                    ? "CREATE DATABASE " + name + " CHARACTER SET utf8mb4"
                    : "CREATE SCHEMA " + name;
        }

        void drop(String name) {
            if (store == Store.MARIADB) {
                execute("drop " + describe(store, name),
                        "SET SESSION lock_wait_timeout = " + DROP_LOCK_TIMEOUT_SECONDS,
                        "DROP DATABASE IF EXISTS " + name);
            } else {
                execute("drop " + describe(store, name),
                        "SET lock_timeout = '" + DROP_LOCK_TIMEOUT_SECONDS + "s'",
                        "DROP SCHEMA IF EXISTS " + name + " CASCADE");
            }
        }

        void execute(String what, String... sql) {
            try (Connection connection = connect(url); Statement statement = connection.createStatement()) {
                for (String each : sql) {
                    statement.execute(each);
                }
            } catch (SQLException e) {
                throw new IllegalStateException("Could not " + what + " on " + origin + ": " + e.getMessage(), e);
            }
        }

        Connection connect(ServerUrl target) throws SQLException {
            Properties properties = new Properties();
            properties.setProperty("user", username);
            properties.setProperty("password", password);
            if (store == Store.MARIADB) {
                properties.setProperty("connectTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS * 1000));
            } else {
                properties.setProperty("connectTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
                properties.setProperty("loginTimeout", String.valueOf(PROBE_TIMEOUT_SECONDS));
            }
            return DriverManager.getConnection(target.toUrl(), properties);
        }
    }

    /** A server URL {@code jdbc:<driver>://<hosts>/<database>?<parameters>}, split to swap its parts. */
    private record ServerUrl(String base, String database, Map<String, String> parameters) {

        private static final Pattern FORM = Pattern.compile("(jdbc:[a-z0-9]+://[^/?]*)(?:/([^?]*))?(?:\\?(.*))?");

        static ServerUrl parse(String url, String variable) {
            Matcher matcher = FORM.matcher(url);
            if (!matcher.matches()) {
                throw new IllegalStateException(variable + ": '" + url + "' is not of the form "
                        + "jdbc:<driver>://<host>[:<port>]/<database>[?<parameters>]");
            }
            Map<String, String> parameters = new LinkedHashMap<>();
            String query = matcher.group(3);
            if (query != null) {
                for (String pair : query.split("&")) {
                    if (!pair.isEmpty()) {
                        int equals = pair.indexOf('=');
                        parameters.put(equals < 0 ? pair : pair.substring(0, equals),
                                equals < 0 ? "" : pair.substring(equals + 1));
                    }
                }
            }
            return new ServerUrl(matcher.group(1), matcher.group(2) == null ? "" : matcher.group(2), parameters);
        }

        ServerUrl withDatabase(String name) {
            return new ServerUrl(base, name, parameters);
        }

        ServerUrl with(String key, String value) {
            Map<String, String> changed = new LinkedHashMap<>(parameters);
            changed.put(key, value);
            return new ServerUrl(base, database, changed);
        }

        ServerUrl without(String... keys) {
            Map<String, String> changed = new LinkedHashMap<>(parameters);
            for (String key : keys) {
                changed.remove(key);
            }
            return new ServerUrl(base, database, changed);
        }

        String toUrl() {
            return format(false);
        }

        /** The URL with the values of password-like parameters hidden, for messages. */
        String redacted() {
            return format(true);
        }

        private String format(boolean redact) {
            String query = parameters.entrySet().stream()
                    .map(e -> e.getKey() + "=" + (redact && e.getKey().toLowerCase(Locale.ROOT).contains("password")
                            ? "***" : e.getValue()))
                    .collect(Collectors.joining("&"));
            return base + "/" + database + (query.isEmpty() ? "" : "?" + query);
        }
    }

    /** Everything that touches Testcontainers; loaded only when a local server is missing. */
    private static final class Containers {

        static boolean dockerAvailable() {
            return DockerClientFactory.instance().isDockerAvailable();
        }

        static Server start(Settings settings) {
            JdbcDatabaseContainer<?> container = settings.store() == Store.MARIADB
                    ? new MariaDBContainer(DockerImageName.parse(settings.image())).withUsername("root").withPassword("test")
                    : new PostgreSQLContainer(DockerImageName.parse(settings.image()));
            // Started once per JVM and never stopped here: Testcontainers' reaper removes it at exit.
            container.start();
            ServerUrl url = ServerUrl.parse(container.getJdbcUrl(), "Testcontainers JDBC URL");
            return new Server(settings.store(), url, container.getUsername(), container.getPassword(),
                    "in Docker container " + settings.image() + " at " + url.redacted(), null);
        }
    }
}
