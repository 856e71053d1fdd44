package io.dualwrite.ids;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import jakarta.persistence.Column;
import jakarta.persistence.Entity;
import jakarta.persistence.EntityManagerFactory;
import jakarta.persistence.Id;
import jakarta.persistence.Table;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.springframework.orm.jpa.EntityManagerFactoryUtils;
import org.springframework.orm.jpa.JpaTransactionManager;
import org.springframework.orm.jpa.LocalContainerEntityManagerFactoryBean;
import org.springframework.orm.jpa.persistenceunit.PersistenceManagedTypes;
import org.springframework.orm.jpa.vendor.HibernateJpaVendorAdapter;
import org.springframework.transaction.support.TransactionTemplate;

class SegmentIdGeneratorTest {

    private TestDatabase control;

    @AfterEach
    void close() {
        SegmentIdGenerator.install(null);
        if (control != null) {
            control.close();
        }
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void twoGeneratorsOnFourThreadsEach_handOutEveryIdOnce(Store store) throws Exception {
        control = TestDatabase.create(store, "seg");
        SegmentIdGenerator one = SegmentIdGenerator.open(control.dataSource(), 50, 1, true);
        SegmentIdGenerator two = SegmentIdGenerator.open(control.dataSource(), 50, 1, true);
        Set<Long> seen = ConcurrentHashMap.newKeySet();
        List<Long> duplicates = new ArrayList<>();
        ExecutorService threads = Executors.newFixedThreadPool(8);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                SegmentIdGenerator generator = t % 2 == 0 ? one : two;
                done.add(threads.submit(() -> {
                    for (int i = 0; i < 500; i++) {
                        long id = generator.next("owners");
                        if (!seen.add(id)) {
                            synchronized (duplicates) {
                                duplicates.add(id);
                            }
                        }
                    }
                }));
            }
            for (Future<?> future : done) {
                future.get();
            }
        } finally {
            threads.shutdown();
        }

        assertThat(duplicates).isEmpty();
        assertThat(seen).hasSize(4000).allMatch(id -> id >= 1);
        // Names are apart: another name starts at the configured start.
        assertThat(one.next("vets")).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void aRestartedGenerator_skipsTheRestOfItsBlock_neverReusesAnId(Store store) throws Exception {
        control = TestDatabase.create(store, "seg");
        SegmentIdGenerator before = SegmentIdGenerator.open(control.dataSource(), 100, 5_000, true);
        long last = 0;
        for (int i = 0; i < 30; i++) {
            last = before.next("owners");
        }
        assertThat(last).isEqualTo(5_029);

        SegmentIdGenerator after = SegmentIdGenerator.open(control.dataSource(), 100, 5_000, true);

        assertThat(after.next("owners")).isEqualTo(5_100);
        assertThat(before.next("owners")).isEqualTo(5_030);
    }

    @ParameterizedTest
    @EnumSource(value = Store.class, names = "H2")
    void aMissingTableIsNamedWithItsDdl_whenItMayNotBeCreated(Store store) {
        control = TestDatabase.create(store, "seg");

        assertThatThrownBy(() -> SegmentIdGenerator.open(control.dataSource(), 100, 1, false))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("CREATE TABLE dualwrite_id_segment")
                .hasMessageContaining("dualwrite.schema.create=true");
        assertThatThrownBy(() -> SegmentIdGenerator.open(control.dataSource(), 0, 1, true))
                .hasMessageContaining("dualwrite.ids.segment.block-size");
    }

    @ParameterizedTest
    @EnumSource(value = Store.class, names = {"H2", "POSTGRESQL"})
    void hibernateEntities_takeTheirIdsFromTheInstalledGenerator(Store store) throws Exception {
        control = TestDatabase.create(store, "seg");
        control.execute("CREATE TABLE owners (id BIGINT PRIMARY KEY, name VARCHAR(40) NOT NULL)");
        SegmentIdGenerator generator = SegmentIdGenerator.open(control.dataSource(), 10, 1_000, true);
        generator.next("owners");
        SegmentIdGenerator.install(generator);
        LocalContainerEntityManagerFactoryBean factory = new LocalContainerEntityManagerFactoryBean();
        factory.setDataSource(control.dataSource());
        factory.setManagedTypes(PersistenceManagedTypes.of(Owner.class.getName()));
        factory.setJpaVendorAdapter(new HibernateJpaVendorAdapter());
        factory.setJpaPropertyMap(Map.of("hibernate.hbm2ddl.auto", "none"));
        factory.setPersistenceUnitName("dualwrite-segment-ids");
        factory.afterPropertiesSet();
        EntityManagerFactory emf = factory.getObject();
        try {
            TransactionTemplate tx = new TransactionTemplate(new JpaTransactionManager(emf));
            List<Long> ids = tx.execute(status -> {
                List<Long> assigned = new ArrayList<>();
                for (int i = 0; i < 15; i++) {
                    Owner owner = new Owner();
                    owner.name = "owner " + i;
                    EntityManagerFactoryUtils.getTransactionalEntityManager(emf).persist(owner);
                    assigned.add(owner.id);
                }
                return assigned;
            });

            assertThat(ids).doesNotHaveDuplicates().allMatch(id -> id > 1_000);
            assertThat(control.queryForList("SELECT id FROM owners")).hasSize(15);
            assertThat(generator.next("owners")).isEqualTo(1_016);
        } finally {
            emf.close();
        }
    }

    /** An entity whose id comes from the segment generator. */
    @Entity
    @Table(name = "owners")
    public static class Owner {
        @Id
        @SegmentId
        Long id;
        @Column(name = "name")
        String name;
    }
}
