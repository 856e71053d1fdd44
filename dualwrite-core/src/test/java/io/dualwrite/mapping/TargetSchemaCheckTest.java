package io.dualwrite.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** Issue 17: start-up names what the target schema does on its own that will fight the mirror. */
class TargetSchemaCheckTest {

    private static final String ORDERS = "CREATE TABLE t_order (id BIGINT NOT NULL PRIMARY KEY, status VARCHAR(20),"
            + " gmt_modified TIMESTAMP(3) NOT NULL)";
    private static final String ITEMS = "CREATE TABLE t_item (id BIGINT NOT NULL PRIMARY KEY, order_id BIGINT,"
            + " gmt_modified TIMESTAMP(3) NOT NULL)";
    private static final String FILMS = "CREATE TABLE t_film (id BIGINT NOT NULL PRIMARY KEY, title VARCHAR(100) NOT NULL,"
            + " gmt_modified TIMESTAMP(3) NOT NULL)";

    private final ListAppender<ILoggingEvent> appender = new ListAppender<>();
    private final Logger logger = (Logger) LoggerFactory.getLogger(TargetSchemaCheck.class);
    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void listen() {
        appender.start();
        logger.addAppender(appender);
    }

    @AfterEach
    void tearDown() {
        logger.detachAppender(appender);
        source.close();
        target.close();
    }

    private List<String> lines() {
        return appender.list.stream().map(e -> e.getLevel() + " " + e.getFormattedMessage()).toList();
    }

    private MappedTables resolve() throws Exception {
        return MappedTables.resolve(List.of(TableMapping.builder("t_order").build(),
                TableMapping.builder("t_item").build()), source.dataSource(), target.dataSource(), false);
    }

