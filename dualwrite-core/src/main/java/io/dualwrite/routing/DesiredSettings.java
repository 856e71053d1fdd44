package io.dualwrite.routing;

import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Turns a <em>desired</em> setting, from a feature-flag system or a refreshed configuration, into steps of
 * the {@link MigrationController}: the desire never writes the setting; each change runs as the same
 * barrier step an operator's request does, passes the same guards (never forced), and its outcome is
 * reported back (a log line, the {@link #last()} report, and the listeners, which the starter turns into a
 * meter). The control store keeps the <em>actual</em> setting; when the two differ, the report says why.
 *
 * <p>A desire names only what it wants changed (a null part leaves that part as it is), so a flag system
 * that steers the percent does not undo an allow-list set through the endpoint. A desire more than one step
 * away is walked a step at a time: a phase at a time, and RAMP to 100 % with an empty deny-list before
 * TARGET_ONLY. The walk stops at the first step that is not activated. Leaving TARGET_ONLY needs force,
 * which a desire never has: it is refused.
 *
 * <p>Desires are executed one at a time on a thread of their own, never on the caller's (a flag system's
 * event thread must not wait for a step); a desire arriving while another runs replaces any not yet
 * started, so the latest wins. Every instance of a fleet sees the same flag: the first to ask runs the
 * step; another that finds it under way waits for it to end and then finds nothing left to do.
 */
public final class DesiredSettings implements AutoCloseable {

    private static final Log log = LogFactory.getLog(DesiredSettings.class);
    private static final int MAX_STEPS = 4;

    private final MigrationController controller;
    private final Duration patience;
    private final Clock clock;
    private final AtomicReference<Offer> next = new AtomicReference<>();
    private final AtomicReference<Report> last = new AtomicReference<>();
    private final List<Consumer<Report>> listeners = new CopyOnWriteArrayList<>();
    private final Map<StepResult.Outcome, AtomicLong> outcomes = new EnumMap<>(StepResult.Outcome.class);
    private final Object signal = new Object();
    /** Held while a desire is executed: one at a time, whether offered or applied. */
    private final Object executing = new Object();
    private final Thread worker;
    private volatile boolean closed;

    /**
     * Creates the executor of desires and starts its thread.
     *
     * @param controller this instance's controller
     * @param patience how long to wait for another instance's step under way before giving up on a desire,
     *     e.g. the step timeout
     */
    public DesiredSettings(MigrationController controller, Duration patience) {
        this(controller, patience, Clock.systemUTC());
    }

    DesiredSettings(MigrationController controller, Duration patience, Clock clock) {
        this.controller = Objects.requireNonNull(controller, "controller");
        this.patience = Objects.requireNonNull(patience, "patience");
        this.clock = Objects.requireNonNull(clock, "clock");
        for (StepResult.Outcome outcome : StepResult.Outcome.values()) {
            outcomes.put(outcome, new AtomicLong());
        }
        this.worker = new Thread(this::work, "dualwrite-desired-" + controller.instanceId());
        worker.setDaemon(true);
        worker.start();
    }

    /**
     * Asks for a setting; returns at once. The step runs on this object's thread.
     *
     * @param desired what is wanted; null parts are left as they are
     * @param source who wants it, for the log and the report (e.g. {@code openfeature})
     */
    public void offer(Desired desired, String source) {
        Objects.requireNonNull(desired, "desired");
        Objects.requireNonNull(source, "source");
        if (desired.isEmpty()) {
            return;
        }
        Offer replaced = next.getAndSet(new Offer(desired, source));
        if (replaced != null) {
            log.info("dualwrite: desired setting " + replaced.desired + " from " + replaced.source + " was replaced by "
                    + desired + " from " + source + " before its step began");
        }
        synchronized (signal) {
            signal.notifyAll();
        }
    }

    /**
     * Runs a desire on the caller's thread and waits for its outcome.
     *
     * @param desired what is wanted
     * @param source who wants it
     * @return the report
     * @throws InterruptedException if interrupted while a step runs
     */
    public Report apply(Desired desired, String source) throws InterruptedException {
        Objects.requireNonNull(desired, "desired");
        synchronized (executing) {
            return execute(new Offer(desired, source));
        }
    }

    /** @return the outcome of the last desire executed, if any */
    public java.util.Optional<Report> last() {
        return java.util.Optional.ofNullable(last.get());
    }

    /**
     * @param outcome an outcome
     * @return how many desires ended with it, since start
     */
    public long count(StepResult.Outcome outcome) {
        return outcomes.get(Objects.requireNonNull(outcome, "outcome")).get();
    }

