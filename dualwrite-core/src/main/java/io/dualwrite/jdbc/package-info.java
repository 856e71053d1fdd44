/**
 * The storage layer: everything that turns a table and a set of keys into SQL for one store.
 *
 * <p>Entry type: {@link io.dualwrite.jdbc.Dialect}, chosen from connection metadata with
 * {@link io.dualwrite.jdbc.Dialect#of(javax.sql.DataSource)}. {@link io.dualwrite.jdbc.TableMetadata}
 * describes a table as the database reports it, and {@link io.dualwrite.jdbc.TableOps} runs the
 * statements the mirror, the backfill and the verifier share: the keyed read under a share lock, the
 * version-guarded batch upsert, the batched delete, the keyset chunk scan, and the look-up of the rows
 * holding given values of a unique index besides the key. On MySQL and MariaDB, whose upsert fires on
 * any unique index, the batch upsert of such a table checks that each row reached its own key.
 *
 * <p>Keys: a {@link io.dualwrite.jdbc.RowKey} holds one value per key column, and each key column's
 * {@link io.dualwrite.jdbc.KeyCodec} gives those values one form whatever they arrive as (a uuid's text, a
 * padded {@code CHAR}, a {@code java.sql.Date}, bytes as {@link io.dualwrite.jdbc.KeyBytes}), through
 * {@link io.dualwrite.jdbc.TableOps#canonicalKey} and {@link io.dualwrite.jdbc.TableOps#keyOf}. Keys are
 * compared, hashed and stored only in that form, and bound through it; a key column type without one is
 * refused at start-up.
 *
 * <p>On PostgreSQL, {@link io.dualwrite.jdbc.TableOps#copyUpsert} writes rows through {@code COPY}, in its text
 * format (package-private {@code CopyText}: escapes, {@code \N}, values formatted from their Java types, never
 * read back as strings), with the same guard and change test as the batched upsert; pgjdbc's own types appear in
 * {@code PostgresCopy} only, so the driver stays optional. On MariaDB and MySQL, {@link
 * io.dualwrite.jdbc.TableOps#loadDataUpsert} does the same through {@code LOAD DATA LOCAL INFILE} fed from a
 * stream (package-private {@code LoadDataText}: escapes including NUL, {@code \N}, binary as hex through
 * {@code UNHEX}); MariaDB Connector/J's own types appear in {@code MariaDbLoadData} only, and any warning of a load
 * is a failure, since {@code LOAD DATA LOCAL} reports as warnings what strict mode refuses.
 *
 * <p>Sharded stores: a {@link io.dualwrite.jdbc.TableOps} made {@link io.dualwrite.jdbc.TableOps#shardedOver} a
 * {@link io.dualwrite.jdbc.ShardLayout} runs each statement, in the same dialect SQL, on the physical tables that the
 * sharding engine's rule names (package-private {@code ShardedOps}), through the shard connections of a
 * {@link io.dualwrite.jdbc.ShardedStore}. The layout asks the engine; this package never computes a shard. A layout
 * without a rule (a sharded source given as a list of physical tables) sends keys to every shard and a row only to
 * the shard that holds its key; a key found on two shards is a {@link io.dualwrite.jdbc.DuplicateShardKeyException},
 * never merged. A sharded store's data source that is a {@link io.dualwrite.jdbc.ShardedHome} gives the OUTBOX rows
 * of an application transaction routed to it the engine's own connection to the home database in that transaction.
 *
 * <p>This package never decides <em>what</em> to copy or when; it only knows how to say it to each
 * store. It never concatenates a value into SQL (values are bound parameters, or COPY's and LOAD DATA's data
 * stream), and every
 * identifier it prints has been validated and quoted.
 */
package io.dualwrite.jdbc;
