package io.dualwrite.autoconfigure;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.event.DualWriteEventListener;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.routing.Phase;
import java.sql.SQLException;
import java.time.DateTimeException;
import java.time.Duration;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Role;

/**
 * Dual-write for the application's own {@link DataSource} (the source) into a target pool built from
 * {@code dualwrite.target.*}: the table mappings, checked at start-up, the mirror, {@code @DualWrite}
 * capture and the {@link ChangeRecorder}, and the backfill.
 *
 * <p>Off when {@code dualwrite.enabled=false}, or when there is neither {@code dualwrite.target.url}
 * nor a bean named {@value #TARGET_DATA_SOURCE}. Every bean backs off for one of the application's own.
 * The target pool is not a default autowiring candidate, so the application keeps injecting its own
 * {@code DataSource} by type.
 */
@AutoConfiguration(afterName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.transaction.autoconfigure.TransactionAutoConfiguration",
        "org.springframework.boot.autoconfigure.aop.AopAutoConfiguration"})
@ConditionalOnBooleanProperty(name = "dualwrite.enabled", matchIfMissing = true)
@Conditional(DualWriteAutoConfiguration.TargetConfigured.class)
@ConditionalOnSingleCandidate(DataSource.class)
@EnableConfigurationProperties(DualWriteProperties.class)
public class DualWriteAutoConfiguration {

    /** The name of the target pool's bean; define a bean of that name to bring your own. */
    public static final String TARGET_DATA_SOURCE = "dualWriteTargetDataSource";

    /** The property a library message opens with, e.g. {@code dualwrite.mirror.lanes: must be ...}. */
    private static final Pattern PROPERTY = Pattern.compile("^(dualwrite(?:\\.[A-Za-z0-9_\\-\\[\\]]+)+)");

    /** Creates the configuration; Spring does. */
    public DualWriteAutoConfiguration() {
    }

    /**
     * ROUTING HOOK: the one place that decides which store the library treats as the source.
     *
     * <p>Today the application's {@code DataSource} is the source, unchanged, and the phases that need
     * the routing {@code DataSource} (RAMP, TARGET_ONLY) are refused. When routing lands, the
     * application's {@code DataSource} bean is wrapped by the routing {@code DataSource} (made primary,
     * so that its JdbcTemplate, transactions and repositories go through it) and this method returns the
     * raw source underneath it, which the mirror, the backfill and the mappings keep using.
     *
     * @param applicationDataSource the application's single {@code DataSource}
     * @param properties the settings
     * @return the source store
     * @throws DualWriteSettingException for a phase that needs routing
     */
    static DataSource source(DataSource applicationDataSource, DualWriteProperties properties) {
        Phase phase = properties.getPhase();
        if (phase == Phase.RAMP || phase == Phase.TARGET_ONLY) {
            throw new DualWriteSettingException("dualwrite.phase", "dualwrite.phase: " + phase
                    + " sends requests to the target, which needs the routing DataSource; this version of the"
                    + " starter mirrors only (SOURCE_ONLY, DUAL_WRITE)",
                    "Set dualwrite.phase to SOURCE_ONLY or DUAL_WRITE.");
        }
        return applicationDataSource;
    }

    /**
     * Whether changes are recorded: in phases that mirror. Read on every call, so a live phase can
     * replace the property later.
     */
    static BooleanSupplier capturing(DualWriteProperties properties) {
        return () -> properties.getPhase().mirrors();
    }

