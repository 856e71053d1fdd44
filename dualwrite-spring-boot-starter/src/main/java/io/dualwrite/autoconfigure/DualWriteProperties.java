package io.dualwrite.autoconfigure;

import io.dualwrite.capture.jdbc.SchemaChangePolicy;
import io.dualwrite.capture.jdbc.UnattributablePolicy;
import io.dualwrite.ids.IdStrategy;
import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingStrategy;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * Every {@code dualwrite.*} setting of the starter. Durations take Spring's forms ({@code 30s},
 * {@code 5m}, {@code PT1H}); unset numeric settings keep the library's own defaults, which each
 * description names.
 *
 * <pre>{@code
 * dualwrite.phase=DUAL_WRITE
 * dualwrite.target.url=jdbc:postgresql://db-new/orders
 * dualwrite.tables.t_order.target-table=orders
 * dualwrite.tables.t_order.columns.amount=amount_cents
 * }</pre>
 */
@ConfigurationProperties(prefix = "dualwrite")
public class DualWriteProperties {

    /** Whether dualwrite is on; when false the starter creates nothing and the application runs as without it. */
    private boolean enabled = true;

    /**
     * Where the migration stands: SOURCE_ONLY (nothing captured), DUAL_WRITE (writes mirrored to the
     * target), RAMP or TARGET_ONLY.
     */
    private Phase phase = Phase.SOURCE_ONLY;

    /**
     * The longest the library makes an application thread wait: a SYNC apply, spilling the keys a full
     * ASYNC queue cannot hold to the outbox table, a connection from the library's own pools, a request
     * held while a ramp step moves its key, and a writer waiting for a row a mirror apply holds. The
     * timeouts of those waits (dualwrite.mirror.sync-timeout, dualwrite.mirror.apply-timeout,
     * dualwrite.routing.hold-timeout, dualwrite.source.hikari.connection-timeout, and in SYNC mode
     * dualwrite.target.library-hikari.connection-timeout) default to it and may not exceed it.
     */
    private Duration waitLimit = Duration.ofSeconds(2);

    /** The new store. */
    private final Target target = new Target();

    private final Source source = new Source();

    /** How committed writes travel to the target. */
    private final Mirror mirror = new Mirror();

    /** Source table name to its mapping; only mapped tables are mirrored, backfilled and verified. */
    private Map<String, Table> tables = new LinkedHashMap<>();

    /** How requests are routed between the stores during RAMP. */
    private final Routing routing = new Routing();

    /** Copying the rows that existed before dual-write. */
    private final Backfill backfill = new Backfill();

    /** Double reads and the reconciler. */
    private final Verify verify = new Verify();

    /** Where the live phase and ramp settings are kept. */
    private final Control control = new Control();

    /** The library's own tables. */
    private final Schema schema = new Schema();

    /** The actuator endpoint. */
    private final Management management = new Management();

    /** The health indicator's thresholds. */
    private final Health health = new Health();

    /** Transparent capture of writes in the application's DataSource. */
    private final Capture capture = new Capture();

    /** Desired settings from a feature-flag system (OpenFeature), executed as ramp steps. */
    private final Flags flags = new Flags();

    /** Ids the stores generate (identity, AUTO_INCREMENT, sequences) and the segment id generator. */
    private final Ids ids = new Ids();

    public boolean isEnabled() {
        return enabled;
    }

    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    public Phase getPhase() {
        return phase;
    }

    public void setPhase(Phase phase) {
        this.phase = phase;
    }

    public Duration getWaitLimit() {
        return waitLimit;
    }

    public void setWaitLimit(Duration waitLimit) {
        this.waitLimit = waitLimit;
    }

    public Target getTarget() {
        return target;
    }

    public Source getSource() {
        return source;
    }

    public Mirror getMirror() {
        return mirror;
    }

    public Map<String, Table> getTables() {
        return tables;
    }

    public void setTables(Map<String, Table> tables) {
        this.tables = tables;
    }

    public Routing getRouting() {
        return routing;
    }

    public Backfill getBackfill() {
        return backfill;
    }

    public Verify getVerify() {
        return verify;
    }

    public Control getControl() {
        return control;
    }

    public Schema getSchema() {
        return schema;
    }

    public Management getManagement() {
        return management;
    }

    public Ids getIds() {
        return ids;
    }

    public Health getHealth() {
        return health;
    }

    /** The target store's connection; its pool settings are under {@code dualwrite.target.hikari.*}. */
    public static class Target {

        /**
         * JDBC URL of the target database. Without it (or dualwrite.target.sharding-sphere-config, or a target
         * bean of the application's own) the starter stays off. Batched-write settings
         * (rewriteBatchedStatements, reWriteBatchedInserts) are added unless the URL sets them.
         */
        private String url;

        /** Login user of the target database. */
        private String username;

        /** Login password of the target database. */
        private String password;

        /** JDBC driver class of the target; detected from the URL when unset. */
        private String driverClassName;

        /**
         * Location of a ShardingSphere-JDBC YAML (classpath:sharding.yaml or file:/path) that splits the target across
         * several databases. The starter builds the target from it instead of from the URL (not both), and the
         * library writes each row to the physical shard ShardingSphere's rule names. Needs shardingsphere-jdbc.
         */
        private String shardingSphereConfig;

        public String getUrl() {
            return url;
        }

        public void setUrl(String url) {
            this.url = url;
        }

        public String getUsername() {
            return username;
        }

        public void setUsername(String username) {
            this.username = username;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public String getDriverClassName() {
            return driverClassName;
        }

        public void setDriverClassName(String driverClassName) {
            this.driverClassName = driverClassName;
        }

        public String getShardingSphereConfig() {
            return shardingSphereConfig;
        }

        public void setShardingSphereConfig(String shardingSphereConfig) {
            this.shardingSphereConfig = shardingSphereConfig;
        }
    }

    /**
     * A sharded source: the library reads (and, to repair, writes) each logical source table as the set of its
     * physical tables. Without these the source is the application's own data source. The library's pools on the
     * plain source are under {@code dualwrite.source.hikari.*}.
     */
    public static class Source {

        /**
         * Location of a ShardingSphere-JDBC YAML (classpath:sharding.yaml or file:/path) that describes the sharded
         * source: its data sources and its !SHARDING rule, whose actual data nodes are the physical tables read and
         * whose rule names the shard a repaired row goes to. Not together with dualwrite.source.shards.*. Needs
         * shardingsphere-jdbc.
         */
        private String shardingSphereConfig;

        private final Shards shards = new Shards();

        public String getShardingSphereConfig() {
            return shardingSphereConfig;
        }

        public void setShardingSphereConfig(String shardingSphereConfig) {
            this.shardingSphereConfig = shardingSphereConfig;
        }

        public Shards getShards() {
            return shards;
        }
    }

    /**
     * A source sharded without ShardingSphere: its real databases and, per logical table, the list of its physical
     * tables. There is no rule: a key is looked for on every shard, and a row the library must write (a repair, the
     * reverse mirror) goes only to the shard that holds its key; a new key is refused.
     */
    public static class Shards {

        /** Data source that holds the library's own source-side tables (the outbox); default the first by name. */
        private String home;

        /** The source's real databases by the name the data nodes give them (ds_0): url, username, password. */
        private Map<String, ShardDataSource> dataSources = new LinkedHashMap<>();

        /** Per logical source table (as dualwrite.tables names it), its physical tables: nodes. */
        private Map<String, ShardTable> tables = new LinkedHashMap<>();

        public String getHome() {
            return home;
        }

        public void setHome(String home) {
            this.home = home;
        }

        public Map<String, ShardDataSource> getDataSources() {
            return dataSources;
        }

