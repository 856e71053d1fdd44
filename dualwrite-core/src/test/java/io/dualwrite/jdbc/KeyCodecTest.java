package io.dualwrite.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.jdbc.Dialect.Product;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Each key column type takes every form a key arrives in to one value, and refuses what does not fit. */
class KeyCodecTest {

    private static final UUID ID = UUID.fromString("6f1c2a4e-0b7d-4c55-9a3e-2d1f0c8b7a69");
    private static final byte[] ID_BYTES = {0x6f, 0x1c, 0x2a, 0x4e, 0x0b, 0x7d, 0x4c, 0x55, (byte) 0x9a, 0x3e, 0x2d, 0x1f,
            0x0c, (byte) 0x8b, 0x7a, 0x69};

    private static KeyCodec codec(int jdbcType, String typeName, int size, int scale, Product product) {
        return codec(new ColumnMetadata("k", jdbcType, typeName, false, false, size, scale), product);
    }

    private static KeyCodec codec(ColumnMetadata column, Product product) {
        return KeyCodec.of("t_key", column, product);
    }

    private static void assertOneForm(KeyCodec codec, Object expected, Object... forms) {
        for (Object form : forms) {
            assertThat(codec.canonical(form)).as("%s", form).isEqualTo(expected);
            assertThat(codec.canonical(codec.canonical(form))).as("canonical twice").isEqualTo(expected);
        }
    }

