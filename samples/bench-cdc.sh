#!/usr/bin/env bash
# Builds dualwrite and runs the change-data capture benchmark (io.dualwrite.samples.bench.CdcBenchmark):
# outside writers at a fixed 5,000 writes/s on MariaDB -> PostgreSQL and PostgreSQL -> MariaDB, with the capture
# OFF, READ (reading the log, handing nothing over) and ON (feeding the mirror) in rotating order each round:
# the writers' latency, the reader's CPU, the servers' CPU and the end-to-end lag.
#
#   samples/bench-cdc.sh --quick                               # smoke run, about a minute
#   samples/bench-cdc.sh --markdown BENCHMARKS-run.md          # the full run, about eight minutes on 2 cores
#   options: --direction BOTH|MARIADB|POSTGRESQL, --rate N, --writers N, --seconds S, --warmup S, --rounds R,
#            --rows N (see the class comment)
#
# The MariaDB source needs its binary log on (log_bin, binlog_format=ROW): DUALWRITE_IT_MARIADB_URL is set to
# DUALWRITE_IT_CDC_MARIADB_URL (default jdbc:mariadb://127.0.0.1:3307/test, the integration tests' binlog
# server) unless BENCH_CDC_KEEP_MARIADB_URL=1. PostgreSQL needs wal_level=logical. BENCH_SKIP_BUILD=1,
# BENCH_MVN_FLAGS and BENCH_JAVA_OPTS work as in bench.sh.
set -euo pipefail
if [ -z "${BENCH_CDC_KEEP_MARIADB_URL:-}" ]; then
  export DUALWRITE_IT_MARIADB_URL="${DUALWRITE_IT_CDC_MARIADB_URL:-jdbc:mariadb://127.0.0.1:3307/test}"
fi
BENCH_MAIN=io.dualwrite.samples.bench.CdcBenchmark exec "$(dirname "$0")/bench.sh" "$@"