        public void setDataSources(Map<String, ShardDataSource> dataSources) {
            this.dataSources = dataSources;
        }

        public Map<String, ShardTable> getTables() {
            return tables;
        }

        public void setTables(Map<String, ShardTable> tables) {
            this.tables = tables;
        }
    }

    /** One real database of a sharded source; the library gives it a HikariCP pool of its own. */
    public static class ShardDataSource {

        /** JDBC URL of the real database. */
        private String url;

        /** Login user. */
        private String username;

        /** Login password. */
        private String password;

        /** JDBC driver class; detected from the URL when unset. */
        private String driverClassName;

        /** Most connections of the library's pool on this database; default 8. */
        private int maximumPoolSize = 8;

        public String getUrl() {
            return url;
        }

        public void setUrl(String url) {
            this.url = url;
        }

        public String getUsername() {
            return username;
        }

        public void setUsername(String username) {
            this.username = username;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public String getDriverClassName() {
            return driverClassName;
        }

        public void setDriverClassName(String driverClassName) {
            this.driverClassName = driverClassName;
        }

        public int getMaximumPoolSize() {
            return maximumPoolSize;
        }

        public void setMaximumPoolSize(int maximumPoolSize) {
            this.maximumPoolSize = maximumPoolSize;
        }
    }

    /** One logical table of a sharded source. */
    public static class ShardTable {

        /**
         * The physical tables as data-source.table nodes, in ShardingSphere's inline-expression syntax
         * (ds_${0..1}.t_order_${0..7}, ds_${['a','b']}.t_${0..3}) or a comma-separated list; expanded by
         * ShardingSphere's own parser, so an expression needs shardingsphere-jdbc. ShardingSphere's $->{0..7} form
         * reads the same and is never mistaken for a Spring placeholder. Every physical table must exist with the
         * same columns and key.
         */
        private String nodes;

        public String getNodes() {
            return nodes;
        }

        public void setNodes(String nodes) {
            this.nodes = nodes;
        }
    }

    /** The mirror's settings; unset ones keep {@code MirrorConfig}'s defaults. */
    public static class Mirror {

        /**
         * How changes travel: SYNC (on the caller's thread), ASYNC (worker lanes) or OUTBOX (crash-safe table).
         * Only with OUTBOX may a ramp step count out an instance that froze or lost the control store; an
         * instance with SYNC or ASYNC holds unapplied changes in memory, so steps wait for it, or for an
         * operator's drop-instance.
         */
        private MirrorMode mode = MirrorMode.ASYNC;

        /** Worker lanes applying changes; default the number of cores, at most 4. */
        private Integer lanes;

        /**
         * Keys the lanes hold in memory together; beyond it (as in a target outage) keys are spilled to the
         * outbox table, or parked for the reconciler when there is none; default 100,000.
         */
        private Integer queueCapacity;

        /** Most keys of one table applied in one batch; default 256. */
        private Integer batchSize;

        /**
         * How long a lane waits for more keys before applying a batch that is not full; default 50 ms. Longer costs
         * lag and saves CPU per applied row; keys that a ramp step or a drain waits for never linger.
         */
        private Duration batchLinger;

        /** Longest a SYNC apply may hold the caller; default 2 s, at most dualwrite.wait-limit. */
        private Duration syncTimeout;

        /**
         * Longest one apply may wait on the network before it fails and is retried; it holds share locks on
         * the source rows meanwhile, so it defaults to dualwrite.wait-limit and may not exceed it.
         */
        private Duration applyTimeout;

        /** Attempts before a failing key is parked; default 10. An unreachable store costs no attempt. */
        private Integer maxAttempts;

        /** Wait before the first retry, doubled each time; default 100 ms. */
        private Duration initialBackoff;

        /** Longest wait between retries; default 30 s. */
        private Duration maxBackoff;

        /** How long shutdown waits for queued changes; default 10 s. */
        private Duration shutdownTimeout;

        /**
         * Whether a mirror write also refuses to replace a row whose version column is newer. The source's
         * row lock already brings changes in commit order (latest commit wins); turn this on only when the
         * version column never goes back in commit order and something else may write the target. A later
         * commit with an older version is then refused, and left to the reconciler.
         */
        private boolean versionGuard;

        /** The outbox (OUTBOX mode). */
        private final Outbox outbox = new Outbox();

        public MirrorMode getMode() {
            return mode;
        }

        public void setMode(MirrorMode mode) {
            this.mode = mode;
        }

        public Integer getLanes() {
            return lanes;
        }

        public void setLanes(Integer lanes) {
            this.lanes = lanes;
        }

        public Integer getQueueCapacity() {
            return queueCapacity;
        }

        public void setQueueCapacity(Integer queueCapacity) {
            this.queueCapacity = queueCapacity;
        }

        public Integer getBatchSize() {
            return batchSize;
        }

        public void setBatchSize(Integer batchSize) {
            this.batchSize = batchSize;
        }

        public Duration getBatchLinger() {
            return batchLinger;
        }

        public void setBatchLinger(Duration batchLinger) {
            this.batchLinger = batchLinger;
        }

        public Duration getSyncTimeout() {
            return syncTimeout;
        }

        public void setSyncTimeout(Duration syncTimeout) {
            this.syncTimeout = syncTimeout;
        }

        public Duration getApplyTimeout() {
            return applyTimeout;
        }

        public void setApplyTimeout(Duration applyTimeout) {
            this.applyTimeout = applyTimeout;
        }

        public Integer getMaxAttempts() {
            return maxAttempts;
        }

        public void setMaxAttempts(Integer maxAttempts) {
            this.maxAttempts = maxAttempts;
        }

        public Duration getInitialBackoff() {
            return initialBackoff;
        }

        public void setInitialBackoff(Duration initialBackoff) {
            this.initialBackoff = initialBackoff;
        }

        public Duration getMaxBackoff() {
            return maxBackoff;
        }

        public void setMaxBackoff(Duration maxBackoff) {
            this.maxBackoff = maxBackoff;
        }

        public Duration getShutdownTimeout() {
            return shutdownTimeout;
        }

        public void setShutdownTimeout(Duration shutdownTimeout) {
            this.shutdownTimeout = shutdownTimeout;
        }

        public boolean isVersionGuard() {
            return versionGuard;
        }

        public void setVersionGuard(boolean versionGuard) {
            this.versionGuard = versionGuard;
        }

        public Outbox getOutbox() {
            return outbox;
        }

        /** The outbox table and its relay. */
        public static class Outbox {

            /** Name of the outbox table in the source database; default dualwrite_outbox. */
            private String table;

            /** How often the relay looks for rows when not woken; default 500 ms. */
            private Duration pollInterval;

            /** Outbox rows claimed at a time; default 500. */
            private Integer batchSize;

            public String getTable() {
                return table;
            }

            public void setTable(String table) {
                this.table = table;
            }

            public Duration getPollInterval() {
                return pollInterval;
            }

            public void setPollInterval(Duration pollInterval) {
                this.pollInterval = pollInterval;
            }

            public Integer getBatchSize() {
                return batchSize;
            }

            public void setBatchSize(Integer batchSize) {
                this.batchSize = batchSize;
            }
        }
    }

    /** How one source table maps to its target table. */
    public static class Table {

        /** Target table; default the source table's name. */
        private String targetTable;

        /** Key columns (source names) in key order; default the source table's primary key. */
        private List<String> keyColumns = new ArrayList<>();

        /** Column holding the row's last-modified time (source name); "none" for a table without one. */
        private String versionColumn;

        /** Column whose value routes the row during RAMP, usually the user id (source name). */
        private String routingColumn;

