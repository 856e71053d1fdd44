package io.dualwrite.samples.bench;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.LocalDateTime;
import javax.sql.DataSource;

/**
 * The fastest copy into MariaDB a developer writes by hand with JDBC: the plain copy's keyset reads
 * ({@code WHERE id > ? AND id <= ? ORDER BY id LIMIT n}, autocommit, no lock), each chunk encoded as tab-separated
 * text and sent by one {@code LOAD DATA LOCAL INFILE} (Connector/J's {@code setLocalInfileInputStream}) straight into
 * the empty table, then one commit. No staging table, no upsert, no guard, no checkpoint, no lock: the ceiling a
 * backfill into an empty MariaDB table is compared with. With several threads the key span is cut into equal slices.
 * With {@code replace}, {@code LOAD DATA ... REPLACE}: the ceiling for a table that already holds some of the rows
 * (each present row overwritten in place, unguarded), run against the same prefilled table as the backfill.
 */
final class LoadDataBaseline {

    private final DataSource source;
    private final DataSource target;
    private final int chunk;
    private final String select;
    private final String load;

    LoadDataBaseline(DataSource source, DataSource target, int chunk) {
        this(source, target, chunk, false);
    }

    LoadDataBaseline(DataSource source, DataSource target, int chunk, boolean replace) {
        this.source = source;
        this.target = target;
        this.chunk = chunk;
        this.select = "SELECT " + String.join(", ", OrderTable.COLUMNS) + " FROM " + OrderTable.NAME
                + " WHERE id > ? AND id <= ? ORDER BY id LIMIT " + chunk;
        this.load = "LOAD DATA LOCAL INFILE 'chunk.tsv' " + (replace ? "REPLACE " : "") + "INTO TABLE "
                + OrderTable.NAME + " CHARACTER SET utf8mb4"
                + " FIELDS TERMINATED BY X'09' ESCAPED BY X'5C' LINES TERMINATED BY X'0A' ("
                + String.join(", ", OrderTable.COLUMNS) + ")";
    }

    /** @return the LOAD DATA statement, for the report */
    String loadSql() {
        return load;
    }

    /**
     * Copies ids {@code min..max} with {@code threads} threads.
     *
     * @throws SQLException the first failure of any thread
     * @throws InterruptedException if interrupted while waiting for the threads
     */
    PlainCopy.Result run(int threads, long min, long max) throws SQLException, InterruptedException {
        return PlainCopy.inSlices(threads, min, max, "bench-load-baseline",
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
            StringBuilder text = new StringBuilder(1 << 17);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream(1 << 20);
            while (true) {
                read.setLong(1, last);
                read.setLong(2, upTo);
                int n = 0;
                bytes.reset();
                try (ResultSet rs = read.executeQuery()) {
                    while (rs.next()) {
                        for (int c = 1; c <= columns; c++) {
                            if (c > 1) {
                                text.append('\t');
                            }
                            Object value = rs.getObject(c);
                            if (value instanceof java.sql.Timestamp) {
                                value = rs.getObject(c, LocalDateTime.class);
                            }
                            append(text, value);
                        }
                        text.append('\n');
                        last = rs.getLong(1);
                        n++;
                        if (text.length() >= 1 << 16) {
                            bytes.writeBytes(text.toString().getBytes(StandardCharsets.UTF_8));
                            text.setLength(0);
                        }
                    }
                }
                bytes.writeBytes(text.toString().getBytes(StandardCharsets.UTF_8));
                text.setLength(0);
                if (n > 0) {
                    try (Statement statement = to.createStatement()) {
                        statement.unwrap(org.mariadb.jdbc.Statement.class)
                                .setLocalInfileInputStream(new ByteArrayInputStream(bytes.toByteArray()));
                        statement.executeUpdate(load);
                    }
                    to.commit();
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
            out.append(t.toLocalDate()).append(' ').append(t.toLocalTime());
        } else if (value instanceof String s) {
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '\\' -> out.append("\\\\");
                    case '\t' -> out.append("\\t");
                    case '\n' -> out.append("\\n");
                    case '\r' -> out.append("\\r");
                    case '\0' -> out.append("\\0");
                    default -> out.append(c);
                }
            }
        } else {
            out.append(value);
        }
    }
}
