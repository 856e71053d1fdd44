package io.dualwrite.mapping;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect.Product;
import java.time.ZoneId;
import java.util.Optional;
import java.util.Set;

/**
 * Which source column types travel into which target column types, decided once at start-up from both
 * columns' metadata, so that a pair that cannot work is reported before the first row moves instead of
 * failing every row it meets.
 *
 * <p>A pair is one of three things (see {@link #resolve}):
 * <ul>
 *   <li><b>carried as it is</b>: the value read from the source is one the target's driver and column
 *       take (the same family, a number into a wider number, text into an enum, JSON or inet column, a
 *       {@code uuid} text, ...); the dialect binds it with the target column's type;</li>
 *   <li><b>carried through an implied converter</b>, where the pair has one meaning: a boolean into
 *       {@code 0}/{@code 1}, a {@code SET} into an array, {@code BIT(n)} into {@code bit(n)}, a
 *       {@code DATETIME} into a {@code date} or, in the JVM's time zone, a {@code timestamptz}, a
 *       {@code TIME} span into a {@code time} or an {@code interval}, 16 bytes into a {@code uuid}. Each is
 *       a {@link Converters} converter and goes both ways, for the reverse mirror;</li>
 *   <li><b>a problem</b>, named with the property that fixes it ({@code convert.<column>.type} and the
 *       converter that fits, where one does).</li>
 * </ul>
 * A declared converter is checked the same way where it is a built-in one: the column it reads must be
 * of a family it accepts, and what it writes must be carried into the target column. A converter of the
 * application's own is trusted.
 */
final class TypePairs {

    /** Bits per decimal digit. */
    private static final double LOG2_10 = Math.log(10) / Math.log(2);

    private TypePairs() {
    }

    /**
     * One column's verdict.
     *
     * @param implied the converter the pair implies, or {@code null} when the value is carried as it is
     * @param problem why the pair cannot work and what fixes it, or {@code null}
     */
    record Verdict(ColumnConverter implied, String problem) {

        static final Verdict AS_IS = new Verdict(null, null);

        static Verdict implied(ColumnConverter converter) {
            return new Verdict(converter, null);
        }

        static Verdict problem(String problem) {
            return new Verdict(null, problem);
        }
    }

    /**
     * Decides how a source column's values reach a target column.
     *
     * @param source the source column
     * @param sourceProduct its store
     * @param target the target column
     * @param targetProduct its store
     * @param declared the converter declared for the column, or {@code null}
     * @return the verdict; with a declared converter, never an implied one
     */
    static Verdict resolve(ColumnMetadata source, Product sourceProduct, ColumnMetadata target, Product targetProduct,
            ColumnConverter declared) {
        TypeFamily from = TypeFamily.of(source, sourceProduct);
        TypeFamily to = TypeFamily.of(target, targetProduct);
        if (declared != null) {
            return checkDeclared(declared, from, to);
        }
        if (from == TypeFamily.INTEGER && to == TypeFamily.INTEGER) {
            int needs = integerBits(source, sourceProduct);
            int holds = integerBits(target, targetProduct);
            if (needs > holds) {
                return Verdict.problem("its values need " + needs + " bits and the target column holds " + holds
                        + " (" + target.typeName() + "), so the largest would fail; widen the target column"
                        + (needs > 63 ? " to numeric(20)" : needs > 31 ? " to bigint" : " to integer"));
            }
        }
        if (carried(from, sourceProduct, to, targetProduct)) {
            return Verdict.AS_IS;
        }
        return implied(source, sourceProduct, target, targetProduct, from, to).map(Verdict::implied)
                .orElseGet(() -> Verdict.problem(fix(source, from, to)));
    }

