package io.dualwrite.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.TransactionDefinition;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * Capture hands each transaction's changed keys to the sink after commit, once and without duplicates,
 * and never on rollback; the aspect turns {@link DualWrite} annotations into those keys. Real
 * transactions on H2; the sink checks from another connection whether the write is visible yet.
 */
class ChangeCaptureTest {

    private static final String INSERT = "INSERT INTO t_order (id, user_id, status, gmt_modified)"
            + " VALUES (?, 7, 'NEW', LOCALTIMESTAMP)";

    private TestDatabase db;
    private JdbcTemplate jdbc;
    private TransactionTemplate tx;
    private TransactionTemplate requiresNew;
    private RecordingSink sink;
    private ChangeCapture capture;

    @BeforeEach
    void setUp() {
        db = TestDatabase.create(Store.H2, "Capture");
        db.execute(OrderTable.ddl(Store.H2, "t_order"));
        jdbc = new JdbcTemplate(db.dataSource());
        DataSourceTransactionManager manager = new DataSourceTransactionManager(db.dataSource());
        tx = new TransactionTemplate(manager);
        requiresNew = new TransactionTemplate(manager);
        requiresNew.setPropagationBehavior(TransactionDefinition.PROPAGATION_REQUIRES_NEW);
        sink = new RecordingSink();
        capture = new ChangeCapture(sink, Set.of("t_order", "t_order_item")::contains);
    }

    @AfterEach
    void closeDatabase() {
        db.close();
    }

    // --- transactions ----------------------------------------------------------------------------

    @Test
    void record_inATransaction_isHandedOnOnceAfterCommitWhenTheWriteIsVisible() {
        tx.executeWithoutResult(status -> {
            jdbc.update(INSERT, 1);
            capture.record("t_order", 1L);
            jdbc.update(INSERT, 2);
            capture.record("t_order", 2L);

            assertThat(sink.afterCommit).isEmpty();
            assertThat(sink.beforeCommit).isEmpty();
        });

        assertThat(sink.afterCommit).containsExactly(List.of(order(1), order(2)));
        assertThat(sink.rowsVisibleAfterCommit).containsExactly(2);
        assertThat(sink.beforeCommit).containsExactly(List.of(order(1), order(2)));
        assertThat(sink.rowsVisibleBeforeCommit).containsExactly(0);
    }

    @Test
    void record_sameKeyTwiceOrAsIntegerAndLong_isHandedOnOnce() {
        tx.executeWithoutResult(status -> {
            capture.record("t_order", 5);
            capture.record("t_order", 6L);
            capture.record("t_order", 5L);
            capture.recordAll("t_order", List.of(6, 5, 7));
        });

        assertThat(sink.afterCommit).containsExactly(List.of(order(5), order(6), order(7)));
    }

    @Test
    void record_compositeKeyAsListOrArray_isOneKey() {
        tx.executeWithoutResult(status -> {
            capture.record("t_order_item", List.of(1, "s01"));
            capture.record("t_order_item", new Object[] {1L, "s01"});
            capture.record("t_order_item", RowKey.of(1L, "s02"));
        });

        assertThat(sink.afterCommit).containsExactly(List.of(
                new Change("t_order_item", RowKey.of(1L, "s01")),
                new Change("t_order_item", RowKey.of(1L, "s02"))));
    }