        /**
         * Whether the application never changes the sharding column of a row of a sharded target (ShardingSphere)
         * whose key does not hold that column; without it such a table is refused at start-up.
         */
        private boolean immutableShardingColumn;

        /** Source column to the target column it is written to, for renamed columns. */
        private Map<String, String> columns = new LinkedHashMap<>();

        /** Source columns that are not copied. */
        private List<String> ignoreColumns = new ArrayList<>();

        /** Name of a RowTransformer bean that maps whole rows instead of the declarative mapping. */
        private String transformer;

        /** Source column to the conversion of its values on the way to the target. */
        private Map<String, Convert> convert = new LinkedHashMap<>();

        /** Target column to a constant written to it, for new NOT NULL columns no source column fills. */
        private Map<String, String> constants = new LinkedHashMap<>();

        /** How keys change between the stores. */
        private final KeyMappingSettings keyMapping = new KeyMappingSettings();

        /**
         * Target columns the double reads and the reconciler leave out of the comparison: columns the target
         * fills itself (a trigger-computed column, a generated column, a default the source does not have).
         * The mirror still writes them where the mapping says so.
         */
        private List<String> compareIgnore = new ArrayList<>();

        public String getTargetTable() {
            return targetTable;
        }

        public void setTargetTable(String targetTable) {
            this.targetTable = targetTable;
        }

        public List<String> getKeyColumns() {
            return keyColumns;
        }

        public void setKeyColumns(List<String> keyColumns) {
            this.keyColumns = keyColumns;
        }

        public String getVersionColumn() {
            return versionColumn;
        }

        public void setVersionColumn(String versionColumn) {
            this.versionColumn = versionColumn;
        }

        public String getRoutingColumn() {
            return routingColumn;
        }

        public void setRoutingColumn(String routingColumn) {
            this.routingColumn = routingColumn;
        }

        public boolean isImmutableShardingColumn() {
            return immutableShardingColumn;
        }

        public void setImmutableShardingColumn(boolean immutableShardingColumn) {
            this.immutableShardingColumn = immutableShardingColumn;
        }

        public Map<String, String> getColumns() {
            return columns;
        }

        public void setColumns(Map<String, String> columns) {
            this.columns = columns;
        }

        public List<String> getIgnoreColumns() {
            return ignoreColumns;
        }

        public void setIgnoreColumns(List<String> ignoreColumns) {
            this.ignoreColumns = ignoreColumns;
        }

        public String getTransformer() {
            return transformer;
        }

        public void setTransformer(String transformer) {
            this.transformer = transformer;
        }

        public Map<String, Convert> getConvert() {
            return convert;
        }

        public void setConvert(Map<String, Convert> convert) {
            this.convert = convert;
        }

        public Map<String, String> getConstants() {
            return constants;
        }

        public void setConstants(Map<String, String> constants) {
            this.constants = constants;
        }

        public KeyMappingSettings getKeyMapping() {
            return keyMapping;
        }

        public List<String> getCompareIgnore() {
            return compareIgnore;
        }

        public void setCompareIgnore(List<String> compareIgnore) {
            this.compareIgnore = compareIgnore;
        }
    }

    /** A built-in value conversion of one column; see {@code io.dualwrite.mapping.Converters}. */
    public static class Convert {

        /** The conversion. */
        private ConverterType type;

        /**
         * NUMBER_TO_STRING: Java type of the source column (Long, Integer, Short, Byte, BigInteger,
         * BigDecimal, Double, Float).
         */
        private String sourceType = "Long";

        /** CODE_TO_TEXT: integer code to its text, e.g. 0=NEW, 1=PAID. */
        private Map<Integer, String> codes = new LinkedHashMap<>();

        /** DECIMAL_TO_MINOR_UNITS: decimal places of the source amount. */
        private int scale = 2;

        /** TIMESTAMP_PRECISION: the target's precision, SECONDS, MILLIS or MICROS. */
        private ChronoUnit precision = ChronoUnit.MILLIS;

        /** TIME_ZONE_SHIFT: zone source values are written in. */
        private String sourceZone;

        /** TIME_ZONE_SHIFT: zone target values are written in. */
        private String targetZone;

        /** WALL_CLOCK_TO_INSTANT: zone the source's wall-clock times are in; default the JVM's. */
        private String zone;

        public ConverterType getType() {
            return type;
        }

        public void setType(ConverterType type) {
            this.type = type;
        }

        public String getSourceType() {
            return sourceType;
        }

        public void setSourceType(String sourceType) {
            this.sourceType = sourceType;
        }

        public Map<Integer, String> getCodes() {
            return codes;
        }

        public void setCodes(Map<Integer, String> codes) {
            this.codes = codes;
        }

        public int getScale() {
            return scale;
        }

        public void setScale(int scale) {
            this.scale = scale;
        }

        public ChronoUnit getPrecision() {
            return precision;
        }

        public void setPrecision(ChronoUnit precision) {
            this.precision = precision;
        }

        public String getSourceZone() {
            return sourceZone;
        }

        public void setSourceZone(String sourceZone) {
            this.sourceZone = sourceZone;
        }

        public String getTargetZone() {
            return targetZone;
        }

        public void setTargetZone(String targetZone) {
            this.targetZone = targetZone;
        }

        public String getZone() {
            return zone;
        }

        public void setZone(String zone) {
            this.zone = zone;
        }
    }

    /** The built-in conversions, one per factory of {@code io.dualwrite.mapping.Converters}. */
    public enum ConverterType {
        /** A number in the source, its decimal text in the target. */
        NUMBER_TO_STRING,
        /** An integer code in the source, its text in the target. */
        CODE_TO_TEXT,
        /** JSON text in the source, a JSON column in the target. */
        JSON,
        /** A decimal amount in the source, whole minor units in the target. */
        DECIMAL_TO_MINOR_UNITS,
        /** Timestamps cut to the target column's precision. */
        TIMESTAMP_PRECISION,
        /** Wall-clock times moved from one time zone to another. */
        TIME_ZONE_SHIFT,
        /** A boolean in the source, 1 or 0 in the target (implied for a boolean column into a number column). */
        BOOLEAN_TO_NUMBER,
        /** Comma-separated text or a MySQL SET in the source, an array in the target (implied for SET into arrays). */
        SET_TO_ARRAY,
        /** A date-time that holds midnight in the source, a date in the target (implied for DATETIME into date). */
        DATE_TIME_TO_DATE,
        /** A wall-clock time in the source, an instant (timestamptz) in the target, in the stated zone. */
        WALL_CLOCK_TO_INSTANT
    }

    /** How a table's keys map between the stores. */
    public static class KeyMappingSettings {

        /** IDENTITY (same key), OFFSET (target id = source id + offset) or ID_MAP (generated numbers). */
        private KeyMappingType type = KeyMappingType.IDENTITY;

        /** OFFSET: added to the source id on the way to the target. */
        private long offset;

        /** ID_MAP: the name keys are kept under; default the source table's name. */
        private String namespace;

        /** ID_MAP: keys cached in each direction. */
        private long cachedKeys = 100_000;

        public KeyMappingType getType() {
            return type;
        }

        public void setType(KeyMappingType type) {
            this.type = type;
        }

        public long getOffset() {
            return offset;
        }

        public void setOffset(long offset) {
            this.offset = offset;
        }

        public String getNamespace() {
            return namespace;
        }

        public void setNamespace(String namespace) {
            this.namespace = namespace;
        }

        public long getCachedKeys() {
            return cachedKeys;
        }

        public void setCachedKeys(long cachedKeys) {
            this.cachedKeys = cachedKeys;
        }
    }

