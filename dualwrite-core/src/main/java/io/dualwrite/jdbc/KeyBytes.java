package io.dualwrite.jdbc;

import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;

/**
 * The value of a binary key column ({@code BINARY}, {@code VARBINARY}, {@code bytea}) inside a
 * {@link RowKey}: an immutable copy of the bytes that, unlike {@code byte[]}, is equal to another holding
 * the same bytes, so that a key read back from the store matches the key the application recorded.
 * Ordered as unsigned bytes, as the stores sort binary values.
 */
public final class KeyBytes implements Comparable<KeyBytes> {

    private final byte[] bytes;

    private KeyBytes(byte[] bytes) {
        this.bytes = bytes;
    }

    /**
     * Copies bytes into a key value.
     *
     * @param bytes the bytes
     * @return the key value
     */
    public static KeyBytes of(byte[] bytes) {
        return new KeyBytes(bytes.clone());
    }

    /** Wraps bytes the caller will never touch again. */
    static KeyBytes wrap(byte[] bytes) {
        return new KeyBytes(bytes);
    }

    /** @return a copy of the bytes */
    public byte[] toByteArray() {
        return bytes.clone();
    }

    /** @return how many bytes */
    public int length() {
        return bytes.length;
    }

    /** @return the bytes in Base64, the form library tables store them in */
    String base64() {
        return Base64.getEncoder().encodeToString(bytes);
    }

    @Override
    public int compareTo(KeyBytes other) {
        return Arrays.compareUnsigned(bytes, other.bytes);
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof KeyBytes key && Arrays.equals(bytes, key.bytes);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(bytes);
    }

    /** @return the bytes in hexadecimal, {@code 0x0a1b} */
    @Override
    public String toString() {
        return "0x" + HexFormat.of().formatHex(bytes);
    }
}
