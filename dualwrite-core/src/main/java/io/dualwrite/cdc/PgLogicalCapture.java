package io.dualwrite.cdc;

import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Pattern;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.postgresql.PGConnection;
import org.postgresql.PGProperty;
import org.postgresql.replication.LogSequenceNumber;
import org.postgresql.replication.PGReplicationStream;

/**
 * Change-data capture from a PostgreSQL source by logical decoding: a logical replication slot read with
 * the built-in {@code pgoutput} plugin (protocol version 1) over pgjdbc's replication API, for a publication
 * of the mapped source tables. The keys of rows that writers outside the service changed are handed to the
 * {@link Mirror}, which applies them like every other captured key.
 *
 * <pre>{@code
 * PgLogicalCapture capture = PgLogicalCapture.create(
 *         CdcConfig.builder().server("pg", 5432).credentials("dualwrite_cdc", secret).logicalDecoding("orders").build(),
 *         tables, source, target, mirror);
 * capture.start();     // throws CdcUnavailableException naming the setting or grant to change
 * }</pre>
 *
 * <p>Keys only, a low watermark as the stored position, and one reader per slot in a fleet, as
 * {@link ChangeLogCapture} describes. A position is an LSN, stored as {@code ('lsn', the LSN as a number)}.
 *
 * <p><b>The slot keeps what a crash needs.</b> The server discards write-ahead log only up to the slot's
 * confirmed flush position, which this reader reports ({@code setFlushedLSN}, {@code setAppliedLSN},
 * {@code forceUpdateStatus}) only up to the position <em>stored</em> in the position table: the end of the
 * last transaction all of whose keys have been applied. A restart asks for the stored position and gets every
 * transaction committed after it; the server itself would start past a later acknowledged position, whatever
 * the reader asks for, so {@link #acknowledgeReadPositionForTesting()} is the negative control that loses the
 * keys a crash left unapplied. The slot and the publication are created when missing (or given by name)
 * and left in place on close: a capture that restarts must find them. Drop both when the migration is over;
 * a slot nobody reads keeps the server's log without bound.
 *
 * <p><b>A sharded source</b> ({@code io.dualwrite.shard.ShardedSource}): pgoutput names physical tables, so each
 * physical table of a mapped table, in any schema of the slot's database, is published and described on its own,
 * and its keys go to the mapped table; the apply then reads the row by key through the sharded source, which finds
 * its shard. A shard in another database or on another server is refused at start, since a slot decodes one
 * database's log ({@link PhysicalTables}).
 *
 * <p><b>How far has it read?</b> pgoutput sends nothing for transactions without mapped changes, so the
 * read position also moves with the server's keepalives (the position decoded up to), but only between
 * transactions: every transaction that committed before it has been sent by then.
 *
 * <p><b>The library's own writes</b> into this store (the reverse mirror during RAMP, a repair) would come
 * back as new work. While this capture runs, the library's writes to the mapped source tables emit a
 * transactional logical message ({@code pg_logical_emit_message(true, 'dualwrite', '')}, allowed to every
 * user) in their own transaction, and a transaction carrying it, or one whose replication origin is named
 * {@code dualwrite...}, is skipped and its keys counted ({@link CdcStatus#echoesSkipped()}). An echo that
 * gets through (PostgreSQL before 14 sends no messages; a write in autocommit mode carries none) is a no-op,
 * since the apply finds both stores equal. {@link #filterEchoesForTesting(boolean)} switches the filter off
 * for the test that counts the difference.
 *
 * <p><b>Never guess a layout.</b> pgoutput describes a table in a Relation message before its first change
 * and again after its columns change. A mapped table whose Relation message differs from the layout read at
 * start in its key columns, their types or its replica identity, or that lacks a mapped column (dropped or
 * renamed), and a TRUNCATE of a mapped table (which gives no keys), stop that table's capture: logged once as
 * an error and shown by {@link #status()}. The other tables go on.
 *
 * <p>Threads: one reader (the replication connection, reconnecting from the end of the last complete
 * transaction after a break; it also sends the acknowledgements, since a replication stream is not
 * thread-safe) and the shared checkpointer.
 */
public final class PgLogicalCapture extends ChangeLogCapture {

    private static final Log log = LogFactory.getLog(PgLogicalCapture.class);

    /** The {@code file} part of a stored position: PostgreSQL has one log, addressed by LSN. */
    static final String LSN = "lsn";

    /** The prefix of the logical messages the library's writes carry, and of its replication origins. */
    public static final String ECHO_PREFIX = "dualwrite";

