package io.dualwrite.degrade;

import io.dualwrite.jdbc.RowKey;
import java.time.Instant;
import java.util.Objects;

/**
 * What an operator took out of the migration: one key, a key range, or every row of one routing value
 * (a user) of one table, and where that mark stands. Make one with {@link #key}, {@link #range} or
 * {@link #routingValue} and hand it to {@link Degradation#mark}; the marks read back carry their id and
 * history.
 *
 * @param id the mark's id, or 0 for one not stored yet
 * @param table the source table, as named in the table mappings
 * @param kind what the mark selects
 * @param from for {@link Kind#KEY} the key; for {@link Kind#RANGE} the first key of the range (inclusive)
 * @param to for {@link Kind#RANGE} the end of the range (exclusive); otherwise null
 * @param value for {@link Kind#ROUTING_VALUE} the routing column's value, as text; otherwise null
 * @param state where the mark stands
 * @param markedBy who marked it
 * @param markReason why
 * @param markedAt when, or null for one not stored yet
 * @param purge where its purge stands
 * @param purgedRows rows the purge deleted from the target
 * @param refusedRows rows the purge left because the target is their primary
 */
public record DegradeMark(long id, String table, Kind kind, RowKey from, RowKey to, String value, State state,
        String markedBy, String markReason, Instant markedAt, PurgeState purge, long purgedRows, long refusedRows) {

    /** What a mark selects. */
    public enum Kind {
        /** One row, by its key. */
        KEY,
        /**
         * The keys from {@code from} (inclusive) to {@code to} (exclusive), compared column by column: numbers
         * by value, text by UTF-16 code units (not by the database's collation), other values by their text.
         */
        RANGE,
        /** Every row whose routing column holds the value (compared as routing keys are: by their text). */
        ROUTING_VALUE
    }

    /** Where a mark stands. */
    public enum State {
        /** In force: the rows are not mirrored, not copied, not compared. */
        MARKED,
        /** Unmarked; the rows are being copied again from the source (or the copy stopped half-way: run it again). */
        RECOPYING,
        /** Unmarked and copied again: only history. */
        UNMARKED
    }

    /** Where a mark's purge stands. */
    public enum PurgeState {
        /** Never asked for. */
        NONE,
        /** Started and not finished: a purge asked again goes on from its checkpoint. */
        RUNNING,
        /** Every marked row the target was not primary for was deleted. */
        DONE
    }

    /** Checks the parts. */
    public DegradeMark {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(purge, "purge");
        switch (kind) {
            case KEY -> require(from != null && to == null && value == null, "a KEY mark needs a key only");
            case RANGE -> require(from != null && to != null && value == null
                    && from.size() == to.size(), "a RANGE mark needs a from and a to key of as many columns");
            default -> require(from == null && to == null && value != null && !value.isBlank(),
                    "a ROUTING_VALUE mark needs a non-blank value only");
        }
        markedBy = markedBy == null ? "" : markedBy;
        markReason = markReason == null ? "" : markReason;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    /**
     * @param table the source table
     * @param key the row's source key
     * @return a mark of one row
     */
    public static DegradeMark key(String table, RowKey key) {
        return unsaved(table, Kind.KEY, Objects.requireNonNull(key, "key"), null, null);
    }

    /**
     * @param table the source table
     * @param from the first source key (inclusive)
     * @param to the end (exclusive)
     * @return a mark of a key range ({@link Degradation#mark} refuses an empty one)
     * @throws IllegalArgumentException if the keys differ in size
     */
    public static DegradeMark range(String table, RowKey from, RowKey to) {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        return unsaved(table, Kind.RANGE, from, to, null);
    }

    /**
     * @param table the source table; it must have a routing column
     * @param value the routing value (a user id), as the routing column holds it
     * @return a mark of every row of that routing value
     */
    public static DegradeMark routingValue(String table, Object value) {
        Objects.requireNonNull(value, "value");
        return unsaved(table, Kind.ROUTING_VALUE, null, null, io.dualwrite.routing.TrafficRouter.text(value));
    }

    private static DegradeMark unsaved(String table, Kind kind, RowKey from, RowKey to, String value) {
        return new DegradeMark(0, table, kind, from, to, value, State.MARKED, "", "", null, PurgeState.NONE, 0, 0);
    }

    /** @return what the mark selects, for logs and answers: {@code t_order key [7]} */
    public String describe() {
        return table + switch (kind) {
            case KEY -> " key " + from;
            case RANGE -> " keys " + from + " (inclusive) to " + to + " (exclusive)";
            default -> " routing value '" + value + "'";
        };
    }
}