    /**
     * The target pool: {@code dualwrite.target.url|username|password}, with the dialect's batched-write
     * settings added to the URL, and every HikariCP setting under {@code dualwrite.target.hikari.*}.
     *
     * @param properties the settings
     * @return the pool; it connects on first use
     */
    @Bean(name = TARGET_DATA_SOURCE, defaultCandidate = false)
    @ConditionalOnMissingBean(name = TARGET_DATA_SOURCE)
    @ConfigurationProperties(prefix = "dualwrite.target.hikari")
    public static HikariDataSource dualWriteTargetDataSource(DualWriteProperties properties) {
        DualWriteProperties.Target target = properties.getTarget();
        HikariDataSource pool = new HikariDataSource();
        pool.setPoolName("dualwrite-target");
        pool.setJdbcUrl(withBatchedWrites(target.getUrl()));
        if (target.getUsername() != null) {
            pool.setUsername(target.getUsername());
        }
        if (target.getPassword() != null) {
            pool.setPassword(target.getPassword());
        }
        if (target.getDriverClassName() != null) {
            pool.setDriverClassName(target.getDriverClassName());
        }
        return pool;
    }

    /** Batching is most of the target's write speed (BENCHMARKS.md); the URL names the product. */
    static String withBatchedWrites(String url) {
        if (url == null) {
            return null;
        }
        String lower = url.toLowerCase(Locale.ROOT);
        Dialect.Product product = null;
        if (lower.startsWith("jdbc:mariadb:")) {
            product = Dialect.Product.MARIADB;
        } else if (lower.startsWith("jdbc:mysql:")) {
            product = Dialect.Product.MYSQL;
        } else if (lower.startsWith("jdbc:postgresql:")) {
            product = Dialect.Product.POSTGRESQL;
        }
        return product == null ? url : Dialect.forProduct(product).withRecommendedProperties(url);
    }

    /**
     * The library's event publisher.
     *
     * @return the publisher
     */
    @Bean
    @ConditionalOnMissingBean
    public EventPublisher dualWriteEventPublisher() {
        return new EventPublisher();
    }

    /**
     * Subscribes the {@link DualWriteEventListener} beans to the publisher.
     *
     * @param events the publisher
     * @param listeners the listener beans
     * @return the subscriber
     */
    @Bean
    @ConditionalOnMissingBean
    static EventListenerSubscriber dualWriteEventListenerSubscriber(EventPublisher events,
            ObjectProvider<DualWriteEventListener> listeners) {
        return new EventListenerSubscriber(events, listeners);
    }

    /**
     * The table mappings of {@code dualwrite.tables.*} plus any {@link TableMapping} beans, checked
     * against both stores.
     *
     * @param properties the settings
     * @param dataSource the application's data source
     * @param target the target pool
     * @param mappingBeans mappings declared in code
     * @param beans where transformers are looked up
     * @return the checked mappings
     * @throws io.dualwrite.mapping.MappingException listing every problem found
     */
    @Bean
    @ConditionalOnMissingBean
    public MappedTables dualWriteMappedTables(DualWriteProperties properties, DataSource dataSource,
            @Qualifier(TARGET_DATA_SOURCE) DataSource target, ObjectProvider<TableMapping> mappingBeans,
            BeanFactory beans) {
        DataSource source = source(dataSource, properties);
        List<TableMapping> mappings = new ArrayList<>(new TableMappingFactory(beans).build(properties.getTables()));
        mappingBeans.orderedStream().forEach(mappings::add);
        if (mappings.isEmpty()) {
            throw new DualWriteSettingException("dualwrite.tables", "dualwrite.tables: no table is mapped, so there"
                    + " is nothing to migrate",
                    "Map each table to migrate, e.g. dualwrite.tables.t_order.target-table=orders, or declare a"
                            + " TableMapping bean; or set dualwrite.enabled=false.");
        }
        try {
            return MappedTables.resolve(mappings, source, target, properties.getPhase() == Phase.RAMP,
                    properties.getSchema().isCreate());
        } catch (SQLException e) {
            throw unreachable(e);
        }
    }

