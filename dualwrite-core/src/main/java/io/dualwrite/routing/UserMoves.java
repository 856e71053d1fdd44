package io.dualwrite.routing;

import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Moves one user to the other store while everyone else stays where they are: a barrier step for one routing
 * key, run by the instance that asks it ({@link MigrationController#moveUser}).
 *
 * <h2>Invariant</h2>
 * A moved user's first write on its new primary comes after every write it made on the old one has reached
 * the new one, and a failed move leaves the user where it was with nothing of the move in force. The step is
 * the ordinary one, with the rules' {@code move} naming the one key:
 * <ol>
 * <li>the pending state names the user and its new route; each instance holds new requests of that key only
 *     (other users never wait), waits for every transaction it admitted before the step and for its mirrors to
 *     drain, and acknowledges, as for any step ({@link MigrationController});</li>
 * <li>once every instance has acknowledged, the asking instance copies the user's rows from its primary to the
 *     other store through the mirrors' locked apply ({@link UserCopy}): a safety net for rows the mirrors
 *     never carried (parked keys, writes outside the service), applied in commit order like any change;</li>
 * <li>only then does it activate the step, and the store writes the user's route in the same act
 *     ({@link ControlStore#finishStep}); held requests go on, on the new route.</li>
 * </ol>
 * No other instance activates a move step: its poller leaves a fully acknowledged move pending and reverts it
 * only at its deadline, so a move whose asker died or whose copy failed never takes effect. A copy that
 * fails, or that ends after the deadline, reverts the step with its reason. Rows already copied are not
 * visible to the user, who still reads and writes its old primary; they are what the mirror would have
 * written there anyway. Moving the user back is the same step the other way, and loses nothing, because the
 * reverse mirror kept the old store current while the user was away.
 *
 * <p>A pending state is a move when its rules name a move other than the one in force ({@link #isMove}): the
 * rules keep naming the last move after it is done, so that every instance drops that user's cached route, and
 * an ordinary step that follows (a percent) carries it unchanged; the pollers decide such a step as any other.
 *
 * <p>Moves are refused outside RAMP: only there do both stores take application writes and are both
 * directions mirrored.
 */
final class UserMoves {

    private static final Log log = LogFactory.getLog(UserMoves.class);

    private final MigrationController controller;
    private volatile UserCopy copy;

    UserMoves(MigrationController controller) {
        this.controller = controller;
    }

    void useCopy(UserCopy value) {
        this.copy = Objects.requireNonNull(value, "copy");
    }

    boolean canCopy() {
        return copy != null;
    }

    StepResult move(Object key, Route to, String actor, String reason, Duration timeout)
            throws SQLException, InterruptedException {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(to, "route");
        if (timeout == null || timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("dualwrite move-user: the timeout must be a positive duration, not "
                    + timeout);
        }
        RoutingRules.UserMove move = new RoutingRules.UserMove(TrafficRouter.text(key), to);
        UserCopy copier = copy;
        if (copier == null) {
            throw new IllegalStateException("dualwrite move-user: instance " + controller.instanceId() + " has no"
                    + " UserCopy to copy the user's rows; call MigrationController.useUserCopy (the starter does when"
                    + " both mirrors run)");
        }
        ControlStore store = controller.store();
        ControlState current = store.read();
        RoutingRules from = current.active();
        String what = "move of user " + move.key() + " to " + to;
        if (from.phase() != Phase.RAMP) {
            return new StepResult(StepResult.Outcome.REFUSED, what + " refused: users are moved only in RAMP, where both"
                    + " stores take writes and both directions are mirrored; the phase is " + from.phase(), current);
        }
        if (current.pending() != null) {
            return new StepResult(StepResult.Outcome.REFUSED, what + " refused: a step to " + current.pending()
                    + " is under way (until " + current.deadline() + "); retry when it has ended", current);
        }
        Route now = TrafficRouter.route(from, text -> storedRoute(store, text), key);
        if (now == to) {
            return new StepResult(StepResult.Outcome.UNCHANGED, "user " + move.key() + " is already routed to " + to,
                    current);
        }
        RoutingRules next = from.withMove(move);
        if (to == Route.TARGET) {
            List<String> refusals = new ArrayList<>();
            for (RampGuard guard : controller.guards()) {
                guard.check(from, next).ifPresent(refusals::add);
            }
            if (!refusals.isEmpty()) {
                return new StepResult(StepResult.Outcome.REFUSED, what + " refused: " + String.join("; ", refusals),
                        current);
            }
        }
        String why = what + " (" + (reason == null || reason.isBlank() ? "no reason given" : reason) + ", by "
                + (actor == null || actor.isBlank() ? "an unnamed caller" : actor) + ")";
        Instant deadline = controller.clock().instant().plus(timeout);
        ControlState begun = current.begin(next, deadline, controller.instanceId(), why);
        if (!store.compareAndSet(current.version(), begun)) {
            return new StepResult(StepResult.Outcome.REFUSED, what + " refused: the setting changed while it was being"
                    + " asked; retry", store.read());
        }
        log.info("dualwrite " + why + " pending, deadline " + deadline);
        controller.observeState(begun);
        long giveUp = System.nanoTime() + timeout.toNanos();
        while (true) {
            controller.wakePollerNow();
            ControlState seen = store.read();
            if (seen.version() != begun.version()) {
                controller.observeState(seen);
                return ended(begun, seen);
            }
            StepDecision decision = decide(begun, store.instances());
            if (activates(begun, decision.next())) {
                break;
            }
            if (decision.next() != null || System.nanoTime() >= giveUp) {
                return revert(begun, why + " reverted: " + (decision.next() != null ? decision.next().message()
                        : "not every instance acknowledged within " + timeout));
            }
            Thread.sleep(10);
        }
        try {
            copier.copy(key, now, to, Duration.ofNanos(Math.max(1, giveUp - System.nanoTime())));
        } catch (InterruptedException e) {
            revert(begun, why + " reverted: the copy was interrupted");
            throw e;
        } catch (Exception e) {
            log.warn("dualwrite " + why + " failed while copying the user's rows; the user stays on " + now, e);
            return revert(begun, why + " reverted: copying the user's rows failed: " + e.getMessage());
        }
        ControlState activated = store.finishStep(begun.version(), instances -> {
            if (controller.clock().instant().isAfter(begun.deadline())) {
                return begun.revert(controller.instanceId(), why + " reverted: the copy ended after the deadline "
                        + begun.deadline());
            }
            StepDecision decision = decide(begun, instances);
            return activates(begun, decision.next()) ? begun.activate(controller.instanceId(), why + " done") : null;
        });
        ControlState seen = activated != null ? activated : store.read();
        controller.observeState(seen);
        return ended(begun, seen);
    }

    private StepDecision decide(ControlState pending, List<InstanceStatus> instances) {
        return StepDecision.of(pending, instances, controller.clock().instant(), Instant.MIN, controller.lease(),
                controller.instanceId());
    }

    /** Whether a pending state is a per-user move: its rules name a move other than the one already in force. */
    static boolean isMove(ControlState pending) {
        RoutingRules.UserMove move = pending.pending() == null ? null : pending.pending().move();
        return move != null && !move.equals(pending.active().move());
    }

    /** Whether a decision about a pending state makes its rules active. */
    static boolean activates(ControlState pending, ControlState next) {
        return next != null && next.pending() == null && next.active().equals(pending.pending());
    }

    private StepResult revert(ControlState begun, String why) throws SQLException {
        ControlState reverted = store().finishStep(begun.version(),
                instances -> begun.revert(controller.instanceId(), why));
        ControlState seen = reverted != null ? reverted : store().read();
        controller.observeState(seen);
        if (reverted != null) {
            log.warn("dualwrite " + why);
        }
        return ended(begun, seen);
    }

    private ControlStore store() {
        return controller.store();
    }

    private static StepResult ended(ControlState begun, ControlState seen) {
        boolean activated = seen.version() == begun.version() + 1 && seen.pending() == null
                && seen.active().equals(begun.pending());
        return new StepResult(activated ? StepResult.Outcome.ACTIVATED : StepResult.Outcome.REVERTED, seen.message(),
                seen);
    }

    private static Route storedRoute(ControlStore store, String key) {
        try {
            return store.userRoute(key).orElse(null);
        } catch (SQLException e) {
            throw new IllegalStateException("dualwrite move-user: the route of user '" + key + "' cannot be read from"
                    + " the control store: " + e.getMessage(), e);
        }
    }

    /**
     * What the poller of any instance makes of a fully acknowledged move: nothing before the deadline (the asking
     * instance copies and activates), a revert after it.
     *
     * @param pending the pending move state
     * @param decision the ordinary decision
     * @param now the instance's clock
     * @param by the instance
     * @return the decision to write, possibly null
     */
    static ControlState pollerDecision(ControlState pending, ControlState decision, Instant now, String by) {
        // An ordinary step after a move carries the last move in its rules unchanged (withPercent keeps it); only
        // a step that names a new move is one, and the poller must decide an ordinary step as it always does.
        if (!isMove(pending) || !activates(pending, decision)) {
            return decision;
        }
        if (!now.isAfter(pending.deadline())) {
            return null;
        }
        return pending.revert(by, "move of user " + pending.pending().move() + " reverted: every instance"
                + " acknowledged, but the instance that asked it (" + pending.changedBy() + ") did not copy the user's"
                + " rows by the deadline " + pending.deadline());
    }
}