    /**
     * Adds a listener told of every report (on this object's thread).
     *
     * @param listener the listener
     */
    public void onReport(Consumer<Report> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    private void work() {
        while (!closed) {
            Offer offer = next.getAndSet(null);
            if (offer == null) {
                synchronized (signal) {
                    try {
                        if (next.get() == null && !closed) {
                            signal.wait(1000);
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                continue;
            }
            try {
                synchronized (executing) {
                    execute(offer);
                }
            } catch (InterruptedException e) {
                return;
            } catch (RuntimeException e) {
                log.warn("dualwrite: desired setting " + offer.desired + " from " + offer.source + " failed", e);
            }
        }
    }

    private Report execute(Offer offer) throws InterruptedException {
        Report report;
        try {
            report = walk(offer);
        } catch (IllegalArgumentException refused) {
            report = report(offer, StepResult.Outcome.REFUSED, refused.getMessage(), 0);
        } catch (SQLException e) {
            report = report(offer, StepResult.Outcome.REFUSED, "the control store could not be reached: "
                    + e.getMessage(), 0);
        }
        last.set(report);
        outcomes.get(report.outcome()).incrementAndGet();
        if (report.outcome() == StepResult.Outcome.ACTIVATED || report.outcome() == StepResult.Outcome.UNCHANGED) {
            log.info("dualwrite: desired setting " + offer.desired + " from " + offer.source + " " + report.outcome()
                    + " in " + report.steps() + " step(s); in force: " + report.actual());
        } else {
            log.warn("dualwrite: desired setting " + offer.desired + " from " + offer.source + " " + report.outcome()
                    + ": " + report.message() + "; in force: " + report.actual());
        }
        for (Consumer<Report> listener : listeners) {
            try {
                listener.accept(report);
            } catch (RuntimeException e) {
                log.warn("dualwrite: a listener of desired settings failed", e);
            }
        }
        return report;
    }

    private Report walk(Offer offer) throws SQLException, InterruptedException {
        Desired desired = offer.desired;
        int steps = 0;
        long giveUp = System.nanoTime() + patience.toNanos();
        while (true) {
            StepResult result = controller.request(from -> nextStep(from, desired), false, "desired by " + offer.source
                    + ": " + desired);
            if (result.outcome() == StepResult.Outcome.REFUSED && result.state().pending() != null) {
                // Another instance (or the endpoint) runs a step: wait for it, then look again.
                if (System.nanoTime() > giveUp) {
                    return report(offer, StepResult.Outcome.REFUSED, result.message(), steps);
                }
                Thread.sleep(100);
                continue;
            }
            if (result.outcome() == StepResult.Outcome.ACTIVATED) {
                steps++;
                if (!desired.reachedBy(controller.rules()) && steps < MAX_STEPS) {
                    continue;
                }
            }
            StepResult.Outcome outcome = result.outcome() == StepResult.Outcome.UNCHANGED && steps > 0
                    ? StepResult.Outcome.ACTIVATED : result.outcome();
            return report(offer, outcome, result.message(), steps);
        }
    }

    private Report report(Offer offer, StepResult.Outcome outcome, String message, int steps) {
        return new Report(offer.source, offer.desired, outcome, message == null ? "" : message, steps,
                controller.rules(), clock.instant());
    }

    /**
     * The next step from the rules in force toward a desire: one phase at a time, and RAMP at 100 % with no
     * deny-list before TARGET_ONLY.
     */
    static RoutingRules nextStep(RoutingRules from, Desired desired) {
        RoutingRules to = from;
        if (desired.percent() != null) {
            to = to.withPercent(desired.percent());
        }
        if (desired.allow() != null || desired.deny() != null) {
            to = to.withLists(desired.allow() != null ? desired.allow() : from.allow(),
                    desired.deny() != null ? desired.deny() : from.deny());
        }
        Phase phase = desired.phase() == null ? from.phase() : desired.phase();
        int distance = phase.ordinal() - from.phase().ordinal();
        if (Math.abs(distance) > 1) {
            phase = Phase.values()[from.phase().ordinal() + Integer.signum(distance)];
        }
        if (phase == Phase.TARGET_ONLY && from.phase() == Phase.RAMP
                && (from.percent() != 100 || !from.deny().isEmpty())) {
            return to.withPercent(100).withLists(to.allow(), Set.of());
        }
        return to.withPhase(phase);
    }

    /** Stops the thread; a step under way goes on without it. */
    @Override
    public void close() {
        closed = true;
        worker.interrupt();
    }

    /**
     * A desired setting; a null part is left as it is.
     *
     * @param phase the phase, or null
     * @param percent the ramp percent 0..100, or null
     * @param allow the allow-list, or null
     * @param deny the deny-list, or null
     */
    public record Desired(Phase phase, Integer percent, Set<String> allow, Set<String> deny) {

        /**
         * Checks the percent.
         *
         * @throws IllegalArgumentException if the percent is outside 0..100
         */
        public Desired {
            if (percent != null && (percent < 0 || percent > 100)) {
                throw new IllegalArgumentException("dualwrite.routing.percent: " + percent + " is outside 0..100");
            }
            allow = allow == null ? null : Set.copyOf(allow);
            deny = deny == null ? null : Set.copyOf(deny);
        }

        /** @return whether it names nothing */
        public boolean isEmpty() {
            return phase == null && percent == null && allow == null && deny == null;
        }

        /**
         * @param rules the rules in force
         * @return whether they are what this desire wants
         */
        public boolean reachedBy(RoutingRules rules) {
            return (phase == null || rules.phase() == phase) && (percent == null || rules.percent() == percent)
                    && (allow == null || rules.allow().equals(allow)) && (deny == null || rules.deny().equals(deny));
        }

        @Override
        public String toString() {
            StringBuilder text = new StringBuilder("{");
            if (phase != null) {
                text.append("phase=").append(phase).append(' ');
            }
            if (percent != null) {
                text.append("percent=").append(percent).append(' ');
            }
            if (allow != null) {
                text.append("allow=").append(new java.util.TreeSet<>(allow)).append(' ');
            }
            if (deny != null) {
                text.append("deny=").append(new java.util.TreeSet<>(deny)).append(' ');
            }
            return text.toString().trim() + "}";
        }
    }

    /**
     * What became of a desire.
     *
     * @param source who wanted it
     * @param desired what was wanted
     * @param outcome ACTIVATED (in force after {@code steps} steps), UNCHANGED (already in force), REFUSED
     *     (by a guard, a rule such as leaving TARGET_ONLY, or a step under way that did not end in time) or
     *     REVERTED (a step did not complete)
     * @param message why, in words for an operator
     * @param steps how many steps were activated for it
     * @param actual the rules in force afterwards
     * @param at when it was decided
     */
    public record Report(String source, Desired desired, StepResult.Outcome outcome, String message, int steps,
            RoutingRules actual, Instant at) {
    }

    private record Offer(Desired desired, String source) {
    }
}
