/**
 * Capture: which keys of which tables an application write changed, handed to a
 * {@link io.dualwrite.capture.ChangeSink} (the mirror) so that none is lost and none goes on before its
 * write has committed.
 *
 * <p>Entry types: the {@link io.dualwrite.capture.DualWrite} annotation with its
 * {@link io.dualwrite.capture.DualWriteAspect}, the programmatic {@link io.dualwrite.capture.ChangeRecorder},
 * and transparent capture in the {@code DataSource} ({@link io.dualwrite.capture.jdbc}). All three record
 * into one {@link io.dualwrite.capture.ChangeCapture}.
 *
 * <h2>Where a change waits, and when it is handed on</h2>
 *
 * <p>A change reaches the sink in two steps: {@code beforeCommit}, while its write can still be taken back
 * (OUTBOX writes its outbox rows there, so that they commit with the write or not at all), then
 * {@code afterCommit}, which dispatches it (SYNC applies, ASYNC queues, OUTBOX wakes the relay). Where
 * the change waits in between depends only on who commits the write:
 *
 * <table>
 * <caption>The hand-over of a change, by who commits its write</caption>
 * <tr><th>the write commits in</th><th>the change waits in</th><th>before the commit</th>
 *     <th>after the commit</th><th>on rollback</th></tr>
 * <tr><td>a Spring transaction (an actual one, on any path: annotation, recorder, or a capturing
 *     connection that the transaction holds, also behind the routing data source's proxy)</td>
 *     <td>the transaction's change set, a {@code TransactionSynchronization} in {@code ChangeCapture}</td>
 *     <td>{@code ChangeSink.beforeCommit(changes)}, on the transaction's connection; a failure rolls the
 *     transaction back. What is recorded after that callback (JPA: Hibernate flushes inside the commit)
 *     is written by the capturing connection's {@code commit()}, just before the real commit, on that
 *     connection ({@code ChangeRecorder.beforeConnectionCommit})</td>
 *     <td>{@code afterCommit}</td><td>dropped</td></tr>
 * <tr><td>a raw JDBC transaction on a capturing connection ({@code setAutoCommit(false)} ...
 *     {@code commit()})</td>
 *     <td>{@code CapturingConnection}'s pending list</td>
 *     <td>{@code ChangeSink.beforeCommit(changes, connection)} on that connection, inside
 *     {@code commit()} before the real commit; a failure rolls back and {@code commit()} throws</td>
 *     <td>as {@code commit()} returns</td><td>dropped</td></tr>
 * <tr><td>an autocommit statement on a capturing connection (also under {@code SUPPORTS},
 *     {@code NOT_SUPPORTED}, {@code NEVER})</td>
 *     <td>nowhere</td>
 *     <td>OUTBOX only: the statement and its outbox rows run in a short transaction of their own; a
 *     failure rolls both back and the statement throws</td>
 *     <td>right after the statement</td><td>-</td></tr>
 * <tr><td>{@code @DualWrite} or {@code ChangeRecorder} with no actual transaction (none, or
 *     {@code SUPPORTS}, {@code NOT_SUPPORTED}, {@code NEVER})</td>
 *     <td>the aspect's call scope until the method returns or throws; a bare recorder call: nowhere</td>
 *     <td>OUTBOX: an annotated call is refused before the method runs, unless transparent capture
 *     writes each statement's outbox rows with it ({@code DualWriteAspect#setTransparentCapture}); a bare
 *     recorder call after an autocommitted write gets {@code ChangeSink.beforeCommit(changes)} after the
 *     fact, so a crash in between leaves the row to the reconciler</td>
 *     <td>at the call's end, whether or not it threw</td><td>-</td></tr>
 * </table>
 *
 * <p>Keys named twice in one unit (annotation and capture, or two statements) go on once: the change set
 * and the call scope are sets, and a call scope does not write again the outbox rows that a statement's
 * own transaction wrote.
 *
 * <p>Capture never reads or writes application rows and never lets a mirroring problem reach a write
 * that has committed: only a bad key expression (an application bug) or a failure to write the outbox
 * rows before the commit (the write is then taken back) throws.
 */
package io.dualwrite.capture;