    /**
     * Type oids of the key column types decoded: int2, int4, int8, numeric, text, varchar, bpchar, uuid, date,
     * timestamp, timestamptz, bytea.
     */
    private static final Map<Integer, String> KEY_TYPES = Map.ofEntries(Map.entry(21, "smallint"),
            Map.entry(23, "integer"), Map.entry(20, "bigint"), Map.entry(1700, "numeric"), Map.entry(25, "text"),
            Map.entry(1043, "character varying"), Map.entry(1042, "character"), Map.entry(2950, "uuid"),
            Map.entry(1082, "date"), Map.entry(1114, "timestamp"), Map.entry(1184, "timestamp with time zone"),
            Map.entry(17, "bytea"));

    /**
     * Session settings of the replication connection that fix the text form pgoutput sends key values in,
     * whatever the server's defaults: ISO dates, times with time zone in UTC, bytea as hex.
     */
    static final String OUTPUT_OPTIONS = "-c DateStyle=ISO -c TimeZone=UTC -c bytea_output=hex";

    /**
     * Connection properties of the source that the replication connection must not take over: where it
     * connects and as whom come from {@link CdcConfig}, and how it talks is set for replication.
     */
    private static final Set<String> NOT_TAKEN_OVER = Set.of(PGProperty.PG_HOST.getName(),
            PGProperty.PG_PORT.getName(), PGProperty.PG_DBNAME.getName(), PGProperty.USER.getName(),
            PGProperty.PASSWORD.getName(), PGProperty.REPLICATION.getName(), PGProperty.PREFER_QUERY_MODE.getName(),
            PGProperty.ASSUME_MIN_SERVER_VERSION.getName(), PGProperty.APPLICATION_NAME.getName(),
            PGProperty.OPTIONS.getName());

    /** A mapped table as the catalog described it at start. */
    private record Layout(MappedTable mapped, String schema, String table, Map<String, Integer> types,
            Set<String> identity) {

        boolean matches(String schema, String table) {
            return this.schema.equalsIgnoreCase(schema) && this.table.equalsIgnoreCase(table);
        }
    }

    /** A Relation message of a mapped table: where its key columns are, and their type oids. */
    private record Relation(Layout layout, int[] keyPositions, int[] keyTypes) {
    }

    private volatile List<Layout> layouts = List.of();
    /** The source's own connection settings (TLS above all), read at start from its URL. */
    private volatile Properties sourceSettings = new Properties();
    private volatile boolean messagesSupported = true;
    private volatile Thread reader;
    private volatile Connection replication;
    private volatile PGReplicationStream stream;
    private final Object streamLock = new Object();
    /** The stored position, for the reader to acknowledge to the server. */
    private volatile long acknowledgeUpTo;
    private volatile boolean acknowledgeReadPosition;
    private long acknowledged;

    // Reader-thread state.
    private final Map<Integer, Relation> relations = new HashMap<>();
    private final Set<Change> transaction = new LinkedHashSet<>();
    private boolean inTransaction;
    private boolean ownTransaction;

    private PgLogicalCapture(CdcConfig config, MappedTables tables, DataSource source, DataSource target,
            Mirror mirror) {
        super(config, tables, source, target, mirror);
    }

    /**
     * Creates a capture; {@link #start()} it after the mirror.
     *
     * @param config the settings, with {@link CdcConfig.Builder#logicalDecoding}
     * @param tables the mapped tables; their source side is the PostgreSQL store whose log is read
     * @param source that store (for the readiness check, the layouts, the publication, the slot and the head)
     * @param target the store that keeps the position table
     * @param mirror the mirror the keys are handed to
     * @return the capture
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if {@code config} is not for logical decoding
     */
    public static PgLogicalCapture create(CdcConfig config, MappedTables tables, DataSource source,
            DataSource target, Mirror mirror) {
        if (!config.logicalDecoding()) {
            throw new IllegalArgumentException("dualwrite.capture.cdc: a PostgreSQL source is read by logical"
                    + " decoding, and its settings need the database (CdcConfig.Builder.logicalDecoding)");
        }
        return new PgLogicalCapture(config, tables, source, target, mirror);
    }

    @Override
    public PgLogicalCapture handOverWhile(java.util.function.BooleanSupplier handOver) {
        super.handOverWhile(handOver);
        return this;
    }

    @Override
    String logKind() {
        return "the write-ahead log";
    }

    @Override
    String logName() {
        return "replication slot '" + config.slotName() + "' of " + config.host() + ":" + config.port() + "/"
                + config.database();
    }

    // ------------------------------------------------------------------------------------------------
    // Readiness, layouts, publication and slot
    // ------------------------------------------------------------------------------------------------

