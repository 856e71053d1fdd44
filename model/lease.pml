/*
 * lease.pml -- leases, the fence and counting out instances (issue 16 item 1), checked with spin.
 *
 * What it adds to ramp.pml: a control store with one heartbeat lease per instance, renewal, lapse
 * and expiry, a faulty instance (frozen, cut off from the control store, or dead), steps that count
 * out an expired instance, the operator's drop of a dead one, and the phases DUAL_WRITE -> RAMP
 * steps -> TARGET_ONLY and back as a plan of steps.  It checks the fencing rule of
 * MigrationController's class comment ("Leases", R1-R7 of issue 16) against "no acknowledged write
 * is lost" and invariant 1.  The default is the rule as the code has it since 4048e57.
 *
 * Kept small on purpose (ramp.pml and dualwrite.pml check the apply itself): one row, the row of
 * user 0, on two stores S and T; two instances, A = 0 (healthy: it renews in time and runs the
 * steps) and B = 1 (the faulty one).  Each instance has a writer (its request threads, OPS
 * transactions on user 0), an applier (its mirror, one direction per committed change) and a poller
 * (renew, read, acknowledge).  One coordinator (finishStep, on A) runs the plan of steps.
 *
 * Abstractions:
 *  - A row state is a ghost number (seq): the position of the write in the row's history, present
 *    or deleted.  A stale seq on the store the user routes to is a lost write or a resurrected
 *    delete alike.  hseq is the newest state: the last acknowledged (committed) write.
 *  - A transaction is two steps: admission (route, fence, in flight), then lock-read-write-commit
 *    as one step.  An apply is one step: it copies the primary row's current state to the other
 *    store.  Row locks, NOWAIT and the absent branch's re-check are checked in ramp.pml and
 *    dualwrite.pml; deletes are a state like any other here.  Two assertions at each commit: the
 *    row read is the newest state (no write missed), and its store is the active primary.
 *  - Time is not counted; leases are three facts per instance and their order:
 *      fresh[i]    less than 3/4 of the lease has passed since i began its last heartbeat write
 *      lease_ok[i] i trusts its lease: set only by a renew-then-read (R1) while still fresh,
 *                  cleared when fresh ends (i's own monotonic clock); each clearing is one lapse
 *                  (gen[i]++), the lapse counter of R5 and R7
 *      hb_live[i]  the others see i's heartbeat unexpired; it can end only after fresh[i] ended:
 *                  R6 (i stops at 3/4 lease by its clock, the others count it out at the instant
 *                  it wrote, by theirs; wall clocks differ by less than 1/4 lease)
 *    Only B lapses, and only while it is frozen or cut off (a slow poller is a short cut).  EPISODES
 *    fault episodes per run (1); each may begin at any moment and heals (a dead instance stays dead).
 *  - Settings of user 0 (bit 0: route S/T; bit 1: the target is primary of some row, i.e. RAMP or
 *    TARGET_ONLY; bit 2: TARGET_ONLY): DW 0, R0 2 (RAMP, user 0 still on S), RT 3 (RAMP, user 0
 *    on T), TO 7.  A step within RAMP that does not move user 0 is R0 -> R0.  The plan is
 *    INIT then P1 .. P<NSTEPS>.
 *  - A step: written pending; each instance sees it at a read, holds new requests of user 0 if
 *    the step moves user 0, waits until no transaction it admitted before seeing the step is open
 *    (then notes its commit counts) and its applier passed them, and acknowledges in its next
 *    heartbeat.  finishStep reads the instances and writes its decision in one atomic step
 *    (ControlStore.finishStep: one transaction with row locks; a heartbeat sent meanwhile waits, and
 *    the read after it sees the decision): active when none it waits for is missing, or reverted
 *    (at most REVERTS times).  Before it may count B out, a separate step (drainForCountOut) finds
 *    everything committed so far applied after B's heartbeat expired; B renewing voids that point.
 *  - Mirror mode: the OUTBOX by default -- the outbox is shared, so an instance's acknowledgement
 *    and the count-out drain wait for every instance's changes committed before them
 *    (Mirror.awaitAppliedUpTo reads the oldest outbox row; a frozen relay's claimed rows stay in
 *    it), and a dead instance's rows are applied by the others' relays.  ASYNC: an instance's
 *    drains see only its own in-memory lanes, and it never promises (Drain.durable() is false).
 *
 * The rule as modelled (default = the code):
 *   R1 a poll renews (writes the heartbeat), then reads, then trusts the lease if still fresh
 *   R2 FENCED(i): the lease is not trusted and the view fences (fencesBy: the target is primary of
 *      some row in the active setting or in the pending step),
 *   R4 ... or i may have promised (InstanceLease.promised, v_prom: set before a promising heartbeat,
 *      cleared only once the read after a withdrawing heartbeat is in force); a request is then
 *      refused (RouteHeldException).  The promise a heartbeat writes is fencesBy(view), and never
 *      with ASYNC lanes
 *   R3 finishStep waits for an instance that is live, or expired without a promise (until an
 *      operator drops it: only a dead one here)
 *   R5 a transaction is rolled back at commit if its instance's lease lapsed since admission (or is
 *      not trusted now) and the fence applied at admission OR applies at commit (repair 1: see
 *      R5_AS_WRITTEN); never with ASYNC (no promise, so no count-out to guard against)
 *   R6 see hb_live above
 *   one act: finishStep reads the heartbeats and writes its decision atomically (NEG_SPLIT_COUNT_OUT)
 *   repair 3: B counts out only if its heartbeat expired before a point up to which everything
 *      committed was applied (see NO_DRAIN_FOR_COUNT_OUT)
 *   R7 not applied (moot: ASYNC never promises; with the OUTBOX a frozen relay's rows hold the step)
 *   not in the code: the operator's drop waits for no drain (DROP_DRAINS: it does)
 *
 * Compile-time switches (spin -DNAME -a lease.pml):
 *   FREEZE, PARTITION, CRASH  B's fault: all of B stops (GC pause, SIGSTOP), then goes on; B's poller
 *                       cannot reach the control store while its writer and applier go on; B dies
 *                       (its open transaction rolls back, its outbox rows are relayed; not with
 *                       ASYNC).  Default: a freeze or a partition, chosen by the search
 *   ASYNC               in-memory lanes instead of the outbox; the instance never promises
 *   NESTED              B's request opens a second transaction on user 0 inside its open one; not
 *                       held while the outer one was admitted before the pending step was seen
 *                       (MigrationController.admit, nested admissions)
 *   INIT, NSTEPS, P1..P6  the plan (default DW -> R0 -> RT); OPS transactions per writer (1);
 *                       REVERTS reverted steps allowed (0); EPISODES faults of B per run (1)
 *   INV1_STRICT         invariant 1: a request whose view does not fence (DUAL_WRITE, no step into
 *                       RAMP pending) is never refused (default: unless it may still have promised)
 *   LATE_APPLY_ONLY     check only "an apply never replaces a newer state" and "one primary at a
 *                       time": isolates R7's late apply from the loss an ASYNC count-out causes anyway
 *   DROP_DRAINS         repair: the operator's drop of a dead instance waits, like a count-out, until
 *                       everything committed so far is applied
 *   NEG_FENCE_RAMP_ONLY       negative control (the code before issue 16): fence only when the view is
 *                             RAMP, no promise, count out any expired instance
 *   NEG_NO_COMMIT_CHECK       negative control: no R5
 *   NEG_READ_BEFORE_RENEW     negative control: a poll reads, then renews and trusts (not R1)
 *   NEG_COUNT_OUT_UNPROMISED  negative control: finishStep counts out any expired instance (not R3)
 *   NEG_UNFENCE_BEFORE_WITHDRAW negative control: the fence follows the view only (not R4)
 *   NEG_SPLIT_COUNT_OUT       negative control: finishStep reads the instances, and a later separate
 *                             step writes the decision (the code before 4048e57); needs NESTED to lose
 *   NEG_ASYNC_PROMISES        negative control: an ASYNC instance promises as an OUTBOX one does (the
 *                             code before 4048e57); the count-out drain sees only A's lanes
 *   R4_AS_WRITTEN       finding: the fence follows the promise in the store, so it ends as soon as a
 *                       withdrawal (made on a view read under a lapsed lease) is written
 *   R4_TRUSTED_VIEW     alternative repair: a heartbeat withdraws the promise only on a view read under
 *                       a trusted lease (the model's default before 4048e57)
 *   R5_AS_WRITTEN       finding: R5 only for transactions admitted while the fence applied
 *   NO_DRAIN_FOR_COUNT_OUT  finding (the code before 4048e57): count out with no drain after the expiry
 *   R5_GEN_ON_LAPSE_ONLY finding (needs EPISODES=2): the lapse counter moves only when a trusted lease
 *                       lapses, not when trust comes back after a gap
 *   ACK_TRUSTS_LEASE    finding (the code before e0ce161): acknowledging writes a heartbeat and trusts
 *                       the lease with no read after it
 *   R7_PARK             R7's mitigation as proposed: an apply of a change captured before a lapse
 *                       parks the key instead of writing if the route in its instance's view changed
 *   R7_PARK_RENEWED     the same, but decided only on a view read under a trusted lease after the
 *                       lapse with no step moving the key pending (the apply waits until then)
 *   WIT_COUNT_OUT, WIT_FENCE_REFUSES, WIT_R5_ROLLBACK, WIT_PARK, WIT_DW_LAPSED_COMMIT,
 *   WIT_EXPIRED_WAITED  witnesses (runs that must fail): a step activates with B counted out; the
 *                       fence refuses a request; R5 rolls a transaction back; the R7 mitigation parks
 *                       a key; B commits in DUAL_WRITE with its lease lapsed (invariant 1 at work); a
 *                       step is pending while B's heartbeat has expired unacknowledged
 */

