package io.dualwrite.autoconfigure;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.capture.jdbc.CapturingDataSource;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.ControlState;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import java.util.ArrayList;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.config.BeanDefinition;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.beans.factory.support.AbstractBeanDefinition;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.Ordered;

/**
 * Puts the routing {@code DataSource} in place of the application's own: the bean keeps its name, so the
 * application's transaction manager, JdbcTemplate and repositories use it unchanged, and its connections
 * come from the store each request is routed to. The application's pool stays underneath as the source
 * ({@link DualWriteRoutingDataSource#source()}), which the mirror, backfill and verifier use directly.
 *
 * <p>With {@code dualwrite.capture.transparent=true} each store's connections also capture the keys of
 * every write to a mapped table, so no method needs {@code @DualWrite}.
 *
 * <p>The controller is looked up on the first connection, not here: it depends on the target pool and the
 * control store, and a post-processor must not pull those in early. Schema tools running at start-up
 * (Flyway, Liquibase, {@code spring.sql.init}) get the source's own connections, neither routed nor captured,
 * since routing and capture need the mappings and those are checked after the tools ran
 * ({@link SchemaToolsWindow}).
 */
final class RoutingDataSourcePostProcessor implements BeanPostProcessor, BeanFactoryAware, Ordered {

    private BeanFactory beans;
    private volatile String migrated;

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beans = beanFactory;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (!(bean instanceof DataSource application) || bean instanceof DualWriteRoutingDataSource
                || !beanName.equals(migratedBeanName())) {
            return bean;
        }
        DataSource target = beans.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE, DataSource.class);
        DualWriteRoutingDataSource routing = new SchemaToolsFirst(application, target,
                () -> beans.getBean(MigrationController.class));
        DualWriteProperties.Capture capture = beans.getBean(DualWriteProperties.class).getCapture();
        if (capture.isTransparent()) {
            // Built on the first connection: the capture needs the mappings and the mirrors, which need this.
            routing.wrapConnections((route, store) -> CapturingDataSource.builder(store,
                    beans.getBean(MappedTables.class), new LazyRecorder(beans)).side(route)
                    .unattributable(capture.getUnattributable()).schemaChanges(capture.getSchemaChanges())
                    .phase(capturePhase(beans.getBean(MigrationController.class)))
                    .events(beans.getBean(EventPublisher.class)).build());
        }
        return routing;
    }

    /**
     * The phase that decides DDL on a mapped table: the one in force, or the one a pending step goes into when
     * that one mirrors and the one in force does not (the controller mirrors from the moment a step into
     * DUAL_WRITE is pending).
     */
    static Supplier<Phase> capturePhase(MigrationController controller) {
        return () -> {
            ControlState state = controller.state();
            Phase active = state.active().phase();
            return !active.mirrors() && state.pending() != null && state.pending().phase().mirrors()
                    ? state.pending().phase() : active;
        };
    }

    /**
     * The routing data source, except for the schema tools running at start-up ({@link SchemaToolsWindow}):
     * they get the application's own pool, since routing and capture need the mappings, which are checked
     * only once the tools have created the tables.
     */
    private static final class SchemaToolsFirst extends DualWriteRoutingDataSource {

        SchemaToolsFirst(DataSource source, DataSource target, Supplier<MigrationController> controller) {
            super(source, target, controller);
        }

        @Override
        public Connection getConnection() throws SQLException {
            return SchemaToolsWindow.running() != null ? source().getConnection() : super.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return SchemaToolsWindow.running() != null ? source().getConnection(username, password)
                    : super.getConnection(username, password);
        }
    }

    /** The routed change capture, looked up when the first write is recorded. */
    private static final class LazyRecorder implements ChangeRecorder {
        private final BeanFactory beans;
        private volatile ChangeCapture capture;

        LazyRecorder(BeanFactory beans) {
            this.beans = beans;
        }

        private ChangeCapture capture() {
            ChangeCapture current = capture;
            if (current == null) {
                current = beans.getBean("dualWriteChangeCapture", ChangeCapture.class);
                capture = current;
            }
            return current;
        }

        @Override
        public void record(String table, Object key) {
            capture().record(table, key);
        }

        @Override
        public void recordAll(String table, Collection<?> keys) {
            capture().recordAll(table, keys);
        }

        @Override
        public void recordAll(Collection<Change> changes) {
            capture().recordAll(changes);
        }

        @Override
        public void recordCommitted(Collection<Change> changes) {
            capture().recordCommitted(changes);
        }

        @Override
        public Runnable recordCommitting(Collection<Change> changes, Connection connection) throws SQLException {
            return capture().recordCommitting(changes, connection);
        }

        @Override
        public boolean writesBeforeCommit() {
            return capture().writesBeforeCommit();
        }
    }

    /**
     * The application's one {@code DataSource} that the migration moves: the single autowiring candidate,
     * or the primary one among several (as {@code @ConditionalOnSingleCandidate} accepted). Other pools of
     * the application (reporting, batch) are left alone.
     */
    private String migratedBeanName() {
        String name = migrated;
        if (name != null) {
            return name;
        }
        if (!(beans instanceof ConfigurableListableBeanFactory factory)) {
            return "";
        }
        List<String> candidates = new ArrayList<>();
        List<String> primary = new ArrayList<>();
        for (String candidate : factory.getBeanNamesForType(DataSource.class, true, false)) {
            if (candidate.startsWith("dualWrite") || !factory.containsBeanDefinition(candidate)) {
                continue;
            }
            BeanDefinition definition = factory.getBeanDefinition(candidate);
            if (!definition.isAutowireCandidate() || definition instanceof AbstractBeanDefinition abstractDefinition
                    && !abstractDefinition.isDefaultCandidate()) {
                continue;
            }
            candidates.add(candidate);
            if (definition.isPrimary()) {
                primary.add(candidate);
            }
        }
        name = candidates.size() == 1 ? candidates.get(0) : primary.size() == 1 ? primary.get(0) : "";
        migrated = name;
        return name;
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
