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
 * added when the library may create its tables, printed in the start-up error otherwise. And instances that start
 * together on a target without the tables all get them, whichever creates which.
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

    /**
     * Another instance creates the checkpoint table just before this one does, and has not yet created the failure
     * table (it runs the statements one by one): this one's {@code CREATE} fails, and it must go on and create the
     * table still missing rather than fail its start.
     */
    @Test
    void anotherInstanceCreatesTheFirstTableAtTheSameMoment_theStartCreatesTheRest() throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.H2, "race_src");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "race_tgt")) {
            source.execute(OrderTable.ddl(Store.H2, "t_order"));
            target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                    source.dataSource(), target.dataSource(), false);
            java.util.concurrent.atomic.AtomicBoolean raced = new java.util.concurrent.atomic.AtomicBoolean();
            javax.sql.DataSource racing = new org.springframework.jdbc.datasource.DelegatingDataSource(
                    target.dataSource()) {
                @Override
                public java.sql.Connection getConnection() throws java.sql.SQLException {
                    return racingConnection(super.getConnection(), target, raced);
                }
            };
            try (BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true).build(),
                    tables, source.dataSource(), racing, new EventPublisher())) {
                runner.ensureTables();
            }
            assertThat(raced).as("the other instance's CREATE went first").isTrue();
            assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_backfill_failure", Long.class)).isZero();
            assertThat(target.queryForObject("SELECT COUNT(*) FROM dualwrite_checkpoint", Long.class)).isZero();
        }
    }

    /** A connection whose first {@code CREATE TABLE dualwrite_checkpoint} finds it made by another instance. */
    private static java.sql.Connection racingConnection(java.sql.Connection real, TestDatabase target,
            java.util.concurrent.atomic.AtomicBoolean raced) {
        return (java.sql.Connection) java.lang.reflect.Proxy.newProxyInstance(CheckpointTableUpgradeTest.class
                .getClassLoader(), new Class<?>[] {java.sql.Connection.class}, (proxy, method, args) -> {
                    Object result = invoke(method, real, args);
                    if (!method.getName().equals("createStatement")) {
                        return result;
                    }
                    java.sql.Statement statement = (java.sql.Statement) result;
                    return java.lang.reflect.Proxy.newProxyInstance(CheckpointTableUpgradeTest.class.getClassLoader(),
                            new Class<?>[] {java.sql.Statement.class}, (p, m, a) -> {
                                if (m.getName().equals("execute") && a != null && a[0] instanceof String sql
                                        && sql.startsWith("CREATE TABLE dualwrite_checkpoint ")
                                        && raced.compareAndSet(false, true)) {
                                    target.execute(sql);
                                }
                                return invoke(m, statement, a);
                            });
                });
    }

    private static Object invoke(java.lang.reflect.Method method, Object target, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
