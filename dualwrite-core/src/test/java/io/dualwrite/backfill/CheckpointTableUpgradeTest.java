package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A {@code dualwrite_checkpoint} made before checkpoint rows named their source shard gains the {@code shard} column:
 * added when the library may create its tables, printed in the start-up error otherwise.
 */
class CheckpointTableUpgradeTest {

    /** The checkpoint table as earlier versions created it. */
    private static final String WITHOUT_SHARD = "CREATE TABLE dualwrite_checkpoint (job VARCHAR(128) NOT NULL,"
            + " range_id INT NOT NULL, range_start VARCHAR(2000), range_end VARCHAR(2000), last_key VARCHAR(2000),"
            + " rows_copied BIGINT DEFAULT 0 NOT NULL, failed_rows BIGINT DEFAULT 0 NOT NULL, status VARCHAR(16)"
            + " NOT NULL, owner VARCHAR(128), lease_until BIGINT DEFAULT 0 NOT NULL, last_error VARCHAR(1000),"
            + " updated_ms BIGINT NOT NULL, PRIMARY KEY (job, range_id))";

    @Test
    void anOlderCheckpointTable_getsItsShardColumn_orTheErrorPrintsTheAlter() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "up_src");
                TestDatabase target = TestDatabase.create(Store.H2, "up_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"),
                    "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (1, 1, 'NEW', 1.00,"
                    + " NULL, CURRENT_TIMESTAMP)");
            target.execute(OrderTable.ddl(Store.H2, "t_order"), WITHOUT_SHARD, "INSERT INTO dualwrite_checkpoint (job,"
                    + " range_id, status, updated_ms) VALUES ('t_other', 0, 'DONE', 0)");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);

            try (BackfillRunner refused = BackfillRunner.create(BackfillConfig.builder().build(), tables,
                    source.dataSource(), target.dataSource(), new EventPublisher())) {
                assertThatThrownBy(refused::ensureTables).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("ALTER TABLE dualwrite_checkpoint ADD shard VARCHAR(300);")
                        .hasMessageContaining("dualwrite.schema.create=true");
            }
            try (BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(),
                    tables, source.dataSource(), target.dataSource(), new EventPublisher())) {
                runner.start("t_order");
                assertThat(runner.awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
            }
            assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_checkpoint WHERE job = 't_other'"
                    + " AND shard IS NULL", Long.class)).as("the older rows stay").isEqualTo(1L);
            assertThat(target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).isEqualTo(1L);
        }
    }
}
