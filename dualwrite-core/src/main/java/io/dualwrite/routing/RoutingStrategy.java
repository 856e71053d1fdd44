package io.dualwrite.routing;

/** How a routing key becomes a bucket in 0..99. */
public enum RoutingStrategy {
    /**
     * {@code key mod 100} for numeric keys (whole numbers, or strings of digits): user 1234 is in bucket
     * 34, so a team can predict and test who moves. Refuses keys that are not whole numbers.
     */
    MODULO,
    /** A stable hash of the key's text, mod 100: any key, evenly spread, the same on every instance and JVM. */
    HASH
}
