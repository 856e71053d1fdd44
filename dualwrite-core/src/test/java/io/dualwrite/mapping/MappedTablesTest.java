package io.dualwrite.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.InstanceOfAssertFactories.STRING;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.LocalDateTime;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Table mappings checked against real metadata: what resolves, the rows it produces, and the start-up
 * messages for every kind of bad configuration. Mostly H2 to H2, plus one MariaDB to PostgreSQL run.
 */
class MappedTablesTest {

    private static final LocalDateTime MODIFIED = LocalDateTime.of(2024, 7, 1, 12, 0, 0, 123_000_000);
    private static final String RENAMED_ORDERS_DDL = "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY,"
            + " user_id BIGINT NOT NULL, state VARCHAR(32) NOT NULL, amount_cents DECIMAL(12,2), note VARCHAR(200),"
            + " gmt_modified %s NOT NULL)";
    private static final String LOG_DDL = "CREATE TABLE t_log (id BIGINT NOT NULL, message VARCHAR(100),"
            + " gmt_modified TIMESTAMP(3) NOT NULL%s)";
    private static final String CENTS_ORDERS_DDL = "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY,"
            + " user_id BIGINT NOT NULL, state VARCHAR(32) NOT NULL, amount_cents BIGINT, note VARCHAR(200),"
            + " gmt_modified TIMESTAMP(3) NOT NULL)";
    private static final String PLAIN_DDL = "CREATE TABLE t_plain (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(50))";

    private TestDatabase source;
    private TestDatabase target;

