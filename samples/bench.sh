#!/usr/bin/env bash
# Builds dualwrite and runs the mirror benchmark (io.dualwrite.samples.bench.MirrorBenchmark).
#
#   samples/bench.sh --quick                          # smoke run, about a minute
#   samples/bench.sh --markdown BENCHMARKS-run.md     # the full run, under ten minutes on 2 cores
#   samples/bench.sh --help                           # every option
#
# Servers come from DUALWRITE_IT_MARIADB_URL / DUALWRITE_IT_POSTGRES_URL (and _USER, _PASSWORD), with
# the integration tests' defaults. BENCH_SKIP_BUILD=1 skips the Maven build; BENCH_MVN_FLAGS replaces
# the Maven flags (default: batch, quiet, offline); BENCH_JAVA_OPTS adds JVM options (e.g. a JFR recording); BENCH_MAIN picks another harness.
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a mvn_flags <<< "${BENCH_MVN_FLAGS:--B -q -o}"
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  ./mvnw "${mvn_flags[@]}" install -DskipTests
fi
# The whole (test-scope) classpath, so that the harness sees everything the samples' tests see.
classpath_file="$PWD/samples/target/bench-classpath.txt"
./mvnw "${mvn_flags[@]}" -pl samples dependency:build-classpath -Dmdep.outputFile="$classpath_file"
read -r -a java_opts <<< "${BENCH_JAVA_OPTS:-}"
exec java "${java_opts[@]}" -cp "samples/target/classes:$(cat "$classpath_file")" \
  "${BENCH_MAIN:-io.dualwrite.samples.bench.MirrorBenchmark}" "$@"
