package io.dualwrite.cdc.kafka;

import io.dualwrite.capture.Change;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.DefaultKafkaConsumerFactory;

/**
 * Change-data capture from Debezium change topics on Kafka, for teams that already run Debezium on Kafka
 * Connect: the keys of the mapped tables' change events are handed to the {@link Mirror}, the same apply as
 * the log readers of {@code io.dualwrite.cdc} and in-process capture.
 *
 * <pre>{@code
 * DebeziumKafkaCapture capture = DebeziumKafkaCapture.create(config, tables, source, mirror);
 * capture.start();
 * ...
 * capture.awaitCommittedPastEnd(Duration.ofSeconds(30));   // before a step out of DUAL_WRITE
 * capture.close();
 * }</pre>
 *
 * <p><b>Keys only.</b> Each record's key (Kafka Connect's {@code JsonConverter} form, with or without the
 * schema envelope) names the changed row; its value says only whether it is a row change ({@code op} c, r, u
 * or d) or a tombstone, both handed over as the key (an update that changes the key is, in Debezium, a delete
 * of the old key and a create of the new one: both reach the mirror). The row images are never applied: the
 * mirror reads the current state under the share lock, so a key seen twice, or late, is harmless.
 *
 * <p><b>The committed offset is a low watermark.</b> The race it prevents: a consumer that committed the
 * offset of the records it <em>read</em> and then died before the mirror applied their keys would leave the
 * group resuming after them, and their rows stale in the target. So the offset committed for a partition is
 * its {@link PartitionWatermark}: the end of the last poll whose keys the mirror has applied (or spilled, or
 * parked), read from {@link Mirror#oldestUnappliedNanos()} as the log readers do. Offsets are never
 * auto-committed; a crash or a rebalance re-delivers from the watermark, never skips.
 * {@link #crashForTesting()} dies between reading and applying, and {@link #commitReadOffsetForTesting()} is
 * the negative control.
 *
 * <p><b>One reader per partition.</b> Every instance of the fleet joins the same consumer group; Kafka gives
 * each partition to one of them, and on a rebalance the partitions given up are committed at their watermark
 * first. No lease is needed.
 *
 * <p><b>Refusals stop a table, never a guess.</b> A record this consumer cannot read a key of the mapped
 * table from (a key of other columns, a schema change event, a truncation, a change of another table, a key
 * type it does not decode) stops that table's capture with the reason ({@link KafkaCdcStatus#stoppedTables()},
 * health DOWN): its partitions are paused and their offsets stay before the refused record, so a restart
 * after the fix (a mapping that matches, or the group's offset moved past the record by hand) reads it again.
 * A committed offset that the topic's retention has deleted fails the consumer rather than skipping to an
 * end: changes in between would be lost.
 *
 * <p>Threads: one consumer thread polls, hands over, commits and answers the rebalance callbacks; the Kafka
 * consumer is touched by no other thread (only {@code wakeup}).
 */
public final class DebeziumKafkaCapture implements AutoCloseable {

    private static final Log log = LogFactory.getLog(DebeziumKafkaCapture.class);

    /** The consumer's state. */
    public enum State {
        /** Created, not started. */
        NEW,
        /** Consuming its partitions. */
        RUNNING,
        /** Stopped on an error it cannot consume past; the committed offsets stay before it. */
        FAILED,
        /** Closed. */
        CLOSED
    }

    /** A mapped table and the topic its changes are on. */
    private record TableTopic(MappedTable table, String topic, DebeziumEvent events) {
    }

