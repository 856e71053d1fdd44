package io.dualwrite.cdc.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Reading the key out of Debezium records as Kafka Connect's JsonConverter writes them: composite keys of text
 * and {@code Decimal} (precise mode: base64 of the unscaled bytes), with and without the schema envelope, and the
 * refusals of what is not a key of the mapped table.
 */
class DebeziumEventTest {

    private static final String KEY_SCHEMA = "{\"type\":\"struct\",\"optional\":false,\"name\":\"shop.db.t_price.Key\","
            + "\"fields\":[{\"type\":\"string\",\"optional\":false,\"field\":\"sku\"},{\"type\":\"bytes\","
            + "\"optional\":false,\"name\":\"org.apache.kafka.connect.data.Decimal\",\"version\":1,\"parameters\":"
            + "{\"scale\":\"2\",\"connect.decimal.precision\":\"10\"},\"field\":\"price\"}]}";

    private static DebeziumEvent.Outcome read(DebeziumEvent event, String key, String value) {
        return event.read(key == null ? null : key.getBytes(StandardCharsets.UTF_8),
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void compositeKeysOfTextAndDecimal_withAndWithoutSchemas_andTheRefusals() throws Exception {
        try (TestDatabase db = TestDatabase.create(Store.H2, "dbz_event");
                TestDatabase other = TestDatabase.create(Store.H2, "dbz_event_t")) {
            for (TestDatabase d : List.of(db, other)) {
                d.execute("CREATE TABLE t_price (sku VARCHAR(20) NOT NULL, price DECIMAL(10,2) NOT NULL,"
                        + " valid_from DATE, PRIMARY KEY (sku, price))");
            }
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_price").noVersionColumn().build()),
                    db.dataSource(), other.dataSource(), false);
            DebeziumEvent event = new DebeziumEvent(tables.get("t_price"));
            // 12.34 with scale 2: unscaled 1234 = 0x04D2
            String price = Base64.getEncoder().encodeToString(new BigDecimal("12.34").unscaledValue().toByteArray());
            String key = "{\"schema\":" + KEY_SCHEMA + ",\"payload\":{\"sku\":\"A-1\",\"price\":\"" + price + "\"}}";
            String update = "{\"schema\":{\"type\":\"struct\"},\"payload\":{\"before\":null,\"after\":{\"sku\":\"A-1\"},"
                    + "\"source\":{\"table\":\"t_price\"},\"op\":\"u\"}}";

            DebeziumEvent.Outcome outcome = read(event, key, update);
            assertThat(outcome.isRefused()).as(String.valueOf(outcome.refusal())).isFalse();
            assertThat(outcome.key()).isEqualTo(RowKey.of("A-1", new BigDecimal("12.34")));
            assertThat(outcome.tombstone()).isFalse();

            DebeziumEvent.Outcome tombstone = read(event, key, null);
            assertThat(tombstone.key()).isEqualTo(RowKey.of("A-1", new BigDecimal("12.34")));
            assertThat(tombstone.tombstone()).isTrue();

            // schemas.enable=false: the decimal as Debezium's decimal.handling.mode=string or double writes it.
            DebeziumEvent.Outcome plain = read(event, "{\"price\":\"12.34\",\"SKU\":\"A-1\"}",
                    "{\"op\":\"d\",\"before\":{\"sku\":\"A-1\"},\"after\":null,\"source\":{\"table\":\"T_PRICE\"}}");
            assertThat(plain.key()).isEqualTo(RowKey.of("A-1", new BigDecimal("12.34")));

            assertThat(read(event, "{\"sku\":\"A-1\"}", null).refusal())
                    .isEqualTo("the key has no field 'PRICE', a key column of the table");
            assertThat(read(event, "{\"sku\":\"A-1\",\"price\":1.5,\"valid_from\":19000}", null).refusal())
                    .isEqualTo("the key has field(s) [valid_from] that are not key columns of the table (its key is"
                            + " [SKU, PRICE]): the table's key changed, a schema change");
            assertThat(read(event, "{\"sku\":null,\"price\":1.5}", null).refusal())
                    .isEqualTo("key column 'SKU' is null");
            assertThat(read(event, "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int32\",\"name\":"
                    + "\"io.debezium.time.Date\",\"field\":\"price\"},{\"type\":\"string\",\"field\":\"sku\"}]},"
                    + "\"payload\":{\"sku\":\"A-1\",\"price\":19000}}", null).refusal())
                    .isEqualTo("key column 'PRICE' is logged as io.debezium.time.Date, which this consumer does not"
                            + " read keys from yet (integers, decimals, text, binary and booleans)");
            assertThat(read(event, null, update).refusal()).startsWith("a record without a key");
            assertThat(read(event, "not json", update).refusal()).startsWith("the record key is not JSON");
            assertThat(read(event, key, "{\"payload\":{\"op\":\"x\"},\"schema\":{}}").refusal())
                    .isEqualTo("an unknown Debezium operation 'x'");
            assertThat(read(event, key, "{\"before\":null,\"after\":{}}").refusal())
                    .isEqualTo("the record value has no Debezium 'op' field; fields [before, after]");
        }
    }
}