#define S 0
#define T 1
#define NI 2
#define A 0
#define B 1

#define DW 0
#define R0 2
#define RT 3
#define TO 7
#define ROUTE(x) ((x) & 1)
#define FENCED_PHASE(x) (((x) & 2) != 0)
#define IS_RAMP(x) (((x) & 6) == 2)

#ifndef OPS
#define OPS 1
#endif
#ifndef INIT
#define INIT DW
#endif
#ifndef NSTEPS
#define NSTEPS 2
#endif
#ifndef P1
#define P1 R0
#endif
#ifndef P2
#define P2 RT
#endif
#ifndef P3
#define P3 TO
#endif
#ifndef P4
#define P4 RT
#endif
#ifndef P5
#define P5 R0
#endif
#ifndef P6
#define P6 DW
#endif
#ifndef EPISODES
#define EPISODES 1     /* fault episodes of B per run */
#endif
#ifndef REVERTS
#define REVERTS 0
#endif
#if defined(NEG_ASYNC_PROMISES) && !defined(ASYNC)
#error "NEG_ASYNC_PROMISES needs ASYNC"
#endif
#if defined(NEG_ASYNC_PROMISES) && defined(NEG_SPLIT_COUNT_OUT)
#error "one negative control at a time"
#endif
#if defined(CRASH) && defined(ASYNC)
#error "CRASH needs OUTBOX: an ASYNC lane dies with its instance (DESIGN: the reconciler's case)"
#endif

