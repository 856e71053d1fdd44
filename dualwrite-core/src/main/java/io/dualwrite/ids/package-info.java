/**
 * Ids the stores generate, and ids taken out of them.
 *
 * <p>Entry types: {@link io.dualwrite.ids.IdAlignment}, which a migration registers on its controller
 * (a preparation and a guard) so that the target's identity and sequence counters are moved past the
 * source's when the target starts taking inserts, and kept apart from them ({@link io.dualwrite.ids.IdStrategy})
 * while both stores do; and {@link io.dualwrite.ids.SegmentIdGenerator}, which leases blocks of ids from a
 * table in the control store's database, for JDBC code and, through {@link io.dualwrite.ids.SegmentId}, for
 * Hibernate entities. Hibernate is an optional dependency: only {@code SegmentId} needs it.
 *
 * <p>This package moves counters only forward and only at a step; it never writes a row of the
 * application's tables, and it never decides when a step happens.
 */
package io.dualwrite.ids;
