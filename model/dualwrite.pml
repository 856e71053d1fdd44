/*
 * dualwrite.pml -- the DUAL_WRITE write path of dualwrite, checked with spin.
 *
 * Source rows with a version column (values may tie), application writers
 * holding exclusive row locks until commit, two independent appliers (two
 * service instances) doing the after-commit apply with a share lock taken
 * NOWAIT, the guarded upsert, the "absent" branch with the target delete kept
 * open while the source row is re-read, target failures, and a backfill
 * copier doing locked chunk reads and guarded upserts.
 *
 * Compile-time switches (spin -DNAME -a dualwrite.pml):
 *   NEG_APPLY_NOLOCK     negative control (i):   apply reads without the source lock
 *   NEG_BACKFILL_NOLOCK  negative control (ii):  backfill reads without the source lock
 *   NEG_STRICT_GUARD     negative control (iii): guard target.version < source.version
 *   NEG_NO_RECHECK       negative control (iv):  absent branch commits the delete blindly
 *   H2_XLOCK             the H2 dialect: library reads take an EXCLUSIVE lock (FOR UPDATE)
 *   FIND_CLOCK_AT_START  finding: version taken when the transaction starts, before
 *                        the row lock (now() / CURRENT_TIMESTAMP semantics)
 *   FIND_PHASE_LAG       finding: instance 2 still in SOURCE_ONLY (captures nothing) for a
 *                        while after the backfill has started
 *   WIT_TIE, WIT_TWAIT, WIT_RECHECK, WIT_APPWAIT   witnesses (runs that must fail):
 *                        an equal-version write replaces a different value; an apply's
 *                        upsert waits on an open target delete; the re-check rolls back;
 *                        a writer waits on a library share lock
 *   OPS1, OPS2, MAXCLK, TFAIL  bounds (operations of writer 1 and 2, clock values,
 *                        target failures)
 *
 * Every process is written for exactly NK = 2 keys, NW = 2 writers, NA = 2 appliers.
 */

#define NK 2
#define NW 2
#define NA 2
#ifndef OPS1
#define OPS1 2         /* committed operations of writer 1 */
#endif
#ifndef OPS2
#define OPS2 2         /* committed operations of writer 2 */
#endif
#ifndef MAXCLK
#define MAXCLK 3       /* the logical clock takes values 1..MAXCLK */
#endif
#ifndef TFAIL
#define TFAIL 1        /* how many target steps may fail in one run */
#endif

/* ---- witnesses: each WIT_x asserts that an interesting situation never
 * happens, so that its run MUST fail -- proof the positive runs are not vacuous */
#ifdef WIT_TIE
#define W_TIE(k, v, val) assert(!(t_pres[k] && t_ver[k] == v && t_val[k] != val))
#else
#define W_TIE(k, v, val) skip
#endif
#ifdef WIT_TWAIT
#define W_TWAIT assert(false)
#else
#define W_TWAIT skip
#endif

/* ---- the version guard of the guarded upsert ------------------------------ */
#ifdef NEG_STRICT_GUARD
#define GUARD(tv, sv) ((tv) < (sv))
#elif defined(NO_GUARD)
/* commit-order overwrite (the library's DUAL_WRITE default): the source lock orders the writes */
#define GUARD(tv, sv) (1)
#else
#define GUARD(tv, sv) ((tv) <= (sv))   /* equal versions may overwrite */
#endif

/* ---- source store ----------------------------------------------------------
 * Committed state of each row plus its row locks.  READ COMMITTED: readers see
 * committed state only; an uncommitted insert is invisible (and its key lock
 * does not make a locking read of the still-absent row fail).
 * s_seq is a ghost: the position of the row's committed state in the key's
 * commit history (1 = first state; a delete is a state too).               */
bool s_pres[NK];
byte s_ver[NK];
byte s_val[NK];
byte s_seq[NK];
byte xlock[NK];     /* exclusive lock owner: writer id 1..NW, or 10+a (H2 library lock) */
byte slock[NK];     /* number of share-lock holders (library only)            */
byte clk = 1;       /* logical clock the versions are taken from               */

