package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 18: a target table whose key is a unique constraint rather than a primary key was refused with
 * {@code has no primary key; the guarded upsert needs a primary or unique key}, though the upsert finds
 * a key's row through either. Now it is mirrored; a table with neither is still refused.
 */
class UniqueKeyTargetTest {

    private static final String UNIQUE_KEYED_ORDERS = "CREATE TABLE t_order (id BIGINT NOT NULL, user_id BIGINT NOT"
            + " NULL, status VARCHAR(32) NOT NULL, amount DECIMAL(12,2), note VARCHAR(200), gmt_modified %s NOT NULL,"
            + " CONSTRAINT t_order_id_key UNIQUE (id))";

    private TestDatabase source;
    private TestDatabase target;

    @AfterEach
    void closeStores() {
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    @Test
    void mariadbToPostgresql_targetKeyedByAUniqueConstraint_isMirrored() throws Exception {
        source = TestDatabase.create(Store.MARIADB, "uniq_src");
        target = TestDatabase.create(Store.POSTGRESQL, "uniq_tgt");
        source.execute(OrderTable.ddl(Store.MARIADB, "t_order"));
        target.execute(String.format(UNIQUE_KEYED_ORDERS, OrderTable.timestampType(Store.POSTGRESQL)));
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                source.dataSource(), target.dataSource(), false);
        assertThat(tables.get("t_order").target().uniqueKeys())
                .as("the index over the key columns is the key, not a unique value another key's row may hold")
                .isEmpty();
        MirrorConfig config = MirrorConfig.builder().mode(MirrorMode.SYNC).build();
        JdbcTemplate app = new JdbcTemplate(source.dataSource());

        try (Mirror mirror = Mirror.create(config, tables, source.dataSource(), target.dataSource(),
                new EventPublisher())) {
            mirror.start();
            for (long id = 1; id <= 3; id++) {
                app.update("INSERT INTO t_order (id, user_id, status, gmt_modified) VALUES (?, 7, 'NEW', ?)", id,
                        Timestamp.valueOf("2024-07-01 12:00:00"));
                mirror.recorder().record("t_order", id);
            }
            app.update("UPDATE t_order SET status = 'PAID', gmt_modified = ? WHERE id = 2",
                    Timestamp.valueOf("2024-07-01 12:00:01"));
            mirror.recorder().record("t_order", 2L);
            app.update("DELETE FROM t_order WHERE id = 3");
            mirror.recorder().record("t_order", 3L);
            assertThat(mirror.awaitDrained(Duration.ofSeconds(10))).isTrue();
        }

        assertThat(target.queryForList("SELECT id, status FROM t_order ORDER BY id")).extracting(
                row -> row.get("id") + ":" + row.get("status")).containsExactly("1:NEW", "2:PAID");
        assertThat(OrderTable.differences(source, "t_order", target, "t_order", "id")).isEmpty();
    }

    @Test
    void targetWithNeitherPrimaryNorUniqueKey_isRefusedNamingTheKeyColumns() {
        source = TestDatabase.create(Store.H2, "uniq_src");
        target = TestDatabase.create(Store.H2, "uniq_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(String.format(UNIQUE_KEYED_ORDERS, OrderTable.timestampType(Store.H2))
                .replace(", CONSTRAINT t_order_id_key UNIQUE (id)", ""));

        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_order").build()),
                source.dataSource(), target.dataSource(), false))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).singleElement(STRING)
                        .startsWith("dualwrite.tables.t_order.target-table: target table 't_order' has neither a"
                                + " primary key nor a unique key on [id]"));
    }
}
