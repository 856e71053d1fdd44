package io.dualwrite.samples.bench;

import com.zaxxer.hikari.HikariDataSource;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Objects;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The reconcile benchmark's fair baseline (issue 19): what a developer would write to compare two tables as
 * fast as the machine allows. Each table is read through one streamed cursor ({@code ORDER BY id}, a fetch size
 * of {@value #FETCH}) by a thread of its own, which decodes the values and hands them over in blocks of
 * {@value #BLOCK} rows through a queue of {@value #QUEUE} blocks; the calling thread compares the two streams
 * value by value, with the little normalisation two stores need (decimal scale, CHAR padding). Both stores are
 * read at once, and both reads overlap the comparison, as the library's row path overlaps its own. No mapping, no
 * checkpoint, no re-read. Memory stays bounded by the queues.
 */
final class TwoReaderCompare {

    static final int FETCH = 5_000;
    private static final int BLOCK = 1_000;
    private static final int QUEUE = 4;
    /** The end of a stream: a block with no rows. */
    private static final Object[][] END = new Object[0][];

    private TwoReaderCompare() {
    }

    /**
     * Compares the whole {@code t_order} of two stores.
     *
     * @return the number of rows compared
     * @throws IllegalStateException if the tables differ
     */
    static long compare(HikariDataSource left, HikariDataSource right) throws SQLException, InterruptedException {
        Reader a = new Reader(left, "baseline-left");
        Reader b = new Reader(right, "baseline-right");
        a.start();
        b.start();
        try {
            int columns = OrderTable.COLUMNS.size();
            long rows = 0;
            Object[][] blockA = a.take();
            Object[][] blockB = b.take();
            int ia = 0;
            int ib = 0;
            while (true) {
                if (ia == blockA.length && blockA != END) {
                    blockA = a.take();
                    ia = 0;
                }
                if (ib == blockB.length && blockB != END) {
                    blockB = b.take();
                    ib = 0;
                }
                boolean leftEnded = blockA == END;
                boolean rightEnded = blockB == END;
                if (leftEnded || rightEnded) {
                    if (leftEnded != rightEnded) {
                        throw new IllegalStateException((leftEnded ? "left" : "right") + " side ended after " + rows
                                + " rows");
                    }
                    return rows;
                }
                Object[] x = blockA[ia++];
                Object[] y = blockB[ib++];
                for (int i = 0; i < columns; i++) {
                    if (!same(x[i], y[i])) {
                        throw new IllegalStateException("row " + x[0] + " column " + (i + 1) + " differs: " + x[i]
                                + " / " + y[i]);
                    }
                }
                rows++;
            }
        } finally {
            a.stop();
            b.stop();
        }
    }

    static boolean same(Object x, Object y) {
        if (Objects.equals(x, y)) {
            return true;
        }
        if (x instanceof BigDecimal dx && y instanceof BigDecimal dy) {
            return dx.compareTo(dy) == 0;
        }
        if (x instanceof Number nx && y instanceof Number ny) {
            return nx.longValue() == ny.longValue();
        }
        if (x instanceof String sx && y instanceof String sy) {
            return sx.stripTrailing().equals(sy.stripTrailing());
        }
        return false;
    }

    /** One side: a thread that streams the table into blocks. */
    private static final class Reader implements Runnable {
        private final HikariDataSource pool;
        private final BlockingQueue<Object[][]> blocks = new ArrayBlockingQueue<>(QUEUE);
        private final Thread thread;
        private volatile Throwable failure;
        private volatile boolean stopped;

        Reader(HikariDataSource pool, String name) {
            this.pool = pool;
            this.thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        void start() {
            thread.start();
        }

        @Override
        public void run() {
            String sql = "SELECT " + String.join(", ", OrderTable.COLUMNS) + " FROM " + OrderTable.NAME
                    + " ORDER BY id";
            int columns = OrderTable.COLUMNS.size();
            try (Connection connection = pool.getConnection()) {
                connection.setAutoCommit(false);
                try (PreparedStatement statement = connection.prepareStatement(sql, ResultSet.TYPE_FORWARD_ONLY,
                        ResultSet.CONCUR_READ_ONLY)) {
                    statement.setFetchSize(FETCH);
                    try (ResultSet rs = statement.executeQuery()) {
                        Object[][] block = new Object[BLOCK][];
                        int filled = 0;
                        while (!stopped && rs.next()) {
                            Object[] row = new Object[columns];
                            for (int i = 0; i < columns; i++) {
                                row[i] = rs.getObject(i + 1);
                            }
                            block[filled++] = row;
                            if (filled == BLOCK) {
                                put(block);
                                block = new Object[BLOCK][];
                                filled = 0;
                            }
                        }
                        if (filled > 0) {
                            put(java.util.Arrays.copyOf(block, filled));
                        }
                    }
                }
                connection.commit();
            } catch (Throwable e) {
                failure = e;
            } finally {
                try {
                    put(END);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }

        private void put(Object[][] block) throws InterruptedException {
            while (!stopped && !blocks.offer(block, 100, TimeUnit.MILLISECONDS)) {
                // The comparison stopped taking (a difference, an error): stop reading.
            }
        }

        Object[][] take() throws InterruptedException, SQLException {
            Object[][] block = blocks.take();
            if (block == END && failure != null) {
                if (failure instanceof SQLException sql) {
                    throw sql;
                }
                throw new IllegalStateException(thread.getName() + " failed", failure);
            }
            return block;
        }

        void stop() throws InterruptedException {
            stopped = true;
            blocks.clear();
            thread.join(60_000);
        }
    }
}
