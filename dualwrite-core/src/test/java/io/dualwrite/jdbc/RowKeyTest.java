package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import org.junit.jupiter.api.Test;

/** Keys as library tables store them: JSON arrays that come back equal to the key written. */
class RowKeyTest {

    @Test
    void toJsonThenFromJson_textNumbersAndCompositeKeys_comeBackEqual() {
        RowKey[] keys = {RowKey.of(42), RowKey.of("ORD-1"), RowKey.of("1"), RowKey.of("eu", 7L),
                RowKey.of(new BigInteger("123456789012345678901234567890")), RowKey.of("Grüße \"x\"\n")};

        for (RowKey key : keys) {
            assertThat(RowKey.fromJson(key.toJson())).as(key.toJson()).isEqualTo(key);
        }
        assertThat(RowKey.of("eu", 7L).toJson()).isEqualTo("[\"eu\",7]");
    }

    /** Regression: decimals came back as doubles (12.5d), so a key read from a DECIMAL column never matched. */
    @Test
    void toJsonThenFromJson_decimalKey_comesBackAsTheSameDecimal() {
        RowKey key = RowKey.of(new BigDecimal("12.50"), new BigDecimal("0.1"), new BigDecimal("1E-12"));

        assertThat(key.toJson()).isEqualTo("[12.50,0.1,0.000000000001]");
        assertThat(RowKey.fromJson(key.toJson())).isEqualTo(key);
    }

    @Test
    void fromJson_textThatIsNotAKey_isRefused() {
        assertThatThrownBy(() -> RowKey.fromJson("{\"id\": 1")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("'{\"id\": 1' is not a key written by dualwrite");
        assertThatThrownBy(() -> RowKey.fromJson("[]")).isInstanceOf(IllegalArgumentException.class);
    }
}
