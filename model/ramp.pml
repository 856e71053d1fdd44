/*
 * ramp.pml -- the RAMP phase of dualwrite, checked with spin.
 *
 * Two stores S (old, 0) and T (new, 1) both take application writes, routed by
 * user; every committed write is mirrored to the other store by the same apply
 * as in dualwrite.pml (share lock NOWAIT on the primary row, guarded upsert or
 * absent-branch delete with re-check on the other store).  User 0 owns key 0
 * and is moved between the stores by ramp steps; user 1 owns key 1 and stays
 * routed to T (so T -> S mirroring runs all the time).  Two service instances,
 * each with a writer (its request threads), an applier (its mirror lanes) and
 * a control-table poller; one RampCoordinator.
 *
 * A ramp step is DESIGN's barrier: (1) the new route is written as PENDING;
 * (2) each instance, on seeing it, holds new transactions of the moving user
 * and acknowledges -- after its in-flight transactions of the moving user have
 * ended (see FIND_RAMP_INFLIGHT) -- recording its commit position; (3) when every
 * instance has acknowledged and its applier's low watermark has passed its
 * acknowledged position, the step becomes ACTIVE; (4) instances see ACTIVE at
 * their next poll, switch the route and release held requests.
 *
 * Compile-time switches (spin -DNAME -a ramp.pml):
 *   NEG_FLAG_FLIP       negative control: the step is a plain flag flip that each
 *                       instance picks up at its next poll
 *   FIND_RAMP_INFLIGHT  finding: DESIGN's text taken literally -- an instance holds
 *                       NEW transactions and acknowledges at once; a transaction
 *                       that started on the old route before the poll still commits
 *   FIND_CLOCK_SKEW     finding: T's clock runs one tick behind S's
 *   ONE_USER            writers write user 0's row only (user 1's row stays idle)
 *   FIND_CROSS_ROUTE    finding: a request routed by another routing key (a merchant on
 *                       S) writes user 0's row: a cross-route write, which DESIGN accepts
 *                       as counted/logged; checked here for deadlock only (pan -A)
 *   MERCHANT            a merchant's request (its key never moves) writes user 0's row on S,
 *                       admitted before its instance sees a step; counted as in flight, since a
 *                       step waits for every older transaction (issue 15, item 7)
 *   NEG_MOVING_ONLY     negative control for MERCHANT: the step waits only for the older
 *                       transactions of moving keys, so the merchant's is not counted
 *   FIND_HOLD_TIMEOUT   finding: a held request whose bounded wait expires continues on
 *                       the route its instance still has (the old one)
 *   SHORT_TXN           a transaction's route choice, lock and commit are one step (no
 *                       transaction is ever in flight across a poll): isolates the
 *                       late-apply race in the negative control
 *   NO_APP_READ_ASSERT  drop the "application writes the newest state" assertion (used
 *                       by a second negative control, to show the late-apply race)
 *   NO_LIB_WAIT_ASSERT  drop property (d) (used by the negative control so that the
 *                       counterexample shown is a data one)
 *   WIT_HELD, WIT_BACK  witnesses (runs that must fail): a request of the moving user is
 *                       held; after the rollback step user 0's S write is mirrored to T
 *   OPS, MAXCLK, STEPS  bounds (transactions per instance, clock values, ramp steps:
 *                       1 = move user 0 S->T, 2 = and back T->S, a rollback)
 */

#define S 0
#define T 1
#define NK 2
#define NI 2
#ifndef OPS
#define OPS 2
#endif
#ifndef MAXCLK
#define MAXCLK 3
#endif
#ifndef STEPS
#define STEPS 1
#endif

#define GUARD(tv, sv) ((tv) <= (sv))
#define R(st, k) ((st) * NK + (k))          /* row index in the store arrays */

/* ---- both stores: committed rows and row locks ----------------------------- */
bool pres[4];
byte ver[4];
byte val[4];
byte seq[4];      /* ghost: the history position of the state the row holds      */
byte xlock[4];    /* exclusive lock: writer 1..NI, or 10+a (applier's target delete) */
byte slock[4];    /* share locks held by appliers                                 */
byte hseq[NK];    /* ghost: newest history position of the key (on any store)    */
byte clk = 1;

/* ---- control table and instances ------------------------------------------- */
byte ctl_route = S;   /* active route of user 0                                   */
bool ctl_pending;     /* step ctl_step is pending (else it is active)              */
byte ctl_step;        /* number of the latest step                                 */
bool cdone;           /* coordinator finished all steps                           */
byte iroute[NI];      /* route of user 0 as instance i uses it                     */
bool ihold[NI];       /* instance i holds new transactions of user 0               */
byte iack[NI];        /* the step instance i acknowledged last                     */
byte inflight[NI];    /* open transactions of user 0 on instance i                 */
byte ccnt[NI * 2];    /* commits of key 0 by instance i on store p  [i*2+p]       */
byte acnt[NI * 2];    /* low watermark: commits of key 0 on p applied by i's applier */
byte ackpos[NI];      /* ccnt of the old primary when instance i acknowledged      */