/* ---- target store ----------------------------------------------------------
 * t_seq: ghost, the source state the target row reflects (for an absent row:
 * the newest source "absent" state it is known to reflect).
 * tlock: owner (applier a+1) of the target row lock held by an UNCOMMITTED
 * target delete; a guarded upsert or delete of that key waits for it.  The
 * appliers' and backfill's upserts commit at once (one statement per key).  */
bool t_pres[NK];
byte t_ver[NK];
byte t_val[NK];
byte t_seq[NK];
byte tlock[NK];

/* ---- dispatch --------------------------------------------------------------
 * pend[a*NK+k]: applier a (the instance of writer a+1) has key k to apply.
 * A flag, not a counter: the apply reads the current row, so repeated
 * changes of a key coalesce.  Set in the commit step (after commit, never
 * on rollback), cleared when the apply starts, set again on any failure.   */
bool pend[NA * NK];
byte wdone;         /* writers finished                                        */
byte tfail;         /* target failures used                                    */
bool tail[NA];      /* ghost: applier holds a target row lock in the absent
                       branch; from there to its release it never blocks     */
#ifdef FIND_PHASE_LAG
bool capt[NW] = 1;  /* instance captures changes (has seen DUAL_WRITE)         */
#endif

/* ---- lock helpers for the library's locking read --------------------------- */
#ifdef H2_XLOCK
#define LIB_CAN_LOCK(k)   (xlock[k] == 0 && slock[k] == 0)
#define LIB_LOCK(k, id)   xlock[k] = (id)
#define LIB_UNLOCK(k)     xlock[k] = 0
#else
#define LIB_CAN_LOCK(k)   (xlock[k] == 0)
#define LIB_LOCK(k, id)   slock[k]++
#define LIB_UNLOCK(k)     slock[k]--
#endif

/* a target step fails (network, timeout, target down): at most TFAIL times */
#define MAY_FAIL (tfail < TFAIL)

/* guarded upsert of image (v, val, sq) of key k into the target, one statement.
 * Property (a): the target never goes back to an older state of the row. */
#define GUARDED_UPSERT(k, v, val, sq)                                         \
    if                                                                        \
    :: (!t_pres[k] || GUARD(t_ver[k], v)) ->                                  \
         assert(sq >= t_seq[k]);                         /* (a) monotonic */  \
         W_TIE(k, v, val);                                                    \
         t_pres[k] = 1; t_ver[k] = v; t_val[k] = val; t_seq[k] = sq;          \
         printf("   -> written\n")                                            \
    :: else -> printf("   -> refused by the version guard (target ver=%d)\n", t_ver[k]) \
    fi

/* (d) the library only ever waits on a target row lock held by an applier that
 * is in the non-blocking tail of its absent branch, never on an application */
#define WAIT_TARGET_ROW(k, WIT)                                               \
    atomic {                                                                  \
        if                                                                    \
        :: tlock[k] != 0 -> assert(tlock[k] <= NA && tail[tlock[k] - 1]);     \
                            WIT                                               \
        :: else -> skip                                                       \
        fi                                                                    \
    }

