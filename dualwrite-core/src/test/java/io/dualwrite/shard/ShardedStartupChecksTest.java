package io.dualwrite.shard;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.ids.IdAlignment;
import io.dualwrite.ids.IdStrategy;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.testing.ShardedOrders;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * What a sharded target's physical tables do on their own is found on each of them, in the catalog of the real
 * database that holds it: triggers, rules and identities, named with the logical table, the data node and the
 * property; and the ids each physical table generates are kept apart from the source's and from each other's.
 */
class ShardedStartupChecksTest {

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger("io.dualwrite.mapping.TargetSchemaCheck");
    private ShardedOrders stores;

    @BeforeEach
    void setUp() {
        appender.start();
        logger.addAppender(appender);
        stores = ShardedOrders.create();
    }

    @AfterEach
    void tearDown() throws Exception {
        logger.detachAppender(appender);
        stores.close();
    }

    @Test
    void resolve_readsTriggersRulesAndIdentitiesOnEveryPhysicalTable() throws Exception {
        stores.shard(1).execute("CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS"
                + " 'BEGIN NEW.gmt_modified := now(); RETURN NEW; END'",
                "CREATE TRIGGER t_order_touch BEFORE UPDATE ON t_order_2 FOR EACH ROW EXECUTE FUNCTION touch()");
        stores.shard(0).execute("CREATE RULE t_order_log AS ON INSERT TO t_order_3 DO ALSO NOTIFY orders");
        stores.shard(1).execute("ALTER TABLE t_order_1 ALTER COLUMN id ADD GENERATED ALWAYS AS IDENTITY");

        assertThatThrownBy(stores::orders).isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order: physical table 't_order_3' (data node ds_0.t_order_3"
                        + " of logical table 't_order') has rule 't_order_log' (ON INSERT), and PostgreSQL refuses"
                        + " INSERT ... ON CONFLICT")
                .hasMessageContaining("dualwrite.tables.t_order: column 'id' of physical table 't_order_1' (data node"
                        + " ds_1.t_order_1 of logical table 't_order') is GENERATED ALWAYS AS IDENTITY")
                .message().doesNotContain("t_order_0'");
        assertThat(warnings()).anyMatch(line -> line.startsWith("WARN dualwrite.tables.t_order: physical table"
                + " 't_order_2' (data node ds_1.t_order_2 of logical table 't_order') has trigger 't_order_touch'")
                && line.contains("whose body names the version column 'gmt_modified'"));
    }

    @Test
    void notNullColumnNothingMaps_isLeftToAFillerTriggerOnlyWhenEveryPhysicalTableHasIt() throws Exception {
        for (int d = 0; d < ShardedOrders.DATABASES; d++) {
            stores.shard(d).execute("CREATE FUNCTION fill_label() RETURNS trigger LANGUAGE plpgsql AS"
                    + " 'BEGIN NEW.label := NEW.status; RETURN NEW; END'");
            for (int t = 0; t < ShardedOrders.TABLES; t++) {
                stores.shard(d).execute("ALTER TABLE t_order_" + t + " ADD COLUMN label VARCHAR(32) NOT NULL");
                if (d == 0 || t != 2) {
                    stores.shard(d).execute("CREATE TRIGGER t_order_label BEFORE INSERT ON t_order_" + t
                            + " FOR EACH ROW EXECUTE FUNCTION fill_label()");
                }
            }
        }
        assertThatThrownBy(stores::orders).isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order.columns: column 'label' of target table 't_order' is"
                        + " NOT NULL without a default and no source column maps to it");

