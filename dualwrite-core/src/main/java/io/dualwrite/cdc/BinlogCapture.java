package io.dualwrite.cdc;

import com.github.shyiko.mysql.binlog.BinaryLogClient;
import com.github.shyiko.mysql.binlog.event.AnnotateRowsEventData;
import com.github.shyiko.mysql.binlog.event.DeleteRowsEventData;
import com.github.shyiko.mysql.binlog.event.Event;
import com.github.shyiko.mysql.binlog.event.EventData;
import com.github.shyiko.mysql.binlog.event.EventHeaderV4;
import com.github.shyiko.mysql.binlog.event.EventType;
import com.github.shyiko.mysql.binlog.event.QueryEventData;
import com.github.shyiko.mysql.binlog.event.RotateEventData;
import com.github.shyiko.mysql.binlog.event.TableMapEventData;
import com.github.shyiko.mysql.binlog.event.UpdateRowsEventData;
import com.github.shyiko.mysql.binlog.event.WriteRowsEventData;
import com.github.shyiko.mysql.binlog.event.deserialization.EventDeserializer;
import io.dualwrite.capture.Change;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.io.IOException;
import java.io.Serializable;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Change-data capture from a MariaDB (or MySQL) source's ROW-format binary log: the keys of rows that
 * writers outside the service changed are handed to the {@link Mirror}, which applies them like every other
 * captured key.
 *
 * <pre>{@code
 * BinlogCapture capture = BinlogCapture.create(config, tables, source, target, mirror);
 * capture.start();     // throws CdcUnavailableException naming the server setting or grant to change
 * ...
 * capture.close();
 * }</pre>
 *
 * <p>Keys only, a low watermark as the stored position, and one reader per log in a fleet, as
 * {@link ChangeLogCapture} describes; {@link #crashForTesting()} kills the reader between reading and
 * applying, and the resume test shows that nothing is missing.
 *
 * <p><b>The library's own writes</b> (the reverse mirror, a repair) into this store would come back as new
 * work. With {@code binlog_annotate_row_events} each statement's row events follow its text, and every
 * statement the library runs starts with {@link Dialect#MARKER}: those rows are skipped and counted
 * ({@link CdcStatus#echoesSkipped()}). An echo that gets through (annotations off) is a no-op, since the
 * apply finds both stores equal. {@link #filterEchoesForTesting(boolean)} switches the filter off for the
 * test that counts the difference.
 *
 * <p><b>Never guess a layout.</b> The log names no columns; their positions are read from
 * {@code information_schema} at start. A DDL statement naming a mapped table, a table map whose column
 * count differs, a row image without the key columns or a statement-format change of a mapped table stops
 * that table's capture: logged once as an error and shown by {@link #status()}, never read on with a guessed
 * layout. The other tables go on.
 *
 * <p><b>A sharded source</b> ({@code io.dualwrite.shard.ShardedSource}): the log names physical tables, so each
 * physical table of a mapped table, in any database of the server read, has its own layout (read from its own
 * database) and its keys go to the mapped table; the apply then reads the row by key through the sharded source,
 * which finds its shard. Every shard must have the same layout (else the table's capture stops at start, loudly);
 * a shard on another server is refused at start, since this log would never show its changes
 * ({@link PhysicalTables}).
 *
 * <p><b>GTID or file and offset.</b> When the server numbers its transactions (MariaDB always does, once
 * it has logged one; MySQL with {@code gtid_mode=ON}), each stored position carries the GTID state after it
 * as well as the file and offset, and the reader resumes by the GTID state: after a failover to a replica
 * (with {@code log_slave_updates}, whose files have other names and offsets) and after the stored file was
 * purged, the server finds the transactions that follow by their GTIDs. Without GTIDs, and for a position
 * stored without them, it resumes by file and offset; on MariaDB such a position is turned into its GTID
 * state first ({@code BINLOG_GTID_POS}), so positions stored before GTIDs were kept, or from a server that
 * had none yet, move over by themselves. A stored GTID state on a server without GTIDs resumes by its file
 * and offset.
 *
 * <p>Threads: one reader (the log connection, reconnecting from the end of the last complete transaction
 * after a break) and the shared checkpointer.
 */
public final class BinlogCapture extends ChangeLogCapture {

    private static final Log log = LogFactory.getLog(BinlogCapture.class);

    /** How the server numbers its transactions, if it does. */
    enum Gtids {
        /** Not at all (MySQL with gtid_mode other than ON): positions are file and offset only. */
        NONE,
        /** MariaDB's domain-server-sequence triples. */
        MARIADB,
        /** MySQL's server-uuid:interval sets. */
        MYSQL
    }

    /**
     * The file of a position resumed by its GTID state on a server that lacks the stored file, until a
     * transaction read here places it: sorts before every file name, and is stored (with the GTID state) if
     * a checkpoint comes first, which resumes by the GTID state again.
     */
    static final String UNPLACED = "-";

    private volatile BinaryLogClient client;
    private volatile Gtids gtids = Gtids.NONE;
    private List<CapturedTable> captured = List.of();
    private Thread reader;

    // Reader-thread state: the transaction being read.
    private final Map<Long, CapturedTable> tableIds = new HashMap<>();
    private final Set<Change> transaction = new LinkedHashSet<>();
    private String file;
    private boolean skipStatement;

    private BinlogCapture(CdcConfig config, MappedTables tables, DataSource source, DataSource target, Mirror mirror) {
        super(config, tables, source, target, mirror);
    }

    /**
     * Creates a capture; {@link #start()} it after the mirror.
     *
     * @param config the settings
     * @param tables the mapped tables; their source side is the store whose log is read
     * @param source that store (for the readiness check, the column layouts and the log's head)
     * @param target the store that keeps the position table
     * @param mirror the mirror the keys are handed to
     * @return the capture
     * @throws NullPointerException if an argument is null
     */
    public static BinlogCapture create(CdcConfig config, MappedTables tables, DataSource source, DataSource target,
            Mirror mirror) {
        return new BinlogCapture(config, tables, source, target, mirror);
    }

    @Override
    public BinlogCapture handOverWhile(java.util.function.BooleanSupplier handOver) {
        super.handOverWhile(handOver);
        return this;
    }

    @Override
    String logKind() {
        return "the binary log";
    }

    @Override
    String logName() {
        return "the binary log of " + config.host() + ":" + config.port();
    }

    @Override
    List<String> check(Connection connection, List<String> warnings) throws SQLException {
        // First: a shard this log cannot show is a setting to fix, whatever the server's readiness.
        List<PhysicalTables.Physical> physicalTables = PhysicalTables.of(connection, tables.all(), config, logName());
        BinlogReadiness.ServerSettings settings = BinlogReadiness.read(connection);
        ownWritesMarked = Boolean.TRUE.equals(settings.annotateRows());
        BinlogReadiness.Verdict verdict = BinlogReadiness.judge(settings);
        if (verdict.problems().isEmpty()) {
            List<CapturedTable> layouts = new ArrayList<>();
            Map<String, CapturedTable> firstShards = new HashMap<>();
            for (PhysicalTables.Physical physical : physicalTables) {
                CapturedTable layout = CapturedTable.read(physical);
                CapturedTable first = firstShards.putIfAbsent(physical.mapped().name(), layout);
                String difference = first == null ? null : first.layoutDifference(layout);
                if (difference != null) {
                    stopTable(physical.mapped().name(), "its physical tables are laid out differently in the log: "
                            + difference + "; give every shard the same columns in the same order");
                }
                layouts.add(layout);
            }
            this.captured = List.copyOf(layouts);
            this.gtids = gtids(connection);
        }
        warnings.addAll(verdict.warnings());
        return verdict.problems();
    }

    private static Gtids gtids(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("/* dualwrite */ SELECT VERSION()")) {
            rs.next();
            if (rs.getString(1).toLowerCase(java.util.Locale.ROOT).contains("mariadb")) {
                return Gtids.MARIADB;
            }
        }
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("/* dualwrite */ SELECT @@GLOBAL.gtid_mode")) {
            return rs.next() && "ON".equalsIgnoreCase(rs.getString(1)) ? Gtids.MYSQL : Gtids.NONE;
        } catch (SQLException noGtidMode) {
            return Gtids.NONE;
        }
    }

    /** @return how the server numbers its transactions, as found by {@link #start()} */
    Gtids gtidKind() {
        return gtids;
    }

    /** The head with its GTID state, read consistently: where a reader without a stored position starts. */
    @Override
    LogPosition firstPosition() throws SQLException {
        try (Connection connection = source.getConnection(); Statement statement = connection.createStatement()) {
            LogPosition head;
            String executed = null;
            try (ResultSet rs = statement.executeQuery("SHOW MASTER STATUS")) {
                if (!rs.next()) {
                    throw new CdcUnavailableException(List.of("SHOW MASTER STATUS returns no row: the binary log is"
                            + " off (start the server with log_bin)"));
                }
                head = new LogPosition(rs.getString(1), rs.getLong(2));
                if (gtids == Gtids.MYSQL && rs.getMetaData().getColumnCount() >= 5) {
                    executed = rs.getString(5);
                }
            }
            return switch (gtids) {
                case MARIADB -> head.withGtids(mariaDbGtidsAt(connection, head));
                case MYSQL -> head.withGtids(executed == null ? null : executed.replaceAll("\\s+", ""));
                case NONE -> head;
            };
        }
    }

    /** @return MariaDB's GTID state at a file and offset, or null when the server cannot tell */
    private static String mariaDbGtidsAt(Connection connection, LogPosition at) throws SQLException {
        try (java.sql.PreparedStatement select = connection.prepareStatement(
                "/* dualwrite */ SELECT BINLOG_GTID_POS(?, ?)")) {
            select.setString(1, at.file());
            select.setLong(2, at.position());
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /**
     * Where a stored position is on this server. Its file may not be here: purged, or written by the server
     * this one replaced in a failover. By a GTID state the reader still finds its place; but the file and
     * offset say nothing about how far it has read here, so until the first transaction read tells, the read
     * position is {@link #UNPLACED}, before every file, unless this server has logged nothing since (its GTID
     * state is the stored one), when it is this server's head.
     *
     * @return the position to read from, or null when it cannot be found on this server
     */
    private LogPosition placeOnThisServer(LogPosition from) throws SQLException {
        try (Connection connection = source.getConnection(); Statement statement = connection.createStatement()) {
            try (ResultSet rs = statement.executeQuery("SHOW BINARY LOGS")) {
                while (rs.next()) {
                    if (rs.getString(1).equals(from.file())) {
                        return from;
                    }
                }
            }
            if (gtids == Gtids.NONE || from.gtids() == null) {
                return null;
            }
            LogPosition head = serverHead();
            String now;
            try (ResultSet rs = statement.executeQuery(gtids == Gtids.MARIADB ? "SELECT @@GLOBAL.gtid_binlog_pos"
                    : "SELECT @@GLOBAL.gtid_executed")) {
                now = rs.next() ? rs.getString(1) : null;
            }
            return sameGtids(now, from.gtids()) ? head.withGtids(from.gtids())
                    : new LogPosition(UNPLACED, 0, from.gtids());
        }
    }

    /** @return whether two GTID states name the same transactions, written in any order */
    static boolean sameGtids(String a, String b) {
        if (a == null || b == null) {
            return false;
        }
        return java.util.Arrays.equals(normalisedGtids(a), normalisedGtids(b));
    }

    private static String[] normalisedGtids(String gtids) {
        String[] parts = gtids.replaceAll("\\s+", "").toLowerCase(java.util.Locale.ROOT).split(",");
        java.util.Arrays.sort(parts);
        return parts;
    }

    /**
     * A MariaDB position stored without its GTID state gets it, so that the reader resumes by GTID from now
     * on; when the server cannot tell (the file was purged), it stays file and offset.
     */
    private LogPosition withGtidsOnMariaDb(LogPosition start) {
        if (gtids != Gtids.MARIADB || start.gtids() != null) {
            return start;
        }
        try (Connection connection = source.getConnection()) {
            return start.withGtids(mariaDbGtidsAt(connection, start));
        } catch (SQLException e) {
            log.debug("dualwrite: BINLOG_GTID_POS(" + start + ") failed; resuming by file and offset", e);
            return start;
        }
    }

    @Override
    Exception startReader(LogPosition start) {
        LogPosition from = withGtidsOnMariaDb(start);
        try {
            from = placeOnThisServer(from);
        } catch (SQLException e) {
            return e;
        }
        if (from == null) {
            return new IOException("the server has no log file '" + start.file() + "' (SHOW BINARY LOGS), and the"
                    + " position was stored without a GTID state to find the transactions after it by");
        }
        if (!from.equals(start)) {
            readPosition = from;
            if (UNPLACED.equals(from.file())) {
                // The stored file sorts anywhere among this server's: the watermark starts unplaced too, so that
                // no comparison with this server's head passes before a transaction here was read and applied.
                watermark = new Watermark(from);
            }
        }
        CountDownLatch connected = new CountDownLatch(1);
        Exception[] firstFailure = new Exception[1];
        reader = new Thread(() -> readLoop(connected, firstFailure), "dualwrite-cdc-reader");
        reader.setDaemon(true);
        reader.start();
        try {
            if (!connected.await(config.connectTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS)) {
                firstFailure[0] = new IOException("no connection within " + config.connectTimeout()
                        + " (dualwrite.capture.cdc.connect-timeout)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return firstFailure[0];
    }

    @Override
    String unreadableHint(LogPosition start) {
        return "(check dualwrite.capture.cdc.host, port, username and password,"
                + " and that the user has REPLICATION SLAVE; if the server no longer has that log file (or, for a"
                + " GTID state, the transactions after it), it was purged while the capture was off: delete the row '" + config.readerName() + "' from "
                + config.positionTable() + " to start from the server's head, and reconcile the mapped tables)";
    }

    @Override
    LogPosition serverHead() throws SQLException {
        try (Connection connection = source.getConnection();
                Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery("SHOW MASTER STATUS")) {
            if (!rs.next()) {
                throw new CdcUnavailableException(List.of("SHOW MASTER STATUS returns no row: the binary log is off"
                        + " (start the server with log_bin)"));
            }
            return new LogPosition(rs.getString(1), rs.getLong(2));
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The reader thread
    // ------------------------------------------------------------------------------------------------

    private void readLoop(CountDownLatch connected, Exception[] firstFailure) {
        boolean first = true;
        while (!stopping) {
            LogPosition from = readPosition;
            BinaryLogClient next = newClient(from);
            if (first) {
                next.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
                    @Override
                    public void onConnect(BinaryLogClient c) {
                        connected.countDown();
                    }
                });
            }
            client = next;
            resetTransaction();
            file = from.file();
            try {
                next.connect();
            } catch (IOException | RuntimeException e) {
                if (first) {
                    firstFailure[0] = e;
                    connected.countDown();
                    return;
                }
                connectionLost(e);
            }
            first = false;
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

    private BinaryLogClient newClient(LogPosition from) {
        BinaryLogClient c = new BinaryLogClient(config.host(), config.port(), config.username(), config.password());
        c.setServerId(config.serverId());
        if (gtids != Gtids.NONE && from.gtids() != null) {
            // Resumes after the transactions in the set, whatever this server's files are called.
            c.setGtidSet(from.gtids());
        } else {
            c.setBinlogFilename(from.file());
            c.setBinlogPosition(from.position());
        }
        c.setKeepAlive(false);
        c.setConnectTimeout(config.connectTimeout().toMillis());
        c.setUseSendAnnotateRowsEvent(true);
        EventDeserializer deserializer = new EventDeserializer();
        deserializer.setCompatibilityMode(EventDeserializer.CompatibilityMode.CHAR_AND_BINARY_AS_BYTE_ARRAY,
                EventDeserializer.CompatibilityMode.DATE_AND_TIME_AS_LONG_MICRO);
        c.setEventDeserializer(deserializer);
        c.registerEventListener(this::onEventSafely);
        c.registerLifecycleListener(new BinaryLogClient.AbstractLifecycleListener() {
            @Override
            public void onConnect(BinaryLogClient c) {
                connected();
            }

            @Override
            public void onEventDeserializationFailure(BinaryLogClient failed, Exception ex) {
                // The client would skip the event and read on: a skipped rows event is a lost key.
                fail("an event after " + readPosition + " could not be decoded: " + ex.getMessage(), ex);
            }

            @Override
            public void onCommunicationFailure(BinaryLogClient failed, Exception ex) {
                if (!stopping) {
                    log.warn("dualwrite: change-data capture's log connection broke after " + readPosition + ": "
                            + ex.getMessage());
                }
            }
        });
        return c;
    }

    private void onEventSafely(Event event) {
        if (stopping) {
            return;
        }
        try {
            onEvent(event);
        } catch (RuntimeException e) {
            fail("reading the event after " + readPosition + " failed: " + e, e);
        }
    }

    private void onEvent(Event event) {
        EventType type = event.getHeader().getEventType();
        EventData data = event.getData();
        switch (type) {
            case ROTATE -> file = ((RotateEventData) data).getBinlogFilename();
            case MARIADB_GTID, GTID -> resetTransaction();
            case ANNOTATE_ROWS -> skipStatement = filterEchoes && isOwnStatement(((AnnotateRowsEventData) data).getRowsQuery());
            case TABLE_MAP -> tableMap((TableMapEventData) data);
            case XID -> endTransaction(event);
            // An XA transaction's rows are logged before it commits, in a separate XA COMMIT: its keys
            // would be dropped at the next transaction's start, so the capture stops rather than lose them.
            case XA_PREPARE -> fail("an XA transaction (XA PREPARE) at " + positionAfter(event)
                    + " is not supported by the change-data capture; reconcile the mapped tables after it", null);
            case QUERY -> query((QueryEventData) data, event);
            default -> {
                if (EventType.isRowMutation(type)) {
                    rows(type, data);
                }
            }
        }
    }

    private static boolean isOwnStatement(String sql) {
        return sql != null && sql.stripLeading().startsWith(Dialect.MARKER);
    }

    private void resetTransaction() {
        transaction.clear();
        skipStatement = false;
    }

    private void query(QueryEventData data, Event event) {
        String sql = data.getSql();
        if (sql == null || sql.equalsIgnoreCase("BEGIN")) {
            return;
        }
        if (sql.equalsIgnoreCase("COMMIT") || sql.equalsIgnoreCase("ROLLBACK")) {
            endTransaction(event);
            return;
        }
        List<DdlStatements.Name> ddl = DdlStatements.touched(sql);
        if (!ddl.isEmpty()) {
            stopNamed(ddl, data.getDatabase(), "DDL seen in the log at " + positionAfter(event) + ": "
                    + abbreviated(sql));
            // A DDL statement commits on its own.
            endTransaction(event);
            return;
        }
        List<DdlStatements.Name> statementChanges = DdlStatements.changedAsStatement(sql);
        if (!statementChanges.isEmpty()) {
            stopNamed(statementChanges, data.getDatabase(), "rows changed by a statement logged in statement format"
                    + " at " + positionAfter(event) + " (binlog_format is not ROW for that session), whose keys the"
                    + " log does not give: " + abbreviated(sql));
        }
    }

    private void stopNamed(List<DdlStatements.Name> names, String defaultDatabase, String reason) {
        for (DdlStatements.Name name : names) {
            String database = name.database() != null ? name.database() : defaultDatabase;
            for (CapturedTable table : captured) {
                if (database != null && table.matches(database, name.table())) {
                    stopTable(table, reason);
                }
            }
        }
    }

    private void tableMap(TableMapEventData data) {
        CapturedTable found = null;
        for (CapturedTable table : captured) {
            if (table.matches(data.getDatabase(), data.getTable())) {
                found = table;
            }
        }
        if (found == null || isStopped(found.mapped().name())) {
            tableIds.remove(data.getTableId());
            return;
        }
        String mismatch = found.layoutMismatch(data.getColumnTypes());
        if (mismatch != null) {
            stopTable(found, mismatch + " (its structure changed; the DDL was not seen in the log read)");
            tableIds.remove(data.getTableId());
            return;
        }
        tableIds.put(data.getTableId(), found);
    }

    private void rows(EventType type, EventData data) {
        if (EventType.isWrite(type)) {
            WriteRowsEventData write = (WriteRowsEventData) data;
            CapturedTable table = capturing(write.getTableId(), write.getRows().size());
            if (table != null) {
                for (Serializable[] row : write.getRows()) {
                    add(table, table.keyOf(row, write.getIncludedColumns()), true);
                }
            }
        } else if (EventType.isUpdate(type)) {
            UpdateRowsEventData update = (UpdateRowsEventData) data;
            CapturedTable table = capturing(update.getTableId(), update.getRows().size());
            if (table != null) {
                for (Map.Entry<Serializable[], Serializable[]> row : update.getRows()) {
                    RowKey before = table.keyOf(row.getKey(), update.getIncludedColumnsBeforeUpdate());
                    if (!add(table, before, true)) {
                        return;
                    }
                    // The after image may leave out an unchanged key; a changed one is a second key.
                    RowKey after = table.keyOf(row.getValue(), update.getIncludedColumns());
                    if (after != null && !after.equals(before)) {
                        add(table, after, false);
                    }
                }
            }
        } else {
            DeleteRowsEventData delete = (DeleteRowsEventData) data;
            CapturedTable table = capturing(delete.getTableId(), delete.getRows().size());
            if (table != null) {
                for (Serializable[] row : delete.getRows()) {
                    add(table, table.keyOf(row, delete.getIncludedColumns()), true);
                }
            }
        }
    }

    /** @return the table whose rows these are, when they are to be captured */
    private CapturedTable capturing(long tableId, int rows) {
        CapturedTable table = tableIds.get(tableId);
        if (table == null || isStopped(table.mapped().name())) {
            return null;
        }
        if (skipStatement) {
            echoesSkipped.addAndGet(rows);
            return null;
        }
        return table;
    }

    private boolean add(CapturedTable table, RowKey key, boolean required) {
        if (key == null) {
            if (required) {
                stopTable(table, "a row image in the log lacks a key column (binlog_row_image must be FULL or NOBLOB)");
            }
            return false;
        }
        transaction.add(new Change(table.mapped().name(), key));
        return true;
    }

    private void endTransaction(Event event) {
        endTransaction(positionAfter(event), transaction);
        resetTransaction();
    }

    private LogPosition positionAfter(Event event) {
        LogPosition after = new LogPosition(file, ((EventHeaderV4) event.getHeader()).getNextPosition());
        BinaryLogClient c = client;
        // The client adds a transaction's GTID to its set before it hands the commit event to the listeners.
        return gtids == Gtids.NONE || c == null ? after : after.withGtids(c.getGtidSet());
    }

    private void stopTable(CapturedTable table, String reason) {
        stopTable(table.mapped().name(), reason);
        transaction.removeIf(change -> change.table().equals(table.mapped().name()));
    }

    @Override
    void disconnectAfterFailure() {
        BinaryLogClient c = client;
        if (c != null) {
            disconnectQuietly(c);
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The checkpoint thread
    // ------------------------------------------------------------------------------------------------

    @Override
    void readHead() throws SQLException {
        LogPosition at = readPosition;
        try (Connection connection = source.getConnection(); Statement statement = connection.createStatement()) {
            long behind = 0;
            boolean counting = false;
            LogPosition last = null;
            try (ResultSet rs = statement.executeQuery("SHOW BINARY LOGS")) {
                while (rs.next()) {
                    String name = rs.getString(1);
                    long size = rs.getLong(2);
                    if (name.equals(at.file())) {
                        counting = true;
                        behind += Math.max(0, size - at.position());
                    } else if (counting) {
                        behind += size;
                    }
                    last = new LogPosition(name, size);
                }
            }
            head = last;
            logLagBytes = counting ? behind : -1;
        }
    }

    @Override
    void stopReader() {
        stopping = true;
        BinaryLogClient c = client;
        if (c != null) {
            disconnectQuietly(c);
        }
        Thread r = reader;
        if (r != null && r != Thread.currentThread()) {
            try {
                r.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static void disconnectQuietly(BinaryLogClient c) {
        try {
            c.disconnect();
        } catch (IOException e) {
            log.debug("dualwrite: closing the binary log connection failed", e);
        }
    }

    private static String abbreviated(String sql) {
        String line = sql.replaceAll("\\s+", " ").trim();
        return line.length() <= 200 ? line : line.substring(0, 200) + "...";
    }
}