/* ========================================================================== */
/* Application writer: one instance's request threads, OPS1/OPS2 txns.      */
proctype Writer(byte w)            /* w = 1..NW; its applier is w-1          */
{
    byte n, k, v;
    do
    :: (w == 1 && n < OPS1) || (w == 2 && n < OPS2) ->
#ifdef FIND_PHASE_LAG
        /* the instance's poll of the control table may land before this txn */
        if :: !capt[w - 1] -> capt[w - 1] = 1 :: skip fi;
#endif
#ifdef FIND_CLOCK_AT_START
        /* version taken when the statement/transaction starts (now()) */
        atomic { if :: clk < MAXCLK -> clk++ :: skip fi; v = clk }
#endif
        /* begin; UPDATE/DELETE/INSERT of row k: exclusive row lock (for an
         * insert: the key's unique-index entry); waits for other writers and
         * for library share locks */
        atomic { select(k : 0 .. 1);
#ifdef WIT_APPWAIT
                 assert(slock[k] == 0);        /* witness: a writer waits on the library */
#endif
                 (xlock[k] == 0 && slock[k] == 0) -> xlock[k] = w;
                 printf("W%d locks k%d\n", w, k) }
        atomic {
#ifndef FIND_CLOCK_AT_START
            /* version read under the row lock: never below the row's previous
             * version; two writers in one clock tick get the same version */
            if :: clk < MAXCLK -> clk++ :: skip fi;
            v = clk;
#endif
            if
            :: !s_pres[k] -> s_pres[k] = 1; s_ver[k] = v; s_val[k] = w   /* insert */
            :: s_pres[k]  -> s_ver[k] = v; s_val[k] = w                   /* update */
            :: s_pres[k]  -> s_pres[k] = 0; s_ver[k] = 0; s_val[k] = 0    /* delete */
            fi;
            s_seq[k]++;                                  /* ghost: next state */
            printf("W%d commits k%d: present=%d ver=%d val=%d (state #%d)\n",
                   w, k, s_pres[k], s_ver[k], s_val[k], s_seq[k]);
            xlock[k] = 0;                                /* COMMIT, then capture */
#ifdef FIND_PHASE_LAG
            if :: capt[w - 1] -> pend[(w - 1) * NK + k] = 1
               :: else -> printf("W%d: its instance is still in SOURCE_ONLY: change not captured\n", w)
            fi;
#else
            pend[(w - 1) * NK + k] = 1;
#endif
            n++; k = 0; v = 0
        }
    :: else -> break
    od;
    wdone++
}

