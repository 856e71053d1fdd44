package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.RowTransformer;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 17: target columns the target fills itself, MariaDB -> PostgreSQL. A generated column is never
 * written (PostgreSQL refuses any value but DEFAULT), and a transformer may leave out a generated column and
 * a column with a default: an insert gets the target's value, an update keeps it.
 */
class TargetFilledColumnsTest {

    private static final String TARGET_DDL = "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY,"
            + " user_id BIGINT NOT NULL, status VARCHAR(32) NOT NULL, amount DECIMAL(12,2), note VARCHAR(200),"
            + " gmt_modified TIMESTAMP(3) NOT NULL,"
            + " note_words TSVECTOR GENERATED ALWAYS AS (to_tsvector('simple', COALESCE(note, ''))) STORED,"
            + " created_at TIMESTAMP(3) NOT NULL DEFAULT TIMESTAMP '2000-01-01 00:00:00')";

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void setUp() {
        source = TestDatabase.create(Store.MARIADB, "tfc_src");
        target = TestDatabase.create(Store.POSTGRESQL, "tfc_tgt");
    }

    @AfterEach
    void tearDown() {
        source.close();
        target.close();
    }

    /** Upper-cases the status; returns neither the generated column nor the defaulted one. */
    private static final class StatusTransformer implements RowTransformer {
        @Override
        public Row toTarget(Row row) {
            Map<String, Object> values = new LinkedHashMap<>();
            for (String column : List.of("id", "user_id", "amount", "note", "gmt_modified")) {
                values.put(column, row.get(column));
            }
            values.put("status", ((String) row.get("status")).toUpperCase(java.util.Locale.ROOT));
            return Row.of(values);
        }
    }

    @Test
    void aTransformer_leavesGeneratedAndDefaultedColumnsToTheTarget_onInsertAndOnUpdate() throws Exception {
        source.execute(OrderTable.ddl(Store.MARIADB, "t_order"),
                "INSERT INTO t_order VALUES (1, 7, 'paid', 12.50, 'red bike', TIMESTAMP '2024-07-01 12:00:00')");
        target.execute(TARGET_DDL);
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").targetTable("orders")
                .transformer(new StatusTransformer()).build()), source.dataSource(), target.dataSource(), false);
        try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(), target.dataSource(),
                new EventPublisher())) {
            assertThat(mirror.repair("t_order", List.of(RowKey.of(1L)), Duration.ofSeconds(5))).isEmpty();
            target.execute("UPDATE orders SET created_at = TIMESTAMP '2024-07-01 12:00:00' WHERE id = 1");
            source.execute("UPDATE t_order SET note = 'blue car', gmt_modified = TIMESTAMP '2024-07-02 12:00:00'");
            assertThat(mirror.repair("t_order", List.of(RowKey.of(1L)), Duration.ofSeconds(5))).isEmpty();
        }
        assertThat(target.queryForList("SELECT status, note, note_words::text AS words, created_at::text AS created"
                + " FROM orders")).containsExactly(Map.of("status", "PAID", "note", "blue car",
                        "words", "'blue':1 'car':2", "created", "2024-07-01 12:00:00"));
    }

    @Test
    void aSourceColumnMappedOntoAGeneratedTargetColumn_isNotWritten_theTargetComputesIt() throws Exception {
        source.execute("CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, user_id BIGINT NOT NULL,"
                + " status VARCHAR(32) NOT NULL, amount DECIMAL(12,2), note VARCHAR(200),"
                + " gmt_modified DATETIME(3) NOT NULL, note_words VARCHAR(200))",
                "INSERT INTO t_order VALUES (1, 7, 'PAID', 12.50, 'red bike', TIMESTAMP '2024-07-01 12:00:00',"
                        + " 'stale words')");
        target.execute(TARGET_DDL);
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").targetTable("orders")
                .build()), source.dataSource(), target.dataSource(), false);
        try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source.dataSource(), target.dataSource(),
                new EventPublisher())) {
            assertThat(mirror.repair("t_order", List.of(RowKey.of(1L)), Duration.ofSeconds(5))).isEmpty();
        }
        assertThat(target.queryForObject("SELECT note_words::text FROM orders", String.class))
                .isEqualTo("'bike':2 'red':1");
    }
}
