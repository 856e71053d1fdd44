package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.Timestamp;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Decimal values keep every digit through the guarded upsert, on its insert and on its conflict path: on
 * PostgreSQL they are bound as their exact text for a numeric column (not by the driver's binary encoding),
 * and a decimal bound for an integer column still goes the driver's way.
 */
class DecimalColumnTest {

    private TestDatabase db;

    @AfterEach
    void close() {
        if (db != null) {
            db.close();
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void upsertAndOverwrite_decimals_keepEveryDigit(Store store) throws Exception {
        db = TestDatabase.create(store, "decimal");
        // An unconstrained numeric keeps the scale it is given on PostgreSQL; the others need a precision.
        String free = store == Store.POSTGRESQL ? "NUMERIC" : "DECIMAL(38,9)";
        db.execute("CREATE TABLE t_amount (id BIGINT NOT NULL PRIMARY KEY, amount DECIMAL(38,9), free " + free
                + ", count_of BIGINT, gmt_modified TIMESTAMP(3) NOT NULL)");
        List<BigDecimal> values = List.of(new BigDecimal("12345678901234567890.123456789"),
                new BigDecimal("-0.000000001"), new BigDecimal("1E+3"), new BigDecimal("0.10"), BigDecimal.ZERO);
        TableOps ops;
        try (Connection connection = db.dataSource().getConnection()) {
            connection.setAutoCommit(false);
            ops = new TableOps(Dialect.of(connection), TableMetadata.read(connection, "t_amount").orElseThrow(),
                    List.of("id", "amount", "free", "count_of", "gmt_modified"), List.of("id"), "gmt_modified");
            for (int i = 0; i < values.size(); i++) {
                ops.upsert(connection, List.of(row(i, new BigDecimal("1.5"), 1000)));
            }
            connection.commit();
            // The conflict path: every row differs in its decimals only, and must be rewritten.
            for (int i = 0; i < values.size(); i++) {
                ops.overwrite(connection, List.of(row(i, values.get(i), 1000)));
            }
            connection.commit();

            Map<RowKey, Row> rows = ops.readByKeys(connection,
                    List.of(RowKey.of(0L), RowKey.of(1L), RowKey.of(2L), RowKey.of(3L), RowKey.of(4L)), false);
            for (int i = 0; i < values.size(); i++) {
                Row read = rows.get(RowKey.of((long) i));
                assertThat((BigDecimal) read.get("amount")).as("amount of row %d", i).isEqualByComparingTo(values.get(i));
                assertThat((BigDecimal) read.get("free")).as("free of row %d", i).isEqualByComparingTo(values.get(i));
                assertThat(((Number) read.get("count_of")).longValue()).as("count_of of row %d", i).isEqualTo(7L);
            }
            if (store == Store.POSTGRESQL) {
                assertThat((BigDecimal) rows.get(RowKey.of(3L)).get("free")).hasScaleOf(2);
                assertThat(db.queryForObject("SELECT free::text FROM t_amount WHERE id = 0", String.class))
                        .isEqualTo("12345678901234567890.123456789");
            }
        }
    }

    private static Row row(long id, BigDecimal amount, long modified) {
        Map<String, Object> values = new LinkedHashMap<>();
        values.put("id", id);
        values.put("amount", amount);
        values.put("free", amount);
        // A decimal for an integer column: the server converts it by assignment, as before ('7.0' as text would
        // not be a bigint).
        values.put("count_of", new BigDecimal("7.0"));
        values.put("gmt_modified", new Timestamp(modified));
        return Row.of(values);
    }
}
