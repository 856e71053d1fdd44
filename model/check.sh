#!/usr/bin/env bash
# Model-checks the dualwrite write-path protocol with spin.
#
#   model/check.sh            run every check (about 2 minutes on 2 cores)
#   JOBS=1 model/check.sh     run the checks one at a time
#   DEEP=1 model/check.sh     also run four large configurations (DUAL_WRITE with 2+2 writer
#                             txns and a target failure: ~125M states, ~5 min, ~8 GB; RAMP
#                             with 2 txns per instance, up and back: ~21M states, ~1 min;
#                             lease.pml with two faults of B, with and without the R5 counter
#                             fix: ~19M states, ~1 min)
#   ONLY=lease model/check.sh run only the checks whose name matches the regex
#   KEEP=1 model/check.sh     keep the work directory (pan output, trails and the
#                             replayed counterexamples in <check>.trace.txt)
#
# Positive checks (and alt-* checks: designs the code did not take) must finish an
# exhaustive search with no error; every other check
# (negative controls, findings, witnesses) must produce its expected counterexample.
# Prints one line per check, then "N passed, M failed"; exits non-zero on any failure.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
JOBS="${JOBS:-$(nproc 2>/dev/null || echo 2)}"
MEMLIM="${MEMLIM:-10000}"          # MB per pan run; hitting it fails the check

if ! command -v spin >/dev/null 2>&1; then
    echo "spin not found: installing it with apt-get" >&2
    apt-get update >&2
    apt-get install -y spin >&2