    /** The key mappings of {@code io.dualwrite.mapping.KeyMapping}. */
    public enum KeyMappingType {
        /** The target key is the source key. */
        IDENTITY,
        /** Target id = source id + offset. */
        OFFSET,
        /** A generated number per source key, kept in dualwrite_id_map in the target. */
        ID_MAP
    }

    /** Cut-over routing during RAMP. */
    public static class Routing {

        /** Share of routing buckets (0..100) whose requests go to the target during RAMP. */
        private int percent;

        /** How a routing key becomes a bucket: MODULO (numeric key mod 100) or HASH (stable hash mod 100). */
        private RoutingStrategy strategy = RoutingStrategy.MODULO;

        /** Routing keys always sent to the target during RAMP. */
        private List<String> allow = new ArrayList<>();

        /** Routing keys always kept on the source during RAMP. */
        private List<String> deny = new ArrayList<>();

        /** Route during RAMP of requests that carry no routing key. */
        private Route defaultRoute = Route.SOURCE;

        /**
         * How long a request whose key a ramp step is moving may be held before it fails; default, and at
         * most, dualwrite.wait-limit.
         */
        private Duration holdTimeout;

        /** How long a ramp step may wait for every instance to acknowledge before it reverts. */
        private Duration stepTimeout = Duration.ofSeconds(60);

        /**
         * Source tables a per-user move copies, parents before children; empty for every mapped table with a
         * routing column, in mapping order.
         */
        private List<String> moveOrder = new ArrayList<>();

        /** How many users' routes (moved or not) each instance caches for per-user moves. */
        private long userRouteCacheSize = 100_000;

        public List<String> getMoveOrder() {
            return moveOrder;
        }

        public void setMoveOrder(List<String> moveOrder) {
            this.moveOrder = moveOrder;
        }

        public long getUserRouteCacheSize() {
            return userRouteCacheSize;
        }

        public void setUserRouteCacheSize(long userRouteCacheSize) {
            this.userRouteCacheSize = userRouteCacheSize;
        }

        /** Highest recent confirmed double-read mismatch rate (0..1) at which RAMP may advance. */
        private double maxMismatchRate = 0.001;

        /**
         * Whether start-up goes on when the initial phase (RAMP or TARGET_ONLY, seeding a new control store)
         * is one the ramp guards refuse, such as RAMP with the backfill unfinished; the override is logged.
         */
        private boolean forceInitial;

        public boolean isForceInitial() {
            return forceInitial;
        }

        public void setForceInitial(boolean forceInitial) {
            this.forceInitial = forceInitial;
        }

        public Route getDefaultRoute() {
            return defaultRoute;
        }

        public void setDefaultRoute(Route defaultRoute) {
            this.defaultRoute = defaultRoute;
        }

        public Duration getHoldTimeout() {
            return holdTimeout;
        }

        public void setHoldTimeout(Duration holdTimeout) {
            this.holdTimeout = holdTimeout;
        }

        public Duration getStepTimeout() {
            return stepTimeout;
        }

        public void setStepTimeout(Duration stepTimeout) {
            this.stepTimeout = stepTimeout;
        }

        public double getMaxMismatchRate() {
            return maxMismatchRate;
        }

        /**
         * Sets the highest mismatch rate at which RAMP may advance.
         *
         * @param maxMismatchRate 0..1
         * @throws IllegalArgumentException if outside 0..1
         */
        public void setMaxMismatchRate(double maxMismatchRate) {
            this.maxMismatchRate = fraction("dualwrite.routing.max-mismatch-rate", maxMismatchRate);
        }

        public int getPercent() {
            return percent;
        }

        /**
         * Sets the percent.
         *
         * @param percent 0..100
         * @throws IllegalArgumentException if outside 0..100
         */
        public void setPercent(int percent) {
            if (percent < 0 || percent > 100) {
                throw new IllegalArgumentException("dualwrite.routing.percent: must be between 0 and 100, was "
                        + percent);
            }
            this.percent = percent;
        }

        public RoutingStrategy getStrategy() {
            return strategy;
        }

        public void setStrategy(RoutingStrategy strategy) {
            this.strategy = strategy;
        }

        public List<String> getAllow() {
            return allow;
        }

        public void setAllow(List<String> allow) {
            this.allow = allow;
        }

        public List<String> getDeny() {
            return deny;
        }

        public void setDeny(List<String> deny) {
            this.deny = deny;
        }

        /**
         * Highest share (0..1) of this instance's requests of the last minute that may carry no routing key
         * when a step into or within RAMP is asked; above it the step is refused unless forced. Requests
         * without a key take the default route at every percent.
         */
        private double maxKeylessShare = 0.5;

        /** Binding the routing key of each web request from its path, a header or the signed-in user. */
        private final Web web = new Web();

        /**
         * Whether a refresh of the configuration (Spring Cloud's EnvironmentChangeEvent, or any application
         * event with a getKeys() naming changed keys) that changes dualwrite.phase or dualwrite.routing.percent,
         * allow or deny asks the controller for that change as a ramp step, guarded and never forced. The
         * properties otherwise only seed a new control store.
         */
        private boolean followRefresh = true;

        /**
         * Per source table whose routing column is a foreign key (e.g. visits.pet_id), the row that holds the
         * routing value: through.visits.table=pets, through.visits.key=id, through.visits.column=owner_id. Used
         * for each row's route when the reconciler repairs during RAMP and when cross-route writes are counted.
         */
        private Map<String, Through> through = new LinkedHashMap<>();

        /** How long a routing value looked up through a foreign key (dualwrite.routing.through) is cached. */
        private Duration throughCacheExpiry = Duration.ofMinutes(10);

        public Map<String, Through> getThrough() {
            return through;
        }

        public void setThrough(Map<String, Through> through) {
            this.through = through;
        }

        public Duration getThroughCacheExpiry() {
            return throughCacheExpiry;
        }

        public void setThroughCacheExpiry(Duration throughCacheExpiry) {
            this.throughCacheExpiry = throughCacheExpiry;
        }

        public boolean isFollowRefresh() {
            return followRefresh;
        }

        public void setFollowRefresh(boolean followRefresh) {
            this.followRefresh = followRefresh;
        }

        public double getMaxKeylessShare() {
            return maxKeylessShare;
        }

        /**
         * Sets the highest share of keyless requests at which RAMP may advance.
         *
         * @param maxKeylessShare 0..1
         * @throws IllegalArgumentException if outside 0..1
         */
        public void setMaxKeylessShare(double maxKeylessShare) {
            this.maxKeylessShare = fraction("dualwrite.routing.max-keyless-share", maxKeylessShare);
        }

        public Web getWeb() {
            return web;
        }
    }

    /** The row holding a table's routing value, reached through the table's routing column (a foreign key). */
    public static class Through {

        /** Referenced table, e.g. pets. */
        private String table;

        /** Its column the routing column refers to, e.g. id. */
        private String key = "id";

        /** Its column holding the routing value, e.g. owner_id. */
        private String column;

        public String getTable() {
            return table;
        }

        public void setTable(String table) {
            this.table = table;
        }

        public String getKey() {
            return key;
        }

        public void setKey(String key) {
            this.key = key;
        }

        public String getColumn() {
            return column;
        }

        public void setColumn(String column) {
            this.column = column;
        }
    }

    /**
     * A servlet filter that binds each request's routing key for the whole request, before any transaction
     * opens. It is registered when a servlet web application sets at least one of path-patterns, header and
     * principal; the first source that yields a value wins, in that order.
     */
    public static class Web {

        /**
         * Path patterns (Spring's PathPattern syntax, without the context path) whose variable named by
         * path-variable holds the routing key, e.g. /owners/{ownerId}/**.
         */
        private List<String> pathPatterns = new ArrayList<>();

        /** Name of the path variable that holds the routing key in path-patterns. */
        private String pathVariable;

