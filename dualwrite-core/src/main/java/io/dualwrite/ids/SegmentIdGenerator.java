package io.dualwrite.ids;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.LibraryWork;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * Ids that no store generates: each instance leases a block of ids per name from the table
 * {@value #TABLE} (in the control store's database) and hands them out from memory, like the segment mode
 * of the id services large teams run. For applications that take id generation out of the database before
 * a migration, so that nothing the stores do (sequences left behind by a backfill, both stores taking
 * inserts during RAMP) can make two rows share an id.
 *
 * <h2>Why no id is handed out twice</h2>
 * A lease is one transaction: {@code UPDATE ... SET next_id = next_id + block} and the read of the new
 * value, under the row's lock, so two instances (or two generators in one) get disjoint blocks. The lease
 * commits before the first id of its block is handed out, so an instance that dies, or restarts, has
 * leased everything it may have handed out: the rest of its block is skipped, never handed out again. Ids
 * grow within an instance, not across instances, and have gaps.
 *
 * <p>Use it from JDBC code with {@link #next(String)} or {@link #supplier(String)}, and from Hibernate
 * entities with {@link SegmentId} once {@link #install} has named the generator they use (the starter
 * does). Thread-safe; a thread that finds a block used up leases the next one while the others taking
 * ids of that name wait for it.
 */
public final class SegmentIdGenerator {

    /** The table segments are leased from. */
    public static final String TABLE = "dualwrite_id_segment";

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.:-]{1,128}");
    private static volatile SegmentIdGenerator installed;

    private final DataSource dataSource;
    private final int blockSize;
    private final long start;
    private final Map<String, Segment> segments = new ConcurrentHashMap<>();

    private SegmentIdGenerator(DataSource dataSource, int blockSize, long start) {
        this.dataSource = dataSource;
        this.blockSize = blockSize;
        this.start = start;
    }

    /**
     * Opens a generator on a database, creating its table if allowed.
     *
     * @param dataSource the control store's database, reached by every instance
     * @param blockSize how many ids one lease takes ({@code dualwrite.ids.segment.block-size}); an instance
     *     that restarts skips what was left of its block
     * @param start the first id of a name leased for the first time ({@code dualwrite.ids.segment.start}):
     *     above every id the tables it serves already hold, on both stores
     * @param createTable whether a missing table may be created ({@code dualwrite.schema.create})
     * @return the generator
     * @throws IllegalArgumentException if the block size is below 1 or the start below 1
     * @throws IllegalStateException if the table is missing and may not be created; the message holds the DDL
     * @throws SQLException if the database cannot be reached
     */
    public static SegmentIdGenerator open(DataSource dataSource, int blockSize, long start, boolean createTable)
            throws SQLException {
        Objects.requireNonNull(dataSource, "dataSource");
        if (blockSize < 1) {
            throw new IllegalArgumentException("dualwrite.ids.segment.block-size: " + blockSize + " is below 1");
        }
        if (start < 1) {
            throw new IllegalArgumentException("dualwrite.ids.segment.start: " + start + " is below 1");
        }
        try (LibraryWork.Scope work = LibraryWork.enter(); Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            if (TableMetadata.read(connection, TABLE).isEmpty()) {
                if (!createTable) {
                    throw new IllegalStateException("dualwrite.ids.segment needs the table " + TABLE + " in the control"
                            + " store's database. Create it with:\n" + ddl() + ";\nor set dualwrite.schema.create=true"
                            + " to let dualwrite do it.");
                }
                try (Statement statement = connection.createStatement()) {
                    statement.execute(ddl());
                } catch (SQLException e) {
                    if (TableMetadata.read(connection, TABLE).isEmpty()) {
                        throw e;
                    }
                    // Another instance starting at the same time created it first.
                }
            }
        }
        return new SegmentIdGenerator(dataSource, blockSize, start);
    }

    /** @return the DDL of the segment table; the types are common to MariaDB, PostgreSQL and H2 */
    public static String ddl() {
        return "CREATE TABLE " + TABLE + " (\n"
                + "  name VARCHAR(128) NOT NULL PRIMARY KEY,\n"
                + "  next_id BIGINT NOT NULL,\n"
                + "  updated_ms BIGINT NOT NULL\n"
                + ")";
    }

    /**
     * Makes this the generator {@link SegmentId} entities draw from, in this class loader.
     *
     * @param generator the generator, or null to remove it
     */
    public static void install(SegmentIdGenerator generator) {
        installed = generator;
    }

    /**
     * @return the generator {@link #install} named
     * @throws IllegalStateException if none was
     */
    static SegmentIdGenerator installed() {
        SegmentIdGenerator generator = installed;
        if (generator == null) {
            throw new IllegalStateException("dualwrite: an entity's @SegmentId needs a SegmentIdGenerator; set"
                    + " dualwrite.ids.segment.enabled=true (the starter installs one), or call"
                    + " SegmentIdGenerator.install");
        }
        return generator;
    }

    /**
     * Hands out the next id of a name.
     *
     * @param name the id sequence's name, such as the table's: 1 to 128 letters, digits, {@code _.:-}
     * @return an id no generator on this table has handed out or will hand out
     * @throws IllegalArgumentException if the name is not valid
     * @throws IllegalStateException if a block cannot be leased (the cause says why)
     */
    public long next(String name) {
        return segments.computeIfAbsent(checkName(name), Segment::new).next();
    }

    /**
     * @param name the id sequence's name
     * @return a supplier of its ids, for code that takes one
     * @throws IllegalArgumentException if the name is not valid
     */
    public LongSupplier supplier(String name) {
        Segment segment = segments.computeIfAbsent(checkName(name), Segment::new);
        return segment::next;
    }

    private static String checkName(String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("dualwrite segment id name '" + name + "': use 1 to 128 letters, digits"
                    + " and _ . : -");
        }
        return name;
    }

    /** Leases the next block of a name: its first id; the block is {@code [first, first + blockSize)}. */
    private long lease(String name) throws SQLException {
        try (LibraryWork.Scope work = LibraryWork.enter(); Connection connection = dataSource.getConnection()) {
            boolean autoCommit = connection.getAutoCommit();
            connection.setAutoCommit(false);
            try {
                long end = advance(connection, name);
                if (end < 0) {
                    try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + TABLE
                            + " (name, next_id, updated_ms) VALUES (?, ?, ?)")) {
                        insert.setString(1, name);
                        insert.setLong(2, start + blockSize);
                        insert.setLong(3, System.currentTimeMillis());
                        insert.executeUpdate();
                        end = start + blockSize;
                    } catch (SQLException e) {
                        // Another instance leased this name's first block meanwhile: lease after it.
                        connection.rollback();
                        end = advance(connection, name);
                        if (end < 0) {
                            throw e;
                        }
                    }
                }
                connection.commit();
                return end - blockSize;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(autoCommit);
            }
        }
    }

    /** Moves a name's row one block on and reads where it ends, in the caller's transaction; -1 if no row. */
    private long advance(Connection connection, String name) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + TABLE
                + " SET next_id = next_id + ?, updated_ms = ? WHERE name = ?")) {
            update.setLong(1, blockSize);
            update.setLong(2, System.currentTimeMillis());
            update.setString(3, name);
            if (update.executeUpdate() == 0) {
                return -1;
            }
        }
        try (PreparedStatement read = connection.prepareStatement(Dialect.MARKER + " SELECT next_id FROM " + TABLE
                + " WHERE name = ?")) {
            read.setString(1, name);
            try (ResultSet rs = read.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** One name's block in this instance. */
    private final class Segment {

        private final String name;
        private long next;
        private long end;

        Segment(String name) {
            this.name = name;
        }

        synchronized long next() {
            if (next >= end) {
                try {
                    next = lease(name);
                } catch (SQLException e) {
                    throw new IllegalStateException("dualwrite could not lease a block of " + blockSize + " ids for '"
                            + name + "' from " + TABLE + ": " + e.getMessage(), e);
                }
                end = next + blockSize;
            }
            return next++;
        }
    }
}