/* ---- the row of user 0 on S and T ------------------------------------------- */
byte seq[2];          /* ghost: history position of the state each store holds     */
byte hseq = 1;        /* the newest state: the last acknowledged write              */
bool parked;          /* R7: a key was parked for the reconciler                    */

/* ---- control store (it lives in T) ----------------------------------------- */
byte c_act = INIT;    /* active setting                                             */
byte c_next;          /* pending setting                                            */
bool c_pend;          /* a step is pending                                          */
byte c_step;          /* number of the latest step requested                        */
bool cdone;
bool hb_live[NI];     /* heartbeat unexpired, as the others judge it                */
bool hb_prom[NI];     /* the last heartbeat promised to fence                       */
byte hb_ack[NI];      /* the step the last heartbeat acknowledged                   */
bool dropped[NI];     /* dropped by the operator                                    */
bool counted_out;     /* ghost: a step activated without waiting for B              */
bool dpt[NI];         /* the coordinator drained (everything committed so far applied) after i's
                         heartbeat expired, for the pending step; cleared when i renews            */

/* ---- instances -------------------------------------------------------------- */
byte v_act[NI];
byte v_next[NI];
bool v_pend[NI];
byte v_step[NI];
bool fresh[NI];
bool lease_ok[NI];
bool v_prom[NI];      /* InstanceLease.promised: the store may hold a promise of i's: set before a
                         promising heartbeat, cleared once the read after a withdrawing one is in force */
