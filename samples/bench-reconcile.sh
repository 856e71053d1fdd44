#!/usr/bin/env bash
# Builds dualwrite and runs the reconciler benchmark (io.dualwrite.samples.bench.ReconcileBenchmark): one
# million identical rows compared MariaDB vs PostgreSQL (row path) and MariaDB vs MariaDB (checksum path),
# beside a fair baseline (two streamed cursors, each read by a thread of its own, compared value by value) and
# pt-table-sync --print --algorithms Chunk, in a 256 MiB heap, with database CPU per row for the run's own
# connections and for the whole servers.
#
#   samples/bench-reconcile.sh --rows 20000 --rounds 1        # smoke run
#   samples/bench-reconcile.sh --rows 1000000 --rounds 3      # the full run
#   options: --rows N, --rounds N, --chunk N (default 5000), --skip-pt-table-sync,
#            --one-thread-reference (also the old one-thread two-cursor baseline, a reference only),
#            --only VARIANT,... (e.g. DUALWRITE_PG,DUALWRITE_ROWS_MARIADB, for a profile),
#            --double-read-seconds S (per window, default 2; 0 skips), --double-read-windows N (default 10),
#            --double-read-only (only the double-read caller-latency measurement)
#
# pt-table-sync comes from percona-toolkit (Debian: apt-get install -y percona-toolkit); without it that
# variant is skipped. Servers come from DUALWRITE_IT_MARIADB_URL / DUALWRITE_IT_POSTGRES_URL (and _USER,
# _PASSWORD), with the integration tests' defaults. BENCH_SKIP_BUILD=1, BENCH_MVN_FLAGS and BENCH_JAVA_OPTS
# work as in bench.sh; BENCH_JAVA_OPTS defaults to -Xmx256m here.
set -euo pipefail
export BENCH_JAVA_OPTS="${BENCH_JAVA_OPTS:--Xmx256m}"
BENCH_MAIN=io.dualwrite.samples.bench.ReconcileBenchmark exec "$(dirname "$0")/bench.sh" "$@"
