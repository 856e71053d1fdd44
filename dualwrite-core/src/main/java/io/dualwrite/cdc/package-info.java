/**
 * Change-data capture: the keys of rows that writers outside the service changed, read from a store's own
 * change log and handed to the mirror whose primary that store is: the source's log to the forward mirror,
 * and during RAMP the target's log to the reverse mirror ({@code io.dualwrite.routing.ChangeLogRouting}
 * decides when each hands over, and makes ramp steps wait for both).
 *
 * <p>Entry types: {@link io.dualwrite.cdc.BinlogCapture} (MariaDB/MySQL ROW-format binary log, read with
 * {@code com.zendesk:mysql-binlog-connector-java}, an optional dependency the application adds) and
 * {@link io.dualwrite.cdc.PgLogicalCapture} (PostgreSQL logical decoding with the built-in {@code pgoutput}
 * plugin over pgjdbc's replication API), both a {@link io.dualwrite.cdc.ChangeLogCapture}, which holds what
 * they share: the low watermark, the lease in the position row, the hand-over to the mirror, status and
 * shut-down. Configured by {@link io.dualwrite.cdc.CdcConfig}. The position is kept in the target's
 * {@code dualwrite_cdc_position} table as a low watermark: the end of the last transaction whose keys have
 * all been applied, so a restart never leaves a gap (and a PostgreSQL slot is acknowledged only up to it). A
 * binary log position carries the server's GTID state when it has one, and is resumed by it, so it holds
 * across a failover to a replica and a purge of its file ({@link io.dualwrite.cdc.LogPosition}).
 * A sharded source ({@code io.dualwrite.shard.ShardedSource}) is read as its physical tables: the log names
 * {@code ds_1.t_order_3}, never {@code t_order}, so each physical table of a mapped table is captured under its own
 * name and layout and its keys are handed to the mapped table, whose apply finds the row's shard by key
 * (package-private {@code PhysicalTables}); a shard whose changes the log cannot show (another server, or for
 * PostgreSQL another database) is refused at start.
 * Where Debezium on Kafka Connect already publishes the source's changes, {@code io.dualwrite.cdc.kafka} consumes
 * its topics instead, with the group's committed offsets as the low watermark.
 *
 * <p>What it must never do: apply a row image from the log (the mirror's apply reads the current state
 * under the share lock, so every capture path keeps the same ordering argument); store (or acknowledge to
 * the server) a position beyond a key not yet applied; read a table's keys on with a layout it has not
 * verified (DDL stops that table's capture instead).
 */
package io.dualwrite.cdc;
