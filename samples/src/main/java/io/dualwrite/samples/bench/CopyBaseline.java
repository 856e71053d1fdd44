package io.dualwrite.samples.bench;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.LocalDateTime;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;

/**
 * The fastest copy into PostgreSQL a developer writes by hand with JDBC: the plain copy's keyset reads
 * ({@code WHERE id > ? AND id <= ? ORDER BY id LIMIT n}, autocommit, no lock), each chunk streamed straight from
 * the result set into one {@code COPY t_order (...) FROM STDIN} (pgjdbc's {@code CopyManager}, text format) into
 * the empty table, then one commit. No upsert, no guard, no checkpoint, no lock: the ceiling a backfill into an
 * empty PostgreSQL table is compared with. With several threads the key span is cut into equal slices.
 */
final class CopyBaseline {

    private final DataSource source;
    private final DataSource target;
    private final int chunk;
    private final String select;
    private final String copy;

    CopyBaseline(DataSource source, DataSource target, int chunk) {
        this.source = source;
        this.target = target;
        this.chunk = chunk;
        this.select = "SELECT " + String.join(", ", OrderTable.COLUMNS) + " FROM " + OrderTable.NAME
                + " WHERE id > ? AND id <= ? ORDER BY id LIMIT " + chunk;
        this.copy = "COPY " + OrderTable.NAME + " (" + String.join(", ", OrderTable.COLUMNS) + ") FROM STDIN";
    }

    /** @return the COPY statement, for the report */
    String copySql() {
        return copy;
    }

    /**
     * Copies ids {@code min..max} with {@code threads} threads.
     *
     * @throws SQLException the first failure of any thread
     * @throws InterruptedException if interrupted while waiting for the threads
     */
    PlainCopy.Result run(int threads, long min, long max) throws SQLException, InterruptedException {
        return PlainCopy.inSlices(threads, min, max, "bench-copy-baseline",
                (slot, after, upTo) -> copySlice(after, upTo));
    }

    private long[] copySlice(long after, long upTo) throws SQLException {
        long rows = 0;
        long chunks = 0;
        int columns = OrderTable.COLUMNS.size();
        try (Connection from = source.getConnection(); Connection to = target.getConnection();
                PreparedStatement read = from.prepareStatement(select)) {
            to.setAutoCommit(false);
            long last = after;
            StringBuilder buffer = new StringBuilder(1 << 17);
            while (true) {
                read.setLong(1, last);
                read.setLong(2, upTo);
                int n = 0;
                CopyIn in = to.unwrap(PGConnection.class).getCopyAPI().copyIn(copy);
                try (ResultSet rs = read.executeQuery()) {
                    while (rs.next()) {
                        for (int c = 1; c <= columns; c++) {
                            if (c > 1) {
                                buffer.append('\t');
                            }
                            Object value = rs.getObject(c);
                            if (value instanceof java.sql.Timestamp) {
                                value = rs.getObject(c, LocalDateTime.class);
                            }
                            append(buffer, value);
                        }
                        buffer.append('\n');
                        last = rs.getLong(1);
                        n++;
                        if (buffer.length() >= 1 << 16) {
                            flush(in, buffer);
                        }
                    }
                    flush(in, buffer);
                    in.endCopy();
                } finally {
                    if (in.isActive()) {
                        in.cancelCopy();
                    }
                }
                to.commit();
                if (n > 0) {
                    rows += n;
                    chunks++;
                }
                if (n < chunk) {
                    return new long[] {rows, chunks};
                }
            }
        }
    }

    private static void append(StringBuilder out, Object value) {
        if (value == null) {
            out.append("\\N");
        } else if (value instanceof BigDecimal d) {
            out.append(d.toPlainString());
        } else if (value instanceof LocalDateTime t) {
            out.append(t);
        } else if (value instanceof String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '\\' -> out.append("\\\\");
                    case '\t' -> out.append("\\t");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    default -> out.append(c);
                }
            }
        } else {
            out.append(value);
        }
    }

    private static void flush(CopyIn in, StringBuilder buffer) throws SQLException {
        byte[] bytes = buffer.toString().getBytes(StandardCharsets.UTF_8);
        in.writeToCopy(bytes, 0, bytes.length);
        buffer.setLength(0);
    }
}