/* ========================================================================== */
/* MirrorApplier of one instance: applies its instance's committed keys.     */
proctype Applier(byte a)           /* a = 0..NA-1                             */
{
    byte k, v, val, sq;
    bool present, locked, mine;

idle:
    atomic {
        k = 0; v = 0; val = 0; sq = 0; present = 0; locked = 0; mine = 0;
        if
        :: pend[a * NK + 0] -> pend[a * NK + 0] = 0; k = 0
        :: pend[a * NK + 1] -> pend[a * NK + 1] = 0; k = 1
        :: wdone == NW && !pend[a * NK + 0] && !pend[a * NK + 1] -> goto done
        fi
    }

    /* 1. source transaction: SELECT ... FOR SHARE NOWAIT (H2: FOR UPDATE) */
    atomic {
#ifdef NEG_APPLY_NOLOCK
        locked = 0;
#else
        if
        :: s_pres[k] && !LIB_CAN_LOCK(k) ->            /* lock not available */
            printf("A%d k%d: NOWAIT lock error, retry later\n", a, k);
            pend[a * NK + k] = 1; goto idle            /* never waits: retry */
        :: s_pres[k] && LIB_CAN_LOCK(k) -> LIB_LOCK(k, 10 + a); locked = 1
        :: !s_pres[k] -> locked = 0                    /* absent: locks nothing */
        fi;
#endif
        present = s_pres[k]; v = s_ver[k]; val = s_val[k]; sq = s_seq[k];
        printf("A%d reads k%d: present=%d ver=%d val=%d (state #%d) locked=%d\n",
               a, k, present, v, val, sq, locked)
    }

    if
    :: present ->
        /* 2a. guarded upsert on the target (may fail) */
        atomic {
            if
            :: MAY_FAIL -> tfail++; if :: locked -> LIB_UNLOCK(k) :: else -> skip fi;
                           printf("A%d k%d: target upsert fails, retry later\n", a, k);
                           pend[a * NK + k] = 1; goto idle
            :: skip
            fi;
            WAIT_TARGET_ROW(k, W_TWAIT);     /* witness: an upsert waits on an open delete */
            tlock[k] == 0 ->
            printf("A%d upserts k%d ver=%d val=%d (state #%d) over target present=%d ver=%d val=%d (#%d)\n",
                   a, k, v, val, sq, t_pres[k], t_ver[k], t_val[k], t_seq[k]);
            GUARDED_UPSERT(k, v, val, sq)
        }
        /* 3a. commit the source transaction: releases the share lock.  The
         * apply may still be reported failed (lost reply): it is retried */
        atomic {
            if :: MAY_FAIL -> tfail++; pend[a * NK + k] = 1;
                  printf("A%d k%d: reply lost after the target write, retry later\n", a, k)
               :: skip fi;
            if :: locked -> LIB_UNLOCK(k) :: else -> skip fi;
            printf("A%d commits source txn k%d\n", a, k)
        }
        goto idle

    :: else ->
        /* 2b. row absent in the source: target transaction, DELETE by key.
         * A delete that finds the target row keeps it locked until the end
         * of the target transaction; a delete that finds nothing locks nothing. */
        atomic {
            if
            :: MAY_FAIL -> tfail++; pend[a * NK + k] = 1;
                           printf("A%d k%d: target delete fails, retry later\n", a, k); goto idle
            :: skip
            fi;
            WAIT_TARGET_ROW(k, skip);
            tlock[k] == 0 ->
            if
            :: t_pres[k] -> tlock[k] = a + 1; mine = 1
            :: else -> mine = 0
            fi;
            tail[a] = 1;         /* from here to the end of the target txn nothing blocks */
            printf("A%d k%d: target DELETE executed (row found and locked=%d), txn open\n", a, k, mine)
        }
#ifndef NEG_NO_RECHECK
        /* 3b. re-read the source row FOR SHARE NOWAIT: present (locked or not)
         * means a re-insert committed: roll the target back and retry */
        atomic {
            if
            :: s_pres[k] ->
                if :: mine -> tlock[k] = 0 :: else -> skip fi;
                printf("A%d k%d: re-check finds the row present: target rollback, retry\n", a, k);
#ifdef WIT_RECHECK
                assert(false);                 /* witness: the re-check saves the day */
#endif
                tail[a] = 0; pend[a * NK + k] = 1; goto idle
            :: else -> sq = s_seq[k];
                printf("A%d k%d: re-check finds the row still absent (state #%d)\n", a, k, sq)
            fi
        }
#endif
        /* 4b. commit the target delete (the commit itself may fail: rollback) */
        atomic {
            if
            :: MAY_FAIL -> tfail++; if :: mine -> tlock[k] = 0 :: else -> skip fi;
                           tail[a] = 0; pend[a * NK + k] = 1;
                           printf("A%d k%d: target commit fails: rollback, retry later\n", a, k); goto idle
            :: skip
            fi;
            printf("A%d k%d: target delete commits (as of state #%d)\n", a, k, sq);
            if
            :: mine ->
                assert(sq >= t_seq[k]);                          /* (a) monotonic */
                t_pres[k] = 0; t_ver[k] = 0; t_val[k] = 0; t_seq[k] = sq; tlock[k] = 0
            :: else ->            /* found nothing: the target already showed "absent" */
                if :: !t_pres[k] && t_seq[k] < sq -> t_seq[k] = sq :: else -> skip fi
            fi;
            tail[a] = 0
        }
        goto idle
    fi;
done:
    skip
}

/* ========================================================================== */
/* BackfillRunner: one pass over the keys in key order, one chunk of both
 * keys: locked chunk read (same NOWAIT lock as apply), guarded upserts,
 * commit, checkpoint.  It never deletes.                                     */