    private final KafkaCdcConfig config;
    private final Mirror mirror;
    private final Map<String, TableTopic> byTopic;
    private final ConsumerFactory<byte[], byte[]> consumerFactory;
    private final Map<String, String> stopped = new ConcurrentHashMap<>();
    private final AtomicLong keysHanded = new AtomicLong();
    private final AtomicLong keysNotHanded = new AtomicLong();
    private final AtomicLong tombstones = new AtomicLong();
    private final AtomicLong echoesSkipped = new AtomicLong();
    private final AtomicLong records = new AtomicLong();
    /** The consumer thread's partitions; touched only on that thread. */
    private final Map<TopicPartition, PartitionWatermark> partitions = new HashMap<>();
    private final CountDownLatch ended = new CountDownLatch(1);
    private volatile State state = State.NEW;
    private volatile String problem;
    private volatile BooleanSupplier handingOver = () -> true;
    private volatile boolean stopping;
    private volatile boolean crashing;
    private volatile boolean commitRead;
    private volatile Map<String, Long> committedView = Map.of();
    private volatile long recordsBehind = -1;
    private volatile long oldestWaitingNanos = Long.MAX_VALUE;
    private Consumer<byte[], byte[]> consumer;
    private Thread thread;
    private long lastHandedNanos = Long.MIN_VALUE;
    private long lastCommitNanos;

