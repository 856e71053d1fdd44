package io.dualwrite.samples.orders;

import io.dualwrite.jdbc.Dialect;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.springframework.boot.context.event.ApplicationEnvironmentPreparedEvent;
import org.springframework.context.ApplicationListener;
import org.springframework.core.env.ConfigurableEnvironment;
import org.springframework.core.io.DefaultResourceLoader;
import org.springframework.core.env.MapPropertySource;
import org.springframework.jdbc.datasource.DriverManagerDataSource;

/**
 * Prepares the world before the service starts, as it would be found in production: the old store with
 * its history, the new store with its empty schema. Runs once the configuration is read and before any
 * bean exists, because dualwrite checks its mappings against both stores at start-up.
 *
 * <p>With {@code demo.scratch.enabled=true} (the {@code mariadb-postgres} profile) it first creates a
 * uniquely named database on the source server and schema on the target server and points the service at
 * them; {@link #dropScratch()} drops them after the run. With {@code demo.scratch.target.sharding-template} (the
 * {@code mariadb-sharded-postgres} profile) the target is several databases, named in a ShardingSphere YAML written
 * for the run.
 */
final class DemoSetup implements ApplicationListener<ApplicationEnvironmentPreparedEvent> {

    private static final SecureRandom RANDOM = new SecureRandom();

    private final List<Runnable> drops = new ArrayList<>();

    @Override
    public void onApplicationEvent(ApplicationEnvironmentPreparedEvent event) {
        ConfigurableEnvironment env = event.getEnvironment();
        try {
            if (env.getProperty("demo.scratch.enabled", Boolean.class, false)) {
                createScratch(env);
            }
            DataSource source = dataSource(env, "spring.datasource");
            String sharding = env.getProperty("dualwrite.target.sharding-sphere-config");
            String targetDescription;
            if (sharding != null && !sharding.isBlank()) {
                DemoDatabases.createSourceTables(source);
                byte[] yaml;
                try (java.io.InputStream in = new DefaultResourceLoader().getResource(sharding).getInputStream()) {
                    yaml = in.readAllBytes();
                } catch (java.io.IOException e) {
                    throw new SQLException("dualwrite.target.sharding-sphere-config=" + sharding + ": " + e.getMessage(), e);
                }
                int tables = env.getProperty("demo.sharded.tables", Integer.class, 4);
                List<String> databases = DemoDatabases.createShards(yaml, tables);
                targetDescription = "the " + databases.size() + " x " + tables + " shards of " + sharding + " "
                        + databases;
            } else {
                DataSource target = dataSource(env, "dualwrite.target");
                DemoDatabases.createTables(source, target);
                targetDescription = String.valueOf(Dialect.of(target).product());
            }
            int rows = env.getProperty("demo.history.orders", Integer.class, 20_000);
            int users = env.getProperty("demo.users", Integer.class, 1_000);
            DemoDatabases.seedHistory(source, rows, users, 42);
            DemoDatabases.seedCoupons(source, env.getProperty("demo.history.coupons", Integer.class, 3_000), users, 43);
            System.out.printf("setup: t_order holds %,d orders of %,d users in %s; orders is empty in %s%n", rows,
                    users, Dialect.of(source).product(), targetDescription);
        } catch (SQLException e) {
            dropScratch();
            throw new IllegalStateException("demo setup: could not prepare the databases: " + e.getMessage(), e);
        }
    }

    /** Drops the scratch database and schema, if this run created them. */
    void dropScratch() {
        for (Runnable drop : drops) {
            drop.run();
        }
        drops.clear();
    }

    private void createScratch(ConfigurableEnvironment env) throws SQLException {
        String name = "dw_demo_" + Long.toString(Math.abs(RANDOM.nextLong()), 36);
        Map<String, Object> properties = new LinkedHashMap<>();
        scratch(env, "demo.scratch.source", name, "spring.datasource", properties);
        String template = env.getProperty("demo.scratch.target.sharding-template");
        if (template != null && !template.isBlank()) {
            shardedScratch(env, name, template, properties);
        } else {
            scratch(env, "demo.scratch.target", name, "dualwrite.target", properties);
        }
        env.getPropertySources().addFirst(new MapPropertySource("demo-scratch", properties));
    }

