package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.KeyKinds;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.Stores;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A backfill of a table keyed by values that are not integers resumes from its checkpoint — a key stored
 * as JSON text and bound again as the column's own type — without skipping or copying a row twice.
 */
class NonIntegerKeysBackfillTest {

    private static final int ROWS = 200;

    static Stream<Arguments> cases() {
        return Stores.pairs().flatMap(pair -> Arrays.stream(KeyKinds.values())
                .map(kind -> Arguments.of(pair.get()[0], pair.get()[1], kind)));
    }

    @ParameterizedTest(name = "{0} -> {1}, {2}")
    @MethodSource("cases")
    void crashInsideAChunk_restartResumesFromTheCheckpointAndCopiesEveryRowOnce(Store sourceStore, Store targetStore,
            KeyKinds kind) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "bfkeys_src");
                TestDatabase target = TestDatabase.create(targetStore, "bfkeys_tgt")) {
            source.execute(kind.ddl(sourceStore, "t_key"));
            target.execute(kind.ddl(targetStore, "t_key"));
            List<Object[]> rows = new ArrayList<>();
            Timestamp modified = Timestamp.valueOf("2026-02-03 04:05:06.789");
            for (int i = 0; i < ROWS; i++) {
                Object[] key = kind.stored(sourceStore, i);
                Object[] row = Arrays.copyOf(key, key.length + 2);
                row[key.length] = "row " + i;
                row[key.length + 1] = modified;
                rows.add(row);
            }
            new JdbcTemplate(source.dataSource()).batchUpdate(kind.insert("t_key"), rows);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_key").build()),
                    source.dataSource(), target.dataSource(), false);
            BackfillConfig.Builder config = BackfillConfig.builder().chunkSize(40).chunkSizeBounds(40, 40)
                    .rangesPerTable(1).leaseDuration(Duration.ofMillis(300)).createTables(true);

            try (BackfillRunner dying = BackfillRunner.create(config.ownerId("dying").build(), tables,
                    source.dataSource(), target.dataSource(), new EventPublisher())) {
                AtomicInteger chunks = new AtomicInteger();
                dying.hookForTesting((table, range, chunk) -> {
                    if (chunks.incrementAndGet() == 3) {
                        throw new IllegalStateException("simulated crash inside a chunk");
                    }
                });
                dying.start("t_key");
                dying.awaitCompletion("t_key", Duration.ofSeconds(30));
                assertThat(dying.progress("t_key").rowsCopied()).as("two chunks before the crash").isEqualTo(80);
            }
            try (BackfillRunner finishing = BackfillRunner.create(config.ownerId("finishing").build(), tables,
                    source.dataSource(), target.dataSource(), new EventPublisher())) {
                finishing.start("t_key");
                assertThat(finishing.awaitCompletion("t_key", Duration.ofSeconds(30))).as("finished").isTrue();
                assertThat(finishing.progress("t_key").rowsCopied()).as("no chunk counted twice").isEqualTo(ROWS);
                assertThat(finishing.progress("t_key").failedRows()).as("failed rows").isZero();
            }
            assertThat(kind.rows(target, "t_key")).isEqualTo(kind.rows(source, "t_key")).hasSize(ROWS);
        }
    }
}
