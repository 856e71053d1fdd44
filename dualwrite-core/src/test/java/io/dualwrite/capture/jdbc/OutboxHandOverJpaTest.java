package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.math.BigDecimal;
import java.sql.Timestamp;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.orm.jpa.persistenceunit.PersistenceManagedTypes;
import org.springframework.orm.jpa.vendor.HibernateJpaVendorAdapter;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The OUTBOX hand-over of {@link OutboxHandOverTest} on the path a JPA application takes: Hibernate
 * under {@link JpaTransactionManager} over the routing data source, transparent capture, no annotation
 * and no routing scope. The outbox rows commit in Hibernate's transaction, so a process that dies after
 * the commit loses nothing; an outbox insert that fails rolls the entity's write back and reaches the
 * caller.
 */
class OutboxHandOverJpaTest {

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void hibernateTransactions_theirOutboxRowsCommitWithThem_andARestartedRelayConverges(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxjpa");
                Jpa jpa = new Jpa(rig)) {
            jpa.tx.executeWithoutResult(status -> {
                var em = jpa.em();
                em.persist(OrderEntity.of(1, "first"));
                em.persist(OrderEntity.of(2, "second"));
            });
            jpa.tx.executeWithoutResult(status -> {
                var em = jpa.em();
                em.find(OrderEntity.class, 1L).note = "changed by JPA";
                em.remove(em.find(OrderEntity.class, 2L));
                em.persist(OrderEntity.of(3, "third"));
            });

            // The process dies here: the relay never ran. Whatever Hibernate committed has its outbox row.
            assertThat(rig.outboxKeys()).containsExactlyInAnyOrder("[1]", "[2]", "[3]");
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();

            assertThat(rig.restart()).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 1", String.class))
                    .isEqualTo("changed by JPA");
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(2);
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void outboxInsertFails_theHibernateTransactionRollsBack_andTheCallerSeesIt(Store sourceStore,
            Store targetStore) throws Exception {
        try (RoutedOutboxRig rig = new RoutedOutboxRig(sourceStore, targetStore, "obxjpaf");
                Jpa jpa = new Jpa(rig)) {
            rig.breakOutbox();

            assertThatThrownBy(() -> jpa.tx.executeWithoutResult(status -> {
                var em = jpa.em();
                em.persist(OrderEntity.of(1, "lost?"));
                em.persist(OrderEntity.of(2, "lost?"));
            })).hasStackTraceContaining("dualwrite_outbox");

            assertThat(rig.orders()).as("the writes did not happen").isZero();
            rig.repairOutbox();
            assertThat(rig.outboxRows()).isZero();
            assertThat(rig.restart()).isTrue();
            assertThat(rig.target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isZero();
        }
    }

    /** Hibernate over the rig's routing data source, as Spring Boot would set it up. */
    private static final class Jpa implements AutoCloseable {

        final EntityManagerFactory emf;
        final TransactionTemplate tx;

        Jpa(RoutedOutboxRig rig) {
            LocalContainerEntityManagerFactoryBean factory = new LocalContainerEntityManagerFactoryBean();
            factory.setDataSource(rig.routing);
            factory.setManagedTypes(PersistenceManagedTypes.of(OrderEntity.class.getName()));
            factory.setJpaVendorAdapter(new HibernateJpaVendorAdapter());
            factory.setJpaPropertyMap(Map.of("hibernate.hbm2ddl.auto", "none"));
            factory.setPersistenceUnitName("dualwrite-outbox-jpa");
            factory.afterPropertiesSet();
            emf = factory.getObject();
            tx = new TransactionTemplate(new JpaTransactionManager(emf));
        }

        /** @return the entity manager of the transaction under way */
        jakarta.persistence.EntityManager em() {
            return org.springframework.orm.jpa.EntityManagerFactoryUtils.getTransactionalEntityManager(emf);
        }

        @Override
        public void close() {
            emf.close();
        }
    }

    /** The order table as a JPA entity. */
    @Entity
    @Table(name = "t_order")
    public static class OrderEntity {
        @Id
        Long id;
        @Column(name = "user_id")
        long userId;
        String status;
        BigDecimal amount;
        String note;
        @Column(name = "gmt_modified")
        Timestamp gmtModified;

        static OrderEntity of(long id, String note) {
            OrderEntity order = new OrderEntity();
            order.id = id;
            order.userId = 7;
            order.status = "NEW";
            order.amount = new BigDecimal("1.00");
            order.note = note;
            order.gmtModified = new Timestamp(System.currentTimeMillis());
            return order;
        }
    }
}
