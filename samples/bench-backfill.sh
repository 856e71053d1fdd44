#!/usr/bin/env bash
# Builds dualwrite and runs the backfill benchmark (io.dualwrite.samples.bench.BackfillBenchmark): one
# million rows copied MariaDB -> PostgreSQL and MariaDB -> MariaDB by plain JDBC, by dualwrite's
# BackfillRunner and (into PostgreSQL) by pgloader, plus a second backfill pass and a small-heap JVM.
#
#   samples/bench-backfill.sh --quick                          # smoke run: 100k rows, one round
#   samples/bench-backfill.sh --markdown BENCHMARKS-run.md     # the full run, about 12-15 minutes on 2 cores
#   samples/bench-backfill.sh --help                           # every option
#
# Needs pgloader for its runs (Debian: apt-get install -y pgloader), or pass --skip-pgloader.
# Servers come from DUALWRITE_IT_MARIADB_URL / DUALWRITE_IT_POSTGRES_URL (and _USER, _PASSWORD), with
# the integration tests' defaults. BENCH_SKIP_BUILD=1 skips the Maven build; BENCH_MVN_FLAGS replaces
# the Maven flags (default: batch, quiet, offline); BENCH_JAVA_OPTS adds JVM options (e.g. a JFR recording).
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a mvn_flags <<< "${BENCH_MVN_FLAGS:--B -q -o}"
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  ./mvnw "${mvn_flags[@]}" install -DskipTests
fi
# The whole (test-scope) classpath, as in bench.sh: logback-classic is only test-scoped in samples/pom.xml.
classpath_file="$PWD/samples/target/bench-classpath.txt"
./mvnw "${mvn_flags[@]}" -pl samples dependency:build-classpath -Dmdep.outputFile="$classpath_file"
read -r -a java_opts <<< "${BENCH_JAVA_OPTS:-}"
exec java "${java_opts[@]}" -cp "samples/target/classes:$(cat "$classpath_file")" \
  io.dualwrite.samples.bench.BackfillBenchmark "$@"