    /**
     * The mirror, started here (before any application bean can write) and closed at shutdown, which
     * drains what is queued.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param dataSource the application's data source
     * @param target the target pool
     * @param events the publisher
     * @return the started mirror
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public Mirror dualWriteMirror(DualWriteProperties properties, MappedTables tables, DataSource dataSource,
            @Qualifier(TARGET_DATA_SOURCE) DataSource target, EventPublisher events) {
        Mirror mirror = Mirror.create(mirrorConfig(properties), tables, source(dataSource, properties), target,
                events);
        try {
            mirror.start();
        } catch (IllegalStateException missingTable) {
            mirror.close();
            throw missingTable(missingTable, "the source");
        } catch (SQLException e) {
            mirror.close();
            throw unreachable(e);
        }
        return mirror;
    }

    /**
     * The programmatic recorder, recording only in phases that mirror.
     *
     * @param mirror the mirror
     * @param properties the settings
     * @return the recorder
     */
    @Bean
    @ConditionalOnMissingBean
    public ChangeRecorder dualWriteChangeRecorder(Mirror mirror, DualWriteProperties properties) {
        return new PhaseGatedRecorder(mirror.recorder(), capturing(properties));
    }

    /**
     * Serves {@code @DualWrite}. Static and lazy: the proxy creator fetches advisors early, and must not
     * start the mirror (and its data sources) while doing so.
     *
     * @param mirror supplies the mirror's aspect on first use
     * @param properties the settings, read on each call
     * @return the advisor
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    @ConditionalOnMissingBean
    public static DualWriteAdvisor dualWriteAdvisor(ObjectProvider<Mirror> mirror,
            ObjectProvider<DualWriteProperties> properties) {
        return new DualWriteAdvisor(() -> mirror.getObject().aspect(),
                () -> capturing(properties.getObject()).getAsBoolean());
    }

    /**
     * The backfill, whose tables are checked (or created) here, so that a missing one stops start-up
     * rather than the first backfill.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param dataSource the application's data source
     * @param target the target pool
     * @param events the publisher
     * @param mirror the mirror, whose lag the backfill gives way to
     * @return the runner
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public BackfillRunner dualWriteBackfillRunner(DualWriteProperties properties, MappedTables tables,
            DataSource dataSource, @Qualifier(TARGET_DATA_SOURCE) DataSource target, EventPublisher events,
            Mirror mirror) {
        BackfillRunner runner = BackfillRunner.create(backfillConfig(properties, mirror), tables,
                source(dataSource, properties), target, events);
        try {
            runner.ensureTables();
        } catch (IllegalStateException missingTable) {
            throw missingTable(missingTable, "the target");
        } catch (SQLException e) {
            throw unreachable(e);
        }
        return runner;
    }

    /**
     * Starts every table's backfill when {@code dualwrite.backfill.auto-start=true}.
     *
     * @param backfill the runner
     * @param tables the mappings
     * @param properties the settings
     * @return the lifecycle bean
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty("dualwrite.backfill.auto-start")
    BackfillAutoStart dualWriteBackfillAutoStart(BackfillRunner backfill, MappedTables tables,
            DualWriteProperties properties) {
        return new BackfillAutoStart(backfill, tables, properties::getPhase);
    }

    static MirrorConfig mirrorConfig(DualWriteProperties properties) {
        DualWriteProperties.Mirror m = properties.getMirror();
        return settings(() -> {
            MirrorConfig.Builder b = MirrorConfig.builder().mode(m.getMode())
                    .createOutboxTable(properties.getSchema().isCreate());
            set(m.getLanes(), b::lanes);
            set(m.getQueueCapacity(), b::queueCapacity);
            set(m.getBatchSize(), b::batchSize);
            set(m.getBatchLinger(), b::batchLinger);
            set(m.getSyncTimeout(), b::syncTimeout);
            set(m.getApplyTimeout(), b::applyTimeout);
            set(m.getMaxAttempts(), b::maxAttempts);
            set(m.getInitialBackoff(), b::initialBackoff);
            set(m.getMaxBackoff(), b::maxBackoff);
            set(m.getShutdownTimeout(), b::shutdownTimeout);
            set(m.getOutbox().getTable(), b::outboxTable);
            set(m.getOutbox().getPollInterval(), b::outboxPollInterval);
            set(m.getOutbox().getBatchSize(), b::outboxBatchSize);
            return b.build();
        });
    }

    static BackfillConfig backfillConfig(DualWriteProperties properties, Mirror mirror) {
        DualWriteProperties.Backfill f = properties.getBackfill();
        return settings(() -> {
            BackfillConfig.Builder b = BackfillConfig.builder().rowsPerSecond(f.getRowsPerSecond())
                    .createTables(properties.getSchema().isCreate())
                    .backOffOnMirrorLag(mirror::lag, f.getMaxMirrorLag() == null ? Duration.ofSeconds(30)
                            : f.getMaxMirrorLag());
            for (Map.Entry<String, Long> limit : f.getHourlyLimits().entrySet()) {
                b.hourlyLimit(hour(limit.getKey()), limit.getValue());
            }
            if (f.getZone() != null) {
                try {
                    b.zone(ZoneId.of(f.getZone()));
                } catch (DateTimeException e) {
                    throw new IllegalArgumentException("dualwrite.backfill.zone: '" + f.getZone()
                            + "' is not a time zone", e);
                }
            }
            if (f.getMinChunkSize() != null || f.getMaxChunkSize() != null) {
                BackfillConfig defaults = BackfillConfig.defaults();
                b.chunkSizeBounds(f.getMinChunkSize() == null ? defaults.minChunkSize() : f.getMinChunkSize(),
                        f.getMaxChunkSize() == null ? defaults.maxChunkSize() : f.getMaxChunkSize());
            }
            set(f.getChunkSize(), b::chunkSize);
            set(f.getThreads(), b::threads);
            set(f.getRangesPerTable(), b::rangesPerTable);
            return b.build();
        });
    }

    private static int hour(String key) {
        try {
            int hour = Integer.parseInt(key.trim());
            if (hour >= 0 && hour <= 23) {
                return hour;
            }
        } catch (NumberFormatException e) {
            // reported below with the key
        }
        throw new IllegalArgumentException("dualwrite.backfill.hourly-limits." + key
                + ": the key must be an hour of the day, 00 to 23");
    }

    private static <T> void set(T value, Consumer<T> setter) {
        if (value != null) {
            setter.accept(value);
        }
    }

    /** Builds a config, turning the builders' refusals (which name the property) into start-up failures. */
    private static <T> T settings(java.util.function.Supplier<T> build) {
        try {
            return build.get();
        } catch (IllegalArgumentException refused) {
            String message = refused.getMessage() == null ? "" : refused.getMessage();
            Matcher property = PROPERTY.matcher(message);
            String name = property.find() ? property.group(1) : "dualwrite";
            throw new DualWriteSettingException(name, message, "Correct " + name
                    + " in the application's configuration.", refused);
        }
    }

    private static DualWriteSettingException missingTable(IllegalStateException missing, String database) {
        return new DualWriteSettingException("dualwrite.schema.create", missing.getMessage(),
                "Run the DDL above on " + database + " database, or set dualwrite.schema.create=true to let"
                        + " dualwrite create its tables at start-up.", missing);
    }

    private static DualWriteSettingException unreachable(SQLException e) {
        return new DualWriteSettingException("dualwrite.target.url", "dualwrite could not read the source or target"
                + " database at start-up: " + e.getMessage(),
                "Check that both databases are reachable, and dualwrite.target.url, dualwrite.target.username and"
                        + " dualwrite.target.password.", e);
    }

    /** {@code dualwrite.target.url} is set, or the application brings its own target pool. */
    static final class TargetConfigured extends AnyNestedCondition {

        TargetConfigured() {
            super(ConfigurationPhase.REGISTER_BEAN);
        }

        @ConditionalOnProperty("dualwrite.target.url")
        static final class UrlSet {
        }

        @ConditionalOnBean(name = TARGET_DATA_SOURCE)
        static final class OwnPool {
        }
    }
}
