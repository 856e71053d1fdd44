package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.backfill.BackfillConfig;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.ShardedOrders;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Double reads through a sharded target: the comparator reads each sampled row from the physical shard that
 * ShardingSphere's rule names, with either store primary (DUAL_WRITE, or RAMP with the key routed to the target),
 * and finds a difference planted on one shard while every other shard's rows compare equal.
 */
class ShardedDoubleReadTest {

    @ParameterizedTest
    @EnumSource(Route.class)
    void doubleRead_findsTheDifferencePlantedOnOneShard_andNothingElse(Route primary) throws Exception {
        try (ShardedOrders stores = ShardedOrders.create()) {
            stores.seed(64);
            MappedTables tables = stores.orders();
            try (BackfillRunner backfill = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(),
                    tables, stores.source().dataSource(), stores.target(), new EventPublisher())) {
                backfill.start("t_order");
                assertThat(backfill.awaitCompletion("t_order", Duration.ofSeconds(60))).isTrue();
            }
            long planted = 13;
            int[] shard = ShardedOrders.expectedShard(ShardedOrders.userOf(planted));
            stores.shard(shard[0]).execute("UPDATE t_order_" + shard[1] + " SET note = 'planted' WHERE id = " + planted);
            assertThat(stores.differencesPerShard()).hasSize(1);

            ConcurrentLinkedQueue<VerifyEvent> events = new ConcurrentLinkedQueue<>();
            DoubleReadConfig config = DoubleReadConfig.builder().sampleRate(1).currentRoute(() -> primary).build();
            try (DoubleReader reader = DoubleReader.create(config, tables, stores.source().dataSource(),
                    stores.target(), events::add)) {
                for (long id = 1; id <= 64; id++) {
                    reader.read("t_order", id, () -> "from the primary");
                }
                assertThat(reader.awaitQuiet(Duration.ofSeconds(30))).isTrue();
            }
            assertThat(events).filteredOn(VerifyEvent.ReadFailed.class::isInstance).as("failed reads").isEmpty();
            assertThat(events).filteredOn(VerifyEvent.ReadCompared.class::isInstance).hasSize(64);
            List<Mismatch> mismatches = events.stream().filter(VerifyEvent.MismatchFound.class::isInstance)
                    .map(event -> ((VerifyEvent.MismatchFound) event).mismatch()).toList();
            assertThat(mismatches).singleElement().satisfies(mismatch -> {
                assertThat(mismatch.key()).isEqualTo(RowKey.of(planted));
                assertThat(mismatch.kind()).isEqualTo(Mismatch.Kind.DIFFERENT);
                assertThat(mismatch.primary()).isEqualTo(primary);
                assertThat(mismatch.columns()).containsExactly("note");
            });
        }
    }
}