    private DebeziumKafkaCapture(KafkaCdcConfig config, Mirror mirror, Map<String, TableTopic> byTopic) {
        this.config = config;
        this.mirror = mirror;
        this.byTopic = byTopic;
        Map<String, Object> properties = new HashMap<>(config.consumerProperties());
        properties.putIfAbsent(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        properties.putIfAbsent(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, config.bootstrapServers());
        properties.put(ConsumerConfig.GROUP_ID_CONFIG, config.groupId());
        properties.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        // Where a partition without a committed offset starts is set by a seek (startFrom); an offset the
        // topic no longer has must fail, not silently jump.
        properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        this.consumerFactory = new DefaultKafkaConsumerFactory<>(properties, ByteArrayDeserializer::new,
                ByteArrayDeserializer::new);
    }

    /**
     * Creates the consumer for the mapped tables; nothing is read until {@link #start()}.
     *
     * @param config the brokers, group and topics
     * @param tables the mapped tables, each read from its Debezium topic
     * @param source the source store, to name the database (MariaDB/MySQL) or schema (PostgreSQL) in the
     *     default topic names
     * @param mirror the mirror the keys are handed to
     * @return the consumer
     * @throws IllegalArgumentException listing every table without a topic (no prefix and none named), every
     *     topic named for a table that is not mapped, and every topic shared by two tables
     * @throws SQLException if the source cannot be reached
     */
    public static DebeziumKafkaCapture create(KafkaCdcConfig config, MappedTables tables, DataSource source,
            Mirror mirror) throws SQLException {
        Objects.requireNonNull(config, "config");
        Objects.requireNonNull(tables, "tables");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(mirror, "mirror");
        String namespace;
        try (Connection connection = source.getConnection()) {
            boolean postgres = "PostgreSQL".equalsIgnoreCase(connection.getMetaData().getDatabaseProductName());
            namespace = postgres || connection.getCatalog() == null ? connection.getSchema() : connection.getCatalog();
        }
        List<String> problems = new ArrayList<>();
        Map<String, TableTopic> byTopic = new LinkedHashMap<>();
        Set<String> mapped = new HashSet<>();
        for (MappedTable table : tables.all()) {
            mapped.add(table.name().toLowerCase(java.util.Locale.ROOT));
            String topic = config.topicFor(table.name());
            if (topic == null && config.topicPrefix() == null) {
                problems.add("dualwrite.capture.cdc.kafka.topics." + table.name() + ": table '" + table.name()
                        + "' has no topic; name it, or set dualwrite.capture.cdc.kafka.topic-prefix to Debezium's"
                        + " topic.prefix");
                continue;
            }
            if (topic == null) {
                String schema = table.source().table().schema();
                topic = config.topicPrefix() + "." + (schema != null ? schema : namespace) + "."
                        + table.source().table().name();
            }
            TableTopic previous = byTopic.put(topic, new TableTopic(table, topic, new DebeziumEvent(table)));
            if (previous != null) {
                problems.add("dualwrite.capture.cdc.kafka.topics: tables '" + previous.table().name() + "' and '"
                        + table.name() + "' both read topic '" + topic + "'; a topic carries one table's changes");
            }
        }
        for (String named : config.topics().keySet()) {
            if (!mapped.contains(named)) {
                problems.add("dualwrite.capture.cdc.kafka.topics." + named + ": '" + named + "' is not a mapped"
                        + " table (mapped: " + tables.all().stream().map(MappedTable::name).toList() + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the Debezium topic consumer cannot start:\n  - "
                    + String.join("\n  - ", problems));
        }
        return new DebeziumKafkaCapture(config, mirror, byTopic);
    }

    /** @return the topic each mapped table is read from (table name to topic) */
    public Map<String, String> topics() {
        Map<String, String> topics = new LinkedHashMap<>();
        byTopic.values().forEach(t -> topics.put(t.table().name(), t.topic()));
        return topics;
    }

    /**
     * Sets when keys read are handed to the mirror; while the supplier says false they are counted
     * ({@link KafkaCdcStatus#keysNotHanded()}) and their offsets pass. The starter hands them over while the
     * migration mirrors source writes (DUAL_WRITE, and a step into or out of it).
     *
     * @param handOver whether keys read now are handed over
     * @return this consumer
     * @throws NullPointerException if {@code handOver} is null
     */
    public DebeziumKafkaCapture handOverWhile(BooleanSupplier handOver) {
        this.handingOver = Objects.requireNonNull(handOver, "handOver");
        return this;
    }

    /** Joins the consumer group, subscribes to the mapped tables' topics and starts the consumer thread. */
    public synchronized void start() {
        if (state != State.NEW) {
            return;
        }
        consumer = consumerFactory.createConsumer(config.groupId(), "dualwrite-cdc", null);
        consumer.subscribe(byTopic.keySet(), new Rebalance());
        state = State.RUNNING;
        thread = new Thread(this::run, "dualwrite-cdc-kafka");
        thread.setDaemon(true);
        thread.start();
        log.info("dualwrite: change-data capture consumes Debezium topics " + byTopic.keySet() + " as group '"
                + config.groupId() + "' from " + config.bootstrapServers());
    }

    // ------------------------------------------------------------------------------------------------
    // The consumer thread
    // ------------------------------------------------------------------------------------------------

    private void run() {
        try {
            while (!stopping) {
                ConsumerRecords<byte[], byte[]> polled = consumer.poll(config.pollTimeout());
                if (crashing) {
                    return;
                }
                handle(polled);
                if (System.nanoTime() - lastCommitNanos >= config.commitInterval().toNanos()) {
                    commit(partitions.keySet());
                }
                publish();
            }
            commit(partitions.keySet());
            publish();
        } catch (WakeupException e) {
            if (!stopping) {
                fail("woken up unexpectedly", e);
            }
        } catch (org.apache.kafka.clients.consumer.OffsetOutOfRangeException e) {
            fail("the committed offsets " + e.offsetOutOfRangePartitions() + " are no longer in their topics (the"
                    + " topic's retention deleted records not yet applied): changes in between may be missing from"
                    + " the target; verify and repair the tables, then move the group's offsets"
                    + " (kafka-consumer-groups --reset-offsets)", e);
        } catch (RuntimeException e) {
            fail(e.getMessage(), e);
        } finally {
            try {
                consumer.close(crashing ? Duration.ZERO : Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                log.debug("dualwrite: the Debezium topic consumer did not close cleanly", e);
            }
            ended.countDown();
        }
    }

    private void fail(String why, RuntimeException e) {
        problem = "the Debezium topic consumer stopped: " + why;
        state = State.FAILED;
        log.error("dualwrite: " + problem, e);
    }

    /** What one poll did to one partition. */
    private static final class Read {
        long after = -1;
        boolean keys;
        long refusedAt = -1;
    }

    private void handle(ConsumerRecords<byte[], byte[]> polled) {
        if (polled.isEmpty()) {
            return;
        }
        List<Change> changes = new ArrayList<>();
        Map<TopicPartition, Read> reads = new LinkedHashMap<>();
        for (TopicPartition partition : polled.partitions()) {
            PartitionWatermark watermark = partitions.get(partition);
            TableTopic topic = byTopic.get(partition.topic());
            if (watermark == null || topic == null || watermark.blocked()) {
                continue;
            }
            Read read = new Read();
            reads.put(partition, read);
            for (ConsumerRecord<byte[], byte[]> record : polled.records(partition)) {
                if (stopped.containsKey(topic.table().name())) {
                    // Another partition of the table was refused in this poll: nothing more of it is read.
                    read.refusedAt = record.offset();
                    break;
                }
                records.incrementAndGet();
                DebeziumEvent.Outcome outcome = topic.events().read(record.key(), record.value());
                if (outcome.isRefused()) {
                    read.refusedAt = record.offset();
                    stopTable(topic, partition, record.offset(), outcome.refusal());
                    break;
                }
                read.after = record.offset() + 1;
                if (outcome.echo()) {
                    echoesSkipped.incrementAndGet();
                    continue;
                }
                if (outcome.tombstone()) {
                    tombstones.incrementAndGet();
                }
                changes.add(new Change(topic.table().name(), outcome.key()));
                read.keys = true;
            }
        }
        boolean handOver = !changes.isEmpty() && handingOver.getAsBoolean();
        long handedAt = 0;
        if (handOver) {
            long now = System.nanoTime();
            handedAt = lastHandedNanos = now > lastHandedNanos ? now : lastHandedNanos + 1;
            mirror.captured(changes, handedAt);
            keysHanded.addAndGet(changes.size());
        } else {
            keysNotHanded.addAndGet(changes.size());
        }
        for (Map.Entry<TopicPartition, Read> entry : reads.entrySet()) {
            PartitionWatermark watermark = partitions.get(entry.getKey());
            Read read = entry.getValue();
            if (read.after >= 0) {
                if (handOver && read.keys) {
                    watermark.handedOver(handedAt, read.after);
                } else {
                    watermark.passed(read.after);
                }
            }
            if (read.refusedAt >= 0) {
                watermark.block(read.refusedAt);
            }
        }
    }

    private void stopTable(TableTopic topic, TopicPartition partition, long offset, String why) {
        String reason = "record " + partition + "@" + offset + " of topic '" + topic.topic() + "': " + why
                + "; the table's capture stopped (its offsets stay before the record): fix the mapping or the"
                + " topic and restart, or move the group's offset past the record by hand";
        if (stopped.putIfAbsent(topic.table().name(), reason) == null) {
            log.error("dualwrite: change-data capture of table '" + topic.table().name() + "' STOPPED: " + reason);
        }
        // Paused, the table's other partitions return nothing more, so their watermarks stay where they were
        // read up to (those later in this poll are held at their first record by handle()).
        List<TopicPartition> paused = new ArrayList<>();
        for (TopicPartition assigned : consumer.assignment()) {
            if (assigned.topic().equals(topic.topic())) {
                paused.add(assigned);
            }
        }
        consumer.pause(paused);
    }

    /** Commits the watermark of the given partitions where it moved. */
    private void commit(Collection<TopicPartition> which) {
        lastCommitNanos = System.nanoTime();
        OptionalLong oldestUnapplied = mirror.oldestUnappliedNanos();
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition partition : which) {
            PartitionWatermark watermark = partitions.get(partition);
            if (watermark == null) {
                continue;
            }
            long safe = commitRead ? watermark.read() : watermark.advance(oldestUnapplied);
            if (safe > watermark.committed()) {
                offsets.put(partition, new OffsetAndMetadata(safe));
            }
        }
        if (offsets.isEmpty()) {
            return;
        }
        try {
            consumer.commitSync(offsets);
            offsets.forEach((partition, offset) -> partitions.get(partition).committed(offset.offset()));
        } catch (org.apache.kafka.common.KafkaException e) {
            // A rebalance in progress, or the brokers away: the offsets stay behind, which re-delivers, never skips.
            log.warn("dualwrite: the Debezium topic consumer could not commit " + offsets + ": " + e.getMessage());
        }
    }

    private void publish() {
        Map<String, Long> committed = new TreeMap<>();
        long behind = 0;
        long oldest = Long.MAX_VALUE;
        for (Map.Entry<TopicPartition, PartitionWatermark> entry : partitions.entrySet()) {
            committed.put(entry.getKey().toString(), entry.getValue().committed());
            OptionalLong lag = consumer.currentLag(entry.getKey());
            behind = behind < 0 || lag.isEmpty() ? -1 : behind + lag.getAsLong();
            OptionalLong waiting = entry.getValue().oldestWaitingNanos();
            if (waiting.isPresent()) {
                oldest = Math.min(oldest, waiting.getAsLong());
            }
        }
        committedView = committed;
        recordsBehind = behind;
        oldestWaitingNanos = oldest;
    }

    /** Commits given-up partitions at their watermark; starts new ones at their committed offset or startFrom. */
    private final class Rebalance implements ConsumerRebalanceListener {

        @Override
        public void onPartitionsRevoked(Collection<TopicPartition> revoked) {
            if (!crashing) {
                commit(revoked);
            }
            revoked.forEach(partitions::remove);
        }

        @Override
        public void onPartitionsLost(Collection<TopicPartition> lost) {
            lost.forEach(partitions::remove);
        }

        @Override
        public void onPartitionsAssigned(Collection<TopicPartition> assigned) {
            if (assigned.isEmpty()) {
                return;
            }
            Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(new HashSet<>(assigned));
            List<TopicPartition> fresh = new ArrayList<>();
            for (TopicPartition partition : assigned) {
                if (committed.get(partition) == null) {
                    fresh.add(partition);
                }
            }
            // Every seek before the first position(): that looks up all assigned partitions' positions, and one
            // without an offset would fail under the reset policy "none".
            // Never with an empty list: Kafka reads that as every assigned partition, and would move the ones
            // with a committed offset to an end.
            if (!fresh.isEmpty() && config.startFrom() == KafkaCdcConfig.StartFrom.EARLIEST) {
                consumer.seekToBeginning(fresh);
            } else if (!fresh.isEmpty()) {
                consumer.seekToEnd(fresh);
            }
            Map<TopicPartition, OffsetAndMetadata> first = new HashMap<>();
            List<TopicPartition> paused = new ArrayList<>();
            for (TopicPartition partition : assigned) {
                OffsetAndMetadata offset = committed.get(partition);
                long start;
                if (offset != null) {
                    start = offset.offset();
                } else {
                    start = consumer.position(partition);
                    // From here on nothing is missed, even if this instance dies before its first commit.
                    first.put(partition, new OffsetAndMetadata(start));
                }
                PartitionWatermark watermark = new PartitionWatermark(start);
                TableTopic topic = byTopic.get(partition.topic());
                if (topic != null && stopped.containsKey(topic.table().name())) {
                    watermark.block(start);
                    paused.add(partition);
                }
                partitions.put(partition, watermark);
            }
            if (!first.isEmpty()) {
                try {
                    consumer.commitSync(first);
                } catch (org.apache.kafka.common.KafkaException e) {
                    // Committed by the next commit instead, which sees nothing committed yet.
                    first.keySet().forEach(partition -> partitions.get(partition).committed(-1));
                    log.warn("dualwrite: the Debezium topic consumer could not commit the starting offsets " + first
                            + ": " + e.getMessage());
                }
            }
            if (!paused.isEmpty()) {
                consumer.pause(paused);
            }
        }
    }

    // ------------------------------------------------------------------------------------------------
    // Status, waiting and shut-down
    // ------------------------------------------------------------------------------------------------

    /**
     * What the consumer is doing: its state, the offsets committed per partition, the log lag (records
     * behind the partitions' ends) apart from the apply lag (how long the oldest records read wait for the
     * mirror), counts, and the tables whose capture stopped, with why.
     *
     * @return a snapshot
     */
    public KafkaCdcStatus status() {
        long oldest = oldestWaitingNanos;
        Duration applyLag = oldest == Long.MAX_VALUE ? Duration.ZERO
                : Duration.ofNanos(Math.max(0, System.nanoTime() - oldest));
        return new KafkaCdcStatus(state, problem, committedView, recordsBehind, applyLag, keysHanded.get(),
                keysNotHanded.get(), tombstones.get(), echoesSkipped.get(), records.get(), new LinkedHashMap<>(stopped));
    }

    /**
     * Waits until the group's committed offsets (whichever instance of the fleet reads each partition) have
     * reached the mapped topics' ends as of this call: every change on the topics before the call has been
     * applied. A step out of DUAL_WRITE runs it first, since keys read after the step are no longer handed
     * over.
     *
     * @param timeout the longest wait
     * @return empty once reached; otherwise why not, for the step's refusal
     * @throws InterruptedException if interrupted while waiting
     */
    public Optional<String> awaitCommittedPastEnd(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Consumer<byte[], byte[]> look = consumerFactory.createConsumer(config.groupId(), "dualwrite-cdc-look",
                null)) {
            Set<TopicPartition> all = new HashSet<>();
            for (String topic : byTopic.keySet()) {
                List<PartitionInfo> infos = look.partitionsFor(topic, timeout);
                if (infos != null) {
                    infos.forEach(info -> all.add(new TopicPartition(info.topic(), info.partition())));
                }
            }
            Map<TopicPartition, Long> ends = look.endOffsets(all, timeout);
            Map<TopicPartition, Long> behind = new TreeMap<>(java.util.Comparator.comparing(TopicPartition::toString));
            while (true) {
                behind.clear();
                Map<TopicPartition, OffsetAndMetadata> committed = look.committed(all, timeout);
                ends.forEach((partition, end) -> {
                    OffsetAndMetadata at = committed.get(partition);
                    if (end > 0 && (at == null || at.offset() < end)) {
                        behind.put(partition, at == null ? -1 : at.offset());
                    }
                });
                if (behind.isEmpty()) {
                    return Optional.empty();
                }
                if (System.nanoTime() >= deadline || state == State.FAILED) {
                    return Optional.of("the Debezium topic consumer has committed only " + behind + " of the ends "
                            + ends + " after " + timeout + (state == State.FAILED ? " (it STOPPED: " + problem + ")"
                            : stopped.isEmpty() ? "" : " (stopped tables: " + stopped + ")")
                            + "; changes outside the service read after the step would not be mirrored");
                }
                Thread.sleep(20);
            }
        }
    }

    /**
     * Test switch, the negative control of the watermark: from now on the offset committed is the one after
     * the last record read, whether or not its keys were applied.
     */
    public void commitReadOffsetForTesting() {
        this.commitRead = true;
    }

    /**
     * Test switch: dies like a killed process, between reading and applying: the consumer thread stops at
     * once, records polled are dropped, nothing more is committed, and keys handed over and not yet applied
     * are left where they are.
     *
     * @throws InterruptedException if interrupted while waiting for the thread
     */
    public void crashForTesting() throws InterruptedException {
        crashing = true;
        stopping = true;
        endThread();
        state = State.CLOSED;
    }

    /** Commits the last watermark, leaves the group and stops the consumer thread. */
    @Override
    public synchronized void close() {
        if (state == State.CLOSED || state == State.NEW) {
            state = State.CLOSED;
            return;
        }
        stopping = true;
        try {
            endThread();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        state = State.CLOSED;
    }

    private void endThread() throws InterruptedException {
        Consumer<byte[], byte[]> running = consumer;
        if (running == null || thread == null) {
            return;
        }
        if (crashing) {
            running.wakeup();
        }
        if (!ended.await(config.pollTimeout().toMillis() + 10_000, TimeUnit.MILLISECONDS)) {
            running.wakeup();
            ended.await(10, TimeUnit.SECONDS);
        }
    }
}
