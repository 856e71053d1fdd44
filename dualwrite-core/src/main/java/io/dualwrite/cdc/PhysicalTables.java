package io.dualwrite.cdc;

import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import io.dualwrite.mapping.MappedTable;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The tables whose rows a change log shows for the mapped tables: a plain table under its own name, and a table of a
 * sharded store (a {@code ShardedSource}'s logical table, a ShardingSphere target's) as each of its physical tables,
 * under the physical table's name in the physical table's own database. A log knows nothing of logical tables: a
 * reader that looked for {@code t_order} would miss every change to {@code ds_1.t_order_3}.
 *
 * <p>A log shows one server's changes (a PostgreSQL slot: one database's). A physical table elsewhere would never
 * appear in it, and its rows would silently stop being mirrored; such a shard is refused here, before the capture
 * starts, naming the capture's and the shards' properties. Where a physical table lives is read from its data
 * source's JDBC URL (server and port) and its connection's catalog (the database): the reader compares the names it
 * is configured with, so a shard must be reached by the same host name and port as the log.
 */
final class PhysicalTables {

    /**
     * One table whose changes the log shows, and the mapped table they belong to.
     *
     * @param mapped the mapped table
     * @param shard the physical shard, or null for a table that is not sharded
     * @param connection a connection to the database that holds it (the capture's own for a table not sharded)
     * @param table its name in that database
     */
    record Physical(MappedTable mapped, ShardLayout.Shard shard, Connection connection, String table) {

        /** @return the table for messages: the mapped name, and the shard when it is one */
        String describe() {
            return shard == null ? "table '" + mapped.name() + "'"
                    : "shard " + shard + " of table '" + mapped.name() + "'";
        }
    }

    /** Where a database is: its server (host and port, as its JDBC URL names them) and its name. */
    record Place(String host, int port, String database) {

        boolean sameServer(String otherHost, int otherPort) {
            return port == otherPort && (host.equalsIgnoreCase(otherHost) || isLoopback(host) && isLoopback(otherHost));
        }

        private static boolean isLoopback(String host) {
            String h = host.toLowerCase(Locale.ROOT);
            return h.equals("localhost") || h.startsWith("127.") || h.equals("[::1]") || h.equals("::1");
        }

        @Override
        public String toString() {
            return host + ":" + port + "/" + database;
        }
    }

    /** The capture's properties, named in the refusals. */
    private static final String PROPERTY = "dualwrite.capture.cdc";

    private PhysicalTables() {
    }

    /**
     * Lists the tables whose changes the log shows for {@code tables}, refusing a shard outside the log.
     *
     * @param connection the capture's connection to its store (for a sharded store, the connection that hands out
     *     each real database's; they are closed with it)
     * @param tables the mapped tables, whose source side is the store whose log is read
     * @param config the capture's settings: the server (and database) whose log is read
     * @param log the log, for messages ({@code the binary log of db:3306})
     * @return each mapped table's physical tables, in the tables' order and then the layout's
     * @throws IllegalArgumentException listing every shard that the log cannot show, each with the properties to
     *     change
     * @throws SQLException if a real database cannot be reached
     */
    static List<Physical> of(Connection connection, Collection<MappedTable> tables, CdcConfig config, String log)
            throws SQLException {
        List<Physical> found = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        if (tables.stream().anyMatch(mapped -> mapped.source().shardLayout().isPresent())) {
            // The home database's connection reads the log's head and keeps the slot: it must be the log's too.
            if (!connection.isWrapperFor(ShardedStore.class)) {
                throw new IllegalArgumentException(PROPERTY + ": the mapped tables are sharded, but the capture was"
                        + " given a data source that does not reach their shards; give it the sharded source");
            }
            Place home = placeOf(connection);
            String where = home == null ? "a URL that names no single server" : outsideTheLog(home, config);
            if (where != null) {
                // dualwrite.source.shards.home for a source given as shards; a ShardingSphere store's own otherwise.
                String declaredBy = tables.stream().map(mapped -> mapped.source().shardLayout())
                        .flatMap(Optional::stream).findFirst().map(ShardLayout::declaredBy).orElse("its configuration");
                problems.add(PROPERTY + ": the sharded store's home data source (dualwrite.source.shards.home, or the"
                        + " home data source of " + declaredBy + "), at "
                        + (home == null ? connection.getMetaData().getURL() : home) + ", " + where + "; the capture"
                        + " reads the log's head there, so it must be on the server whose log is read");
            }
        }
        for (MappedTable mapped : tables) {
            ShardLayout layout = mapped.source().shardLayout().orElse(null);
            if (layout == null) {
                found.add(new Physical(mapped, null, connection, mapped.source().table().name()));
                continue;
            }
            ShardedStore store = connection.unwrap(ShardedStore.class);
            for (ShardLayout.Shard shard : layout.shards()) {
                Connection physical = store.shard(shard.dataSource());
                Place place = placeOf(physical);
                String where = place == null ? null : outsideTheLog(place, config);
                if (place == null) {
                    problems.add(PROPERTY + ": shard " + shard + " of table '" + mapped.name() + "' has a"
                            + " JDBC URL (" + physical.getMetaData().getURL() + ") that names no single server, so"
                            + " the capture cannot tell whether " + log + " shows its changes; give its data source"
                            + " a URL with one host and port (declared by " + layout.declaredBy() + ")");
                } else if (where != null) {
                    problems.add(PROPERTY + ": shard " + shard + " of table '" + mapped.name() + "' is in "
                            + place + ", " + where + ", so its changes would never be captured; declare only shards"
                            + " there (" + layout.declaredBy() + "), point " + PROPERTY + ".host/port at the"
                            + " one server that holds them all, or set " + PROPERTY + ".enabled=false and"
                            + " reconcile after outside writes");
                } else {
                    found.add(new Physical(mapped, shard, physical, shard.table()));
                }
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("change-data capture of a sharded store: " + String.join("; ",
                    problems));
        }
        return found;
    }

    /** @return why a place is not in the log read, or null when it is */
    private static String outsideTheLog(Place place, CdcConfig config) {
        if (!place.sameServer(config.host(), config.port())) {
            return "but the log read is " + (config.logicalDecoding() ? "database " + config.database() + "'s on "
                    : "the binary log of ") + config.host() + ":" + config.port();
        }
        if (config.logicalDecoding() && !place.database().equals(config.database())) {
            return "but replication slot '" + config.slotName() + "' decodes database " + config.database()
                    + " only (a slot belongs to one database)";
        }
        return null;
    }

    /** @return where a connection's database is, or null when its URL names no single server */
    static Place placeOf(Connection connection) throws SQLException {
        Optional<LogServer> server = LogServer.of(connection.getMetaData().getURL());
        return server.isEmpty() ? null : new Place(server.get().host(), server.get().port(), connection.getCatalog());
    }
}
