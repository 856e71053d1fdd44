package io.dualwrite.autoconfigure;

import java.io.IOException;
import java.io.InputStream;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.core.io.Resource;
import org.springframework.core.io.ResourceLoader;
import org.springframework.util.ClassUtils;

/**
 * A target that ShardingSphere-JDBC splits across several databases: built from
 * {@code dualwrite.target.sharding-sphere-config}, or brought as the application's own target bean, and seen by the
 * library through {@code io.dualwrite.shard.ShardingSphereTarget}. Every reference to ShardingSphere's classes stays
 * in the nested {@code Yaml} class, reached only once they are known present, so that an application without
 * shardingsphere-jdbc never loads them.
 */
final class ShardingSphereTargets {

    static final String PROPERTY = "dualwrite.target.sharding-sphere-config";

    private static final String DATA_SOURCE_CLASS =
            "org.apache.shardingsphere.driver.jdbc.core.datasource.ShardingSphereDataSource";

    /** Whether shardingsphere-jdbc is on the class path. */
    static final boolean AVAILABLE = ClassUtils.isPresent(DATA_SOURCE_CLASS,
            ShardingSphereTargets.class.getClassLoader());

    private ShardingSphereTargets() {
    }

    /**
     * The ShardingSphere data source a YAML file describes: the application's routed requests go through it.
     *
     * @param location a Spring resource location, {@code classpath:} or {@code file:}
     * @param resources the application's resource loader, whose class loader is the application's
     * @return the data source
     * @throws DualWriteSettingException naming the property when shardingsphere-jdbc is absent, or the YAML is
     *     missing, unreadable or refused by ShardingSphere
     */
    static DataSource create(String location, ResourceLoader resources) {
        if (!AVAILABLE || !ClassUtils.isPresent(DATA_SOURCE_CLASS, resources.getClassLoader())) {
            throw new DualWriteSettingException(PROPERTY, PROPERTY + "=" + location + ": shardingsphere-jdbc is not"
                    + " on the class path, so the starter cannot build the sharded target",
                    "Add org.apache.shardingsphere:shardingsphere-jdbc (5.5.x) to the application's dependencies, or"
                            + " remove " + PROPERTY + " and set dualwrite.target.url.");
        }
        Resource resource = resources.getResource(location);
        byte[] yaml;
        try (InputStream in = resource.getInputStream()) {
            yaml = in.readAllBytes();
        } catch (IOException e) {
            throw new DualWriteSettingException(PROPERTY, PROPERTY + "=" + location + ": the ShardingSphere YAML"
                    + " cannot be read (" + e.getMessage() + ")",
                    "Point " + PROPERTY + " at an existing file, e.g. classpath:sharding.yaml or"
                            + " file:/etc/app/sharding.yaml.", e);
        }
        try {
            return Yaml.create(yaml);
        } catch (SQLException | IOException | RuntimeException e) {
            throw new DualWriteSettingException(PROPERTY, PROPERTY + "=" + location + ": ShardingSphere refused the"
                    + " YAML (" + e.getClass().getSimpleName() + ": " + e.getMessage() + ")",
                    "Fix the YAML " + PROPERTY + " names: databaseName, dataSources and a !SHARDING rule, as"
                            + " ShardingSphere-JDBC documents them.", e);
        }
    }

    /** The pool settings a sharded target ignores: it uses ShardingSphere's pools, one per real database. */
    static final java.util.List<String> IGNORED_POOL_PREFIXES = java.util.List.of("dualwrite.target.hikari",
            "dualwrite.target.library-hikari", "dualwrite.control.hikari");

    /**
     * Says, in one WARN line, which pool settings are set that a sharded target ignores: the library uses
     * ShardingSphere's own pools, sized in the YAML, and builds none of its own.
     *
     * @param environment the application's environment
     * @return the ignored property names found, sorted; empty when none is set
     */
    static java.util.SortedSet<String> warnIgnoredPoolSettings(org.springframework.core.env.Environment environment) {
        java.util.SortedSet<String> ignored = new java.util.TreeSet<>();
        for (org.springframework.boot.context.properties.source.ConfigurationPropertySource source
                : org.springframework.boot.context.properties.source.ConfigurationPropertySources.get(environment)) {
            if (!(source instanceof org.springframework.boot.context.properties.source
                    .IterableConfigurationPropertySource iterable)) {
                continue;
            }
            iterable.stream().filter(name -> IGNORED_POOL_PREFIXES.stream().anyMatch(prefix ->
                    org.springframework.boot.context.properties.source.ConfigurationPropertyName.of(prefix)
                            .isAncestorOf(name))).forEach(name -> ignored.add(name.toString()));
        }
        if (!ignored.isEmpty()) {
            org.apache.commons.logging.LogFactory.getLog(ShardingSphereTargets.class).warn(PROPERTY + " is set, so"
                    + " the target's connections come from ShardingSphere's own pools, one per real database, and "
                    + ignored + " are ignored: size the pools in the YAML's dataSources instead (maximumPoolSize,"
                    + " connectionTimeout, ...), and remove those properties");
        }
        return ignored;
    }

    /**
     * What the library uses for a target: the target itself, or, when it is ShardingSphere's, a
     * {@code ShardingSphereTarget} over it (the library's SQL goes to each physical shard, its own tables to the
     * first storage unit).
     *
     * @param target the target bean
     * @return the data source for the library
     * @throws DualWriteSettingException if ShardingSphere cannot give a connection to read its rule
     */
    static DataSource forLibrary(DataSource target) {
        if (!AVAILABLE || !ClassUtils.resolveClassName(DATA_SOURCE_CLASS, ShardingSphereTargets.class.getClassLoader())
                .isInstance(target)) {
            return target;
        }
        try {
            return Yaml.wrap(target);
        } catch (SQLException | RuntimeException e) {
            throw new DualWriteSettingException(PROPERTY, "the ShardingSphere target data source cannot be read: "
                    + e.getMessage(), "Check that every data source in the ShardingSphere YAML (" + PROPERTY
                    + " or the application's own) is reachable and that it has a !SHARDING rule.", e);
        }
    }

    /** The only class here that names ShardingSphere's types; loaded only when they are present. */
    private static final class Yaml {

        static DataSource create(byte[] yaml) throws SQLException, IOException {
            return org.apache.shardingsphere.driver.api.yaml.YamlShardingSphereDataSourceFactory.createDataSource(yaml);
        }

        static DataSource wrap(DataSource target) throws SQLException {
            return io.dualwrite.shard.ShardingSphereTarget.of(target);
        }
    }
}
