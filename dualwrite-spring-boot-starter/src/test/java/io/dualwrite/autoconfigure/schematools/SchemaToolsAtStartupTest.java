package io.dualwrite.autoconfigure.schematools;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 18, start-up with schema tools: the application's Flyway migrations, Liquibase change sets or
 * {@code spring.sql.init} scripts create the mapped tables at start-up, through the routing {@code DataSource}.
 * The mapping check runs after them (before, it failed with "table 'owners' does not exist in the source
 * database"), the tools' DDL is not refused by transparent capture, and the application's first write after
 * start-up is captured and mirrored as usual. After start-up, DDL on a mapped table through the application's
 * {@code DataSource} is decided by the phase and {@code dualwrite.capture.schema-changes}.
 */
class SchemaToolsAtStartupTest {

    private final List<TestDatabase> databases = new ArrayList<>();
    private final List<ConfigurableApplicationContext> contexts = new ArrayList<>();

    @AfterEach
    void close() {
        contexts.forEach(ConfigurableApplicationContext::close);
        databases.forEach(TestDatabase::close);
    }

    @Test
    void flywayMigrations_createTheMappedTablesBeforeTheMappingCheck() {
        TestDatabase source = database(Store.MARIADB, "tools_flyway_src");
        TestDatabase target = database(Store.POSTGRESQL, "tools_flyway_tgt");
        target.execute(POSTGRES_TABLES);

        ConfigurableApplicationContext app = start(source, target, "spring.flyway.enabled=true",
                "spring.flyway.locations=classpath:schematools/flyway");

        assertThat(source.queryForObject("SELECT COUNT(*) FROM flyway_schema_history WHERE success = 1", Long.class))
                .isEqualTo(2L);
        assertMirrorsTheFirstWrite(app, source, target);
        // A restart finds the schema migrated: Flyway has nothing to do, the check passes again.
        start(source, target, "spring.flyway.enabled=true", "spring.flyway.locations=classpath:schematools/flyway");
    }

    @Test
    void liquibaseChangeSets_createTheMappedTablesBeforeTheMappingCheck() {
        TestDatabase source = database(Store.POSTGRESQL, "tools_liquibase_src");
        TestDatabase target = database(Store.MARIADB, "tools_liquibase_tgt");
        target.execute(MARIADB_TABLES);

        ConfigurableApplicationContext app = start(source, target, "spring.liquibase.enabled=true",
                "spring.liquibase.change-log=classpath:schematools/liquibase/changelog.sql");

        assertThat(source.queryForObject("SELECT COUNT(*) FROM databasechangelog", Long.class)).isEqualTo(2L);
        assertMirrorsTheFirstWrite(app, source, target);
    }

    @Test
    void sqlInitSchemaScript_withCreateTableIfNotExists_runsOnEveryStart() {
        TestDatabase source = database(Store.MARIADB, "tools_sqlinit_src");
        TestDatabase target = database(Store.POSTGRESQL, "tools_sqlinit_tgt");
        target.execute(POSTGRES_TABLES);
        String[] sqlInit = {"spring.sql.init.mode=always",
                "spring.sql.init.schema-locations=classpath:schematools/schema-mariadb.sql"};

        ConfigurableApplicationContext app = start(source, target, sqlInit);

        assertMirrorsTheFirstWrite(app, source, target);
        // The second start runs the script again over existing tables (the CREATE TABLE IF NOT EXISTS).
        start(source, target, sqlInit);
    }

    @Test
    void ddlOnAMappedTableAfterStartUp_runsInSourceOnly_isRefusedInDualWrite_runsUnderWarn() {
        TestDatabase source = database(Store.MARIADB, "tools_ddl_src");
        TestDatabase target = database(Store.POSTGRESQL, "tools_ddl_tgt");
        target.execute(POSTGRES_TABLES);
        source.execute(MARIADB_TABLES);

        JdbcTemplate sourceOnly = new JdbcTemplate(start(source, target, "dualwrite.phase=SOURCE_ONLY")
                .getBean(javax.sql.DataSource.class));
        sourceOnly.execute("ALTER TABLE pets ADD COLUMN nickname VARCHAR(20)");
        // A change made on one store only: the next start-up's mapping check names it.
        assertThatThrownBy(() -> start(source, target)).rootCause()
                .hasMessageContaining("column 'nickname' of source table 'pets' has no column of that name in target");
        target.execute("ALTER TABLE pets ADD COLUMN nickname VARCHAR(20)");

        JdbcTemplate dualWrite = new JdbcTemplate(start(source, target).getBean(javax.sql.DataSource.class));
        assertThatThrownBy(() -> dualWrite.execute("ALTER TABLE pets ADD COLUMN breed VARCHAR(20)"))
                .hasMessageContaining("dualwrite refuses DDL on mapped table 'pets' in phase DUAL_WRITE")
                .hasMessageContaining("dualwrite.capture.schema-changes=WARN");

        target.execute("ALTER TABLE pets ADD COLUMN breed VARCHAR(20)");
        JdbcTemplate warned = new JdbcTemplate(start(source, target, "dualwrite.capture.schema-changes=WARN")
                .getBean(javax.sql.DataSource.class));
        warned.execute("ALTER TABLE pets ADD COLUMN breed VARCHAR(20)");
        assertThat(source.queryForList("SELECT nickname, breed FROM pets")).isEmpty();
        start(source, target);
    }

    private static final String[] POSTGRES_TABLES = {
            "CREATE TABLE owners (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name VARCHAR(50) NOT NULL,"
                    + " gmt_modified TIMESTAMP(3) NOT NULL)",
            "CREATE TABLE pets (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, owner_id BIGINT NOT NULL"
                    + " REFERENCES owners (id), name VARCHAR(50) NOT NULL, gmt_modified TIMESTAMP(3) NOT NULL)"};

    private static final String[] MARIADB_TABLES = {
            "CREATE TABLE owners (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(50) NOT NULL,"
                    + " gmt_modified DATETIME(3) NOT NULL)",
            "CREATE TABLE pets (id BIGINT AUTO_INCREMENT PRIMARY KEY, owner_id BIGINT NOT NULL,"
                    + " name VARCHAR(50) NOT NULL, gmt_modified DATETIME(3) NOT NULL,"
                    + " FOREIGN KEY (owner_id) REFERENCES owners (id))"};

    private TestDatabase database(Store store, String prefix) {
        TestDatabase db = TestDatabase.create(store, prefix);
        databases.add(db);
        return db;
    }

    private ConfigurableApplicationContext start(TestDatabase source, TestDatabase target, String... tool) {
        List<String> properties = new ArrayList<>(List.of(
                "spring.datasource.url=" + source.jdbcUrl(),
                "spring.datasource.username=" + source.username(),
                "spring.datasource.password=" + source.password(),
                "dualwrite.target.url=" + target.jdbcUrl(),
                "dualwrite.target.username=" + target.username(),
                "dualwrite.target.password=" + target.password(),
                "dualwrite.schema.create=true",
                "dualwrite.phase=DUAL_WRITE",
                "dualwrite.mirror.mode=SYNC",
                "dualwrite.capture.transparent=true",
                "dualwrite.tables.owners.routing-column=id",
                "dualwrite.tables.pets.routing-column=owner_id"));
        properties.addAll(List.of(tool));
        if (properties.stream().anyMatch(p -> p.startsWith("dualwrite.phase=SOURCE_ONLY"))) {
            properties.remove("dualwrite.phase=DUAL_WRITE");
        }
        // As command-line arguments: they outrank the test application.properties that turns the tools off.
        ConfigurableApplicationContext context = new SpringApplicationBuilder(App.class).web(WebApplicationType.NONE)
                .run(properties.stream().map(property -> "--" + property).toArray(String[]::new));
        contexts.add(context);
        return context;
    }

    private static void assertMirrorsTheFirstWrite(ConfigurableApplicationContext app, TestDatabase source,
            TestDatabase target) {
        assertThat(app.getBean(MappedTables.class).all()).hasSize(2);
        JdbcTemplate jdbc = new JdbcTemplate(app.getBean(javax.sql.DataSource.class));
        jdbc.update("INSERT INTO owners (id, name, gmt_modified) VALUES (41, 'Ada', CURRENT_TIMESTAMP)");
        jdbc.update("INSERT INTO pets (id, owner_id, name, gmt_modified) VALUES (42, 41, 'Rex', CURRENT_TIMESTAMP)");

        assertThat(target.queryForObject("SELECT name FROM pets WHERE id = 42", String.class)).isEqualTo("Rex");
        assertThat(source.queryForObject("SELECT name FROM owners WHERE id = 41", String.class)).isEqualTo("Ada");
    }

    /** An application with nothing but auto-configuration: its schema comes from the tool under test. */
    @SpringBootConfiguration
    @EnableAutoConfiguration
    static class App {
    }
}