byte gen[NI];         /* lapse counter                                              */
byte ackd[NI];        /* the step it acknowledges (written by its next heartbeat)   */
bool open[NI];        /* a transaction of user 0 is open                            */
bool told[NI];        /* ... and was admitted before the pending step was seen      */
bool snap[NI];        /* quiet: commit counts noted for the pending step            */
byte ccnt[NI * 2];    /* commits by instance i on store p                           */
byte acnt[NI * 2];    /* low watermark: commits by i on p applied                   */
byte ackpos[NI * 4];  /* [i*4 + j*2 + p]: ccnt[j*2+p] when i went quiet             */
bool pend[NI * 2];    /* applier of i has a change of the row on p to mirror        */
byte pgen[NI * 2];    /* gen[i] when it was captured                                */
byte wdone[NI];
bool frozen[NI];
bool cut[NI];
bool dead[NI];
byte plan[6];

#define UP(i) (!frozen[i] && !dead[i])
/* fencesBy(view): the target is primary of some row in the view's active setting, or in the step pending
 * in it (MigrationController.fencesBy) */
#define FENCED_VIEW(i) (FENCED_PHASE(v_act[i]) || (v_pend[i] && FENCED_PHASE(v_next[i])))
/* R4: the promise a heartbeat writes is fencesBy(view) (R4_TRUSTED_VIEW: it is withdrawn only on a view
 * read under a trusted lease).  With ASYNC lanes an instance never promises (its mirror keeps what it
 * owes in memory: Drain.durable() is false) */
#if defined(ASYNC) && !defined(NEG_ASYNC_PROMISES)
#define PROMISE(i) (0)
#elif defined(R4_TRUSTED_VIEW)
#define PROMISE(i) (FENCED_VIEW(i) || (hb_prom[i] && !lease_ok[i]))
#else
#define PROMISE(i) FENCED_VIEW(i)
#endif
/* ... and the instance fences while its view says so or it may have promised: until the read after a
 * withdrawing heartbeat is in force (R4_AS_WRITTEN: as soon as the withdrawal is written) */
#if defined(NEG_UNFENCE_BEFORE_WITHDRAW)
#define FENCING(i) FENCED_VIEW(i)
#elif defined(R4_AS_WRITTEN)
#define FENCING(i) (FENCED_VIEW(i) || hb_prom[i])
#else
#define FENCING(i) (FENCED_VIEW(i) || v_prom[i])
#endif
#ifdef NEG_FENCE_RAMP_ONLY
#define FENCED(i) (!lease_ok[i] && IS_RAMP(v_act[i]))
#else
#define FENCED(i) (!lease_ok[i] && FENCING(i))
#endif
#define HELD(i) (v_pend[i] && ROUTE(v_next[i]) != ROUTE(v_act[i]))
/* a step may count i out: its heartbeat expired, promised (R3), and everything committed before it
 * expired is applied (repair 3: a drain point measured after the expiry, cleared when i renews) */
#if defined(NEG_FENCE_RAMP_ONLY) || defined(NEG_COUNT_OUT_UNPROMISED)
#define COUNTABLE(i) (!hb_live[i])
#else
#define COUNTABLE(i) (!hb_live[i] && hb_prom[i])
#endif
#ifdef DROP_DRAINS
#define DROP_WAITS && DRAINED_ALL
#else
#define DROP_WAITS
#endif
#ifdef NO_DRAIN_FOR_COUNT_OUT
#define COUNTS_OUT(i) COUNTABLE(i)
#else
#define COUNTS_OUT(i) (COUNTABLE(i) && dpt[i])
#endif
/* R5, the commit-time check: the lease lapsed since admission (gen changed) or is not trusted now,
 * and the fence applied at admission (fz) or applies now (a transaction admitted unfenced, still
 * open when its instance promised and lapsed).  An instance that never promises is never counted
 * out, and the code's check (InstanceLease.mayHaveBeenCountedOutSince) never fires for it */
