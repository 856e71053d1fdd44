package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeCapture;
import io.dualwrite.capture.ChangeSink;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Two stores with t_order (keyed by the application) and t_item (auto-increment key), a SYNC mirror,
 * and a capturing data source over the source whose changes are both recorded for assertions and
 * mirrored, so a test can check the captured keys and that the target matches.
 */
final class CaptureFixture implements AutoCloseable {

    final Store sourceStore;
    final Store targetStore;
    final TestDatabase source;
    final TestDatabase target;
    final MappedTables tables;
    final Mirror mirror;
    final RecordingSink sink = new RecordingSink();
    final ChangeCapture capture;
    final List<DualWriteEvent> events = new CopyOnWriteArrayList<>();
    final EventPublisher publisher = new EventPublisher().subscribe(events::add);
    final CapturingDataSource capturing;
    final JdbcTemplate jdbc;
    final TransactionTemplate tx;

    CaptureFixture(Store sourceStore, Store targetStore, UnattributablePolicy policy) throws Exception {
        this.sourceStore = sourceStore;
        this.targetStore = targetStore;
        this.source = TestDatabase.create(sourceStore, "cap_src");
        this.target = TestDatabase.create(targetStore, "cap_tgt");
        for (TestDatabase db : List.of(source, target)) {
            db.execute(OrderTable.ddl(db.store(), "t_order"), itemDdl(db.store()),
                    "CREATE TABLE t_note (id BIGINT NOT NULL PRIMARY KEY, body VARCHAR(100))");
        }
        this.tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build(),
                TableMapping.builder("t_item").build()), source.dataSource(), target.dataSource(), false);
        this.mirror = Mirror.create(MirrorConfig.builder().mode(MirrorMode.SYNC).build(), tables,
                source.dataSource(), target.dataSource(), publisher);
        mirror.start();
        this.capture = new ChangeCapture(sink, tables::contains);
        this.capturing = CapturingDataSource.builder(source.dataSource(), tables, capture).unattributable(policy)
                .events(publisher).build();
        this.jdbc = new JdbcTemplate(capturing);
        this.tx = new TransactionTemplate(new DataSourceTransactionManager(capturing));
    }

    static String itemDdl(Store store) {
        String id = switch (store) {
            case H2 -> "id BIGINT AUTO_INCREMENT PRIMARY KEY";
            case MARIADB -> "id BIGINT AUTO_INCREMENT PRIMARY KEY";
            case POSTGRESQL -> "id BIGSERIAL PRIMARY KEY";
        };
        return "CREATE TABLE t_item (" + id + ", name VARCHAR(50) NOT NULL, gmt_modified "
                + OrderTable.timestampType(store) + " NOT NULL)";
    }

    DataSource raw() {
        return source.dataSource();
    }

    /** Inserts orders behind capture's back, as existing rows. */
    void seed(long... ids) {
        for (long id : ids) {
            for (TestDatabase db : List.of(source, target)) {
                db.execute("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (" + id + ", " + (id % 3)
                        + ", 'OLD', TIMESTAMP '2024-01-01 00:00:00')");
            }
        }
    }

    /** @return every key handed on, per table, in order */
    List<Object> keys(String table) {
        List<Object> keys = new ArrayList<>();
        for (List<Change> set : sink.afterCommit) {
            for (Change change : set) {
                if (change.table().equals(table)) {
                    RowKey key = change.key();
                    keys.add(key.size() == 1 ? key.get(0) : key.values());
                }
            }
        }
        return keys;
    }

    List<String> differences() {
        return OrderTable.differences(source, "t_order", target, "t_order", "id");
    }

    List<String> itemDifferences() {
        return OrderTable.differences(source, "t_item", target, "t_item", "id");
    }

    @Override
    public void close() {
        mirror.close();
        source.close();
        target.close();
    }

    /** Records what is handed on and passes it to the mirror. */
    final class RecordingSink implements ChangeSink {

        final List<List<Change>> afterCommit = new CopyOnWriteArrayList<>();

        @Override
        public void beforeCommit(Collection<Change> changes) {
            mirror.beforeCommit(changes);
        }

        @Override
        public void afterCommit(Collection<Change> changes, long committedAtNanos) {
            afterCommit.add(List.copyOf(changes));
            mirror.afterCommit(changes, committedAtNanos);
        }
    }
}
