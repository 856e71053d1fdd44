package io.dualwrite.autoconfigure;

import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.beans.factory.config.ConfigurableListableBeanFactory;
import org.springframework.core.PriorityOrdered;

/**
 * Marks the time an application's schema tool runs at start-up: Flyway, Liquibase, {@code spring.sql.init}
 * and any other bean that one of Boot's {@code DatabaseInitializerDetector}s found (Boot's
 * {@code DatabaseInitializationDependencyConfigurer} tags their bean definitions). Each runs its migration
 * in its initialization callback, so the window opens before that callback and closes after it, on the
 * starting thread only.
 *
 * <p>Why: the mapped tables may not exist before the tool has run, so nothing in the window may ask for the
 * mappings. The routing {@code DataSource} hands connections taken in the window straight from the
 * application's own pool, the source, uncaptured and unrouted ({@link RoutingDataSourcePostProcessor}); the
 * mapping check runs once every initializer is done ({@code @DependsOnDatabaseInitialization} on the
 * {@code MappedTables} bean). What a tool writes there is not mirrored: see the README's "Schema tools and
 * schema changes".
 */
final class SchemaToolsWindow implements BeanPostProcessor, BeanFactoryAware, DisposableBean, PriorityOrdered {

    /** The attribute Boot's {@code DatabaseInitializationDependencyConfigurer} sets on an initializer's definition. */
    static final String INITIALIZER_ATTRIBUTE =
            "org.springframework.boot.sql.init.dependency.DatabaseInitializerDetector";

    private static final ThreadLocal<String> RUNNING = new ThreadLocal<>();

    private ConfigurableListableBeanFactory beans;

    /**
     * The schema tool running on this thread.
     *
     * @return its bean name, or null outside the window
     */
    static String running() {
        return RUNNING.get();
    }

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beans = beanFactory instanceof ConfigurableListableBeanFactory factory ? factory : null;
    }

    @Override
    public Object postProcessBeforeInitialization(Object bean, String beanName) {
        if (RUNNING.get() == null && initializer(beanName)) {
            RUNNING.set(beanName);
        }
        return bean;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (beanName.equals(RUNNING.get())) {
            RUNNING.remove();
        }
        return bean;
    }

    private boolean initializer(String beanName) {
        return beans != null && beans.containsBeanDefinition(beanName)
                && beans.getBeanDefinition(beanName).getAttribute(INITIALIZER_ATTRIBUTE) != null;
    }

    /** A tool that failed never reached its after-initialization: the failed start-up closes the window. */
    @Override
    public void destroy() {
        RUNNING.remove();
    }

    @Override
    public int getOrder() {
        return HIGHEST_PRECEDENCE;
    }
}