    @Override
    List<String> check(Connection connection, List<String> warnings) throws SQLException {
        // First: a shard this slot cannot show is a setting to fix, whatever the server's readiness.
        List<PhysicalTables.Physical> physicalTables = PhysicalTables.of(connection, tables.all(), config, logName());
        List<String> problems = new ArrayList<>(PgReadiness.judge(PgReadiness.read(connection, config.slotName()),
                config.slotName(), config.database()));
        if (!problems.isEmpty()) {
            return problems;
        }
        sourceSettings = sourceSettings(source, connection);
        messagesSupported = connection.getMetaData().getDatabaseMajorVersion() >= 14;
        ownWritesMarked = messagesSupported;
        if (!messagesSupported) {
            warnings.add("PostgreSQL before 14 sends no logical messages, so the library's own writes cannot be"
                    + " told apart in the log and come back as harmless extra applies");
        }
        List<Layout> read = new ArrayList<>();
        for (PhysicalTables.Physical physical : physicalTables) {
            read.add(layout(physical, problems));
        }
        if (problems.isEmpty()) {
            layouts = List.copyOf(read);
            preparePublication(connection, problems);
        }
        if (problems.isEmpty() && messagesSupported) {
            for (MappedTable table : tables.all()) {
                table.source().markWritesForLogicalDecoding(true);
            }
        }
        return problems;
    }