        /** Request header that holds the routing key, e.g. X-User-Id. */
        private String header;

        /** Whether the signed-in user's name (HttpServletRequest.getUserPrincipal) is the routing key. */
        private boolean principal;

        /**
         * Order of the filter among the application's filters: after Spring Security's filter chain (-100)
         * by default, so that the principal is known; connections taken before it are keyless.
         */
        private int filterOrder = -90;

        public List<String> getPathPatterns() {
            return pathPatterns;
        }

        public void setPathPatterns(List<String> pathPatterns) {
            this.pathPatterns = pathPatterns;
        }

        public String getPathVariable() {
            return pathVariable;
        }

        public void setPathVariable(String pathVariable) {
            this.pathVariable = pathVariable;
        }

        public String getHeader() {
            return header;
        }

        public void setHeader(String header) {
            this.header = header;
        }

        public boolean isPrincipal() {
            return principal;
        }

        public void setPrincipal(boolean principal) {
            this.principal = principal;
        }

        public int getFilterOrder() {
            return filterOrder;
        }

        public void setFilterOrder(int filterOrder) {
            this.filterOrder = filterOrder;
        }
    }

    /** The backfill; unset settings keep {@code BackfillConfig}'s defaults. */
    public static class Backfill {

        /** Rows per second when no hourly limit applies; 0 means unthrottled. */
        private long rowsPerSecond;

        /**
         * Whether a chunk also refuses to replace a target row whose version column is newer; see
         * dualwrite.mirror.version-guard. The source's row locks already order the backfill with the mirror.
         */
        private boolean versionGuard;

        /**
         * Whether chunks into a PostgreSQL target are written through COPY: the rows of keys the table lacks straight
         * into it while it holds at most 1 in 5 of the chunk's keys, the others into a temporary staging table and one
         * guarded merge (same guard, same source lock, same transaction as the batched upsert); a chunk that fails
         * there is written the batched way, which records its bad rows. False writes every chunk batched.
         */
        private boolean postgresCopy = true;

        /**
         * Whether chunks into a MariaDB or MySQL target (through MariaDB Connector/J) are written through LOAD DATA
         * LOCAL INFILE from memory: the rows of keys the table lacks straight into it while it holds at most 1 in 5 of
         * the chunk's keys, the others into a temporary staging table and one guarded merge (same guard, same source
         * lock, same transaction as the batched upsert); a chunk that fails there, or that the load warns about, is
         * written the batched way, which records its bad rows. Needs local_infile=ON on the server and
         * allowLocalInfile=true (Connector/J's default) on the target URL, else the backfill warns once and writes
         * batched. False writes every chunk batched.
         */
        private boolean mariadbLoadData = true;

        /**
         * Whether each backfill thread reads its next chunk, under its own share lock on a second source connection,
         * while it writes the current one; the next chunk is written only after the current one committed, so the
         * checkpoint and a restart are as without it. Costs one more source connection per backfill thread and holds
         * a writer of the next chunk's rows for up to two chunks' time. False reads each chunk only after the one
         * before committed.
         */
        private boolean readAhead = true;

        /** Hour of day ("00".."23") to rows per second in that hour, overriding rows-per-second. */
        private Map<String, Long> hourlyLimits = new LinkedHashMap<>();

        /** Zone the hours of hourly-limits are read in; default the system zone. */
        private String zone;

        /** First chunk's size in rows; it then adapts to the target chunk time; default 1,000. */
        private Integer chunkSize;

        /** Smallest chunk the adaptation may choose; default 50. */
        private Integer minChunkSize;

        /** Largest chunk the adaptation may choose; default 10,000. */
        private Integer maxChunkSize;

        /** Whether every mapped table's backfill starts (or resumes its checkpoint) when the application starts. */
        private boolean autoStart;

        /** Worker threads per table in this instance; default 1. */
        private Integer threads;

        /** Key ranges a table with a single integral key is split into, shared between instances; default 16. */
        private Integer rangesPerTable;

        /** Mirror lag above which the backfill waits between chunks, so live changes go first; default 30 s. */
        private Duration maxMirrorLag;

        /**
         * Source tables whose backfills run first, in this order, each once the one before is done; the rest
         * follow in the order of the target's foreign keys (parents first), which is the whole order when this
         * is empty. Needed when the foreign keys form a cycle.
         */
        private List<String> order = new ArrayList<>();

        public List<String> getOrder() {
            return order;
        }

        public void setOrder(List<String> order) {
            this.order = order;
        }

        public long getRowsPerSecond() {
            return rowsPerSecond;
        }

        public void setRowsPerSecond(long rowsPerSecond) {
            this.rowsPerSecond = rowsPerSecond;
        }

        public boolean isVersionGuard() {
            return versionGuard;
        }

        public void setVersionGuard(boolean versionGuard) {
            this.versionGuard = versionGuard;
        }

        public boolean isPostgresCopy() {
            return postgresCopy;
        }

        public void setPostgresCopy(boolean postgresCopy) {
            this.postgresCopy = postgresCopy;
        }

        public boolean isMariadbLoadData() {
            return mariadbLoadData;
        }

        public void setMariadbLoadData(boolean mariadbLoadData) {
            this.mariadbLoadData = mariadbLoadData;
        }

        public boolean isReadAhead() {
            return readAhead;
        }

        public void setReadAhead(boolean readAhead) {
            this.readAhead = readAhead;
        }

        public Map<String, Long> getHourlyLimits() {
            return hourlyLimits;
        }

        public void setHourlyLimits(Map<String, Long> hourlyLimits) {
            this.hourlyLimits = hourlyLimits;
        }

        public String getZone() {
            return zone;
        }

        public void setZone(String zone) {
            this.zone = zone;
        }

        public Integer getChunkSize() {
            return chunkSize;
        }

        public void setChunkSize(Integer chunkSize) {
            this.chunkSize = chunkSize;
        }

        public Integer getMinChunkSize() {
            return minChunkSize;
        }

        public void setMinChunkSize(Integer minChunkSize) {
            this.minChunkSize = minChunkSize;
        }

        public Integer getMaxChunkSize() {
            return maxChunkSize;
        }

        public void setMaxChunkSize(Integer maxChunkSize) {
            this.maxChunkSize = maxChunkSize;
        }

        public boolean isAutoStart() {
            return autoStart;
        }

        public void setAutoStart(boolean autoStart) {
            this.autoStart = autoStart;
        }

        public Integer getThreads() {
            return threads;
        }

        public void setThreads(Integer threads) {
            this.threads = threads;
        }

        public Integer getRangesPerTable() {
            return rangesPerTable;
        }

        public void setRangesPerTable(Integer rangesPerTable) {
            this.rangesPerTable = rangesPerTable;
        }

        public Duration getMaxMirrorLag() {
            return maxMirrorLag;
        }

        public void setMaxMirrorLag(Duration maxMirrorLag) {
            this.maxMirrorLag = maxMirrorLag;
        }
    }

    /** Double reads and the reconciler. */
    public static class Verify {

        /** Share of @DualRead reads (0..1) compared on both stores. */
        private double sampleRate;

        /** Columns whose values mismatch logs never print. */
        private List<String> maskColumns = new ArrayList<>();

        /** The scheduled reconciler. */
        private final Reconcile reconcile = new Reconcile();

        public double getSampleRate() {
            return sampleRate;
        }

        /**
         * Sets the sample rate.
         *
         * @param sampleRate 0..1
         * @throws IllegalArgumentException if outside 0..1
         */
        public void setSampleRate(double sampleRate) {
            this.sampleRate = fraction("dualwrite.verify.sample-rate", sampleRate);
        }

