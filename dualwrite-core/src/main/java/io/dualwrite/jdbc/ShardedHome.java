package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Optional;

/**
 * A sharded store's {@code DataSource} that can reach, inside an application's transaction on the sharding engine,
 * that transaction's own connection to the home database (the real database holding the library's tables). The
 * OUTBOX rows of a transaction routed to a sharded store go there, so that they commit with the application's
 * rows instead of being refused by the engine, which does not know the library's tables.
 */
public interface ShardedHome {

    /**
     * The home database's connection of the engine's transaction that {@code application} belongs to, opened in it
     * if it has none yet. It belongs to the engine: committed, rolled back and closed with {@code application}.
     *
     * @param application a connection the application's transaction uses (possibly wrapped)
     * @return the home connection; empty when {@code application} is not a connection of this store's engine
     * @throws SQLException if the engine cannot open it
     */
    Optional<Connection> homeConnection(Connection application) throws SQLException;
}
