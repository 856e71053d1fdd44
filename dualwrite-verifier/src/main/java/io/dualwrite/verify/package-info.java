/**
 * Verification: proof, with numbers, that the target holds the same data as the source before traffic
 * moves. Sampled double reads compare live reads on both stores ({@link io.dualwrite.verify.DoubleReader},
 * {@link io.dualwrite.verify.DualRead}); the {@link io.dualwrite.verify.Reconciler} compares whole tables or
 * a version window chunk by chunk, and repairs what differs.
 *
 * <p>Every comparison goes through the table's mapping (the source row mapped to the target's shape) and the
 * {@link io.dualwrite.verify.ComparisonRules}; every confirmed mismatch becomes a {@link io.dualwrite.verify.Mismatch},
 * one JSON line on the logger {@code dualwrite.mismatch} and a {@link io.dualwrite.verify.VerifyEvent}.
 *
 * <p>This package must never throw into, or make wait, the application's read; never print a masked column's
 * value; and never write a store except through a {@link io.dualwrite.verify.Repairer}, whose default goes
 * through the mirror's locked apply.
 */
package io.dualwrite.verify;
