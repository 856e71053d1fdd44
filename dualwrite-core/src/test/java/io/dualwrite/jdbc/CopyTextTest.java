package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.OffsetTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The COPY text of single values, without a server: escapes, NULL, eras, offsets, and the pairs refused. */
class CopyTextTest {

    private static String text(Object value, String type, int jdbcType) {
        StringBuilder out = new StringBuilder();
        ColumnMetadata column = new ColumnMetadata("c", jdbcType, type, true, false);
        new CopyText(out).append(value, CopyText.Kind.of(column), column);
        return out.toString();
    }

    @Test
    void text_escapesBackslashTabNewlineAndCarriageReturn_only() {
        assertThat(text("a\\b\tc\nd\re\u0001é", "text", Types.VARCHAR)).isEqualTo("a\\\\b\\tc\\nd\\re\u0001é");
    }

    @Test
    void nullAndTheEmptyString_stayApart_andTheTextBackslashN_isNotNull() {
        assertThat(text(null, "text", Types.VARCHAR)).isEqualTo("\\N");
        assertThat(text("", "text", Types.VARCHAR)).isEmpty();
        assertThat(text("\\N", "text", Types.VARCHAR)).isEqualTo("\\\\N");
    }

    @Test
    void timestamps_fullPrecision_roundedToTheMicrosecondHalfUp_withTheEra() {
        assertThat(text(LocalDateTime.of(2024, 1, 2, 3, 4, 5, 7_000_000), "timestamp", Types.TIMESTAMP))
                .isEqualTo("2024-01-02 03:04:05.007000000");
        assertThat(text(LocalDateTime.of(2024, 1, 2, 3, 4, 5), "timestamp", Types.TIMESTAMP))
                .isEqualTo("2024-01-02 03:04:05");
        assertThat(text(LocalDateTime.of(2024, 12, 31, 23, 59, 59, 999_999_500), "timestamp", Types.TIMESTAMP))
                .isEqualTo("2025-01-01 00:00:00");
        assertThat(text(LocalDateTime.of(0, 3, 1, 0, 0), "timestamp", Types.TIMESTAMP))
                .isEqualTo("0001-03-01 00:00:00 BC");
        assertThat(text(LocalDateTime.MAX, "timestamp", Types.TIMESTAMP)).isEqualTo("infinity");
        assertThat(text(OffsetDateTime.of(2024, 1, 2, 3, 4, 5, 0, ZoneOffset.ofHoursMinutesSeconds(-3, -30, -15)),
                "timestamptz", Types.TIMESTAMP)).isEqualTo("2024-01-02 03:04:05-03:30:15");
        assertThat(text(LocalDate.of(-44, 3, 15), "date", Types.DATE)).isEqualTo("0045-03-15 BC");
        assertThat(text(LocalTime.of(23, 59, 59, 1000), "time", Types.TIME)).isEqualTo("23:59:59.000001000");
        assertThat(text(OffsetTime.of(1, 2, 3, 0, ZoneOffset.ofHours(9)), "timetz", Types.TIME))
                .isEqualTo("01:02:03+09:00");
    }

    @Test
    void numbersBytesUuidsAndArrays() {
        assertThat(text(new BigDecimal("1E+3"), "numeric", Types.NUMERIC)).isEqualTo("1000");
        assertThat(text(new BigDecimal("-0.000010"), "numeric", Types.NUMERIC)).isEqualTo("-0.000010");
        assertThat(text(0.1f, "float8", Types.DOUBLE)).isEqualTo(String.valueOf((double) 0.1f));
        assertThat(text(0.1d, "float4", Types.REAL)).isEqualTo("0.1");
        assertThat(text(Boolean.TRUE, "bool", Types.BIT)).isEqualTo("t");
        assertThat(text(new byte[] {0, (byte) 0xab, '\\'}, "bytea", Types.BINARY)).isEqualTo("\\\\x00ab5c");
        UUID id = UUID.randomUUID();
        assertThat(text(id, "uuid", Types.OTHER)).isEqualTo(id.toString());
        assertThat(text(List.of("a\"b", "c\\d"), "_text", Types.ARRAY)).isEqualTo("{\"a\\\\\"b\",\"c\\\\\\\\d\"}");
        assertThat(text(java.util.Arrays.asList(1, null), "_int4", Types.ARRAY)).isEqualTo("{\"1\",NULL}");
    }

    /** Pairs whose text the server would read otherwise than the batched upsert's parameter: refused. */
    @Test
    void pairsWithoutAnExactText_areRefused() {
        assertThatThrownBy(() -> text(0.1d, "numeric", Types.NUMERIC)).isInstanceOf(CopyText.Unsupported.class)
                .hasMessageContaining("java.lang.Double in column 'c' of type numeric");
        assertThatThrownBy(() -> text("12", "int4", Types.INTEGER)).isInstanceOf(CopyText.Unsupported.class);
        assertThatThrownBy(() -> text(new BigDecimal("1.5"), "int4", Types.INTEGER))
                .isInstanceOf(CopyText.Unsupported.class);
        assertThatThrownBy(() -> text(OffsetDateTime.now(), "timestamp", Types.TIMESTAMP))
                .isInstanceOf(CopyText.Unsupported.class);
        assertThatThrownBy(() -> text(1e300, "float4", Types.REAL)).isInstanceOf(CopyText.Unsupported.class);
        assertThatThrownBy(() -> text(new Object(), "mood", Types.VARCHAR)).isInstanceOf(CopyText.Unsupported.class);
    }
}
