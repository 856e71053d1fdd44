package io.dualwrite.routing;

import io.dualwrite.backfill.BackfillGate;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorMode;
import java.lang.management.ManagementFactory;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Follows the migration's live setting in a {@link ControlStore} and moves it, one barrier step at a
 * time. One per service instance; the routing data source and the change sink ask it for routes.
 *
 * <h2>A step is a barrier</h2>
 * A change of phase, percent or lists moves some keys from one primary store to the other. Were a
 * mirror apply from the old primary still in flight when the new primary took its first write of such a
 * key, the late apply could overwrite that write or resurrect a row just deleted there. So a change is
 * never written as the new setting; it runs as a step:
 * <ol>
 * <li>{@link #request} checks the change and the guards, and writes it to the store as <em>pending</em>,
 *     with a deadline;</li>
 * <li>each instance, on its next poll, holds new requests whose key moves (their admission waits, for
 *     at most the hold timeout), waits for every transaction it admitted before the step to end (not only
 *     those of moving keys: a merchant's request may write a moving user's row), and for its mirrors to
 *     apply everything committed until then; then it acknowledges in the store;</li>
 * <li>when every instance has acknowledged — or is counted out (see <em>Leases</em> below) — any instance
 *     makes the step <em>active</em>; held requests go on, on their new route;</li>
 * <li>a step not acknowledged by its deadline reverts to the previous setting, with the reason.</li>
 * </ol>
 * A change of phase (not only of routes) waits for every transaction admitted before, and while it is
 * pending, mirroring stays on if either side of the step mirrors, so no commit falls between "not yet
 * captured" and "backfill already past it".
 *
 * <p>A request whose hold times out fails ({@link RouteHeldException}) rather than go on by the old
 * route, which is what the barrier exists to prevent.
 *
 * <p>Cross-route writes. A request admitted while the step is pending, whose own key does not move, is
 * not held; if it writes a moving user's row (a merchant updating a user's order) and commits around
 * the activation, its apply may land after that user's first write on the new primary. That is a
 * cross-route write of RAMP, where DESIGN accepts it: {@link CrossRouteWrites} counts and logs it. Known
 * gap: when both mirror directions then converge on the older state, the reconciler finds nothing to
 * settle, so the moved user's concurrent write can be lost; refusing cross-route writes at commit would
 * close it. What the step guarantees is that nothing admitted before it, cross-route or not, is still
 * unapplied when it goes active ({@code model/ramp.pml}, MERCHANT).
 *
 * <p>Backfill chunks pass {@link #backfillGate()}: they count as admissions a phase step waits for, and
 * are refused in RAMP and TARGET_ONLY, where users routed to the target write there first.
 *
 * <h2>Leases: when a step may count an instance out</h2>
 * Each instance renews a lease in the store with its heartbeat. Were a step to wait for every instance
 * ever registered, one that died would stop every step; were it to count out any instance whose lease ran
 * out, one that is only paused or cut off from the store (which lives in the target) would go on routing
 * by the old setting, and its writes and the moved users' writes on the other store would overwrite each
 * other through the mirrors. So an instance may be counted out only when it has surely stopped writing:
 * <ol>
 * <li><b>Renew, then read.</b> A poll renews the lease first and trusts it only once the state read after
 *     the renewal is in force ({@link #tick}): an instance never routes by a view older than its lease.</li>
 * <li><b>The fence.</b> Where the target is the primary of some row (RAMP, TARGET_ONLY, or a step into
 *     them under way) an instance whose lease has lapsed holds new requests and fails them after the hold
 *     timeout ({@link RouteHeldException}); backfill chunks wait.</li>
 * <li><b>The promise.</b> Where the source is the primary of every row (SOURCE_ONLY, DUAL_WRITE) there is
 *     no fence: the target being down must never fail a source-routed write (DESIGN, invariant 1). Nor does
 *     the fence cover what a mirror holding changes in memory (SYNC, ASYNC) still owes: committed before the
 *     lapse, such a change would be applied late, over a moved user's newer write, or die with the instance
 *     and never reach the new primary. Each heartbeat therefore says whether the instance promises to fence
 *     itself — its view fences, and every mirror it has keeps what it owes in an outbox table
 *     ({@link Drain#durable()}), where the others' relays apply it before they acknowledge — and a step
 *     counts out a lapsed instance only if its last heartbeat promised. Any other is waited for; the step
 *     reverts at its deadline with a message naming it, when it last renewed, and the action: once the
 *     operator knows it is dead or stopped, {@link #dropInstance} (the starter's endpoint:
 *     {@code drop-instance}), after a reconcile if its mirror kept changes in memory.</li>
 * <li><b>The promise is kept conservatively.</b> An instance fences when its view says so or when the store
 *     may still hold its promise ({@link InstanceLease#promised()}); it stops fencing only once a heartbeat
 *     withdrawing the promise has been written. Otherwise: promised in RAMP, saw the rollback to DUAL_WRITE,
 *     stopped fencing, lapsed, was counted out on the promise, and wrote by routes a later step changed.
 *     A promise written after the view changed is only conservative.</li>
 * <li><b>The commit-time check.</b> A transaction commits only if this instance's lease has not lapsed,
 *     under a promise, at any moment since the transaction was admitted, even if it has been renewed since:
 *     otherwise the others may have counted it out meanwhile. {@link DualWriteRoutingDataSource}'s
 *     connections ask before {@code commit()}, roll back and throw {@link RouteHeldException}; a routing
 *     scope asks again before each further connection it takes (its auto-commit statements have no
 *     {@code commit()}).</li>
 * <li><b>Clocks.</b> An instance trusts its lease for three quarters of it, by its own monotonic clock from
 *     before the heartbeat write; the others count it out at the expiry it wrote (its wall clock plus the
 *     lease) read by their wall clocks. Assumption: the wall clocks of the instances differ by less than a
 *     quarter of the lease (NTP keeps them within milliseconds; the default lease is 10 s).</li>
 * <li><b>One act.</b> A step reads the heartbeats and writes its decision in one transaction of the store
 *     ({@link ControlStore#finishStep}); a heartbeat waits for it. Otherwise an instance counted out could
 *     renew and read between the two, find the step still pending, withdraw its promise on the view the step
 *     is about to replace, and write by that view unfenced once the step is active.</li>
 * </ol>
 * {@link InstanceLease} keeps this instance's side of the account; {@code model/lease.pml} checks the rule,
 * with a negative control for each item. What it leaves: the check and the commit reaching the database are
 * two moments, and a pause between them long enough for the lease to run out is not caught, nor is one
 * between the admission and an auto-commit statement on the same connection, nor an OUTBOX relay's apply
 * frozen between its read of the source and its write to the target when its source connection is cut
 * meanwhile (the outbox row is then applied again by another relay and the late write lands after it).
 */
public final class MigrationController implements AutoCloseable {

    private static final Log log = LogFactory.getLog(MigrationController.class);
    private static final long FAST_POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
    /** How long {@link #dropInstance} waits for the mirrors to apply what was committed before it. */
    private static final Duration DROP_DRAIN_WAIT = Duration.ofSeconds(10);

    private final ControlStore store;
    private final String instanceId;
    private final Duration pollInterval;
    private final Duration stepTimeout;
    private final Duration holdTimeout;
    private final Duration lease;
    private final List<RampGuard> guards = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<StepPreparation> preparations = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final List<Drain> drains = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final Clock clock;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final Condition pollNow = lock.newCondition();
    private final Set<Admission> inFlight = new LinkedHashSet<>();
    /** The admission this thread took first and still holds, if any: nested ones must not wait for a step. */
    private final ThreadLocal<Admission> outerAdmission = new ThreadLocal<>();
    private final AtomicLong heldRequests = new AtomicLong();
    private final AtomicLong heldTimeouts = new AtomicLong();
    private final AtomicLong fencedCommits = new AtomicLong();
    private final KeylessRequests keyless = new KeylessRequests(System::nanoTime);
    private volatile ControlState state;
    /** The pending version this instance holds moving keys for, or -1. Under lock. */
    private long holdingFor = -1;
    /** When the admissions that block the pending step had all ended; 0 while some are open. */
    private long quietSinceNanos;
    /** Admissions numbered below this were taken before the pending step was seen. Under lock. */
    private long firstAdmissionOfStep;
    private long admissions;
    /** The drains' parked counts when the pending step was seen. Under lock. */
    private long parkedAtStep;
    private volatile long acknowledged = -1;
    /** The pending step {@link #drainedUpTo} was measured for, or -1. Only the poller touches these two. */
    private long drainedForStep = -1;
    /** Every change committed before it was found applied, while step {@link #drainedForStep} was pending. */
    private Instant drainedUpTo = Instant.MIN;
    private final InstanceLease ownLease;
    /** Moved users' routes, cached; see {@link UserRouteTable} for why a look-up is never older than the state. */
    private final UserRouteTable userRoutes;
    /** Per-user moves this instance asks; see {@link UserMoves}. */
    private final UserMoves userMoves = new UserMoves(this);
    /** Counts {@link #observe}s that changed the state, so an admission knows its route look-up is still good. */
    private long observed;
    private volatile boolean running;
    private volatile boolean barrier = true;
    private volatile boolean commitCheck = true;
    /** Only for the test that shows why a step waits for every older transaction, not the moving keys' only. */
    private volatile boolean movingKeysOnly;
    private Thread poller;

    private MigrationController(Builder builder) throws SQLException {
        this.store = builder.store;
        this.instanceId = builder.instanceId;
        this.pollInterval = builder.pollInterval;
        this.stepTimeout = builder.stepTimeout;
        this.holdTimeout = builder.holdTimeout;
        this.lease = builder.lease;
        this.clock = builder.clock;
        this.ownLease = new InstanceLease(lease);
        this.userRoutes = new UserRouteTable(store, builder.userRouteCacheSize);
        this.state = store.read();
    }

    /**
     * Starts a builder.
     *
     * @param store where the live setting is kept
     * @return the builder
     */
    public static Builder builder(ControlStore store) {
        return new Builder(store);
    }

    /**
     * Registers this instance in the store and starts following it.
     *
     * @throws SQLException if the store cannot be reached
     */
    public synchronized void start() throws SQLException {
        if (running) {
            return;
        }
        // Registered first: a step written after our read must wait for us, not activate without us.
        heartbeat();
        ControlState current = store.read();
        long parked = current.pending() == null ? 0 : parkedNow();
        lock.lock();
        try {
            state = current;
            beginStepBookkeeping(current, parked);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        running = true;
        poller = new Thread(this::pollLoop, "dualwrite-control-" + instanceId);
        poller.setDaemon(true);
        poller.start();
        log.info("dualwrite instance " + instanceId + " follows the control store: " + describe(state)
                + (changesOutliveThisInstance() ? "" : "; its mirrors keep changes in memory (SYNC or ASYNC), so no step"
                + " counts it out if it freezes or loses the control store: steps wait for it, and should it die, an"
                + " operator drops it (drop-instance) and runs the reconciler"));
    }

    /**
     * Adds a mirror this instance drains before it acknowledges a step. Mirrors write through the routing
     * data source, which needs this controller, so they are added after it is built; add every one before
     * {@link #start()}.
     *
     * @param drain the mirror's drain, e.g. {@code Drain.of(mirror)}
     */
    public void addDrain(Drain drain) {
        drains.add(Objects.requireNonNull(drain, "drain"));
    }

    /**
     * Adds a check that may refuse steps sending more traffic to the target (see {@link RampGuards}).
     *
     * @param guard the guard
     */
    public void addGuard(RampGuard guard) {
        guards.add(Objects.requireNonNull(guard, "guard"));
    }

    /**
     * Adds work the instance asking for a step does before the step is written as pending, such as moving
     * the stores' id counters apart (see {@link StepPreparation}).
     *
     * @param preparation the preparation
     */
    public void addPreparation(StepPreparation preparation) {
        preparations.add(Objects.requireNonNull(preparation, "preparation"));
    }

    /** @return this instance's id in the control store */
    public String instanceId() {
        return instanceId;
    }

    /** @return the last state read from the store */
    public ControlState state() {
        return state;
    }

    /** @return the rules in force */
    public RoutingRules rules() {
        return state.active();
    }

    /** @return a router that follows the rules in force and the moved users' routes */
    public TrafficRouter router() {
        return new TrafficRouter(this::rules, userRoutes::lookup);
    }

    /**
     * The route of a key under the rules in force, without waiting for a step under way.
     *
     * @param key the routing key, or null
     * @return the route
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    public Route route(Object key) {
        return TrafficRouter.route(state.active(), userRoutes::lookup, key);
    }

    /**
     * Moves one user to a route while every other user stays where it is: a barrier step for that one routing
     * key (see {@link UserMoves} for its invariant). Every instance holds the user's new requests and drains,
     * this instance copies the user's rows from its primary to the other store through the mirrors' locked
     * apply ({@link #useUserCopy}), and only then is the user routed to {@code route}. A moved user keeps its
     * route whatever the percent and the lists say ({@link TrafficRouter}, precedence); moving it back is the
     * same call with the other route.
     *
     * @param key the user's routing key
     * @param route the route to move it to
     * @param actor who asks, for the log and the control store
     * @param reason why, for the log and the control store
     * @param timeout how long the whole move may take; past it the move is reverted and the user stays
     * @return ACTIVATED; UNCHANGED if the user is already there; REFUSED (not in RAMP, another step under way,
     *     a guard) or REVERTED (an instance did not acknowledge, the copy failed or ran late), with the reason
     * @throws IllegalArgumentException if the timeout is not positive or the key's text is longer than 255
     * @throws IllegalStateException if this instance has no {@link UserCopy}
     * @throws SQLException if the control store cannot be reached
     * @throws InterruptedException if interrupted; the move is reverted
     */
    public StepResult moveUser(Object key, Route route, String actor, String reason, Duration timeout)
            throws SQLException, InterruptedException {
        return userMoves.move(key, route, actor, reason, timeout);
    }

    /**
     * Sets how this instance copies a user's rows when it moves one ({@link #moveUser}); an instance without one
     * still takes part in other instances' moves, but cannot ask one.
     *
     * @param copy the copy, usually {@link UserCopy#throughMirrors}
     */
    public void useUserCopy(UserCopy copy) {
        userMoves.useCopy(copy);
    }

    /** @return how many route look-ups of moved users went to the control store, since start */
    public long userRouteLoads() {
        return userRoutes.loads();
    }

    /**
     * Whether rules split the routing keys between the stores, counting the users moved one at a time
     * ({@link #moveUser}), whose routes the control store keeps: RAMP at percent 0 with one user moved to the
     * target splits them, as does RAMP 100 with one moved back. The guards that judge a step by it
     * ({@link RampGuards#reversePathProven(MappedTables, io.dualwrite.mirror.Mirror, MigrationController)}) ask
     * here rather than {@link RoutingRules#splitsTraffic()}, which sees only the rules' own move.
     *
     * @param rules the rules, usually those a step would put in force
     * @return true if both stores are primary for some routing keys under them
     * @throws SQLException if the control store cannot be read
     */
    public boolean splitsTraffic(RoutingRules rules) throws SQLException {
        Objects.requireNonNull(rules, "rules");
        if (rules.phase() != Phase.RAMP) {
            return false;
        }
        boolean toTarget = store.routesUsersTo(Route.TARGET);
        boolean toSource = store.routesUsersTo(Route.SOURCE);
        return rules.splitsTraffic(route -> route == Route.TARGET ? toTarget : toSource);
    }

    /** @return a user's moved route (a routing key's text), or null if it was never moved */
    Route movedRoute(String key) {
        return userRoutes.lookup(key);
    }

    ControlStore store() {
        return store;
    }

    Clock clock() {
        return clock;
    }

    Duration lease() {
        return lease;
    }

    List<RampGuard> guards() {
        return guards;
    }

    void observeState(ControlState next) {
        observe(next);
    }

    void wakePollerNow() {
        wakePoller();
    }

    /**
     * The route of the request on this thread: the one its connection was admitted with, or else its
     * routing key's route under the rules in force. Double reads compare against the other store.
     *
     * @return the route
     */
    public Route currentRoute() {
        return RoutingChangeSink.currentRoute(this);
    }

    /**
     * Whether committed writes are mirrored now: in DUAL_WRITE and RAMP, and during a step into or out of
     * them (mirroring a change twice is harmless; missing one is not).
     *
     * @return true if changes must be mirrored
     */
    public boolean mirroring() {
        ControlState current = state;
        return current.active().phase().mirrors()
                || (current.pending() != null && current.pending().phase().mirrors());
    }

    /** @return how many requests were held by a step, since start */
    public long heldRequests() {
        return heldRequests.get();
    }

    /** @return how many held requests failed because the step did not end in time, since start */
    public long heldTimeouts() {
        return heldTimeouts.get();
    }

    /**
     * @return how many transactions were rolled back at commit (or scopes refused another connection) because
     *     the lease lapsed after their admission
     */
    public long fencedCommits() {
        return fencedCommits.get();
    }

    /**
     * This instance's requests without a routing key: their share of the last minute, and how many took the
     * default route in RAMP.
     *
     * @return the counts
     */
    public KeylessRequests keylessRequests() {
        return keyless;
    }

    /**
     * @return the instances registered in the store
     * @throws SQLException if the store cannot be read
     */
    public List<InstanceStatus> instances() throws SQLException {
        return store.instances();
    }

    /**
     * Removes another instance from the control store, so that steps no longer wait for it: for an instance
     * an operator knows to be dead or stopped whose last heartbeat did not promise to fence itself (see the
     * class comment), which steps never count out on their own. Dropping an instance that is in fact still
     * running lets a step move keys it goes on writing by the old route: make sure first.
     *
     * @param id the instance's id, as {@link #instances()} lists it
     * @return what was done
     * @throws IllegalArgumentException if the id is this instance's, or is unknown
     * @throws IllegalStateException if the instance's lease has not run out (or it renewed it meanwhile), or
     *     the mirrors have not applied within 10 s what was committed before the call (it may hold changes the
     *     dropped instance committed, which no step may overtake: {@code model/lease.pml}, finding 8)
     * @throws SQLException if the store cannot be reached
     */
    public String dropInstance(String id) throws SQLException {
        Objects.requireNonNull(id, "id");
        if (id.equals(instanceId)) {
            throw new IllegalArgumentException("dualwrite drop-instance: " + id + " is the instance asked to drop it;"
                    + " ask another instance, or stop this one (it leaves the control store when it closes)");
        }
        Instant now = clock.instant();
        InstanceStatus found = null;
        for (InstanceStatus instance : store.instances()) {
            if (instance.instanceId().equals(id)) {
                found = instance;
            }
        }
        if (found == null) {
            throw new IllegalArgumentException("dualwrite drop-instance: no instance '" + id + "' in the control store");
        }
        if (found.liveAt(now)) {
            throw leaseHolds(id, found);
        }
        // Like a count-out: what it committed before it stopped (its outbox rows) must be applied before a step
        // may go on without it, and nothing decides a step without it once its row is gone.
        if (!appliedUpTo(System.nanoTime(), DROP_DRAIN_WAIT)) {
            throw new IllegalStateException("dualwrite drop-instance: the mirrors have not applied, within "
                    + DROP_DRAIN_WAIT.toSeconds() + " s, everything committed before now, which may hold changes of"
                    + " instance " + id + " that a step must not overtake; see the mirrors' health and lag, and ask again"
                    + " once they have caught up");
        }
        if (!store.drop(id, now)) {
            throw leaseHolds(id, found);
        }
        String done = "dropped instance " + id + " (lease ran out at " + found.leaseUntil() + ", acknowledged version "
                + found.acknowledged() + (found.fences() ? ", promised to fence itself" : ", did not promise to fence itself")
                + ") at the request of " + instanceId;
        log.warn("dualwrite " + done + "; steps no longer wait for it" + (found.fences() ? ""
                : ". It did not promise to fence itself: if its mirror kept changes in memory (SYNC, ASYNC), those it"
                + " had not applied were lost with it; run the reconciler before a step moves keys"));
        wakePoller();
        return done;
    }

    private static IllegalStateException leaseHolds(String id, InstanceStatus found) {
        return new IllegalStateException("dualwrite drop-instance: instance " + id + " holds its lease until "
                + found.leaseUntil() + " or renewed it since: it is running, and a running instance is never"
                + " dropped; stop it, or wait until its lease has run out");
    }

    /**
     * Moves to another phase.
     *
     * @param phase the phase
     * @param force whether to override the guards (logged)
     * @return what became of the step
     * @throws IllegalArgumentException if the phase skips one, or TARGET_ONLY is asked before RAMP at 100
     * @throws SQLException if the store cannot be reached
     * @throws InterruptedException if interrupted while the step runs
     */
    public StepResult requestPhase(Phase phase, boolean force) throws SQLException, InterruptedException {
        Objects.requireNonNull(phase, "phase");
        return request(rules -> rules.withPhase(phase), force, "phase " + phase);
    }

    /**
     * Changes the ramp percent.
     *
     * @param percent 0..100
     * @param force whether to override the guards (logged)
     * @return what became of the step
     * @throws IllegalArgumentException if the percent is outside 0..100
     * @throws SQLException if the store cannot be reached
     * @throws InterruptedException if interrupted while the step runs
     */
    public StepResult requestPercent(int percent, boolean force) throws SQLException, InterruptedException {
        RoutingRules.initial().withPercent(percent); // refuses a percent outside 0..100 before the store is read
        return request(rules -> rules.withPercent(percent), force, "percent " + percent);
    }

    /**
     * Runs a step to new rules and waits until it is active or reverted.
     *
     * @param next the rules to move to
     * @param force whether to override the guards; the override is logged with the reasons
     * @param why what the change is for, for the log
     * @return what became of the step: ACTIVATED, REVERTED (with the reason), REFUSED (by a guard or
     *     because another step is under way) or UNCHANGED
     * @throws IllegalArgumentException if the change is not allowed (a skipped phase, TARGET_ONLY before
     *     RAMP at 100, a listed key without a bucket); nothing is changed
     * @throws SQLException if the store cannot be reached
     * @throws InterruptedException if interrupted while waiting; the step goes on without this caller
     */
    public StepResult request(RoutingRules next, boolean force, String why) throws SQLException, InterruptedException {
        Objects.requireNonNull(next, "next");
        return request(rules -> next, force, why);
    }

    /**
     * Runs a step that changes the setting in force — read fresh from the store, not this instance's last
     * poll, so that a change another instance just made is kept — and waits until it is active or reverted.
     *
     * @param change from the rules in force to the rules asked for, e.g. {@code r -> r.withPercent(10)}
     * @param force whether to override the guards; the override is logged with the reasons
     * @param why what the change is for, for the log
     * @return what became of the step (see {@link #request(RoutingRules, boolean, String)})
     * @throws IllegalArgumentException if the change is not allowed; nothing is changed
     * @throws SQLException if the store cannot be reached
     * @throws InterruptedException if interrupted while waiting; the step goes on without this caller
     */
    public StepResult request(java.util.function.UnaryOperator<RoutingRules> change, boolean force, String why)
            throws SQLException, InterruptedException {
        Objects.requireNonNull(change, "change");
        ControlState current = store.read();
        RoutingRules from = current.active();
        RoutingRules next = Objects.requireNonNull(change.apply(from), "the change returned no rules");
        checkTransition(from, next, force);
        if (current.pending() != null) {
            return new StepResult(StepResult.Outcome.REFUSED, "a step to " + current.pending() + " is under way"
                    + " (until " + current.deadline() + "); wait for it to end", current);
        }
        if (from.equals(next)) {
            return new StepResult(StepResult.Outcome.UNCHANGED, "already " + from, current);
        }
        if (advances(from, next)) {
            List<String> refusals = new ArrayList<>();
            for (RampGuard guard : guards) {
                guard.check(from, next).ifPresent(refusals::add);
            }
            if (!refusals.isEmpty()) {
                if (!force) {
                    String message = "refused " + from + " -> " + next + ": " + String.join("; ", refusals)
                            + " (force overrides)";
                    log.warn("dualwrite " + message);
                    return new StepResult(StepResult.Outcome.REFUSED, message, current);
                }
                log.warn("dualwrite step " + from + " -> " + next + " FORCED by " + instanceId + " over: "
                        + String.join("; ", refusals));
            }
        }
        List<String> unready = prepare(from, next);
        if (!unready.isEmpty()) {
            if (!force) {
                String message = "refused " + from + " -> " + next + ": " + String.join("; ", unready) + " (force overrides)";
                log.warn("dualwrite " + message);
                return new StepResult(StepResult.Outcome.REFUSED, message, current);
            }
            log.warn("dualwrite step " + from + " -> " + next + " FORCED by " + instanceId + " although its preparation"
                    + " failed: " + String.join("; ", unready));
        }
        Instant deadline = clock.instant().plus(stepTimeout);
        ControlState begun = current.begin(next, deadline, instanceId, why == null ? "" : why);
        if (!store.compareAndSet(current.version(), begun)) {
            return new StepResult(StepResult.Outcome.REFUSED, "the setting changed while this step was being asked;"
                    + " read it again and retry", store.read());
        }
        log.info("dualwrite step " + from + " -> " + next + " pending (" + why + "), deadline " + deadline);
        observe(begun);
        long giveUp = System.nanoTime() + stepTimeout.toNanos() + 2 * pollInterval.toNanos() + TimeUnit.SECONDS.toNanos(1);
        while (System.nanoTime() < giveUp) {
            ControlState now = store.read();
            if (now.version() > begun.version()) {
                observe(now);
                boolean activated = now.version() == begun.version() + 1 && now.pending() == null
                        && now.active().equals(next);
                return new StepResult(activated ? StepResult.Outcome.ACTIVATED : StepResult.Outcome.REVERTED,
                        now.message(), now);
            }
            wakePoller();
            Thread.sleep(20);
        }
        return new StepResult(StepResult.Outcome.REVERTED, "no instance finished the step; it reverts at its deadline",
                store.read());
    }

    /**
     * Applies the guards to a setting no step has made: the rules a new control store was seeded with
     * (from properties, version 0) when they already send traffic to the target (RAMP, TARGET_ONLY). A
     * step would have been refused by the same guards; a seed must not get around them, nor around the
     * {@link StepPreparation}s a step would have run, which run here too. Call it once the guards and
     * preparations are registered and before the application takes traffic (the starter does, at start-up).
     *
     * @param force whether to go on over the guards' refusals (logged), {@code dualwrite.routing.force-initial}
     * @throws IllegalStateException naming every refusal and the property that overrides them
     * @throws SQLException if the store cannot be reached
     */
    public void checkUnsteppedSetting(boolean force) throws SQLException {
        ControlState current = store.read();
        RoutingRules seeded = current.active();
        if (current.version() != 0 || seeded.phase().sourceIsPrimaryOfEveryRow()) {
            return;
        }
        RoutingRules from = seeded.withPhase(Phase.DUAL_WRITE).withPercent(0).withLists(List.of(), List.of());
        List<String> refusals = new ArrayList<>();
        for (RampGuard guard : guards) {
            guard.check(from, seeded).ifPresent(refusals::add);
        }
        refusals.addAll(prepare(from, seeded));
        if (refusals.isEmpty()) {
            return;
        }
        if (force) {
            log.warn("dualwrite starts at " + seeded + " from its initial settings, FORCED over: "
                    + String.join("; ", refusals));
            return;
        }
        throw new IllegalStateException("dualwrite.phase=" + seeded.phase() + ": the control store holds the initial"
                + " setting " + seeded + ", which no step has made, and the guards refuse it: "
                + String.join("; ", refusals) + ". Start with dualwrite.phase=DUAL_WRITE and step through the endpoint"
                + " once the guards pass, or set dualwrite.routing.force-initial=true to start anyway (logged)");
    }

    /** Runs every preparation for a step; a failure is a reason to refuse it, like a guard's. */
    private List<String> prepare(RoutingRules from, RoutingRules to) {
        List<String> unready = new ArrayList<>();
        for (StepPreparation preparation : preparations) {
            try {
                preparation.prepare(from, to).ifPresent(unready::add);
            } catch (SQLException | RuntimeException e) {
                unready.add("preparing the stores failed: " + e.getMessage());
            }
        }
        return unready;
    }

    /** Refuses changes no force may make. */
    private static void checkTransition(RoutingRules from, RoutingRules to, boolean force) {
        PropertiesControlStore.checkListedKeys(to);
        int step = to.phase().ordinal() - from.phase().ordinal();
        if (Math.abs(step) > 1) {
            throw new IllegalArgumentException("dualwrite.phase: " + from.phase() + " -> " + to.phase()
                    + " skips a phase; go through " + Phase.values()[from.phase().ordinal() + Integer.signum(step)]
                    + " first");
        }
        if (to.phase() == Phase.TARGET_ONLY && from.phase() == Phase.RAMP
                && (from.percent() != 100 || !from.deny().isEmpty())) {
            throw new IllegalArgumentException("dualwrite.phase: TARGET_ONLY needs RAMP at 100 percent with an empty"
                    + " deny-list first; now " + from);
        }
        if (from.phase() == Phase.TARGET_ONLY && to.phase() != Phase.TARGET_ONLY && !force) {
            throw new IllegalArgumentException("dualwrite.phase: leaving TARGET_ONLY would lose the writes made since,"
                    + " because TARGET_ONLY mirrors nothing to the source; pass force to do it anyway");
        }
        if (!from.strategy().equals(to.strategy()) && from.phase() == Phase.RAMP && to.phase() == Phase.RAMP
                && from.percent() > 0 && from.percent() < 100) {
            throw new IllegalArgumentException("dualwrite.routing.strategy: changing " + from.strategy() + " -> "
                    + to.strategy() + " at " + from.percent() + "% would move users both ways at once; ramp to 0 or"
                    + " 100 first");
        }
    }

    /** Whether the step sends more traffic to the target, as the guards must approve. */
    private static boolean advances(RoutingRules from, RoutingRules to) {
        if (to.phase().ordinal() > from.phase().ordinal()) {
            return to.phase() == Phase.RAMP || to.phase() == Phase.TARGET_ONLY;
        }
        if (to.phase() != Phase.RAMP) {
            return false;
        }
        return to.percent() > from.percent() || !from.allow().containsAll(to.allow())
                || !to.deny().containsAll(from.deny()) || to.defaultRoute() != from.defaultRoute();
    }

    /**
     * Admits a request to a store: waits while a step under way moves its key, then returns its route
     * and counts it as in flight until released.
     *
     * @param key the routing key, or null
     * @return the admission; release it when the request's transaction has ended
     * @throws RouteHeldException if a step held the request for longer than the hold timeout
     * @throws IllegalArgumentException if the strategy is MODULO and the key is not a whole number
     */
    Admission admit(Object key) throws RouteHeldException {
        long deadline = System.nanoTime() + holdTimeout.toNanos();
        boolean held = false;
        Admission admitted;
        RoutingRules admittedUnder;
        String text = key == null ? null : TrafficRouter.text(key);
        // The user's moved route, read outside the lock (a cache miss is a query), and used only if no state was
        // observed meanwhile: observe() drops the cached routes a new state may have changed.
        java.util.Optional<Route> loaded = null;
        long loadedAt = -1;
        lock.lock();
        try {
            while (true) {
                ControlState current = state;
                java.util.Optional<Route> moved = java.util.Optional.empty();
                if (text != null && mayRouteByUser(current)) {
                    moved = loadedAt == observed ? loaded : userRoutes.cached(text);
                    if (moved == null) {
                        long at = observed;
                        lock.unlock();
                        try {
                            loaded = java.util.Optional.ofNullable(userRoutes.lookup(text));
                            loadedAt = at;
                        } catch (IllegalStateException e) {
                            throw new RouteHeldException(e.getMessage() + "; retry");
                        } finally {
                            lock.lock();
                        }
                        continue;
                    }
                }
                Route movedRoute = moved.orElse(null);
                java.util.function.Function<String, Route> users = k -> movedRoute;
                Route route = TrafficRouter.route(current.active(), users, key);
                boolean fenced = running && barrier && !ownLease.valid()
                        && (fencesBy(current) || ownLease.promised());
                // A thread already inside a transaction admitted before the step would wait for a step that
                // waits for it: its nested request goes on, and ends before the outer one releases.
                Admission outer = outerAdmission.get();
                boolean nested = outer != null && outer.owner != null && outer.number < firstAdmissionOfStep;
                if (!fenced && (current.pending() == null || !barrier || nested
                        || !moves(current, users, key, route))) {
                    Admission admission = new Admission(this, admissions++, key, route, ownLease.stamp());
                    inFlight.add(admission);
                    if (outer == null || outer.owner == null) {
                        outerAdmission.set(admission);
                    }
                    admitted = admission;
                    admittedUnder = current.active();
                    break;
                }
                if (!held) {
                    held = true;
                    heldRequests.incrementAndGet();
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    heldTimeouts.incrementAndGet();
                    if (fenced) {
                        throw new RouteHeldException("dualwrite held this request (routing key " + key + ") for "
                                + holdTimeout.toMillis() + " ms: this instance (" + instanceId + ") has not renewed its"
                                + " lease in the control store, so the other instances may already route by a newer"
                                + " step; it takes no requests in " + current.active().phase() + " until the control store"
                                + " answers again");
                    }
                    throw new RouteHeldException("dualwrite held this request (routing key " + key + ") for "
                            + holdTimeout.toMillis() + " ms while the step " + current.active() + " -> "
                            + current.pending() + " moved its key, and the step has not ended; retry, or see why the"
                            + " step is slow (dualwrite.routing.hold-timeout)");
                }
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RouteHeldException("dualwrite was interrupted while holding a request for a ramp step");
        } finally {
            lock.unlock();
        }
        keyless.admitted(key == null, admittedUnder);
        return admitted;
    }

    /**
     * The gate backfill chunks pass on this instance. It is open while the source is the primary of every
     * row ({@link Phase#sourceIsPrimaryOfEveryRow()}) and no step into RAMP or TARGET_ONLY is pending; a
     * chunk let in counts as a transaction in flight, which a phase step waits for before this instance
     * acknowledges it (a phase step waits for every admission taken before it). So no chunk that read the
     * source can write the target after a target-routed user could have written there. In RAMP the
     * refusal is lasting (the job pauses with it); while a step is pending, or this instance's lease has
     * lapsed, the chunk retries.
     *
     * @return the gate, for {@code BackfillRunner.create}
     */
    public BackfillGate backfillGate() {
        return this::admitBackfillChunk;
    }

    private BackfillGate.Pass admitBackfillChunk(String table) {
        lock.lock();
        try {
            ControlState current = state;
            Phase active = current.active().phase();
            if (!active.sourceIsPrimaryOfEveryRow()) {
                throw new BackfillGate.Refused("dualwrite backfill of " + table + " refused in phase " + active
                        + ": users routed to the target write there, and a chunk read from the source would overwrite"
                        + " their newer rows; step back to DUAL_WRITE to finish the backfill, or let the reconciler"
                        + " repair the table by each row's route", true);
            }
            if (current.pending() != null && !current.pending().phase().sourceIsPrimaryOfEveryRow()) {
                throw new BackfillGate.Refused("dualwrite backfill of " + table + " waits: the step " + current.active()
                        + " -> " + current.pending() + " is under way", false);
            }
            if (running && !leaseValid()) {
                throw new BackfillGate.Refused("dualwrite backfill of " + table + " waits: instance " + instanceId
                        + " has not renewed its lease in the control store, so the others may already have stepped"
                        + " without it", false);
            }
            Admission admission = new Admission(this, admissions++, null, Route.SOURCE, ownLease.stamp());
            inFlight.add(admission);
            return new BackfillGate.Pass() {
                @Override
                public boolean stillValid() {
                    // A step waits for this admission; only being counted out (a lapsed lease) lets one pass it.
                    return !running || (ownLease.valid() && !ownLease.mayHaveBeenCountedOutSince(admission.leaseStamp));
                }

                @Override
                public void close() {
                    admission.release();
                }
            };
        } finally {
            lock.unlock();
        }
    }

    /**
     * The commit-time half of the fence: a transaction may commit only if no other instance can have counted
     * this one out since it was admitted. Otherwise a step may have moved its key meanwhile, and the moved
     * user may already have written on the new primary, which this commit on the old route would undo.
     *
     * @param admission the transaction's admission
     * @throws RouteHeldException if this instance's lease lapsed, while it had promised to fence itself, at
     *     any moment since the admission (even if it has been renewed since); the caller rolls back
     */
    void checkCommit(Admission admission) throws RouteHeldException {
        if (!mayHaveBeenCountedOutSince(admission)) {
            return;
        }
        fencedCommits.incrementAndGet();
        throw new RouteHeldException("dualwrite rolled back this transaction (routing key " + admission.key + ", route "
                + admission.route + ") instead of committing it: this instance's (" + instanceId + ") lease in the"
                + " control store lapsed after the transaction was admitted (a pause, or the control store out of"
                + " reach), so the other instances may have counted it out and moved the key to the other store;"
                + " retrying it is safe");
    }

    /**
     * The same check when a routing scope takes another connection on its admission: its auto-commit
     * statements commit with no {@code commit()} to check, and its route may be stale.
     *
     * @param admission the scope's admission
     * @throws RouteHeldException if this instance may have been counted out since the scope was admitted
     */
    void checkReuse(Admission admission) throws RouteHeldException {
        if (mayHaveBeenCountedOutSince(admission)) {
            fencedCommits.incrementAndGet();
            throw new RouteHeldException("dualwrite refused a connection: its routing scope (routing key "
                    + admission.key + ", route " + admission.route + ") was admitted before this instance's ("
                    + instanceId + ") lease in the control store lapsed, so the other instances may have counted it"
                    + " out and moved the key to the other store; end the scope and retry in a new one");
        }
    }

    private boolean mayHaveBeenCountedOutSince(Admission admission) {
        return running && barrier && commitCheck && ownLease.mayHaveBeenCountedOutSince(admission.leaseStamp);
    }

    /** Whether a moved user's route may decide a request's route in this state (only in RAMP). */
    private static boolean mayRouteByUser(ControlState current) {
        return current.active().phase() == Phase.RAMP
                || (current.pending() != null && current.pending().phase() == Phase.RAMP);
    }

    private static boolean moves(ControlState current, java.util.function.Function<String, Route> users, Object key,
            Route route) {
        try {
            return TrafficRouter.route(current.pending(), users, key) != route;
        } catch (IllegalArgumentException noBucket) {
            return true;
        }
    }

    private void release(Admission admission) {
        if (outerAdmission.get() == admission) {
            outerAdmission.remove();
        }
        lock.lock();
        try {
            inFlight.remove(admission);
        } finally {
            lock.unlock();
        }
    }

    private void pollLoop() {
        while (running) {
            try {
                tick();
            } catch (RuntimeException | SQLException e) {
                log.warn("dualwrite could not follow the control store (will retry): " + e.getMessage());
            }
            lock.lock();
            try {
                if (running) {
                    long wait = state.pending() != null ? FAST_POLL_NANOS : pollInterval.toNanos();
                    pollNow.awaitNanos(wait);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } finally {
                lock.unlock();
            }
        }
    }

    /**
     * One poll: renew the lease, read the state, work on the step under way. Visible for tests.
     *
     * <p>Renew first, then read, and trust the renewed lease only once what was read is in force. A step
     * that counted this instance out (its lease had lapsed) was activated before the renewal reached the
     * store, so the read after it sees that step; a step written after the renewal sees this instance
     * live and waits for its acknowledgement. Read first, and a step activated between the read and the
     * renewal would be routed by the old view, with a valid lease, for a whole poll interval.
     */
    void tick() throws SQLException {
        Heartbeat renewedAt = writeHeartbeat();
        ControlState current = store.read();
        observe(current);
        trustLeaseFrom(renewedAt);
        if (current.pending() == null) {
            return;
        }
        if (acknowledged < current.version() && readyToAcknowledge(current)) {
            acknowledged = current.version();
            // Written, not trusted: no read follows it, and draining may have taken longer than the lease.
            // Only renew-then-read extends trust (model/lease.pml found the trail); the next poll does.
            writeHeartbeat();
            log.info("dualwrite instance " + instanceId + " acknowledged step " + current.active() + " -> "
                    + current.pending());
        }
        finishStep(current);
    }

    private void observe(ControlState next) {
        if (next.version() <= state.version()) {
            return;
        }
        // Asked before taking the lock: in OUTBOX mode it is a query, and admissions wait on this lock.
        long parked = next.pending() == null ? 0 : parkedNow();
        lock.lock();
        try {
            ControlState previous = state;
            if (next.version() <= previous.version()) {
                return;
            }
            userRoutes.observe(previous, next);
            observed++;
            state = next;
            if (next.pending() == null || holdingFor != next.version()) {
                beginStepBookkeeping(next, parked);
            }
            changed.signalAll();
            if (!previous.active().equals(next.active())) {
                log.info("dualwrite routing changed: " + previous.active() + " -> " + next.active() + " (" + next.message()
                        + ", by " + next.changedBy() + ")");
            } else if (next.pending() == null && previous.pending() != null) {
                log.warn("dualwrite step " + previous.active() + " -> " + previous.pending() + " ended without effect: "
                        + next.message());
            }
        } finally {
            lock.unlock();
        }
    }

    /** Under lock: what the acknowledgement of a newly seen step (or of none) is measured against. */
    private void beginStepBookkeeping(ControlState next, long parked) {
        holdingFor = next.pending() == null ? -1 : next.version();
        quietSinceNanos = 0;
        firstAdmissionOfStep = admissions;
        parkedAtStep = parked;
    }

    /**
     * Holding starts when {@link #observe} sees the pending state; here we wait for the admissions the
     * step must not overlap to end, then for the mirrors to apply what those committed.
     */
    private boolean readyToAcknowledge(ControlState current) {
        if (!barrier) {
            return true;
        }
        lock.lock();
        try {
            if (quietSinceNanos == 0) {
                // Every transaction admitted before the step was seen must end first, not only those whose
                // routing key moves: a merchant's request (its key stays) may write a moving user's row, and
                // its forward apply must land before that user's first write on the new primary. Admissions
                // taken since the step was seen are held when their key moves; the rest commit under the
                // old setting's routes while a step is pending (see the class comment for what that leaves).
                boolean phaseChange = current.active().phase() != current.pending().phase();
                for (Admission admission : inFlight) {
                    if (admission.number < firstAdmissionOfStep && (phaseChange || !movingKeysOnly
                            || moves(current, userRoutes::lookup, admission.key, admission.route))) {
                        return false;
                    }
                }
                quietSinceNanos = System.nanoTime();
            }
        } finally {
            lock.unlock();
        }
        long parked = parkedNow() - parkedAtStep;
        if (parked > 0) {
            log.warn("dualwrite instance " + instanceId + " does not acknowledge the step " + current.active() + " -> "
                    + current.pending() + ": " + parked + " keys were parked while it drained; the step reverts at its"
                    + " deadline. Reconcile the parked keys, then ask again");
            return false;
        }
        for (Drain drain : drains) {
            try {
                if (!drain.awaitAppliedUpTo(quietSinceNanos, Duration.ZERO)) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    private long parkedNow() {
        long parked = 0;
        for (Drain drain : drains) {
            parked += drain.parked();
        }
        return parked;
    }

    /**
     * Decides the pending step ({@link StepDecision}) and writes the decision, in one act of the store
     * ({@link ControlStore#finishStep}); measures the drains when only lapsed instances' changes hold it back.
     */
    private void finishStep(ControlState current) throws SQLException {
        Instant drained = drainedForStep == current.version() ? drainedUpTo : Instant.MIN;
        AtomicReference<StepDecision> decided = new AtomicReference<>();
        ControlState next = store.finishStep(current.version(), instances -> {
            decided.set(StepDecision.of(current, instances, clock.instant(), drained, lease, instanceId));
            // A move becomes active only through the instance that copies the user's rows (UserMoves).
            return UserMoves.pollerDecision(current, decided.get().next(), clock.instant(), instanceId);
        });
        if (next != null) {
            observe(next);
        } else if (decided.get() != null && decided.get().awaitsDrain()) {
            drainForCountOut(current);
        }
    }

    /**
     * Counting an instance out is safe only once what it committed before it lapsed has reached the other
     * store: those changes are not behind this instance's acknowledgement, which drained up to an earlier
     * moment. An instance that promised keeps them in outbox tables ({@link Drain#durable()}), which every
     * drain reads, and it commits nothing after its lease expires (it stops trusting its lease a quarter
     * lease earlier, by its own clock), so everything applied up to a moment after its expiry covers it
     * ({@code model/lease.pml}, repair 3). Asks without waiting; the next poll decides again.
     */
    private void drainForCountOut(ControlState current) {
        Instant point = clock.instant();
        if (appliedUpTo(System.nanoTime(), Duration.ZERO)) {
            drainedUpTo = point;
            drainedForStep = current.version();
        }
    }

    /** @return whether every drain applied what was committed before {@code pointNanos}, within the wait */
    private boolean appliedUpTo(long pointNanos, Duration wait) {
        long deadline = System.nanoTime() + wait.toNanos();
        for (Drain drain : drains) {
            try {
                if (!drain.awaitAppliedUpTo(pointNanos, Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
                    return false;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return true;
    }

    /**
     * Whether an instance with this view fences itself when its lease lapses: where the target is the primary
     * of some row, or a step into such a phase is under way. It promises so in its heartbeat only if, besides,
     * its mirrors keep nothing in memory ({@link #changesOutliveThisInstance()}).
     */
    static boolean fencesBy(ControlState view) {
        return !view.active().phase().sourceIsPrimaryOfEveryRow()
                || (view.pending() != null && !view.pending().phase().sourceIsPrimaryOfEveryRow());
    }

    private void heartbeat() throws SQLException {
        trustLeaseFrom(writeHeartbeat());
    }

    /** Whether no mirror of this instance keeps changes it owes in memory only ({@link Drain#durable()}). */
    private boolean changesOutliveThisInstance() {
        for (Drain drain : drains) {
            if (!drain.durable()) {
                return false;
            }
        }
        return true;
    }

    /** A heartbeat written: when it started, from which the renewed lease runs, and what it promised. */
    private record Heartbeat(long startedNanos, boolean promise) {
    }

    private Heartbeat writeHeartbeat() throws SQLException {
        boolean promise = fencesBy(state) && changesOutliveThisInstance();
        long started = ownLease.beforeWrite(promise);
        store.heartbeat(instanceId, acknowledged, clock.instant().plus(lease), promise);
        return new Heartbeat(started, promise);
    }

    private void trustLeaseFrom(Heartbeat written) {
        if (ownLease.renewed(written.startedNanos(), written.promise())) {
            lock.lock();
            try {
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    /** @return whether this instance's lease in the store is still valid by its own clock */
    public boolean leaseValid() {
        return ownLease.valid();
    }

    /**
     * Makes a step wait only for the older transactions whose routing key moves, as before issue 15: only for
     * the test that shows a cross-route write's late apply undoing a moved user's write.
     */
    void movingKeysOnlyForTesting(boolean on) {
        this.movingKeysOnly = on;
    }

    /** Switches the commit-time lease check off. Only for the test that shows what it prevents. */
    void commitCheckForTesting(boolean on) {
        this.commitCheck = on;
    }

    /** Switches the barrier off: steps neither hold nor wait. Only for the test that shows what it prevents. */
    void barrierForTesting(boolean on) {
        this.barrier = on;
    }

    private void wakePoller() {
        lock.lock();
        try {
            pollNow.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private static String describe(ControlState state) {
        return state.active() + (state.pending() == null ? "" : " (step to " + state.pending() + " pending)");
    }

    /** Stops following the store and leaves it, so that steps need not wait for this instance's lease. */
    @Override
    public synchronized void close() {
        running = false;
        wakePoller();
        if (poller != null) {
            try {
                poller.join(TimeUnit.SECONDS.toMillis(5));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        try {
            store.leave(instanceId);
        } catch (SQLException | RuntimeException e) {
            log.warn("dualwrite instance " + instanceId + " could not leave the control store; its lease expires in "
                    + lease + ": " + e.getMessage());
        }
    }

    /** Waits until a mirror has applied what was committed up to a moment; see {@link #of(Mirror)}. */
    @FunctionalInterface
    public interface Drain {
        /**
         * @param committedUpToNanos a {@link System#nanoTime()} reading
         * @param timeout the longest wait; zero asks without waiting
         * @return true when everything committed until then has been applied
         * @throws InterruptedException if interrupted
         */
        boolean awaitAppliedUpTo(long committedUpToNanos, Duration timeout) throws InterruptedException;

        /**
         * A parked key left the queue without reaching the other store: a step must not count it as
         * drained, or the reconciler would later "repair" the row from a new primary that never got it.
         *
         * @return how many keys this mirror has parked so far
         */
        default long parked() {
            return 0;
        }

        /**
         * Whether every change this mirror has yet to apply is kept where it outlives this instance: in an
         * outbox table any instance's relay applies (OUTBOX). A mirror that holds them in memory (SYNC, ASYNC)
         * loses them with a frozen or dead instance, or applies them late, after a step the others took
         * without it moved their keys; so an instance with such a mirror never promises to fence itself, and
         * no step counts it out on its own (see the class comment, <em>The promise</em>).
         *
         * @return true if nothing this mirror owes lives only in this instance's memory
         */
        default boolean durable() {
            return false;
        }

        /**
         * @param mirror a mirror
         * @return its drain, parked keys included
         */
        static Drain of(Mirror mirror) {
            Objects.requireNonNull(mirror, "mirror");
            return new Drain() {
                @Override
                public boolean awaitAppliedUpTo(long committedUpToNanos, Duration timeout) throws InterruptedException {
                    return mirror.awaitAppliedUpTo(committedUpToNanos, timeout);
                }

                @Override
                public long parked() {
                    return mirror.parked();
                }

                @Override
                public boolean durable() {
                    return mirror.mode() == MirrorMode.OUTBOX;
                }
            };
        }
    }

    /** A request admitted to a route, in flight until released. */
    static final class Admission {
        private final MigrationController issuer;
        private final long number;
        private final Object key;
        private final Route route;
        /** {@link InstanceLease#stamp()} when admitted, for {@link #checkCommit()}. */
        private final long leaseStamp;
        private volatile MigrationController owner;

        private Admission(MigrationController owner, long number, Object key, Route route, long leaseStamp) {
            this.issuer = owner;
            this.owner = owner;
            this.number = number;
            this.key = key;
            this.route = route;
            this.leaseStamp = leaseStamp;
        }

        Route route() {
            return route;
        }

        /**
         * Call just before the admitted transaction commits.
         *
         * @throws RouteHeldException if it must roll back instead (see {@link MigrationController#checkCommit})
         */
        void checkCommit() throws RouteHeldException {
            issuer.checkCommit(this);
        }

        /**
         * Call when a routing scope takes another connection on this admission.
         *
         * @throws RouteHeldException if the scope must end instead (see {@link MigrationController#checkReuse})
         */
        void checkReuse() throws RouteHeldException {
            issuer.checkReuse(this);
        }

        void release() {
            MigrationController current = owner;
            if (current != null) {
                owner = null;
                current.release(this);
            }
        }
    }

    /** Settings of a {@link MigrationController}. */
    public static final class Builder {
        private final ControlStore store;
        private String instanceId = defaultInstanceId();
        private Duration pollInterval = Duration.ofSeconds(2);
        private Duration stepTimeout = Duration.ofSeconds(60);
        private Duration holdTimeout = Duration.ofSeconds(10);
        private Duration lease;
        private Clock clock = Clock.systemUTC();
        private long userRouteCacheSize = 100_000;

        private Builder(ControlStore store) {
            this.store = Objects.requireNonNull(store, "store");
        }

        private static String defaultInstanceId() {
            String jvm = ManagementFactory.getRuntimeMXBean().getName();
            return jvm + "-" + UUID.randomUUID().toString().substring(0, 8);
        }

        /**
         * @param id this instance's id in the store (default: pid@host and a random suffix)
         * @return this builder
         */
        public Builder instanceId(String id) {
            if (id == null || id.isBlank() || id.length() > 128) {
                throw new IllegalArgumentException("dualwrite.control.instance-id: 1 to 128 characters, not '" + id + "'");
            }
            this.instanceId = id;
            return this;
        }

        /**
         * @param interval how often the store is read (default 2 s; 50 ms while a step is under way)
         * @return this builder
         */
        public Builder pollInterval(Duration interval) {
            this.pollInterval = positive("dualwrite.control.poll-interval", interval);
            return this;
        }

        /**
         * @param timeout how long a step may wait for every instance's acknowledgement before it reverts
         *     (default 60 s)
         * @return this builder
         */
        public Builder stepTimeout(Duration timeout) {
            this.stepTimeout = positive("dualwrite.routing.step-timeout", timeout);
            return this;
        }

        /**
         * @param timeout how long a request on a moving key may be held before it fails (default 10 s)
         * @return this builder
         */
        public Builder holdTimeout(Duration timeout) {
            this.holdTimeout = positive("dualwrite.routing.hold-timeout", timeout);
            return this;
        }

        /**
         * @param duration how long an instance counts as live after its last heartbeat (default five
         *     poll intervals)
         * @return this builder
         */
        public Builder lease(Duration duration) {
            this.lease = positive("dualwrite.control.lease", duration);
            return this;
        }

        /**
         * @param size how many users' routes (moved or not) this instance caches (default 100,000)
         * @return this builder
         */
        public Builder userRouteCacheSize(long size) {
            if (size < 1) {
                throw new IllegalArgumentException("dualwrite.routing.user-route-cache-size: must be at least 1, not "
                        + size);
            }
            this.userRouteCacheSize = size;
            return this;
        }

        /**
         * @param value the clock for leases and deadlines (tests)
         * @return this builder
         */
        public Builder clock(Clock value) {
            this.clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        /**
         * @return the controller; call {@link MigrationController#start()}
         * @throws IllegalArgumentException if the lease is not longer than the poll interval
         * @throws SQLException if the store cannot be read
         */
        public MigrationController build() throws SQLException {
            Duration effectiveLease = lease == null ? pollInterval.multipliedBy(5) : lease;
            if (effectiveLease.compareTo(pollInterval.multipliedBy(2)) < 0) {
                throw new IllegalArgumentException("dualwrite.control.lease (" + effectiveLease + ") must be at least two"
                        + " poll intervals (" + pollInterval + "), or live instances would drop out between polls");
            }
            this.lease = effectiveLease;
            return new MigrationController(this);
        }

        private static Duration positive(String property, Duration value) {
            if (value == null || value.isNegative() || value.isZero()) {
                throw new IllegalArgumentException(property + ": must be a positive duration, not " + value);
            }
            return value;
        }
    }

    /** @return a short description, for logs */
    @Override
    public String toString() {
        return "MigrationController[" + instanceId + ": " + describe(state) + "]";
    }

}