#if defined(NEG_NO_COMMIT_CHECK) || (defined(ASYNC) && !defined(NEG_ASYNC_PROMISES))
#define R5_ROLLS_BACK(i, g, fz) (0)
#elif defined(R5_AS_WRITTEN)
#define R5_ROLLS_BACK(i, g, fz) ((fz) && (g) != gen[i])
#else
#define R5_ROLLS_BACK(i, g, fz) (((fz) || FENCING(i)) && ((g) != gen[i] || !lease_ok[i]))
#endif
#define MISSING(i) (!dropped[i] && hb_ack[i] < c_step && !COUNTS_OUT(i))

#ifndef ASYNC
/* drainForCountOut on A: the outbox holds every instance's changes (no row older than the point) */
#define DRAINED_ALL (acnt[0] >= ccnt[0] && acnt[1] >= ccnt[1] && acnt[2] >= ccnt[2] && acnt[3] >= ccnt[3])
#define SNAP(i) ackpos[i*4+0] = ccnt[0]; ackpos[i*4+1] = ccnt[1]; ackpos[i*4+2] = ccnt[2]; ackpos[i*4+3] = ccnt[3]
#define DRAINED(i) (acnt[0] >= ackpos[i*4+0] && acnt[1] >= ackpos[i*4+1] && \
                    acnt[2] >= ackpos[i*4+2] && acnt[3] >= ackpos[i*4+3])
#else
/* ... with ASYNC lanes A's drains see only A's own lanes */
#define DRAINED_ALL (acnt[A * 2] >= ccnt[A * 2] && acnt[A * 2 + 1] >= ccnt[A * 2 + 1])
#define SNAP(i) ackpos[i*4+i*2] = ccnt[i*2]; ackpos[i*4+i*2+1] = ccnt[i*2+1]
#define DRAINED(i) (acnt[i*2] >= ackpos[i*4+i*2] && acnt[i*2+1] >= ackpos[i*4+i*2+1])
#endif

/* the heartbeat write (renewal): the lease runs from before it, so fresh again at once */
#define RENEW(i) hb_live[i] = 1; fresh[i] = 1; hb_ack[i] = ackd[i]; hb_prom[i] = PROMISE(i); dpt[i] = 0; \
                 v_prom[i] = (v_prom[i] || hb_prom[i])
/* InstanceLease.renewed(), once what was read after the heartbeat is in force */
#define RENEWED(i) v_prom[i] = (v_prom[i] && hb_prom[i])
/* the read of the control state */
#define READ(i)                                                               \
    if                                                                        \
    :: c_pend && v_step[i] != c_step -> told[i] = open[i]; snap[i] = 0        \
    :: else -> skip                                                           \
    fi;                                                                       \
    v_act[i] = c_act; v_next[i] = c_next; v_pend[i] = c_pend; v_step[i] = c_step

/* ========================================================================== */
/* lock and read the row on its primary, write, commit (one step here: ramp.pml checks the locks).  The
 * row it reads must be the newest state (no lost write, no resurrection), and its store must be the
 * primary of the active setting (one primary at a time) */
inline commit(i, r, g, fz)
{
    if
    :: dead[i] -> goto gone
    :: UP(i) && R5_ROLLS_BACK(i, g, fz) ->
#ifdef WIT_R5_ROLLBACK
        assert(false);
#endif
        printf("W%d: lease lapsed since admission: rolled back\n", i)
    :: UP(i) && !R5_ROLLS_BACK(i, g, fz) ->
#ifndef LATE_APPLY_ONLY
        assert(seq[r] == hseq);
#endif
        assert(r == ROUTE(c_act));
#ifdef WIT_DW_LAPSED_COMMIT
        assert(!(!lease_ok[i] && !FENCED_VIEW(i)));
#endif
        hseq++; seq[r] = hseq;
        printf("W%d commits on %d: state #%d\n", i, r, hseq);
        if
        :: !pend[i * 2 + r] -> pend[i * 2 + r] = 1; pgen[i * 2 + r] = gen[i]
        :: else -> skip
        fi;
        ccnt[i * 2 + r]++
    fi
}

