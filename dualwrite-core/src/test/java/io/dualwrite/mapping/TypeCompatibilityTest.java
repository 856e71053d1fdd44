package io.dualwrite.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Start-up checks every mapped column's source type, target type and converter together: a pair that
 * would fail every row it meets is reported before the first row moves, all of them in one message, each
 * with the property that fixes it; pairs the library carries (as they are, or through the converter the
 * pair implies) are not.
 */
class TypeCompatibilityTest {

    private static final String MARIADB_DDL = "CREATE TABLE t_item (id BIGINT NOT NULL PRIMARY KEY, code VARCHAR(10),"
            + " qty INT, price DECIMAL(10,2), tags VARCHAR(100), status VARCHAR(10), shipped_on DATETIME,"
            + " flag TINYINT(1), gmt_modified DATETIME(3) NOT NULL)";
    private static final String POSTGRES_DDL = "CREATE TABLE t_item (id BIGINT NOT NULL PRIMARY KEY, code integer,"
            + " qty text, price integer, tags text[], status text, shipped_on date, flag boolean,"
            + " gmt_modified timestamp(3) NOT NULL)";

    private TestDatabase mariadb;
    private TestDatabase postgres;

    @AfterEach
    void close() {
        if (mariadb != null) {
            mariadb.close();
        }
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void resolve_incompatibleColumnPairs_failsNamingEachWithThePropertyAndConverterThatFit() {
        stores();
        TableMapping mapping = TableMapping.builder("t_item")
                .convert("status", Converters.codeToText(Map.of(0, "NEW", 1, "PAID"))).build();

        assertThatThrownBy(() -> resolve(mapping)).isInstanceOfSatisfying(MappingException.class, e ->
                assertThat(e.problems()).containsExactly(
                        "dualwrite.tables.t_item.convert.code.type: column 'code' (VARCHAR) of source table 't_item'"
                                + " goes to column 'code' (int4) of target table 't_item': a text cannot be written"
                                + " to an integer column as it is; no built-in conversion fits: change the target"
                                + " column's type, leave the column out, or map the table with a RowTransformer",
                        "dualwrite.tables.t_item.convert.qty.type: column 'qty' (INT) of source table 't_item'"
                                + " goes to column 'qty' (text) of target table 't_item': an integer cannot be written"
                                + " to a text column as it is; set it to NUMBER_TO_STRING (or CODE_TO_TEXT for a code"
                                + " table)",
                        "dualwrite.tables.t_item.convert.price.type: column 'price' (DECIMAL) of source table"
                                + " 't_item' goes to column 'price' (int4) of target table 't_item': a decimal cannot"
                                + " be written to an integer column as it is; the target would round it; set it to"
                                + " DECIMAL_TO_MINOR_UNITS with the source's scale (2)",
                        "dualwrite.tables.t_item.convert.tags.type: column 'tags' (VARCHAR) of source table 't_item'"
                                + " goes to column 'tags' (_text) of target table 't_item': a text cannot be written to"
                                + " an array column as it is; set it to SET_TO_ARRAY for comma-separated text",
                        "dualwrite.tables.t_item.convert.status.type: column 'status' (VARCHAR) of source table"
                                + " 't_item' goes to column 'status' (text) of target table 't_item':"
                                + " Converters.codeToText({0=NEW, 1=PAID}) reads an integer, not a text"));
    }

    /** BIGINT UNSIGNED into bigint passed the check, and every value from 2^63 up failed at run time. */
    @Test
    void resolve_unsignedIntoANarrowerInteger_failsNamingTheWidthToGive() throws SQLException {
        mariadb = TestDatabase.create(Store.MARIADB, "tcwide");
        postgres = TestDatabase.create(Store.POSTGRESQL, "tcwide");
        mariadb.execute("CREATE TABLE t_wide (id BIGINT NOT NULL PRIMARY KEY, big BIGINT UNSIGNED, mid INT UNSIGNED,"
                + " small SMALLINT UNSIGNED, yr YEAR, fits INT UNSIGNED, gmt_modified DATETIME(3) NOT NULL)");
        postgres.execute("CREATE TABLE t_wide (id BIGINT NOT NULL PRIMARY KEY, big bigint, mid integer,"
                + " small smallint, yr smallint, fits bigint, gmt_modified timestamp(3) NOT NULL)");

        assertThatThrownBy(() -> MappedTables.resolve(List.of(TableMapping.builder("t_wide").build()),
                mariadb.dataSource(), postgres.dataSource(), false)).isInstanceOfSatisfying(MappingException.class,
                        e -> assertThat(e.problems()).satisfiesExactly(
                                big -> assertThat(big).startsWith("dualwrite.tables.t_wide.convert.big.type:")
                                        .contains("need 64 bits and the target column holds 63 (int8)")
                                        .endsWith("widen the target column to numeric(20)"),
                                mid -> assertThat(mid).contains("column 'mid'").endsWith("to bigint"),
                                small -> assertThat(small).contains("column 'small'").endsWith("to integer")));

        postgres.execute("ALTER TABLE t_wide ALTER COLUMN big TYPE numeric(20), ALTER COLUMN mid TYPE bigint,"
                + " ALTER COLUMN small TYPE integer");
        assertThat(MappedTables.resolve(List.of(TableMapping.builder("t_wide").build()), mariadb.dataSource(),
                postgres.dataSource(), false).get("t_wide")).isNotNull();
    }

    @Test
    void resolve_theConvertersTheMessageNames_resolveAndImplyTheRest() throws SQLException {
        stores();
        mariadb.execute("ALTER TABLE t_item DROP COLUMN code, DROP COLUMN status");
        postgres.execute("ALTER TABLE t_item DROP COLUMN code, DROP COLUMN status");
        TableMapping mapping = TableMapping.builder("t_item")
                .convert("qty", Converters.numberToString(Integer.class))
                .convert("price", Converters.decimalToMinorUnits(2))
                .convert("tags", Converters.setToArray()).build();

        MappedTable table = resolve(mapping).get("t_item");

        assertThat(table.converters()).containsOnlyKeys("qty", "price", "tags", "shipped_on", "flag");
        assertThat(table.converters().get("shipped_on")).hasToString("Converters.dateTimeToDate()");
        assertThat(table.converters().get("flag")).hasToString("inverse of Converters.booleanToNumber()");
    }

    private void stores() {
        mariadb = TestDatabase.create(Store.MARIADB, "typecheck_src");
        postgres = TestDatabase.create(Store.POSTGRESQL, "typecheck_tgt");
        mariadb.execute(MARIADB_DDL);
        postgres.execute(POSTGRES_DDL);
    }

    private MappedTables resolve(TableMapping mapping) throws SQLException {
        return MappedTables.resolve(List.of(mapping), mariadb.dataSource(), postgres.dataSource(), false);
    }
}
