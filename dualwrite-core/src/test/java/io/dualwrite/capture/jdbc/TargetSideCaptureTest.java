package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.KeyMapping;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * On the TARGET side, statements name the target table and target keys; the changes name the source
 * table and source keys, as every change does.
 */
class TargetSideCaptureTest {

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void targetWrites_areRecordedUnderTheSourceTableAndKey(Store sourceStore, Store targetStore) throws Exception {
        try (TestDatabase source = TestDatabase.create(sourceStore, "cap_ts_src");
                TestDatabase target = TestDatabase.create(targetStore, "cap_ts_tgt")) {
            source.execute(OrderTable.ddl(sourceStore, "t_order"));
            target.execute(OrderTable.ddl(targetStore, "orders"), OrderTable.ddl(targetStore, "t_order"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").targetTable("orders")
                    .keyMapping(KeyMapping.offset(1000)).build()), source.dataSource(), target.dataSource(), false);
            List<Change> recorded = new CopyOnWriteArrayList<>();
            ChangeSink sink = new ChangeSink() {
                @Override
                public void afterCommit(Collection<Change> changes, long committedAtNanos) {
                    recorded.addAll(changes);
                }
            };
            CapturingDataSource capturing = CapturingDataSource.builder(target.dataSource(), tables,
                    new ChangeCapture(sink, tables::contains)).side(Route.TARGET).build();
            JdbcTemplate jdbc = new JdbcTemplate(capturing);

            jdbc.update("INSERT INTO orders (id, user_id, status, gmt_modified) VALUES (?, 1, 'NEW', CURRENT_TIMESTAMP)",
                    1007);
            jdbc.update("UPDATE orders SET status = 'PAID' WHERE id = ?", 1007);
            // The source table's name, but on the target side it is not a mapped table.
            jdbc.update("UPDATE t_order SET status = 'X' WHERE id = 1");

            assertThat(recorded).containsExactly(new Change("t_order", RowKey.of(7L)),
                    new Change("t_order", RowKey.of(7L)));
        }
    }
}
