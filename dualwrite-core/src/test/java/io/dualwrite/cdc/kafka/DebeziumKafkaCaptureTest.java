package io.dualwrite.cdc.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.kafka.test.EmbeddedKafkaKraftBroker;
import org.springframework.kafka.test.utils.KafkaTestUtils;
import tools.jackson.databind.json.JsonMapper;

/**
 * The Debezium topic consumer against a real Kafka broker (spring-kafka-test's embedded KRaft broker, started
 * here) and real source and target databases, MariaDB to PostgreSQL and back. Rows are written by plain JDBC
 * connections that bypass the library; for each write the test produces the change event Debezium's
 * connector would, in Kafka Connect's JsonConverter shape (schema envelope on key and value, {@code op},
 * {@code before}, {@code after}, {@code source}), including the delete, tombstone and create of a key change.
 */
class DebeziumKafkaCaptureTest {

    private static final Duration CATCH_UP = Duration.ofSeconds(30);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final AtomicInteger RIGS = new AtomicInteger();

    private static EmbeddedKafkaKraftBroker broker;
    private static KafkaProducer<String, String> producer;

    @BeforeAll
    static void startBroker() {
        broker = new EmbeddedKafkaKraftBroker(1, 2);
        // A consumer group forms at once rather than after the default 3 s wait for more members.
        broker.brokerProperty("group.initial.rebalance.delay.ms", "0");
        broker.afterPropertiesSet();
        Map<String, Object> properties = KafkaTestUtils.producerProps(broker.getBrokersAsString());
        properties.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        properties.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, StringSerializer.class);
        producer = new KafkaProducer<>(properties);
    }

    @AfterAll
    static void stopBroker() {
        if (producer != null) {
            producer.close();
        }
        if (broker != null) {
            broker.destroy();
        }
    }

    /** Source and target with the order table, its Debezium topic (2 partitions), and what Debezium would emit. */
    private static final class Rig implements AutoCloseable {
        final TestDatabase source;
        final TestDatabase target;
        final MappedTables tables;
        final String topicPrefix;
        final String topic;
        final String group;
        final List<Mirror> mirrors = new ArrayList<>();
        final List<DebeziumKafkaCapture> captures = new ArrayList<>();
        int sent;
        int tombstones;
        /** The statement the next event's {@code source.query} carries (Debezium's include.query), or null. */
        String nextQuery;

        Rig(Store from, Store to, String prefix) throws SQLException {
            this.source = TestDatabase.create(from, prefix + "_s");
            this.target = TestDatabase.create(to, prefix + "_t");
            source.execute(OrderTable.ddl(from, "t_order"));
            target.execute(OrderTable.ddl(to, "t_order"));
            this.tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source.dataSource(),
                    target.dataSource(), false);
            int n = RIGS.incrementAndGet();
            this.topicPrefix = "dbz" + n;
            // The test's PostgreSQL database is a schema of that name (TestDatabase), a MariaDB one a database.
            this.topic = topicPrefix + "." + source.name() + ".t_order";
            this.group = "dualwrite-" + prefix + "-" + n;
            broker.addTopics(new NewTopic(topic, 2, (short) 1));
        }

        Mirror mirror(boolean start) throws SQLException {
            Mirror mirror = Mirror.create(MirrorConfig.builder().maxAttempts(1000).initialBackoff(Duration.ofMillis(20))
                    .maxBackoff(Duration.ofMillis(200)).shutdownTimeout(Duration.ofSeconds(1)).build(), tables,
                    source.dataSource(), target.dataSource(), new io.dualwrite.event.EventPublisher());
            if (start) {
                mirror.start();
            }
            mirrors.add(mirror);
            return mirror;
        }

        KafkaCdcConfig.Builder config() {
            return KafkaCdcConfig.builder().bootstrapServers(broker.getBrokersAsString()).groupId(group)
                    .topicPrefix(topicPrefix).startFrom(KafkaCdcConfig.StartFrom.EARLIEST)
                    .pollTimeout(Duration.ofMillis(50)).commitInterval(Duration.ofMillis(50))
                    // A crashed member that never left the group is dropped after this, not the default 45 s.
                    .consumerProperty("session.timeout.ms", 6000)
                    .consumerProperty("heartbeat.interval.ms", 500);
        }

        DebeziumKafkaCapture capture(Mirror mirror) throws SQLException {
            return capture(mirror, config().build());
        }

        DebeziumKafkaCapture capture(Mirror mirror, KafkaCdcConfig config) throws SQLException {
            DebeziumKafkaCapture capture = DebeziumKafkaCapture.create(config, tables, source.dataSource(), mirror);
            captures.add(capture);
            capture.start();
            return capture;
        }

        // ---- writes outside the service, and their Debezium events -----------------------------------

        Connection outside() throws SQLException {
            return DriverManager.getConnection(source.jdbcUrl(), source.username(), source.password());
        }

        void insert(Connection c, long id, String note) throws SQLException {
            jdbc(c, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES (?, 1, 'NEW', 2.50, ?,"
                    + " CURRENT_TIMESTAMP(3))", id, note);
            send(id, "c", null, row(c, id), true);
        }

        void update(Connection c, long id, String note) throws SQLException {
            Map<String, Object> before = row(c, id);
            jdbc(c, "UPDATE t_order SET note = ?, status = 'PAID', gmt_modified = CURRENT_TIMESTAMP(3) WHERE id = ?",
                    note, id);
            send(id, "u", before, row(c, id), true);
        }

        /** An update whose events use the JsonConverter without schemas ({@code schemas.enable=false}). */
        void updateWithoutSchemas(Connection c, long id, String note) throws SQLException {
            Map<String, Object> before = row(c, id);
            jdbc(c, "UPDATE t_order SET note = ? WHERE id = ?", note, id);
            send(id, "u", before, row(c, id), false);
        }

        void delete(Connection c, long id) throws SQLException {
            Map<String, Object> before = row(c, id);
            jdbc(c, "DELETE FROM t_order WHERE id = ?", id);
            send(id, "d", before, null, true);
            tombstone(id);
        }

        /** An update of the primary key: Debezium emits a delete and tombstone of the old key, a create of the new. */
        void changeKey(Connection c, long id, long newId) throws SQLException {
            Map<String, Object> before = row(c, id);
            jdbc(c, "UPDATE t_order SET id = ? WHERE id = ?", newId, id);
            send(id, "d", before, null, true);
            tombstone(id);
            send(newId, "c", null, row(c, newId), true);
        }

        /**
         * What the reverse mirror does with a change the target took: the same row state written into the source
         * by a statement of the library's. Debezium's event carries the statement when {@code withQuery}.
         */
        void libraryWrite(Connection c, long id, String note, boolean withQuery) throws SQLException {
            String sql = Dialect.MARKER + " UPDATE t_order SET note = ? WHERE id = ?";
            try (Connection t = target.dataSource().getConnection()) {
                jdbc(t, sql, note, id);
            }
            Map<String, Object> before = row(c, id);
            jdbc(c, sql, note, id);
            nextQuery = withQuery ? sql : null;
            send(id, "u", before, row(c, id), true);
        }

        void tombstone(long id) {
            produce(new ProducerRecord<>(topic, key(id, true), null));
            tombstones++;
        }

        void send(long id, String op, Map<String, Object> before, Map<String, Object> after, boolean schemas) {
            produce(new ProducerRecord<>(topic, key(id, schemas), value(op, before, after, schemas)));
        }

        void produce(ProducerRecord<String, String> record) {
            try {
                producer.send(record).get();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            sent++;
        }

        String key(long id, boolean schemas) {
            Map<String, Object> payload = Map.of("id", id);
            if (!schemas) {
                return json(payload);
            }
            return json(envelope(struct(topic + ".Key", false, List.of(field("id", "int64", null, false))), payload));
        }

        String value(String op, Map<String, Object> before, Map<String, Object> after, boolean schemas) {
            boolean postgres = source.store() == Store.POSTGRESQL;
            Map<String, Object> sourceInfo = new LinkedHashMap<>();
            sourceInfo.put("version", "3.1.2.Final");
            sourceInfo.put("connector", postgres ? "postgresql" : "mysql");
            sourceInfo.put("name", topicPrefix);
            sourceInfo.put("ts_ms", System.currentTimeMillis());
            sourceInfo.put("snapshot", "false");
            sourceInfo.put("db", source.name());
            if (postgres) {
                sourceInfo.put("schema", source.name());
            }
            sourceInfo.put("table", "t_order");
            if (nextQuery != null) {
                sourceInfo.put("query", nextQuery);
                nextQuery = null;
            }
            Map<String, Object> payload = new LinkedHashMap<>();
            payload.put("before", before);
            payload.put("after", after);
            payload.put("source", sourceInfo);
            payload.put("op", op);
            payload.put("ts_ms", System.currentTimeMillis());
            if (!schemas) {
                return json(payload);
            }
            List<Map<String, Object>> rowFields = List.of(field("id", "int64", null, false),
                    field("user_id", "int64", null, false), field("status", "string", null, false),
                    decimalField("amount", 2), field("note", "string", null, true),
                    field("gmt_modified", "int64", "io.debezium.time.Timestamp", false));
            List<Map<String, Object>> sourceFields = new ArrayList<>();
            sourceInfo.keySet().forEach(name -> sourceFields.add(field(name,
                    "ts_ms".equals(name) ? "int64" : "string", null, !"table".equals(name))));
            Map<String, Object> schema = struct(topic + ".Envelope", false, List.of(
                    named(struct(topic + ".Value", true, rowFields), "before"),
                    named(struct(topic + ".Value", true, rowFields), "after"),
                    named(struct("io.debezium.connector." + (postgres ? "postgresql" : "mysql") + ".Source", false,
                            sourceFields), "source"),
                    field("op", "string", null, false), field("ts_ms", "int64", null, true)));
            schema.put("version", 2);
            return json(envelope(schema, payload));
        }

        /** The row as Debezium's after image carries it (decimals as base64 bytes, times as epoch millis). */
        Map<String, Object> row(Connection c, long id) throws SQLException {
            try (PreparedStatement select = c.prepareStatement("SELECT id, user_id, status, amount, note, gmt_modified"
                    + " FROM t_order WHERE id = ?")) {
                select.setLong(1, id);
                try (ResultSet rs = select.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("no row " + id);
                    }
                    Map<String, Object> row = new LinkedHashMap<>();
                    row.put("id", rs.getLong(1));
                    row.put("user_id", rs.getLong(2));
                    row.put("status", rs.getString(3));
                    BigDecimal amount = rs.getBigDecimal(4);
                    row.put("amount", amount == null ? null
                            : Base64.getEncoder().encodeToString(amount.unscaledValue().toByteArray()));
                    row.put("note", rs.getString(5));
                    row.put("gmt_modified", rs.getTimestamp(6).getTime());
                    return row;
                }
            }
        }

        List<String> differences() {
            return OrderTable.differences(source, "t_order", target, "t_order", "id");
        }

        long targetRows() {
            return target.queryForObject("SELECT COUNT(*) FROM t_order", Long.class);
        }

        @Override
        public void close() {
            captures.forEach(DebeziumKafkaCapture::close);
            mirrors.forEach(Mirror::close);
            target.close();
            source.close();
        }
    }

    private static void jdbc(Connection c, String sql, Object... args) throws SQLException {
        try (PreparedStatement statement = c.prepareStatement(sql)) {
            for (int i = 0; i < args.length; i++) {
                statement.setObject(i + 1, args[i]);
            }
            statement.executeUpdate();
        }
    }

    private static Map<String, Object> envelope(Map<String, Object> schema, Object payload) {
        Map<String, Object> envelope = new LinkedHashMap<>();
        envelope.put("schema", schema);
        envelope.put("payload", payload);
        return envelope;
    }

    private static Map<String, Object> struct(String name, boolean optional, List<Map<String, Object>> fields) {
        Map<String, Object> struct = new LinkedHashMap<>();
        struct.put("type", "struct");
        struct.put("fields", fields);
        struct.put("optional", optional);
        struct.put("name", name);
        return struct;
    }

    private static Map<String, Object> named(Map<String, Object> schema, String field) {
        schema.put("field", field);
        return schema;
    }

    private static Map<String, Object> field(String name, String type, String logical, boolean optional) {
        Map<String, Object> field = new LinkedHashMap<>();
        field.put("type", type);
        field.put("optional", optional);
        if (logical != null) {
            field.put("name", logical);
            field.put("version", 1);
        }
        field.put("field", name);
        return field;
    }

    private static Map<String, Object> decimalField(String name, int scale) {
        Map<String, Object> field = field(name, "bytes", "org.apache.kafka.connect.data.Decimal", true);
        field.put("parameters", Map.of("scale", String.valueOf(scale), "connect.decimal.precision", "12"));
        return field;
    }

    private static String json(Object value) {
        return JSON.writeValueAsString(value);
    }

    static Stream<Arguments> directions() {
        return Stream.of(Arguments.of(Store.MARIADB, Store.POSTGRESQL), Arguments.of(Store.POSTGRESQL, Store.MARIADB));
    }

    /** Inserts 1..20, updates hot keys, deletes 16..18, moves 1..3 to 1001..1003. */
    private static void writeFixture(Rig rig) throws SQLException {
        try (Connection c = rig.outside()) {
            for (long id = 1; id <= 20; id++) {
                rig.insert(c, id, "n" + id);
            }
            for (int round = 0; round < 3; round++) {
                for (long id = 4; id <= 8; id++) {
                    rig.update(c, id, "round " + round);
                }
            }
            for (long id = 16; id <= 18; id++) {
                rig.delete(c, id);
            }
            for (long id = 1; id <= 3; id++) {
                rig.changeKey(c, id, 1000 + id);
            }
        }
    }

    @ParameterizedTest(name = "{0} to {1}")
    @MethodSource("directions")
    void outsideWritersThroughDebeziumTopics_converge_withKeyChangesAndTombstones(Store from, Store to)
            throws Exception {
        try (Rig rig = new Rig(from, to, "kcdc_conv")) {
            Mirror mirror = rig.mirror(true);
            DebeziumKafkaCapture capture = rig.capture(mirror);
            writeFixture(rig);
            try (Connection c = rig.outside()) {
                rig.updateWithoutSchemas(c, 9, "no schemas");
                // Written after the consumer started, while it is reading.
                rig.insert(c, 50, "late");
                rig.update(c, 50, "late, updated");
            }
            assertThat(capture.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.targetRows()).isEqualTo(18L);
            KafkaCdcStatus status = capture.status();
            assertThat(status.healthy()).isTrue();
            assertThat(status.records()).isEqualTo(rig.sent);
            assertThat(status.keysHanded()).isEqualTo(rig.sent);
            assertThat(status.tombstones()).isEqualTo(rig.tombstones).isEqualTo(6);
            assertThat(status.committed()).containsOnlyKeys(rig.topic + "-0", rig.topic + "-1");
            assertThat(status.committed().values().stream().mapToLong(Long::longValue).sum()).isEqualTo(rig.sent);
        }
    }

    @ParameterizedTest(name = "{0} to {1}")
    @MethodSource("directions")
    void crashBetweenReadingAndApplying_theGroupResumesFromTheCommittedWatermark_andNothingIsMissing(Store from,
            Store to) throws Exception {
        try (Rig rig = new Rig(from, to, "kcdc_crash")) {
            // The first instance reads the topic but its mirror never applies: it dies with the keys in memory.
            Mirror stalled = rig.mirror(false);
            DebeziumKafkaCapture first = rig.capture(stalled);
            writeFixture(rig);
            awaitRecords(first, rig.sent);
            Thread.sleep(300);
            assertThat(first.status().keysHanded()).isEqualTo(rig.sent);
            assertThat(first.status().committed().values()).as("the watermark waits for the unapplied keys")
                    .containsOnly(0L);
            assertThat(first.awaitCommittedPastEnd(Duration.ofMillis(100))).get().asString()
                    .contains("has committed only");
            first.crashForTesting();
            assertThat(rig.targetRows()).isZero();

            // The committed offsets win over where a group without them would start.
            Mirror mirror = rig.mirror(true);
            DebeziumKafkaCapture second = rig.capture(mirror, rig.config()
                    .startFrom(KafkaCdcConfig.StartFrom.LATEST).build());
            assertThat(second.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.targetRows()).isEqualTo(17L);
            assertThat(second.status().records()).as("re-delivered from the committed offsets")
                    .isEqualTo(rig.sent);
        }
    }

    /**
     * The library's own writes into the source come back on its topic: with the statement in the event
     * (Debezium's include.query) they are skipped and counted; without it the key is handed over, and the apply
     * finds the target current and changes nothing.
     */
    @ParameterizedTest(name = "{0} to {1}")
    @MethodSource("directions")
    void theLibrarysOwnWrites_areSkippedByTheirStatement_andAnEchoWithoutIt_changesNothing(Store from, Store to)
            throws Exception {
        try (Rig rig = new Rig(from, to, "kcdc_echo")) {
            Mirror mirror = rig.mirror(true);
            DebeziumKafkaCapture capture = rig.capture(mirror);
            try (Connection c = rig.outside()) {
                for (long id = 1; id <= 3; id++) {
                    rig.insert(c, id, "n" + id);
                }
            }
            assertThat(capture.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            long handed = capture.status().keysHanded();

            try (Connection c = rig.outside()) {
                rig.libraryWrite(c, 2, "from the target", true);
            }
            assertThat(capture.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(capture.status().echoesSkipped()).isEqualTo(1);
            assertThat(capture.status().keysHanded()).as("the echo is not handed over").isEqualTo(handed);

            try (Connection c = rig.outside()) {
                rig.libraryWrite(c, 3, "from the target, no statement", false);
            }
            assertThat(capture.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(capture.status().keysHanded()).as("without the statement it is handed over")
                    .isEqualTo(handed + 1);
            assertThat(capture.status().echoesSkipped()).isEqualTo(1);
            assertThat(rig.differences()).isEmpty();
            assertThat(rig.target.queryForObject("SELECT note FROM t_order WHERE id = 3", String.class))
                    .isEqualTo("from the target, no statement");
        }
    }

    /**
     * Two instances in one group: Kafka gives each one of the two partitions, each commits its own, and a
     * writer's changes converge; when one leaves, the other takes its partition over from the committed offset.
     */
    @Test
    void twoInstancesInOneGroup_shareThePartitions_andOneTakesOverWhenTheOtherLeaves() throws Exception {
        try (Rig rig = new Rig(Store.MARIADB, Store.POSTGRESQL, "kcdc_fleet")) {
            Mirror firstMirror = rig.mirror(true);
            Mirror secondMirror = rig.mirror(true);
            DebeziumKafkaCapture first = rig.capture(firstMirror);
            DebeziumKafkaCapture second = rig.capture(secondMirror);
            long deadline = System.nanoTime() + CATCH_UP.toNanos();
            while (first.status().committed().size() + second.status().committed().size() != 2
                    || first.status().committed().isEmpty() || second.status().committed().isEmpty()) {
                assertThat(System.nanoTime()).as(first.status() + " / " + second.status()).isLessThan(deadline);
                Thread.sleep(20);
            }
            writeFixture(rig);
            assertThat(first.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(rig.differences()).isEmpty();
            assertThat(first.status().records()).isPositive();
            assertThat(second.status().records()).isPositive();
            assertThat(first.status().records() + second.status().records()).isEqualTo(rig.sent);

            second.close();
            try (Connection c = rig.outside()) {
                for (long id = 60; id < 70; id++) {
                    rig.insert(c, id, "after the hand-over");
                }
            }
            assertThat(first.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(firstMirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(rig.differences()).isEmpty();
            assertThat(first.status().committed()).hasSize(2);
        }
    }

    @Test
    void withoutTheWatermark_committingTheReadOffsetLosesTheRowsOfACrash() throws Exception {
        try (Rig rig = new Rig(Store.MARIADB, Store.POSTGRESQL, "kcdc_nowm")) {
            Mirror stalled = rig.mirror(false);
            DebeziumKafkaCapture first = rig.capture(stalled);
            first.commitReadOffsetForTesting();
            writeFixture(rig);
            awaitRecords(first, rig.sent);
            assertThat(first.awaitCommittedPastEnd(CATCH_UP)).as("committed as read").isEmpty();
            first.crashForTesting();

            Mirror mirror = rig.mirror(true);
            DebeziumKafkaCapture second = rig.capture(mirror);
            assertThat(second.awaitCommittedPastEnd(CATCH_UP)).isEmpty();
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            assertThat(second.status().records()).isZero();
            assertThat(rig.differences()).hasSize(17);
        }
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                Arguments.of("a key of other columns",
                        "{\"schema\":{\"type\":\"struct\",\"fields\":[{\"type\":\"int64\",\"optional\":false,"
                                + "\"field\":\"id\"},{\"type\":\"int32\",\"optional\":false,\"field\":\"tenant_id\"}],"
                                + "\"optional\":false,\"name\":\"x.Key\"},\"payload\":{\"id\":2,\"tenant_id\":7}}",
                        "{\"op\":\"c\",\"before\":null,\"after\":{\"id\":2,\"tenant_id\":7},"
                                + "\"source\":{\"table\":\"t_order\"}}",
                        "the key has field(s) [tenant_id] that are not key columns of the table (its key is [id]):"
                                + " the table's key changed, a schema change"),
                Arguments.of("a schema change event",
                        "{\"id\":2}",
                        "{\"source\":{\"table\":\"t_order\"},\"databaseName\":\"shop\",\"ddl\":\"ALTER TABLE t_order"
                                + " ADD COLUMN tenant_id INT\",\"tableChanges\":[]}",
                        "a schema change event on the table's topic (\"ALTER TABLE t_order ADD COLUMN tenant_id"
                                + " INT\"): the table's layout may have changed under the mapping"),
                Arguments.of("another table's change",
                        "{\"id\":2}",
                        "{\"op\":\"c\",\"before\":null,\"after\":{\"id\":2},\"source\":{\"table\":\"t_customer\"}}",
                        "a change of table 't_customer', which is not the mapped table 't_order' this topic was"
                                + " configured for (check dualwrite.capture.cdc.kafka.topics)"),
                Arguments.of("a truncation",
                        "{\"id\":2}",
                        "{\"op\":\"t\",\"source\":{\"table\":\"t_order\"}}",
                        "a TRUNCATE of the table: Debezium names no keys for it"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refusals")
    void aRecordThatIsNotAKeyOfTheMappedTable_stopsTheTable_andItsOffsetStaysBeforeTheRecord(String what,
            String key, String value, String reason) throws Exception {
        try (Rig rig = new Rig(Store.MARIADB, Store.POSTGRESQL, "kcdc_refuse")) {
            Mirror mirror = rig.mirror(true);
            DebeziumKafkaCapture capture = rig.capture(mirror);
            try (Connection c = rig.outside()) {
                jdbc(c, "INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified) VALUES"
                        + " (1, 1, 'NEW', 1.00, 'before', NOW(3)), (3, 1, 'NEW', 1.00, 'after', NOW(3))");
            }
            // One partition, so that the order is the topic's: row 1, the refused record, row 3.
            rig.produce(new ProducerRecord<>(rig.topic, 0, rig.key(1, true), rig.value("c", null, Map.of("id", 1),
                    true)));
            rig.produce(new ProducerRecord<>(rig.topic, 0, key, value));
            rig.produce(new ProducerRecord<>(rig.topic, 0, rig.key(3, true), rig.value("c", null, Map.of("id", 3),
                    true)));
            long deadline = System.nanoTime() + CATCH_UP.toNanos();
            while (capture.status().committed().getOrDefault(rig.topic + "-0", 0L) < 1
                    && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertThat(mirror.awaitDrained(CATCH_UP)).isTrue();
            Thread.sleep(300);
            KafkaCdcStatus status = capture.status();
            assertThat(status.stoppedTables()).containsOnlyKeys("t_order");
            assertThat(status.stoppedTables().get("t_order")).startsWith("record " + rig.topic + "-0@1 of topic '"
                    + rig.topic + "': " + reason).endsWith("the table's capture stopped (its offsets stay before the"
                    + " record): fix the mapping or the topic and restart, or move the group's offset past the record"
                    + " by hand");
            assertThat(status.healthy()).isFalse();
            assertThat(status.committed()).containsEntry(rig.topic + "-0", 1L);
            assertThat(rig.target.queryForList("SELECT id FROM t_order")).as("row 1 applied, row 3 not read")
                    .extracting(row -> ((Number) row.get("id")).longValue()).containsExactly(1L);
            assertThat(capture.awaitCommittedPastEnd(Duration.ofMillis(100))).get().asString()
                    .contains("stopped tables");

            // A restart in the same group reads the refused record again and refuses it again: never skipped.
            capture.close();
            DebeziumKafkaCapture again = rig.capture(mirror);
            awaitRecords(again, 1);
            Thread.sleep(200);
            assertThat(again.status().stoppedTables()).containsOnlyKeys("t_order");
            assertThat(again.status().committed()).containsEntry(rig.topic + "-0", 1L);
        }
    }

    @Test
    void tablesWithoutATopic_andTopicsForUnmappedTables_areListedAtCreation() throws Exception {
        try (Rig rig = new Rig(Store.MARIADB, Store.POSTGRESQL, "kcdc_cfg")) {
            Mirror mirror = rig.mirror(false);
            KafkaCdcConfig noPrefix = KafkaCdcConfig.builder().bootstrapServers(broker.getBrokersAsString())
                    .topic("t_customer", "shop.t_customer").build();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> DebeziumKafkaCapture.create(noPrefix, rig.tables,
                    rig.source.dataSource(), mirror)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessage("the Debezium topic consumer cannot start:\n  - dualwrite.capture.cdc.kafka.topics"
                            + ".t_order: table 't_order' has no topic; name it, or set"
                            + " dualwrite.capture.cdc.kafka.topic-prefix to Debezium's topic.prefix\n  -"
                            + " dualwrite.capture.cdc.kafka.topics.t_customer: 't_customer' is not a mapped table"
                            + " (mapped: [t_order])");
            DebeziumKafkaCapture named = DebeziumKafkaCapture.create(rig.config().topic("T_ORDER", "routed.orders")
                    .build(), rig.tables, rig.source.dataSource(), mirror);
            assertThat(named.topics()).containsExactly(Map.entry("t_order", "routed.orders"));
            assertThat(DebeziumKafkaCapture.create(rig.config().build(), rig.tables, rig.source.dataSource(), mirror)
                    .topics()).containsExactly(Map.entry("t_order", rig.topic));
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> rig.config().consumerProperty("enable.auto.commit",
                    true)).hasMessageStartingWith("dualwrite.capture.cdc.kafka.properties.enable.auto.commit: set by"
                    + " the consumer itself");
        }
    }

    private static void awaitRecords(DebeziumKafkaCapture capture, long records) throws InterruptedException {
        long deadline = System.nanoTime() + CATCH_UP.toNanos();
        while (capture.status().records() < records) {
            assertThat(System.nanoTime()).as("records read: " + capture.status()).isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
