package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 17: several tables' backfills follow the target's foreign keys, parents first, MariaDB -> PostgreSQL;
 * a cycle is refused naming its constraints, and an order given by hand runs instead.
 */
class BackfillOrderTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void setUp() {
        source = TestDatabase.create(Store.MARIADB, "bfo_src");
        target = TestDatabase.create(Store.POSTGRESQL, "bfo_tgt");
        for (TestDatabase db : List.of(source, target)) {
            String time = db == source ? "DATETIME(3)" : "TIMESTAMP(3)";
            db.execute("CREATE TABLE t_customer (id BIGINT NOT NULL PRIMARY KEY, best_item BIGINT, gmt_modified "
                    + time + " NOT NULL)", "CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, customer_id BIGINT"
                    + " NOT NULL, gmt_modified " + time + " NOT NULL)", "CREATE TABLE t_item (id BIGINT NOT NULL"
                    + " PRIMARY KEY, order_id BIGINT NOT NULL, gmt_modified " + time + " NOT NULL)");
        }
        target.execute("ALTER TABLE t_order ADD CONSTRAINT fk_order_customer FOREIGN KEY (customer_id)"
                + " REFERENCES t_customer (id)", "ALTER TABLE t_item ADD CONSTRAINT fk_item_order FOREIGN KEY"
                + " (order_id) REFERENCES t_order (id)");
        for (int id = 1; id <= 300; id++) {
            source.execute("INSERT INTO t_customer VALUES (" + id + ", NULL, NOW(3))",
                    "INSERT INTO t_order VALUES (" + id + ", " + id + ", NOW(3))",
                    "INSERT INTO t_item VALUES (" + id + ", " + id + ", NOW(3))");
        }
    }

    @AfterEach
    void tearDown() {
        source.close();
        target.close();
    }

    private BackfillRunner runner(MappedTables tables, List<String> order) {
        return BackfillRunner.create(BackfillConfig.builder().createTables(true).rangesPerTable(1).chunkSize(50)
                .chunkSizeBounds(50, 50).order(order).build(), tables, source.dataSource(), target.dataSource(),
                new EventPublisher());
    }

    /** Children are mapped first, so starting the tables as declared would copy items before their orders. */
    private MappedTables childrenFirst() throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_item").build(),
                TableMapping.builder("t_order").build(), TableMapping.builder("t_customer").build()),
                source.dataSource(), target.dataSource(), false);
    }

    @Test
    void startAll_copiesParentsBeforeChildren_andNoRowIsRefused() throws Exception {
        try (BackfillRunner runner = runner(childrenFirst(), List.of())) {
            assertThat(runner.startAll(List.of())).containsExactly("t_customer");
            for (String table : List.of("t_customer", "t_order", "t_item")) {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (runner.progress(table).status() != BackfillStatus.DONE && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                assertThat(runner.progress(table).status()).as(table).isEqualTo(BackfillStatus.DONE);
                assertThat(runner.progress(table).failedRows()).as(table).isZero();
            }
        }
        assertThat(target.queryForObject("SELECT COUNT(*) FROM t_item", Long.class)).isEqualTo(300);
    }

    @Test
    void aCycleOfForeignKeys_isRefusedNamingTheConstraints_andAnOrderByHandRuns() throws Exception {
        target.execute("ALTER TABLE t_customer ADD CONSTRAINT fk_customer_item FOREIGN KEY (best_item)"
                + " REFERENCES t_item (id)");
        MappedTables tables = childrenFirst();
        try (BackfillRunner runner = runner(tables, List.of())) {
            assertThatThrownBy(() -> runner.startAll(List.of())).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("'fk_item_order' of t_item -> t_order")
                    .hasMessageContaining("'fk_order_customer' of t_order -> t_customer")
                    .hasMessageContaining("'fk_customer_item' of t_customer -> t_item")
                    .hasMessageContaining("DEFERRABLE INITIALLY DEFERRED")
                    .hasMessageContaining("dualwrite.backfill.order");
            assertThat(runner.progress("t_customer").status()).isEqualTo(BackfillStatus.PENDING);
        }
        try (BackfillRunner runner = runner(tables, List.of("t_customer", "t_order", "t_item"))) {
            runner.startAll(List.of());
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (runner.progress("t_item").status() != BackfillStatus.DONE && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertThat(runner.progress("t_item").status()).isEqualTo(BackfillStatus.DONE);
            assertThat(runner.progress("t_item").failedRows()).isZero();
        }
    }
}
