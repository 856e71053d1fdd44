package io.dualwrite.cdc.kafka;

import io.dualwrite.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Settings of the consumer of Debezium change topics: the brokers, the consumer group the fleet shares, the
 * topic of each mapped table, and how often the low watermark is committed. Immutable; built and validated
 * by {@link #builder()}.
 *
 * <pre>{@code
 * KafkaCdcConfig config = KafkaCdcConfig.builder()
 *         .bootstrapServers("kafka-1:9092,kafka-2:9092")
 *         .groupId("orders-dualwrite")          // shared by every instance: one reader per partition
 *         .topicPrefix("orders")                // Debezium's topic.prefix
 *         .topic("t_order", "orders.legacy.t_order_v2")  // where a table's topic is named otherwise
 *         .build();
 * }</pre>
 */
public final class KafkaCdcConfig {

    /** Where a consumer group without a committed offset starts reading a partition. */
    public enum StartFrom {
        /** At the partition's end when the consumer first joins: changes before it are the backfill's work. */
        LATEST,
        /** At the partition's beginning: every change (and Debezium's snapshot records) still kept. */
        EARLIEST
    }

    private final String bootstrapServers;
    private final String groupId;
    private final String topicPrefix;
    private final Map<String, String> topics;
    private final StartFrom startFrom;
    private final Duration pollTimeout;
    private final Duration commitInterval;
    private final Map<String, Object> consumerProperties;

    private KafkaCdcConfig(Builder builder) {
        this.bootstrapServers = builder.bootstrapServers;
        this.groupId = builder.groupId;
        this.topicPrefix = builder.topicPrefix;
        this.topics = Map.copyOf(builder.topics);
        this.startFrom = builder.startFrom;
        this.pollTimeout = builder.pollTimeout;
        this.commitInterval = builder.commitInterval;
        this.consumerProperties = Map.copyOf(builder.consumerProperties);
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the brokers, {@code host:port} separated by commas */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    /** @return the consumer group shared by every instance of the fleet */
    public String groupId() {
        return groupId;
    }

    /** @return Debezium's {@code topic.prefix}, or null when every table's topic is named */
    public String topicPrefix() {
        return topicPrefix;
    }

    /** @return the topics named per mapped source table (lower-cased table name to topic) */
    public Map<String, String> topics() {
        return topics;
    }

    /** @return where a partition without a committed offset is read from */
    public StartFrom startFrom() {
        return startFrom;
    }

    /** @return the longest wait of one poll of the brokers */
    public Duration pollTimeout() {
        return pollTimeout;
    }

    /** @return how often the low watermark is committed as the group's offsets */
    public Duration commitInterval() {
        return commitInterval;
    }

    /** @return further Kafka consumer properties (security, timeouts), passed on as given */
    public Map<String, Object> consumerProperties() {
        return consumerProperties;
    }

    /**
     * @param table a mapped source table's configured name
     * @return the topic named for it, or null when it follows the prefix
     */
    String topicFor(String table) {
        return topics.get(table.toLowerCase(Locale.ROOT));
    }

    @Override
    public String toString() {
        return "KafkaCdcConfig[" + bootstrapServers + ", group=" + groupId + ", topicPrefix=" + topicPrefix
                + ", topics=" + topics + ", startFrom=" + startFrom + ", commitInterval=" + commitInterval + "]";
    }

    /** Builds a {@link KafkaCdcConfig}; each setter checks its value, {@link #build()} the combination. */
    public static final class Builder {

        private String bootstrapServers;
        private String groupId = "dualwrite-cdc";
        private String topicPrefix;
        private final Map<String, String> topics = new LinkedHashMap<>();
        private StartFrom startFrom = StartFrom.LATEST;
        private Duration pollTimeout = Duration.ofMillis(200);
        private Duration commitInterval = Duration.ofSeconds(1);
        private final Map<String, Object> consumerProperties = new LinkedHashMap<>();

        private Builder() {
        }

        /**
         * @param servers the brokers, {@code host:port} separated by commas
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder bootstrapServers(String servers) {
            this.bootstrapServers = text("dualwrite.capture.cdc.kafka.bootstrap-servers", servers,
                    "must name the Kafka brokers (host:port,...)");
            return this;
        }

        /**
         * @param groupId the consumer group; every instance of the fleet uses the same one, so that each
         *     partition has one reader and its committed offset is the fleet's checkpoint
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder groupId(String groupId) {
            this.groupId = text("dualwrite.capture.cdc.kafka.group-id", groupId, "must name the consumer group");
            return this;
        }

        /**
         * @param prefix Debezium's {@code topic.prefix}: a table's topic is {@code prefix.database.table}
         *     (MariaDB/MySQL) or {@code prefix.schema.table} (PostgreSQL) unless named by {@link #topic}
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder topicPrefix(String prefix) {
            this.topicPrefix = text("dualwrite.capture.cdc.kafka.topic-prefix", prefix,
                    "must be Debezium's topic.prefix");
            return this;
        }

        /**
         * @param table a mapped source table's configured name
         * @param topic the topic its change events are on (a Debezium topic routing, for example)
         * @return this builder
         * @throws IllegalArgumentException if either is blank
         */
        public Builder topic(String table, String topic) {
            String key = text("dualwrite.capture.cdc.kafka.topics", table, "must name a mapped table");
            this.topics.put(key.toLowerCase(Locale.ROOT), text("dualwrite.capture.cdc.kafka.topics." + key, topic,
                    "must name the table's Debezium topic"));
            return this;
        }

        /**
         * @param startFrom where a partition without a committed offset is read from
         * @return this builder
         * @throws IllegalArgumentException if null
         */
        public Builder startFrom(StartFrom startFrom) {
            if (startFrom == null) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.kafka.start-from: must be LATEST or"
                        + " EARLIEST, was null");
            }
            this.startFrom = startFrom;
            return this;
        }

        /**
         * @param timeout the longest wait of one poll; also how late a stop or a commit may come
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder pollTimeout(Duration timeout) {
            this.pollTimeout = Settings.positive("dualwrite.capture.cdc.kafka.poll-timeout", timeout);
            return this;
        }

        /**
         * @param interval how often the low watermark is committed as the group's offsets
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder commitInterval(Duration interval) {
            this.commitInterval = Settings.positive("dualwrite.capture.cdc.kafka.commit-interval", interval);
            return this;
        }

        /**
         * @param name a Kafka consumer property ({@code security.protocol}, {@code sasl.jaas.config}, ...)
         * @param value its value
         * @return this builder
         * @throws IllegalArgumentException if the property is one this consumer sets itself (the group,
         *     deserializers, offset commits and reset), which would break the checkpoint
         */
        public Builder consumerProperty(String name, Object value) {
            String property = text("dualwrite.capture.cdc.kafka.properties", name, "must name a consumer property");
            if (OWN_PROPERTIES.contains(property)) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.kafka.properties." + property + ": set by"
                        + " the consumer itself (offsets are committed only up to the keys applied); use "
                        + switch (property) {
                            case "group.id" -> "dualwrite.capture.cdc.kafka.group-id";
                            case "bootstrap.servers" -> "dualwrite.capture.cdc.kafka.bootstrap-servers";
                            case "auto.offset.reset" -> "dualwrite.capture.cdc.kafka.start-from";
                            default -> "nothing: remove it";
                        });
            }
            this.consumerProperties.put(property, value);
            return this;
        }

        private static final List<String> OWN_PROPERTIES = List.of("group.id", "bootstrap.servers",
                "enable.auto.commit", "auto.offset.reset", "key.deserializer", "value.deserializer");

        private static String text(String property, String value, String what) {
            if (value == null || value.isBlank()) {
                throw new IllegalArgumentException(property + ": " + what + ", was "
                        + (value == null ? "null" : "blank"));
            }
            return value.trim();
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException listing every required setting left unset
         */
        public KafkaCdcConfig build() {
            List<String> missing = new ArrayList<>();
            if (bootstrapServers == null) {
                missing.add("dualwrite.capture.cdc.kafka.bootstrap-servers: the Kafka brokers (host:port,...)");
            }
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("the Debezium topic consumer needs:\n  - "
                        + String.join("\n  - ", missing));
            }
            return new KafkaCdcConfig(this);
        }
    }
}