        public List<String> getMaskColumns() {
            return maskColumns;
        }

        public void setMaskColumns(List<String> maskColumns) {
            this.maskColumns = maskColumns;
        }

        public Reconcile getReconcile() {
            return reconcile;
        }

        /** When and how the reconciler runs. */
        public static class Reconcile {

            /** Spring cron expression for the scheduled reconcile, e.g. "0 0 3 * * *"; unset means never. */
            private String cron;

            /** Window of row versions a scheduled run compares, ending now (1d for a T+1 check); unset means whole tables. */
            private Duration window;

            /** Whether differences found are repaired (primary wins); false only reports them. */
            private boolean repair = true;

            /** How long an instance's hold on a table's reconcile lasts unless renewed; one instance reconciles a table at a time. */
            private Duration lease = Duration.ofMinutes(2);

            public String getCron() {
                return cron;
            }

            public void setCron(String cron) {
                this.cron = cron;
            }

            public Duration getWindow() {
                return window;
            }

            public void setWindow(Duration window) {
                this.window = window;
            }

            public boolean isRepair() {
                return repair;
            }

            public void setRepair(boolean repair) {
                this.repair = repair;
            }

            public Duration getLease() {
                return lease;
            }

            public void setLease(Duration lease) {
                this.lease = lease;
            }
        }
    }

    public Capture getCapture() {
        return capture;
    }

    public Flags getFlags() {
        return flags;
    }

    /**
     * Desired settings from OpenFeature flags. A flag change becomes a ramp step of the controller, guarded
     * and never forced; the control store keeps the setting in force, and the endpoint, the log and the
     * dualwrite.routing.desired meter report the outcome. A flag that is absent (not found) leaves its part
     * of the setting as it is.
     */
    public static class Flags {

        /** Whether OpenFeature flags steer the migration (needs dev.openfeature:sdk and a provider set). */
        private boolean enabled;

        /** OpenFeature domain of the client whose provider holds the flags; the default provider if unset. */
        private String domain;

        /** String flag holding the desired phase: SOURCE_ONLY, DUAL_WRITE, RAMP or TARGET_ONLY. */
        private String phase = "dualwrite-phase";

        /** Integer flag holding the desired ramp percent, 0..100. */
        private String percent = "dualwrite-percent";

        /** String flag holding the desired allow-list, comma-separated routing keys. */
        private String allow = "dualwrite-allow";

        /** String flag holding the desired deny-list, comma-separated routing keys. */
        private String deny = "dualwrite-deny";

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getDomain() {
            return domain;
        }

        public void setDomain(String domain) {
            this.domain = domain;
        }

        public String getPhase() {
            return phase;
        }

        public void setPhase(String phase) {
            this.phase = phase;
        }

        public String getPercent() {
            return percent;
        }

        public void setPercent(String percent) {
            this.percent = percent;
        }

        public String getAllow() {
            return allow;
        }

        public void setAllow(String allow) {
            this.allow = allow;
        }

        public String getDeny() {
            return deny;
        }

        public void setDeny(String deny) {
            this.deny = deny;
        }
    }

    /** Transparent capture: the DataSource records the keys of every write to a mapped table. */
    public static class Capture {

        /** Whether the application's DataSource captures writes itself, so no method needs @DualWrite. */
        private boolean transparent;

        /** What a write to a mapped table whose rows cannot be told does: FAIL (refuse it) or WARN (run it, reconcile the table). */
        private UnattributablePolicy unattributable = UnattributablePolicy.FAIL;

        /** What DDL on a mapped table does in DUAL_WRITE and RAMP: FAIL (refuse it, saying how to roll a schema change out) or WARN (run it, log it, reconcile the table). It always runs in SOURCE_ONLY and TARGET_ONLY, where nothing is mirrored. */
        private SchemaChangePolicy schemaChanges = SchemaChangePolicy.FAIL;

        /** How long after an unattributable write (under WARN) its table is reconciled. */
        private Duration reconcileDelay = Duration.ofMinutes(1);

        /** Change-data capture: writes from outside the service, read from the source's binary log. */
        private final Cdc cdc = new Cdc();

        public Cdc getCdc() {
            return cdc;
        }

        public boolean isTransparent() {
            return transparent;
        }

        public void setTransparent(boolean transparent) {
            this.transparent = transparent;
        }

        public UnattributablePolicy getUnattributable() {
            return unattributable;
        }

        public void setUnattributable(UnattributablePolicy unattributable) {
            this.unattributable = unattributable;
        }

        public SchemaChangePolicy getSchemaChanges() {
            return schemaChanges;
        }

        public void setSchemaChanges(SchemaChangePolicy schemaChanges) {
            this.schemaChanges = schemaChanges;
        }

        public Duration getReconcileDelay() {
            return reconcileDelay;
        }

        public void setReconcileDelay(Duration reconcileDelay) {
            this.reconcileDelay = reconcileDelay;
        }
    }

    /**
     * Change-data capture from the source's own change log: a MariaDB/MySQL binary log (ROW format), or a
     * PostgreSQL logical replication slot (pgoutput) when the source is PostgreSQL. The keys of rows that
     * writers outside the service change are mirrored like the service's own. A MariaDB/MySQL source needs
     * com.zendesk:mysql-binlog-connector-java on the classpath.
     */
    public static class Cdc {

        /**
         * Whether the stores' change logs are read for writes from outside the service: the source's, and the
         * target's for RAMP unless dualwrite.capture.cdc.target.enabled=false.
         */
        private boolean enabled;

        /**
         * Whether start-up fails when the change log cannot be read (binary log off or not ROW, wal_level below
         * logical, missing grants, no free replication slot); false runs without change-data capture and says so
         * once.
         */
        private boolean required = true;

        /**
         * The source server's host; unset means the host in the source data source's JDBC URL (a sharded source's:
         * its home data source's). Every shard of a captured table must be on this server (PostgreSQL: in its
         * database), or start-up fails.
         */
        private String host;

        /**
         * The source server's port; unset means the port in the source data source's JDBC URL, or 3306 (5432
         * for PostgreSQL).
         */
        private Integer port;

        /**
         * The user that reads the log (MariaDB/MySQL: REPLICATION SLAVE and REPLICATION CLIENT, BINLOG MONITOR on
         * MariaDB 10.5+; PostgreSQL: the REPLICATION attribute); unset means the source pool's user (a sharded
         * source's: its home data source's).
         */
        private String username;

        /** That user's password; unset means the source pool's password. */
        private String password;

        /**
         * The replica id this reader announces to the source server: unique among its replicas and different
         * from its own server_id. Required when enabled on a MariaDB/MySQL source; unused for PostgreSQL.
         */
        private Long serverId;

        /** This reader's row in the position table. */
        private String readerName = "default";

        /** The table in the target that keeps the log position (the low watermark). */
        private String positionTable = "dualwrite_cdc_position";

        /** How often the position is stored and the log's head read (for the log lag). */
        private Duration checkpointInterval = Duration.ofSeconds(1);

        /** The longest wait for the binary log (or replication) connection. */
        private Duration connectTimeout = Duration.ofSeconds(10);

        /**
         * PostgreSQL source only: the logical replication slot (plugin pgoutput) the changes are read from;
         * created when missing and left in place, since a restarted capture resumes from it. It keeps the
         * server's write-ahead log until read: drop it when the migration is over
         * ({@code SELECT pg_drop_replication_slot('dualwrite_cdc')}).
         */
        private String slotName = "dualwrite_cdc";

        /**
         * PostgreSQL source only: the publication of the mapped source tables the slot is read for; created
         * for them when missing, and checked to publish each of them when it exists.
         */
        private String publicationName = "dualwrite_cdc";

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public boolean isRequired() {
            return required;
        }

