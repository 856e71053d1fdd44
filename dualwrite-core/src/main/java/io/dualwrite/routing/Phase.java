package io.dualwrite.routing;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Where the whole migration stands. The order is the order a migration moves through; going back one
 * phase is a rollback.
 */
public enum Phase {
    /** Reads and writes go to the source; nothing is mirrored. */
    SOURCE_ONLY,
    /** Reads and writes go to the source; every write is mirrored to the target. */
    DUAL_WRITE,
    /** Each request goes to the route of its routing key; the primary's writes are mirrored to the other. */
    RAMP,
    /** Reads and writes go to the target; nothing is mirrored. */
    TARGET_ONLY;

    /**
     * Whether writes in this phase are mirrored to the other store.
     *
     * @return true in DUAL_WRITE and RAMP
     */
    public boolean mirrors() {
        return this == DUAL_WRITE || this == RAMP;
    }

    /**
     * Whether the source is the primary of every row in this phase, so that nothing but the library
     * writes the target and a backfill may copy source rows over it.
     *
     * @return true in SOURCE_ONLY and DUAL_WRITE
     */
    public boolean sourceIsPrimaryOfEveryRow() {
        return this == SOURCE_ONLY || this == DUAL_WRITE;
    }

    /**
     * Parses a phase name, case-insensitively.
     *
     * @param text the name, e.g. {@code "dual_write"} or {@code "DUAL-WRITE"}
     * @return the phase
     * @throws IllegalArgumentException naming the bad value and the accepted ones
     */
    public static Phase parse(String text) {
        if (text != null) {
            String name = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
            for (Phase phase : values()) {
                if (phase.name().equals(name)) {
                    return phase;
                }
            }
        }
        throw new IllegalArgumentException("dualwrite.phase: unknown phase '" + text + "'; expected one of "
                + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
}
