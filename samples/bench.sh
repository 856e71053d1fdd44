#!/usr/bin/env bash
# Builds dualwrite and runs the mirror benchmark (io.dualwrite.samples.bench.MirrorBenchmark).
#
#   samples/bench.sh --quick                          # smoke run, about a minute
#   samples/bench.sh --markdown BENCHMARKS-run.md     # the full run, under ten minutes on 2 cores
#   samples/bench.sh --help                           # every option
#
# Servers come from DUALWRITE_IT_MARIADB_URL / DUALWRITE_IT_POSTGRES_URL (and _USER, _PASSWORD), with
# the integration tests' defaults. The harness always runs this checkout's classes (never dualwrite jars
# from ~/.m2):
#   BENCH_SKIP_BUILD=1    skip the Maven build; the checkout's target/classes must exist and be newer than
#                         its sources, else the run stops and says so
#   BENCH_MVN_FLAGS       replaces the Maven flags (default: batch, quiet; add -o on a machine whose
#                         ~/.m2 already holds every plugin)
#   BENCH_JAVA_OPTS       adds JVM options (e.g. a JFR recording); BENCH_MAIN picks another harness
#   BENCH_SCRATCH_PREFIX  is put before every scratch database and schema name (lower case, e.g. "ci_")
set -euo pipefail
cd "$(dirname "$0")/.."
read -r -a mvn_flags <<< "${BENCH_MVN_FLAGS:--B -q}"
modules=(dualwrite-core dualwrite-verifier dualwrite-spring-boot-starter samples)
# Third-party jars only: the project's own modules are put on the class path from their target/classes.
classpath_file="$PWD/samples/target/bench-classpath.txt"
if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  ./mvnw "${mvn_flags[@]}" -pl samples -am package -DskipTests dependency:build-classpath \
    -Dmdep.outputFile=target/bench-classpath.txt -DexcludeGroupIds=io.dualwrite
else
  [ -s "$classpath_file" ] || { echo "bench: BENCH_SKIP_BUILD=1, but $classpath_file is missing: run once without it" >&2; exit 2; }
  for module in "${modules[@]}"; do
    classes="$module/target/classes"
    [ -d "$classes" ] || { echo "bench: BENCH_SKIP_BUILD=1, but $classes is missing: build first, or unset BENCH_SKIP_BUILD" >&2; exit 2; }
    built=$(find "$classes" -type f -printf '%T@\n' | sort -n | tail -1)
    edited=$(find "$module/src/main" -type f -printf '%T@ %p\n' | sort -n | tail -1)
    if [ -n "$edited" ] && awk -v e="${edited%% *}" -v b="${built:-0}" 'BEGIN { exit !(e > b) }'; then
      echo "bench: BENCH_SKIP_BUILD=1, but ${edited#* } is newer than $classes: the build is stale; rebuild, or unset BENCH_SKIP_BUILD" >&2
      exit 2
    fi
  done
fi
project_classes=""
for module in "${modules[@]}"; do
  project_classes="$project_classes:$PWD/$module/target/classes"
done
read -r -a java_opts <<< "${BENCH_JAVA_OPTS:-}"
exec java "${java_opts[@]}" -cp "${project_classes#:}:$(cat "$classpath_file")" \
  "${BENCH_MAIN:-io.dualwrite.samples.bench.MirrorBenchmark}" "$@"
