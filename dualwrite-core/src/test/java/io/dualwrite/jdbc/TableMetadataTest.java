package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Types;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What {@link TableMetadata#read} reports for the same table on every store. */
class TableMetadataTest {

    private TestDatabase db;

    @AfterEach
    void closeDatabase() {
        if (db != null) {
            db.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_compositeKey_listsKeyColumnsInKeyOrderNotDeclarationOrder(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute(itemDdl(store));

        TableMetadata table = read("t_item").orElseThrow();

        assertThat(table.canonicalPrimaryKey()).containsExactly("sku", "order_id");
        assertThat(table.primaryKey()).hasSize(2);
        assertThat(table.columns()).extracting(ColumnMetadata::canonicalName)
                .containsExactly("line_id", "order_id", "sku", "qty", "price", "note", "gmt_modified");
        assertThat(table.columnsByCanonicalName()).containsOnlyKeys("line_id", "order_id", "sku", "qty", "price",
                "note", "gmt_modified");
        assertThat(table.schema()).isNull();
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_reportsJdbcTypesOfEachColumn(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute(itemDdl(store));

        TableMetadata table = read("t_item").orElseThrow();

        assertThat(jdbcType(table, "order_id")).isEqualTo(Types.BIGINT);
        assertThat(jdbcType(table, "sku")).isEqualTo(Types.VARCHAR);
        assertThat(jdbcType(table, "qty")).isEqualTo(Types.INTEGER);
        // PostgreSQL's driver reports DECIMAL columns as NUMERIC, its only exact numeric type.
        assertThat(jdbcType(table, "price")).isEqualTo(store == Store.POSTGRESQL ? Types.NUMERIC : Types.DECIMAL);
        assertThat(jdbcType(table, "gmt_modified")).isEqualTo(Types.TIMESTAMP);
        assertThat(table.columns()).allSatisfy(column -> assertThat(column.typeName()).isNotBlank());
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_reportsNullabilityAndDefaultsIncludingAutoIncrement(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute(itemDdl(store));

        TableMetadata table = read("t_item").orElseThrow();

        assertThat(table.columns()).extracting(ColumnMetadata::canonicalName, ColumnMetadata::nullable,
                ColumnMetadata::requiresValue).containsExactly(
                        tuple("line_id", false, false),
                        tuple("order_id", false, true),
                        tuple("sku", false, true),
                        tuple("qty", false, false),
                        tuple("price", true, false),
                        tuple("note", true, false),
                        tuple("gmt_modified", false, true));
        // MariaDB reports an implicit "DEFAULT NULL" for nullable columns: that must not count as a default.
        assertThat(table.columns())
                .extracting(ColumnMetadata::canonicalName, ColumnMetadata::hasDefault).containsExactly(
                        tuple("line_id", true),
                        tuple("order_id", false),
                        tuple("sku", false),
                        tuple("qty", true),
                        tuple("price", false),
                        tuple("note", true),
                        tuple("gmt_modified", false));
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_findsTablesAndColumnsInAnyCase_andReportsTheStoredCase(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute(OrderTable.ddl(store, "t_order"));
        String storedTable = store == Store.H2 ? "T_ORDER" : "t_order";
        String storedColumn = store == Store.H2 ? "GMT_MODIFIED" : "gmt_modified";

        TableMetadata lower = read("t_order").orElseThrow();
        TableMetadata upper = read("T_ORDER").orElseThrow();
        TableMetadata mixed = read("T_Order").orElseThrow();

        assertThat(lower).isEqualTo(upper).isEqualTo(mixed);
        assertThat(lower.name()).isEqualTo(storedTable);
        assertThat(lower.storedName("Gmt_Modified")).isEqualTo(storedColumn);
        assertThat(lower.column("GMT_MODIFIED")).map(ColumnMetadata::name).contains(storedColumn);
        assertThat(lower.column("gmt_modified")).map(ColumnMetadata::name).contains(storedColumn);
        assertThat(lower.canonicalPrimaryKey()).containsExactly("id");
        assertThat(lower.column("amount_cents")).isEmpty();
        assertThatThrownBy(() -> lower.storedName("amount_cents"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("column 'amount_cents' does not exist in table '" + storedTable + "'");
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_schemaQualifiedName_findsTheTableAndReportsItsSchema(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute(OrderTable.ddl(store, "t_order"));
        // H2 keeps its tables in PUBLIC; MariaDB's database and PostgreSQL's schema carry the test's name.
        String schema = store == Store.H2 ? "public" : db.name();

        TableMetadata table = read(schema + ".t_order").orElseThrow();

        assertThat(table.schema()).isEqualToIgnoringCase(schema);
        assertThat(table.canonicalPrimaryKey()).containsExactly("id");
        assertThat(read("no_such_schema.t_order")).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_missingTable_isEmpty(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute(OrderTable.ddl(store, "t_order"));

        assertThat(read("t_orders")).isEmpty();
        assertThat(read("t_orde")).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_tableOfAnotherDatabaseOnTheSameServer_isNotFound(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        try (TestDatabase other = TestDatabase.create(store, "Metadata")) {
            other.execute(OrderTable.ddl(store, "t_elsewhere"));

            assertThat(read("t_elsewhere")).isEmpty();
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_tableWithoutPrimaryKey_hasAnEmptyKey(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute("CREATE TABLE t_log (id BIGINT NOT NULL, message VARCHAR(100))");

        TableMetadata table = read("t_log").orElseThrow();

        assertThat(table.primaryKey()).isEmpty();
        assertThat(table.columns()).hasSize(2);
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void read_uniqueIndexes_listsEachBesidesThePrimaryKeyInIndexOrder(Store store) throws SQLException {
        db = TestDatabase.create(store, "Metadata");
        db.execute("CREATE TABLE t_account (id BIGINT NOT NULL PRIMARY KEY, email VARCHAR(64) NOT NULL,"
                        + " tenant INT NOT NULL, login VARCHAR(32) NOT NULL, note VARCHAR(20),"
                        + " CONSTRAINT uk_account_email UNIQUE (email), CONSTRAINT uk_account_login UNIQUE (login, tenant))",
                "CREATE INDEX ix_account_note ON t_account (note)");

        TableMetadata table = read("t_account").orElseThrow();

        assertThat(table.uniqueKeys()).extracting(unique -> unique.stream().map(String::toLowerCase).toList())
                .containsExactlyInAnyOrder(List.of("email"), List.of("login", "tenant"));
        assertThat(table.uniqueKeys()).allSatisfy(unique -> assertThat(unique)
                .allSatisfy(column -> assertThat(table.storedName(column)).isEqualTo(column)));
    }

    @Test
    void constructor_uniqueIndexColumnThatIsNotAColumn_isRejectedNamingItAndTheTable() {
        List<ColumnMetadata> columns = List.of(new ColumnMetadata("id", Types.BIGINT, "BIGINT", false, false));

        assertThatThrownBy(() -> new TableMetadata("t_user", null, columns, List.of("id"), List.of(List.of("email"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unique index column 'email' is not a column of table 't_user'");
    }

    @Test
    void constructor_keyColumnThatIsNotAColumn_isRejectedNamingItAndTheTable() {
        List<ColumnMetadata> columns = List.of(new ColumnMetadata("id", Types.BIGINT, "BIGINT", false, false));

        assertThatThrownBy(() -> new TableMetadata("t_order", null, columns, List.of("order_id")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("key column 'order_id' is not a column of table 't_order'");
    }

    /**
     * Declares the key as (sku, order_id), the reverse of the column order, and has one column of each
     * kind: auto-increment, plain NOT NULL, NOT NULL with a default, nullable, nullable with a default.
     */
    private static String itemDdl(Store store) {
        String autoIncrement = switch (store) {
            case H2, POSTGRESQL -> "BIGINT GENERATED BY DEFAULT AS IDENTITY";
            case MARIADB -> "BIGINT NOT NULL AUTO_INCREMENT UNIQUE";
        };
        return "CREATE TABLE t_item (line_id " + autoIncrement + ", order_id BIGINT NOT NULL,"
                + " sku VARCHAR(32) NOT NULL, qty INT DEFAULT 1 NOT NULL, price DECIMAL(12,2),"
                + " note VARCHAR(20) DEFAULT 'none', gmt_modified " + OrderTable.timestampType(store) + " NOT NULL,"
                + " PRIMARY KEY (sku, order_id))";
    }

    private static int jdbcType(TableMetadata table, String column) {
        return table.column(column).orElseThrow().jdbcType();
    }

    private Optional<TableMetadata> read(String table) throws SQLException {
        try (Connection connection = db.dataSource().getConnection()) {
            return TableMetadata.read(connection, table);
        }
    }
}
