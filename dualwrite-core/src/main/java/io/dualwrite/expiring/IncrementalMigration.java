package io.dualwrite.expiring;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.TableMetadata;
import io.dualwrite.mapping.MappingException;
import io.dualwrite.routing.Route;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Incremental-only migration of tables whose rows expire: nothing is copied; new rows are created in the
 * target, old rows stay in the source and are updated there until they expire, and reads run on both
 * stores and are merged by key. When {@link #liveRows(String)} reports that the source holds no live row,
 * its table can be archived.
 *
 * <p>Where a row lives is decided by the row: a key above the table's boundary, or a creation time at or
 * after its cut-over, means the target. Since no row is ever copied, every key lives in exactly one store;
 * a key found in both (someone copied it by hand) is counted, logged, and taken from the store its rule
 * names.
 *
 * <pre>{@code
 * Route route = migration.routeOf("coupon", couponId);          // where an update or delete goes
 * new JdbcTemplate(migration.store(route)).update(...);
 * new JdbcTemplate(migration.store(migration.routeOfNew("coupon"))).update("INSERT ...");
 * MergedRows mine = migration.query("coupon", "SELECT * FROM {table} WHERE user_id = ?", userId);
 * }</pre>
 *
 * <p>Thread-safe. The merged read runs its two queries at once on this object's own two threads, each
 * bounded by the query timeout; a store that fails fails the read (half a result is never returned).
 */
public final class IncrementalMigration implements AutoCloseable {

    private static final Log log = LogFactory.getLog(IncrementalMigration.class);
    /** Where {@link #query} puts each store's own quoted table name. */
    public static final String TABLE_PLACEHOLDER = "{table}";

    private final DataSource source;
    private final DataSource target;
    private final Map<String, Table> tables;
    private final Clock clock;
    private final Duration queryTimeout;
    private final ExecutorService readers;
    private final AtomicLong duplicates = new AtomicLong();

    private IncrementalMigration(Builder builder, Map<String, Table> tables) {
        this.source = builder.source;
        this.target = builder.target;
        this.tables = tables;
        this.clock = builder.clock;
        this.queryTimeout = builder.queryTimeout;
        this.readers = Executors.newFixedThreadPool(2, runnable -> {
            Thread thread = new Thread(runnable, "dualwrite-merged-read");
            thread.setDaemon(true);
            return thread;
        });
    }

    /**
     * @param source the old store
     * @param target the new store
     * @return a builder
     */
    public static Builder builder(DataSource source, DataSource target) {
        return new Builder(source, target);
    }

    /** @return the tables, by name */
    public Collection<ExpiringTable> tables() {
        return tables.values().stream().map(Table::config).toList();
    }

    /**
     * @param table a table's name
     * @return where its new rows are created: always the target
     * @throws IllegalArgumentException if the table is not configured
     */
    public Route routeOfNew(String table) {
        table(table);
        return Route.TARGET;
    }

    /**
     * Where an existing row lives, so where its update or delete must go. With a key boundary this is
     * decided from the key; with a creation-time cut-over the target is asked whether it holds the key.
     *
     * @param table a table's name
     * @param key the row's key
     * @return the store that holds the row (SOURCE for a key neither holds)
     * @throws SQLException if the target cannot be asked
     * @throws IllegalArgumentException if the table is not configured, or a key is not a number where the
     *     boundary is one
     */
    public Route routeOf(String table, Object key) throws SQLException {
        Table entry = table(table);
        Objects.requireNonNull(key, "key");
        if (entry.config.split() == ExpiringTable.Split.KEY_BOUNDARY) {
            return number(key, entry).compareTo(entry.boundary) > 0 ? Route.TARGET : Route.SOURCE;
        }
        try (Connection connection = target.getConnection();
                PreparedStatement statement = connection.prepareStatement(entry.existsInTarget)) {
            statement.setQueryTimeout(seconds());
            statement.setObject(1, key);
            try (ResultSet rows = statement.executeQuery()) {
                return rows.next() ? Route.TARGET : Route.SOURCE;
            }
        }
    }

    /**
     * Where a row created at a given time lives, for a creation-time split.
     *
     * @param table a table's name
     * @param createdAt the row's creation time
     * @return TARGET at or after the cut-over, else SOURCE
     * @throws IllegalArgumentException if the table is not configured or splits by key
     */
    public Route routeOfCreated(String table, Instant createdAt) {
        Table entry = table(table);
        if (entry.config.split() != ExpiringTable.Split.CREATED_FROM) {
            throw new IllegalArgumentException("table '" + table + "' splits by key (dualwrite.incremental.tables."
                    + table + ".new-keys-above): use routeOf(table, key)");
        }
        return createdAt.isBefore(entry.config.cutover()) ? Route.SOURCE : Route.TARGET;
    }

    /**
     * @param route a route
     * @return the store it names
     */
    public DataSource store(Route route) {
        return route == Route.TARGET ? target : source;
    }

    /**
     * Runs one query on both stores at once and merges the rows by key, in key order. The query names the
     * table as {@value #TABLE_PLACEHOLDER}, which becomes each store's own table name; it must select the
     * key column. Column names in the rows are lower case; values are as each store's driver returns them.
     * The merged rows are in key order whatever the query's ORDER BY, and a LIMIT applies to each store
     * (up to twice as many rows come back): cut the merged list yourself.
     *
     * @param table a table's name
     * @param sql the query, e.g. {@code SELECT * FROM {table} WHERE user_id = ?}
     * @param args its parameters
     * @return the merged rows
     * @throws SQLException if either store fails or does not answer within the query timeout
     * @throws IllegalArgumentException if the table is not configured or the query does not name it
     */
    public MergedRows query(String table, String sql, Object... args) throws SQLException {
        Table entry = table(table);
        if (!sql.contains(TABLE_PLACEHOLDER)) {
            throw new IllegalArgumentException("a merged read names its table as " + TABLE_PLACEHOLDER + ", so that each"
                    + " store reads its own: " + sql);
        }
        CompletableFuture<List<Map<String, Object>>> fromSource = CompletableFuture.supplyAsync(
                () -> read(source, sql.replace(TABLE_PLACEHOLDER, entry.sourceName), args), readers);
        CompletableFuture<List<Map<String, Object>>> fromTarget = CompletableFuture.supplyAsync(
                () -> read(target, sql.replace(TABLE_PLACEHOLDER, entry.targetName), args), readers);
        List<Map<String, Object>> sourceRows = await(fromSource, "source", table);
        List<Map<String, Object>> targetRows = await(fromTarget, "target", table);
        String key = entry.config.keyColumn().toLowerCase(Locale.ROOT);
        TreeMap<Comparable<?>, Map<String, Object>> merged = new TreeMap<>(KEY_ORDER);
        int twice = 0;
        for (Map<String, Object> row : sourceRows) {
            merged.put(keyOf(row, key, table), row);
        }
        for (Map<String, Object> row : targetRows) {
            Comparable<?> rowKey = keyOf(row, key, table);
            Map<String, Object> old = merged.putIfAbsent(rowKey, row);
            if (old != null) {
                twice++;
                if (ownerOf(entry, row, key) == Route.TARGET) {
                    merged.put(rowKey, row);
                }
            }
        }
        if (twice > 0) {
            duplicates.addAndGet(twice);
            log.warn("dualwrite: " + twice + " key(s) of incrementally migrated table '" + table + "' are in both"
                    + " stores; each was taken from the store its rule names. Rows are never copied in an"
                    + " incremental-only migration: find who copied them");
        }
        return new MergedRows(List.copyOf(merged.values()), sourceRows.size(), targetRows.size(), twice);
    }

    /**
     * Counts the live rows each store holds: a row is alive until its expiry time passes (a null expiry
     * never does). The source's table can be archived once it holds none.
     *
     * @param table a table's name
     * @return the report
     * @throws SQLException if a store cannot be read
     */
    public LiveRows liveRows(String table) throws SQLException {
        Table entry = table(table);
        Instant now = clock.instant();
        long[] sourceCounts = new long[3];
        Instant lastExpiry = null;
        try (Connection connection = source.getConnection();
                PreparedStatement statement = connection.prepareStatement(entry.sourceReport)) {
            statement.setQueryTimeout(seconds());
            statement.setObject(1, entry.nowFor(entry.sourceExpires, now, clock));
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                sourceCounts[0] = rows.getLong(1);
                sourceCounts[1] = rows.getLong(2);
                sourceCounts[2] = rows.getLong(3);
                lastExpiry = entry.zoned(entry.sourceExpires)
                        ? instant(rows.getObject(4, OffsetDateTime.class), clock)
                        : instant(rows.getObject(4, LocalDateTime.class), clock);
            }
        }
        long liveInTarget;
        try (Connection connection = target.getConnection();
                PreparedStatement statement = connection.prepareStatement(entry.targetLive)) {
            statement.setQueryTimeout(seconds());
            statement.setObject(1, entry.nowFor(entry.targetExpires, now, clock));
            try (ResultSet rows = statement.executeQuery()) {
                rows.next();
                liveInTarget = rows.getLong(1);
            }
        }
        return new LiveRows(table, sourceCounts[0], sourceCounts[1], sourceCounts[2], lastExpiry, liveInTarget, now);
    }

    /**
     * @return the live-row report of every table
     * @throws SQLException if a store cannot be read
     */
    public List<LiveRows> liveRows() throws SQLException {
        List<LiveRows> reports = new ArrayList<>();
        for (String table : tables.keySet()) {
            reports.add(liveRows(table));
        }
        return reports;
    }

    /** @return how many keys merged reads found in both stores, since start */
    public long duplicatesFound() {
        return duplicates.get();
    }

    /** Stops the merged read's threads. */
    @Override
    public void close() {
        readers.shutdownNow();
    }

    private Table table(String name) {
        Table entry = tables.get(name);
        if (entry == null) {
            throw new IllegalArgumentException("table '" + name + "' is not migrated incrementally; configured: "
                    + tables.keySet() + " (dualwrite.incremental.tables)");
        }
        return entry;
    }

    private Route ownerOf(Table entry, Map<String, Object> row, String key) {
        if (entry.config.split() == ExpiringTable.Split.KEY_BOUNDARY) {
            return number(row.get(key), entry).compareTo(entry.boundary) > 0 ? Route.TARGET : Route.SOURCE;
        }
        // As routeOf says for a creation-time split: a key the target holds is the target's.
        return Route.TARGET;
    }

    private List<Map<String, Object>> read(DataSource store, String sql, Object[] args) {
        try (Connection connection = store.getConnection();
                PreparedStatement statement = connection.prepareStatement(sql)) {
            statement.setQueryTimeout(seconds());
            for (int i = 0; i < args.length; i++) {
                statement.setObject(i + 1, args[i]);
            }
            try (ResultSet rows = statement.executeQuery()) {
                ResultSetMetaData meta = rows.getMetaData();
                List<Map<String, Object>> result = new ArrayList<>();
                while (rows.next()) {
                    Map<String, Object> row = new LinkedHashMap<>();
                    for (int c = 1; c <= meta.getColumnCount(); c++) {
                        row.put(meta.getColumnLabel(c).toLowerCase(Locale.ROOT), rows.getObject(c));
                    }
                    result.add(row);
                }
                return result;
            }
        } catch (SQLException e) {
            throw new StoreFailed(e);
        }
    }

    private List<Map<String, Object>> await(CompletableFuture<List<Map<String, Object>>> read, String store,
            String table) throws SQLException {
        try {
            return read.get(queryTimeout.toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SQLException("interrupted while reading '" + table + "' from the " + store, e);
        } catch (TimeoutException e) {
            read.cancel(true);
            throw new SQLException("the " + store + " did not answer a merged read of '" + table + "' within "
                    + queryTimeout + " (dualwrite.incremental.query-timeout)", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof StoreFailed failed) {
                throw new SQLException("the " + store + " failed a merged read of '" + table + "': "
                        + failed.getCause().getMessage(), failed.getCause());
            }
            throw new SQLException("the " + store + " failed a merged read of '" + table + "'", cause);
        }
    }

    private int seconds() {
        return (int) Math.max(1, queryTimeout.toSeconds());
    }

    private static BigDecimal number(Object key, Table entry) {
        if (key instanceof BigDecimal decimal) {
            return decimal;
        }
        if (key instanceof Long || key instanceof Integer || key instanceof Short || key instanceof Byte) {
            return BigDecimal.valueOf(((Number) key).longValue());
        }
        if (key instanceof Number number) {
            return new BigDecimal(number.toString());
        }
        if (key instanceof String text) {
            try {
                return new BigDecimal(text.trim());
            } catch (NumberFormatException e) {
                // fall through to the message below
            }
        }
        throw new IllegalArgumentException("table '" + entry.config.name() + "' tells new rows by a key boundary"
                + " (dualwrite.incremental.tables." + entry.config.name() + ".new-keys-above): key " + key
                + " is not a number");
    }

    private static Comparable<?> keyOf(Map<String, Object> row, String key, String table) {
        if (!row.containsKey(key)) {
            throw new IllegalArgumentException("a merged read of '" + table + "' must select its key column '" + key
                    + "' to merge by it");
        }
        Object value = row.get(key);
        if (value instanceof Number number) {
            return new BigDecimal(number.toString()).stripTrailingZeros();
        }
        if (value instanceof byte[] bytes) {
            return java.util.HexFormat.of().formatHex(bytes);
        }
        return String.valueOf(value);
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static final Comparator<Comparable<?>> KEY_ORDER = (a, b) -> {
        if (a.getClass() != b.getClass()) {
            return a.getClass().getName().compareTo(b.getClass().getName());
        }
        return ((Comparable) a).compareTo(b);
    };

    private static Instant instant(java.time.temporal.Temporal value, Clock clock) {
        if (value == null) {
            return null;
        }
        return value instanceof OffsetDateTime offset ? offset.toInstant()
                : ((LocalDateTime) value).atZone(clock.getZone()).toInstant();
    }

    /** A failed read on a merged read's thread, carried back to the caller. */
    private static final class StoreFailed extends RuntimeException {
        private static final long serialVersionUID = 1L;

        StoreFailed(SQLException cause) {
            super(cause);
        }
    }

    /**
     * A merged read's result.
     *
     * @param rows the rows, one per key, in key order
     * @param fromSource how many rows the source returned
     * @param fromTarget how many rows the target returned
     * @param duplicates how many keys both returned (zero unless rows were copied by hand)
     */
    public record MergedRows(List<Map<String, Object>> rows, int fromSource, int fromTarget, int duplicates) {
    }

    /**
     * What the stores still hold of a table.
     *
     * @param table the table's name
     * @param liveInSource rows of the source not yet expired, those that never expire included
     * @param neverExpiringInSource of them, rows whose expiry is null
     * @param rowsInSource all rows of the source, expired ones included
     * @param lastExpiryInSource the latest expiry time in the source, or null if it holds no row with one:
     *     when the source's last expiring row dies
     * @param liveInTarget rows of the target not yet expired
     * @param at when it was counted
     */
    public record LiveRows(String table, long liveInSource, long neverExpiringInSource, long rowsInSource,
            Instant lastExpiryInSource, long liveInTarget, Instant at) {

        /** @return whether the source holds no live row, so its table can be archived */
        public boolean archivable() {
            return liveInSource == 0;
        }
    }

    /** A table with its statements, resolved against both stores. */
    private record Table(ExpiringTable config, String sourceName, String targetName, BigDecimal boundary,
            ColumnMetadata sourceExpires, ColumnMetadata targetExpires, String existsInTarget, String sourceReport,
            String targetLive) {

        /** Whether a time column holds instants (a zone or offset) rather than wall-clock times. */
        boolean zoned(ColumnMetadata column) {
            String type = column.typeName() == null ? "" : column.typeName().toLowerCase(Locale.ROOT);
            return column.jdbcType() == Types.TIMESTAMP_WITH_TIMEZONE || type.contains("timestamptz")
                    || type.contains("with time zone");
        }

        /**
         * The current time bound as the expiry column's own type, so the comparison runs in the database; a
         * wall-clock column is read in the clock's zone.
         */
        Object nowFor(ColumnMetadata column, Instant now, Clock clock) {
            if (zoned(column)) {
                return OffsetDateTime.ofInstant(now, ZoneOffset.UTC);
            }
            if (column.jdbcType() == Types.DATE) {
                return LocalDate.ofInstant(now, clock.getZone());
            }
            return LocalDateTime.ofInstant(now, clock.getZone());
        }
    }

    /** Builds an {@link IncrementalMigration}, checking every table against both stores. */
    public static final class Builder {
        private final DataSource source;
        private final DataSource target;
        private final List<ExpiringTable> tables = new ArrayList<>();
        private Set<String> mirroredTables = Set.of();
        private Clock clock = Clock.systemDefaultZone();
        private Duration queryTimeout = Duration.ofSeconds(10);

        private Builder(DataSource source, DataSource target) {
            this.source = Objects.requireNonNull(source, "source");
            this.target = Objects.requireNonNull(target, "target");
        }

        /**
         * @param table a table to migrate incrementally
         * @return this builder
         */
        public Builder table(ExpiringTable table) {
            tables.add(Objects.requireNonNull(table, "table"));
            return this;
        }

        /**
         * Names the tables the mirror maps: none of them may also be migrated incrementally.
         *
         * @param names the mirrored tables' names
         * @return this builder
         */
        public Builder mirroredTables(Set<String> names) {
            this.mirroredTables = Set.copyOf(names);
            return this;
        }

        /**
         * @param clock the clock that says what has expired; its zone reads zone-less expiry columns
         * @return this builder
         */
        public Builder clock(Clock clock) {
            this.clock = Objects.requireNonNull(clock, "clock");
            return this;
        }

        /**
         * @param timeout the longest a store may take to answer one query
         * @return this builder
         */
        public Builder queryTimeout(Duration timeout) {
            if (timeout == null || timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("dualwrite.incremental.query-timeout: must be positive, was " + timeout);
            }
            this.queryTimeout = timeout;
            return this;
        }

        /**
         * @return the migration
         * @throws MappingException listing every table, column and property that does not fit the stores
         * @throws SQLException if a store cannot be read
         */
        public IncrementalMigration build() throws SQLException {
            List<String> problems = new ArrayList<>();
            Map<String, Table> resolved = new LinkedHashMap<>();
            Set<String> mirrored = new java.util.HashSet<>();
            mirroredTables.forEach(name -> mirrored.add(name.toLowerCase(Locale.ROOT)));
            try (Connection sourceConnection = source.getConnection();
                    Connection targetConnection = target.getConnection()) {
                Dialect sourceDialect = Dialect.of(sourceConnection);
                Dialect targetDialect = Dialect.of(targetConnection);
                for (ExpiringTable table : tables) {
                    String prefix = "dualwrite.incremental.tables." + table.name() + ".";
                    if (resolved.containsKey(table.name())) {
                        problems.add(prefix + ": the table is configured twice");
                        continue;
                    }
                    if (mirrored.contains(table.sourceTable().toLowerCase(Locale.ROOT))
                            || mirrored.contains(table.name().toLowerCase(Locale.ROOT))) {
                        problems.add(prefix + ": table '" + table.name() + "' is also mapped for mirroring"
                                + " (dualwrite.tables." + table.name() + "); a table is either mirrored and backfilled"
                                + " or migrated incrementally, not both");
                        continue;
                    }
                    int before = problems.size();
                    TableMetadata sourceTable = metadata(sourceConnection, table.sourceTable(), "source", prefix
                            + "source-table", problems);
                    TableMetadata targetTable = metadata(targetConnection, table.targetTable(), "target", prefix
                            + "target-table", problems);
                    if (sourceTable == null || targetTable == null) {
                        continue;
                    }
                    ColumnMetadata sourceExpires = column(sourceTable, table.expiresColumn(), "source",
                            prefix + "expires-column", problems);
                    ColumnMetadata targetExpires = column(targetTable, table.expiresColumn(), "target",
                            prefix + "expires-column", problems);
                    checkTime(sourceExpires, "source", prefix + "expires-column", problems);
                    checkTime(targetExpires, "target", prefix + "expires-column", problems);
                    for (TableMetadata meta : List.of(sourceTable, targetTable)) {
                        String store = meta == sourceTable ? "source" : "target";
                        column(meta, table.keyColumn(), store, prefix + "key-column", problems);
                        if (!meta.primaryKey().stream().map(k -> k.toLowerCase(Locale.ROOT)).toList()
                                .equals(List.of(table.keyColumn().toLowerCase(Locale.ROOT)))) {
                            problems.add(prefix + "key-column: '" + table.keyColumn() + "' is not the whole primary key"
                                    + " of " + store + " table '" + meta.name() + "' (its key: " + meta.primaryKey()
                                    + "); merged reads and routes need a single-column key");
                        }
                        if (table.split() == ExpiringTable.Split.CREATED_FROM) {
                            checkTime(column(meta, table.createdColumn(), store, prefix + "created-column", problems),
                                    store, prefix + "created-column", problems);
                        }
                    }
                    if (problems.size() > before) {
                        continue;
                    }
                    BigDecimal boundary = table.keyBoundary() == null ? null
                            : new BigDecimal(table.keyBoundary().toString());
                    if (boundary != null) {
                        checkBoundary(table, boundary, sourceConnection, sourceDialect, sourceTable, targetConnection,
                                targetDialect, targetTable, prefix, problems);
                    }
                    resolved.put(table.name(), table(table, boundary, sourceDialect, sourceTable, sourceExpires,
                            targetDialect, targetTable, targetExpires));
                }
            }
            if (!problems.isEmpty()) {
                throw new MappingException(problems);
            }
            return new IncrementalMigration(this, Map.copyOf(resolved));
        }

        private static Table table(ExpiringTable table, BigDecimal boundary, Dialect sourceDialect,
                TableMetadata sourceTable, ColumnMetadata sourceExpires, Dialect targetDialect, TableMetadata targetTable,
                ColumnMetadata targetExpires) {
            String sourceName = sourceDialect.tableName(sourceTable);
            String targetName = targetDialect.tableName(targetTable);
            String sourceKey = sourceDialect.quote(sourceTable.storedName(table.keyColumn()));
            String targetKey = targetDialect.quote(targetTable.storedName(table.keyColumn()));
            String sourceExpiry = sourceDialect.quote(sourceExpires.name());
            String targetExpiry = targetDialect.quote(targetExpires.name());
            String exists = Dialect.MARKER + " SELECT 1 FROM " + targetName + " WHERE " + targetKey + " = ?";
            String report = Dialect.MARKER + " SELECT COUNT(CASE WHEN " + sourceExpiry + " IS NULL OR " + sourceExpiry
                    + " > ? THEN 1 END), COUNT(CASE WHEN " + sourceExpiry + " IS NULL THEN 1 END), COUNT(" + sourceKey
                    + "), MAX(" + sourceExpiry + ") FROM " + sourceName;
            String targetLive = Dialect.MARKER + " SELECT COUNT(*) FROM " + targetName + " WHERE " + targetExpiry
                    + " IS NULL OR " + targetExpiry + " > ?";
            return new Table(table, sourceName, targetName, boundary, sourceExpires, targetExpires, exists, report,
                    targetLive);
        }

        /**
         * A key boundary holds only if the source has no key above it and the target none at or below it, and
         * the source takes no new rows: anything else would send a row's update to the store without it.
         */
        private static void checkBoundary(ExpiringTable table, BigDecimal boundary, Connection sourceConnection,
                Dialect sourceDialect, TableMetadata sourceTable, Connection targetConnection, Dialect targetDialect,
                TableMetadata targetTable, String prefix, List<String> problems) throws SQLException {
            String sourceKey = sourceDialect.quote(sourceTable.storedName(table.keyColumn()));
            Object sourceMax = single(sourceConnection, Dialect.MARKER + " SELECT MAX(" + sourceKey + ") FROM "
                    + sourceDialect.tableName(sourceTable));
            if (sourceMax != null && new BigDecimal(sourceMax.toString()).compareTo(boundary) > 0) {
                problems.add(prefix + "new-keys-above: the source already holds key " + sourceMax + " above the boundary "
                        + boundary + "; set the boundary at or above the source's largest key, and stop the source"
                        + " creating rows of '" + table.name() + "'");
            }
            String targetKey = targetDialect.quote(targetTable.storedName(table.keyColumn()));
            Object targetMin = single(targetConnection, Dialect.MARKER + " SELECT MIN(" + targetKey + ") FROM "
                    + targetDialect.tableName(targetTable));
            if (targetMin != null && new BigDecimal(targetMin.toString()).compareTo(boundary) <= 0) {
                problems.add(prefix + "new-keys-above: the target holds key " + targetMin + " at or below the boundary "
                        + boundary + ", which would be read as the source's; start the target's key generator above"
                        + " the boundary");
            }
        }

        private static Object single(Connection connection, String sql) throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement(sql);
                    ResultSet rows = statement.executeQuery()) {
                return rows.next() ? rows.getObject(1) : null;
            }
        }

        private static TableMetadata metadata(Connection connection, String table, String store, String property,
                List<String> problems) throws SQLException {
            TableMetadata meta = TableMetadata.read(connection, table).orElse(null);
            if (meta == null) {
                problems.add(property + ": table '" + table + "' does not exist in the " + store);
            }
            return meta;
        }

        private static ColumnMetadata column(TableMetadata table, String column, String store, String property,
                List<String> problems) {
            ColumnMetadata found = table.column(column).orElse(null);
            if (found == null) {
                problems.add(property + ": column '" + column + "' does not exist in " + store + " table '"
                        + table.name() + "'");
            }
            return found;
        }

        private static void checkTime(ColumnMetadata column, String store, String property, List<String> problems) {
            if (column == null) {
                return;
            }
            int type = column.jdbcType();
            if (type != Types.TIMESTAMP && type != Types.TIMESTAMP_WITH_TIMEZONE && type != Types.DATE) {
                problems.add(property + ": column '" + column.name() + "' of the " + store + " is " + column.typeName()
                        + ", not a date or timestamp");
            }
        }
    }
}