    @Test
    void record_inATransactionThatRollsBack_isNeverHandedOn() {
        tx.executeWithoutResult(status -> {
            jdbc.update(INSERT, 1);
            capture.record("t_order", 1L);
            status.setRollbackOnly();
        });
        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            capture.record("t_order", 2L);
            throw new IllegalStateException("application failure");
        })).isInstanceOf(IllegalStateException.class).hasMessage("application failure");

        assertThat(sink.beforeCommit).isEmpty();
        assertThat(sink.afterCommit).isEmpty();
        assertThat(countOrders()).isZero();
    }

    @Test
    void record_outsideATransaction_isHandedOnAtOnce() {
        jdbc.update(INSERT, 1);

        capture.record("t_order", 1);

        assertThat(sink.beforeCommit).containsExactly(List.of(order(1)));
        assertThat(sink.afterCommit).containsExactly(List.of(order(1)));

        capture.recordAll("t_order", List.of(2, 2L, 3));

        assertThat(sink.afterCommit).containsExactly(List.of(order(1)), List.of(order(2), order(3)));
    }

    @Test
    void record_underSupportsWithoutATransaction_isHandedOnAtOnceEvenIfTheMethodThrows() {
        TransactionTemplate supports = new TransactionTemplate(tx.getTransactionManager());
        supports.setPropagationBehavior(TransactionDefinition.PROPAGATION_SUPPORTS);

        assertThatThrownBy(() -> supports.executeWithoutResult(status -> {
            jdbc.update(INSERT, 1);
            capture.record("t_order", 1);
            throw new IllegalStateException("application failure");
        })).hasMessage("application failure");

        assertThat(countOrders()).as("the write auto-committed").isEqualTo(1);
        assertThat(sink.afterCommit).containsExactly(List.of(order(1)));
    }

    @Test
    void record_inARequiresNewTransaction_isCommittedWithItAndNotWithTheOuterOne() {
        tx.executeWithoutResult(outer -> {
            jdbc.update(INSERT, 1);
            capture.record("t_order", 1L);
            requiresNew.executeWithoutResult(inner -> {
                jdbc.update(INSERT, 2);
                capture.record("t_order", 2L);
            });
            assertThat(sink.afterCommit).containsExactly(List.of(order(2)));
            capture.record("t_order", 3L);
            outer.setRollbackOnly();
        });

        assertThat(sink.afterCommit).containsExactly(List.of(order(2)));
        assertThat(sink.beforeCommit).containsExactly(List.of(order(2)));
        assertThat(countOrders()).isEqualTo(1);
    }

    @Test
    void record_aroundARequiresNewTransaction_keepsTheOuterSetWhole() {
        tx.executeWithoutResult(outer -> {
            capture.record("t_order", 1L);
            requiresNew.executeWithoutResult(inner -> capture.record("t_order", 2L));
            capture.record("t_order", 3L);
        });

        assertThat(sink.afterCommit).containsExactly(List.of(order(2)), List.of(order(1), order(3)));
    }

    @Test
    void record_unknownTable_isRejectedNamingIt() {
        assertThatThrownBy(() -> capture.record("t_ordr", 1L))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("table 't_ordr' is not mapped; add dualwrite.tables.t_ordr or record the source table's"
                        + " configured name");
        assertThat(sink.afterCommit).isEmpty();
    }

    @Test
    void record_nullKeyOrNullKeyPart_isRejected() {
        assertThatThrownBy(() -> capture.record("t_order", null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("null");
        assertThatThrownBy(() -> capture.record("t_order_item", Arrays.asList(1L, null)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("null");
        assertThatThrownBy(() -> capture.recordAll("t_order", Arrays.asList(1L, null, 3L)))
                .isInstanceOf(IllegalArgumentException.class);

        assertThat(sink.afterCommit).isEmpty();
    }

    @Test
    void afterCommit_sinkThatThrows_doesNotFailTheCallersCommit() {
        sink.failAfterCommit = true;

        assertThatCode(() -> tx.executeWithoutResult(status -> {
            jdbc.update(INSERT, 1);
            capture.record("t_order", 1L);
        })).doesNotThrowAnyException();
        assertThatCode(() -> capture.record("t_order", 2L)).doesNotThrowAnyException();

        assertThat(countOrders()).isEqualTo(1);
        assertThat(sink.afterCommit).containsExactly(List.of(order(1)), List.of(order(2)));
    }

    @Test
    void beforeCommit_sinkThatThrows_rollsTheTransactionBack() {
        sink.failBeforeCommit = true;

        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            jdbc.update(INSERT, 1);
            capture.record("t_order", 1L);
        })).isInstanceOf(IllegalStateException.class).hasMessage("outbox unavailable");

        assertThat(countOrders()).isZero();
        assertThat(sink.afterCommit).isEmpty();
    }

    // --- the aspect ------------------------------------------------------------------------------

    @Test
    void dualWrite_keyFromAParameterName_isRecordedAfterCommit() {
        OrderService service = proxy(new OrderService());

        tx.executeWithoutResult(status -> {
            service.save(new Order(11L, List.of()));
            assertThat(sink.afterCommit).isEmpty();
        });

        assertThat(sink.afterCommit).containsExactly(List.of(order(11)));
    }

    @Test
    void dualWrite_keyFromTheResult_usesTheReturnedEntity() {
        OrderService service = proxy(new OrderService());

        Order created = service.create("NEW");

        assertThat(created.getId()).isEqualTo(42L);
        assertThat(sink.afterCommit).containsExactly(List.of(order(42)));
    }

    @Test
    void dualWrite_keysOverAList_recordsEveryElement() {
        OrderService service = proxy(new OrderService());

        service.saveItems(List.of(3L, 1L, 3L, 2L));

        assertThat(sink.afterCommit).containsExactly(List.of(item(3), item(1), item(2)));
    }

    @Test
    void dualWrite_compositeKeyAsAnInlineList_isOneKey() {
        OrderService service = proxy(new OrderService());

        service.saveLine(5L, "s01");

        assertThat(sink.afterCommit).containsExactly(List.of(new Change("t_order_item", RowKey.of(5L, "s01"))));
    }

    @Test
    void dualWrite_repeatedForTwoTables_recordsBothAsOneUnit() {
        OrderService service = proxy(new OrderService());

        tx.executeWithoutResult(status -> service.saveWithItems(new Order(9L, List.of(91L, 92L))));

        assertThat(sink.afterCommit).singleElement(InstanceOfAssertFactories.list(Change.class))
                .containsExactlyInAnyOrder(order(9), item(91), item(92));
    }

    @Test
    void dualWrite_keyEvaluatingToNull_throwsNamingTheMethodAndTheExpression() {
        OrderService service = proxy(new OrderService());

        assertThatThrownBy(() -> service.save(new Order(null, List.of())))
                .isInstanceOf(DualWriteKeyException.class)
                .hasMessageContaining("OrderService.save()")
                .hasMessageContaining("'#order.id'")
                .hasMessageContaining("evaluated to null");
        assertThat(sink.afterCommit).isEmpty();
    }

    @Test
    void dualWrite_keyEvaluatingToNullInATransaction_rollsItBack() {
        OrderService service = proxy(new OrderService());

        assertThatThrownBy(() -> tx.executeWithoutResult(status -> {
            jdbc.update(INSERT, 1);
            service.save(new Order(null, List.of()));
        })).isInstanceOf(DualWriteKeyException.class);

        assertThat(countOrders()).isZero();
        assertThat(sink.afterCommit).isEmpty();
    }

    @Test
    void dualWrite_methodThatThrowsOutsideATransaction_recordsTheKeyAndRethrowsTheMethodsException() {
        OrderService target = new OrderService();
        OrderService service = proxy(target);

        assertThatThrownBy(() -> service.failAfterWrite(7L)).isSameAs(target.failure);

        assertThat(sink.afterCommit).containsExactly(List.of(order(7)));
    }

    @Test
    void dualWrite_methodThatThrowsWithAKeyThatCannotBeEvaluated_stillRethrowsTheMethodsException() {
        OrderService target = new OrderService();
        OrderService service = proxy(target);

        assertThatThrownBy(() -> service.failWithOrder(new Order(null, List.of())))
                .isSameAs(target.failure)
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement()
                        .isInstanceOf(DualWriteKeyException.class));
        assertThat(sink.afterCommit).isEmpty();
    }

    @Test
    void dualWrite_methodThatThrowsInATransaction_recordsNothing() {
        OrderService target = new OrderService();
        OrderService service = proxy(target);

        assertThatThrownBy(() -> tx.executeWithoutResult(status -> service.failAfterWrite(7L)))
                .isSameAs(target.failure);

        assertThat(sink.afterCommit).isEmpty();
        assertThat(sink.beforeCommit).isEmpty();
    }

    @Test
    void dualWrite_namingAnUnmappedTable_failsAtTheCallLikeTheProgrammaticApi() {
        OrderService service = proxy(new OrderService());

        assertThatThrownBy(() -> service.saveWithTypo(8L))
                .isInstanceOf(RuntimeException.class)
                .hasMessageContaining("'t_ordr'");
        assertThat(sink.afterCommit).isEmpty();
    }

    // --- fixtures --------------------------------------------------------------------------------

    private OrderService proxy(OrderService target) {
        AspectJProxyFactory factory = new AspectJProxyFactory(target);
        factory.setProxyTargetClass(true);
        factory.addAspect(new DualWriteAspect(capture));
        return factory.getProxy();
    }

    private static Change order(long id) {
        return new Change("t_order", RowKey.of(id));
    }

    private static Change item(long id) {
        return new Change("t_order_item", RowKey.of(id));
    }

    /** Counts orders on a connection of its own, outside any transaction the test holds. */
    private int countOrders() {
        try (Connection connection = db.dataSource().getConnection();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SELECT COUNT(*) FROM t_order")) {
            rs.next();
            return rs.getInt(1);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Records what it is handed and how many orders another connection can see at that moment. */
    private final class RecordingSink implements ChangeSink {

        final List<List<Change>> beforeCommit = new CopyOnWriteArrayList<>();
        final List<List<Change>> afterCommit = new CopyOnWriteArrayList<>();
        final List<Integer> rowsVisibleBeforeCommit = new CopyOnWriteArrayList<>();
        final List<Integer> rowsVisibleAfterCommit = new CopyOnWriteArrayList<>();
        volatile boolean failBeforeCommit;
        volatile boolean failAfterCommit;

        @Override
        public void beforeCommit(Collection<Change> changes) {
            beforeCommit.add(List.copyOf(changes));
            rowsVisibleBeforeCommit.add(countOrders());
            if (failBeforeCommit) {
                throw new IllegalStateException("outbox unavailable");
            }
        }

        @Override
        public void afterCommit(Collection<Change> changes, long committedAtNanos) {
            afterCommit.add(List.copyOf(changes));
            rowsVisibleAfterCommit.add(countOrders());
            if (failAfterCommit) {
                throw new IllegalStateException("mirror unavailable");
            }
        }
    }

    /** An application entity with a getter, as SpEL reads it. */
    public static class Order {

        private final Long id;
        private final List<Long> itemIds;

        Order(Long id, List<Long> itemIds) {
            this.id = id;
            this.itemIds = itemIds;
        }

        public Long getId() {
            return id;
        }

        public List<Long> getItemIds() {
            return itemIds;
        }
    }

    /** The application service the aspect is woven around. */
    public static class OrderService {

        final IllegalStateException failure = new IllegalStateException("write failed half-way");

        @DualWrite(table = "t_order", key = "#order.id")
        public void save(Order order) {
        }

        @DualWrite(table = "t_order", key = "#result.id")
        public Order create(String status) {
            return new Order(42L, List.of());
        }

        @DualWrite(table = "t_order_item", keys = "#itemIds")
        public void saveItems(List<Long> itemIds) {
        }

        @DualWrite(table = "t_order_item", key = "{#orderId, #sku}")
        public void saveLine(long orderId, String sku) {
        }

        @DualWrite(table = "t_order", key = "#order.id")
        @DualWrite(table = "t_order_item", keys = "#order.itemIds")
        public void saveWithItems(Order order) {
        }

        @DualWrite(table = "t_order", key = "#id")
        public void failAfterWrite(long id) {
            throw failure;
        }

        @DualWrite(table = "t_order", key = "#order.id")
        public void failWithOrder(Order order) {
            throw failure;
        }

        @DualWrite(table = "t_ordr", key = "#id")
        public void saveWithTypo(long id) {
        }
    }
}
