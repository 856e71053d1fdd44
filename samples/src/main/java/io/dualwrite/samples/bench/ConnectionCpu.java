package io.dualwrite.samples.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The database CPU spent serving the benchmark's own connections, apart from what the same servers did for
 * other clients (other people's builds and tests on a shared machine) and in their background threads.
 *
 * <p>While a variant runs, a thread polls every {@value #POLL_MILLIS} ms which server threads serve the
 * benchmark: on MariaDB the {@code TID} of every {@code information_schema.PROCESSLIST} entry whose default database
 * is one of the benchmark's scratch databases (the JVM's pools), or that was seen running a statement naming one
 * (pt-table-sync, which connects without a default database and qualifies its tables); on
 * PostgreSQL the backend {@code pid} of every {@code pg_stat_activity} entry whose {@code application_name} is one
 * of the benchmark's pool names. Each thread's CPU comes from Linux {@code /proc/<tid>/schedstat} (nanoseconds
 * on the CPU), counted from the first poll that saw it serving the benchmark to the last, so a cached server
 * thread's earlier work for others is not counted. What a connection used between two polls before it closed
 * (at most one poll interval at its end, and at its start) is missed: the figure is a slight under-count.
 * The poller's own connection is left out. Without {@code /proc}, every figure is {@code NaN}.
 */
final class ConnectionCpu implements AutoCloseable {

    private static final long POLL_MILLIS = 50;

    private final BenchDatabase mariadb;
    private final List<String> mariadbDatabases;
    private final BenchDatabase postgres;
    private final List<String> postgresApplications;
    /** server thread key ("m"/"p" + tid) to {first, last} nanoseconds on the CPU in the current window */
    private final Map<String, long[]> seen = new HashMap<>();
    /** MariaDB connection ids found serving the benchmark; kept across windows (ids are not reused). */
    private final java.util.Set<Long> ours = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final List<String> mariadbStatementMarks;
    private final Object lock = new Object();
    private Thread poller;
    private volatile boolean polling;
    private volatile Exception failure;

    /** CPU seconds on each server for the benchmark's connections over one window. */
    record Usage(double mariadbSeconds, double postgresSeconds) {
    }

    /**
     * @param mariadb a scratch space on the MariaDB server, whose connection polls it
     * @param mariadbDatabases the scratch databases whose connections count
     * @param postgres a scratch space on the PostgreSQL server
     * @param postgresApplications the {@code application_name}s (pool names) whose backends count
     */
    ConnectionCpu(BenchDatabase mariadb, List<String> mariadbDatabases, BenchDatabase postgres,
            List<String> postgresApplications) {
        this(mariadb, mariadbDatabases, List.of(), postgres, postgresApplications);
    }

    /**
     * @param mariadbStatementMarks text that marks a statement as the benchmark's (such as the library's
     *     {@code /* dualwrite *}{@code /} marker): a MariaDB connection seen running one counts from then on, in this
     *     and every later window, so give the marked work a pool of its own
     */
    ConnectionCpu(BenchDatabase mariadb, List<String> mariadbDatabases, List<String> mariadbStatementMarks,
            BenchDatabase postgres, List<String> postgresApplications) {
        this.mariadbStatementMarks = mariadbStatementMarks;
        this.mariadb = mariadb;
        this.mariadbDatabases = mariadbDatabases;
        this.postgres = postgres;
        this.postgresApplications = postgresApplications;
    }

    /** Starts a window. */
    void start() {
        synchronized (lock) {
            seen.clear();
        }
        failure = null;
        polling = true;
        poller = new Thread(this::poll, "bench-connection-cpu");
        poller.setDaemon(true);
        poller.start();
    }

    /** Ends the window. @return the CPU the benchmark's connections used in it */
    Usage stop() throws InterruptedException {
        polling = false;
        poller.join(10_000);
        if (failure != null) {
            System.out.println("  (connection CPU not measured: " + failure + ")");
            return new Usage(Double.NaN, Double.NaN);
        }
        double m = 0;
        double p = 0;
        synchronized (lock) {
            for (Map.Entry<String, long[]> entry : seen.entrySet()) {
                double seconds = (entry.getValue()[1] - entry.getValue()[0]) / 1e9;
                if (entry.getKey().startsWith("m")) {
                    m += seconds;
                } else {
                    p += seconds;
                }
            }
        }
        return new Usage(m, p);
    }

    private void poll() {
        try (Connection m = mariadb.connect(); Connection p = postgres.connect();
                PreparedStatement ms = m.prepareStatement("SELECT ID, TID, DB, INFO FROM information_schema.PROCESSLIST"
                        + " WHERE ID <> CONNECTION_ID()");
                PreparedStatement ps = p.prepareStatement("SELECT pid FROM pg_stat_activity WHERE application_name IN ("
                        + placeholders(postgresApplications.size()) + ")")) {
            for (int i = 0; i < postgresApplications.size(); i++) {
                ps.setString(i + 1, postgresApplications.get(i));
            }
            do {
                sampleMariadb(ms);
                sample("p", ps);
                Thread.sleep(POLL_MILLIS);
            } while (polling);
            // One last look, so the window ends with every thread's latest figure.
            sampleMariadb(ms);
            sample("p", ps);
        } catch (SQLException | InterruptedException | RuntimeException e) {
            failure = e;
        }
    }

    /**
     * A MariaDB connection serves the benchmark when its default database is a scratch one (the JVM's pools), or
     * once it has been seen running a statement that names one (pt-table-sync, which qualifies its tables).
     */
    private void sampleMariadb(PreparedStatement query) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                long id = rs.getLong(1);
                long tid = rs.getLong(2);
                String db = rs.getString(3);
                String info = rs.getString(4);
                if (!ours.contains(id)) {
                    boolean named = db != null && mariadbDatabases.contains(db);
                    for (String database : mariadbDatabases) {
                        named |= info != null && info.contains(database);
                    }
                    for (String mark : mariadbStatementMarks) {
                        named |= info != null && info.contains(mark);
                    }
                    if (!named) {
                        continue;
                    }
                    ours.add(id);
                }
                record("m", tid);
            }
        }
    }

    private void record(String server, long tid) {
        long nanos = onCpu(tid);
        if (nanos < 0) {
            return;
        }
        synchronized (lock) {
            long[] span = seen.computeIfAbsent(server + tid, k -> new long[] {nanos, nanos});
            span[1] = Math.max(span[1], nanos);
        }
    }

    private void sample(String server, PreparedStatement query) throws SQLException {
        try (ResultSet rs = query.executeQuery()) {
            while (rs.next()) {
                record(server, rs.getLong(1));
            }
        }
    }

    /** @return the thread's nanoseconds on the CPU so far, or -1 */
    private static long onCpu(long tid) {
        try {
            String text = Files.readString(Path.of("/proc", Long.toString(tid), "schedstat")).trim();
            return Long.parseLong(text.substring(0, text.indexOf(' ')));
        } catch (IOException | RuntimeException gone) {
            return -1;
        }
    }

    private static String placeholders(int n) {
        return String.join(", ", java.util.Collections.nCopies(Math.max(1, n), "?"));
    }

    @Override
    public void close() throws InterruptedException {
        if (polling) {
            stop();
        }
    }
}
