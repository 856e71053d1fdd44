package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Keyed reads of a MariaDB table whose composite key holds a column in another character set than the
 * connection's {@code utf8mb4}. MariaDB's {@code (u, l) IN ((?, ?), (?, ?))} compared {@code latin1} column
 * {@code l} with the bound values unconverted, so every non-ASCII value matched no row: the mirror read
 * present rows as absent and deleted them on the target.
 */
class TableOpsCharacterSetTest {

    @Test
    void readByKeys_severalCompositeKeysWithALatin1Part_findsEveryRow() throws Exception {
        try (TestDatabase db = TestDatabase.create(Store.MARIADB, "cs_ops")) {
            db.execute("CREATE TABLE t_key (u VARCHAR(20) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,"
                    + " l VARCHAR(20) CHARACTER SET latin1 COLLATE latin1_bin NOT NULL, label VARCHAR(20),"
                    + " PRIMARY KEY (u, l))");
            db.execute("INSERT INTO t_key VALUES ('straße', 'Café', 'moved'), ('Ärger', 'é', 'b'), ('ab', 'cd', 'c')");
            try (Connection connection = db.dataSource().getConnection()) {
                TableMetadata table = TableMetadata.read(connection, "t_key").orElseThrow();
                TableOps ops = new TableOps(Dialect.of(connection), table, List.of("u", "l", "label"),
                        List.of("u", "l"), null);

                Map<RowKey, Row> found = ops.readByKeys(connection, List.of(RowKey.of("Straße", "café"),
                        RowKey.of("Ärger", "é"), RowKey.of("zz", "z"), RowKey.of("straße", "Café"),
                        RowKey.of("ab", "cd")), false);
                Map<RowKey, Row> locked = ops.readByKeys(connection, List.of(RowKey.of("Ärger", "é"),
                        RowKey.of("straße", "Café")), true);

                assertThat(found).containsOnlyKeys(RowKey.of("Ärger", "é"), RowKey.of("straße", "Café"),
                        RowKey.of("ab", "cd"));
                assertThat(found.get(RowKey.of("straße", "Café")).get("label")).isEqualTo("moved");
                assertThat(locked).containsOnlyKeys(RowKey.of("Ärger", "é"), RowKey.of("straße", "Café"));
            }
        }
    }

    @Test
    void keyIn_spellsCompositeKeysAsEqualitiesOnMariaDb_andAsRowValuesElsewhere() {
        List<String> columns = List.of("`u`", "`l`");

        assertThat(Dialect.forProduct(Dialect.Product.MARIADB).keyIn(columns, 2))
                .isEqualTo("((`u` = ? AND `l` = ?) OR (`u` = ? AND `l` = ?))");
        assertThat(Dialect.forProduct(Dialect.Product.MARIADB).keyIn(List.of("`u`"), 2)).isEqualTo("`u` IN (?, ?)");
        assertThat(Dialect.forProduct(Dialect.Product.POSTGRESQL).keyIn(List.of("\"u\"", "\"l\""), 2))
                .isEqualTo("(\"u\", \"l\") IN ((?, ?), (?, ?))");
    }
}