    /**
     * Creates the databases of a sharded new store ({@code <name>_0}, {@code _1}, ...) on the target server, and
     * writes the ShardingSphere YAML template with their URLs to a temporary file that
     * {@code dualwrite.target.sharding-sphere-config} then names.
     */
    private void shardedScratch(ConfigurableEnvironment env, String name, String template,
            Map<String, Object> properties) throws SQLException {
        String prefix = "demo.scratch.target";
        String adminUrl = Objects.requireNonNull(env.getProperty(prefix + ".admin-url"), prefix + ".admin-url");
        String user = env.getProperty(prefix + ".username");
        String password = env.getProperty(prefix + ".password", "");
        DriverManagerDataSource admin = new DriverManagerDataSource(adminUrl, user, password);
        int count = env.getProperty(prefix + ".databases", Integer.class, 2);
        List<String> urls = new ArrayList<>();
        for (int d = 0; d < count; d++) {
            String database = name + "_" + d;
            run(admin, "CREATE DATABASE " + database);
            drops.add(() -> {
                try {
                    run(admin, "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
                    System.out.println("dropped database " + database + " on " + adminUrl);
                } catch (SQLException e) {
                    System.err.println("could not drop " + database + " on " + adminUrl + ": " + e.getMessage());
                }
            });
            urls.add(env.getProperty(prefix + ".url-template", "").replace("{name}", database));
            System.out.println("created database " + database + " on " + adminUrl);
        }
        try (java.io.InputStream in = new DefaultResourceLoader().getResource(template).getInputStream()) {
            String yaml = DemoDatabases.shardingYaml(new String(in.readAllBytes(),
                    java.nio.charset.StandardCharsets.UTF_8), urls, user, password);
            java.nio.file.Path file = java.nio.file.Files.createTempFile("dw-demo-sharding-", ".yaml");
            java.nio.file.Files.writeString(file, yaml);
            drops.add(() -> file.toFile().delete());
            properties.put("dualwrite.target.sharding-sphere-config", "file:" + file);
        } catch (java.io.IOException e) {
            throw new SQLException(prefix + ".sharding-template=" + template + ": " + e.getMessage(), e);
        }
    }

    /**
     * Creates {@code name} on one server: a database on MariaDB/MySQL, a schema on PostgreSQL (so that the
     * server's own database need not be dropped with connections open).
     */
    private void scratch(ConfigurableEnvironment env, String prefix, String name, String into,
            Map<String, Object> properties) throws SQLException {
        String adminUrl = Objects.requireNonNull(env.getProperty(prefix + ".admin-url"), prefix + ".admin-url");
        String user = env.getProperty(prefix + ".username");
        String password = env.getProperty(prefix + ".password", "");
        DriverManagerDataSource admin = new DriverManagerDataSource(adminUrl, user, password);
        Dialect.Product product = Dialect.of(admin).product();
        boolean postgres = product == Dialect.Product.POSTGRESQL;
        run(admin, postgres ? "CREATE SCHEMA " + name : "CREATE DATABASE " + name + " CHARACTER SET utf8mb4");
        drops.add(() -> {
            try {
                run(admin, postgres ? "DROP SCHEMA IF EXISTS " + name + " CASCADE" : "DROP DATABASE IF EXISTS " + name);
                System.out.println("dropped " + (postgres ? "schema " : "database ") + name + " on " + adminUrl);
            } catch (SQLException e) {
                System.err.println("could not drop " + name + " on " + adminUrl + ": " + e.getMessage());
            }
        });
        String url = env.getProperty(prefix + ".url-template", "").replace("{name}", name);
        properties.put(into + ".url", url);
        properties.put(into + ".username", user);
        properties.put(into + ".password", password);
        System.out.println("created " + (postgres ? "schema " : "database ") + name + " on " + adminUrl);
    }

    private static DataSource dataSource(ConfigurableEnvironment env, String prefix) {
        return new DriverManagerDataSource(env.getRequiredProperty(prefix + ".url"), env.getProperty(prefix
                + ".username"), env.getProperty(prefix + ".password", ""));
    }

    private static void run(DataSource dataSource, String sql) throws SQLException {
        try (Connection connection = dataSource.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        }
    }
}
