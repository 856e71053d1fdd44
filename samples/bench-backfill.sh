#!/usr/bin/env bash
# Builds dualwrite and runs the backfill benchmark (io.dualwrite.samples.bench.BackfillBenchmark): one
# million rows copied MariaDB -> PostgreSQL and MariaDB -> MariaDB by plain JDBC, by dualwrite's
# BackfillRunner and (into PostgreSQL) by pgloader, plus a second backfill pass and a small-heap JVM.
#
#   samples/bench-backfill.sh --quick                          # smoke run: 100k rows, one round
#   samples/bench-backfill.sh --markdown BENCHMARKS-run.md     # the full run, about 12-15 minutes on 2 cores
#   samples/bench-backfill.sh --rows 1000000 --threads 1,2 --targets POSTGRESQL --sharded --skip-baselines \
#       --skip-pgloader --skip-second-pass --skip-memory       # single table vs 2 x 4 shards (ShardingSphere), ~3 min
#   samples/bench-backfill.sh --help                           # every option
#
# Needs pgloader for its runs (Debian: apt-get install -y pgloader), or pass --skip-pgloader.
# Servers come from DUALWRITE_IT_MARIADB_URL / DUALWRITE_IT_POSTGRES_URL (and _USER, _PASSWORD), with
# the integration tests' defaults. BENCH_SKIP_BUILD=1 skips the Maven build; BENCH_MVN_FLAGS replaces
# the Maven flags (default: batch, quiet); BENCH_JAVA_OPTS adds JVM options (e.g. a JFR recording).
set -euo pipefail
# Same build and classpath as the mirror benchmark; only the main class differs.
BENCH_MAIN=io.dualwrite.samples.bench.BackfillBenchmark exec "$(dirname "$0")/bench.sh" "$@"
