package io.dualwrite.routing;

import io.dualwrite.cdc.ChangeLogCapture;
import io.dualwrite.cdc.LogPosition;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Ties the change-data captures of both stores to the migration: when each hands the keys it reads to its
 * mirror, and how a step waits for them. The source's log feeds the forward mirror
 * ({@link #forSource}); the target's log feeds the reverse mirror, target back to source, over
 * {@link io.dualwrite.mapping.MappedTables#reversed()} ({@link #forTarget}).
 *
 * <h2>Which mirror a key read from a log goes to</h2>
 * A key read from a store's log is applied <em>from that store</em>: the source's log to the forward
 * mirror, the target's to the reverse mirror, whatever the row's route. This is the rule in-process capture
 * already follows ({@link RoutingChangeSink} hands a change set to the mirror of the store that took it, not
 * of the row's route). The log says only that the row changed on that store, and the apply copies that
 * store's current state, read under its share lock, to the other: the latest commit on the store written
 * last is what both end with, and a hot key's changes coalesce as before.
 *
 * <p>The other rule — apply by the row's route, the primary wins — was rejected. For an outside write on the
 * row's primary the two agree. For one on the other store (a batch job still writing the source for a
 * target-routed user, or a DBA's fix on the target at RAMP 0), applying from the primary would copy the
 * primary's older state over it and silently undo a committed write; and a rollback from RAMP 100 to 0 would
 * lose exactly what DESIGN says it must not: an outside write that lands on the target while, or just after,
 * its rows move back to the source (their route is SOURCE by the time the key is read) would be overwritten
 * by the source's older row. It would also need each key's routing column, which a log's DELETE does not
 * carry (PostgreSQL sends only the key). What the chosen rule leaves is a true conflict: the same row written
 * on both stores at once, by an outside writer on its non-primary store and by the application on its
 * primary. That is a cross-route write, as a merchant's in-process write to a user's order is: the mirror
 * that reads it counts and logs it ({@link CrossRouteWrites}, registered on each mirror), and the reconciler
 * settles the row by its route.
 *
 * <h2>When each log is handed over</h2>
 * <ul>
 * <li>Source: while the migration mirrors ({@link MigrationController#mirroring()}: DUAL_WRITE, RAMP, and a
 *     step into or out of them).</li>
 * <li>Target: while the target may be the primary of some row: in RAMP, and in a step into or out of it. The
 *     reader runs (and holds its lease and position) from start-up, before RAMP: what it reads then is only
 *     counted ({@code keysNotHanded}) and the position moves on, so it enters RAMP at the head of the log
 *     with nothing to catch up on, and a PostgreSQL slot keeps no write-ahead log for it meanwhile. After a
 *     rollback to DUAL_WRITE the target is nobody's primary and its outside writes are the reconciler's to
 *     overwrite, as in DUAL_WRITE before.</li>
 * <li>In RAMP a log hands over only if it tells the library's own writes apart
 *     ({@link ChangeLogCapture#recognisesOwnWrites()}). There an echo is not harmless: the reverse mirror
 *     writes v1 into the source, the application commits v2 on the target, and the echo of v1, applied
 *     forward, copies v1 over v2. Without the marker (MariaDB's {@code binlog_annotate_row_events} OFF,
 *     PostgreSQL before 14) that log's keys are counted and not handed over in RAMP, and this is logged once;
 *     the reconciler repairs what outside writers change there.</li>
 * </ul>
 *
 * <h2>Steps wait for the logs</h2>
 * A ramp step is a barrier (see {@link MigrationController}): an instance acknowledges only once its
 * mirrors have applied everything committed before. Outside writes are not in the mirrors' queues until their
 * log is read, so each capture is also a {@link MigrationController.Drain}: it has drained a moment once the
 * position stored for its log (by whichever instance reads it) has passed the server's head read after that
 * moment. Otherwise an outside write committed on the old primary before the step, read late, would be
 * applied over a moved user's first write on the new primary. The drain is durable: what a capture owes is in
 * its log and stored position, which another instance's reader takes over. A capture that failed or is
 * disabled drains at once (health reports it DOWN), so a rollback is never blocked by it. Outside writers are
 * not held by a step; one that writes a moving row between an instance's acknowledgement and the activation is
 * a cross-route write.
 *
 * <p>A step that leaves the phases in which a capture hands over also waits, before it is written as
 * pending, for that capture's log read so far to be applied ({@link StepPreparation}; at most
 * {@code catchUp}), and is refused with the reason when it is not, since keys read after the step are only
 * counted.
 */
public final class ChangeLogRouting {

    private static final Log log = LogFactory.getLog(ChangeLogRouting.class);

    private ChangeLogRouting() {
    }

    /**
     * Hands the source log's keys over while the migration mirrors, and makes steps wait for them.
     *
     * @param controller the migration's controller
     * @param capture the capture of the source's log, feeding the forward mirror
     * @param catchUp how long a step out of the mirroring phases waits for the log read so far to be applied
     * @return the capture
     * @throws NullPointerException if an argument is null
     */
    public static ChangeLogCapture forSource(MigrationController controller, ChangeLogCapture capture,
            Duration catchUp) {
        return attach(controller, capture, catchUp, "source", ChangeLogRouting::sourceHandsOver);
    }

    /**
     * Hands the target log's keys over while the target may be the primary of some row (RAMP, and a step into
     * or out of it), and makes steps wait for them.
     *
     * @param controller the migration's controller
     * @param capture the capture of the target's log, over the reversed mappings, feeding the reverse mirror
     * @param catchUp how long a step out of RAMP waits for the log read so far to be applied
     * @return the capture
     * @throws NullPointerException if an argument is null
     */
    public static ChangeLogCapture forTarget(MigrationController controller, ChangeLogCapture capture,
            Duration catchUp) {
        return attach(controller, capture, catchUp, "target", ChangeLogRouting::targetHandsOver);
    }

    /** Which rules a log's keys are handed over under; a step's view is the union of its two sides. */
    private interface HandOver {
        boolean under(RoutingRules rules);
    }

    private static ChangeLogCapture attach(MigrationController controller, ChangeLogCapture capture, Duration catchUp,
            String side, HandOver rule) {
        Objects.requireNonNull(controller, "controller");
        Objects.requireNonNull(capture, "capture");
        Objects.requireNonNull(catchUp, "catchUp");
        AtomicBoolean warned = new AtomicBoolean();
        capture.handOverWhile(() -> {
            ControlState state = controller.state();
            boolean under = rule.under(state.active()) || state.pending() != null && rule.under(state.pending());
            if (!under) {
                return false;
            }
            if (rampInvolved(state) && !capture.recognisesOwnWrites()) {
                if (warned.compareAndSet(false, true)) {
                    log.warn("dualwrite: the change-data capture of the " + side + " ('" + capture.readerName()
                            + "') hands nothing over in RAMP: that store's log does not mark the library's own"
                            + " writes (MariaDB: SET GLOBAL binlog_annotate_row_events=ON; PostgreSQL: 14 or later),"
                            + " and an echo there could overwrite a newer write. Outside writes to it are left to"
                            + " the reconciler");
                }
                return false;
            }
            return true;
        });
        controller.addDrain(new LogDrain(capture));
        controller.addPreparation((from, to) -> {
            if (!rule.under(from) || rule.under(to) || !reads(capture)) {
                return Optional.empty();
            }
            try {
                return capture.awaitStoredPastHead(catchUp);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Optional.of("interrupted while waiting for the change-data capture of the " + side
                        + " to catch up");
            }
        });
        return capture;
    }

    static boolean sourceHandsOver(RoutingRules rules) {
        return rules.phase().mirrors();
    }

    static boolean targetHandsOver(RoutingRules rules) {
        return rules.phase() == Phase.RAMP;
    }

    /** Whether the capture reads its log here or stands by to; else nothing it owes will ever be stored. */
    private static boolean reads(ChangeLogCapture capture) {
        ChangeLogCapture.State state = capture.status().state();
        return state == ChangeLogCapture.State.RUNNING || state == ChangeLogCapture.State.STANDBY;
    }

    private static boolean rampInvolved(ControlState state) {
        return state.active().phase() == Phase.RAMP || state.pending() != null && state.pending().phase() == Phase.RAMP;
    }

    /**
     * A capture as a step's drain: a moment is drained once the stored position has passed the server's head
     * read when that moment was first asked about (a head read later than the moment covers it).
     */
    static final class LogDrain implements MigrationController.Drain {

        private final ChangeLogCapture capture;
        private long askedFor;
        private LogPosition headThen;

        LogDrain(ChangeLogCapture capture) {
            this.capture = capture;
        }

        @Override
        public synchronized boolean awaitAppliedUpTo(long committedUpToNanos, Duration timeout)
                throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            if (!reads(capture)) {
                return true;
            }
            try {
                if (headThen == null || askedFor != committedUpToNanos) {
                    headThen = capture.currentHead();
                    askedFor = committedUpToNanos;
                }
                while (!capture.storedUpTo(headThen)) {
                    if (System.nanoTime() >= deadline) {
                        return false;
                    }
                    Thread.sleep(20);
                }
                return true;
            } catch (SQLException e) {
                log.debug("dualwrite: could not read how far the change-data capture '" + capture.readerName()
                        + "' has applied its log; the step waits", e);
                return false;
            }
        }

        @Override
        public boolean durable() {
            return true;
        }
    }
}
