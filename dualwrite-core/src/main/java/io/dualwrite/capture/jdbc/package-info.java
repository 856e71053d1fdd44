/**
 * Capture in the {@link javax.sql.DataSource}: dual-write without annotations.
 *
 * <p>Entry type: {@link io.dualwrite.capture.jdbc.CapturingDataSource}, which wraps one store's pool
 * and hands the application connections whose statements on mapped tables are read (JSqlParser,
 * cached per SQL text) for the keys they write. Those keys go to the same
 * {@link io.dualwrite.capture.ChangeRecorder} as {@link io.dualwrite.capture.DualWrite}'s, with the
 * same transaction semantics, so mirror, outbox, routing and repair work unchanged; annotation and
 * capture can be on together and name each key once per transaction. A statement on a physical table of
 * a sharded source ({@code t_order_3}, through one of the application's own per-database pools, each wrapped)
 * is recorded under its logical table; a physical name that two mapped tables claim is unattributable.
 *
 * <p>Where a captured change waits and when it is handed on is decided in one class,
 * {@code CapturingConnection} ({@code record}, {@code commitWith}, {@code commitOwnTransaction}), by who
 * commits the write: a Spring transaction holding the connection (its change set), a raw transaction
 * (pending until {@code commit()}, which writes the outbox rows on the connection before committing), or
 * autocommit (handed on after the statement; in OUTBOX mode the statement and its outbox rows share a
 * short transaction). The whole table, with the annotation's rows, is in the
 * {@linkplain io.dualwrite.capture capture package map}.
 *
 * <p>Statements whose keys cannot be told follow {@link io.dualwrite.capture.jdbc.UnattributablePolicy}; DDL on a
 * mapped table follows {@link io.dualwrite.capture.jdbc.SchemaChangePolicy} in phases that mirror and runs in the others.
 *
 * <h2>Statements whose rows a predicate chooses</h2>
 *
 * <p>{@code UPDATE t SET status = 'EXPIRED' WHERE status = 'NEW'} names no key. A locking pre-read
 * ({@code SELECT key ... WHERE status = 'NEW' FOR UPDATE}) just before it locks only the rows that
 * match at that moment: PostgreSQL has no predicate locks, nor has MariaDB under READ COMMITTED, so
 * a row another transaction makes NEW between the pre-read and the statement is written by the
 * statement and its key is never captured (seen on a real PostgreSQL source: three rows updated, two
 * keys captured, the target kept the third row NEW). {@code DELETE ... LIMIT n} without
 * {@code ORDER BY} may also pick other rows than a pre-read with the same LIMIT. So the pre-read is
 * never trusted alone:
 * <ul>
 *   <li><b>Keys from the statement.</b> Where the database returns a statement's written rows as
 *   generated keys (PostgreSQL UPDATE and DELETE, H2 UPDATE), the statement runs as written with its
 *   key columns requested ({@code RETURNING}): the keys are exactly the rows written, at any isolation
 *   level, and the application still gets its update counts.</li>
 *   <li><b>The statement narrowed to the locked rows.</b> Everywhere else (MariaDB, whose UPDATE has no
 *   RETURNING and whose {@code DELETE ... RETURNING} is a query; H2 DELETE; an UPDATE that moves a key,
 *   since RETURNING shows only the new key; a statement with its own RETURNING; a callable or
 *   scrollable statement), the pre-read runs and the statement runs as
 *   {@code ... WHERE (<predicate>) AND key IN (<locked keys>)}, with the application's values bound
 *   again by the setters it used. Every locked row still matches (it is locked, and nothing ran in
 *   between), so the statement writes exactly the captured rows. A row that entered the predicate
 *   after the pre-read is left alone: that is the outcome of the statement having run at the moment
 *   of its pre-read, a moment earlier in the same transaction, before the other transaction
 *   committed, which READ COMMITTED allows (each statement sees what was committed when it starts).
 *   Under MariaDB's REPEATABLE READ the pre-read's next-key locks already keep such rows out, and
 *   under PostgreSQL's REPEATABLE READ and SERIALIZABLE the snapshot does, so nothing changes there.
 *   {@code LIMIT n} may take any n matching rows; the narrowed statement takes the n the pre-read
 *   locked. A prepared batch runs row by row, each row's pre-read just before it, so that a row an
 *   earlier one moved into its predicate is seen.</li>
 *   <li>A predicate statement in a plain {@link java.sql.Statement} batch can be neither: it is
 *   unattributable.</li>
 * </ul>
 *
 * <p>It must never change what a statement does for the application beyond that narrowing: the other
 * additions are a locking pre-read in the statement's own transaction, a request for generated keys,
 * whose result the application still receives, and in OUTBOX mode the outbox rows, in the write's own
 * transaction; an autocommit write that needs the pre-read or the outbox rows runs in a short
 * transaction that commits as autocommit would have. It never captures the library's own statements, and
 * never uses bytecode generation (JDK proxies over the JDBC interfaces; prepared statements, which
 * batches call per value, are wrapped by a hand-written class instead, except a narrowed one, whose
 * every setter call is kept for the narrowed text).
 */
package io.dualwrite.capture.jdbc;
