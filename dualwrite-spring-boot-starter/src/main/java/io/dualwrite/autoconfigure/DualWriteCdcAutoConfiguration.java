package io.dualwrite.autoconfigure;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.cdc.BinlogCapture;
import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.cdc.LogServer;
import io.dualwrite.cdc.PgLogicalCapture;
import io.dualwrite.cdc.CdcConfig;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.metrics.CdcMetrics;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.ChangeLogRouting;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.shard.ShardedSource;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.ClassUtils;

/**
 * Change-data capture ({@code dualwrite.capture.cdc.enabled=true}): reads the source's change log (its
 * MariaDB/MySQL binary log with {@link BinlogCapture}, or, when the source is PostgreSQL, a logical
 * replication slot with {@link PgLogicalCapture}) and hands the keys of rows changed by writers outside the
 * service to the forward mirror, while the migration mirrors (DUAL_WRITE and RAMP, and a step into or out
 * of them). The log's position is kept in the target's {@code dualwrite_cdc_position} (created with
 * {@code dualwrite.schema.create}). Where, and as whom, the log is read defaults to the source pool's URL
 * and credentials; a MariaDB/MySQL source needs the replica id ({@code dualwrite.capture.cdc.server-id}),
 * a PostgreSQL one names its slot and publication ({@code slot-name}, {@code publication-name}, both
 * {@code dualwrite_cdc} by default, created when missing).
 *
 * <p>With a sharded source ({@code dualwrite.source.shards.*} or {@code dualwrite.source.sharding-sphere-config})
 * the defaults are the home data source's, and the reader captures every physical table of a logical table on
 * that server (PostgreSQL: in that database); a shard elsewhere fails start-up naming the properties.
 *
 * <p>When the tables can be mirrored back (the reverse mirror exists), a second reader reads the target's log
 * ({@code dualwrite.capture.cdc.target.*}, on by default: its own server id, slot and publication, reader
 * name {@code target}) and hands its keys to the reverse mirror during RAMP, so that outside writes on the
 * target are mirrored back and a rollback loses none. Both are tied to the migration by
 * {@link ChangeLogRouting}: when each hands over, and how a step waits for both logs. Health shows them as
 * {@code dualwriteCdc} and {@code dualwriteCdcTarget}, the endpoint as {@code cdc} and {@code cdcTarget}, the
 * meters with the tag {@code log=source|target}.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBooleanProperty("dualwrite.capture.cdc.enabled")
@ConditionalOnBean(name = "dualWriteMirror")
public class DualWriteCdcAutoConfiguration {

    /** The bean name of the target's log capture. */
    public static final String TARGET_CAPTURE = "dualWriteTargetChangeLogCapture";

    private static final String SOURCE = "dualwrite.capture.cdc";
    private static final String TARGET = SOURCE + ".target";

    /** How long a step out of the phases a capture hands over in waits for it to apply the log read so far. */
    static final java.time.Duration STEP_CATCH_UP = java.time.Duration.ofSeconds(30);

    private static final String CLIENT = "com.github.shyiko.mysql.binlog.BinaryLogClient";
    private static final String PGJDBC = "org.postgresql.PGConnection";
    /** Creates the configuration; Spring does. */
    public DualWriteCdcAutoConfiguration() {
    }

    /**
     * The started capture: {@link PgLogicalCapture} when the source is PostgreSQL, else {@link BinlogCapture}.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param source the library's own source pool: its URL and credentials are the defaults
     * @param target the library's own target pool, which keeps the position table
     * @param mirror the forward mirror
     * @param controller whose phase decides whether keys read are handed over
     * @return the capture, started; disabled (and said so once) when the log cannot be read and
     *     {@code dualwrite.capture.cdc.required=false}
     * @throws IllegalStateException if the log's client is not on the classpath, or the log cannot be read
     *     and the capture is required ({@link io.dualwrite.cdc.CdcUnavailableException})
     * @throws SQLException if a store cannot be reached
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public ChangeLogCapture dualWriteChangeLogCapture(DualWriteProperties properties, MappedTables tables,
            @Qualifier(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE) DataSource source,
            @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE) DataSource target,
            @Qualifier("dualWriteMirror") Mirror mirror, MigrationController controller) throws SQLException {
        boolean postgres = isPostgres(source);
        requireClient(postgres, "dualwrite.capture.cdc.enabled=false");
        // A sharded source's log is its home database's server's: its pool gives the server and the user.
        DataSource settingsFrom = source instanceof ShardedSource sharded ? sharded.physical(sharded.home()) : source;
        CdcConfig config = cdcConfig(properties, settingsFrom, postgres);
        ChangeLogCapture capture = postgres ? PgLogicalCapture.create(config, tables, source, target, mirror)
                : BinlogCapture.create(config, tables, source, target, mirror);
        ChangeLogRouting.forSource(controller, capture, STEP_CATCH_UP);
        startNamingTheProperty(capture, SOURCE);
        return capture;
    }

    /** Starts a capture; a table its log cannot show (a key type, a shard elsewhere) fails naming its property. */
    private static void startNamingTheProperty(ChangeLogCapture capture, String prefix) throws SQLException {
        try {
            capture.start();
        } catch (IllegalArgumentException unreadable) {
            // The core names the source reader's properties; the target reader's are its own.
            String message = prefix.equals(SOURCE) ? unreadable.getMessage() : unreadable.getMessage()
                    .replace(SOURCE + ".", prefix + ".").replace(SOURCE + ":", prefix + ":");
            throw new DualWriteSettingException(prefix, message, "Change the setting named above,"
                    + " or set " + prefix + ".enabled=false and reconcile the tables after writes from outside the"
                    + " service.", unreadable);
        }
    }

    /**
     * The started capture of the target's log, over the reversed mappings, feeding the reverse mirror during
     * RAMP ({@link ChangeLogRouting#forTarget}): {@link PgLogicalCapture} when the target is PostgreSQL, else
     * {@link BinlogCapture}. Not a default candidate, so that a {@link ChangeLogCapture} injected by type is the
     * source's.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param target the library's own target pool: its URL and credentials are the defaults, and it keeps the
     *     position table
     * @param reverse the reverse mirror, when the tables can be mirrored back
     * @param controller whose phase decides whether keys read are handed over
     * @return the capture, started; null when there is no reverse mirror (the tables cannot be mirrored back,
     *     so RAMP is refused anyway)
     * @throws IllegalStateException if the log's client is not on the classpath, the target is neither
     *     MariaDB/MySQL nor PostgreSQL, or the log cannot be read and the capture is required
     * @throws SQLException if a store cannot be reached
     */
    @Bean(name = TARGET_CAPTURE, destroyMethod = "close", defaultCandidate = false)
    @ConditionalOnBooleanProperty(name = "dualwrite.capture.cdc.target.enabled", matchIfMissing = true)
    @ConditionalOnMissingBean(name = TARGET_CAPTURE)
    public ChangeLogCapture dualWriteTargetChangeLogCapture(DualWriteProperties properties, MappedTables tables,
            @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE) DataSource target,
            @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse, MigrationController controller)
            throws SQLException {
        Mirror mirror = reverse.getIfAvailable();
        if (mirror == null) {
            return null;
        }
        String product;
        try (Connection connection = target.getConnection()) {
            product = connection.getMetaData().getDatabaseProductName();
        }
        boolean postgres = "PostgreSQL".equalsIgnoreCase(product);
        if (!postgres && !"MariaDB".equalsIgnoreCase(product) && !"MySQL".equalsIgnoreCase(product)) {
            throw new DualWriteSettingException(TARGET + ".enabled", TARGET + ".enabled: the target is " + product
                    + ", whose change log cannot be read (MariaDB/MySQL binary log or PostgreSQL logical decoding"
                    + " only)", "Set " + TARGET + ".enabled=false; outside writes to the target during RAMP are"
                    + " then left to the reconciler.");
        }
        requireClient(postgres, TARGET + ".enabled=false");
        CdcConfig config = targetCdcConfig(properties, target, postgres);
        ChangeLogCapture capture = postgres
                ? PgLogicalCapture.create(config, tables.reversed(), target, target, mirror)
                : BinlogCapture.create(config, tables.reversed(), target, target, mirror);
        ChangeLogRouting.forTarget(controller, capture, STEP_CATCH_UP);
        startNamingTheProperty(capture, TARGET);
        return capture;
    }

    private static void requireClient(boolean postgres, String orDisable) {
        String client = postgres ? PGJDBC : CLIENT;
        if (!ClassUtils.isPresent(client, DualWriteCdcAutoConfiguration.class.getClassLoader())) {
            throw new IllegalStateException("dualwrite.capture.cdc.enabled=true needs " + (postgres
                    ? "the PostgreSQL JDBC driver org.postgresql:postgresql on the classpath"
                    : "the binary log client on the classpath: add the dependency"
                            + " com.zendesk:mysql-binlog-connector-java (0.30.1)")
                    + ", or set " + orDisable);
        }
    }

    private static boolean isPostgres(DataSource source) throws SQLException {
        try (Connection connection = source.getConnection()) {
            return "PostgreSQL".equalsIgnoreCase(connection.getMetaData().getDatabaseProductName());
        }
    }

    static CdcConfig cdcConfig(DualWriteProperties properties, DataSource source, boolean postgres)
            throws SQLException {
        DualWriteProperties.Cdc cdc = properties.getCapture().getCdc();
        return readerConfig(properties, source, postgres, new Reader(SOURCE, "source", cdc.getHost(), cdc.getPort(),
                cdc.getUsername(), cdc.getPassword(), cdc.getServerId(), cdc.getReaderName(), cdc.getSlotName(),
                cdc.getPublicationName(), cdc.isRequired()));
    }

    /**
     * The target reader's settings: {@code dualwrite.capture.cdc.target.*}, defaulting to the target pool's
     * server and user, with the position table, checkpoint interval and connect timeout of the source's reader.
     * A bad value is reported under its {@code target} property.
     */
    static CdcConfig targetCdcConfig(DualWriteProperties properties, DataSource target, boolean postgres)
            throws SQLException {
        DualWriteProperties.Cdc cdc = properties.getCapture().getCdc();
        DualWriteProperties.CdcTarget side = cdc.getTarget();
        if (side.getReaderName() != null && side.getReaderName().equals(cdc.getReaderName())) {
            throw new DualWriteSettingException(TARGET + ".reader-name", TARGET + ".reader-name: '"
                    + side.getReaderName() + "' is also dualwrite.capture.cdc.reader-name; the two logs need rows of"
                    + " their own in " + cdc.getPositionTable(), "Give " + TARGET + ".reader-name another name.");
        }
        return readerConfig(properties, target, postgres, new Reader(TARGET, "target", side.getHost(),
                side.getPort(), side.getUsername(), side.getPassword(), side.getServerId(), side.getReaderName(),
                side.getSlotName(), side.getPublicationName(),
                side.getRequired() != null ? side.getRequired() : cdc.isRequired()));
    }

    /** One log reader's own settings, as its properties under {@code prefix} give them. */
    private record Reader(String prefix, String store, String host, Integer port, String username,
            String password, Long serverId, String readerName, String slotName, String publicationName,
            boolean required) {
    }

    /**
     * A reader's settings: its own, defaulting to the server in its store's JDBC URL and to the pool's user;
     * the position table, checkpoint interval and connect timeout are shared by both readers.
     */
    private static CdcConfig readerConfig(DualWriteProperties properties, DataSource store, boolean postgres,
            Reader reader) throws SQLException {
        DualWriteProperties.Cdc cdc = properties.getCapture().getCdc();
        String prefix = reader.prefix();
        String host = reader.host();
        Integer port = reader.port();
        String database = null;
        if (host == null || port == null || postgres) {
            String url;
            try (Connection connection = store.getConnection()) {
                url = connection.getMetaData().getURL();
            }
            LogServer server = LogServer.of(url)
                    .filter(named -> url.regionMatches(true, 0, "jdbc:postgresql:", 0, 16) == postgres)
                    .filter(named -> !postgres || named.database() != null).orElse(null);
            if (server == null) {
                throw new DualWriteSettingException(prefix + ".host", prefix + ".host: the " + reader.store()
                        + "'s JDBC URL " + url + " names no " + (postgres ? "PostgreSQL server and database to"
                        + " decode the write-ahead log of" : "MariaDB or MySQL server to read the binary log from"),
                        "Set " + prefix + ".host and " + prefix + ".port, or " + prefix + ".enabled=false.");
            }
            host = host != null ? host : server.host();
            port = port != null ? port : server.port();
            database = postgres ? server.database() : null;
        }
        String username = reader.username();
        String password = reader.password();
        if (username == null && store instanceof HikariDataSource pool) {
            username = pool.getUsername();
            password = password != null ? password : pool.getPassword();
        }
        try {
            CdcConfig.Builder builder = CdcConfig.builder().required(reader.required())
                    .readerName(reader.readerName()).positionTable(cdc.getPositionTable())
                    .createPositionTable(properties.getSchema().isCreate())
                    .checkpointInterval(cdc.getCheckpointInterval()).connectTimeout(cdc.getConnectTimeout());
            if (host != null) {
                builder.server(host, port);
            }
            if (username != null) {
                builder.credentials(username, password);
            }
            if (postgres) {
                builder.logicalDecoding(database).slotName(reader.slotName())
                        .publicationName(reader.publicationName());
            }
            if (reader.serverId() != null) {
                builder.serverId(reader.serverId());
            }
            return builder.build();
        } catch (IllegalArgumentException e) {
            // The builder names the source reader's properties; the target reader's values came from its own.
            String message = prefix.equals(SOURCE) ? e.getMessage()
                    : e.getMessage().replace(SOURCE + ".", prefix + ".");
            throw new DualWriteSettingException(prefix, message, "Set each property named above, or " + prefix
                    + ".enabled=false.", e);
        }
    }

    /**
     * Health of the capture, as component {@code dualwriteCdc}: DOWN when it failed or a table's capture
     * stopped (DDL seen), with the reason; UP otherwise, also when it was left off because the log is not
     * readable and {@code required=false} (the detail says so). Details carry the positions read, stored and
     * at the head, the log lag in bytes and the apply lag.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.health.contributor.HealthIndicator")
    static class HealthCheck {

        @Bean
        @ConditionalOnMissingBean(name = "dualwriteCdcHealthIndicator")
        org.springframework.boot.health.contributor.HealthIndicator dualwriteCdcHealthIndicator(ChangeLogCapture capture) {
            return () -> health(capture.status());
        }

        /** The target's reader, as component {@code dualwriteCdcTarget}; UP with state OFF when there is none. */
        @Bean
        @ConditionalOnMissingBean(name = "dualwriteCdcTargetHealthIndicator")
        org.springframework.boot.health.contributor.HealthIndicator dualwriteCdcTargetHealthIndicator(
                @Qualifier(TARGET_CAPTURE) ObjectProvider<ChangeLogCapture> target) {
            return () -> {
                ChangeLogCapture capture = target.getIfAvailable();
                return capture == null
                        ? org.springframework.boot.health.contributor.Health.up().withDetail("state", "OFF").build()
                        : health(capture.status());
            };
        }

        static org.springframework.boot.health.contributor.Health health(io.dualwrite.cdc.CdcStatus status) {
            // FAILED, a table stopped, or RUNNING with a problem: the log has not been readable for a while.
            boolean down = status.state() == ChangeLogCapture.State.FAILED || !status.stoppedTables().isEmpty()
                    || status.state() == ChangeLogCapture.State.RUNNING && status.problem() != null;
            var health = down ? org.springframework.boot.health.contributor.Health.down()
                    : org.springframework.boot.health.contributor.Health.up();
            return health.withDetails(details(status)).build();
        }
    }

    /**
     * What health and the endpoint show of the capture: state, problem and stopped tables when there are,
     * the positions read, stored and at the server's head, the log lag in bytes apart from the apply lag.
     */
    static java.util.Map<String, Object> details(io.dualwrite.cdc.CdcStatus status) {
        java.util.Map<String, Object> details = new java.util.LinkedHashMap<>();
        details.put("state", status.state().name());
        if (status.problem() != null) {
            details.put("problem", status.problem());
        }
        if (!status.stoppedTables().isEmpty()) {
            details.put("stoppedTables", status.stoppedTables());
        }
        details.put("read", String.valueOf(status.read()));
        details.put("stored", String.valueOf(status.stored()));
        details.put("head", String.valueOf(status.head()));
        details.put("logLagBytes", status.logLagBytes());
        details.put("applyLag", status.applyLag().toString());
        details.put("keysHanded", status.keysHanded());
        // Read while the migration did not hand keys over (before DUAL_WRITE, in RAMP): not mirrored.
        details.put("keysNotHanded", status.keysNotHanded());
        details.put("echoesSkipped", status.echoesSkipped());
        return details;
    }

    /** The capture's state under {@code cdc} in {@code GET /actuator/dualwrite}, when the endpoint is there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointView {

        @Bean
        org.springframework.beans.factory.SmartInitializingSingleton dualWriteCdcOnEndpoint(ChangeLogCapture capture,
                @Qualifier(TARGET_CAPTURE) ObjectProvider<ChangeLogCapture> target,
                org.springframework.beans.factory.ObjectProvider<io.dualwrite.autoconfigure.actuate.DualWriteEndpoint>
                        endpoint) {
            return () -> endpoint.ifAvailable(e -> {
                e.showCdc(() -> details(capture.status()));
                ChangeLogCapture targetCapture = target.getIfAvailable();
                if (targetCapture != null) {
                    e.showSection("cdcTarget", () -> details(targetCapture.status()));
                }
            });
        }
    }

    /** The capture's meters, when the application has a registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class Metrics {

        @Bean
        @ConditionalOnMissingBean
        CdcMetrics dualWriteCdcMetrics(ChangeLogCapture capture,
                @Qualifier(TARGET_CAPTURE) ObjectProvider<ChangeLogCapture> target) {
            java.util.Map<String, java.util.function.Supplier<io.dualwrite.cdc.CdcStatus>> logs =
                    new java.util.LinkedHashMap<>();
            logs.put("source", capture::status);
            ChangeLogCapture targetCapture = target.getIfAvailable();
            if (targetCapture != null) {
                logs.put("target", targetCapture::status);
            }
            return new CdcMetrics(logs);
        }
    }
}
