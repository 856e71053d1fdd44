package io.dualwrite.mapping;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What it takes to write a batch of primary rows to the other store when the other store's table has
 * unique indexes besides its key.
 *
 * <h2>The problem</h2>
 * The primary keeps a unique value on one key at a time, but keys travel separately: row 2 gives
 * {@code email='a'} up and row 1 takes it, and row 1's apply may reach the other store before row 2's
 * (another lane, another instance). The other store still has row 2 holding 'a', so writing row 1 meets
 * row 2 in the email index: PostgreSQL and H2 refuse it and the key is retried until it is parked, and
 * MySQL's {@code ON DUPLICATE KEY UPDATE}, which fires on any unique index, updates row 2 with row 1's
 * columns and reports success.
 *
 * <h2>The plan</h2>
 * Before anything is written, the other store is asked which rows hold any unique value of the rows to
 * write ({@link TableOps#uniqueValueHolders}). A holder of another key is brought along: its key is
 * read from the primary with the caller's lock — the share lock that does not wait, so a busy holder
 * fails the batch with a lock conflict and the caller retries it like any busy key — and its current
 * state joins the batch, or, absent from the primary, its key is deleted. The holders' own values are
 * looked up in turn, until no new key turns up (a chain of moves). Rows whose unique values move, and
 * keys to delete, are then deleted first and the rows written after, all in the caller's one transaction
 * on the other store. The result does not depend on the order keys arrive in.
 *
 * <h2>Why that is enough</h2>
 * Every row of the plan was read from the primary under a lock the caller keeps until the other store
 * has committed, so the rows are one consistent state of the primary, whose unique indexes hold: no two
 * rows of the plan share a value. After the deletes, no row outside the plan holds a value of the plan
 * (each was found and brought in), and the plan's rows still on the other store hold only their own
 * values. A concurrent apply of other keys cannot slip a colliding value in either: its rows are locked
 * on the primary at the same time as ours, so they cannot share a value with ours, and a stale row it
 * leaves behind is one our look-up found or a later look-up will find. Should a value collide anyway
 * (the other store's index is stricter than the primary's, such as a case-insensitive collation), the
 * write fails: PostgreSQL and H2 refuse it, and on MySQL the upsert checks afterwards that each row
 * reached its own key ({@link TableOps#upsert}), so the caller rolls back and retries, never silently
 * reports the wrong row written.
 *
 * <p>Absent keys deleted here have the same race as any absent key (PostgreSQL takes no lock on a row
 * that is not there): the caller re-reads {@link #absentKeys()} under the lock before it commits.
 */
public final class UniqueMoves {

    /** The most keys one batch may draw in through unique values before it is refused. */
    static final int MAX_KEYS = 4096;

    private final Map<RowKey, Row> rows;
    private final Set<RowKey> deleteFirst;
    private final Set<RowKey> absentKeys;
    private final boolean moves;

    private UniqueMoves(Map<RowKey, Row> rows, Set<RowKey> deleteFirst, Set<RowKey> absentKeys, boolean moves) {
        this.rows = rows;
        this.deleteFirst = deleteFirst;
        this.absentKeys = absentKeys;
        this.moves = moves;
    }

    /**
     * Works out the writes for a batch: looks the rows' unique values up on the other store and brings
     * the other keys that hold them along from the primary, until no new key turns up.
     *
     * @param table the table, as mirrored in this direction ({@link MappedTable#source()} is the primary)
     * @param primary the primary connection, in the transaction that locked {@code targetRows}' source rows
     * @param other the other store's connection, in the transaction that will write
     * @param targetRows the batch's rows, already mapped to the other store, at most one per key
     * @param absentKeys the batch's keys the primary does not have, as source keys
     * @param lock whether to read the keys brought along under the share lock that does not wait (off
     *     only where the caller reads without it)
     * @return the plan; {@link #moves()} is false when the rows can be written as they are
     * @throws SQLException on a database error, a lock conflict on a key brought along included
     * @throws IllegalArgumentException if a row brought along does not map, or more than {@value #MAX_KEYS}
     *     keys are drawn in
     */
    public static UniqueMoves plan(MappedTable table, Connection primary, Connection other, Collection<Row> targetRows,
            Collection<RowKey> absentKeys, boolean lock) throws SQLException {
        TableOps target = table.target();
        Map<RowKey, Row> rows = new LinkedHashMap<>();
        for (Row row : targetRows) {
            rows.put(target.keyOf(row), row);
        }
        Set<RowKey> absent = new LinkedHashSet<>(absentKeys);
        if (target.uniqueKeys().isEmpty()) {
            return new UniqueMoves(rows, Set.of(), absent, false);
        }
        Set<RowKey> absentTarget = new LinkedHashSet<>();
        for (RowKey key : absentKeys) {
            absentTarget.add(table.toTargetKey(key));
        }
        Set<RowKey> deleteFirst = new LinkedHashSet<>();
        Collection<Row> lookUp = targetRows;
        while (!lookUp.isEmpty()) {
            Set<RowKey> drawnIn = new LinkedHashSet<>();
            for (Row holder : target.uniqueValueHolders(other, lookUp)) {
                RowKey key = target.keyOf(holder);
                Row own = rows.get(key);
                if (own != null) {
                    if (!target.sameUniqueValues(holder, own)) {
                        deleteFirst.add(key);
                    }
                } else if (absentTarget.contains(key)) {
                    deleteFirst.add(key);
                } else {
                    drawnIn.add(key);
                }
            }
            if (rows.size() + absentTarget.size() + drawnIn.size() > MAX_KEYS) {
                throw new IllegalArgumentException("table '" + table.name() + "': moving unique values " + target.uniqueKeys()
                        + " draws more than " + MAX_KEYS + " keys into one batch; the reconciler must repair these rows");
            }
            Map<RowKey, RowKey> sourceKeys = new LinkedHashMap<>();
            for (RowKey key : drawnIn) {
                sourceKeys.put(table.toSourceKey(key), key);
            }
            Map<RowKey, Row> current = sourceKeys.isEmpty() ? Map.of()
                    : table.source().readByKeys(primary, sourceKeys.keySet(), lock);
            List<Row> brought = table.toTarget(current.values());
            for (Row row : brought) {
                RowKey key = target.keyOf(row);
                rows.put(key, row);
                // It holds a value another row of the batch takes: it must leave before that row arrives.
                deleteFirst.add(key);
            }
            sourceKeys.forEach((sourceKey, targetKey) -> {
                if (!current.containsKey(sourceKey)) {
                    absent.add(sourceKey);
                    absentTarget.add(targetKey);
                    deleteFirst.add(targetKey);
                }
            });
            lookUp = brought;
        }
        if (deleteFirst.isEmpty()) {
            return new UniqueMoves(rows, Set.of(), absent, false);
        }
        deleteFirst.addAll(absentTarget);
        return new UniqueMoves(rows, deleteFirst, absent, true);
    }

    /**
     * @return whether some unique value moves between keys: then {@link #deleteFirst()} must be deleted
     *     before {@link #rows()} are written, in the same transaction
     */
    public boolean moves() {
        return moves;
    }

    /** @return the rows to write, as target rows: the batch's own and those brought along */
    public List<Row> rows() {
        return new ArrayList<>(rows.values());
    }

    /**
     * @return the target keys to delete before writing: keys absent from the primary, and rows whose
     *     unique values move (written again afterwards); empty unless {@link #moves()}
     */
    public List<RowKey> deleteFirst() {
        return new ArrayList<>(deleteFirst);
    }

    /**
     * @return the source keys absent from the primary: the batch's own and those brought along, to be
     *     read again under the lock before the other store commits their deletes
     */
    public Set<RowKey> absentKeys() {
        return absentKeys;
    }
}
