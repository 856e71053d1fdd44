package io.dualwrite.autoconfigure;

import io.dualwrite.routing.DualWriteRoutingDataSource;
import io.dualwrite.routing.MigrationController;
import javax.sql.DataSource;
import org.springframework.beans.factory.BeanFactory;
import org.springframework.beans.factory.BeanFactoryAware;
import org.springframework.beans.factory.config.BeanPostProcessor;
import org.springframework.core.Ordered;

/**
 * Puts the routing {@code DataSource} in place of the application's own: the bean keeps its name, so the
 * application's transaction manager, JdbcTemplate and repositories use it unchanged, and its connections
 * come from the store each request is routed to. The application's pool stays underneath as the source
 * ({@link DualWriteRoutingDataSource#source()}), which the mirror, backfill and verifier use directly.
 *
 * <p>The controller is looked up on the first connection, not here: it depends on the target pool and the
 * control store, and a post-processor must not pull those in early.
 */
final class RoutingDataSourcePostProcessor implements BeanPostProcessor, BeanFactoryAware, Ordered {

    private BeanFactory beans;

    @Override
    public void setBeanFactory(BeanFactory beanFactory) {
        this.beans = beanFactory;
    }

    @Override
    public Object postProcessAfterInitialization(Object bean, String beanName) {
        if (!(bean instanceof DataSource application) || bean instanceof DualWriteRoutingDataSource
                || DualWriteAutoConfiguration.TARGET_DATA_SOURCE.equals(beanName) || isLibraryBean(beanName)) {
            return bean;
        }
        DataSource target = beans.getBean(DualWriteAutoConfiguration.TARGET_DATA_SOURCE, DataSource.class);
        return new DualWriteRoutingDataSource(application, target, () -> beans.getBean(MigrationController.class));
    }

    private static boolean isLibraryBean(String beanName) {
        return beanName.startsWith("dualWrite");
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