proctype Writer(byte i)
{
    byte n, r, g;
    bool fz;
#ifdef NESTED
    byte r2, g2;
    bool fz2, nopen;
#endif
    do
    :: n < OPS ->
        /* admission (MigrationController.admit) */
        atomic {
            if
            :: dead[i] -> goto gone
            :: UP(i) && (FENCED(i) || HELD(i)) ->
                /* held; the hold times out: RouteHeldException, nothing written */
#ifdef WIT_FENCE_REFUSES
                assert(!FENCED(i));
#endif
                if
                :: FENCED(i) ->
#ifdef INV1_STRICT
                    assert(FENCED_VIEW(i));            /* invariant 1 */
#else
                    assert(FENCED_VIEW(i) || v_prom[i]);
#endif
                    printf("W%d: fenced, refused (view %d)\n", i, v_act[i])
                :: else -> printf("W%d: held by step %d, times out\n", i, v_step[i])
                fi;
                n++
            :: UP(i) && !FENCED(i) && !HELD(i) ->
                r = ROUTE(v_act[i]); g = gen[i]; fz = FENCING(i);
                open[i] = 1; told[i] = 0;
                printf("W%d admitted on %d (view %d, fencing %d)\n", i, r, v_act[i], fz)
            fi
        }
#ifdef NESTED
        /* B's request opens a transaction of its own (REQUIRES_NEW) on user 0 inside the open one.  Its
         * admission is not held when the outer one was admitted before the pending step was seen (the
         * step waits for the outer one, which waits for it: MigrationController.admit, nested) */
        if
        :: open[i] && i == B ->
            atomic {
                if
                :: dead[i] -> goto gone
                :: UP(i) && (FENCED(i) || (HELD(i) && !told[i])) ->
                    printf("W%d: nested request refused or held\n", i)
                :: UP(i) && !FENCED(i) && !(HELD(i) && !told[i]) ->
                    r2 = ROUTE(v_act[i]); g2 = gen[i]; fz2 = FENCING(i); nopen = 1;
                    printf("W%d nested admitted on %d (view %d, outer before the step %d)\n", i, r2, v_act[i], told[i])
                fi
            }
            if
            :: nopen -> atomic { commit(i, r2, g2, fz2); nopen = 0; r2 = 0; g2 = 0; fz2 = 0 }
            :: else -> skip
            fi
        :: else -> skip
        fi;
#endif
        if
        :: open[i] ->
            atomic {
                commit(i, r, g, fz);
                open[i] = 0; told[i] = 0; n++
            }
        :: else -> skip
        fi
    :: else -> break
    od;
gone:
    wdone[i] = 1
}

#ifdef R7_PARK_RENEWED
#define R7_WAIT (cg != gen[i] && (!lease_ok[i] || HELD(i)))
#else
#define R7_WAIT (0)
#endif
#if defined(R7_PARK) || defined(R7_PARK_RENEWED)
#define R7_PARKS (cg != gen[i] && ROUTE(v_act[i]) != p)
#else
#define R7_PARKS (0)
#endif

/* ========================================================================== */
/* The mirror of instance i: one apply copies the primary row's current state to the other store. */
proctype Applier(byte i)
{
    byte p, cg;
    do
    :: atomic {
        !frozen[i] && (pend[i * 2 + S] || pend[i * 2 + T]) ->     /* a dead instance's outbox: relayed */
        if :: pend[i * 2 + S] -> p = S :: pend[i * 2 + T] -> p = T fi;
        cg = pgen[i * 2 + p];
        if
        :: R7_WAIT -> skip            /* decides after its next renew-then-read */
        :: !R7_WAIT && R7_PARKS ->
#ifdef WIT_PARK
            assert(false);
#endif
            printf("A%d: change on %d captured before a lapse, route changed: parked\n", i, p);
            parked = 1; pend[i * 2 + p] = 0; pgen[i * 2 + p] = 0; acnt[i * 2 + p] = ccnt[i * 2 + p]
        :: !R7_WAIT && !R7_PARKS ->
            assert(seq[p] >= seq[1 - p]);       /* an apply never replaces a newer state */
            printf("A%d mirrors state #%d from %d onto %d (held #%d)\n", i, seq[p], p, 1 - p, seq[1 - p]);
            seq[1 - p] = seq[p]; pend[i * 2 + p] = 0; pgen[i * 2 + p] = 0; acnt[i * 2 + p] = ccnt[i * 2 + p]
        fi;
        p = 0; cg = 0
       }
    :: atomic { wdone[i] && !pend[i * 2 + S] && !pend[i * 2 + T] -> break }
    od
}