    private static Layout layout(PhysicalTables.Physical physical, List<String> problems) throws SQLException {
        MappedTable mapped = physical.mapped();
        Connection connection = physical.connection();
        String schema = physical.shard() == null ? mapped.source().table().schema() : null;
        if (schema == null) {
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery("/* dualwrite */ SELECT current_schema()")) {
                rs.next();
                schema = rs.getString(1);
            }
        }
        String name = physical.table();
        Map<String, Integer> types = new HashMap<>();
        Set<String> identity = new LinkedHashSet<>();
        char replicaIdentity = 'n';
        try (PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT a.attname, a.atttypid,"
                + " c.relreplident, COALESCE((SELECT true FROM pg_index i WHERE i.indrelid = c.oid AND a.attnum ="
                + " ANY(i.indkey) AND ((c.relreplident = 'd' AND i.indisprimary) OR (c.relreplident = 'i' AND"
                + " i.indisreplident))), c.relreplident = 'f') FROM pg_class c JOIN pg_namespace n ON n.oid ="
                + " c.relnamespace JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped"
                + " WHERE lower(n.nspname) = lower(?) AND lower(c.relname) = lower(?) ORDER BY a.attnum")) {
            select.setString(1, schema);
            select.setString(2, name);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    String column = rs.getString(1).toLowerCase(Locale.ROOT);
                    types.put(column, rs.getInt(2));
                    replicaIdentity = rs.getString(3).charAt(0);
                    if (rs.getBoolean(4)) {
                        identity.add(column);
                    }
                }
            }
        }
        String qualified = schema + "." + name;
        if (types.isEmpty()) {
            problems.add("table '" + qualified + "' (mapping '" + mapped.name() + "') is not in the source's catalog");
            return null;
        }
        for (String key : mapped.source().keyColumns()) {
            String column = key.toLowerCase(Locale.ROOT);
            Integer type = types.get(column);
            if (type == null) {
                problems.add("key column '" + key + "' of table '" + qualified + "' is not in the source's catalog");
            } else if (!KEY_TYPES.containsKey(type)) {
                problems.add("key column '" + key + "' of table '" + qualified + "' has a type (oid " + type
                        + ") the logical-decoding reader cannot read keys from (" + String.join(", ",
                        new java.util.TreeSet<>(KEY_TYPES.values())) + "); leave change-data capture off, or key the"
                        + " table by a column of a supported type");
            } else if (!identity.contains(column)) {
                problems.add("key column '" + key + "' of table '" + qualified + "' is not part of its replica"
                        + " identity (REPLICA IDENTITY " + switch (replicaIdentity) {
                            case 'd' -> "DEFAULT, the primary key";
                            case 'i' -> "USING INDEX";
                            default -> "NOTHING";
                        } + "), so a DELETE's log record would not carry it: ALTER TABLE " + qualified
                        + " REPLICA IDENTITY FULL, or key the mapping by the primary key");
            }
        }
        return new Layout(mapped, schema, name, Map.copyOf(types), Set.copyOf(identity));
    }

    /** Creates the publication of the mapped tables, or checks that the given one publishes each of them. */
    private void preparePublication(Connection connection, List<String> problems) throws SQLException {
        String publication = config.publicationName();
        boolean exists;
        try (PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT pubinsert AND pubupdate"
                + " AND pubdelete FROM pg_publication WHERE pubname = ?")) {
            select.setString(1, publication);
            try (ResultSet rs = select.executeQuery()) {
                exists = rs.next();
                if (exists && !rs.getBoolean(1)) {
                    problems.add("publication '" + publication + "' (dualwrite.capture.cdc.publication-name) does not"
                            + " publish every insert, update and delete: ALTER PUBLICATION " + publication
                            + " SET (publish = 'insert, update, delete, truncate')");
                }
            }
        }
        List<String> names = layouts.stream().map(l -> quote(l.schema()) + "." + quote(l.table())).toList();
        if (!exists) {
            try (Statement statement = connection.createStatement()) {
                statement.execute("/* dualwrite */ CREATE PUBLICATION " + publication + " FOR TABLE "
                        + String.join(", ", names));
                log.info("dualwrite: created publication '" + publication + "' for " + String.join(", ", names)
                        + " (drop it when the migration is over: DROP PUBLICATION " + publication + ")");
            } catch (SQLException e) {
                if (!"42710".equals(e.getSQLState())) { // created by another instance meanwhile
                    problems.add("publication '" + publication + "' could not be created (" + e.getMessage()
                            + "): create it as the tables' owner with CREATE PUBLICATION " + publication
                            + " FOR TABLE " + String.join(", ", names)
                            + ", or name an existing one in dualwrite.capture.cdc.publication-name");
                }
            }
            if (!connection.getAutoCommit()) {
                connection.commit();
            }
            return;
        }
        for (Layout layout : layouts) {
            try (PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT 1 FROM"
                    + " pg_publication_tables WHERE pubname = ? AND lower(schemaname) = lower(?) AND lower(tablename)"
                    + " = lower(?)")) {
                select.setString(1, publication);
                select.setString(2, layout.schema());
                select.setString(3, layout.table());
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        problems.add("publication '" + publication + "' (dualwrite.capture.cdc.publication-name) does"
                                + " not publish table '" + layout.schema() + "." + layout.table() + "': ALTER"
                                + " PUBLICATION " + publication + " ADD TABLE " + quote(layout.schema()) + "."
                                + quote(layout.table()));
                    }
                }
            }
        }
    }

    private static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /**
     * Creates the slot when missing.
     *
     * @return whether it was created now
     */
    private boolean ensureSlot() throws SQLException {
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(true);
            try (PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT plugin, database"
                    + " FROM pg_replication_slots WHERE slot_name = ?")) {
                select.setString(1, config.slotName());
                try (ResultSet rs = select.executeQuery()) {
                    if (rs.next()) {
                        if (!"pgoutput".equals(rs.getString(1)) || !config.database().equals(rs.getString(2))) {
                            throw new CdcUnavailableException(logKind(), List.of("replication slot '"
                                    + config.slotName() + "' (dualwrite.capture.cdc.slot-name) decodes database '"
                                    + rs.getString(2) + "' with plugin '" + rs.getString(1) + "'; it must be a"
                                    + " pgoutput slot of database '" + config.database() + "': name another slot"));
                        }
                        return false;
                    }
                }
            }
            try (PreparedStatement create = connection.prepareStatement("/* dualwrite */ SELECT lsn FROM"
                    + " pg_create_logical_replication_slot(?, 'pgoutput')")) {
                create.setString(1, config.slotName());
                create.executeQuery().close();
                log.info("dualwrite: created logical replication slot '" + config.slotName() + "' (pgoutput); it keeps"
                        + " the server's write-ahead log until read: drop it when the migration is over with SELECT"
                        + " pg_drop_replication_slot('" + config.slotName() + "')");
                return true;
            } catch (SQLException e) {
                if ("42710".equals(e.getSQLState())) {
                    return false; // another instance created it meanwhile
                }
                throw e;
            }
        }
    }

    @Override
    LogPosition firstPosition() throws SQLException {
        ensureSlot();
        try (Connection connection = source.getConnection();
                PreparedStatement select = connection.prepareStatement("/* dualwrite */ SELECT"
                        + " confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = ?")) {
            select.setString(1, config.slotName());
            try (ResultSet rs = select.executeQuery()) {
                rs.next();
                return position(LogSequenceNumber.valueOf(rs.getString(1)));
            }
        }
    }

    @Override
    LogPosition serverHead() throws SQLException {
        try (Connection connection = source.getConnection(); Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("/* dualwrite */ SELECT pg_current_wal_lsn()::text")) {
            rs.next();
            return position(LogSequenceNumber.valueOf(rs.getString(1)));
        }
    }

    @Override
    void readHead() throws SQLException {
        LogPosition at = readPosition;
        LogPosition now = serverHead();
        head = now;
        logLagBytes = at == null ? -1 : Math.max(0, now.position() - at.position());
    }

    static LogPosition position(LogSequenceNumber lsn) {
        return new LogPosition(LSN, lsn.asLong());
    }

    /** @return the LSN in PostgreSQL's own notation, such as {@code 0/16B3748} */
    static String lsn(LogPosition position) {
        return LogSequenceNumber.valueOf(position.position()).asString();
    }

    // ------------------------------------------------------------------------------------------------
    // The reader thread
    // ------------------------------------------------------------------------------------------------

    @Override
    Exception startReader(LogPosition start) {
        if (!LSN.equals(start.file())) {
            return new IllegalStateException("the stored position " + start + " is not a PostgreSQL LSN: delete the"
                    + " row '" + config.readerName() + "' from " + config.positionTable() + " to start from the slot");
        }
        try {
            if (ensureSlot()) {
                log.warn("dualwrite: replication slot '" + config.slotName() + "' was missing and is created now,"
                        + " while a position (" + lsn(start) + ") was stored: changes between that position and the"
                        + " slot's creation are not read; reconcile the mapped tables");
            }
        } catch (SQLException | RuntimeException e) {
            return e;
        }
        CountDownLatch connected = new CountDownLatch(1);
        Exception[] firstFailure = new Exception[1];
        reader = new Thread(() -> readLoop(connected, firstFailure), "dualwrite-cdc-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!connected.await(config.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                firstFailure[0] = new java.io.IOException("no connection within " + config.connectTimeout()
                        + " (dualwrite.capture.cdc.connect-timeout)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return firstFailure[0];
    }

    @Override
    String unreadableHint(LogPosition start) {
        return "(check dualwrite.capture.cdc.host, port, username and password, that the user has the REPLICATION"
                + " attribute and that pg_hba.conf lets it open a replication connection to database '"
                + config.database() + "'; a slot in use by another process is refused until it lets go)";
    }

    private void readLoop(CountDownLatch connected, Exception[] firstFailure) {
        boolean first = true;
        long slotWait = System.nanoTime() + config.connectTimeout().toNanos() / 2;
        while (!stopping) {
            try {
                try {
                    openStream(readPosition);
                } catch (SQLException busy) {
                    // A previous reader's walsender (an instance that just let go of the lease) may hold the
                    // slot for a moment after its connection closed.
                    if (first && "55006".equals(busy.getSQLState()) && System.nanoTime() < slotWait) {
                        closeStream();
                        Thread.sleep(200);
                        continue;
                    }
                    throw busy;
                }
                if (first) {
                    connected.countDown();
                }
                connected();
                first = false;
                read();
            } catch (InterruptedException e) {
                connected.countDown();
                closeStream();
                return;
            } catch (SQLException | RuntimeException e) {
                if (first) {
                    firstFailure[0] = e;
                    connected.countDown();
                    closeStream();
                    return;
                }
                if (!stopping && state != State.FAILED) {
                    connectionLost(e);
                }
            }
            closeStream();
            if (stopping) {
                return;
            }
            try {
                Thread.sleep(config.reconnectDelay().toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    private void openStream(LogPosition from) throws SQLException {
        Connection connection = DriverManager.getConnection("jdbc:postgresql://" + config.host() + ":" + config.port()
                + "/" + config.database(), replicationProperties(config, sourceSettings));
        replication = connection;
        var builder = connection.unwrap(PGConnection.class).getReplicationAPI().replicationStream().logical()
                .withSlotName(config.slotName())
                .withStartPosition(LogSequenceNumber.valueOf(from.position()))
                .withSlotOption("proto_version", "1")
                .withSlotOption("publication_names", config.publicationName())
                .withStatusInterval((int) Math.max(1, config.checkpointInterval().toMillis()), TimeUnit.MILLISECONDS);
        if (messagesSupported) {
            builder.withSlotOption("messages", "true");
        }
        stream = builder.start();
        relations.clear();
        transaction.clear();
        inTransaction = false;
        ownTransaction = false;
    }

    /**
     * Reads the source's connection settings: from the data source's URL when it is pgjdbc's own, else from
     * the URL its connections were opened with ({@code DatabaseMetaData.getURL()}), which carries the
     * settings given in the JDBC URL.
     *
     * @return the settings pgjdbc parsed from that URL; empty when there is none
     */
    static Properties sourceSettings(DataSource source, Connection connection) throws SQLException {
        String url = null;
        if (source.isWrapperFor(org.postgresql.ds.common.BaseDataSource.class)) {
            url = source.unwrap(org.postgresql.ds.common.BaseDataSource.class).getUrl();
        }
        if (url == null) {
            url = connection.getMetaData().getURL();
        }
        Properties parsed = url == null ? null : org.postgresql.Driver.parseURL(url, null);
        return parsed == null ? new Properties() : parsed;
    }

    /**
     * The replication connection's properties: the source's own connection settings ({@code sslmode},
     * {@code sslrootcert}, {@code sslcert}, {@code sslkey}, {@code sslpassword}, {@code sslfactory},
     * {@code gssEncMode}, timeouts, ...) carried over, so the log is read as securely as the tables; the user
     * and password of {@code config} (the source's password when {@code config} has none for the same user);
     * and the replication settings.
     *
     * @param config the capture's settings
     * @param sourceSettings what {@link #sourceSettings} read from the source's URL
     * @return the properties for {@code DriverManager.getConnection}
     */
    static Properties replicationProperties(CdcConfig config, Properties sourceSettings) {
        Properties properties = new Properties();
        for (String name : sourceSettings.stringPropertyNames()) {
            if (!NOT_TAKEN_OVER.contains(name)) {
                properties.setProperty(name, sourceSettings.getProperty(name));
            }
        }
        PGProperty.USER.set(properties, config.username());
        String password = config.password();
        if (password.isEmpty() && config.username().equals(sourceSettings.getProperty(PGProperty.USER.getName()))) {
            password = sourceSettings.getProperty(PGProperty.PASSWORD.getName(), "");
        }
        PGProperty.PASSWORD.set(properties, password);
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(properties, "10");
        PGProperty.REPLICATION.set(properties, "database");
        PGProperty.PREFER_QUERY_MODE.set(properties, "simple");
        if (!properties.containsKey(PGProperty.CONNECT_TIMEOUT.getName())) {
            PGProperty.CONNECT_TIMEOUT.set(properties, (int) Math.max(1, config.connectTimeout().toSeconds()));
        }
        PGProperty.APPLICATION_NAME.set(properties, "dualwrite-cdc");
        String options = sourceSettings.getProperty(PGProperty.OPTIONS.getName());
        // The source's own options first: ours come later on the command line, and the last setting wins.
        PGProperty.OPTIONS.set(properties, options == null || options.isBlank() ? OUTPUT_OPTIONS
                : options + " " + OUTPUT_OPTIONS);
        return properties;
    }

    private void read() throws SQLException {
        PGReplicationStream s = stream;
        while (!stopping) {
            ByteBuffer message = s.readPending();
            if (message == null) {
                idle(s);
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
                continue;
            }
            try {
                onMessage(message);
            } catch (RuntimeException e) {
                fail("decoding the message after " + lsn(readPosition) + " failed: " + e, e);
                return;
            }
        }
    }

    /** Between messages: moves the read position with the server's keepalives, and acknowledges. */
    private void idle(PGReplicationStream s) throws SQLException {
        long received = s.getLastReceiveLSN().asLong();
        if (!inTransaction && received > readPosition.position()) {
            LogPosition at = new LogPosition(LSN, received);
            watermark.passed(at);
            readPosition = at;
        }
        long upTo = acknowledgeReadPosition ? readPosition.position() : acknowledgeUpTo;
        if (upTo > acknowledged) {
            LogSequenceNumber lsn = LogSequenceNumber.valueOf(upTo);
            s.setFlushedLSN(lsn);
            s.setAppliedLSN(lsn);
            s.forceUpdateStatus();
            acknowledged = upTo;
        }
    }

    /**
     * Test switch, the negative control of the acknowledgement: from now on the slot is acknowledged up to the
     * last transaction read, whatever position is stored, so the server may discard the log a restart needs.
     */
    public void acknowledgeReadPositionForTesting() {
        this.acknowledgeReadPosition = true;
    }

    @Override
    void acknowledge(LogPosition safe) {
        if (safe != null && LSN.equals(safe.file()) && safe.position() > acknowledgeUpTo) {
            acknowledgeUpTo = safe.position();
        }
    }

    private void onMessage(ByteBuffer buffer) {
        byte type = buffer.get();
        switch (type) {
            case 'B' -> {
                transaction.clear();
                inTransaction = true;
                ownTransaction = false;
            }
            case 'C' -> {
                buffer.get(); // flags
                buffer.getLong(); // the commit record's LSN
                LogPosition after = new LogPosition(LSN, buffer.getLong());
                if (ownTransaction && filterEchoes) {
                    echoesSkipped.addAndGet(transaction.size());
                    transaction.clear();
                }
                endTransaction(after, transaction);
                transaction.clear();
                inTransaction = false;
            }
            case 'O' -> {
                buffer.getLong();
                if (string(buffer).startsWith(ECHO_PREFIX)) {
                    ownTransaction = true;
                }
            }
            case 'M' -> {
                byte flags = buffer.get();
                buffer.getLong();
                if ((flags & 1) != 0 && ECHO_PREFIX.equals(string(buffer))) {
                    ownTransaction = true;
                }
            }
            case 'R' -> relation(buffer);
            case 'I' -> {
                Relation relation = capturing(buffer.getInt());
                buffer.get(); // 'N'
                if (relation != null) {
                    add(relation, keyOf(relation, tuple(buffer)));
                }
            }
            case 'U' -> {
                Relation relation = capturing(buffer.getInt());
                byte part = buffer.get();
                List<byte[]> old = null;
                if (part == 'K' || part == 'O') {
                    // The old key (REPLICA IDENTITY DEFAULT or USING INDEX, only when it changed) or the old row
                    // (FULL); then the new row follows.
                    old = tuple(buffer);
                    buffer.get(); // 'N'
                }
                List<byte[]> now = tuple(buffer);
                if (relation != null) {
                    RowKey after = keyOf(relation, now);
                    if (old != null) {
                        RowKey before = keyOf(relation, old);
                        add(relation, before);
                        if (before != null && after != null && !before.equals(after)) {
                            add(relation, after);
                        }
                    } else {
                        add(relation, after);
                    }
                }
            }
            case 'D' -> {
                Relation relation = capturing(buffer.getInt());
                buffer.get(); // 'K' or 'O'
                if (relation != null) {
                    add(relation, keyOf(relation, tuple(buffer)));
                }
            }
            case 'T' -> {
                int count = buffer.getInt();
                buffer.get(); // options
                for (int i = 0; i < count; i++) {
                    Relation relation = relations.get(buffer.getInt());
                    if (relation != null) {
                        stopTable(relation.layout().mapped().name(), "TRUNCATE of the table seen in the log before "
                                + lsn(readPosition) + "; the log gives no keys for the rows it removed");
                    }
                }
            }
            default -> {
                // Type ('Y') and anything newer: nothing that changes keys.
            }
        }
    }

    private Relation capturing(int relationId) {
        Relation relation = relations.get(relationId);
        if (relation == null || isStopped(relation.layout().mapped().name())) {
            return null;
        }
        return relation;
    }

    private void add(Relation relation, RowKey key) {
        if (key == null) {
            String table = relation.layout().mapped().name();
            stopTable(table, "a change in the log lacks a key column value (is the table's replica identity still"
                    + " its key?)");
            transaction.removeIf(change -> change.table().equals(table));
            return;
        }
        transaction.add(new Change(relation.layout().mapped().name(), key));
    }

    private void relation(ByteBuffer buffer) {
        int id = buffer.getInt();
        String schema = string(buffer);
        String name = string(buffer);
        buffer.get(); // replica identity setting
        int count = buffer.getShort();
        List<String> columns = new ArrayList<>(count);
        List<Integer> types = new ArrayList<>(count);
        Set<String> identity = new LinkedHashSet<>();
        for (int i = 0; i < count; i++) {
            boolean key = (buffer.get() & 1) != 0;
            String column = string(buffer).toLowerCase(Locale.ROOT);
            columns.add(column);
            types.add(buffer.getInt());
            buffer.getInt(); // type modifier
            if (key) {
                identity.add(column);
            }
        }
        relations.remove(id);
        Layout layout = null;
        for (Layout candidate : layouts) {
            if (candidate.matches(schema, name)) {
                layout = candidate;
            }
        }
        if (layout == null || isStopped(layout.mapped().name())) {
            return;
        }
        String mismatch = mismatch(layout, columns, types, identity);
        if (mismatch != null) {
            stopTable(layout.mapped().name(), "the table's structure changed (a Relation message in the log before "
                    + lsn(readPosition) + "): " + mismatch);
            return;
        }
        List<String> keys = layout.mapped().source().keyColumns();
        int[] positions = new int[keys.size()];
        int[] keyTypes = new int[keys.size()];
        for (int k = 0; k < keys.size(); k++) {
            positions[k] = columns.indexOf(keys.get(k).toLowerCase(Locale.ROOT));
            keyTypes[k] = types.get(positions[k]);
        }
        relations.put(id, new Relation(layout, positions, keyTypes));
    }

    private static String mismatch(Layout layout, List<String> columns, List<Integer> types, Set<String> identity) {
        for (String column : layout.mapped().source().columns()) {
            if (!columns.contains(column.toLowerCase(Locale.ROOT))) {
                return "mapped column '" + column + "' is gone (dropped or renamed)";
            }
        }
        for (String key : layout.mapped().source().keyColumns()) {
            String column = key.toLowerCase(Locale.ROOT);
            int type = types.get(columns.indexOf(column));
            if (type != layout.types().get(column)) {
                return "key column '" + key + "' changed its type (oid " + layout.types().get(column) + " to " + type
                        + ")";
            }
        }
        if (!identity.equals(layout.identity())) {
            return "its replica identity columns changed from " + layout.identity() + " to " + identity;
        }
        return null;
    }

    /** @return a TupleData's values as text, null for NULL and for an unchanged TOASTed value */
    private static List<byte[]> tuple(ByteBuffer buffer) {
        int count = buffer.getShort();
        List<byte[]> values = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            byte kind = buffer.get();
            if (kind == 't' || kind == 'b') {
                byte[] value = new byte[buffer.getInt()];
                buffer.get(value);
                values.add(kind == 't' ? value : null);
            } else {
                values.add(null);
            }
        }
        return values;
    }

    private static RowKey keyOf(Relation relation, List<byte[]> tuple) {
        Object[] values = new Object[relation.keyPositions().length];
        for (int k = 0; k < values.length; k++) {
            int position = relation.keyPositions()[k];
            byte[] raw = position < tuple.size() ? tuple.get(position) : null;
            if (raw == null) {
                return null;
            }
            values[k] = decode(relation.keyTypes()[k], new String(raw, StandardCharsets.UTF_8));
        }
        return RowKey.of(values);
    }

    /**
     * Turns a key value in PostgreSQL's text output into the Java value the mirror's keys hold for its type.
     *
     * @throws IllegalStateException for a type the reader does not decode (checked at start; a type changed
     *     since stops the table first)
     */
    static Object decode(int typeOid, String text) {
        return switch (typeOid) {
            case 20, 21, 23 -> Long.valueOf(text);
            case 1700 -> new BigDecimal(text);
            case 25, 1043, 1042 -> text;
            case 2950 -> UUID.fromString(text);
            case 1082 -> LocalDate.parse(text);
            case 1114 -> LocalDateTime.parse(text.replace(' ', 'T'));
            case 1184 -> timestampTz(text);
            case 17 -> bytea(text);
            default -> throw new IllegalStateException("key column type oid " + typeOid + " is not decoded");
        };
    }

    /** PostgreSQL's ISO output with an offset of hours only ({@code +00}) or hours and minutes. */
    private static final Pattern HOURS_ONLY_OFFSET = Pattern.compile("([+-]\\d{2})$");

    private static OffsetDateTime timestampTz(String text) {
        String iso = HOURS_ONLY_OFFSET.matcher(text.replace(' ', 'T')).replaceFirst("$1:00");
        return OffsetDateTime.parse(iso).withOffsetSameInstant(ZoneOffset.UTC);
    }

    /** A bytea in the hex output format ({@code \\x0a1b}), which the replication connection asks for. */
    private static byte[] bytea(String text) {
        if (!text.startsWith("\\x")) {
            throw new IllegalStateException("a bytea key value is not in the hex output format: " + text);
        }
        return java.util.HexFormat.of().parseHex(text, 2, text.length());
    }

    private static String string(ByteBuffer buffer) {
        int start = buffer.position();
        int end = start;
        while (buffer.get(end) != 0) {
            end++;
        }
        byte[] bytes = new byte[end - start];
        buffer.get(bytes);
        buffer.get(); // the terminating zero
        return new String(bytes, StandardCharsets.UTF_8);
    }

    // ------------------------------------------------------------------------------------------------
    // Shut-down
    // ------------------------------------------------------------------------------------------------

    @Override
    void stopReader() {
        stopping = true;
        Thread r = reader;
        if (r != null && r != Thread.currentThread()) {
            try {
                r.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        closeStream();
    }

    @Override
    void disconnectAfterFailure() {
        // fail() runs on the reader, which closes its own stream as it returns.
    }

    private void closeStream() {
        // Not on this object's monitor: close() and a take-over hold it while they wait for the reader.
        synchronized (streamLock) {
            closeStreamLocked();
        }
    }

    private void closeStreamLocked() {
        PGReplicationStream s = stream;
        stream = null;
        if (s != null) {
            try {
                long upTo = acknowledgeUpTo;
                if (upTo > acknowledged && !s.isClosed()) {
                    s.setFlushedLSN(LogSequenceNumber.valueOf(upTo));
                    s.setAppliedLSN(LogSequenceNumber.valueOf(upTo));
                    s.forceUpdateStatus();
                    acknowledged = upTo;
                }
                // Not s.close(): its CopyDone waits for the walsender's answer, which a logical walsender may
                // give only at its next keepalive. Closing the connection ends the walsender at once.
            } catch (SQLException | RuntimeException e) {
                log.debug("dualwrite: closing the replication stream failed", e);
            }
        }
        Connection c = replication;
        replication = null;
        if (c != null) {
            try {
                c.close();
            } catch (SQLException e) {
                log.debug("dualwrite: closing the replication connection failed", e);
            }
        }
    }
}