    /**
     * How many bits an integer column's largest value needs: 64 for MySQL's {@code BIGINT UNSIGNED}, 63 for a
     * signed {@code BIGINT}, those of its digits for a {@code numeric(p)} (66 for 20 digits), unbounded for
     * a {@code numeric} without precision; 63 when the type is not recognised, so only known narrowings are
     * reported.
     */
    private static int integerBits(ColumnMetadata column, Product product) {
        String type = column.typeName() == null ? "" : column.typeName().toLowerCase(java.util.Locale.ROOT);
        boolean unsigned = mysql(product) && type.contains("unsigned");
        String base = type.replace(" unsigned", "").replace(" zerofill", "").trim();
        if (base.equals("numeric") || base.equals("decimal")) {
            // PostgreSQL reports a numeric without precision as 131089 digits (or 0): it holds any integer.
            int digits = column.size();
            return digits <= 0 || digits > 1_000 ? Integer.MAX_VALUE : (int) Math.floor(digits * LOG2_10);
        }
        int bits = switch (base) {
            case "tinyint", "bool", "boolean" -> 8;
            case "smallint", "int2", "smallserial", "year" -> 16;
            case "mediumint" -> 24;
            case "int", "integer", "int4", "serial" -> 32;
            default -> 64;
        };
        return unsigned ? bits : bits - 1;
    }

    private static Verdict checkDeclared(ColumnConverter declared, TypeFamily from, TypeFamily to) {
        if (!(declared instanceof Converters.Named named)) {
            return Verdict.AS_IS;
        }
        if (from != TypeFamily.OTHER && !named.reads().contains(from)) {
            return Verdict.problem(declared + " reads " + describe(named.reads()) + ", not " + describe(from));
        }
        TypeFamily writes = named.writes(from);
        if (!carried(writes, null, to, null)) {
            return Verdict.problem(declared + " writes " + describe(writes) + ", which " + describe(to)
                    + " column does not take");
        }
        return Verdict.AS_IS;
    }

    /**
     * Whether values of one family are taken as they are by columns of another: the drivers and the
     * dialects' binding carry them (see {@code Dialect.bind}). A {@code null} product means "any store":
     * the values are the converter's, not a driver's.
     */
    private static boolean carried(TypeFamily from, Product fromProduct, TypeFamily to, Product toProduct) {
        if (from == TypeFamily.OTHER || to == TypeFamily.OTHER) {
            return true;
        }
        if (from == to) {
            // Bits are bytes on MySQL and text on PostgreSQL; every other family reads as it writes.
            return from != TypeFamily.BITS || fromProduct == null || toProduct == null
                    || mysql(fromProduct) == mysql(toProduct);
        }
        return switch (from) {
            case INTEGER -> to == TypeFamily.DECIMAL || to == TypeFamily.FLOAT;
            case DECIMAL -> to == TypeFamily.FLOAT;
            case FLOAT -> to == TypeFamily.DECIMAL;
            case TEXT, ENUM, SET -> to.textual() || to == TypeFamily.JSON || to == TypeFamily.UUID
                    || to == TypeFamily.INET || to == TypeFamily.INTERVAL;
            case JSON, INET, INTERVAL -> to == TypeFamily.TEXT;
            case UUID -> to == TypeFamily.TEXT;
            case BITS -> to == TypeFamily.BINARY && mysql(fromProduct);
            case DATE -> to == TypeFamily.TIMESTAMP;
            default -> false;
        };
    }

    private static boolean mysql(Product product) {
        return product == Product.MYSQL || product == Product.MARIADB;
    }

