package io.dualwrite.samples.bench;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import javax.sql.DataSource;

/**
 * Mirror throughput: a backlog of changed keys is handed to a fresh mirror at once, and the time until
 * it has drained gives the rows per second it sustains.
 *
 * <p>The keys are a random sample of the table, changed on the source first in a few bulk statements
 * (a status no other run writes, and a newer version than the target holds), so every key's apply is a
 * real upsert; then they are recorded in one call outside any transaction. In ASYNC that queues them
 * on the lanes at once; in OUTBOX it first writes them to the outbox (autocommit), and the relay then
 * claims, applies and deletes them. Afterwards the target is checked to hold every changed row.
 */
final class BurstRun {

    private static final int UPDATE_CHUNK = 1_000;

    /**
     * One burst's figures.
     *
     * @param handoffNanos the record call: queueing (ASYNC), or writing the outbox (OUTBOX)
     * @param totalNanos from the start of the record call until drained
     * @param onTarget changed rows found on the target afterwards (should equal {@code keys})
     */
    record Result(MirrorMode mode, int keys, long handoffNanos, long totalNanos, long onTarget, RunEvents events,
            CpuMeter.Usage cpu) {

        /** @return keys per second from the start of the hand-off until drained */
        double endToEndRate() {
            return keys / (totalNanos / 1e9);
        }

        /** @return keys per second after the hand-off returned: the relay's own rate in OUTBOX */
        double afterHandoffRate() {
            return keys / ((totalNanos - handoffNanos) / 1e9);
        }
    }

    private final DataSource source;
    private final DataSource target;
    private final int rows;
    private final LatencyRun.Mirrors mirrors;
    private final CpuMeter cpu;

    BurstRun(DataSource source, DataSource target, int rows, LatencyRun.Mirrors mirrors, CpuMeter cpu) {
        this.source = source;
        this.target = target;
        this.rows = rows;
        this.mirrors = mirrors;
        this.cpu = cpu;
    }

    /**
     * Runs one burst.
     *
     * @throws SQLException if the source update, the mirror's start or the check fails
     * @throws InterruptedException if interrupted
     */
    Result run(MirrorMode mode, int keyCount, long seed) throws SQLException, InterruptedException {
        List<Long> keys = sample(Math.min(keyCount, rows), seed);
        String marker = "BURST_" + mode;
        changeOnSource(keys, marker);
        RunEvents events = new RunEvents();
        events.recording(true);
        Mirror mirror = mirrors.open(mode, new EventPublisher().subscribe(events));
        try {
            CpuMeter.Snapshot before = cpu.snapshot();
            long start = System.nanoTime();
            mirror.recorder().recordAll(BenchDatabase.TABLE, keys);
            long handedOff = System.nanoTime();
            if (!mirror.awaitDrained(Duration.ofMinutes(10))) {
                throw new IllegalStateException(mode + " burst did not drain within 10 minutes; " + mirror.pending()
                        + " keys left");
            }
            long drained = System.nanoTime();
            CpuMeter.Snapshot after = cpu.snapshot();
            return new Result(mode, keys.size(), handedOff - start, drained - start, countOnTarget(marker), events,
                    cpu.between(before, after));
        } finally {
            mirror.close();
        }
    }

    private List<Long> sample(int count, long seed) {
        List<Long> all = new ArrayList<>(rows);
        for (long id = 1; id <= rows; id++) {
            all.add(id);
        }
        Collections.shuffle(all, new Random(seed));
        return new ArrayList<>(all.subList(0, count));
    }

    private void changeOnSource(List<Long> keys, String marker) throws SQLException {
        Timestamp version = Timestamp.valueOf(LocalDateTime.now());
        try (Connection connection = source.getConnection()) {
            connection.setAutoCommit(false);
            for (int from = 0; from < keys.size(); from += UPDATE_CHUNK) {
                List<Long> chunk = keys.subList(from, Math.min(keys.size(), from + UPDATE_CHUNK));
                String sql = "UPDATE t_order SET status = ?, gmt_modified = ? WHERE id IN ("
                        + String.join(", ", Collections.nCopies(chunk.size(), "?")) + ")";
                try (PreparedStatement update = connection.prepareStatement(sql)) {
                    update.setString(1, marker);
                    update.setTimestamp(2, version);
                    for (int i = 0; i < chunk.size(); i++) {
                        update.setLong(3 + i, chunk.get(i));
                    }
                    update.executeUpdate();
                }
            }
            connection.commit();
            connection.setAutoCommit(true);
        }
    }

    private long countOnTarget(String marker) throws SQLException {
        try (Connection connection = target.getConnection();
                PreparedStatement count = connection.prepareStatement("SELECT COUNT(*) FROM t_order WHERE status = ?")) {
            count.setString(1, marker);
            try (ResultSet result = count.executeQuery()) {
                result.next();
                return result.getLong(1);
            }
        }
    }
}