/* ========================================================================== */
/* MigrationController.tick() and the acknowledgement                          */
proctype Poller(byte i)
{
    do
    :: atomic { dead[i] -> break }
#ifndef NEG_READ_BEFORE_RENEW
    /* the healthy instance: its lease never lapses, so renew and read are one step */
    :: atomic { i == A -> RENEW(i); READ(i); RENEWED(i) }
    /* R1: renew, then read, then trust the lease if it is still fresh */
    :: atomic { i == B && UP(i) && !cut[i] -> RENEW(i); printf("B renews (promise %d, ack %d)\n", hb_prom[i], hb_ack[i]) }
        atomic {
            if
            :: dead[i] -> break
            :: UP(i) && !cut[i] -> READ(i);
                printf("B reads: active %d, pending %d to %d (step %d)\n", v_act[i], v_pend[i], v_next[i], v_step[i]);
                /* trusted again after a gap: that too counts as a lapse (a transaction admitted
                 * while lapsed sees the counter move) */
#ifndef R5_GEN_ON_LAPSE_ONLY
                if :: !lease_ok[i] && fresh[i] -> gen[i]++ :: else -> skip fi;
#endif
                RENEWED(i); lease_ok[i] = fresh[i]
            :: UP(i) && cut[i] -> skip          /* the read failed: next tick */
            fi
        }
#else
    :: atomic { i == A -> RENEW(i); READ(i); RENEWED(i) }
    :: atomic { i == B && UP(i) && !cut[i] -> READ(i) }
        atomic {
            if
            :: dead[i] -> break
            :: UP(i) && !cut[i] -> RENEW(i); RENEWED(i); lease_ok[i] = 1
            :: UP(i) && cut[i] -> skip
            fi
        }
#endif
    /* quiet: no transaction admitted before the step is open; note the commit counts to drain */
    :: atomic {
        UP(i) && v_pend[i] && ackd[i] != v_step[i] && !snap[i] && !told[i] ->
        snap[i] = 1; SNAP(i)
       }
    /* drained: acknowledge (in the next heartbeat) */
    :: atomic {
        UP(i) && v_pend[i] && ackd[i] != v_step[i] && snap[i] && DRAINED(i) ->
        ackd[i] = v_step[i];
#ifdef ACK_TRUSTS_LEASE
        /* the code acknowledges at once: heartbeat() writes and trusts the lease, with no read */
        if
        :: !cut[i] -> RENEW(i); RENEWED(i); lease_ok[i] = 1
        :: else -> skip
        fi;
#endif
        printf("I%d acknowledges step %d\n", i, v_step[i])
       }
    :: atomic {
        UP(i) && !cut[i] && cdone && !c_pend && v_step[i] == c_step && !v_pend[i] && lease_ok[i] -> break
       }
    od
}

/* ========================================================================== */
/* The steps of the plan: request, then finishStep.  finishStep reads the instances and writes its decision
 * in one act (ControlStore.finishStep: a heartbeat waits for it); NEG_SPLIT_COUNT_OUT splits it into the
 * read and a later compare-and-set.  Before it may count B out, drainForCountOut measures a point at
 * which everything committed so far is applied; B counts out only if its heartbeat expired before. */
#define ACTIVATE c_act = c_next; s++; \
    printf("C: step %d active: %d (B counted out: %d)\n", c_step, c_act, counted_out)