    @Test
    void postgresqlTarget_triggersForeignKeysAndSerials_areNamed() throws Exception {
        source = TestDatabase.create(Store.MARIADB, "tsc_src");
        target = TestDatabase.create(Store.POSTGRESQL, "tsc_tgt");
        source.execute(ORDERS.replace("TIMESTAMP(3)", "DATETIME(3)"), ITEMS.replace("TIMESTAMP(3)", "DATETIME(3)"));
        target.execute(ORDERS, "CREATE TABLE t_item (id BIGSERIAL PRIMARY KEY, order_id BIGINT"
                + " CONSTRAINT fk_item_order REFERENCES t_order (id), gmt_modified TIMESTAMP(3) NOT NULL)",
                "CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN NEW.gmt_modified := now();"
                        + " RETURN NEW; END $$",
                "CREATE TRIGGER t_order_touch BEFORE UPDATE ON t_order FOR EACH ROW EXECUTE FUNCTION touch()",
                "CREATE FUNCTION audit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$",
                "CREATE TRIGGER t_item_audit AFTER INSERT ON t_item FOR EACH ROW EXECUTE FUNCTION audit()");

        resolve();

        assertThat(lines()).anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_order: target"
                        + " table 't_order' has trigger 't_order_touch' (BEFORE UPDATE), whose body names the version"
                        + " column 'gmt_modified'"))
                .anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_item: target table 't_item'"
                        + " has trigger 't_item_audit' (AFTER INSERT): it fires on every mirrored"))
                .anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_item: target table 't_item'"
                        + " has foreign key 'fk_item_order' [order_id] to 't_order', the target of mapped table"
                        + " 't_order'"))
                .anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_item: column 'id' of target"
                        + " table 't_item' is an identity or serial column"));
    }

    @Test
    void postgresqlTarget_anUpdateRuleAndAnAlwaysIdentity_stopStartUp() throws Exception {
        source = TestDatabase.create(Store.MARIADB, "tsc_src");
        target = TestDatabase.create(Store.POSTGRESQL, "tsc_tgt");
        source.execute(ORDERS.replace("TIMESTAMP(3)", "DATETIME(3)"), ITEMS.replace("TIMESTAMP(3)", "DATETIME(3)"));
        target.execute(ORDERS, "CREATE TABLE t_item (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                + " order_id BIGINT, gmt_modified TIMESTAMP(3) NOT NULL)",
                "CREATE RULE t_order_notify AS ON UPDATE TO t_order DO ALSO NOTIFY t_order");

        assertThatThrownBy(this::resolve).isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_order: target table 't_order' has rule 't_order_notify'"
                        + " (ON UPDATE), and PostgreSQL refuses INSERT ... ON CONFLICT")
                .hasMessageContaining("dualwrite.tables.t_item: column 'id' of target table 't_item' is GENERATED"
                        + " ALWAYS AS IDENTITY");
    }

    @Test
    void h2Target_foreignKeysAndIdentities_areReadFromItsCatalog() throws Exception {
        source = TestDatabase.create(Store.H2, "tsc_src");
        target = TestDatabase.create(Store.H2, "tsc_tgt");
        source.execute(ORDERS, ITEMS);
        target.execute(ORDERS, "CREATE TABLE t_item (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
                + " order_id BIGINT CONSTRAINT fk_item_order REFERENCES t_order (id), gmt_modified TIMESTAMP(3) NOT NULL)");

        assertThatThrownBy(this::resolve).isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_item: column 'ID' of target table 'T_ITEM' is GENERATED"
                        + " ALWAYS AS IDENTITY");
        assertThat(lines()).anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_item: target"
                + " table 'T_ITEM' has foreign key 'FK_ITEM_ORDER' [ORDER_ID] to 'T_ORDER'"));
    }

    @Test
    void mariadbTarget_triggersAndForeignKeys_areNamed() throws Exception {
        source = TestDatabase.create(Store.POSTGRESQL, "tsc_src");
        target = TestDatabase.create(Store.MARIADB, "tsc_tgt");
        source.execute(ORDERS, ITEMS);
        target.execute(ORDERS.replace("TIMESTAMP(3)", "DATETIME(3)"), "CREATE TABLE t_item (id BIGINT NOT NULL"
                + " AUTO_INCREMENT PRIMARY KEY, order_id BIGINT, gmt_modified DATETIME(3) NOT NULL,"
                + " CONSTRAINT fk_item_order FOREIGN KEY (order_id) REFERENCES t_order (id))",
                "CREATE TRIGGER t_order_touch BEFORE UPDATE ON t_order FOR EACH ROW SET NEW.gmt_modified = NOW(3)");

        resolve();

        assertThat(lines()).anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_order: target"
                        + " table 't_order' has trigger 't_order_touch' (BEFORE UPDATE), whose body names the version"
                        + " column 'gmt_modified'"))
                .anySatisfy(line -> assertThat(line).startsWith("WARN dualwrite.tables.t_item: target table 't_item'"
                        + " has foreign key 'fk_item_order' [order_id] to 't_order'"))
                .anySatisfy(line -> assertThat(line).startsWith("INFO dualwrite.tables.t_item: column 'id' of target"
                        + " table 't_item' is AUTO_INCREMENT"));
    }
    @Test
    void postgresqlTarget_aNotNullColumnAnInsertTriggerFills_isLeftToTheTrigger() throws Exception {
        source = TestDatabase.create(Store.MARIADB, "tsc_src");
        target = TestDatabase.create(Store.POSTGRESQL, "tsc_tgt");
        source.execute(FILMS.replace("TIMESTAMP(3)", "DATETIME(3)"));
        target.execute(FILMS.replace("NOT NULL)", "NOT NULL, fulltext TSVECTOR NOT NULL)"),
                "CREATE FUNCTION film_fulltext() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.fulltext := to_tsvector('simple', NEW.title); RETURN NEW; END $$",
                "CREATE TRIGGER film_fulltext BEFORE INSERT OR UPDATE ON t_film FOR EACH ROW"
                        + " EXECUTE FUNCTION film_fulltext()");
        Logger mappedTables = (Logger) LoggerFactory.getLogger(MappedTables.class);
        mappedTables.addAppender(appender);
        try {
            MappedTables.resolve(List.of(TableMapping.builder("t_film").build()), source.dataSource(),
                    target.dataSource(), false);
        } finally {
            mappedTables.detachAppender(appender);
        }

        assertThat(lines()).anySatisfy(line -> assertThat(line).isEqualTo("INFO dualwrite.tables.t_film.columns:"
                + " column 'fulltext' of target table 't_film' is NOT NULL without a default and no source column maps"
                + " to it; trigger 'film_fulltext' (BEFORE INSERT OR UPDATE) names it, so it is left to the trigger to"
                + " fill"));
    }

    @Test
    void postgresqlTarget_aNotNullColumnNoTriggerNames_isStillRefused() throws Exception {
        source = TestDatabase.create(Store.MARIADB, "tsc_src");
        target = TestDatabase.create(Store.POSTGRESQL, "tsc_tgt");
        source.execute(FILMS.replace("TIMESTAMP(3)", "DATETIME(3)"));
        target.execute(FILMS.replace("NOT NULL)", "NOT NULL, fulltext TSVECTOR NOT NULL)"),
                "CREATE FUNCTION film_touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " NEW.title := trim(NEW.title); RETURN NEW; END $$",
                "CREATE TRIGGER film_touch BEFORE INSERT ON t_film FOR EACH ROW EXECUTE FUNCTION film_touch()");

        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_film").build()),
                source.dataSource(), target.dataSource(), false)).isInstanceOf(MappingException.class)
                .hasMessageContaining("dualwrite.tables.t_film.columns: column 'fulltext' of target table 't_film' is"
                        + " NOT NULL without a default and no source column maps to it");
    }
}
