package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.dualwrite.testing.UserTable;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * A backfill chunk is one consistent state of its key range, but the target already holds rows the
 * mirror wrote, and some of them may still hold a unique value the source has since moved to a key of
 * the chunk (their own apply not yet done), or belong to a key the source has deleted.
 */
class BackfillUniqueValueTest {

    private static final Timestamp T = Timestamp.valueOf("2026-01-01 10:00:00.000");

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void chunkRowWhoseUniqueValueAnOlderTargetRowStillHolds_isCopiedAndTheHolderFollows(Store sourceStore,
            Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "bfu_src");
                TestDatabase target = TestDatabase.create(targetStore, "bfu_tgt")) {
            source.execute(UserTable.ddl(sourceStore, "t_user"));
            target.execute(UserTable.ddl(targetStore, "t_user"));
            JdbcTemplate sourceJdbc = new JdbcTemplate(source.dataSource());
            JdbcTemplate targetJdbc = new JdbcTemplate(target.dataSource());
            String insert = "INSERT INTO t_user (id, email, name, gmt_modified) VALUES (?, ?, ?, ?)";
            for (long id = 1; id <= 10; id++) {
                String email = id == 5 ? "a" : id == 3 ? "b" : id == 9 ? "z" : "e" + id;
                sourceJdbc.update(insert, id, email, "n" + id, T);
            }
            // Mirrored before the source moved 'a' from 9 to 5, and before it deleted 12 to give 'b' to 3.
            targetJdbc.update(insert, 9L, "a", "old nine", T);
            targetJdbc.update(insert, 12L, "b", "twelve", T);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_user").build()),
                    source.dataSource(), target.dataSource(), false);
            BackfillConfig config = BackfillConfig.builder().chunkSize(2).chunkSizeBounds(1, 2).rangesPerTable(1)
                    .createTables(true).build();
            try (BackfillRunner runner = BackfillRunner.create(config, tables, source.dataSource(),
                    target.dataSource(), new EventPublisher())) {
                runner.start("t_user");
                assertThat(runner.awaitCompletion("t_user", Duration.ofSeconds(30))).as("backfill done").isTrue();
                assertThat(runner.progress("t_user").failedRows()).as("failed rows").isZero();
            }
            assertThat(OrderTable.differences(source, "t_user", target, "t_user", "id")).isEmpty();
        }
    }
}
