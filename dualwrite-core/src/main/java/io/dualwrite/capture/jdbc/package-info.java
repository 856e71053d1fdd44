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
 * <p>Where a captured change waits and when it is handed on is decided in one class,
 * {@code CapturingConnection} ({@code record}, {@code commitWith}, {@code commitOwnTransaction}), by who
 * commits the write: a Spring transaction holding the connection (its change set), a raw transaction
 * (pending until {@code commit()}, which writes the outbox rows on the connection before committing), or
 * autocommit (handed on after the statement; in OUTBOX mode the statement and its outbox rows share a
 * short transaction). The whole table, with the annotation's rows, is in the
 * {@linkplain io.dualwrite.capture capture package map}.
 *
 * <p>Statements whose keys cannot be told follow {@link io.dualwrite.capture.jdbc.UnattributablePolicy}.
 *
 * <p>It must never change what a statement does for the application: the only additions are a
 * locking pre-read in the statement's own transaction, a request for generated keys, whose result
 * the application still receives, and in OUTBOX mode the outbox rows, in the write's own transaction;
 * an autocommit write that needs the pre-read or the outbox rows runs in a short transaction that
 * commits as autocommit would have. It never captures the library's own statements, and never uses
 * bytecode generation (JDK proxies over the JDBC interfaces; prepared statements, which batches call
 * per value, are wrapped by a hand-written class instead).
 */
package io.dualwrite.capture.jdbc;