    @Test
    void integer_everyWholeNumberAndItsDigits_becomeOneLong() {
        KeyCodec codec = codec(Types.BIGINT, "BIGINT", 19, 0, Product.POSTGRESQL);

        assertOneForm(codec, 42L, 42, 42L, (short) 42, new BigInteger("42"), new BigDecimal("42.00"), " 42 ");
        assertThat(codec.canonical(new BigInteger("18446744073709551615"))).isEqualTo(
                new BigInteger("18446744073709551615"));
        assertThatThrownBy(() -> codec.canonical("4.5")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("key value '4.5' (String) does not fit key column 'k' of table 't_key',"
                        + " of type BIGINT");
    }

    @Test
    void decimal_takesTheColumnsScale() {
        KeyCodec codec = codec(Types.DECIMAL, "DECIMAL", 10, 2, Product.MARIADB);

        assertOneForm(codec, new BigDecimal("12.50"), new BigDecimal("12.5"), "12.500", new BigDecimal("12.50"));
        assertOneForm(codec, new BigDecimal("7.00"), 7, 7L);
        assertThatThrownBy(() -> codec.canonical(new BigDecimal("1.234"))).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void uuidColumn_textInAnyCaseBytesAndUuid_becomeOneUuid_boundAsTheDriverTakesIt() {
        KeyCodec postgres = codec(Types.OTHER, "uuid", 2147483647, 0, Product.POSTGRESQL);
        KeyCodec mariadb = codec(Types.OTHER, "UUID", 36, 0, Product.MARIADB);

        assertOneForm(postgres, ID, ID, ID.toString(), ID.toString().toUpperCase(), " " + ID + " ", ID_BYTES.clone(),
                KeyBytes.of(ID_BYTES));
        assertThat(postgres.bindable(ID)).isEqualTo(ID);
        assertThat(mariadb.canonical(ID.toString())).isEqualTo(ID);
        assertThat(mariadb.bindable(ID)).isEqualTo(ID.toString());
        assertThatThrownBy(() -> postgres.canonical("1-2-3-4-5")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not a uuid");
    }

    @Test
    void fixedChar_paddedAndStripped_becomeOneText_uuidsAsTheirText() {
        KeyCodec codec = codec(Types.CHAR, "bpchar", 8, 0, Product.POSTGRESQL);
        KeyCodec char36 = codec(Types.CHAR, "CHAR", 36, 0, Product.MARIADB);

        assertOneForm(codec, "k1", "k1", "k1      ");
        assertOneForm(char36, ID.toString(), ID, ID.toString());
    }

    @Test
    void varchar_keepsTrailingSpacesAndCase_butFoldsAsItsCollationCompares() {
        KeyCodec exact = codec(Types.VARCHAR, "varchar", 20, 0, Product.POSTGRESQL);
        KeyCodec ci = codec(new ColumnMetadata("k", Types.VARCHAR, "VARCHAR", false, false, 20, 0,
                "utf8mb4_general_ci"), Product.MARIADB);
        KeyCodec nopadBin = codec(new ColumnMetadata("k", Types.VARCHAR, "VARCHAR", false, false, 20, 0,
                "utf8mb4_nopad_bin"), Product.MARIADB);
        KeyCodec citext = codec(Types.OTHER, "citext", 0, 0, Product.POSTGRESQL);

        assertThat(exact.canonical("ab ")).isEqualTo("ab ");
        assertThat(exact.folds()).isFalse();
        assertThat(ci.canonical("Ab ")).as("the text as given is what is bound and sent on").isEqualTo("Ab ");
        assertThat(ci.folded(ci.canonical("Ab "))).isEqualTo(ci.folded(ci.canonical("ab")))
                .isEqualTo(ci.folded("Áb")).isEqualTo("ab");
        assertThat(nopadBin.folds()).isFalse();
        assertThat(citext.folded("Ab")).isEqualTo("ab");
        assertThat(citext.folded("ab ")).isEqualTo("ab ");
        assertThat(exact.canonical(42L)).isEqualTo("42");
    }

    @Test
    void binary_bytesCompareByContent_fixedLengthIsZeroPadded() {
        KeyCodec bytea = codec(Types.BINARY, "bytea", 2147483647, 0, Product.POSTGRESQL);
        KeyCodec binary16 = codec(Types.BINARY, "BINARY", 16, 0, Product.MARIADB);

        assertOneForm(bytea, KeyBytes.of(new byte[] {1, 2, 0}), new byte[] {1, 2, 0}, KeyBytes.of(new byte[] {1, 2, 0}));
        assertOneForm(binary16, KeyBytes.of(ID_BYTES), ID_BYTES.clone(), ID, ID.toString());
        assertThat(binary16.canonical(new byte[] {7})).isEqualTo(KeyBytes.of(new byte[] {7, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0, 0, 0, 0, 0, 0}));
        assertThat(binary16.bindable(KeyBytes.of(ID_BYTES))).isEqualTo(ID_BYTES);
        assertThatThrownBy(() -> binary16.canonical(new byte[17])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("17 bytes do not fit BINARY(16)");
    }

    @Test
    void dateTimeAndTimestamps_driverClassesAndIsoText_becomeJavaTime() {
        KeyCodec date = codec(Types.DATE, "date", 10, 0, Product.POSTGRESQL);
        KeyCodec time = codec(Types.TIME, "time", 8, 0, Product.H2);
        KeyCodec timestamp = codec(Types.TIMESTAMP, "DATETIME", 23, 3, Product.MARIADB);
        KeyCodec timestamptz = codec(Types.TIMESTAMP, "timestamptz", 35, 6, Product.POSTGRESQL);
        LocalDateTime at = LocalDateTime.of(2026, 1, 2, 3, 4, 5, 678_000_000);

        assertOneForm(date, LocalDate.of(2026, 1, 2), LocalDate.of(2026, 1, 2), java.sql.Date.valueOf("2026-01-02"),
                "2026-01-02", LocalDateTime.of(2026, 1, 2, 0, 0));
        assertThatThrownBy(() -> date.canonical(at)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("a date has no time of day");
        assertOneForm(time, LocalTime.of(3, 4, 5), java.sql.Time.valueOf("03:04:05"), "03:04:05");
        assertOneForm(timestamp, at, at, Timestamp.valueOf(at), "2026-01-02 03:04:05.678", "2026-01-02T03:04:05.678");
        OffsetDateTime utc = OffsetDateTime.of(at, ZoneOffset.UTC);
        assertOneForm(timestamptz, utc, utc, utc.withOffsetSameInstant(ZoneOffset.ofHours(2)), utc.toInstant(),
                Timestamp.from(utc.toInstant()), "2026-01-02T05:04:05.678+02:00");
    }

    @Test
    void bool_numbersAndText_becomeBoolean() {
        KeyCodec codec = codec(Types.BOOLEAN, "boolean", 1, 0, Product.H2);

        assertOneForm(codec, true, true, 1, "1", "true", "TRUE");
        assertOneForm(codec, false, false, 0L, "false");
    }

    @Test
    void unsupported_approximateNumbersLargeObjectsAndJson_sayWhy() {
        assertThat(KeyCodec.unsupported(new ColumnMetadata("k", Types.DOUBLE, "DOUBLE", false, false)))
                .hasValueSatisfying(reason -> assertThat(reason).startsWith("has type DOUBLE, which dualwrite cannot"
                        + " use as a key: approximate numbers do not compare exactly"));
        assertThat(KeyCodec.unsupported(new ColumnMetadata("k", Types.BLOB, "BLOB", false, false))).isPresent();
        assertThat(KeyCodec.unsupported(new ColumnMetadata("k", Types.OTHER, "jsonb", false, false)))
                .hasValueSatisfying(reason -> assertThat(reason).contains("dualwrite has no key form for it"));
        assertThat(KeyCodec.unsupported(new ColumnMetadata("k", Types.OTHER, "uuid", false, false))).isEmpty();
        assertThatThrownBy(() -> KeyCodec.of("t_score", new ColumnMetadata("score", Types.REAL, "REAL", false, false),
                Product.H2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("key column 'score' of table 't_score' has type REAL");
    }

    @Test
    void rowKeyJson_ofCanonicalValues_comesBackToTheSameKeyThroughTheCodecs() {
        List<KeyCodec> codecs = List.of(codec(Types.OTHER, "uuid", 0, 0, Product.POSTGRESQL),
                codec(Types.VARBINARY, "VARBINARY", 16, 0, Product.MARIADB), codec(Types.DATE, "DATE", 10, 0,
                        Product.H2), codec(Types.TIMESTAMP, "TIMESTAMP", 26, 6, Product.H2));
        RowKey key = RowKey.of(ID, KeyBytes.of(new byte[] {0, (byte) 0xff}), LocalDate.of(2026, 1, 2),
                LocalDateTime.of(2026, 1, 2, 3, 4, 5, 6000));

        RowKey decoded = RowKey.fromJson(key.toJson());
        List<Object> values = new java.util.ArrayList<>();
        for (int i = 0; i < codecs.size(); i++) {
            values.add(codecs.get(i).canonical(decoded.get(i)));
        }

        assertThat(key.toJson()).isEqualTo("[\"" + ID + "\",{\"base64\":\"AP8=\"},\"2026-01-02\",\"2026-01-02T03:04:05.000006\"]");
        assertThat(RowKey.of(values)).isEqualTo(key);
    }
}