#define END_STEP c_pend = 0; act = 0; counted_out = 0; dpt[A] = 0; dpt[B] = 0
proctype Coordinator()
{
    byte s, revs;
    bool act;
    do
    :: s < NSTEPS ->
        atomic { c_step++; c_next = plan[s]; c_pend = 1; printf("C: step %d to %d pending\n", c_step, c_next) }
        do
        /* finishStep: every instance acknowledged, was dropped, or is counted out */
        :: atomic { !MISSING(A) && !MISSING(B) ->
#ifdef WIT_COUNT_OUT
                    assert(!(!hb_live[B] && hb_ack[B] < c_step));
#endif
                    counted_out = (hb_ack[B] < c_step && !dropped[B]);
#ifndef NEG_SPLIT_COUNT_OUT
                    ACTIVATE; END_STEP
#else
                    act = 1; printf("C: finishStep read the instances: activate (B counted out: %d)\n", counted_out)
#endif
                  }; break
        :: atomic { revs < REVERTS -> revs++;
#ifndef NEG_SPLIT_COUNT_OUT
                    printf("C: step %d reverted\n", c_step); END_STEP
#else
                    act = 0
#endif
                  }; break
#ifdef WIT_EXPIRED_WAITED
        :: atomic { c_pend && !hb_live[B] && hb_ack[B] < c_step && !dropped[B] -> assert(false) }
#endif
        /* drainForCountOut (OUTBOX: every instance's rows; ASYNC: A's own lanes only) */
        :: atomic { COUNTABLE(B) && hb_ack[B] < c_step && !dropped[B] && !dpt[B] && DRAINED_ALL ->
                    dpt[B] = 1; printf("C: drained past B's expiry\n") }
        /* the operator drops a dead B (MigrationController.dropInstance: its lease ran out); DROP_DRAINS:
         * only once everything committed so far is applied, as a count-out waits for */
        :: atomic { dead[B] && !dropped[B] DROP_WAITS -> dropped[B] = 1; printf("C: operator drops B\n") }
        od;
#ifdef NEG_SPLIT_COUNT_OUT
        /* the compare-and-set, a separate statement: heartbeats and reads land in between */
        atomic {
            if
            :: act -> ACTIVATE
            :: else -> printf("C: step %d reverted\n", c_step)
            fi;
            END_STEP
        }
#endif
    :: else -> break
    od;
    cdone = 1
}

/* ========================================================================== */
/* B's fault, B's lapse (its own clock) and expiry (the others' clocks, after the lapse: R6). */
proctype Fault()
{
    byte ep;
episode:
    atomic {
#if defined(FREEZE)
        frozen[B] = 1; printf("F: B frozen\n")
#elif defined(CRASH)
        dead[B] = 1; open[B] = 0; told[B] = 0;          /* its open transaction rolls back */
        printf("F: B dies\n")
#elif defined(PARTITION)
        cut[B] = 1; printf("F: B cut off from the control store\n")
#else
        if
        :: frozen[B] = 1; printf("F: B frozen\n")
        :: cut[B] = 1; printf("F: B cut off from the control store\n")
        fi
#endif
    }
    do
    :: atomic { fresh[B] -> fresh[B] = 0;
                if :: lease_ok[B] -> lease_ok[B] = 0; gen[B]++; printf("F: B's lease lapses\n") :: else -> skip fi }
    :: atomic { !fresh[B] && hb_live[B] -> hb_live[B] = 0; printf("F: B's lease expired\n") }
#ifndef CRASH
    :: atomic { frozen[B] = 0; cut[B] = 0; ep++; printf("F: B heals\n") }; break
#else
    :: atomic { !hb_live[B] }; break
#endif
    od;
    do  /* its lease may still be seen expired until it renews; another episode may follow */
    :: atomic { !fresh[B] && hb_live[B] -> hb_live[B] = 0; printf("F: B's lease expired\n") }
#ifndef CRASH
    :: ep < EPISODES -> goto episode
#endif
    :: break
    od
}

init {
    atomic {
        seq[S] = 1; seq[T] = 1;                 /* backfill done: both stores hold state #1 */
        plan[0] = P1; plan[1] = P2; plan[2] = P3; plan[3] = P4; plan[4] = P5; plan[5] = P6;
        v_act[A] = INIT; v_act[B] = INIT;
        fresh[A] = 1; fresh[B] = 1; lease_ok[A] = 1; lease_ok[B] = 1;
        hb_live[A] = 1; hb_live[B] = 1;
        #if !defined(ASYNC) || defined(NEG_ASYNC_PROMISES)
        hb_prom[A] = FENCED_PHASE(INIT); hb_prom[B] = FENCED_PHASE(INIT);
        v_prom[A] = hb_prom[A]; v_prom[B] = hb_prom[B];
#endif
        run Writer(A); run Writer(B);
        run Applier(A); run Applier(B);
        run Poller(A); run Poller(B);
        run Coordinator(); run Fault()
    }
    (_nr_pr == 1);
#ifndef LATE_APPLY_ONLY
    /* the store user 0 routes to holds the last acknowledged write */
    assert(seq[ROUTE(c_act)] == hseq);
    /* and the mirrors converged, unless a key was parked for the reconciler */
    assert(parked || seq[S] == seq[T])
#endif
}
