package io.dualwrite.cdc;

import java.util.Objects;

/**
 * A place in a MariaDB/MySQL binary log: a file of the server's log and a byte offset in it. The position
 * of a transaction is the one just after its commit event, where reading resumes without a gap. A place in
 * PostgreSQL's write-ahead log is the file {@code lsn} with the LSN as the offset, shown as PostgreSQL
 * shows it ({@code lsn:0/16B3748}).
 *
 * @param file the log file's name, such as {@code binlog.000042}
 * @param position the byte offset in it
 */
public record LogPosition(String file, long position) implements Comparable<LogPosition> {

    /**
     * Checks the parts.
     *
     * @throws NullPointerException if {@code file} is null
     * @throws IllegalArgumentException if {@code position} is negative
     */
    public LogPosition {
        Objects.requireNonNull(file, "file");
        if (position < 0) {
            throw new IllegalArgumentException("log position must not be negative, was " + position);
        }
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
        return file + ":" + position;
    }
}
