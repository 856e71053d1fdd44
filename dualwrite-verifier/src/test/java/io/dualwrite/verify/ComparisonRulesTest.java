package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import org.junit.jupiter.api.Test;

/** The value normalisation shared by double reads and the reconciler. */
class ComparisonRulesTest {

    private static final ZoneId PARIS = ZoneId.of("Europe/Paris");

    private static boolean same(Object a, Object b) {
        return Values.same(a, b, Values.Kind.PLAIN, ChronoUnit.MILLIS, PARIS);
    }

    @Test
    void numbers_compareByValue_whateverTheirClassAndScale() {
        assertThat(same(new BigDecimal("10.50"), new BigDecimal("10.5000"))).isTrue();
        assertThat(same(7, 7L)).isTrue();
        assertThat(same(new BigDecimal("7"), 7L)).isTrue();
        assertThat(same(new BigDecimal("10.51"), new BigDecimal("10.5"))).isFalse();
    }

    @Test
    void nanAndInfinities_equalThemselves_neverADecimal() {
        assertThat(same(Double.NaN, Double.NaN)).isTrue();
        assertThat(same(Float.NaN, Double.NaN)).isTrue();
        assertThat(same(Double.POSITIVE_INFINITY, Float.POSITIVE_INFINITY)).isTrue();
        assertThat(same(Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY)).isFalse();
        assertThat(same(Double.NaN, 0.0d)).isFalse();
        assertThat(same(Double.POSITIVE_INFINITY, new BigDecimal("1E+308"))).isFalse();
        assertThat(Values.normalise(Double.NaN, PARIS)).isEqualTo(Double.NaN);
    }

    @Test
    void realAgainstDouble_comparesAtTheRealsPrecision() {
        // A REAL column's 0.1f, written to a DOUBLE column, reads back as 0.10000000149011612.
        assertThat(same(0.1f, (double) 0.1f)).isTrue();
        assertThat(same((double) 0.1f, 0.1f)).isTrue();
        assertThat(same(0.1f, 0.2d)).isFalse();
        assertThat(same(0.1d, 0.10000000149011612d)).as("two doubles keep the double's precision").isFalse();
        assertThat(same(0.5d, new BigDecimal("0.50"))).isTrue();
    }

    @Test
    void uuids_equalTheirTextInAnyCaseAndTheirSixteenBytes() {
        java.util.UUID id = java.util.UUID.fromString("6f1c2a4e-0b7d-4c55-9a3e-2d1f0c8b7a69");
        byte[] bytes = java.nio.ByteBuffer.allocate(16).putLong(id.getMostSignificantBits())
                .putLong(id.getLeastSignificantBits()).array();

        assertThat(same(id, id.toString())).isTrue();
        assertThat(same(id.toString().toUpperCase(java.util.Locale.ROOT), id)).isTrue();
        assertThat(same(id, bytes)).isTrue();
        assertThat(same(id, "6f1c2a4e-0b7d-4c55-9a3e-2d1f0c8b7a6a")).isFalse();
        assertThat(same(id, "not a uuid")).isFalse();
        assertThat(same(id.toString(), id.toString().toUpperCase(java.util.Locale.ROOT))).as("text stays text")
                .isFalse();
    }

    @Test
    void booleans_equalOneAndZero() {
        assertThat(same(true, 1)).isTrue();
        assertThat(same(false, (short) 0)).isTrue();
        assertThat(same(true, 0)).isFalse();
    }

    @Test
    void timestamps_equalWithinThePrecision_cutOrRounded_andAcrossZones() {
        LocalDateTime micros = LocalDateTime.parse("2025-03-01T10:00:00.123999");
        assertThat(same(micros, Timestamp.valueOf("2025-03-01 10:00:00.123"))).as("cut").isTrue();
        assertThat(same(micros, LocalDateTime.parse("2025-03-01T10:00:00.124"))).as("rounded").isTrue();
        assertThat(same(micros, LocalDateTime.parse("2025-03-01T10:00:00.125"))).isFalse();
        assertThat(same(LocalDateTime.parse("2025-03-01T10:00:00"),
                OffsetDateTime.of(2025, 3, 1, 9, 0, 0, 0, ZoneOffset.UTC))).as("10:00 in Paris is 09:00 UTC").isTrue();
        assertThat(Values.same(LocalDateTime.parse("2025-03-01T10:00:00.4"), LocalDateTime.parse("2025-03-01T10:00:00"),
                Values.Kind.PLAIN, ChronoUnit.SECONDS, PARIS)).isTrue();
    }

    @Test
    void trailingSpaces_matterOnlyInCharColumns() {
        assertThat(Values.same("EU ", "EU", new Values.Kind(true, false, false, false), ChronoUnit.MILLIS, PARIS)).isTrue();
        assertThat(same("EU ", "EU")).isFalse();
    }

    @Test
    void jsonColumns_compareAsJson() {
        Values.Kind json = new Values.Kind(false, true, false, false);
        assertThat(Values.same("{\"a\": 1, \"b\": [1, 2]}", "{\"b\":[1,2],\"a\":1}", json, ChronoUnit.MILLIS, PARIS))
                .isTrue();
        assertThat(Values.same("{\"a\": 1}", "{\"a\": 2}", json, ChronoUnit.MILLIS, PARIS)).isFalse();
    }

    @Test
    void nullEqualsOnlyNull() {
        assertThat(same(null, null)).isTrue();
        assertThat(same(null, "")).isFalse();
        assertThat(same("x", null)).isFalse();
    }

    @Test
    void builder_rejectsBadSettings_namingTheProperty() {
        assertThatThrownBy(() -> ComparisonRules.builder().timestampPrecision(ChronoUnit.MINUTES))
                .hasMessage("dualwrite.verify.timestamp-precision: must be NANOS, MICROS, MILLIS or SECONDS, was Minutes");
        assertThatThrownBy(() -> ComparisonRules.builder().mask("t_order", " "))
                .hasMessage("dualwrite.verify.tables.t_order.mask-columns: a column name is blank");
        assertThatThrownBy(() -> DoubleReadConfig.builder().sampleRate(1.5))
                .hasMessage("dualwrite.verify.sample-rate: must be between 0 and 1, was 1.5");
    }

    @Test
    void rules_areLookedUpByTableInAnyCase() {
        ComparisonRules rules = ComparisonRules.builder().ignore("T_Order", "GMT_CREATE").mask("t_order", "Card_No")
                .build();
        assertThat(rules.ignored("t_order")).containsExactly("gmt_create");
        assertThat(rules.masked("T_ORDER")).containsExactly("card_no");
        assertThat(rules.ignored("t_user")).isEmpty();
    }
}