fi
command -v gcc >/dev/null 2>&1 || { echo "gcc is required" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/dualwrite-model.XXXXXX")"
if [[ "${KEEP:-0}" == 1 ]]; then
    echo "work directory: $work"
else
    trap 'rm -rf "$work"' EXIT
fi

# name | kind | model | spin -D flags | cc flags | pan flags | expected (kind X only)
#   kind P: exhaustive search must report no error
#   kind X: must produce a counterexample whose pan report matches the regex
DW="dualwrite.pml"
RP="ramp.pml"
SMALL="-DOPS1=2 -DOPS2=1 -DTFAIL=0"
MONO_OR_CONV='assertion violated .*(sq[01]? ?>= ?t_seq|s_pres\[0\] ?== ?t_pres\[0\]|s_pres\[1\] ?== ?t_pres\[1\])'
CONV='assertion violated .*s_pres\[[01]\] ?== ?t_pres'
APPREAD='assertion violated .*seq\[.*\] ?== ?hseq\[k\]'
RAMP_DATA='assertion violated .*(== ?hseq\[k\]|sq ?>= ?seq\[|pres\[\(\(0\*2\)\+[01]\)\] ?== ?pres)'
RAMP_CONV='assertion violated .*pres\[\(\(0\*2\)\+[01]\)\] ?== ?pres'
LS="lease.pml"
# an acknowledged write lost: a commit on a store that is not the active primary, a commit on a row
# that misses the newest write, the routed store missing it at the end, or an apply replacing it
LOSS='assertion violated .*(r2? ?== ?\(c_act&1\)|seq\[r2?\] ?== ?hseq|seq\[\(c_act&1\)\] ?== ?hseq|seq\[p\] ?>= ?seq)'
LATE='assertion violated .*seq\[p\] ?>= ?seq\[\(1-p\)\]'
checks=(
# --- positive checks -----------------------------------------------------------------
"dw-main|P|$DW|-DOPS1=2 -DOPS2=2 -DTFAIL=0|-DSAFETY|-w26|"
"ramp-one-user-two-txns-each|P|$RP|-DONE_USER -DOPS=2 -DSTEPS=1|-DSAFETY|-w26|"
"dw-target-failures|P|$DW|-DOPS1=2 -DOPS2=1 -DTFAIL=1|-DSAFETY|-w26|"
"dw-commit-order-overwrite|P|$DW|-DNO_GUARD -DOPS1=2 -DOPS2=1 -DTFAIL=1|-DSAFETY|-w26|"
"dw-commit-order-clock-at-txn-start|P|$DW|-DNO_GUARD -DFIND_CLOCK_AT_START $SMALL|-DSAFETY|-w26|"
"dw-h2-exclusive-locks|P|$DW|-DH2_XLOCK -DOPS1=2 -DOPS2=1 -DTFAIL=1|-DSAFETY|-w26|"
"dw-fair-termination|P|$DW|-DOPS1=1 -DOPS2=1 -DTFAIL=1|-DNP -DNFAIR=3|-l -f -w25|"
"ramp-two-users-up-and-back|P|$RP|-DOPS=1 -DSTEPS=2|-DSAFETY|-w25|"
"ramp-merchant-writes-moving-users-row|P|$RP|-DMERCHANT -DONE_USER -DOPS=1 -DSTEPS=2|-DSAFETY|-w25|"
"ramp-fair-termination|P|$RP|-DONE_USER -DOPS=1 -DSTEPS=2|-DNP -DNFAIR=4|-l -f -w25|"
"lease-into-and-within-ramp|P|$LS|-DINV1_STRICT -DINIT=DW -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY -O1|-w23|"
"lease-rollback-to-dw-then-forward|P|$LS|-DINIT=R0 -DNSTEPS=2 -DP1=DW -DP2=RT|-DSAFETY -O1|-w23|"
"lease-back-from-target-only|P|$LS|-DINIT=TO -DNSTEPS=2 -DP1=RT -DP2=R0|-DSAFETY -O1|-w22|"
"lease-dead-instance-dropped-after-drain|P|$LS|-DDROP_DRAINS -DINV1_STRICT -DCRASH -DINIT=DW -DNSTEPS=1 -DP1=RT|-DSAFETY -O1|-w21|"
"lease-async-never-promises|P|$LS|-DASYNC -DINIT=DW -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY -O1|-w22|"
"lease-async-never-promises-rollback|P|$LS|-DASYNC -DINIT=R0 -DNSTEPS=2 -DP1=DW -DP2=RT|-DSAFETY -O1|-w22|"
"lease-nested-request|P|$LS|-DNESTED -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY -O1|-w22|"
"alt-lease-split-count-out-without-nesting|P|$LS|-DNEG_SPLIT_COUNT_OUT -DINIT=R0 -DNSTEPS=2 -DP1=DW -DP2=RT|-DSAFETY -O1|-w23|"
"alt-lease-async-promises-r7-park-after-renewal|P|$LS|-DASYNC -DNEG_ASYNC_PROMISES -DLATE_APPLY_ONLY -DR7_PARK_RENEWED -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY -O1|-w21|"
# --- negative controls: each must produce a counterexample -----------------------------
"neg-apply-without-source-lock|X|$DW|-DNEG_APPLY_NOLOCK $SMALL|-DSAFETY|-w24|$MONO_OR_CONV"
"neg-backfill-without-source-lock|X|$DW|-DNEG_BACKFILL_NOLOCK $SMALL|-DSAFETY|-w24|$MONO_OR_CONV"
"neg-strict-version-guard|X|$DW|-DNEG_STRICT_GUARD $SMALL|-DSAFETY|-w24|$CONV"
"neg-absent-branch-without-recheck|X|$DW|-DNEG_NO_RECHECK $SMALL|-DSAFETY|-w24|$MONO_OR_CONV"
"neg-ramp-flag-flip|X|$RP|-DNEG_FLAG_FLIP -DNO_LIB_WAIT_ASSERT -DOPS=1|-DSAFETY|-E -w24|$RAMP_DATA"
"neg-ramp-flag-flip-mirror-race|X|$RP|-DNEG_FLAG_FLIP -DSHORT_TXN -DNO_APP_READ_ASSERT -DNO_LIB_WAIT_ASSERT -DOPS=1|-DSAFETY|-E -w24|assertion violated .*(sq ?>= ?seq\[|pres\[\(\(0\*2\)\+[01]\)\] ?== ?pres)"
"neg-lease-fence-ramp-only|X|$LS|-DNEG_FENCE_RAMP_ONLY -DPARTITION|-DSAFETY|-w22|$LOSS"
"neg-lease-no-commit-check|X|$LS|-DNEG_NO_COMMIT_CHECK -DFREEZE -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"neg-lease-read-before-renew|X|$LS|-DNEG_READ_BEFORE_RENEW -DPARTITION -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"neg-lease-count-out-unpromised|X|$LS|-DNEG_COUNT_OUT_UNPROMISED -DPARTITION|-DSAFETY|-w22|$LOSS"
"neg-lease-split-count-out|X|$LS|-DNEG_SPLIT_COUNT_OUT -DNESTED -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"neg-lease-async-promises|X|$LS|-DASYNC -DNEG_ASYNC_PROMISES -DFREEZE -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"neg-lease-unfence-before-withdraw|X|$LS|-DNEG_UNFENCE_BEFORE_WITHDRAW -DPARTITION -DINIT=R0 -DNSTEPS=2 -DP1=DW -DP2=RT|-DSAFETY -O1|-w22|$LOSS"
# --- findings: gaps in DESIGN.md, each shown by a counterexample ----------------------
"find-lease-r5-as-written|X|$LS|-DR5_AS_WRITTEN -DPARTITION -DINIT=DW -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY -O1|-w22|$LOSS"
"find-lease-r4-withdraw-on-stale-view|X|$LS|-DR4_AS_WRITTEN -DPARTITION -DINIT=R0 -DNSTEPS=2 -DP1=DW -DP2=RT|-DSAFETY -O1|-w22|$LOSS"
"find-lease-outbox-count-out-without-drain|X|$LS|-DNO_DRAIN_FOR_COUNT_OUT -DPARTITION -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"find-lease-async-count-out-loses-lane|X|$LS|-DASYNC -DNEG_ASYNC_PROMISES -DFREEZE -DR7_PARK_RENEWED -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"find-lease-r7-late-apply|X|$LS|-DASYNC -DNEG_ASYNC_PROMISES -DFREEZE -DLATE_APPLY_ONLY -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LATE"
"find-lease-r7-park-as-written|X|$LS|-DASYNC -DNEG_ASYNC_PROMISES -DFREEZE -DLATE_APPLY_ONLY -DR7_PARK -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LATE"
"find-lease-ack-heartbeat-trusts-lease|X|$LS|-DACK_TRUSTS_LEASE -DFREEZE -DINIT=R0 -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY|-w22|$LOSS"
"find-lease-drop-without-drain|X|$LS|-DINV1_STRICT -DCRASH -DINIT=DW -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|$LOSS"
"find-lease-inv1-refused-after-rollback|X|$LS|-DINV1_STRICT -DPARTITION -DINIT=R0 -DNSTEPS=1 -DP1=DW|-DSAFETY|-w22|assertion violated .*\(v_act\[i\]&2\) ?!= ?0"
"neg-ramp-step-waits-for-moving-keys-only|X|$RP|-DMERCHANT -DNEG_MOVING_ONLY -DONE_USER -DNO_LIB_WAIT_ASSERT -DOPS=1|-DSAFETY|-w24|$RAMP_DATA"
"find-version-taken-at-txn-start|X|$DW|-DFIND_CLOCK_AT_START $SMALL|-DSAFETY|-w24|$CONV"
"find-backfill-before-all-instances-capture|X|$DW|-DFIND_PHASE_LAG $SMALL|-DSAFETY|-w24|$CONV"
"find-ramp-ack-with-txn-in-flight|X|$RP|-DFIND_RAMP_INFLIGHT -DNO_LIB_WAIT_ASSERT -DOPS=1|-DSAFETY|-w24|$APPREAD"
"find-ramp-hold-timeout-old-route|X|$RP|-DFIND_HOLD_TIMEOUT -DNO_LIB_WAIT_ASSERT -DOPS=1|-DSAFETY|-w24|$APPREAD"
"find-ramp-clock-skew-between-stores|X|$RP|-DFIND_CLOCK_SKEW -DOPS=1|-DSAFETY|-w24|$RAMP_CONV"
"find-ramp-cross-route-store-deadlock|X|$RP|-DFIND_CROSS_ROUTE -DNO_LIB_WAIT_ASSERT -DOPS=1|-DSAFETY|-A -w24|invalid end state"
# --- witnesses: the positive models really reach the interesting situations ----------
"wit-equal-version-overwrite|X|$DW|-DWIT_TIE $SMALL|-DSAFETY|-w24|assertion violated .*t_val\[k\] ?!= ?val"
"wit-upsert-waits-on-open-delete|X|$DW|-DWIT_TWAIT $SMALL|-DSAFETY|-w24|assertion violated 0"
"wit-recheck-rolls-back|X|$DW|-DWIT_RECHECK $SMALL|-DSAFETY|-w24|assertion violated 0"
"wit-writer-waits-on-share-lock|X|$DW|-DWIT_APPWAIT $SMALL|-DSAFETY|-w24|assertion violated .*slock\[k\] ?== ?0"
"wit-unfair-nowait-retry-loop|X|$DW|-DOPS1=1 -DOPS2=1 -DTFAIL=0|-DNP -DNFAIR=3|-l -w24|non-progress cycle"
"wit-ramp-request-held|X|$RP|-DWIT_HELD -DOPS=1|-DSAFETY|-w24|assertion violated .*ihold"
"wit-ramp-rollback-mirrored|X|$RP|-DWIT_BACK -DOPS=1 -DSTEPS=2|-DSAFETY|-w24|assertion violated .*ctl_step"
"wit-lease-step-counts-out-b|X|$LS|-DWIT_COUNT_OUT -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|assertion violated .*hb_live\[1\]"
"wit-lease-fence-refuses|X|$LS|-DWIT_FENCE_REFUSES -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|assertion violated .*lease_ok\[i\]"
"wit-lease-commit-check-rolls-back|X|$LS|-DWIT_R5_ROLLBACK -DFREEZE -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|assertion violated 0"
"wit-lease-dw-commit-while-lapsed|X|$LS|-DWIT_DW_LAPSED_COMMIT|-DSAFETY|-w22|assertion violated .*lease_ok\\[i\\]"
"wit-lease-async-step-waits-for-expired-b|X|$LS|-DWIT_EXPIRED_WAITED -DASYNC -DINIT=DW -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY|-w22|assertion violated 0"
"wit-lease-r7-parks|X|$LS|-DWIT_PARK -DASYNC -DNEG_ASYNC_PROMISES -DLATE_APPLY_ONLY -DR7_PARK_RENEWED -DFREEZE -DINIT=R0 -DNSTEPS=1 -DP1=RT|-DSAFETY|-w22|assertion violated 0"
)
if [[ "${DEEP:-0}" == 1 ]]; then
    checks=("dw-deep-2x2-txns-target-failure|P|$DW|-DOPS1=2 -DOPS2=2 -DTFAIL=1|-DSAFETY -DCOLLAPSE|-w28|"
            "ramp-deep-one-user-up-and-back|P|$RP|-DONE_USER -DOPS=2 -DSTEPS=2|-DSAFETY -DCOLLAPSE|-w27|"
            "lease-deep-two-faults|P|$LS|-DEPISODES=2 -DINIT=DW -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY -DCOLLAPSE|-w24|"
            "find-lease-deep-r5-counter-misses-second-lapse|X|$LS|-DR5_GEN_ON_LAPSE_ONLY -DEPISODES=2 -DINIT=DW -DNSTEPS=2 -DP1=R0 -DP2=RT|-DSAFETY -O2 -DCOLLAPSE|-w24|$LOSS"
            "${checks[@]}")
fi

# run_check INDEX: writes $work/INDEX.res (one summary line) and INDEX.ok (PASS/FAIL)
run_check() {
    local idx="$1" spec="${checks[$1]}"
    local name kind model sdefs cflags pflags expect
    IFS='|' read -r name kind model sdefs cflags pflags expect <<<"$spec"
    local d="$work/$name"
    mkdir -p "$d"
    cp "$here"/*.pml "$d"/
    local t0 t1 rc=0 out="$d/pan.out" verdict detail opt=-O2
    [[ "$kind" == X ]] && opt=-O0     # tiny searches: compile time dominates
    t0=$(date +%s.%N)
    # shellcheck disable=SC2086
    if ! (cd "$d" && spin $sdefs -a "$model" >spin.out 2>&1 &&
          gcc "$opt" -w $cflags -DMEMLIM="$MEMLIM" -o pan pan.c >gcc.out 2>&1); then
        echo "FAIL  $name: spin/gcc failed (see $d)" >"$work/$idx.res"; echo FAIL >"$work/$idx.ok"
        return 0
    fi
    # shellcheck disable=SC2086
    (cd "$d" && ./pan -m200000 $pflags >"$out" 2>&1) || rc=$?
    t1=$(date +%s.%N)
    local secs states
    secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.1f", b-a}')
    states=$(awk '/states, stored/{print $1; exit}' "$out")
    states=${states:-?}
    local trouble=""
    grep -q 'max search depth too small' "$out" && trouble="search depth too small"
    grep -qiE 'out of memory|MEMLIM bound|memory exhausted' "$out" && trouble="out of memory"
    if [[ "$kind" == P ]]; then
        if [[ -z "$trouble" && $rc -eq 0 ]] && grep -q 'errors: 0' "$out" &&
           ! grep -q 'Search not completed' "$out"; then
            verdict=PASS; detail="exhaustive, no error: $states states, ${secs}s"
        else
            verdict=FAIL
            detail="${trouble:-$(grep -m1 -E 'pan:1|errors:' "$out" || echo "pan exit $rc")} (${secs}s)"
        fi
    else
        local hit
        hit=$(grep -m1 -E 'pan:1:|pan: .*(invalid end state|non-progress cycle|acceptance cycle)' "$out" || true)
        if [[ -n "$hit" ]] && grep -qE "$expect" <<<"$hit"; then
            verdict=PASS; detail="counterexample as expected: ${hit#pan:1: } (${secs}s)"
            # replay the trail for humans (kept with KEEP=1)
            # shellcheck disable=SC2086
            (cd "$d" && spin $sdefs -t "$model" 2>&1 | sed -n '1,/trail ends/p' |
                grep -v '^[[:space:]]*$' | sed 's/^ *//' >"$name.trace.txt") || true
        else
            verdict=FAIL
            detail="expected a counterexample matching /$expect/, got: ${hit:-none}${trouble:+ ($trouble)}"
        fi
    fi
    local label
    case "$name" in
        neg-*) label="negative control";; find-*) label="finding";;
        wit-*) label="witness";; alt-*) label="alternative";; *) label="positive";;
    esac
    printf '%s  %-44s [%s] %s\n' "$verdict" "$name" "$label" "$detail" >"$work/$idx.res"
    echo "$verdict" >"$work/$idx.ok"
}

if [[ -n "${ONLY:-}" ]]; then       # ONLY=regex: run the checks whose name matches
    selected=()
    for c in "${checks[@]}"; do [[ "${c%%|*}" =~ $ONLY ]] && selected+=("$c"); done
    checks=("${selected[@]}")
fi

start=$(date +%s)
n=${#checks[@]}
running=0
for ((i = 0; i < n; i++)); do
    run_check "$i" &
    running=$((running + 1))
    if ((running >= JOBS)); then
        wait -n || true
        running=$((running - 1))
    fi
done
wait || true

passed=0
failed=0
for ((i = 0; i < n; i++)); do
    if [[ -f "$work/$i.res" ]]; then cat "$work/$i.res"; else echo "FAIL  check $i did not report"; fi
    if [[ "$(cat "$work/$i.ok" 2>/dev/null || true)" == PASS ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
echo "total time: $(( $(date +%s) - start ))s with $JOBS parallel jobs"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
