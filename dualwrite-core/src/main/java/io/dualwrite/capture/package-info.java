/**
 * Capture: which keys of which tables an application transaction changed, handed on only after the
 * transaction commits.
 *
 * <p>Entry types: the {@link io.dualwrite.capture.DualWrite} annotation with its
 * {@link io.dualwrite.capture.DualWriteAspect}, and the programmatic
 * {@link io.dualwrite.capture.ChangeRecorder}. Both collect into a per-transaction change set
 * ({@link org.springframework.transaction.support.TransactionSynchronization}) that is passed to a
 * {@link io.dualwrite.capture.ChangeSink} after commit, and dropped on rollback.
 *
 * <p>Capture never reads or writes rows and never lets a mirroring problem reach the application's
 * write: only a bad key expression (an application bug) throws.
 */
package io.dualwrite.capture;