        public void setRequired(boolean required) {
            this.required = required;
        }

        public String getHost() {
            return host;
        }

        public void setHost(String host) {
            this.host = host;
        }

        public Integer getPort() {
            return port;
        }

        public void setPort(Integer port) {
            this.port = port;
        }

        public String getUsername() {
            return username;
        }

        public void setUsername(String username) {
            this.username = username;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public Long getServerId() {
            return serverId;
        }

        public void setServerId(Long serverId) {
            this.serverId = serverId;
        }

        public String getReaderName() {
            return readerName;
        }

        public void setReaderName(String readerName) {
            this.readerName = readerName;
        }

        public String getPositionTable() {
            return positionTable;
        }

        public void setPositionTable(String positionTable) {
            this.positionTable = positionTable;
        }

        public Duration getCheckpointInterval() {
            return checkpointInterval;
        }

        public void setCheckpointInterval(Duration checkpointInterval) {
            this.checkpointInterval = checkpointInterval;
        }

        public Duration getConnectTimeout() {
            return connectTimeout;
        }

        public void setConnectTimeout(Duration connectTimeout) {
            this.connectTimeout = connectTimeout;
        }

        public String getSlotName() {
            return slotName;
        }

        public void setSlotName(String slotName) {
            this.slotName = slotName;
        }

        public String getPublicationName() {
            return publicationName;
        }

        public void setPublicationName(String publicationName) {
            this.publicationName = publicationName;
        }

        /** The consumer of Debezium change topics on Kafka, instead of reading the source's log directly. */
        private final Kafka kafka = new Kafka();

        public Kafka getKafka() {
            return kafka;
        }

        /** The change-data capture of the target's log during RAMP ({@code dualwrite.capture.cdc.target.*}). */
        private final CdcTarget target = new CdcTarget();

        public CdcTarget getTarget() {
            return target;
        }
    }

    /**
     * The consumer of Debezium change topics ({@code dualwrite.capture.cdc.kafka.*}): for teams that already run
     * Debezium on Kafka Connect. Needs {@code org.springframework.kafka:spring-kafka}. Spring Boot's
     * {@code spring.kafka.*} settings are not read: the consumer is configured here only.
     */
    public static class Kafka {

        /** Whether the mapped tables' Debezium change topics are consumed and their keys handed to the mirror. */
        private boolean enabled;

        /** The Kafka brokers, host:port separated by commas. Required when enabled. */
        private String bootstrapServers;

        /**
         * The consumer group; every instance of the fleet uses the same one, so each partition has one reader
         * and the group's committed offsets are the checkpoint.
         */
        private String groupId = "dualwrite-cdc";

        /**
         * Debezium's topic.prefix: a table's topic is prefix.database.table (MariaDB/MySQL) or
         * prefix.schema.table (PostgreSQL), unless named in topics.
         */
        private String topicPrefix;

        /** Per mapped table (its name in dualwrite.tables), the topic its change events are on. */
        private Map<String, String> topics = new LinkedHashMap<>();

        /** Where the group starts a partition it has no committed offset for: LATEST or EARLIEST. */
        private io.dualwrite.cdc.kafka.KafkaCdcConfig.StartFrom startFrom =
                io.dualwrite.cdc.kafka.KafkaCdcConfig.StartFrom.LATEST;

        /** How often the low watermark is committed as the group's offsets. */
        private Duration commitInterval = Duration.ofSeconds(1);

        /** The longest wait of one poll of the brokers. */
        private Duration pollTimeout = Duration.ofMillis(200);

        /** Further Kafka consumer properties (security.protocol, sasl.*, ssl.*, timeouts), passed on as given. */
        private Map<String, String> properties = new LinkedHashMap<>();

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public String getBootstrapServers() {
            return bootstrapServers;
        }

        public void setBootstrapServers(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
        }

        public String getGroupId() {
            return groupId;
        }

        public void setGroupId(String groupId) {
            this.groupId = groupId;
        }

        public String getTopicPrefix() {
            return topicPrefix;
        }

        public void setTopicPrefix(String topicPrefix) {
            this.topicPrefix = topicPrefix;
        }

        public Map<String, String> getTopics() {
            return topics;
        }

        public void setTopics(Map<String, String> topics) {
            this.topics = topics;
        }

        public io.dualwrite.cdc.kafka.KafkaCdcConfig.StartFrom getStartFrom() {
            return startFrom;
        }

        public void setStartFrom(io.dualwrite.cdc.kafka.KafkaCdcConfig.StartFrom startFrom) {
            this.startFrom = startFrom;
        }

        public Duration getCommitInterval() {
            return commitInterval;
        }

        public void setCommitInterval(Duration commitInterval) {
            this.commitInterval = commitInterval;
        }

        public Duration getPollTimeout() {
            return pollTimeout;
        }

        public void setPollTimeout(Duration pollTimeout) {
            this.pollTimeout = pollTimeout;
        }

        public Map<String, String> getProperties() {
            return properties;
        }

        public void setProperties(Map<String, String> properties) {
            this.properties = properties;
        }
    }

    /**
     * The second reader, on the target's log (binary log of a MariaDB/MySQL target, logical decoding of a
     * PostgreSQL one): its keys go to the reverse mirror while the target may be the primary of some row
     * (RAMP), so that outside writes on the target are mirrored back and a rollback loses none. It runs
     * whenever {@code dualwrite.capture.cdc.enabled} is true and the tables can be mirrored back; before RAMP
     * it only reads and counts. The position table, checkpoint interval and connect timeout are shared with
     * the source's reader.
     */
    public static class CdcTarget {

        /** Whether the target's log is read too (when the tables can be mirrored back). */
        private boolean enabled = true;

        /** Whether start-up fails when the target's log cannot be read; unset means dualwrite.capture.cdc.required. */
        private Boolean required;

        /** The target server's host; unset means the host in dualwrite.target.url. */
        private String host;

        /** The target server's port; unset means the port in dualwrite.target.url, or 3306 (5432 for PostgreSQL). */
        private Integer port;

        /** The user that reads the target's log (grants as for the source's); unset means the target pool's user. */
        private String username;

        /** That user's password; unset means the target pool's password. */
        private String password;

        /**
         * The replica id this reader announces to a MariaDB/MySQL target server: unique among its replicas and
         * different from its server_id and from dualwrite.capture.cdc.server-id when both logs are on one server.
         * Required for a MariaDB/MySQL target.
         */
        private Long serverId;

        /** This reader's row in the position table; must differ from dualwrite.capture.cdc.reader-name. */
        private String readerName = "target";

        /** PostgreSQL target only: its logical replication slot, created when missing; drop it after the migration. */
        private String slotName = "dualwrite_cdc_target";

        /** PostgreSQL target only: the publication of the mapped target tables, created when missing. */
        private String publicationName = "dualwrite_cdc_target";

        public boolean isEnabled() {
            return enabled;
        }

        public void setEnabled(boolean enabled) {
            this.enabled = enabled;
        }

        public Boolean getRequired() {
            return required;
        }

        public void setRequired(Boolean required) {
            this.required = required;
        }

        public String getHost() {
            return host;
        }

        public void setHost(String host) {
            this.host = host;
        }

        public Integer getPort() {
            return port;
        }

        public void setPort(Integer port) {
            this.port = port;
        }

        public String getUsername() {
            return username;
        }

        public void setUsername(String username) {
            this.username = username;
        }

        public String getPassword() {
            return password;
        }

        public void setPassword(String password) {
            this.password = password;
        }

        public Long getServerId() {
            return serverId;
        }

        public void setServerId(Long serverId) {
            this.serverId = serverId;
        }

        public String getReaderName() {
            return readerName;
        }

