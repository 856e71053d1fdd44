/**
 * Capture in the {@link javax.sql.DataSource}: dual-write without annotations.
 *
 * <p>Entry type: {@link io.dualwrite.capture.jdbc.CapturingDataSource}, which wraps one store's pool
 * and hands the application connections whose statements on mapped tables are read (JSqlParser,
 * cached per SQL text) for the keys they write. Those keys go to the same
 * {@link io.dualwrite.capture.ChangeRecorder} as {@link io.dualwrite.capture.DualWrite}'s, with the
 * same transaction semantics, so mirror, outbox, routing and repair work unchanged; annotation and
 * capture can be on together and name each key once per transaction.
 *
 * <p>Statements whose keys cannot be told follow {@link io.dualwrite.capture.jdbc.UnattributablePolicy}.
 *
 * <p>It must never change what a statement does for the application: the only additions are a
 * locking pre-read in the statement's own transaction and a request for generated keys, whose result
 * the application still receives. It never captures the library's own statements, and never uses
 * bytecode generation (JDK proxies over the JDBC interfaces; prepared statements, which batches call
 * per value, are wrapped by a hand-written class instead).
 */
package io.dualwrite.capture.jdbc;