/* ---- dispatch: pend[(i*2+p)*NK+k]: instance i has key k to mirror from p ---- */
bool pend[NI * 2 * NK];
#define PEND(i, p, k) pend[((i) * 2 + (p)) * NK + (k)]
byte wdone;
bool tail[NI];        /* ghost: applier in the non-blocking tail of its absent branch */

#ifdef NO_LIB_WAIT_ASSERT
#define LIB_WAIT_OK(r) skip
#else
/* (d) a library write on the other store never waits on an application lock,
 * nor on an apply of the opposite direction: only on an applier's open delete */
#define LIB_WAIT_OK(r)                                                        \
    atomic {                                                                  \
        if                                                                    \
        :: xlock[r] != 0 -> assert(xlock[r] >= 10 && tail[xlock[r] - 10])     \
        :: else -> assert(slock[r] == 0)  /* no opposite-direction apply */   \
        fi                                                                    \
    }
#endif

/* ========================================================================== */
proctype Writer(byte i)            /* instance i's request threads; id i+1 */
{
    byte n, k, r, v, w;
    bool fl;                       /* counted as an in-flight txn of user 0 */
    w = i + 1;
    do
    :: n < OPS ->
        atomic {
#ifdef ONE_USER
            k = 0;
#else
            select(k : 0 .. 1);
#endif
#ifdef WIT_HELD
            assert(!(k == 0 && ihold[i]));     /* witness: a request is held */
#endif
            if
            :: k == 1 -> r = T                          /* user 1: always on T */
            :: k == 0 && !ihold[i] ->                  /* held while a step is pending */
                         r = iroute[i]; inflight[i]++; fl = 1
#ifdef MERCHANT
            /* a merchant's request (its own key never moves, so it is never held) writes user 0's
             * row on S, admitted while this instance has seen no step and routes user 0 to S.  The
             * step waits for every transaction admitted before it (MigrationController), so it is
             * counted like the moving user's own; NEG_MOVING_ONLY counts only those of moving keys. */
            :: k == 0 && !ihold[i] && iroute[i] == S -> r = S;
#ifndef NEG_MOVING_ONLY
                         inflight[i]++; fl = 1;
#endif
                         printf("W%d: merchant writes user 0's row on S\n", w)
#endif
#ifdef FIND_CROSS_ROUTE
            :: k == 0 -> r = S;        /* a merchant's request (routed to S) writes user 0's row */
                         printf("W%d: cross-route write of user 0 on S\n", w)
#endif
#ifdef FIND_HOLD_TIMEOUT
            :: k == 0 && ihold[i] ->                   /* the bounded hold times out and */
                         r = iroute[i]; inflight[i]++; fl = 1; /* ...goes on (old route) */
                         printf("W%d: hold timed out, continues on %d\n", w, r)
#endif
            fi;
#ifndef SHORT_TXN
        }
        /* the transaction on its primary: exclusive row lock */
        atomic {
#endif
                 (xlock[R(r, k)] == 0 && slock[R(r, k)] == 0) -> xlock[R(r, k)] = w;
                 printf("W%d locks k%d on %d\n", w, k, r)
#ifndef SHORT_TXN
        }
        atomic {
#endif
            /* the application reads the row it changes: that must be the newest
             * state of the key, or a write on the other store is lost/undone */
#ifndef NO_APP_READ_ASSERT
            assert(seq[R(r, k)] == hseq[k]);                  /* no lost update */
#endif
            if :: clk < MAXCLK -> clk++ :: skip fi;
#ifdef FIND_CLOCK_SKEW
            v = clk - r;                                /* T one tick behind S */
            if :: v == 0 -> v = 1 :: else -> skip fi;
#else
            v = clk;
#endif
            if
            :: !pres[R(r, k)] -> pres[R(r, k)] = 1; ver[R(r, k)] = v; val[R(r, k)] = w
            :: pres[R(r, k)]  -> ver[R(r, k)] = v; val[R(r, k)] = w
            :: pres[R(r, k)]  -> pres[R(r, k)] = 0; ver[R(r, k)] = 0; val[R(r, k)] = 0
            fi;
            hseq[k]++; seq[R(r, k)] = hseq[k];
            printf("W%d commits k%d on %d: present=%d ver=%d val=%d (state #%d)\n",
                   w, k, r, pres[R(r, k)], ver[R(r, k)], val[R(r, k)], hseq[k]);
            xlock[R(r, k)] = 0;                         /* COMMIT, then capture */
            PEND(i, r, k) = 1;
            if
            :: k == 0 -> ccnt[i * 2 + r]++
            :: else -> skip
            fi;
            if :: fl -> inflight[i]--; fl = 0 :: else -> skip fi;
            n++; k = 0; r = 0; v = 0
        }
    :: else -> break
    od;
    wdone++
}

