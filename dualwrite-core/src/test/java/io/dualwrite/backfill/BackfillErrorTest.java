package io.dualwrite.backfill;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 17: a backfill error tells what the database said. MariaDB -> PostgreSQL, where pgjdbc reports a
 * failed batch with the whole statement first and the server's error after it, and where HikariCP closes a
 * connection on some errors.
 */
class BackfillErrorTest {

    private TestDatabase source;
    private TestDatabase target;
    private MappedTables tables;

    @BeforeEach
    void setUp() throws Exception {
        source = TestDatabase.create(Store.MARIADB, "bfe_src");
        target = TestDatabase.create(Store.POSTGRESQL, "bfe_tgt");
        source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
        target.execute(OrderTable.ddl(Store.POSTGRESQL, "t_order"));
        List<Object[]> rows = new ArrayList<>();
        for (int id = 1; id <= 50; id++) {
            // A long note makes the statement, as pgjdbc prints it with its values, longer than the error column.
            rows.add(new Object[] {(long) id, id == 7 ? "BAD-7" : "OK", "n".repeat(180),
                    Timestamp.valueOf("2026-11-20 08:00:00")});
        }
        new JdbcTemplate(source.dataSource()).batchUpdate("INSERT INTO t_order (id, user_id, status, note,"
                + " gmt_modified) VALUES (?, 1, ?, ?, ?)", rows);
        tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                target.dataSource(), false);
    }

    @AfterEach
    void tearDown() {
        source.close();
        target.close();
    }

    private BackfillProgress backfill() throws Exception {
        return backfill(true);
    }

    private BackfillProgress backfill(boolean postgresCopy) throws Exception {
        try (BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().createTables(true)
                .rangesPerTable(1).postgresCopy(postgresCopy).build(), tables, source.dataSource(), target.dataSource(), new EventPublisher())) {
            runner.start("t_order");
            runner.awaitCompletion("t_order", Duration.ofSeconds(20));
            return runner.progress("t_order");
        }
    }

    @Test
    void aRowTheTargetRefuses_isRecordedWithTheSqlStateAndTheDatabasesMessageBeforeTheStatement() throws Exception {
        target.execute("ALTER TABLE t_order ADD CONSTRAINT no_bad CHECK (status NOT LIKE 'BAD-%')");

        BackfillProgress progress = backfill();

        assertThat(progress.status()).isEqualTo(BackfillStatus.DONE);
        assertThat(progress.rowsCopied()).isEqualTo(49);
        List<Object> errors = target.queryForList("SELECT error FROM dualwrite_backfill_failure").stream()
                .map(row -> row.get("error")).toList();
        assertThat(errors).singleElement().asString()
                .startsWith("SQLSTATE 23514: ERROR: new row for relation \"t_order\" violates check constraint"
                        + " \"no_bad\"")
                .contains("(BatchUpdateException: Batch entry 0 /* dualwrite */ INSERT INTO \"t_order\"");
    }

    /**
     * PostgreSQL refuses {@code ON CONFLICT} on a table with rules with SQLSTATE 0A000, on which HikariCP
     * closes the connection: the job used to pause with "chunk after null failed: SQLException: Connection is
     * closed", the rollback's failure instead of the write's.
     */
    @Test
    void anErrorOnWhichThePoolClosesTheConnection_pausesTheJobWithThatError_notConnectionIsClosed()
            throws Exception {
        target.execute("CREATE RULE t_order_notify AS ON UPDATE TO t_order DO ALSO NOTIFY t_order");

        BackfillProgress progress = backfill(false);

        assertThat(progress.status()).isEqualTo(BackfillStatus.PAUSED);
        assertThat(progress.lastError()).get().asString()
                .startsWith("the first chunk failed: SQLSTATE 0A000: ERROR: INSERT with ON CONFLICT clause cannot be"
                        + " used with table that has INSERT or UPDATE rules (BatchUpdateException: Batch entry 0");
    }

    /** The same through COPY: the merge's failure is reported, not the closed connection of the fallback. */
    @Test
    void anErrorOnWhichThePoolClosesTheConnection_inTheCopyMerge_pausesTheJobWithThatError() throws Exception {
        target.execute("CREATE RULE t_order_notify AS ON UPDATE TO t_order DO ALSO NOTIFY t_order");

        BackfillProgress progress = backfill(true);

        assertThat(progress.status()).isEqualTo(BackfillStatus.PAUSED);
        assertThat(progress.lastError()).get().asString()
                .startsWith("the first chunk failed: SQLSTATE 0A000: ERROR: INSERT with ON CONFLICT clause cannot be"
                        + " used with table that has INSERT or UPDATE rules");
    }
}
