package io.dualwrite.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The id map on every store: concurrent first sight, both directions, keys that differ only in case
 * or trailing blanks, and refusals. Each "instance" is its own {@link IdMap} with its own cache, as
 * separate service instances would be, so agreement can only come from the table.
 */
class IdMapTest {

    private static final int INSTANCES = 8;

    private TestDatabase target;

    @AfterEach
    void close() {
        if (target != null) {
            target.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void toTarget_concurrentFirstSightOfTheSameKeys_yieldsOneTargetKeyPerSourceKey(Store store) throws Exception {
        Dialect dialect = createIdMapTable(store);
        List<RowKey> keys = new ArrayList<>();
        for (int i = 0; i < 60; i++) {
            keys.add(RowKey.of("ORD-" + i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(INSTANCES);
        try {
            // Round one: one key at a time, every instance at once. Round two: overlapping batches.
            for (RowKey key : keys.subList(0, 20)) {
                List<Map<RowKey, RowKey>> seen = race(pool, dialect, instance -> List.of(key));
                assertThat(seen).extracting(m -> m.get(key)).containsOnly(seen.get(0).get(key));
            }
            List<Map<RowKey, RowKey>> seen = race(pool, dialect, instance -> {
                List<RowKey> shuffled = new ArrayList<>(keys);
                Collections.shuffle(shuffled, new Random(instance));
                return shuffled.subList(0, 45);
            });
            for (RowKey key : keys) {
                assertThat(seen).extracting(m -> m.get(key)).filteredOn(v -> v != null).hasSizeGreaterThan(0)
                        .as("target key of %s in every instance", key).containsOnly(firstMapping(seen, key));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class)).isEqualTo(60L);
        assertThat(target.queryForObject("SELECT COUNT(DISTINCT target_key) FROM dualwrite_id_map", Long.class))
                .isEqualTo(60L);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void toSource_ofAKeyMappedByAnotherInstance_readsItBackWithItsTypes(Store store) throws Exception {
        Dialect dialect = createIdMapTable(store);
        IdMap first = new IdMap(target.dataSource(), dialect, "t_order", 100);
        IdMap second = new IdMap(target.dataSource(), dialect, "t_order", 100);
        List<RowKey> keys = List.of(RowKey.of("ORD-1"), RowKey.of(1L), RowKey.of("1"), RowKey.of("ord-a"),
                RowKey.of("ORD-A"), RowKey.of("a"), RowKey.of("a "), RowKey.of("Grüße \"quoted\""),
                RowKey.of(new java.math.BigDecimal("12.50")), RowKey.of("tenant-7", 42L));

        Map<RowKey, RowKey> mapped = first.toTargetAll(keys);

        assertThat(new HashSet<>(mapped.values())).as("a distinct number per key").hasSize(keys.size());
        for (RowKey key : keys) {
            assertThat(second.toSource(mapped.get(key))).isEqualTo(key);
            assertThat(second.toTarget(key)).isEqualTo(mapped.get(key));
        }
        assertThat(target.queryForObject("SELECT source_key FROM dualwrite_id_map WHERE target_key = ?", String.class,
                mapped.get(RowKey.of("tenant-7", 42L)).get(0))).isEqualTo("[\"tenant-7\",42]");
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void namespaces_keepTheSameSourceKeyApart(Store store) throws Exception {
        Dialect dialect = createIdMapTable(store);
        IdMap orders = new IdMap(target.dataSource(), dialect, "t_order", 100);
        IdMap users = new IdMap(target.dataSource(), dialect, "t_user", 100);

        RowKey order = orders.toTarget(RowKey.of(7L));
        RowKey user = users.toTarget(RowKey.of(7L));

        assertThat(order).isNotEqualTo(user);
        assertThat(orders.toSource(order)).isEqualTo(RowKey.of(7L));
        assertThatThrownBy(() -> orders.toSource(user)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void mappings_areCachedInBothDirections(Store store) throws Exception {
        Dialect dialect = createIdMapTable(store);
        IdMap idMap = new IdMap(target.dataSource(), dialect, "t_order", 100);
        RowKey mapped = idMap.toTarget(RowKey.of("ORD-1"));
        RowKey backwards = new IdMap(target.dataSource(), dialect, "t_order", 100).toTarget(RowKey.of("ORD-2"));
        idMap.toSource(backwards);

        target.execute("DELETE FROM dualwrite_id_map");

        assertThat(idMap.toTarget(RowKey.of("ORD-1"))).isEqualTo(mapped);
        assertThat(idMap.toSource(mapped)).isEqualTo(RowKey.of("ORD-1"));
        assertThat(idMap.toTarget(RowKey.of("ORD-2"))).isEqualTo(backwards);
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class)).isZero();
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void toSource_ofATargetKeyNobodyMapped_isRefusedSayingWhy(Store store) throws Exception {
        Dialect dialect = createIdMapTable(store);
        IdMap idMap = new IdMap(target.dataSource(), dialect, "t_order", 100);

        assertThatThrownBy(() -> idMap.toSource(RowKey.of(123456L)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("target key 123456 has no source key in dualwrite_id_map (namespace 't_order'): the row was"
                        + " created in the target, and rows whose ids are mapped cannot be mirrored back unless they came"
                        + " from the source");
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void toTarget_keyThatCannotBeStored_isRefusedBeforeAnythingIsWritten(Store store) throws Exception {
        Dialect dialect = createIdMapTable(store);
        IdMap idMap = new IdMap(target.dataSource(), dialect, "t_order", 100);

        assertThatThrownBy(() -> idMap.toTarget(RowKey.of("x".repeat(600))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageEndingWith("takes 604 characters as stored in dualwrite_id_map, more than its 512");
        assertThatThrownBy(() -> idMap.toTargetAll(List.of(RowKey.of("ok"), RowKey.of(java.time.LocalDate.of(2024, 1, 1)))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key 2024-01-01 holds a LocalDate; dualwrite_id_map keeps keys of text, numbers and uuids only");
        assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_id_map", Long.class)).isZero();
    }

    private Dialect createIdMapTable(Store store) throws Exception {
        target = TestDatabase.create(store, "idmap");
        try (Connection connection = target.dataSource().getConnection()) {
            Dialect dialect = Dialect.of(connection);
            assertThat(IdMap.exists(connection)).isFalse();
            IdMap.create(connection, dialect);
            assertThat(IdMap.exists(connection)).isTrue();
            return dialect;
        }
    }

    /** Every instance maps its keys at the same moment; returns what each saw. */
    private List<Map<RowKey, RowKey>> race(ExecutorService pool, Dialect dialect,
            java.util.function.IntFunction<List<RowKey>> keysOfInstance) throws Exception {
        CyclicBarrier start = new CyclicBarrier(INSTANCES);
        List<Future<Map<RowKey, RowKey>>> futures = new ArrayList<>();
        for (int i = 0; i < INSTANCES; i++) {
            int instance = i;
            IdMap idMap = new IdMap(target.dataSource(), dialect, "t_order", 1_000);
            futures.add(pool.submit(() -> {
                List<RowKey> keys = keysOfInstance.apply(instance);
                start.await(10, TimeUnit.SECONDS);
                return idMap.toTargetAll(keys);
            }));
        }
        List<Map<RowKey, RowKey>> seen = new ArrayList<>();
        for (Future<Map<RowKey, RowKey>> future : futures) {
            seen.add(future.get(30, TimeUnit.SECONDS));
        }
        return seen;
    }

    private static RowKey firstMapping(List<Map<RowKey, RowKey>> seen, RowKey key) {
        return seen.stream().map(m -> m.get(key)).filter(v -> v != null).findFirst().orElseThrow();
    }
}