/* ========================================================================== */
/* MirrorApplier of instance i: mirrors key k from its primary p to o = 1-p. */
proctype Applier(byte i)
{
    byte k, p, o, v, vl, sq, took;
    bool present, mine;

idle:
    atomic {
        k = 0; p = 0; o = 0; v = 0; vl = 0; sq = 0; took = 0; present = 0; mine = 0;
        if
        :: PEND(i, S, 0) -> PEND(i, S, 0) = 0; p = S; k = 0
        :: PEND(i, T, 0) -> PEND(i, T, 0) = 0; p = T; k = 0
        :: PEND(i, S, 1) -> PEND(i, S, 1) = 0; p = S; k = 1
        :: PEND(i, T, 1) -> PEND(i, T, 1) = 0; p = T; k = 1
        :: wdone == NI && !PEND(i, S, 0) && !PEND(i, T, 0) && !PEND(i, S, 1) && !PEND(i, T, 1) ->
            goto done
        fi;
        o = 1 - p;
        if :: k == 0 -> took = ccnt[i * 2 + p] :: else -> skip fi  /* covers commits so far */
    }
    /* 1. primary transaction: SELECT ... FOR SHARE NOWAIT */
    atomic {
        if
        :: pres[R(p, k)] && xlock[R(p, k)] != 0 ->
            printf("A%d k%d from %d: NOWAIT lock error, retry later\n", i, k, p);
            PEND(i, p, k) = 1; goto idle
        :: pres[R(p, k)] && xlock[R(p, k)] == 0 -> slock[R(p, k)]++
        :: !pres[R(p, k)] -> skip                     /* absent: locks nothing */
        fi;
        present = pres[R(p, k)]; v = ver[R(p, k)]; vl = val[R(p, k)]; sq = seq[R(p, k)];
        printf("A%d reads k%d on %d: present=%d ver=%d val=%d (state #%d)\n", i, k, p, present, v, vl, sq)
    }
    if
    :: present ->
        /* 2a. guarded upsert on the other store (a write: exclusive row lock there) */
        LIB_WAIT_OK(R(o, k));
        atomic {
            (xlock[R(o, k)] == 0 && slock[R(o, k)] == 0) ->
            printf("A%d upserts k%d on %d ver=%d val=%d (#%d) over present=%d ver=%d val=%d (#%d)\n",
                   i, k, o, v, vl, sq, pres[R(o, k)], ver[R(o, k)], val[R(o, k)], seq[R(o, k)]);
            if
            :: !pres[R(o, k)] || GUARD(ver[R(o, k)], v) ->
#ifdef WIT_BACK
                assert(!(k == 0 && p == S && ctl_step == 2)); /* witness: rollback mirrored */
#endif
                assert(sq >= seq[R(o, k)]);                      /* (a) monotonic */
                pres[R(o, k)] = 1; ver[R(o, k)] = v; val[R(o, k)] = vl; seq[R(o, k)] = sq
            :: else -> printf("   -> refused by the version guard\n")
            fi
        }
        /* 3a. commit the primary transaction */
        atomic {
            slock[R(p, k)]--;
            if :: k == 0 && acnt[i * 2 + p] < took -> acnt[i * 2 + p] = took :: else -> skip fi
        }
        goto idle
    :: else ->
        /* 2b. absent on the primary: DELETE on the other store inside a txn */
        LIB_WAIT_OK(R(o, k));
        atomic {
            (xlock[R(o, k)] == 0 && slock[R(o, k)] == 0) ->
            if
            :: pres[R(o, k)] -> xlock[R(o, k)] = 10 + i; mine = 1
            :: else -> mine = 0
            fi;
            tail[i] = 1;
            printf("A%d k%d: DELETE on %d executed (row found and locked=%d)\n", i, k, o, mine)
        }
        /* 3b. re-read the primary row FOR SHARE NOWAIT */
        atomic {
            if
            :: pres[R(p, k)] ->
                if :: mine -> xlock[R(o, k)] = 0 :: else -> skip fi;
                printf("A%d k%d: re-check finds the row present: rollback, retry\n", i, k);
                tail[i] = 0; PEND(i, p, k) = 1; goto idle
            :: else -> sq = seq[R(p, k)]
            fi
        }
        /* 4b. commit the delete on the other store */
        atomic {
            printf("A%d k%d: delete on %d commits (as of state #%d)\n", i, k, o, sq);
            if
            :: mine ->
                assert(sq >= seq[R(o, k)]);                      /* (a) monotonic */
                pres[R(o, k)] = 0; ver[R(o, k)] = 0; val[R(o, k)] = 0; seq[R(o, k)] = sq;
                xlock[R(o, k)] = 0
            :: else ->
                if :: !pres[R(o, k)] && seq[R(o, k)] < sq -> seq[R(o, k)] = sq :: else -> skip fi
            fi;
            tail[i] = 0;
            if :: k == 0 && acnt[i * 2 + p] < took -> acnt[i * 2 + p] = took :: else -> skip fi
        }
        goto idle
    fi;
done:
    skip
}

