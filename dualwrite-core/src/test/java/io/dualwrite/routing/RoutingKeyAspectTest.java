package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.capture.DualWriteAspect;
import io.dualwrite.testing.Store;
import java.sql.Timestamp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.EnableAspectJAutoProxy;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.PlatformTransactionManager;
import org.springframework.transaction.annotation.EnableTransactionManagement;
import org.springframework.transaction.annotation.Transactional;

/**
 * The routing key must be bound before Spring's transaction interceptor takes the connection, because
 * that is when the route is fixed: annotated DAOs in a real Spring context write to the store their
 * user is routed to, and the write is mirrored to the other one.
 */
class RoutingKeyAspectTest {

    private static RampRig rig;
    private AnnotationConfigApplicationContext context;

    @BeforeEach
    void startContext() throws Exception {
        // MODULO at 50 %: user 10 is routed to the target, user 60 to the source.
        rig = new RampRig(Store.H2, Store.H2, "aspect", BarrierTest.rampAt(50));
        context = new AnnotationConfigApplicationContext(Config.class);
    }

    @AfterEach
    void close() {
        context.close();
        rig.close();
    }

    @Test
    void routingKeyOnDualWrite_picksTheStoreBeforeTheTransactionOpens() throws Exception {
        OrderDao dao = context.getBean(OrderDao.class);

        dao.create(1001, 10, "SpEL routing key");
        dao.createFor(60, 6001, "parameter routing key");

        assertThat(rig.drain()).isTrue();
        assertThat(dao.firstWrittenOn(1001)).isEqualTo(Route.TARGET);
        assertThat(dao.firstWrittenOn(6001)).isEqualTo(Route.SOURCE);
        assertThat(rig.differences()).as("each write mirrored to the other store").isEmpty();
        assertThat(rig.source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(2);
        assertThat(RoutingContext.currentKey()).as("unbound after the call").isNull();
    }

    @Configuration
    @EnableAspectJAutoProxy
    @EnableTransactionManagement
    static class Config {
        @Bean
        PlatformTransactionManager transactionManager() {
            return new DataSourceTransactionManager(rig.routing);
        }

        @Bean
        RoutingKeyAspect routingKeyAspect() {
            return new RoutingKeyAspect();
        }

        @Bean
        DualWriteAspect dualWriteAspect() {
            return new DualWriteAspect(rig.capture);
        }

        @Bean
        OrderDao orderDao() {
            return new OrderDao(new JdbcTemplate(rig.routing));
        }
    }

    /** A DAO as a team writes it; not final, it is proxied. */
    static class OrderDao {
        private final JdbcTemplate jdbc;
        private final java.util.Map<Long, Route> firstWrittenOn = new java.util.concurrent.ConcurrentHashMap<>();

        OrderDao(JdbcTemplate jdbc) {
            this.jdbc = jdbc;
        }

        @Transactional
        @DualWrite(table = "t_order", key = "#id", routingKey = "#userId")
        public void create(long id, long userId, String note) {
            insert(id, userId, note);
        }

        @Transactional
        @DualWrite(table = "t_order", key = "#id")
        public void createFor(@RoutingKey long userId, long id, String note) {
            insert(id, userId, note);
        }

        private void insert(long id, long userId, String note) {
            jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (?, ?, 'NEW', 1.00,"
                    + " ?, ?)", id, userId, note, new Timestamp(System.currentTimeMillis()));
            // Which physical store this transaction's connection belongs to.
            String url = jdbc.execute((java.sql.Connection c) -> c.getMetaData().getURL());
            firstWrittenOn.put(id, url.equals(jdbcUrl(rig.target)) ? Route.TARGET : Route.SOURCE);
        }

        Route firstWrittenOn(long id) {
            return firstWrittenOn.get(id);
        }
    }

    private static String jdbcUrl(io.dualwrite.testing.TestDatabase db) {
        try (java.sql.Connection c = db.dataSource().getConnection()) {
            return c.getMetaData().getURL();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
