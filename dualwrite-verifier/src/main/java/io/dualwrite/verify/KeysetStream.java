package io.dualwrite.verify;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.jdbc.TableOps;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One store's rows in key order, read ahead by a thread of its own, for the reconciler's row path: the reader walks
 * the table in segments (one statement each, {@code key > last ORDER BY key LIMIT segment}, its rows fetched and
 * decoded as the server sends them) and hands the rows over in blocks, so the comparison takes the first rows of a
 * segment while the server still sends the rest, and each store is read at its own pace, never waiting for the other
 * store's chunk boundaries.
 *
 * <p>Memory and the connection: at most {@code 2 * segment} rows are held ahead. A segment starts only when the rows
 * already held leave room for all of it, so a statement never waits on the comparison: it runs to its end at the
 * server's pace and no snapshot, metadata lock or half-read result outlives it (MariaDB's
 * {@code net_write_timeout} cannot cut a stalled stream, and PostgreSQL's read transaction ends with the segment).
 * The reads take no row lock. The reader uses the connection only inside a segment; {@link #hold} waits for the
 * segment under way to end and keeps the next from starting until {@link #release}, so the run may use the same
 * connection meanwhile (checkpoints, the lease, re-reads by key).
 */
final class KeysetStream implements AutoCloseable {

    /** Rows handed over at a time. */
    private static final int BLOCK = 1_000;
    /** Rows the driver fetches at a time within a segment. */
    private static final int FETCH = 5_000;

    private final TableOps ops;
    private final Connection connection;
    private final String condition;
    private final List<Object> parameters;
    private final int segment;
    private final int capacity;
    private final Thread thread;

    private final Object monitor = new Object();
    /** Guarded by {@link #monitor}: the blocks read and not yet taken. */
    private final ArrayDeque<List<Row>> blocks = new ArrayDeque<>();
    /** Guarded by {@link #monitor}: rows in {@link #blocks} and in the block being taken. */
    private int heldRows;
    /** Guarded by {@link #monitor}. */
    private boolean ended;
    /** Guarded by {@link #monitor}. */
    private Throwable failure;
    /** Guarded by {@link #monitor}. */
    private boolean stopped;
    /** Guarded by {@link #monitor}: how many {@link #hold}s are in force. */
    private int holds;
    /** Guarded by {@link #monitor}: whether the reader is inside a segment's statement. */
    private boolean reading;
    /** How many rows each segment's statement read, for tests. Guarded by {@link #monitor}. */
    private int segments;

    /** The taker's block and its position in it (only the taking thread uses them). */
    private List<Row> current = List.of();
    private int index;

    /** A stop asked while a segment is read: ends its statement early. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    /**
     * Starts reading.
     *
     * @param ops the table
     * @param connection the connection the reader uses inside a segment (see {@link #hold})
     * @param after the key the rows follow, or null from the first key
     * @param condition an extra condition, or null
     * @param parameters the condition's parameters
     * @param segment the most rows per statement
     * @param name names the reader thread
     */
    KeysetStream(TableOps ops, Connection connection, RowKey after, String condition, List<Object> parameters,
            int segment, String name) {
        this.ops = ops;
        this.connection = connection;
        this.condition = condition;
        // A condition may bind a null (List.copyOf would refuse it).
        this.parameters = java.util.Collections.unmodifiableList(new ArrayList<>(parameters));
        this.segment = segment;
        this.capacity = 2 * segment;
        this.thread = new Thread(() -> read(after), "dualwrite-reconcile-" + name + "-reader");
        thread.setDaemon(true);
        thread.start();
    }

    private void read(RowKey start) {
        RowKey after = start;
        try {
            while (true) {
                synchronized (monitor) {
                    while (!stopped && (holds > 0 || heldRows + segment > capacity)) {
                        monitor.wait();
                    }
                    if (stopped) {
                        return;
                    }
                    reading = true;
                }
                List<Row> last = new ArrayList<>(1);
                int read;
                try {
                    read = readSegment(after, last);
                } finally {
                    synchronized (monitor) {
                        reading = false;
                        segments++;
                        monitor.notifyAll();
                    }
                }
                if (read < segment) {
                    synchronized (monitor) {
                        ended = true;
                        monitor.notifyAll();
                    }
                    return;
                }
                after = ops.keyOf(last.get(0));
            }
        } catch (Stopped stop) {
            // close() asked for it.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            synchronized (monitor) {
                failure = e;
                monitor.notifyAll();
            }
        }
    }

    /** Reads one segment, handing its rows over block by block; {@code last} gets its last row. */
    private int readSegment(RowKey after, List<Row> last) throws SQLException {
        Row[] lastRow = new Row[1];
        List<List<Row>> block = new ArrayList<>(1);
        block.add(new ArrayList<>(BLOCK));
        int read = ops.stream(connection, after, segment, Math.min(FETCH, segment), condition, parameters, row -> {
            List<Row> filling = block.get(0);
            filling.add(row);
            lastRow[0] = row;
            if (filling.size() == BLOCK) {
                publish(filling);
                block.set(0, new ArrayList<>(BLOCK));
            }
        });
        if (!block.get(0).isEmpty()) {
            publish(block.get(0));
        }
        if (lastRow[0] != null) {
            last.add(lastRow[0]);
        }
        return read;
    }

    private void publish(List<Row> block) {
        synchronized (monitor) {
            if (stopped) {
                throw new Stopped();
            }
            blocks.add(block);
            heldRows += block.size();
            monitor.notifyAll();
        }
    }

    /**
     * @return the next row without taking it, or null when the table has no more
     * @throws SQLException if the read failed, or this thread was interrupted while it waited
     */
    Row peek() throws SQLException {
        if (index < current.size()) {
            return current.get(index);
        }
        synchronized (monitor) {
            heldRows -= current.size();
            current = List.of();
            index = 0;
            monitor.notifyAll();
            while (blocks.isEmpty()) {
                if (failure != null) {
                    throw failure instanceof SQLException sql ? sql
                            : new SQLException("reading table '" + ops.table().name() + "' failed", failure);
                }
                if (ended) {
                    return null;
                }
                if (holds > 0) {
                    throw new IllegalStateException("a held stream cannot be read: release it first");
                }
                try {
                    monitor.wait();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new SQLException("interrupted while reading the next chunk of table '"
                            + ops.table().name() + "'", e);
                }
            }
            current = blocks.poll();
        }
        return current.get(index);
    }

    /**
     * @return the next row, taken, or null when the table has no more
     * @throws SQLException if the read failed, or this thread was interrupted while it waited
     */
    Row next() throws SQLException {
        Row row = peek();
        if (row != null) {
            index++;
        }
        return row;
    }

    /**
     * Waits until no segment is being read and keeps the next from starting: the connection is free for the caller
     * until {@link #release}. Holds nest.
     */
    void hold() {
        boolean interrupted = false;
        synchronized (monitor) {
            holds++;
            while (reading) {
                try {
                    monitor.wait();
                } catch (InterruptedException e) {
                    // A connection in use by the reader must not be used: wait on, then say so.
                    interrupted = true;
                }
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /** Ends a {@link #hold}. */
    void release() {
        synchronized (monitor) {
            holds--;
            monitor.notifyAll();
        }
    }

    /** @return how many segment statements have run */
    int segmentsRead() {
        synchronized (monitor) {
            return segments;
        }
    }

    /**
     * Stops the reader and waits until it no longer uses the connection (the statement under way ends at its next
     * row; a reader stuck in the server is interrupted after a second and waited for up to a minute).
     */
    @Override
    public void close() {
        synchronized (monitor) {
            stopped = true;
            blocks.clear();
            monitor.notifyAll();
        }
        boolean interrupted = Thread.interrupted();
        try {
            long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.MINUTES.toNanos(1);
            boolean nudged = false;
            while (thread.isAlive() && System.nanoTime() < deadline) {
                try {
                    thread.join(1_000);
                } catch (InterruptedException e) {
                    interrupted = true;
                }
                if (thread.isAlive() && !nudged) {
                    thread.interrupt();
                    nudged = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /** @return whether the reader thread has ended */
    boolean stoppedReading() {
        return !thread.isAlive();
    }
}
