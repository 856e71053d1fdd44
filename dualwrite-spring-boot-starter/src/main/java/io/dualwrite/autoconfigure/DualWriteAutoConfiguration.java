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
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.routing.ControlStore;
import io.dualwrite.routing.CrossRouteWrites;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.JdbcControlStore;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.PropertiesControlStore;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingChangeSink;
import io.dualwrite.routing.RampGuards;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.RoutingValues;
import io.dualwrite.verify.ComparisonRules;
import io.dualwrite.verify.DoubleReadConfig;
import io.dualwrite.verify.DoubleReader;
import io.dualwrite.verify.DualReadAspect;
import io.dualwrite.verify.MirrorCatchUp;
import io.dualwrite.verify.ReconcileConfig;
import io.dualwrite.verify.Reconciler;
import io.dualwrite.verify.Repairer;
import io.dualwrite.verify.RowRoutes;
import io.micrometer.observation.ObservationRegistry;
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
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnSingleCandidate;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.sql.init.dependency.DatabaseInitializationDependencyConfigurer;
import org.springframework.boot.sql.init.dependency.DependsOnDatabaseInitialization;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;
import org.springframework.context.annotation.Role;

/**
 * Dual-write for the application's own {@link DataSource} (the source) into a target pool built from
 * {@code dualwrite.target.*}: the table mappings, checked at start-up, the mirror, {@code @DualWrite}
 * capture and the {@link ChangeRecorder}, and the backfill.
 *
 * <p>Off when {@code dualwrite.enabled=false}, or when there is neither {@code dualwrite.target.url}
 * nor {@code dualwrite.target.sharding-sphere-config} nor a bean named {@value #TARGET_DATA_SOURCE}. Every
 * bean backs off for one of the application's own. A target that is a ShardingSphere-JDBC data source (built
 * from that YAML or the application's own bean) is seen by the library through {@code ShardingSphereTarget}.
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

    /** The name of the library's own pool on the source. */
    public static final String SOURCE_DATA_SOURCE = "dualWriteSourceDataSource";

    /** The name of the library's own pool on the target. */
    public static final String TARGET_LIBRARY_DATA_SOURCE = "dualWriteTargetLibraryDataSource";

    /** The name of the control store's own pool ({@code dualwrite.control.store=TABLE}). */
    public static final String CONTROL_DATA_SOURCE = "dualWriteControlDataSource";

    /** The property a library message opens with, e.g. {@code dualwrite.mirror.lanes: must be ...}. */
    private static final Pattern PROPERTY = Pattern.compile("^(dualwrite(?:\\.[A-Za-z0-9_\\-\\[\\]]+)+)");

    /** Creates the configuration; Spring does. */
    public DualWriteAutoConfiguration() {
    }

    /**
     * The source store: the application's own pool, underneath the routing {@code DataSource} that
     * {@link RoutingDataSourcePostProcessor} put in its place. The mirror, the backfill, the mappings and
     * the verifier use it directly; the application goes through the routing one.
     *
     * @param applicationDataSource the application's {@code DataSource} bean
     * @param properties the settings
     * @return the source store
     */
    static DataSource source(DataSource applicationDataSource, DualWriteProperties properties) {
        return applicationDataSource instanceof DualWriteRoutingDataSource routing ? routing.source()
                : applicationDataSource;
    }

    /**
     * Puts the routing {@code DataSource} in place of the application's own.
     *
     * @return the post-processor
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static RoutingDataSourcePostProcessor dualWriteRoutingDataSourcePostProcessor() {
        return new RoutingDataSourcePostProcessor();
    }

    /**
     * Lets the application's schema tools (Flyway, Liquibase, {@code spring.sql.init}) run at start-up on the
     * source's own connections, before the mappings are checked.
     *
     * @return the post-processor marking their run
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    static SchemaToolsWindow dualWriteSchemaToolsWindow() {
        return new SchemaToolsWindow();
    }

    /**
     * Boot's database initialization ordering, also when no Boot auto-configuration imported it: the
     * mapping check ({@code @DependsOnDatabaseInitialization} on {@link #dualWriteMappedTables}) waits for
     * every schema initializer.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.sql.init.dependency.DatabaseInitializationDependencyConfigurer")
    @Import(DatabaseInitializationDependencyConfigurer.class)
    static class MappingCheckAfterSchemaTools {
    }

    /**
     * The library's own pool on the source, so that the mirror, the backfill, the reconciler and double
     * reads never borrow the application's connections: a copy of the application's HikariCP settings
     * (URL, user, password, driver, data source properties) named {@code dualwrite-source}, 8 connections
     * and a connection timeout of {@code dualwrite.wait-limit} (2 s) unless {@code dualwrite.source.hikari.*}
     * says otherwise (not above the wait limit: spilling and SYNC take its connections on application
     * threads). So a SYNC
     * apply no longer waits for a second connection from a saturated application pool, and the lanes no
     * longer hold the application's connections. When the application's data source is not a HikariCP
     * pool, its settings cannot be read: the library then shares it, and says so at start-up.
     *
     * @param dataSource the application's (routing) data source
     * @param properties the settings
     * @return the pool
     */
    @Bean(name = SOURCE_DATA_SOURCE, defaultCandidate = false)
    @ConditionalOnMissingBean(name = SOURCE_DATA_SOURCE)
    @ConfigurationProperties(prefix = "dualwrite.source.hikari")
    public static DataSource dualWriteSourceDataSource(DataSource dataSource, DualWriteProperties properties) {
        DataSource physical = source(dataSource, properties);
        HikariDataSource application = hikariOf(physical);
        if (application == null) {
            org.apache.commons.logging.LogFactory.getLog(DualWriteAutoConfiguration.class).warn("dualwrite shares the application's source"
                    + " data source (" + physical.getClass().getName() + ", not a HikariCP pool whose settings it can"
                    + " copy): the mirror, backfill and reconciler borrow the application's connections. Define a"
                    + " DataSource bean named '" + SOURCE_DATA_SOURCE + "' to give them their own");
            return new org.springframework.jdbc.datasource.DelegatingDataSource(physical);
        }
        return libraryPool(application, "dualwrite-source", 8, waitLimit(properties).toMillis());
    }

    /**
     * The library's own pool on the target, so that the mirror's lanes, SYNC applies, the backfill, the
     * reconciler and double reads never take the connections that requests routed to the target (RAMP,
     * TARGET_ONLY) need from the target pool: a copy of the target pool's HikariCP settings named
     * {@code dualwrite-target-library}, 8 connections and a connection timeout of {@code dualwrite.wait-limit}
     * unless {@code dualwrite.target.library-hikari.*} says otherwise (not above the wait limit in SYNC). A
     * target data source that is not a HikariCP pool is shared, and that is said at start-up.
     *
     * @param target the target pool
     * @param properties the settings
     * @return the pool
     */
    @Bean(name = TARGET_LIBRARY_DATA_SOURCE, defaultCandidate = false)
    @ConditionalOnMissingBean(name = TARGET_LIBRARY_DATA_SOURCE)
    @ConfigurationProperties(prefix = "dualwrite.target.library-hikari")
    public static DataSource dualWriteTargetLibraryDataSource(@Qualifier(TARGET_DATA_SOURCE) DataSource target,
            DualWriteProperties properties) {
        DataSource sharded = ShardingSphereTargets.forLibrary(target);
        if (sharded != target) {
            // ShardingSphere's own pools, one per real database, reached through its storage units.
            return sharded;
        }
        HikariDataSource model = hikariOf(target);
        if (model == null) {
            org.apache.commons.logging.LogFactory.getLog(DualWriteAutoConfiguration.class).warn("dualwrite shares the target"
                    + " data source (" + target.getClass().getName() + ", not a HikariCP pool whose settings it can"
                    + " copy) with the requests routed to the target. Define a DataSource bean named '"
                    + TARGET_LIBRARY_DATA_SOURCE + "' to give the mirror, backfill and reconciler their own");
            return new org.springframework.jdbc.datasource.DelegatingDataSource(target);
        }
        // SYNC takes these connections on the application's threads.
        return libraryPool(model, "dualwrite-target-library", 8, waitLimit(properties).toMillis());
    }

    /**
     * The control store's own pool ({@code dualwrite.control.store=TABLE}): two connections to the target,
     * named {@code dualwrite-control}, with a 1 s connection timeout unless {@code dualwrite.control.hikari.*}
     * says otherwise. Heartbeats then never queue behind the application's requests or the mirror's
     * applies for a connection: a lease that lapsed only because a pool was saturated would hold every
     * request of this instance that a step could move. Built like the target pool (a copy of its HikariCP
     * settings); a target data source that is not a HikariCP pool is shared, and that is said at start-up.
     *
     * @param target the target pool
     * @return the pool
     */
    @Bean(name = CONTROL_DATA_SOURCE, defaultCandidate = false)
    @ConditionalOnMissingBean(name = CONTROL_DATA_SOURCE)
    @ConfigurationProperties(prefix = "dualwrite.control.hikari")
    public static DataSource dualWriteControlDataSource(@Qualifier(TARGET_DATA_SOURCE) DataSource target) {
        DataSource sharded = ShardingSphereTargets.forLibrary(target);
        if (sharded != target) {
            return sharded;
        }
        HikariDataSource model = hikariOf(target);
        if (model == null) {
            org.apache.commons.logging.LogFactory.getLog(DualWriteAutoConfiguration.class).warn("dualwrite's control store"
                    + " shares the target data source (" + target.getClass().getName() + ", not a HikariCP pool whose"
                    + " settings it can copy), so a saturated target pool can delay its heartbeats. Define a"
                    + " DataSource bean named '" + CONTROL_DATA_SOURCE + "' to give it its own");
            return new org.springframework.jdbc.datasource.DelegatingDataSource(target);
        }
        return libraryPool(model, "dualwrite-control", 2, 1_000);
    }

    /**
     * The pool whose settings a library pool copies: the bean itself when it is a HikariCP pool. A bean
     * that wraps one (a tracing proxy, a fault injector) is shared as it is, never bypassed by reaching
     * the pool inside it.
     *
     * @return the pool, or null
     */
    private static HikariDataSource hikariOf(DataSource dataSource) {
        return dataSource instanceof HikariDataSource pool ? pool : null;
    }

    /**
     * A pool of the library's own on the same database as {@code model}: its URL, credentials, driver and
     * data source properties, with a name that shows in HikariCP's metrics, a size and a connection timeout;
     * the bean's {@code @ConfigurationProperties} may then override any of them.
     */
    private static HikariDataSource libraryPool(HikariDataSource model, String name, int size, long timeoutMillis) {
        HikariDataSource pool = new HikariDataSource();
        pool.setPoolName(name);
        if (model.getJdbcUrl() != null) {
            pool.setJdbcUrl(model.getJdbcUrl());
        }
        if (model.getDataSourceClassName() != null) {
            pool.setDataSourceClassName(model.getDataSourceClassName());
        }
        if (model.getDriverClassName() != null) {
            pool.setDriverClassName(model.getDriverClassName());
        }
        pool.setUsername(model.getUsername());
        pool.setPassword(model.getPassword());
        pool.setDataSourceProperties(model.getDataSourceProperties());
        pool.setMaximumPoolSize(size);
        pool.setMinimumIdle(0);
        pool.setConnectionTimeout(timeoutMillis);
        return pool;
    }

    /**
     * The target built from {@code dualwrite.target.sharding-sphere-config}: the ShardingSphere-JDBC data source its
     * YAML describes, through which requests routed to the target go; the library sees it through
     * {@code ShardingSphereTarget}. Registered before the HikariCP target pool, which then backs off.
     */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnProperty(ShardingSphereTargets.PROPERTY)
    static class ShardingSphereTargetConfiguration {

        /**
         * The sharded target.
         *
         * @param properties the settings
         * @param resources where the YAML is read from
         * @param environment where pool settings that do not apply to it are looked for, to say so
         * @return ShardingSphere's data source; closed with the context
         * @throws DualWriteSettingException naming the property if the URL is set as well, or the YAML cannot be
         *     used
         */
        @Bean(name = TARGET_DATA_SOURCE, defaultCandidate = false)
        @ConditionalOnMissingBean(name = TARGET_DATA_SOURCE)
        static DataSource dualWriteShardingSphereTargetDataSource(DualWriteProperties properties,
                org.springframework.core.io.ResourceLoader resources,
                org.springframework.core.env.Environment environment) {
            DualWriteProperties.Target target = properties.getTarget();
            // Blank counts as unset, so that a profile can switch an application.properties URL off.
            if (org.springframework.util.StringUtils.hasText(target.getUrl())) {
                throw new DualWriteSettingException(ShardingSphereTargets.PROPERTY, ShardingSphereTargets.PROPERTY
                        + " and dualwrite.target.url are both set; the sharded target's databases are those of its"
                        + " YAML", "Remove dualwrite.target.url (and username, password), or "
                        + ShardingSphereTargets.PROPERTY + ".");
            }
            ShardingSphereTargets.warnIgnoredPoolSettings(environment);
            return ShardingSphereTargets.create(target.getShardingSphereConfig(), resources);
        }
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
     * against both stores once the application's schema tools (Flyway, Liquibase, {@code spring.sql.init}, any
     * bean Boot detects as a database initializer) have run.
     *
     * @param properties the settings
     * @param dataSource the application's data source
     * @param target the target pool
     * @param mappingBeans mappings declared in code
     * @param beans where transformers are looked up
     * @param librarySource the library's source; when it is a sharded source, the mappings are checked on its shards
     * @return the checked mappings
     * @throws io.dualwrite.mapping.MappingException listing every problem found
     */
    @Bean
    @ConditionalOnMissingBean
    @DependsOnDatabaseInitialization
    public MappedTables dualWriteMappedTables(DualWriteProperties properties, DataSource dataSource,
            @Qualifier(TARGET_DATA_SOURCE) DataSource target, ObjectProvider<TableMapping> mappingBeans,
            BeanFactory beans, @Qualifier(SOURCE_DATA_SOURCE) ObjectProvider<DataSource> librarySource) {
        // A sharded source's logical tables exist only through the library's view of its shards.
        DataSource library = librarySource.getIfAvailable();
        DataSource source = library instanceof io.dualwrite.shard.ShardedSource ? library
                : source(dataSource, properties);
        List<TableMapping> mappings = new ArrayList<>(new TableMappingFactory(beans).build(properties.getTables()));
        mappingBeans.orderedStream().forEach(mappings::add);
        if (mappings.isEmpty()) {
            throw new DualWriteSettingException("dualwrite.tables", "dualwrite.tables: no table is mapped, so there"
                    + " is nothing to migrate",
                    "Map each table to migrate, e.g. dualwrite.tables.t_order.target-table=orders, or declare a"
                            + " TableMapping bean; or set dualwrite.enabled=false.");
        }
        try {
            MappedTables tables = MappedTables.resolve(mappings, source, ShardingSphereTargets.forLibrary(target),
                    properties.getPhase() == Phase.RAMP,
                    properties.getSchema().isCreate());
            ComparedColumns.logGeneratedColumns(properties, tables);
            return tables;
        } catch (SQLException e) {
            throw unreachable(e);
        }
    }

    /**
     * Where the migration's live setting is kept: {@code dualwrite.control.store=PROPERTIES} (this
     * instance's properties, changed through the endpoint) or {@code TABLE} ({@code dualwrite_control} in
     * the target, shared by every instance; the properties only seed a new row).
     *
     * @param properties the settings
     * @param control the control store's own pool on the target, created only for {@code TABLE}
     * @return the store
     */
    @Bean
    @ConditionalOnMissingBean
    public ControlStore dualWriteControlStore(DualWriteProperties properties,
            @Qualifier(CONTROL_DATA_SOURCE) ObjectProvider<DataSource> control) {
        RoutingRules rules = settings(() -> initialRules(properties));
        if (properties.getControl().getStore() == DualWriteProperties.ControlStore.PROPERTIES) {
            return new PropertiesControlStore(rules);
        }
        try {
            return settings(() -> {
                try {
                    return JdbcControlStore.open(control.getObject(), properties.getControl().getMigration(), rules,
                            properties.getSchema().isCreate());
                } catch (SQLException e) {
                    throw unreachable(e);
                }
            });
        } catch (IllegalStateException missingTable) {
            throw missingTable(missingTable, "the target");
        }
    }

    static RoutingRules initialRules(DualWriteProperties properties) {
        DualWriteProperties.Routing routing = properties.getRouting();
        return new RoutingRules(properties.getPhase(), routing.getPercent(), routing.getStrategy(),
                new java.util.LinkedHashSet<>(routing.getAllow()), new java.util.LinkedHashSet<>(routing.getDeny()),
                routing.getDefaultRoute()).requireListedKeysHaveBuckets();
    }

    /**
     * This instance's migration controller: follows the control store, runs ramp steps as barriers,
     * admits every connection of the routing {@code DataSource}.
     *
     * @param properties the settings
     * @param store the control store
     * @return the controller, started once the mirrors exist ({@code dualWriteMigrationControllerStart})
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public MigrationController dualWriteMigrationController(DualWriteProperties properties, ControlStore store) {
        DualWriteProperties.Routing routing = properties.getRouting();
        DualWriteProperties.Control control = properties.getControl();
        MigrationController controller = settings(() -> {
            MigrationController.Builder b = MigrationController.builder(store).pollInterval(control.getPollInterval())
                    .holdTimeout(holdTimeout(properties)).stepTimeout(routing.getStepTimeout())
                    .userRouteCacheSize(routing.getUserRouteCacheSize());
            set(control.getInstanceId(), b::instanceId);
            try {
                return b.build();
            } catch (SQLException e) {
                throw unreachable(e);
            }
        });
        return controller;
    }

    /**
     * Starts the controller once every singleton exists: by then both mirrors have registered their drains,
     * so a step found pending at start-up is never acknowledged before they are drained.
     *
     * With both mirrors, it also gives the controller the copy per-user moves need
     * ({@link io.dualwrite.routing.UserCopy#throughMirrors}, tables in {@code dualwrite.routing.move-order}).
     *
     * @param controller the controller
     * @param mirror the forward mirror (created first)
     * @param reverse the reverse mirror, if any (created first)
     * @param properties the settings
     * @param tables the mappings
     * @param source the library's source pool
     * @param target the library's own target pool
     * @return the starter
     */
    @Bean
    @ConditionalOnMissingBean(name = "dualWriteMigrationControllerStart")
    public SmartInitializingSingleton dualWriteMigrationControllerStart(MigrationController controller,
            @Qualifier("dualWriteMirror") Mirror mirror, @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse,
            DualWriteProperties properties, MappedTables tables, @Qualifier(SOURCE_DATA_SOURCE) DataSource source,
            @Qualifier(TARGET_LIBRARY_DATA_SOURCE) DataSource target) {
        Mirror back = reverse.getIfAvailable();
        if (back != null) {
            controller.useUserCopy(io.dualwrite.routing.UserCopy.throughMirrors(tables,
                    properties.getRouting().getMoveOrder(), mirror, back, source, target));
        }
        return () -> {
            try {
                controller.start();
            } catch (SQLException e) {
                throw unreachable(e);
            }
        };
    }

    /**
     * The mirror from the source to the target, started here (before any application bean can write) and
     * closed at shutdown, which drains what is queued. Ramp steps drain it before they go active.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param dataSource the application's (routing) data source, whose transactions OUTBOX joins
     * @param target the library's own target pool
     * @param source the library's source pool, which the applies read under their lock
     * @param events the publisher
     * @param controller the migration controller
     * @param environment where the pools' connection timeouts are read, to check them against the wait limit
     * @param observations the application's observation registry, if any
     * @param routingValues each row's routing value, for counting cross-route writes
     * @return the started mirror
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean(name = "dualWriteMirror")
    public Mirror dualWriteMirror(DualWriteProperties properties, MappedTables tables, DataSource dataSource,
            @Qualifier(TARGET_LIBRARY_DATA_SOURCE) DataSource target, @Qualifier(SOURCE_DATA_SOURCE) DataSource source,
            EventPublisher events, MigrationController controller, org.springframework.core.env.Environment environment,
            ObjectProvider<ObservationRegistry> observations, ObjectProvider<RoutingValues> routingValues) {
        MirrorConfig config = mirrorConfig(properties, observations(observations));
        checkConnectionWait(environment, "dualwrite.source.hikari.connection-timeout", properties);
        if (config.mode() == io.dualwrite.mirror.MirrorMode.SYNC) {
            checkConnectionWait(environment, "dualwrite.target.library-hikari.connection-timeout", properties);
        }
        Mirror mirror = Mirror.create(config, tables, source, target, dataSource, events);
        mirror.observeRows(new CrossRouteWrites(controller, Route.SOURCE,
                routingValues.getIfAvailable(RoutingValues::identity)));
        controller.addDrain(MigrationController.Drain.of(mirror));
        start(mirror, "the source");
        return mirror;
    }

    /**
     * The mirror that carries target-routed writes back to the source during RAMP. Absent (null) when a
     * table's transformer cannot map rows back; RAMP is then refused by the reverse-path guard.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param dataSource the application's (routing) data source
     * @param target the library's own target pool
     * @param source the library's source pool, which this mirror writes
     * @param events the publisher
     * @param controller the migration controller
     * @param observations the application's observation registry, if any
     * @param routingValues each row's routing value, for counting cross-route writes
     * @return the started mirror, or null
     */
    @Bean(name = "dualWriteReverseMirror", destroyMethod = "close", defaultCandidate = false)
    @ConditionalOnMissingBean(name = "dualWriteReverseMirror")
    public Mirror dualWriteReverseMirror(DualWriteProperties properties, MappedTables tables, DataSource dataSource,
            @Qualifier(TARGET_LIBRARY_DATA_SOURCE) DataSource target, @Qualifier(SOURCE_DATA_SOURCE) DataSource source,
            EventPublisher events, MigrationController controller, ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<RoutingValues> routingValues) {
        if (!tables.all().stream().allMatch(MappedTable::reversible)) {
            return null;
        }
        Mirror mirror = Mirror.create(mirrorConfig(properties, observations(observations)), tables.reversed(), target,
                source, dataSource, events);
        mirror.observeRows(new CrossRouteWrites(controller, Route.TARGET,
                routingValues.getIfAvailable(RoutingValues::identity)));
        controller.addDrain(MigrationController.Drain.of(mirror));
        start(mirror, "the target");
        return mirror;
    }

    private static void start(Mirror mirror, String database) {
        try {
            mirror.start();
        } catch (IllegalStateException missingTable) {
            mirror.close();
            throw missingTable(missingTable, database);
        } catch (SQLException e) {
            mirror.close();
            throw unreachable(e);
        }
    }

    /**
     * The change capture behind {@code @DualWrite}, the {@link ChangeRecorder} and the capturing data
     * source: each committed change set goes to the mirror of the store its transaction was routed to.
     *
     * @param controller the migration controller
     * @param tables the mappings
     * @param mirror the forward mirror
     * @param reverse the reverse mirror, if any
     * @return the capture
     */
    @Bean(defaultCandidate = false)
    @ConditionalOnMissingBean
    public ChangeCapture dualWriteChangeCapture(MigrationController controller, MappedTables tables,
            @Qualifier("dualWriteMirror") Mirror mirror, @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse) {
        return new ChangeCapture(new RoutingChangeSink(controller, tables, mirror, reverse.getIfAvailable()),
                tables::contains);
    }

    /**
     * The programmatic recorder, recording only while the phase (or a step under way) mirrors.
     *
     * @param capture the capture
     * @param controller the migration controller
     * @return the recorder
     */
    @Bean
    @ConditionalOnMissingBean
    public ChangeRecorder dualWriteChangeRecorder(@Qualifier("dualWriteChangeCapture") ChangeCapture capture,
            MigrationController controller) {
        return new PhaseGatedRecorder(capture, controller::mirroring);
    }

    /**
     * Serves {@code @DualWrite}. Static and lazy: the proxy creator fetches advisors early, and must not
     * start the mirror (and its data sources) while doing so.
     *
     * @param beans where the capture (not an autowiring candidate) is found on first use
     * @param controller supplies the controller, whose phase decides whether anything is recorded
     * @return the advisor
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    @ConditionalOnMissingBean
    public static DualWriteAdvisor dualWriteAdvisor(BeanFactory beans, ObjectProvider<MigrationController> controller) {
        DualWriteAspect[] aspect = new DualWriteAspect[1];
        return new DualWriteAdvisor(() -> {
            synchronized (aspect) {
                if (aspect[0] == null) {
                    aspect[0] = new DualWriteAspect(beans.getBean("dualWriteChangeCapture", ChangeCapture.class));
                    aspect[0].setTransparentCapture(
                            beans.getBean(DualWriteProperties.class).getCapture().isTransparent());
                }
                return aspect[0];
            }
        }, () -> controller.getObject().mirroring());
    }

    /**
     * Binds {@code @RoutingKey} parameters and {@code @DualWrite(routingKey = ...)} before the transaction
     * interceptor takes its connection.
     *
     * @return the advisor
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    @ConditionalOnMissingBean
    public static RoutingKeyAdvisor dualWriteRoutingKeyAdvisor() {
        return new RoutingKeyAdvisor();
    }

    /**
     * The backfill, whose tables are checked (or created) here, so that a missing one stops start-up
     * rather than the first backfill.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param source the library's source pool
     * @param target the library's own target pool
     * @param events the publisher
     * @param mirror the mirror, whose lag the backfill gives way to
     * @param controller the controller, whose gate keeps chunks out of RAMP
     * @param observations the application's observation registry, if any
     * @return the runner
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public BackfillRunner dualWriteBackfillRunner(DualWriteProperties properties, MappedTables tables,
            @Qualifier(SOURCE_DATA_SOURCE) DataSource source, @Qualifier(TARGET_LIBRARY_DATA_SOURCE) DataSource target,
            EventPublisher events, @Qualifier("dualWriteMirror") Mirror mirror, MigrationController controller,
            ObjectProvider<ObservationRegistry> observations) {
        BackfillRunner runner = BackfillRunner.create(backfillConfig(properties, mirror, observations(observations)),
                tables, source, target, events, controller.backfillGate());
        List<String> unmapped = properties.getBackfill().getOrder().stream().filter(t -> !tables.contains(t.trim()))
                .toList();
        if (!unmapped.isEmpty()) {
            throw new DualWriteSettingException("dualwrite.backfill.order", "dualwrite.backfill.order: tables "
                    + unmapped + " are not mapped; mapped tables: " + tables.all().stream().map(MappedTable::name)
                    .toList(), "Name mapped source tables in dualwrite.backfill.order, parents first.");
        }
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
     * @param controller the controller, for the phase in force
     * @return the lifecycle bean
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty("dualwrite.backfill.auto-start")
    BackfillAutoStart dualWriteBackfillAutoStart(BackfillRunner backfill, MappedTables tables,
            MigrationController controller) {
        return new BackfillAutoStart(backfill, tables, () -> controller.rules().phase());
    }

    /**
     * The guards that may refuse a step sending traffic to the target: every table's backfill done, the
     * recent double-read mismatch rate at most {@code dualwrite.routing.max-mismatch-rate}, and the reverse
     * path proven by a rolled-back probe. {@code force} on the endpoint overrides them (logged).
     *
     * @param controller the controller
     * @param backfill the backfill runner
     * @param tables the mappings
     * @param reverse the reverse mirror, if any
     * @param verify the verification status
     * @param properties the settings
     * @return a bean that adds them once every singleton exists, then refuses start-up when the initial
     *     setting a new control store was seeded with (RAMP from properties) is one they refuse, unless
     *     {@code dualwrite.routing.force-initial=true}
     */
    @Bean
    @ConditionalOnMissingBean(name = "dualWriteRampGuards")
    public SmartInitializingSingleton dualWriteRampGuards(MigrationController controller, BackfillRunner backfill,
            MappedTables tables, @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse,
            VerifyStatus verify, DualWriteProperties properties) {
        return () -> {
            List<String> names = tables.all().stream().map(MappedTable::name).toList();
            controller.addGuard(RampGuards.backfillDone(backfill, names));
            controller.addGuard(RampGuards.mismatchRateAtMost(verify::recentMismatchRate,
                    properties.getRouting().getMaxMismatchRate()));
            controller.addGuard(RampGuards.reversePathProven(tables, reverse.getIfAvailable(), controller));
            try {
                // A seeded RAMP from properties must pass the guards a step would have to pass.
                controller.checkUnsteppedSetting(properties.getRouting().isForceInitial());
            } catch (SQLException e) {
                throw unreachable(e);
            }
        };
    }

    /**
     * What verification has seen; every verifier event passes through it (and on to the meters, when
     * Micrometer is present).
     *
     * @return the status
     */
    @Bean
    @ConditionalOnMissingBean
    public VerifyStatus dualWriteVerifyStatus() {
        return new VerifyStatus();
    }

    /**
     * Sampled double reads of {@code @DualRead} methods at {@code dualwrite.verify.sample-rate}, compared
     * against the store the request was not routed to; {@code dualwrite.verify.mask-columns} (a column, or
     * table.column) never printed.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param source the library's source pool
     * @param target the library's own target pool
     * @param controller the controller, for each request's route
     * @param backfill the backfill, which must be done before a table's reads are compared
     * @param status where events go
     * @param observations the application's observation registry, if any
     * @param degradation the marks of rows not mirrored, which the double read leaves alone
     * @return the reader
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public DoubleReader dualWriteDoubleReader(DualWriteProperties properties, MappedTables tables,
            @Qualifier(SOURCE_DATA_SOURCE) DataSource source, @Qualifier(TARGET_LIBRARY_DATA_SOURCE) DataSource target,
            MigrationController controller,
            BackfillRunner backfill, VerifyStatus status, ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<io.dualwrite.degrade.Degradation> degradation) {
        BackfillDoneCache backfilled = new BackfillDoneCache(backfill);
        DoubleReadConfig config = settings(() -> DoubleReadConfig.builder().observationRegistry(observations(observations))
                .sampleRate(properties.getVerify().getSampleRate()).currentRoute(controller::currentRoute)
                .routingVersion(() -> controller.state().version())
                // DESIGN: double reads in DUAL_WRITE and RAMP only, and a table not yet copied differs by design.
                .comparingWhen(table -> {
                    Phase phase = controller.rules().phase();
                    return (phase == Phase.DUAL_WRITE || phase == Phase.RAMP) && backfilled.isDone(table);
                })
                .ignoredRows(DualWriteDegradeAutoConfiguration.ignoredRows(degradation))
                .rules(comparisonRules(properties, tables)).build());
        return DoubleReader.create(config, tables, source, target, status);
    }

    static ComparisonRules comparisonRules(DualWriteProperties properties, MappedTables tables) {
        ComparisonRules.Builder rules = ComparisonRules.builder();
        for (String entry : properties.getVerify().getMaskColumns()) {
            int dot = entry.indexOf('.');
            if (dot > 0) {
                rules.mask(entry.substring(0, dot), entry.substring(dot + 1));
            } else {
                for (MappedTable table : tables.all()) {
                    rules.mask(table.name(), entry);
                }
            }
        }
        ComparedColumns.ignore(rules, properties, tables);
        return rules.build();
    }

    /**
     * Serves {@code @DualRead}.
     *
     * @param reader supplies the reader on first use
     * @return the advisor
     */
    @Bean
    @Role(BeanDefinition.ROLE_INFRASTRUCTURE)
    @ConditionalOnMissingBean
    public static DualReadAdvisor dualReadAdvisor(ObjectProvider<DoubleReader> reader) {
        DualReadAspect[] aspect = new DualReadAspect[1];
        return new DualReadAdvisor(() -> {
            synchronized (aspect) {
                if (aspect[0] == null) {
                    aspect[0] = new DualReadAspect(reader.getObject());
                }
                return aspect[0];
            }
        });
    }

    /**
     * Reconciles on demand (the endpoint) and on {@code dualwrite.verify.reconcile.cron}; repairs unless
     * {@code dualwrite.verify.reconcile.repair=false}, through the mirror of each row's own route.
     *
     * @param properties the settings
     * @param tables the mappings
     * @param source the library's source pool
     * @param target the library's own target pool
     * @param mirror the forward mirror
     * @param reverse the reverse mirror, if any
     * @param controller the controller, whose router gives each row's route
     * @param status where reports and events go
     * @param observations the application's observation registry, if any
     * @param routingValues each row's routing value, which decides the store a repair follows in RAMP
     * @param degradation the marks of rows not mirrored, which the reconciler leaves alone
     * @return the service
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public ReconcileService dualWriteReconcileService(DualWriteProperties properties, MappedTables tables,
            @Qualifier(SOURCE_DATA_SOURCE) DataSource source, @Qualifier(TARGET_LIBRARY_DATA_SOURCE) DataSource target,
            @Qualifier("dualWriteMirror") Mirror mirror, @Qualifier("dualWriteReverseMirror") ObjectProvider<Mirror> reverse,
            MigrationController controller, VerifyStatus status, ObjectProvider<ObservationRegistry> observations,
            ObjectProvider<RoutingValues> routingValues, ObjectProvider<io.dualwrite.degrade.Degradation> degradation) {
        DualWriteProperties.Verify.Reconcile reconcile = properties.getVerify().getReconcile();
        ObservationRegistry observationRegistry = observations(observations);
        Mirror back = reverse.getIfAvailable();
        Repairer repairer = back == null ? Repairer.throughMirror(mirror, Duration.ofSeconds(30))
                : Repairer.throughMirrors(tables, mirror, back, Duration.ofSeconds(30));
        MirrorCatchUp catchUp = back == null ? MirrorCatchUp.of(mirror) : MirrorCatchUp.of(mirror, back);
        ComparisonRules rules = comparisonRules(properties, tables);
        java.util.function.Supplier<ReconcileConfig.Builder> config = () -> ReconcileConfig.builder()
                .observationRegistry(observationRegistry)
                .createTables(properties.getSchema().isCreate()).dryRun(!reconcile.isRepair()).repairWith(repairer)
                .mirrorCatchUp(catchUp).rowRoutes(RowRoutes.byRoutingColumn(tables, controller.router(),
                        routingValues.getIfAvailable(RoutingValues::identity))).rules(rules)
                .owner(controller.instanceId()).lease(reconcile.getLease())
                .ignoredRows(DualWriteDegradeAutoConfiguration.ignoredRows(degradation));
        settings(() -> config.get().build());
        ReconcileService service = new ReconcileService(config, tables, source, target, status,
                reconcile.getWindow());
        try {
            service.wholeTables().ensureTables();
        } catch (IllegalStateException missingTable) {
            throw missingTable(missingTable, "the target");
        } catch (SQLException e) {
            throw unreachable(e);
        }
        if (reconcile.getCron() != null && !reconcile.getCron().isBlank()) {
            settings(() -> {
                service.schedule(reconcile.getCron());
                return service;
            });
        }
        return service;
    }

    /**
     * Reconciles a table a little after a write to it ran unmirrored under
     * {@code dualwrite.capture.unattributable=WARN}.
     *
     * @param service the reconcile service
     * @param properties the settings
     * @return the listener
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty("dualwrite.capture.transparent")
    UnattributedWriteReconciler dualWriteUnattributedWriteReconciler(ReconcileService service,
            DualWriteProperties properties) {
        return new UnattributedWriteReconciler(service, properties.getCapture().getReconcileDelay());
    }

    /**
     * A reconciler over whole tables with the configured repair, for application code.
     *
     * @param service the reconcile service
     * @return the reconciler
     */
    @Bean
    @ConditionalOnMissingBean
    public Reconciler dualWriteReconciler(ReconcileService service) {
        return service.wholeTables();
    }

    /**
     * @return {@code dualwrite.wait-limit}
     * @throws DualWriteSettingException if it is not a positive duration
     */
    static Duration waitLimit(DualWriteProperties properties) {
        Duration limit = properties.getWaitLimit();
        if (limit == null || limit.isNegative() || limit.isZero()) {
            throw new DualWriteSettingException("dualwrite.wait-limit", "dualwrite.wait-limit: must be positive, was "
                    + limit, "Set dualwrite.wait-limit to a positive duration, e.g. 2s.");
        }
        return limit;
    }

    /**
     * How long a request a ramp step holds may wait: the wait limit unless set, and never more.
     *
     * @throws IllegalArgumentException naming both properties when it exceeds the wait limit
     */
    static Duration holdTimeout(DualWriteProperties properties) {
        Duration hold = properties.getRouting().getHoldTimeout();
        Duration limit = waitLimit(properties);
        if (hold == null) {
            return limit;
        }
        if (hold.compareTo(limit) > 0) {
            throw new IllegalArgumentException("dualwrite.routing.hold-timeout (" + hold
                    + ") exceeds dualwrite.wait-limit (" + limit + "): a held request waits on the application's thread,"
                    + " which the library never holds longer than the wait limit. Lower dualwrite.routing.hold-timeout"
                    + " or raise dualwrite.wait-limit");
        }
        return hold;
    }

    /**
     * The library's own pools hand out connections on application threads too (spilling, SYNC applies):
     * a connection timeout set for them must fit within the wait limit. Unset, their factories use the
     * wait limit; a pool the application defines itself is its own.
     *
     * @param environment where the property is read
     * @param property the property that sets the pool's connection timeout, in milliseconds
     * @throws DualWriteSettingException naming both properties when it exceeds the wait limit
     */
    static void checkConnectionWait(org.springframework.core.env.Environment environment, String property,
            DualWriteProperties properties) {
        Duration limit = waitLimit(properties);
        Long millis = org.springframework.boot.context.properties.bind.Binder.get(environment)
                .bind(property, Long.class).orElse(null);
        if (millis != null && millis > limit.toMillis()) {
            throw new DualWriteSettingException(property, property + " (" + millis
                    + " ms) exceeds dualwrite.wait-limit (" + limit + "): the library takes connections of this pool"
                    + " on the application's threads, which it never holds longer than the wait limit",
                    "Lower " + property + " or raise dualwrite.wait-limit.");
        }
    }

    static MirrorConfig mirrorConfig(DualWriteProperties properties) {
        return mirrorConfig(properties, ObservationRegistry.NOOP);
    }

    static MirrorConfig mirrorConfig(DualWriteProperties properties, ObservationRegistry observations) {
        DualWriteProperties.Mirror m = properties.getMirror();
        return settings(() -> {
            MirrorConfig.Builder b = MirrorConfig.builder().mode(m.getMode()).observationRegistry(observations)
                    .createOutboxTable(properties.getSchema().isCreate()).versionGuard(m.isVersionGuard());
            b.waitLimit(waitLimit(properties));
            // Where a Boot user changes each store's URL, for the start-up warning about batching settings.
            b.urlSettings("spring.datasource.url", "dualwrite.target.url (or the URL of your own "
                    + TARGET_DATA_SOURCE + " bean)");
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
        return backfillConfig(properties, mirror, ObservationRegistry.NOOP);
    }

    static BackfillConfig backfillConfig(DualWriteProperties properties, Mirror mirror,
            ObservationRegistry observations) {
        DualWriteProperties.Backfill f = properties.getBackfill();
        return settings(() -> {
            BackfillConfig.Builder b = BackfillConfig.builder().rowsPerSecond(f.getRowsPerSecond())
                    .observationRegistry(observations)
                    .createTables(properties.getSchema().isCreate()).versionGuard(f.isVersionGuard())
                    .postgresCopy(f.isPostgresCopy()).mariadbLoadData(f.isMariadbLoadData())
                    .readAhead(f.isReadAhead())
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
            b.order(f.getOrder());
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

    /**
     * The application's {@link ObservationRegistry} (Boot's, with actuator), so that applies, backfill and
     * reconcile chunks and double reads show as timers and, with a tracer, as spans of the request's trace;
     * {@link ObservationRegistry#NOOP} when there is none. Boot's
     * {@code management.observations.enable.dualwrite=false} turns them off.
     */
    private static ObservationRegistry observations(ObjectProvider<ObservationRegistry> registry) {
        return registry.getIfAvailable(() -> ObservationRegistry.NOOP);
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

        @ConditionalOnProperty(ShardingSphereTargets.PROPERTY)
        static final class ShardingSphereConfigSet {
        }

        @ConditionalOnBean(name = TARGET_DATA_SOURCE)
        static final class OwnPool {
        }
    }
}
