package io.dualwrite.jdbc;

import java.text.Normalizer;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The value of a text key column whose collation does not compare text exactly — MariaDB's {@code _ci}
 * collations (case- and accent-insensitive), PAD SPACE collations (trailing spaces ignored), PostgreSQL's
 * {@code citext}, H2's {@code VARCHAR_IGNORECASE} — inside a {@link RowKey}. It keeps the text as given,
 * which is what is bound and what a case-sensitive other store receives, and is equal to another
 * {@code KeyText} whose text the collation takes for the same key: {@code 'Ab'} and {@code 'ab '} are one
 * key under {@code utf8mb4_general_ci}, so a row the store returns for either is never taken for absent.
 *
 * <p>The folding is Java's approximation of the collation: lower case in the root locale, and for
 * accent-insensitive collations accents removed after canonical decomposition. Collations that equate
 * more (such as {@code 'ß'} with {@code 'ss'}) are not followed; a key the application spells that way
 * is applied as if absent and left to the reconciler.
 */
public final class KeyText implements Comparable<KeyText> {

    private static final Pattern MARKS = Pattern.compile("\\p{M}+");

    private final String text;
    private final String folded;

    private KeyText(String text, String folded) {
        this.text = text;
        this.folded = folded;
    }

    /**
     * Creates a key value that compares as a collation does.
     *
     * @param text the text as given
     * @param ignoreCase whether the collation ignores case
     * @param ignoreAccents whether it also ignores accents
     * @param ignoreTrailingSpaces whether it ignores trailing spaces (PAD SPACE)
     * @return the key value
     */
    public static KeyText of(String text, boolean ignoreCase, boolean ignoreAccents, boolean ignoreTrailingSpaces) {
        String folded = ignoreTrailingSpaces ? text.stripTrailing() : text;
        if (ignoreAccents) {
            folded = MARKS.matcher(Normalizer.normalize(folded, Normalizer.Form.NFD)).replaceAll("");
        }
        if (ignoreCase) {
            folded = folded.toLowerCase(Locale.ROOT);
        }
        return new KeyText(text, folded);
    }

    /** @return the text as given, the form that is bound and stored */
    public String text() {
        return text;
    }

    @Override
    public int compareTo(KeyText other) {
        return folded.compareTo(other.folded);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyText key && folded.equals(key.folded);
    }

    @Override
    public int hashCode() {
        return Objects.hashCode(folded);
    }

    @Override
    public String toString() {
        return text;
    }
}
