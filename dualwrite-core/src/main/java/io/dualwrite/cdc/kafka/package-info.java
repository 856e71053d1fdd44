/**
 * Change-data capture from Debezium change topics on Kafka: the scale-out path for teams that already run
 * Debezium on Kafka Connect. The keys of the mapped tables' change events are handed to the mirror, the same
 * apply as the log readers of {@code io.dualwrite.cdc}.
 *
 * <p>Entry type: {@link io.dualwrite.cdc.kafka.DebeziumKafkaCapture}, configured by
 * {@link io.dualwrite.cdc.kafka.KafkaCdcConfig}, reporting {@link io.dualwrite.cdc.kafka.KafkaCdcStatus}. It
 * needs {@code org.springframework.kafka:spring-kafka} (an optional dependency the application adds). The
 * consumer group shared by the fleet gives each partition one reader; the group's committed offsets are the
 * checkpoint, committed per partition only up to the records whose keys the mirror has applied (a low
 * watermark, {@code PartitionWatermark}).
 *
 * <p>What it must never do: apply a row image from a topic (the apply reads the current state under the share
 * lock); commit an offset past a key not yet applied, or let the consumer auto-commit or reset past a gap;
 * read a key from a record it does not understand (a schema change, another table, a key of other columns
 * stops that table's capture instead).
 */
package io.dualwrite.cdc.kafka;
