package io.dualwrite.cdc;

import io.dualwrite.config.Settings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Settings of the change-data capture from the source's change log: where the log is read, as which
 * replica (a MariaDB/MySQL server id) or through which replication slot and publication (PostgreSQL), and
 * where its position is kept. Immutable; built and validated by {@link #builder()}.
 *
 * <pre>{@code
 * CdcConfig binlog = CdcConfig.builder()
 *         .server("db.internal", 3306).credentials("dualwrite_cdc", secret)
 *         .serverId(4711)
 *         .build();
 * CdcConfig postgres = CdcConfig.builder()
 *         .server("pg.internal", 5432).credentials("dualwrite_cdc", secret)
 *         .logicalDecoding("orders")                 // the database whose write-ahead log is decoded
 *         .slotName("dualwrite_orders").publicationName("dualwrite_orders")
 *         .build();
 * }</pre>
 */
public final class CdcConfig {

    private final String host;
    private final int port;
    private final String username;
    private final String password;
    private final long serverId;
    private final String readerName;
    private final String positionTable;
    private final boolean createPositionTable;
    private final Duration checkpointInterval;
    private final Duration connectTimeout;
    private final Duration reconnectDelay;
    private final boolean required;
    private final String database;
    private final String slotName;
    private final String publicationName;

    private CdcConfig(Builder builder) {
        this.database = builder.database;
        this.slotName = builder.slotName;
        this.publicationName = builder.publicationName;
        this.host = builder.host;
        this.port = builder.port;
        this.username = builder.username;
        this.password = builder.password;
        this.serverId = builder.serverId;
        this.readerName = builder.readerName;
        this.positionTable = builder.positionTable;
        this.createPositionTable = builder.createPositionTable;
        this.checkpointInterval = builder.checkpointInterval;
        this.connectTimeout = builder.connectTimeout;
        this.reconnectDelay = builder.reconnectDelay;
        this.required = builder.required;
    }

    /** @return a builder with the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return the source server's host */
    public String host() {
        return host;
    }

    /** @return the source server's port */
    public int port() {
        return port;
    }

    /** @return the user the log is read as */
    public String username() {
        return username;
    }

    /** @return that user's password, possibly empty */
    String password() {
        return password;
    }

    /** @return the replica id this reader announces to the server; unique among the server's replicas */
    public long serverId() {
        return serverId;
    }

    /** @return this reader's row in the position table */
    public String readerName() {
        return readerName;
    }

    /** @return the table in the target store that keeps the log position */
    public String positionTable() {
        return positionTable;
    }

    /** @return whether the position table is created when missing */
    public boolean createPositionTable() {
        return createPositionTable;
    }

    /** @return how often the low watermark is stored and the server's head is read */
    public Duration checkpointInterval() {
        return checkpointInterval;
    }

    /** @return the longest wait for the log connection */
    public Duration connectTimeout() {
        return connectTimeout;
    }

    /** @return the pause before reading again after the log connection broke */
    public Duration reconnectDelay() {
        return reconnectDelay;
    }

    /** @return whether start-up fails when the log cannot be read (else the service runs without it) */
    public boolean required() {
        return required;
    }

    /** @return the PostgreSQL database whose write-ahead log is decoded, or null for a binary log */
    public String database() {
        return database;
    }

    /** @return whether this is PostgreSQL logical decoding ({@link Builder#logicalDecoding}) */
    public boolean logicalDecoding() {
        return database != null;
    }

    /** @return the PostgreSQL logical replication slot the changes are read from; created when missing */
    public String slotName() {
        return slotName;
    }

    /** @return the PostgreSQL publication of the mapped tables; created when missing */
    public String publicationName() {
        return publicationName;
    }

    @Override
    public String toString() {
        if (database != null) {
            return "CdcConfig[" + username + "@" + host + ":" + port + "/" + database + ", slot=" + slotName
                    + ", publication=" + publicationName + ", reader=" + readerName + ", positionTable="
                    + positionTable + ", checkpointInterval=" + checkpointInterval + ", required=" + required + "]";
        }
        return "CdcConfig[" + username + "@" + host + ":" + port + ", serverId=" + serverId + ", reader=" + readerName
                + ", positionTable=" + positionTable + ", checkpointInterval=" + checkpointInterval + ", required="
                + required + "]";
    }

    /** Builds a {@link CdcConfig}; each setter checks its value, {@link #build()} the combination. */
    public static final class Builder {

        private String host;
        private int port = 3306;
        private String username;
        private String password = "";
        private long serverId;
        private String readerName = "default";
        private String positionTable = "dualwrite_cdc_position";
        private boolean createPositionTable;
        private Duration checkpointInterval = Duration.ofSeconds(1);
        private Duration connectTimeout = Duration.ofSeconds(10);
        private Duration reconnectDelay = Duration.ofSeconds(1);
        private boolean required = true;
        private String database;
        private String slotName = "dualwrite_cdc";
        private String publicationName = "dualwrite_cdc";

        private Builder() {
        }

        /**
         * Reads a PostgreSQL source's write-ahead log by logical decoding (plugin {@code pgoutput}) instead of
         * a MariaDB/MySQL binary log; no server id is needed then.
         *
         * @param database the database whose changes are decoded (a slot belongs to one database)
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder logicalDecoding(String database) {
            if (database == null || database.isBlank()) {
                throw new IllegalArgumentException("dualwrite.capture.cdc: logical decoding needs the source's"
                        + " PostgreSQL database name, was " + (database == null ? "null" : "blank"));
            }
            this.database = database;
            return this;
        }

        /**
         * @param slotName the PostgreSQL logical replication slot to read; created (plugin pgoutput) when
         *     missing. A slot keeps the server's write-ahead log until it is read: drop it when the migration
         *     is over ({@code SELECT pg_drop_replication_slot('name')})
         * @return this builder
         * @throws IllegalArgumentException if not 1 to 63 lower-case letters, digits and underscores
         */
        public Builder slotName(String slotName) {
            this.slotName = pgName("dualwrite.capture.cdc.slot-name", slotName);
            return this;
        }

        /**
         * @param publicationName the PostgreSQL publication naming the mapped source tables; created for them
         *     when missing, and checked to cover each of them when it exists
         * @return this builder
         * @throws IllegalArgumentException if not 1 to 63 lower-case letters, digits and underscores
         */
        public Builder publicationName(String publicationName) {
            this.publicationName = pgName("dualwrite.capture.cdc.publication-name", publicationName);
            return this;
        }

        private static String pgName(String property, String name) {
            if (name == null || !name.matches("[a-z_][a-z0-9_]{0,62}")) {
                throw new IllegalArgumentException(property + ": must be 1 to 63 lower-case letters, digits and"
                        + " underscores, not starting with a digit, was " + (name == null ? "null" : "'" + name + "'"));
            }
            return name;
        }

        /**
         * @param host the source server's host name or address
         * @param port its port
         * @return this builder
         * @throws IllegalArgumentException if the host is blank or the port outside 1..65535
         */
        public Builder server(String host, int port) {
            if (host == null || host.isBlank()) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.host: must name the source server, was "
                        + (host == null ? "null" : "blank"));
            }
            this.host = host;
            this.port = Settings.range("dualwrite.capture.cdc.port", port, 1, 65535);
            return this;
        }

        /**
         * @param username the user the log is read as; it needs REPLICATION SLAVE and REPLICATION CLIENT
         *     (BINLOG MONITOR on MariaDB 10.5+)
         * @param password its password; null means empty
         * @return this builder
         * @throws IllegalArgumentException if the user is blank
         */
        public Builder credentials(String username, String password) {
            if (username == null || username.isBlank()) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.username: must name the user that reads the"
                        + " binary log, was " + (username == null ? "null" : "blank"));
            }
            this.username = username;
            this.password = password == null ? "" : password;
            return this;
        }

        /**
         * @param serverId the replica id this reader announces; it must differ from the server's own
         *     {@code server_id} and from every other replica's, or the server drops one of the two connections
         * @return this builder
         * @throws IllegalArgumentException if not within 1..4294967295
         */
        public Builder serverId(long serverId) {
            if (serverId < 1 || serverId > 0xFFFFFFFFL) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.server-id: must be within 1..4294967295 and"
                        + " unique among the source server's replicas, was " + serverId);
            }
            this.serverId = serverId;
            return this;
        }

        /**
         * @param readerName this reader's row in the position table (one per source log)
         * @return this builder
         * @throws IllegalArgumentException if blank or longer than 100 characters
         */
        public Builder readerName(String readerName) {
            if (readerName == null || readerName.isBlank() || readerName.length() > 100) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.reader-name: must be 1 to 100 characters,"
                        + " was " + (readerName == null ? "null" : "'" + readerName + "'"));
            }
            this.readerName = readerName;
            return this;
        }

        /**
         * @param positionTable the table in the target that keeps the log position
         * @return this builder
         * @throws IllegalArgumentException if not a plain table name
         */
        public Builder positionTable(String positionTable) {
            this.positionTable = Settings.tableName("dualwrite.capture.cdc.position-table", positionTable);
            return this;
        }

        /**
         * @param create whether the position table is created when missing
         * @return this builder
         */
        public Builder createPositionTable(boolean create) {
            this.createPositionTable = create;
            return this;
        }

        /**
         * @param interval how often the low watermark is stored and the server's head read
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder checkpointInterval(Duration interval) {
            this.checkpointInterval = Settings.positive("dualwrite.capture.cdc.checkpoint-interval", interval);
            return this;
        }

        /**
         * @param timeout the longest wait for the log connection
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder connectTimeout(Duration timeout) {
            this.connectTimeout = Settings.positive("dualwrite.capture.cdc.connect-timeout", timeout);
            return this;
        }

        /**
         * @param delay the pause before reading again after the log connection broke
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder reconnectDelay(Duration delay) {
            this.reconnectDelay = Settings.positive("dualwrite.capture.cdc.reconnect-delay", delay);
            return this;
        }

        /**
         * @param required whether start-up fails when the log cannot be read; false runs without change-data
         *     capture and says so once
         * @return this builder
         */
        public Builder required(boolean required) {
            this.required = required;
            return this;
        }

        /**
         * @return the settings
         * @throws IllegalArgumentException listing every required setting left unset, or when a server id is
         *     given for logical decoding
         */
        public CdcConfig build() {
            List<String> missing = new ArrayList<>();
            if (host == null) {
                missing.add("dualwrite.capture.cdc.host: the source server to read the binary log from");
            }
            if (username == null) {
                missing.add("dualwrite.capture.cdc.username: the user that reads the binary log");
            }
            if (serverId == 0 && database == null) {
                missing.add("dualwrite.capture.cdc.server-id: a replica id unique among the source server's replicas");
            }
            if (!missing.isEmpty()) {
                throw new IllegalArgumentException("change-data capture needs:\n  - " + String.join("\n  - ", missing));
            }
            if (serverId != 0 && database != null) {
                throw new IllegalArgumentException("dualwrite.capture.cdc.server-id: a PostgreSQL source is read"
                        + " through a logical replication slot (dualwrite.capture.cdc.slot-name), not as a replica with"
                        + " a server id; remove server-id");
            }
            Objects.requireNonNull(password, "password");
            return new CdcConfig(this);
        }
    }
}
