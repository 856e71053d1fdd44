package io.dualwrite.capture;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;

/**
 * Records that the current transaction changed rows, for code that cannot use {@link DualWrite}.
 * Inside a Spring-managed transaction the changes are mirrored after it commits and forgotten if it
 * rolls back; outside one (no transaction, or {@code SUPPORTS}, {@code NOT_SUPPORTED}, {@code NEVER},
 * where every write auto-commits), they are handed on at once, so call it after the write.
 *
 * <pre>{@code
 * jdbc.update("UPDATE t_order SET status = ? WHERE id = ?", status, id);
 * changes.record("t_order", id);
 * }</pre>
 *
 * <p>A write made from another synchronization's after-commit callback (for example a
 * {@code @TransactionalEventListener(AFTER_COMMIT)}) must run in its own transaction
 * ({@code REQUIRES_NEW}), as Spring requires for any write there: a change recorded into a transaction
 * that has already committed is never handed on.
 */
public interface ChangeRecorder {

    /**
     * Records one changed row.
     *
     * @param table the source table, as named in the table mappings
     * @param key the row's key: a single value, or a {@link java.util.List} or array for a composite key
     * @throws IllegalArgumentException if the key or one of its values is {@code null}, or the table is
     *     not mapped
     */
    void record(String table, Object key);

    /**
     * Records several changed rows of one table.
     *
     * @param table the source table
     * @param keys the keys
     * @throws IllegalArgumentException if a key is {@code null} or the table is not mapped
     */
    default void recordAll(String table, Collection<?> keys) {
        for (Object key : keys) {
            record(table, key);
        }
    }

    /**
     * Records changes, possibly of several tables, as one unit: in the current transaction's change set,
     * or handed on at once when no transaction is active.
     *
     * @param changes the changes
     * @throws IllegalArgumentException if a table is not mapped
     */
    default void recordAll(Collection<Change> changes) {
        for (Change change : changes) {
            record(change.table(), change.key());
        }
    }

    /**
     * Records changes that a transaction Spring does not manage has already committed: a raw JDBC
     * statement in autocommit mode, or a raw transaction right after its {@code commit()}. They are
     * handed on now, even while a synchronization of some unrelated transaction is active on the
     * thread, whose rollback must not drop them.
     *
     * @param changes the committed changes
     * @throws IllegalArgumentException if a table is not mapped
     */
    default void recordCommitted(Collection<Change> changes) {
        recordAll(changes);
    }

    /**
     * Records changes of a transaction Spring does not manage, just before it commits on
     * {@code connection}: what must commit with them (the OUTBOX rows) is written there now, in that
     * transaction. The caller commits, and then runs the returned hand-over, even if the commit failed
     * (a needless apply only re-reads rows). If this throws, the caller rolls back instead.
     *
     * <p>The default writes nothing and hands on through {@link #recordCommitted} after the commit.
     *
     * @param changes the changes the transaction made
     * @param connection the physical connection, with its transaction open
     * @return what to run once {@code commit()} has returned
     * @throws SQLException if the changes could not be written; nothing must commit then
     */
    default Runnable recordCommitting(Collection<Change> changes, Connection connection) throws SQLException {
        return () -> recordCommitted(changes);
    }

    /**
     * The physical commit of a Spring-managed transaction is about to run on {@code connection}: what the
     * transaction recorded after Spring's {@code beforeCommit} callbacks (a JPA provider flushes its writes
     * inside the commit, after them) is written there now, in that transaction.
     *
     * <p>The default writes nothing.
     *
     * @param connection the physical connection, with the transaction open
     * @throws SQLException if the changes could not be written; the caller rolls back
     */
    default void beforeConnectionCommit(Connection connection) throws SQLException {
    }

    /**
     * Whether {@link #recordCommitting} writes anything (OUTBOX): then transparent capture runs an
     * autocommit write in a short transaction of its own, so that the write and its outbox rows commit
     * together or not at all.
     *
     * @return whether changes must be written in the application's transaction
     */
    default boolean writesBeforeCommit() {
        return false;
    }
}