/* ========================================================================== */
/* The control-table poller of instance i (polls at arbitrary moments).      */
proctype Instance(byte i)
{
    do
    /* a poll: adopt the active route; hold the moving user while a step is pending */
    :: atomic {
        (iroute[i] != ctl_route || ihold[i] != ctl_pending) ->
        iroute[i] = ctl_route;
#ifndef NEG_FLAG_FLIP
        ihold[i] = ctl_pending;
#endif
        printf("I%d polls: user 0 routed to %d, holding=%d\n", i, iroute[i], ihold[i])
       }
#ifndef NEG_FLAG_FLIP
    /* (2) acknowledge the pending step, recording the commit position on the old
     * primary (what must be drained); only once no transaction of the moving
     * user that started before the hold is still open */
    :: atomic {
        ihold[i] && ctl_pending && iack[i] != ctl_step &&
#ifndef FIND_RAMP_INFLIGHT
        inflight[i] == 0 &&
#endif
        iroute[i] == ctl_route ->
        iack[i] = ctl_step; ackpos[i] = ccnt[i * 2 + iroute[i]];
        printf("I%d acknowledges step %d (in flight: %d)\n", i, ctl_step, inflight[i])
       }
#endif
    :: atomic { cdone && iroute[i] == ctl_route && !ihold[i] -> break }
    od
}

/* ========================================================================== */
/* RampCoordinator: STEPS ramp steps of user 0 (S->T, then back T->S).       */
proctype Coordinator()
{
    byte nr;
    do
    :: ctl_step < STEPS ->
        nr = 1 - ctl_route;
#ifdef NEG_FLAG_FLIP
        atomic { ctl_step++; ctl_route = nr; printf("C: route of user 0 set to %d (flag flip)\n", nr) }
#else
        /* (1) the new route is written as pending */
        atomic { ctl_step++; ctl_pending = 1; printf("C: step %d to %d pending\n", ctl_step, nr) }
        /* (3) every instance acknowledged, and drained what it committed before */
        atomic {
            iack[0] == ctl_step && iack[1] == ctl_step &&
            acnt[0 * 2 + ctl_route] >= ackpos[0] && acnt[1 * 2 + ctl_route] >= ackpos[1] ->
            ctl_route = nr; ctl_pending = 0;
            printf("C: step %d active: user 0 routed to %d\n", ctl_step, nr)
        }
#endif
        nr = 0
    :: else -> break
    od;
    cdone = 1
}

init {
    atomic {
        /* both users' rows exist on both stores, identical (backfill finished) */
        pres[R(S, 0)] = 1; ver[R(S, 0)] = 1; val[R(S, 0)] = 3; seq[R(S, 0)] = 1;
        pres[R(T, 0)] = 1; ver[R(T, 0)] = 1; val[R(T, 0)] = 3; seq[R(T, 0)] = 1;
        pres[R(S, 1)] = 1; ver[R(S, 1)] = 1; val[R(S, 1)] = 3; seq[R(S, 1)] = 1;
        pres[R(T, 1)] = 1; ver[R(T, 1)] = 1; val[R(T, 1)] = 3; seq[R(T, 1)] = 1;
        hseq[0] = 1; hseq[1] = 1;
        run Writer(0); run Writer(1);
        run Applier(0); run Applier(1);
        run Instance(0); run Instance(1);
        run Coordinator()
    }
    (_nr_pr == 1);
    /* (b) convergence: both stores agree on every key */
    assert(pres[R(S, 0)] == pres[R(T, 0)] &&
           (!pres[R(S, 0)] || (ver[R(S, 0)] == ver[R(T, 0)] && val[R(S, 0)] == val[R(T, 0)])));
    assert(pres[R(S, 1)] == pres[R(T, 1)] &&
           (!pres[R(S, 1)] || (ver[R(S, 1)] == ver[R(T, 1)] && val[R(S, 1)] == val[R(T, 1)])));
    assert(xlock[0] == 0 && xlock[1] == 0 && xlock[2] == 0 && xlock[3] == 0 &&
           slock[0] == 0 && slock[1] == 0 && slock[2] == 0 && slock[3] == 0)
}
