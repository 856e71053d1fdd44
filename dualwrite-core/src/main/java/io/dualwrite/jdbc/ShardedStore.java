package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A connection to a sharded store, reachable with {@link Connection#unwrap}: it knows each logical table's
 * {@link ShardLayout} and hands out, within its own transaction, a connection to each real database. Its own
 * statements go to one real database (the home, which holds the library's tables). {@link TableOps} of a sharded
 * table runs its statements on the shard connections; the sharded connection commits and rolls back all of them.
 */
public interface ShardedStore {

    /**
     * The physical layout of a table.
     *
     * @param logicalTable the logical table's name
     * @return its layout; empty when the engine does not shard that table
     */
    Optional<ShardLayout> layout(String logicalTable);

    /**
     * A connection to one real database in this connection's transaction: same auto-commit mode, isolation and
     * network timeout; committed, rolled back and closed with this connection.
     *
     * @param dataSource the engine's name for the real database
     * @return the connection, opened on first use
     * @throws SQLException if it cannot be opened
     * @throws IllegalArgumentException if the engine has no such database
     */
    Connection shard(String dataSource) throws SQLException;

    /**
     * Bounds the lock waits of every real database's session but the home's (whose statements the caller runs
     * itself): {@code set} runs outside a transaction on each connection as it opens (and now on those open), and
     * {@code reset} before each goes back to its pool; a connection whose reset fails is aborted, not returned.
     * Called before any work: an open connection's transaction is rolled back to run {@code set} outside it.
     *
     * @param set the statement that bounds the waits
     * @param reset the statement that puts the session back
     * @throws SQLException if {@code set} fails on an open connection
     */
    void boundLockWaits(String set, String reset) throws SQLException;
}
