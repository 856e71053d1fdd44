/**
 * The benchmark harness: {@link io.dualwrite.samples.bench.MirrorBenchmark} measures what dual-writing
 * costs an application's write (OFF, ASYNC and SYNC, interleaved in rounds), the mirror's
 * commit-to-apply lag and its throughput on a backlog, on MariaDB and PostgreSQL.
 * {@link io.dualwrite.samples.bench.BackfillBenchmark} measures the backfill's copy rate against a plain JDBC
 * copy and pgloader, a second pass over copied rows, and the backfill's heap. Figures and how to reproduce
 * them are in BENCHMARKS.md at the repository root; {@code samples/bench.sh} and
 * {@code samples/bench-backfill.sh} build and run them.
 *
 * <p>It works only in a scratch database and schema it creates and drops, and never times anything in
 * a unit test: speed targets live here, not in the test suite.
 */
package io.dualwrite.samples.bench;