    private static Optional<ColumnConverter> implied(ColumnMetadata source, Product sourceProduct,
            ColumnMetadata target, Product targetProduct, TypeFamily from, TypeFamily to) {
        ColumnConverter converter = switch (from) {
            case BOOLEAN -> to == TypeFamily.INTEGER ? Converters.booleanToNumber()
                    : to == TypeFamily.BITS && !mysql(targetProduct) ? Converters.bitsToText(1) : null;
            case INTEGER -> to == TypeFamily.BOOLEAN ? Converters.booleanToNumber().inverse() : null;
            case SET -> to == TypeFamily.ARRAY ? Converters.setToArray() : null;
            case ARRAY -> to == TypeFamily.SET ? Converters.setToArray().inverse() : null;
            case BITS -> bits(source, sourceProduct, target, targetProduct, to);
            case TIMESTAMP -> to == TypeFamily.DATE ? Converters.dateTimeToDate()
                    : to == TypeFamily.TIMESTAMPTZ ? Converters.wallClockToInstant(ZoneId.systemDefault()) : null;
            case TIMESTAMPTZ -> to == TypeFamily.TIMESTAMP
                    ? Converters.wallClockToInstant(ZoneId.systemDefault()).inverse() : null;
            case DURATION -> to == TypeFamily.TIME ? Converters.durationToTimeOfDay()
                    : to == TypeFamily.INTERVAL ? Converters.durationToInterval() : null;
            case TIME -> to == TypeFamily.DURATION ? Converters.durationToTimeOfDay().inverse() : null;
            case INTERVAL -> to == TypeFamily.DURATION ? Converters.durationToInterval().inverse() : null;
            case BINARY -> to == TypeFamily.UUID && source.size() == 16 ? Converters.uuidBytes() : null;
            case UUID -> to == TypeFamily.BINARY && target.size() == 16 ? Converters.uuidBytes().inverse() : null;
            default -> null;
        };
        return Optional.ofNullable(converter);
    }

    /**
     * Bits between MySQL, which reads them as bytes ({@code BIT(1)}: a boolean), and PostgreSQL, which
     * reads them as text: the MySQL side's length sizes the bytes.
     */
    private static ColumnConverter bits(ColumnMetadata source, Product sourceProduct, ColumnMetadata target,
            Product targetProduct, TypeFamily to) {
        if (mysql(sourceProduct) && to == TypeFamily.BITS && !mysql(targetProduct)) {
            return Converters.bitsToText(length(source));
        }
        if (!mysql(sourceProduct) && mysql(targetProduct) && (to == TypeFamily.BITS || to == TypeFamily.BOOLEAN)) {
            return Converters.bitsToText(to == TypeFamily.BOOLEAN ? 1 : length(target)).inverse();
        }
        return null;
    }

    private static int length(ColumnMetadata bits) {
        return Math.max(1, Math.min(64, bits.size()));
    }

    /** What to do about a pair that is neither carried nor implied. */
    private static String fix(ColumnMetadata source, TypeFamily from, TypeFamily to) {
        String cannot = describe(from) + " cannot be written to " + describe(to) + " column as it is; ";
        if (from.numeric() && to.textual()) {
            return cannot + "set it to NUMBER_TO_STRING" + (from == TypeFamily.INTEGER ? " (or CODE_TO_TEXT for a code"
                    + " table)" : "");
        }
        if ((from == TypeFamily.DECIMAL || from == TypeFamily.FLOAT) && to == TypeFamily.INTEGER) {
            return cannot + "the target would round it; set it to DECIMAL_TO_MINOR_UNITS with the source's scale ("
                    + source.scale() + ")";
        }
        if (from == TypeFamily.TEXT && to == TypeFamily.ARRAY) {
            return cannot + "set it to SET_TO_ARRAY for comma-separated text";
        }
        if (from == TypeFamily.TIMESTAMP && to == TypeFamily.TIMESTAMP) {
            return cannot + "set it to TIME_ZONE_SHIFT";
        }
        return cannot + "no built-in conversion fits: change the target column's type, leave the column out, or map"
                + " the table with a RowTransformer";
    }

    private static String describe(Set<TypeFamily> families) {
        return families.size() == 1 ? describe(families.iterator().next())
                : families.stream().sorted().map(TypeFamily::name).map(String::toLowerCase).toList().toString();
    }

    private static String describe(TypeFamily family) {
        return switch (family) {
            case TIMESTAMP -> "a date-time without time zone";
            case TIMESTAMPTZ -> "a date-time with time zone";
            case DURATION -> "a span of time (MySQL TIME)";
            case TIME -> "a time of day";
            case INTEGER -> "an integer";
            case INTERVAL, INET, ENUM, ARRAY -> "an " + family.name().toLowerCase(java.util.Locale.ROOT);
            default -> "a " + family.name().toLowerCase(java.util.Locale.ROOT);
        };
    }
}