        stores.shard(1).execute("CREATE TRIGGER t_order_label BEFORE INSERT ON t_order_2 FOR EACH ROW EXECUTE"
                + " FUNCTION fill_label()");
        assertThat(stores.orders().get("t_order").target().shardLayout()).isPresent();
    }

    @Test
    void idAlignment_spreadsEveryPhysicalTablesIdentityOverTheTargetsRange() throws Exception {
        stores.source().execute("ALTER TABLE t_order MODIFY id BIGINT NOT NULL AUTO_INCREMENT");
        for (int d = 0; d < ShardedOrders.DATABASES; d++) {
            for (int t = 0; t < ShardedOrders.TABLES; t++) {
                stores.shard(d).execute("ALTER TABLE t_order_" + t + " ALTER COLUMN id ADD GENERATED BY DEFAULT AS"
                        + " IDENTITY");
            }
        }
        stores.seed(100);
        MappedTables tables = stores.orders();
        try (var backfill = io.dualwrite.backfill.BackfillRunner.create(io.dualwrite.backfill.BackfillConfig.builder()
                .createTables(true).build(), tables, stores.source().dataSource(), stores.target(),
                new EventPublisher())) {
            backfill.start("t_order");
            assertThat(backfill.awaitCompletion("t_order", java.time.Duration.ofSeconds(60))).isTrue();
        }
        long range = 10_000;
        IdAlignment ids = IdAlignment.builder(tables, stores.source().dataSource(), stores.target())
                .strategy(IdStrategy.DISJOINT).range(range).build();
        RoutingRules dualWrite = rules(Phase.DUAL_WRITE, 0);

        assertThat(ids.guard().check(dualWrite, rules(Phase.RAMP, 0))).isEmpty();
        assertThat(ids.preparation().prepare(dualWrite, rules(Phase.RAMP, 0))).isEmpty();
        assertThat(ids.tables()).singleElement().asString().contains("capped at");

        // The application inserts through ShardingSphere without ids, for users on every shard, and into the source.
        Set<Long> generated = new HashSet<>();
        for (long user = 0; user < 16; user++) {
            for (int i = 0; i < 3; i++) {
                generated.add(insertWithoutId(stores.target().shardingSphere(), user));
            }
        }
        assertThat(generated).as("no two physical tables hand out the same id").hasSize(48);
        long sourceMax = 100;
        long sourceNext = insertWithoutId(stores.source().dataSource(), 1);
        assertThat(generated).allMatch(id -> id > sourceMax && id < sourceNext,
                "above the backfilled ids and below the source's new range, which starts at " + sourceNext);
        assertThat(ids.guard().check(rules(Phase.RAMP, 0), rules(Phase.RAMP, 50))).isEmpty();

        assertThat(ids.preparation().prepare(rules(Phase.RAMP, 100), rules(Phase.TARGET_ONLY, 100))).isEmpty();
        Set<Long> afterCutOver = new HashSet<>();
        for (long user = 0; user < 16; user++) {
            afterCutOver.add(insertWithoutId(stores.target().shardingSphere(), user));
        }
        assertThat(afterCutOver).hasSize(16).allMatch(id -> id > sourceNext);
    }

    @Test
    void idAlignment_interleave_givesThePhysicalTablesEvenIdsNoneTwice() throws Exception {
        stores.source().execute("ALTER TABLE t_order MODIFY id BIGINT NOT NULL AUTO_INCREMENT");
        for (int d = 0; d < ShardedOrders.DATABASES; d++) {
            for (int t = 0; t < ShardedOrders.TABLES; t++) {
                stores.shard(d).execute("ALTER TABLE t_order_" + t + " ALTER COLUMN id ADD GENERATED BY DEFAULT AS"
                        + " IDENTITY");
            }
        }
        stores.seed(50);
        MappedTables tables = stores.orders();
        String url = stores.source().jdbcUrl();
        com.zaxxer.hikari.HikariConfig odd = new com.zaxxer.hikari.HikariConfig();
        odd.setJdbcUrl(url.contains("sessionVariables=")
                ? url.replace("sessionVariables=", "sessionVariables=auto_increment_increment=2,auto_increment_offset=1,")
                : url + (url.contains("?") ? "&" : "?")
                        + "sessionVariables=auto_increment_increment=2,auto_increment_offset=1");
        odd.setUsername(stores.source().username());
        odd.setPassword(stores.source().password());
        odd.setMaximumPoolSize(2);
        try (com.zaxxer.hikari.HikariDataSource oddSessions = new com.zaxxer.hikari.HikariDataSource(odd)) {
            IdAlignment ids = IdAlignment.builder(tables, oddSessions, stores.target())
                    .strategy(IdStrategy.INTERLEAVE).build();
            assertThat(ids.guard().check(rules(Phase.DUAL_WRITE, 0), rules(Phase.RAMP, 0))).isEmpty();
            assertThat(ids.preparation().prepare(rules(Phase.DUAL_WRITE, 0), rules(Phase.RAMP, 0))).isEmpty();

            Set<Long> generated = new HashSet<>();
            for (long user = 0; user < 16; user++) {
                for (int i = 0; i < 3; i++) {
                    generated.add(insertWithoutId(stores.target().shardingSphere(), user));
                }
            }
            assertThat(generated).as("no two physical tables hand out the same id").hasSize(48)
                    .allMatch(id -> id % 2 == 0 && id > 50, "even, above the copied ids");
            assertThat(insertWithoutId(oddSessions, 1) % 2).as("the source's ids stay odd").isOne();
            assertThat(ids.guard().check(rules(Phase.RAMP, 0), rules(Phase.RAMP, 50))).as("still interleaved")
                    .isEmpty();
        }
    }

    private static long insertWithoutId(DataSource dataSource, long user) throws Exception {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert = connection.prepareStatement("INSERT INTO t_order (user_id, status, amount,"
                        + " note, gmt_modified) VALUES (?, 'NEW', 1.00, NULL, CURRENT_TIMESTAMP)",
                        Statement.RETURN_GENERATED_KEYS)) {
            insert.setLong(1, user);
            insert.executeUpdate();
            try (ResultSet keys = insert.getGeneratedKeys()) {
                keys.next();
                return keys.getLong(1);
            }
        }
    }

    private static RoutingRules rules(Phase phase, int percent) {
        return new RoutingRules(phase, percent, io.dualwrite.routing.RoutingStrategy.MODULO, Set.of(), Set.of(),
                io.dualwrite.routing.Route.SOURCE);
    }

    private List<String> warnings() {
        return new ArrayList<>(appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList());
    }
}