        public void setReaderName(String readerName) {
            this.readerName = readerName;
        }

        public String getSlotName() {
            return slotName;
        }

        public void setSlotName(String slotName) {
            this.slotName = slotName;
        }

        public String getPublicationName() {
            return publicationName;
        }

        public void setPublicationName(String publicationName) {
            this.publicationName = publicationName;
        }
    }

    /** Where live settings are kept. */
    public static class Control {

        /** PROPERTIES (phase and ramp from these properties) or TABLE (dualwrite_control, shared by all instances). */
        private ControlStore store = ControlStore.PROPERTIES;

        /** How often each instance reads the control store (a step in progress is followed faster). */
        private Duration pollInterval = Duration.ofSeconds(2);

        /** Name of this migration's row in dualwrite_control, so one database can steer several. */
        private String migration = "default";

        /** This instance's id in the control store; unset means pid@host plus a random suffix. */
        private String instanceId;

        public Duration getPollInterval() {
            return pollInterval;
        }

        public void setPollInterval(Duration pollInterval) {
            this.pollInterval = pollInterval;
        }

        public String getMigration() {
            return migration;
        }

        public void setMigration(String migration) {
            this.migration = migration;
        }

        public String getInstanceId() {
            return instanceId;
        }

        public void setInstanceId(String instanceId) {
            this.instanceId = instanceId;
        }

        public ControlStore getStore() {
            return store;
        }

        public void setStore(ControlStore store) {
            this.store = store;
        }
    }

    /** Where the phase and ramp settings live. */
    public enum ControlStore {
        /** In the Spring properties of each instance. */
        PROPERTIES,
        /** In the dualwrite_control table in the target, polled by every instance. */
        TABLE
    }

    /** The library's own tables. */
    public static class Schema {

        /**
         * Whether missing library tables (dualwrite_checkpoint, dualwrite_backfill_failure, dualwrite_outbox,
         * dualwrite_id_map, dualwrite_reconcile_checkpoint and its _lease table) are created at start-up; when
         * false a missing one stops start-up with its DDL.
         */
        private boolean create;

        public boolean isCreate() {
            return create;
        }

        public void setCreate(boolean create) {
            this.create = create;
        }
    }

    /** The actuator endpoint. */
    public static class Management {

        /**
         * Whether the dualwrite endpoint's write operations are allowed: every POST to /actuator/dualwrite/...,
         * that is backfill start, pause and resume (one table or all), phase changes, percent steps, allow and
         * deny lists (each with or without force), reconcile runs (which repair unless
         * dualwrite.verify.reconcile.repair=false) and drop-instance. The status and the drained read (GET)
         * are always allowed.
         */
        private boolean writeEnabled;

        public boolean isWriteEnabled() {
            return writeEnabled;
        }

        public void setWriteEnabled(boolean writeEnabled) {
            this.writeEnabled = writeEnabled;
        }
    }

    /** When the health indicator reports DOWN (or {@link Health#getExceededStatus() OUT_OF_SERVICE}). */
    public static class Health {

        /** The status a health check reports past one of its thresholds. */
        public enum ExceededStatus {
            /** {@code DOWN}. */
            DOWN,
            /** {@code OUT_OF_SERVICE}, for setups that treat DOWN as a reason to restart the instance. */
            OUT_OF_SERVICE
        }

        /**
         * How long a mirror's applies may go on failing, with none succeeding in between (the other store down,
         * its pool exhausted), before health is DOWN. A key that keeps failing while other keys apply is counted
         * by max-parked once its attempts are spent.
         */
        private Duration maxFailing = Duration.ofSeconds(30);

        /**
         * The status reported past max-parked, max-lag or max-failing: DOWN, or OUT_OF_SERVICE where a DOWN
         * instance would be restarted by the platform (the application still serves; the target falls behind).
         */
        private ExceededStatus exceededStatus = ExceededStatus.DOWN;

        /**
         * Parked keys above which health is DOWN. In ASYNC and SYNC mode the count runs since start-up; in
         * OUTBOX mode it is the parked outbox rows.
         */
        private long maxParked = 0;

        /** Mirror lag above which health is DOWN. */
        private Duration maxLag = Duration.ofMinutes(5);

        public long getMaxParked() {
            return maxParked;
        }

        public void setMaxParked(long maxParked) {
            this.maxParked = maxParked;
        }

        public Duration getMaxLag() {
            return maxLag;
        }

        public void setMaxLag(Duration maxLag) {
            this.maxLag = maxLag;
        }

        public Duration getMaxFailing() {
            return maxFailing;
        }

        public void setMaxFailing(Duration maxFailing) {
            this.maxFailing = maxFailing;
        }

        public ExceededStatus getExceededStatus() {
            return exceededStatus;
        }

        public void setExceededStatus(ExceededStatus exceededStatus) {
            this.exceededStatus = exceededStatus;
        }
    }

    /** Ids the stores generate, and ids taken out of them. */
    public static class Ids {

        /**
         * How generated ids are kept from colliding once the target takes inserts: DISJOINT (on entering RAMP
         * one store goes on above a gap and the other gets the range below it, capped; MariaDB always takes
         * the high range), INTERLEAVE (source odd, target even; a MariaDB pool needs
         * sessionVariables=auto_increment_increment=2,auto_increment_offset=1 for the source, =2 for the
         * target, in its JDBC URL) or NONE. Whatever the strategy but NONE, the target's counters are moved past
         * every id in use on entering TARGET_ONLY, and the source's on a rollback from RAMP. Only tables with a
         * single generated key on both stores and the identity key mapping are handled.
         */
        private IdStrategy strategy = IdStrategy.DISJOINT;

        /**
         * With DISJOINT: how many ids the capped store may generate per table during one stay in RAMP. A step
         * within RAMP is refused once less than a tenth of it is left; stepping back to DUAL_WRITE and into
         * RAMP again gives a new range. It must fit the key column's type above the ids in use.
         */
        private long range = 100_000_000L;

        /** The segment id generator backed by the control store's database. */
        private final Segment segment = new Segment();

        public IdStrategy getStrategy() {
            return strategy;
        }

        public void setStrategy(IdStrategy strategy) {
            this.strategy = strategy;
        }

        public long getRange() {
            return range;
        }

        public void setRange(long range) {
            this.range = range;
        }

        public Segment getSegment() {
            return segment;
        }

        /** The segment id generator: blocks of ids leased from the table dualwrite_id_segment. */
        public static class Segment {

            /**
             * Whether a SegmentIdGenerator bean is created on the control store's database (the table
             * dualwrite_id_segment, created when dualwrite.schema.create is true) and installed for entities
             * whose id is annotated with @SegmentId.
             */
            private boolean enabled;

            /** How many ids one lease takes; an instance that restarts skips what was left of its block. */
            private int blockSize = 1000;

            /**
             * The first id of a name leased for the first time: above every id the tables it serves already
             * hold, on both stores. Ignored once the name has a row in dualwrite_id_segment.
             */
            private long start = 1;

            public boolean isEnabled() {
                return enabled;
            }

            public void setEnabled(boolean enabled) {
                this.enabled = enabled;
            }

            public int getBlockSize() {
                return blockSize;
            }

            public void setBlockSize(int blockSize) {
                this.blockSize = blockSize;
            }

            public long getStart() {
                return start;
            }

            public void setStart(long start) {
                this.start = start;
            }
        }
    }

    /** @return {@code value} if it is a fraction, 0..1; otherwise refuses it naming the property */
    private static double fraction(String property, double value) {
        if (!(value >= 0 && value <= 1)) {
            throw new IllegalArgumentException(property + ": must be between 0 and 1, was " + value);
        }
        return value;
    }
}
