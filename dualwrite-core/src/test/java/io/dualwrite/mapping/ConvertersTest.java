package io.dualwrite.mapping;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.sql.Timestamp;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.temporal.ChronoUnit;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Predicate;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Round-trip properties of every built-in converter, over generated values: to the target and back
 * gives the original. Each property draws {@value #SAMPLES} values from a fixed seed, so a failure
 * names a sample that reproduces.
 */
class ConvertersTest {

    private static final int SAMPLES = 2_000;
    private static final long SEED = 20240701L;

    // --- number <-> string -----------------------------------------------------------------------

    @Test
    void numberToString_everyNumberType_roundTrips() {
        Map<Class<? extends Number>, Function<Random, Number>> generators = Map.of(
                Long.class, r -> r.nextInt(10) == 0 ? extreme(r, Long.MIN_VALUE, Long.MAX_VALUE) : r.nextLong(),
                Integer.class, Random::nextInt,
                Short.class, r -> (short) r.nextInt(),
                Byte.class, r -> (byte) r.nextInt(),
                BigInteger.class, r -> new BigInteger(r.nextInt(200) + 1, r).multiply(BigInteger.valueOf(r.nextBoolean() ? 1 : -1)),
                BigDecimal.class, r -> new BigDecimal(new BigInteger(r.nextInt(120) + 1, r), r.nextInt(12)),
                Double.class, r -> Double.longBitsToDouble(r.nextLong()),
                Float.class, r -> Float.intBitsToFloat(r.nextInt()));
        generators.forEach((type, generator) -> {
            ColumnConverter converter = Converters.numberToString(type);
            roundTrips(converter, generator);
        });
    }

    @Test
    void numberToString_decimal_keepsScaleAndNeverUsesExponents() {
        ColumnConverter converter = Converters.numberToString(BigDecimal.class);

        assertThat(converter.toTarget(new BigDecimal("12.50"))).isEqualTo("12.50");
        assertThat(converter.toTarget(new BigDecimal("1E+3"))).isEqualTo("1000");
        assertThat(converter.toTarget(new BigDecimal("0.00000001"))).isEqualTo("0.00000001");
    }

    @Test
    void numberToString_inverse_parsesTextIntoNumbersAndBack() {
        ColumnConverter stringToLong = Converters.numberToString(Long.class).inverse();

        roundTrips(stringToLong, r -> Long.toString(r.nextLong()));
        assertThat(stringToLong.toTarget("42")).isEqualTo(42L);
        assertThat(stringToLong.inverse().toTarget(42L)).isEqualTo("42");
    }

    @Test
    void numberToString_textThatIsNotANumber_isRefusedNamingTheValue() {
        ColumnConverter converter = Converters.numberToString(Long.class);

        assertThatThrownBy(() -> converter.toSource("abc")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'abc' is not a number of type Long");
        assertThatThrownBy(() -> converter.toSource("12.5")).hasMessage("'12.5' is not a number of type Long");
        assertThatThrownBy(() -> converter.toSource(" 12")).hasMessage("' 12' is not a number of type Long");
        assertThatThrownBy(() -> converter.toSource("99999999999999999999"))
                .hasMessage("'99999999999999999999' is not a number of type Long");
        assertThatThrownBy(() -> Converters.numberToString(Integer.class).toSource("3000000000"))
                .hasMessage("'3000000000' is not a number of type Integer");
    }

    @Test
    void numberToString_valueOfTheWrongType_isRefusedNamingTypeAndValue() {
        assertThatThrownBy(() -> Converters.numberToString(Long.class).toTarget("12"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected a number, got String '12'");
    }

    @Test
    void numberToString_unsupportedType_isRefused() {
        assertThatThrownBy(() -> Converters.numberToString(java.util.concurrent.atomic.AtomicLong.class))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("numberToString: unsupported number type class java.util.concurrent.atomic.AtomicLong");
    }

    // --- int code <-> enum text ------------------------------------------------------------------

    @Test
    void codeToText_everyCodeAndText_roundTrips() {
        Map<Integer, String> codes = Map.of(0, "NEW", 1, "PAID", 2, "SHIPPED", -1, "CANCELLED", 99, "LOST");
        List<Integer> known = List.copyOf(codes.keySet());
        ColumnConverter converter = Converters.codeToText(codes);

        roundTrips(converter, r -> known.get(r.nextInt(known.size())));
        roundTrips(converter.inverse(), r -> codes.get(known.get(r.nextInt(known.size()))));
        assertThat(converter.toTarget(1)).isEqualTo("PAID");
        assertThat(converter.toTarget((short) 2)).isEqualTo("SHIPPED");
        assertThat(converter.toTarget(99L)).isEqualTo("LOST");
        assertThat(converter.toSource("NEW")).isEqualTo(0);
    }

    @Test
    void codeToText_unknownCodeOrText_isRefusedNamingTheValue() {
        ColumnConverter converter = Converters.codeToText(Map.of(1, "PAID"));

        assertThatThrownBy(() -> converter.toTarget(7)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown code 7; known codes are [1]");
        assertThatThrownBy(() -> converter.toSource("paid")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("unknown text 'paid'; known texts are [PAID]");
        assertThatThrownBy(() -> converter.toTarget(1.5)).hasMessage("expected an integer code, got Double '1.5'");
    }

    @Test
    void codeToText_twoCodesWithOneText_isRefusedAsItCannotMapBack() {
        Map<Integer, String> codes = new java.util.TreeMap<>(Map.of(1, "PAID", 2, "PAID"));

        assertThatThrownBy(() -> Converters.codeToText(codes)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("codeToText: codes 1 and 2 both map to 'PAID', so the text cannot be mapped back");
        assertThatThrownBy(() -> Converters.codeToText(Map.of())).hasMessage("codeToText: the code table is empty");
    }

    // --- text <-> JSON ---------------------------------------------------------------------------

    @Test
    void json_generatedDocuments_roundTripUnchanged() {
        roundTrips(Converters.json(), r -> jsonValue(r, 3));
        roundTrips(Converters.json().inverse(), r -> jsonValue(r, 3));
    }

    @ParameterizedTest
    @ValueSource(strings = {"{bad", "", "   ", "{\"a\": 1} {\"b\": 2}", "[1, 2", "{'a': 1}", "NaN", "{\"a\": 1,}"})
    void json_invalidText_isRefused(String text) {
        assertThatThrownBy(() -> Converters.json().toTarget(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid JSON: ");
        assertThatThrownBy(() -> Converters.json().toSource(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("invalid JSON: ");
    }

    @Test
    void json_notText_isRefused() {
        assertThatThrownBy(() -> Converters.json().toTarget(42)).hasMessage("expected JSON text, got Integer '42'");
    }

    // --- DECIMAL <-> integer minor units ---------------------------------------------------------

    @Test
    void decimalToMinorUnits_amountsAtTheColumnScale_roundTrip() {
        for (int scale : new int[] {0, 2, 3, 8}) {
            ColumnConverter converter = Converters.decimalToMinorUnits(scale);
            roundTrips(converter, r -> BigDecimal.valueOf(r.nextLong() / 1000, scale));
            roundTrips(converter.inverse(), Random::nextLong);
        }
        assertThat(Converters.decimalToMinorUnits(2).toTarget(new BigDecimal("12.50"))).isEqualTo(1250L);
        assertThat(Converters.decimalToMinorUnits(2).toTarget(new BigDecimal("-0.01"))).isEqualTo(-1L);
        assertThat(Converters.decimalToMinorUnits(2).toSource(1250L)).isEqualTo(new BigDecimal("12.50"));
    }

    @Test
    void decimalToMinorUnits_moreDecimalPlacesThanTheScale_isRefusedRatherThanRounded() {
        ColumnConverter cents = Converters.decimalToMinorUnits(2);

        assertThatThrownBy(() -> cents.toTarget(new BigDecimal("12.505"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("12.505 is not a whole number of minor units at scale 2 (more decimal places, or beyond the"
                        + " range of a BIGINT)");
        assertThatThrownBy(() -> cents.toTarget(new BigDecimal("1E+30"))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> cents.toSource(new BigDecimal("1.5"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not whole minor units");
        assertThatThrownBy(() -> Converters.decimalToMinorUnits(19)).hasMessage(
                "decimalToMinorUnits: scale must be 0..18, was 19");
    }

    // --- timestamp precision -----------------------------------------------------------------------

    @Test
    void timestampPrecision_valuesAtThePrecision_roundTripAndOthersComeBackTruncated() {
        for (ChronoUnit unit : new ChronoUnit[] {ChronoUnit.SECONDS, ChronoUnit.MILLIS, ChronoUnit.MICROS}) {
            ColumnConverter converter = Converters.timestampPrecision(unit);
            roundTrips(converter, r -> localDateTime(r).truncatedTo(unit));
            roundTrips(converter, r -> Timestamp.valueOf(localDateTime(r).truncatedTo(unit)));
            roundTrips(converter, r -> localDateTime(r).toInstant(ZoneOffset.UTC).truncatedTo(unit));
            roundTrips(converter, r -> localDateTime(r).atOffset(ZoneOffset.ofHours(r.nextInt(25) - 12)).truncatedTo(unit));
            roundTrips(converter, r -> localDateTime(r).toLocalTime().truncatedTo(unit));
            forAll(r -> localDateTime(r), any -> true, time -> assertThat(converter.toSource(converter.toTarget(time)))
                    .isEqualTo(time.truncatedTo(unit)));
        }
    }

    @Test
    void timestampPrecision_truncatesInsteadOfRounding() {
        Timestamp timestamp = Timestamp.valueOf("2024-07-01 12:00:00.123999");

        assertThat(Converters.timestampPrecision(ChronoUnit.MILLIS).toTarget(timestamp))
                .isEqualTo(Timestamp.valueOf("2024-07-01 12:00:00.123"));
        assertThat(timestamp.getNanos()).isEqualTo(123_999_000);
        assertThatThrownBy(() -> Converters.timestampPrecision(ChronoUnit.DAYS))
                .hasMessage("timestampPrecision: precision must be SECONDS, MILLIS or MICROS, was Days");
        assertThatThrownBy(() -> Converters.timestampPrecision(ChronoUnit.MILLIS).toTarget("12:00"))
                .hasMessage("expected a timestamp, got String '12:00'");
    }

    // --- time-zone shifts ------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {"Asia/Shanghai>UTC", "America/New_York>Europe/Berlin", "UTC>Australia/Lord_Howe"})
    void timeZoneShift_everyExistingWallClockTime_roundTrips(String zones) {
        ZoneId from = ZoneId.of(zones.split(">")[0]);
        ZoneId to = ZoneId.of(zones.split(">")[1]);
        ColumnConverter converter = Converters.timeZoneShift(from, to);
        Predicate<LocalDateTime> converts = time -> {
            try {
                converter.toTarget(time);
                return true;
            } catch (IllegalArgumentException refused) {
                return false;
            }
        };

        forAll(ConvertersTest::localDateTime, converts, time -> assertThat(converter.toSource(converter.toTarget(time)))
                .isEqualTo(time));
        forAll(r -> localDateTime(r).withYear(2000 + r.nextInt(40)), converts, time -> {
            Timestamp timestamp = Timestamp.valueOf(time);
            assertThat(converter.toSource(converter.toTarget(timestamp))).isEqualTo(timestamp);
        });
    }

    @Test
    void timeZoneShift_shiftsWallClockTimeByTheZonesOffsets() {
        ColumnConverter shanghaiToUtc = Converters.timeZoneShift(ZoneId.of("Asia/Shanghai"), ZoneOffset.UTC);

        assertThat(shanghaiToUtc.toTarget(LocalDateTime.of(2024, 7, 1, 8, 0))).isEqualTo(LocalDateTime.of(2024, 7, 1, 0, 0));
        assertThat(shanghaiToUtc.toSource(LocalDateTime.of(2024, 7, 1, 0, 0))).isEqualTo(LocalDateTime.of(2024, 7, 1, 8, 0));
    }

    @Test
    void timeZoneShift_everyTimeOutsideDaylightSavingChanges_converts() {
        ColumnConverter converter = Converters.timeZoneShift(ZoneId.of("America/New_York"), ZoneId.of("Europe/Berlin"));

        forAll(ConvertersTest::localDateTime, time -> time.getMonthValue() % 6 != 3 && time.getMonthValue() != 10
                && time.getMonthValue() != 11, time -> assertThat(converter.toTarget(time)).isNotNull());
    }

    @Test
    void timeZoneShift_timeLandingOnTheRepeatedHourOfTheOtherZone_isRefusedAsItCouldNotComeBack() {
        ColumnConverter converter = Converters.timeZoneShift(ZoneId.of("America/New_York"), ZoneId.of("Europe/Berlin"));

        assertThat(converter.toTarget(LocalDateTime.of(2008, 10, 25, 20, 24))).isEqualTo(LocalDateTime.of(2008, 10, 26, 2, 24));
        assertThatThrownBy(() -> converter.toTarget(LocalDateTime.of(2008, 10, 25, 21, 24)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("2008-10-25T21:24 in time zone America/New_York is 2008-10-26T02:24 in Europe/Berlin, a time"
                        + " that exists twice there (clocks go back), and would be read back as the other one");
    }

    @Test
    void timeZoneShift_timeInADaylightSavingGap_isRefused() {
        ColumnConverter converter = Converters.timeZoneShift(ZoneId.of("America/New_York"), ZoneOffset.UTC);

        assertThatThrownBy(() -> converter.toTarget(LocalDateTime.of(2024, 3, 10, 2, 30)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("2024-03-10T02:30 does not exist in time zone America/New_York (it falls in a daylight-saving"
                        + " gap)");
        assertThatThrownBy(() -> converter.toTarget(OffsetDateTime.now()))
                .hasMessageStartingWith("expected a wall-clock time (LocalDateTime or Timestamp), got OffsetDateTime");
    }

    // --- split / merge ---------------------------------------------------------------------------

    @Test
    void splitOnFirst_everyText_roundTrips() {
        ColumnConverter converter = Converters.splitOnFirst(" ");

        roundTrips(converter, r -> text(r, "ab é", 10));
        forAll(r -> Arrays.asList(text(r, "abé", 6), r.nextInt(4) == 0 ? null : text(r, "ab é", 8)), any -> true,
                parts -> assertThat(converter.toTarget(converter.toSource(parts))).isEqualTo(parts));
        assertThat(converter.toTarget("Mary Ann Smith")).isEqualTo(List.of("Mary", "Ann Smith"));
        assertThat(converter.toTarget("Plato")).isEqualTo(Arrays.asList("Plato", null));
        assertThat(converter.toSource(Arrays.asList(null, "Smith"))).isEqualTo(" Smith");
    }

    @Test
    void splitOnFirst_wrongNumberOfParts_isRefused() {
        assertThatThrownBy(() -> Converters.splitOnFirst(" ").toSource(List.of("a", "b", "c")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("expected two parts to merge, got [a, b, c]");
        assertThatThrownBy(() -> Converters.splitOnFirst("")).hasMessage("splitOnFirst: the separator must not be empty");
    }

    @Test
    void inverse_ofAnInverse_isTheConverterItself() {
        ColumnConverter converter = Converters.json();

        assertThat(converter.inverse().inverse()).isSameAs(converter);
        assertThat(converter.inverse()).hasToString("inverse of Converters.json()");
    }

    // --- generators ------------------------------------------------------------------------------

    // --- the converters column pairs imply ----------------------------------------------------------

    @Test
    void booleanToNumber_roundTripsAndRefusesNumbersOtherThanZeroAndOne() {
        ColumnConverter converter = Converters.booleanToNumber();
        roundTrips(converter, Random::nextBoolean);
        roundTrips(converter.inverse(), r -> r.nextInt(2));

        assertThat(converter.toTarget(true)).isEqualTo(1);
        assertThatThrownBy(() -> converter.toSource(2)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("2 is not a boolean: only 0 (false) and 1 (true) are");
    }

    @Test
    void setToArray_roundTripsEverySubsetAndRefusesElementsASetCannotHold() {
        ColumnConverter converter = Converters.setToArray();
        List<String> members = List.of("Trailers", "Commentaries", "Deleted Scenes", "Behind the Scenes");
        roundTrips(converter, r -> String.join(",", members.stream().filter(m -> r.nextBoolean()).toList()));

        assertThat(converter.toTarget("")).isEqualTo(List.of());
        assertThat(converter.toSource(new Object[] {"a", "b"})).isEqualTo("a,b");
        assertThatThrownBy(() -> converter.toSource(List.of("a,b"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("array [a,b] holds 'a,b', which holds a comma, and cannot be a SET");
    }

    @Test
    void bitsToText_roundTripsEveryValueOfTheLengthAndRefusesLongerOnes() {
        ColumnConverter five = Converters.bitsToText(5);
        roundTrips(five, r -> new byte[] {(byte) r.nextInt(32)});
        ColumnConverter twelve = Converters.bitsToText(12);
        roundTrips(twelve, r -> new byte[] {(byte) r.nextInt(16), (byte) r.nextInt(256)});

        assertThat(five.toTarget(new byte[] {0x15})).isEqualTo("10101");
        assertThat(Converters.bitsToText(1).toTarget(true)).isEqualTo("1");
        assertThatThrownBy(() -> five.toTarget(new byte[] {0x25})).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("value 100101 has more than 5 bits");
        assertThatThrownBy(() -> five.toSource("101010")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("'101010' is not a string of 1 to 5 bits");
    }

    @Test
    void durationToInterval_roundTripsMysqlTimesAndReadsPostgresDays() {
        ColumnConverter converter = Converters.durationToInterval();
        roundTrips(converter, r -> java.time.Duration.ofNanos(r.nextLong(-838L * 3_600_000_000L,
                838L * 3_600_000_000L) * 1000));

        assertThat(converter.toTarget(java.time.Duration.parse("PT26H3M4.5S"))).isEqualTo("26:03:04.5");
        assertThat(converter.toTarget(java.time.Duration.ofHours(-1))).isEqualTo("-01:00:00");
        assertThat(converter.toSource("1 day 02:00:00")).isEqualTo(java.time.Duration.ofHours(26));
        assertThat(converter.toSource("-1 days +02:00:00")).isEqualTo(java.time.Duration.ofHours(-22));
        assertThatThrownBy(() -> converter.toSource("1 mon 02:00:00")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("interval '1 mon 02:00:00' has months or years, which have no fixed length");
    }

    @Test
    void durationToTimeOfDay_roundTripsTimesOfDayAndRefusesLongerSpans() {
        ColumnConverter converter = Converters.durationToTimeOfDay();
        roundTrips(converter, r -> java.time.Duration.ofNanos(r.nextLong(86_400_000_000L) * 1000));

        assertThatThrownBy(() -> converter.toTarget(java.time.Duration.ofHours(25)))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("PT25H is not a time of day");
    }

    @Test
    void dateTimeToDate_roundTripsMidnightsAndRefusesTimesOfDay() {
        ColumnConverter converter = Converters.dateTimeToDate();
        roundTrips(converter, r -> LocalDateTime.of(1900, 1, 1, 0, 0).plusDays(r.nextInt(100_000)));

        assertThatThrownBy(() -> converter.toTarget(Timestamp.valueOf("2024-01-02 12:00:00")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("2024-01-02T12:00 has a time of day, which a date column cannot hold");
    }

    @Test
    void wallClockToInstant_roundTripsWallClockTimesInItsZoneAndRefusesGaps() {
        ZoneId shanghai = ZoneId.of("Asia/Shanghai");
        ColumnConverter converter = Converters.wallClockToInstant(shanghai);
        roundTrips(converter, r -> LocalDateTime.of(2000, 1, 1, 0, 0).plusSeconds(r.nextInt(900_000_000)));

        assertThat(converter.toTarget(LocalDateTime.parse("2024-07-01T12:00")))
                .isEqualTo(OffsetDateTime.parse("2024-07-01T12:00+08:00"));
        assertThat(converter.toSource(Timestamp.from(java.time.Instant.parse("2024-07-01T04:00:00Z"))))
                .isEqualTo(LocalDateTime.parse("2024-07-01T12:00"));
        assertThatThrownBy(() -> Converters.wallClockToInstant(ZoneId.of("Europe/Paris"))
                .toTarget(LocalDateTime.parse("2024-03-31T02:30"))).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("2024-03-31T02:30 does not exist in time zone Europe/Paris (it falls in a daylight-saving"
                        + " gap)");
    }

    private static <T> void roundTrips(ColumnConverter converter, Function<Random, T> generator) {
        forAll(generator, any -> true, value -> {
            Object target = converter.toTarget(value);
            assertThat(target).as("%s.toTarget(%s)", converter, value).isNotNull();
            assertThat(converter.toSource(target)).as("%s round trip of %s via %s", converter, value, target)
                    .isEqualTo(value);
        });
    }

    private static <T> void forAll(Function<Random, T> generator, Predicate<T> assume,
            java.util.function.Consumer<T> property) {
        Random random = new Random(SEED);
        int tried = 0;
        for (int i = 0; i < SAMPLES; i++) {
            T value = generator.apply(random);
            if (assume.test(value)) {
                tried++;
                property.accept(value);
            }
        }
        assertThat(tried).as("samples that met the assumption").isGreaterThan(SAMPLES / 2);
    }

    private static long extreme(Random random, long min, long max) {
        return switch (random.nextInt(4)) {
            case 0 -> min;
            case 1 -> max;
            case 2 -> 0;
            default -> -1;
        };
    }

    private static LocalDateTime localDateTime(Random random) {
        long seconds = LocalDateTime.of(1971, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC)
                + (long) (random.nextDouble() * 70 * 365 * 86_400L);
        return LocalDateTime.ofEpochSecond(seconds, random.nextInt(1_000_000_000), ZoneOffset.UTC);
    }

    private static String text(Random random, String alphabet, int maxLength) {
        StringBuilder text = new StringBuilder();
        int length = random.nextInt(maxLength + 1);
        for (int i = 0; i < length; i++) {
            text.append(alphabet.charAt(random.nextInt(alphabet.length())));
        }
        return text.toString();
    }

    private static String jsonValue(Random random, int depth) {
        int kind = random.nextInt(depth == 0 ? 5 : 7);
        return switch (kind) {
            case 0 -> "null";
            case 1 -> String.valueOf(random.nextBoolean());
            case 2 -> String.valueOf(random.nextLong());
            case 3 -> new BigDecimal(BigInteger.valueOf(random.nextInt()), random.nextInt(6)).toPlainString();
            case 4 -> jsonString(random);
            case 5 -> {
                StringBuilder array = new StringBuilder("[");
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    array.append(i == 0 ? "" : ", ").append(jsonValue(random, depth - 1));
                }
                yield array.append(']').toString();
            }
            default -> {
                StringBuilder object = new StringBuilder("{");
                int n = random.nextInt(4);
                for (int i = 0; i < n; i++) {
                    object.append(i == 0 ? "" : ",").append(jsonString(random)).append(": ")
                            .append(jsonValue(random, depth - 1));
                }
                yield object.append('}').toString();
            }
        };
    }

    private static String jsonString(Random random) {
        return "\"" + text(random, "ab é\u4e2d", 6).replace("\u4e2d", "\\u4e2d") + (random.nextBoolean() ? "\\n\\\"" : "")
                + "\"";
    }
}
