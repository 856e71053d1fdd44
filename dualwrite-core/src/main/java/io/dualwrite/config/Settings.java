package io.dualwrite.config;

import java.time.Duration;
import java.util.regex.Pattern;

/** Checks for single settings, used by every config builder so that their messages read alike. */
public final class Settings {

    private static final Pattern TABLE_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,62}");

    private Settings() {
    }

    /**
     * Checks an integer setting's range.
     *
     * @param property the property, for the message
     * @param value the value
     * @param min the smallest allowed
     * @param max the largest allowed
     * @return the value
     * @throws IllegalArgumentException if out of range, naming the property and the value
     */
    public static int range(String property, int value, int min, int max) {
        if (value < min || value > max) {
            throw new IllegalArgumentException(property + ": must be between " + min + " and " + max + ", was "
                    + value);
        }
        return value;
    }

    /**
     * Checks that a duration is positive.
     *
     * @param property the property, for the message
     * @param value the value
     * @return the value
     * @throws IllegalArgumentException if {@code null}, zero or negative
     */
    public static Duration positive(String property, Duration value) {
        if (value == null || value.isZero() || value.isNegative()) {
            throw new IllegalArgumentException(property + ": must be positive, was " + value);
        }
        return value;
    }

    /**
     * Checks the name of one of the library's own tables.
     *
     * @param property the property, for the message
     * @param table the name
     * @return the name
     * @throws IllegalArgumentException if not a plain identifier (letters, digits and '_')
     */
    public static String tableName(String property, String table) {
        if (table == null || !TABLE_NAME.matcher(table).matches()) {
            throw new IllegalArgumentException(property + ": '" + table
                    + "' is not a plain table name (letters, digits and '_')");
        }
        return table;
    }
}
