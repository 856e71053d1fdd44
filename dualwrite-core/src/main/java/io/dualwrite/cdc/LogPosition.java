package io.dualwrite.cdc;

import java.util.Objects;

/**
 * A place in a MariaDB/MySQL binary log: a file of the server's log and a byte offset in it, and, when the
 * server numbers its transactions, the GTID state there. The position of a transaction is the one just after
 * its commit event, where reading resumes without a gap. A place in PostgreSQL's write-ahead log is the file
 * {@code lsn} with the LSN as the offset, shown as PostgreSQL shows it ({@code lsn:0/16B3748}).
 *
 * <p>File names and offsets belong to one server: a replica promoted after a failover writes its own files.
 * A GTID state (MariaDB's {@code gtid_binlog_pos} form, {@code 0-1-4711}, or MySQL's GTID set,
 * {@code 3e11fa47-71ca-11e1-9e33-c80aa9429562:1-77}) names the same transactions on every server of the
 * replication topology, so a reader that resumes by it finds its place on any of them. Positions are ordered
 * by file and offset only, which is meaningful on one server.
 *
 * @param file the log file's name, such as {@code binlog.000042}
 * @param position the byte offset in it
 * @param gtids the GTID state after the position, or null when the server has none (or it is not known)
 */
public record LogPosition(String file, long position, String gtids) implements Comparable<LogPosition> {

    /**
     * Checks the parts.
     *
     * @throws NullPointerException if {@code file} is null
     * @throws IllegalArgumentException if {@code position} is negative or {@code gtids} is blank
     */
    public LogPosition {
        Objects.requireNonNull(file, "file");
        if (position < 0) {
            throw new IllegalArgumentException("log position must not be negative, was " + position);
        }
        if (gtids != null && gtids.isBlank()) {
            throw new IllegalArgumentException("a GTID state must not be blank; use null for none");
        }
    }

    /**
     * A position without a GTID state.
     *
     * @param file the log file's name
     * @param position the byte offset in it
     * @throws NullPointerException if {@code file} is null
     * @throws IllegalArgumentException if {@code position} is negative
     */
    public LogPosition(String file, long position) {
        this(file, position, null);
    }

    /**
     * @param gtids the GTID state at this position, or null or blank for none
     * @return this position with that GTID state
     */
    public LogPosition withGtids(String gtids) {
        return new LogPosition(file, position, gtids == null || gtids.isBlank() ? null : gtids);
    }

    /**
     * Orders by file, then offset. The server numbers its files with a zero-padded counter, so their names
     * sort as they were written; a name whose counter outgrew the padding sorts by its length first.
     */
    @Override
    public int compareTo(LogPosition other) {
        int byLength = Integer.compare(file.length(), other.file.length());
        int byFile = byLength != 0 ? byLength : file.compareTo(other.file);
        return byFile != 0 ? byFile : Long.compare(position, other.position);
    }

    @Override
    public String toString() {
        if (file.equals("lsn")) {
            return "lsn:" + Long.toHexString(position >>> 32).toUpperCase(java.util.Locale.ROOT) + "/"
                    + Long.toHexString(position & 0xFFFFFFFFL).toUpperCase(java.util.Locale.ROOT);
        }
        return file + ":" + position + (gtids == null ? "" : " (GTID " + gtids + ")");
    }
}
