/**
 * Sharded targets: a target {@code DataSource} that Apache ShardingSphere-JDBC splits into physical tables across
 * several real databases.
 *
 * <p>Entry type: {@link io.dualwrite.shard.ShardingSphereTarget}, wrapping the application's ShardingSphere data
 * source; the library is given it as its target. It exposes each logical table's
 * {@link io.dualwrite.jdbc.ShardLayout} from ShardingSphere's own sharding rule, and connections that are
 * {@link io.dualwrite.jdbc.ShardedStore}s, on which {@link io.dualwrite.jdbc.TableOps} of a sharded table runs its
 * normal dialect SQL per physical table. During RAMP, the OUTBOX rows of a transaction routed to the target go to the
 * home database on ShardingSphere's own connection in that transaction ({@link io.dualwrite.jdbc.ShardedHome}).
 *
 * <p>This package must never compute a shard itself: every data node comes from ShardingSphere's rule, strategies
 * and algorithms. ShardingSphere-JDBC is an optional dependency; nothing else in the library loads this package.
 */
package io.dualwrite.shard;