    @AfterEach
    void closeDatabases() {
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    // --- what resolves ---------------------------------------------------------------------------

    @Test
    void resolve_identityMapping_mapsEveryColumnToItself() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));

        MappedTables tables = resolve(false, TableMapping.builder("t_order").build());

        MappedTable table = tables.get("T_Order");
        assertThat(tables.all()).containsExactly(table);
        assertThat(tables.contains("t_order")).isTrue();
        assertThat(tables.contains("orders")).isFalse();
        assertThat(tables.sourceDialect().product()).isEqualTo(Dialect.Product.H2);
        assertThat(table.name()).isEqualTo("t_order");
        assertThat(lower(table.targetColumns())).containsExactly("id", "user_id", "status", "amount", "note",
                "gmt_modified");
        assertThat(lower(table.source().keyColumns())).containsExactly("id");
        assertThat(table.source().versionColumn()).isEqualToIgnoringCase("gmt_modified");
        assertThat(table.target().versionColumn()).isEqualToIgnoringCase("gmt_modified");
        assertThat(table.reversible()).isTrue();
        Row row = order(1, "PAID", "12.50");
        assertThat(table.toTarget(row)).isEqualTo(row);
        assertThat(table.toTargetKey(RowKey.of(1L))).isEqualTo(RowKey.of(1L));
    }

    @Test
    void get_unmappedTable_isRejectedNamingIt() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
        MappedTables tables = resolve(false, TableMapping.builder("t_order").build());

        assertThatThrownBy(() -> tables.get("t_user"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("table 't_user' is not mapped; add dualwrite.tables.t_user");
    }

    @Test
    void toTarget_withRenamesAndIgnoredColumns_writesTheTargetRowUnderItsNames() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"), "ALTER TABLE t_order ADD COLUMN legacy_flag INT",
                "INSERT INTO t_order VALUES (1, 7, 'PAID', 12.50, NULL, TIMESTAMP '2024-07-01 12:00:00.123', 1)");
        target.execute(String.format(RENAMED_ORDERS_DDL, OrderTable.timestampType(Store.H2)));

        MappedTable table = resolve(false, TableMapping.builder("t_order").targetTable("orders")
                .rename("status", "state").rename("AMOUNT", "amount_cents").ignore("legacy_flag").build())
                .get("t_order");

        Row sourceRow = readSource(table, 1L);
        Row targetRow = table.toTarget(sourceRow);

        assertThat(sourceRow.columns()).doesNotContain("legacy_flag");
        assertThat(lower(table.targetColumns())).containsExactly("id", "user_id", "state", "amount_cents", "note",
                "gmt_modified");
        assertThat(targetRow.columns()).containsExactly("id", "user_id", "state", "amount_cents", "note",
                "gmt_modified");
        assertThat(targetRow.get("state")).isEqualTo("PAID");
        assertThat(targetRow.get("amount_cents")).isEqualTo(new BigDecimal("12.50"));
        assertThat(targetRow.get("note")).isNull();
        writeTarget(table, targetRow);
        assertThat(target.queryForList("SELECT id, state, amount_cents FROM orders"))
                .containsExactly(Map.of("id", 1L, "state", "PAID", "amount_cents", new BigDecimal("12.50")));
    }

    @Test
    void resolve_mariadbToPostgresqlWithRenames_carriesARowAcross() throws SQLException {
        source = TestDatabase.create(Store.MARIADB, "MappedSource");
        target = TestDatabase.create(Store.POSTGRESQL, "MappedTarget");
        source.execute(OrderTable.ddl(Store.MARIADB, "t_order"), "ALTER TABLE t_order ADD COLUMN legacy_flag INT",
                "INSERT INTO t_order VALUES (1, 7, 'PAID', 12.50, 'gift', '2024-07-01 12:00:00.123', 1)");
        target.execute(String.format(RENAMED_ORDERS_DDL, OrderTable.timestampType(Store.POSTGRESQL)));

        MappedTables tables = resolve(true, TableMapping.builder("t_order").targetTable("orders")
                .rename("status", "state").rename("amount", "amount_cents").ignore("legacy_flag")
                .routingColumn("user_id").build());
        MappedTable table = tables.get("t_order");
        writeTarget(table, table.toTarget(readSource(table, 1L)));

        assertThat(tables.sourceDialect().product()).isEqualTo(Dialect.Product.MARIADB);
        assertThat(tables.targetDialect().product()).isEqualTo(Dialect.Product.POSTGRESQL);
        assertThat(target.queryForList("SELECT * FROM orders")).singleElement().satisfies(row -> {
            assertThat(row).containsEntry("id", 1L).containsEntry("user_id", 7L).containsEntry("state", "PAID")
                    .containsEntry("amount_cents", new BigDecimal("12.50")).containsEntry("note", "gift");
            assertThat(OrderTable.normalise(row.get("gmt_modified"))).isEqualTo(MODIFIED.toString());
        });
    }

    @Test
    void resolve_tableWithoutPrimaryKey_resolvesWithExplicitKeyColumns() throws SQLException {
        h2Stores();
        source.execute(String.format(LOG_DDL, ""));
        target.execute(String.format(LOG_DDL, ", PRIMARY KEY (id)"));

        MappedTable table = resolve(false, TableMapping.builder("t_log").keyColumns("id").build()).get("t_log");

        assertThat(lower(table.source().keyColumns())).containsExactly("id");
        assertThat(lower(table.target().keyColumns())).containsExactly("id");
    }

    @Test
    void resolve_noVersionColumnOutsideRamp_resolvesWithoutAGuard() throws SQLException {
        h2Stores();
        source.execute(PLAIN_DDL);
        target.execute(PLAIN_DDL);

        MappedTable table = resolve(false, TableMapping.builder("t_plain").noVersionColumn().build()).get("t_plain");

        assertThat(table.source().versionColumn()).isNull();
        assertThat(table.target().versionColumn()).isNull();
    }

    @Test
    void resolve_targetNotNullColumnWithDefault_needsNoSourceColumn() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"),
                "ALTER TABLE t_order ADD COLUMN channel VARCHAR(8) DEFAULT 'web' NOT NULL");

        MappedTable table = resolve(false, TableMapping.builder("t_order").build()).get("t_order");

        assertThat(lower(table.targetColumns())).doesNotContain("channel").contains("status");
    }

    // --- what is refused at start-up -------------------------------------------------------------

    @Test
    void resolve_renameToAColumnTheTargetLacks_namesPropertyColumnAndTableInTheDocumentedWords()
            throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "orders"));
        String expected = "dualwrite.tables.t_order.columns.amount: column 'amount_cents' does not exist in target"
                + " table 'orders'";

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").targetTable("orders")
                .rename("amount", "amount_cents").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> {
                    assertThat(e.problems()).containsExactly(expected);
                    assertThat(e.getMessage()).isEqualTo("dualwrite table mappings have 1 problem:\n  - " + expected);
                });
    }

    @Test
    void resolve_unknownSourceTable_isRefusedNamingTableAndProperty() throws SQLException {
        h2Stores();
        target.execute(OrderTable.ddl(Store.H2, "t_missing"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_missing").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).containsExactly(
                        "dualwrite.tables.t_missing: table 't_missing' does not exist in the source database"));
    }

    @Test
    void resolve_unknownTargetTable_isRefusedNamingTableAndProperty() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "orders"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").targetTable("orders_v2").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).containsExactly(
                        "dualwrite.tables.t_order.target-table: table 'orders_v2' does not exist in the target"
                                + " database"));
    }

    @Test
    void resolve_tableNameThatIsNotAPlainIdentifier_isRefusedBeforeAnySqlIsBuilt() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").targetTable("t_order; drop table x")
                .build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_order.target-table: 't_order; drop table x' is not a valid"
                                + " identifier"));
    }

    @Test
    void resolve_noPrimaryKeyAndNoKeyColumns_isRefusedNamingTableAndProperty() throws SQLException {
        h2Stores();
        source.execute(String.format(LOG_DDL, ""));
        target.execute(String.format(LOG_DDL, ", PRIMARY KEY (id)"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_log").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_log.key-columns: ")
                        .containsIgnoringCase("source table 't_log' has no primary key"));
    }

    @Test
    void resolve_keyColumnsOfTypesThatCannotBeKeys_areRefusedTogetherNamingTableColumnTypeAndWhatToDo()
            throws SQLException {
        h2Stores();
        source.execute("CREATE TABLE t_score (score DOUBLE NOT NULL PRIMARY KEY, note VARCHAR(10))");
        target.execute("CREATE TABLE t_score (score DOUBLE NOT NULL PRIMARY KEY, note VARCHAR(10))");
        source.execute("CREATE TABLE t_doc (body CLOB NOT NULL, note VARCHAR(10))");
        target.execute("CREATE TABLE t_doc (body VARCHAR(100) NOT NULL PRIMARY KEY, note VARCHAR(10))");

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_score").noVersionColumn().build(),
                TableMapping.builder("t_doc").keyColumns("body").noVersionColumn().build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems()).containsExactly(
                        "dualwrite.tables.t_score.key-columns: key column 'SCORE' of source table 't_score' has type"
                                + " DOUBLE PRECISION, which dualwrite cannot use as a key: approximate numbers do not"
                                + " compare exactly, so a key read back may not equal the key recorded. Key columns"
                                + " may be of integer, decimal, text (CHAR, VARCHAR), uuid, binary (BINARY, VARBINARY,"
                                + " bytea), DATE, TIME, TIMESTAMP or BOOLEAN type; change the column's type, or name"
                                + " other key columns (a unique, not null set) with dualwrite.tables.t_score.key-columns",
                        "dualwrite.tables.t_score.key-columns: key column 'SCORE' of target table 't_score' has type"
                                + " DOUBLE PRECISION, which dualwrite cannot use as a key: approximate numbers do not"
                                + " compare exactly, so a key read back may not equal the key recorded. Key columns"
                                + " may be of integer, decimal, text (CHAR, VARCHAR), uuid, binary (BINARY, VARBINARY,"
                                + " bytea), DATE, TIME, TIMESTAMP or BOOLEAN type; change the column's type, or name"
                                + " other key columns (a unique, not null set) with dualwrite.tables.t_score.key-columns",
                        "dualwrite.tables.t_doc.key-columns: key column 'BODY' of source table 't_doc' has type"
                                + " CHARACTER LARGE OBJECT, which dualwrite cannot use as a key: large objects cannot be"
                                + " compared by value. Key columns may be of integer, decimal, text (CHAR, VARCHAR),"
                                + " uuid, binary (BINARY, VARBINARY, bytea), DATE, TIME, TIMESTAMP or BOOLEAN type;"
                                + " change the column's type, or name other key columns (a unique, not null set) with"
                                + " dualwrite.tables.t_doc.key-columns"));
    }

    @Test
    void resolve_keyColumnThatDoesNotExist_isRefusedNamingColumnTableAndProperty() throws SQLException {
        h2Stores();
        source.execute(String.format(LOG_DDL, ""));
        target.execute(String.format(LOG_DDL, ", PRIMARY KEY (id)"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_log").keyColumns("log_id").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_log.key-columns: column 'log_id' does not exist in source"
                                + " table ")
                        .containsIgnoringCase("'t_log'"));
    }

    @Test
    void resolve_missingVersionColumn_isRefusedNamingColumnTableAndProperty() throws SQLException {
        h2Stores();
        source.execute(PLAIN_DDL);
        target.execute(PLAIN_DDL);

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_plain").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_plain.version-column: column 'gmt_modified' does not exist"
                                + " in source table ")
                        .containsIgnoringCase("'t_plain'")
                        // Issue 18: the message names the value that declares a table without one.
                        .endsWith("set dualwrite.tables.t_plain.version-column=none"
                                + " (TableMapping.Builder.noVersionColumn() in code)"));
    }

    @Test
    void resolve_rampRequiredForATableWithoutVersionColumn_isRefusedNamingTableAndProperty() throws SQLException {
        h2Stores();
        source.execute(PLAIN_DDL);
        target.execute(PLAIN_DDL);

        assertThatThrownBy(() -> resolve(true, TableMapping.builder("t_plain").noVersionColumn().build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_plain.version-column: ")
                        .containsIgnoringCase("source table 't_plain' has no version column")
                        .contains("cannot take writes on both stores at once"));
    }

    @Test
    void resolve_targetNotNullColumnThatNothingFills_isRefusedNamingColumnTableAndProperty() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"),
                "ALTER TABLE t_order ADD COLUMN channel VARCHAR(8) NOT NULL");

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_order.columns: ")
                        .containsIgnoringCase("column 'channel' of target table 't_order' is NOT NULL without a"
                                + " default"));
    }

    @Test
    void resolve_sourceColumnWithoutATargetColumn_isRefusedNamingTheRenameAndIgnoreProperties()
            throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"), "ALTER TABLE t_order ADD COLUMN legacy_flag INT");
        target.execute(OrderTable.ddl(Store.H2, "t_order"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_order.columns.legacy_flag: column 'legacy_flag' of source"
                                + " table ")
                        .endsWith("rename it with dualwrite.tables.t_order.columns.legacy_flag or leave it out with"
                                + " dualwrite.tables.t_order.ignore-columns"));
    }

    @Test
    void resolve_ignoredColumnThatDoesNotExist_isRefusedNamingColumnAndProperty() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").ignore("legacy_flg").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_order.ignore-columns: column 'legacy_flg' does not exist"));
    }

    @Test
    void resolve_sameTableMappedTwice_isRefused() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));

        assertThatThrownBy(() -> resolve(false, TableMapping.builder("t_order").build(),
                TableMapping.builder("T_ORDER").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .containsExactly("dualwrite.tables.T_ORDER: the table is mapped twice"));
    }

    @Test
    void resolve_problemsInThreeTables_areAllReportedInOneException() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"), String.format(LOG_DDL, ""), PLAIN_DDL);
        target.execute(OrderTable.ddl(Store.H2, "orders"), String.format(LOG_DDL, ", PRIMARY KEY (id)"), PLAIN_DDL);

        assertThatThrownBy(() -> resolve(false,
                TableMapping.builder("t_order").targetTable("orders").rename("amount", "amount_cents").build(),
                TableMapping.builder("t_log").build(),
                TableMapping.builder("t_plain").build()))
                .isInstanceOfSatisfying(MappingException.class, e -> {
                    assertThat(e.problems()).hasSize(3);
                    assertThat(e.problems().get(0)).startsWith("dualwrite.tables.t_order.columns.amount: ");
                    assertThat(e.problems().get(1)).startsWith("dualwrite.tables.t_log.key-columns: ");
                    assertThat(e.problems().get(2)).startsWith("dualwrite.tables.t_plain.version-column: ");
                    assertThat(e.getMessage()).startsWith("dualwrite table mappings have 3 problems:\n  - ")
                            .contains(e.problems());
                });
    }

    // --- builder conflicts -----------------------------------------------------------------------

    @Test
    void build_columnBothRenamedAndIgnored_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").rename("note", "remark").ignore("NOTE").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_order.columns.note: column 'note' is both renamed and ignored; remove"
                        + " it from dualwrite.tables.t_order.ignore-columns or drop the rename");
    }

    @Test
    void build_ignoredKeyColumn_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").keyColumns("id").ignore("id").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_order.ignore-columns: key column 'id' cannot be ignored");
    }

    @Test
    void build_ignoredVersionColumn_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").ignore("gmt_modified").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_order.ignore-columns: version column 'gmt_modified' cannot be ignored");
    }

    @Test
    void build_transformerTogetherWithRenames_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").rename("status", "state")
                .transformer(row -> row).build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.tables.t_order.transformer: a transformer maps whole rows, so"
                        + " dualwrite.tables.t_order.columns renames cannot be used with it");
    }

    @Test
    void build_twoColumnsRenamedToOne_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").rename("status", "state").rename("note", "state")
                .build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_order.columns.note: target column 'state' is already written by"
                        + " column 'status'");
    }

    @Test
    void build_severalConflicts_reportsEveryOne() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").keyColumns("id").rename("note", "remark")
                .ignore("id", "note").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.tables.t_order.columns.note: ")
                .hasMessageContaining("dualwrite.tables.t_order.ignore-columns: key column 'id'");
    }

    @Test
    void keyColumns_listedTwice_isRejectedNamingTheProperty() {
        assertThatThrownBy(() -> TableMapping.builder("t_order").keyColumns("id", "ID"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite.tables.t_order.key-columns: column 'ID' is listed twice");
    }

    // --- transformers ----------------------------------------------------------------------------

    @Test
    void toTarget_withATransformer_writesWhatTheTransformerReturns() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"),
                "INSERT INTO t_order VALUES (1, 7, 'PAID', 12.50, NULL, TIMESTAMP '2024-07-01 12:00:00.123')");
        target.execute(CENTS_ORDERS_DDL);

        MappedTable table = resolve(false, TableMapping.builder("t_order").targetTable("orders")
                .transformer(new CentsTransformer(true)).build()).get("t_order");
        Row targetRow = table.toTarget(readSource(table, 1L));
        writeTarget(table, targetRow);

        assertThat(table.reversible()).isFalse();
        assertThat(targetRow.get("state")).isEqualTo("paid");
        assertThat(targetRow.get("amount_cents")).isEqualTo(1250L);
        assertThat(target.queryForList("SELECT id, state, amount_cents FROM orders"))
                .containsExactly(Map.of("id", 1L, "state", "paid", "amount_cents", 1250L));
    }

    @Test
    void toTarget_transformerLeavingOutATargetColumn_isRejectedNamingTheColumn() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"),
                "INSERT INTO t_order VALUES (1, 7, 'PAID', 12.50, NULL, TIMESTAMP '2024-07-01 12:00:00.123')");
        target.execute(CENTS_ORDERS_DDL);
        MappedTable table = resolve(false, TableMapping.builder("t_order").targetTable("orders")
                .transformer(new CentsTransformer(false)).build()).get("t_order");
        Row sourceRow = readSource(table, 1L);

        assertThatThrownBy(() -> table.toTarget(sourceRow))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.tables.t_order.transformer: ")
                .hasMessageContaining("(row key 1)")
                .message().containsIgnoringCase("target column 'note' of table 'orders'");
    }

    @Test
    void resolve_oneWayTransformerWhenRampIsRequired_isRefusedNamingTheTable() throws SQLException {
        h2Stores();
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(CENTS_ORDERS_DDL);

        assertThatThrownBy(() -> resolve(true, TableMapping.builder("t_order").targetTable("orders")
                .transformer(new CentsTransformer(true)).build()))
                .isInstanceOfSatisfying(MappingException.class, e -> assertThat(e.problems())
                        .singleElement(STRING)
                        .startsWith("dualwrite.tables.t_order.transformer: " + CentsTransformer.class.getName())
                        .contains("cannot enter RAMP"));
    }

    /** Lower-cases the status into state and turns the decimal amount into cents; optionally forgets the note. */
    private static final class CentsTransformer implements RowTransformer {

        private final boolean withNote;

        CentsTransformer(boolean withNote) {
            this.withNote = withNote;
        }

        @Override
        public Row toTarget(Row source) {
            Map<String, Object> values = new LinkedHashMap<>();
            values.put("id", source.get("id"));
            values.put("user_id", source.get("user_id"));
            values.put("state", ((String) source.get("status")).toLowerCase(Locale.ROOT));
            BigDecimal amount = (BigDecimal) source.get("amount");
            values.put("amount_cents", amount == null ? null : amount.movePointRight(2).longValueExact());
            if (withNote) {
                values.put("note", source.get("note"));
            }
            values.put("gmt_modified", source.get("gmt_modified"));
            return Row.of(values);
        }
    }

    // --- helpers ---------------------------------------------------------------------------------

    private void h2Stores() {
        source = TestDatabase.create(Store.H2, "MappedSource");
        target = TestDatabase.create(Store.H2, "MappedTarget");
    }

    private MappedTables resolve(boolean requireRampReady, TableMapping... mappings) throws SQLException {
        return MappedTables.resolve(List.of(mappings), source.dataSource(), target.dataSource(), requireRampReady);
    }

    private Row readSource(MappedTable table, long id) throws SQLException {
        try (Connection connection = source.dataSource().getConnection()) {
            return table.source().readByKeys(connection, List.of(RowKey.of(id)), false).get(RowKey.of(id));
        }
    }

    private void writeTarget(MappedTable table, Row row) throws SQLException {
        TableOps ops = table.target();
        try (Connection connection = target.dataSource().getConnection()) {
            ops.upsert(connection, List.of(row));
        }
    }

    private static List<String> lower(List<String> names) {
        return names.stream().map(name -> name.toLowerCase(Locale.ROOT)).toList();
    }

    private static Row order(long id, String status, String amount) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", id);
        values.put("user_id", 7L);
        values.put("status", status);
        values.put("amount", new BigDecimal(amount));
        values.put("note", null);
        values.put("gmt_modified", MODIFIED);
        return Row.of(values);
    }
}