proctype Backfill()
{
    bool got0, got1;
    byte v0, val0, sq0, v1, val1, sq1;

read:
    /* SELECT ... WHERE key >= 0 ORDER BY key LIMIT 2 FOR SHARE NOWAIT */
    atomic {
#ifdef NEG_BACKFILL_NOLOCK
        got0 = s_pres[0]; got1 = s_pres[1];
#else
        if
        :: (s_pres[0] && !LIB_CAN_LOCK(0)) || (s_pres[1] && !LIB_CAN_LOCK(1)) ->
            printf("BF: NOWAIT lock error on the chunk, retry\n");
            goto read                                   /* NOWAIT error: retry */
        :: else ->
            got0 = s_pres[0]; got1 = s_pres[1];
            if :: got0 -> LIB_LOCK(0, 10 + NA) :: else -> skip fi;
            if :: got1 -> LIB_LOCK(1, 10 + NA) :: else -> skip fi
        fi;
#endif
        v0 = s_ver[0]; val0 = s_val[0]; sq0 = s_seq[0];
        v1 = s_ver[1]; val1 = s_val[1]; sq1 = s_seq[1];
        printf("BF reads chunk: k0 present=%d ver=%d val=%d (#%d), k1 present=%d ver=%d val=%d (#%d)\n",
               got0, v0, val0, sq0, got1, v1, val1, sq1)
    }
    /* batch guarded upsert on the target, row by row; a failure rolls the
     * chunk back and it is read again */
    if
    :: got0 ->
        atomic {
            if :: MAY_FAIL -> tfail++; printf("BF: target write fails\n"); goto release :: skip fi;
            WAIT_TARGET_ROW(0, skip);
            tlock[0] == 0 ->
            printf("BF upserts k0 ver=%d val=%d (#%d) over target present=%d ver=%d val=%d (#%d)\n",
                   v0, val0, sq0, t_pres[0], t_ver[0], t_val[0], t_seq[0]);
            GUARDED_UPSERT(0, v0, val0, sq0)
        }
    :: else -> skip
    fi;
    if
    :: got1 ->
        atomic {
            if :: MAY_FAIL -> tfail++; printf("BF: target write fails\n"); goto release :: skip fi;
            WAIT_TARGET_ROW(1, skip);
            tlock[1] == 0 ->
            printf("BF upserts k1 ver=%d val=%d (#%d) over target present=%d ver=%d val=%d (#%d)\n",
                   v1, val1, sq1, t_pres[1], t_ver[1], t_val[1], t_seq[1]);
            GUARDED_UPSERT(1, v1, val1, sq1)
        }
    :: else -> skip
    fi;
    /* target committed: store the checkpoint, commit the source chunk txn */
    atomic {
#ifndef NEG_BACKFILL_NOLOCK
        if :: got0 -> LIB_UNLOCK(0) :: else -> skip fi;
        if :: got1 -> LIB_UNLOCK(1) :: else -> skip fi;
#endif
        printf("BF: chunk committed, checkpoint stored\n");
        goto finished
    }
release:
    atomic {                       /* roll back the source chunk txn, retry */
#ifndef NEG_BACKFILL_NOLOCK
        if :: got0 -> LIB_UNLOCK(0) :: else -> skip fi;
        if :: got1 -> LIB_UNLOCK(1) :: else -> skip fi;
#endif
        got0 = 0; got1 = 0; v0 = 0; val0 = 0; sq0 = 0; v1 = 0; val1 = 0; sq1 = 0;
        goto read
    }
finished:
    skip
}

/* ========================================================================== */
init {
    /* history that existed before dual-write: row 0 at version 1, target empty */
    atomic {
        s_pres[0] = 1; s_ver[0] = 1; s_val[0] = 3; s_seq[0] = 1;
#ifdef FIND_PHASE_LAG
        capt[1] = 0;
#endif
        run Writer(1); run Writer(2);
        run Applier(0); run Applier(1);
        run Backfill()
    }
    /* writers stopped and every pending apply finished (all processes ended) */
    (_nr_pr == 1);
    /* (b) convergence: target == source, presence, version and value */
    assert(s_pres[0] == t_pres[0] && (!s_pres[0] || (s_ver[0] == t_ver[0] && s_val[0] == t_val[0])));
    assert(s_pres[1] == t_pres[1] && (!s_pres[1] || (s_ver[1] == t_ver[1] && s_val[1] == t_val[1])));
    /* nothing left locked */
    assert(xlock[0] == 0 && xlock[1] == 0 && slock[0] == 0 && slock[1] == 0 &&
           tlock[0] == 0 && tlock[1] == 0)
}
