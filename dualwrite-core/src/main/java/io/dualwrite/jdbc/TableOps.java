package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The statements one table needs, bound and run on a connection the caller owns: keyed read (optionally
 * under the non-waiting share lock), guarded batch upsert, batched delete and keyset scan. It never
 * opens, commits or closes connections; transactions are the caller's.
 *
 * <p>Values are plain Java values, so that a row read from one store can be written to another: JSON
 * columns ({@code json}, {@code jsonb}, H2 {@code JSON}; MySQL's JSON is text anyway) are read and
 * written as their text on every store.
 *
 * <p>Thread-safe: it holds only the generated SQL, cached per statement shape.
 */
public final class TableOps {

    /** Keys bound by one keyed read; larger sets are read in several statements. */
    static final int MAX_KEYS_PER_SELECT = 256;
    /**
     * The bulk paths write straight into the table while at most one row in this many of a chunk is there already
     * (see {@link #straightIn}); beyond it the staging table's one merge of every row is cheaper. Measured
     * (BENCHMARKS.md, "Backfill through COPY"): with 1 row in 10 there, straight in made 1.28x / 1.43x the
     * merge at 1 / 2 threads; with 1 in 2 there, 0.71x / 0.84x. The two cross between 1 in 4 and 1 in 3.
     */
    private static final int MAX_PRESENT_SHARE = 5;
    /**
     * Rows already there that take the staging table's merge rather than the batched upsert, once the rest went
     * straight in: from this many, one more bulk write and one statement cost less than binding every row.
     */
    private static final int STAGED_MERGE_MIN_ROWS = 256;

    private final Dialect dialect;
    private final TableMetadata table;
    private final List<String> columns;
    private final List<String> keyColumns;
    private final String versionColumn;
    private final ColumnMetadata[] columnTypes;
    private final int[] keyPositions;
    /** Per key column, in key order: the one form its values take (see {@link KeyCodec}). */
    private final KeyCodec[] keyCodecs;
    /** Per column read and written: its key codec when it is a key column, else null. */
    private final KeyCodec[] codecByColumn;
    private final boolean foldsKeys;
    private final Map<Integer, String> lockedSelects = new ConcurrentHashMap<>();
    private final Map<Integer, String> plainSelects = new ConcurrentHashMap<>();
    private final String[] canonicalColumns;
    /** The column layout every row this table reads shares. */
    private final Row.Layout layout;
    private final String[] canonicalKeyColumns;
    private final String upsertSql;
    private final String overwriteSql;
    /** The columns written: those read, less the generated ones, which the database computes. */
    private final java.util.BitSet writable;
    /** Key and version columns: every row written carries them. */
    private final java.util.BitSet required;
    /** Upsert and overwrite statements of rows that leave some writable columns to the table, per column set. */
    private final Map<java.util.BitSet, String[]> partialWrites = new ConcurrentHashMap<>();
    private final String deleteSql;
    private final List<List<String>> uniqueKeys;
    /** The COPY path's statements and column kinds, made on its first use (PostgreSQL only). */
    private volatile CopyStatements copyStatements;
    /** The LOAD DATA path's statements and column kinds, made on its first use (MariaDB and MySQL only). */
    private volatile LoadStatements loadStatements;
    private final List<String> holderColumns;
    private final boolean verifyOwnRow;
    /** Whether writes carry the logical message that PostgreSQL's change-data capture skips as an echo. */
    private volatile boolean markWritesForLogicalDecoding;
    /** Set once, before the table is shared, when the table is a sharded store's logical table. */
    private volatile ShardedOps sharded;

    /**
     * Creates the operations for a table.
     *
     * @param dialect the table's store's dialect
     * @param table the table's metadata
     * @param columns the columns read and written, in any case; key columns must be among them
     * @param keyColumns the key columns, in key order
     * @param versionColumn the version column, or {@code null} for a table without one
     * @throws IllegalArgumentException if a column does not exist, a key column is not selected, or a key
     *     column's type cannot be a key ({@link KeyCodec#unsupported})
     */
    public TableOps(Dialect dialect, TableMetadata table, List<String> columns, List<String> keyColumns,
            String versionColumn) {
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.table = Objects.requireNonNull(table, "table");
        this.columns = columns.stream().map(table::storedName).toList();
        this.keyColumns = keyColumns.stream().map(table::storedName).toList();
        this.versionColumn = versionColumn == null ? null : table.storedName(versionColumn);
        if (this.keyColumns.isEmpty()) {
            throw new IllegalArgumentException("table '" + table.name() + "' needs at least one key column");
        }
        this.keyPositions = new int[this.keyColumns.size()];
        for (int i = 0; i < this.keyColumns.size(); i++) {
            int position = this.columns.indexOf(this.keyColumns.get(i));
            if (position < 0) {
                throw new IllegalArgumentException("key column '" + this.keyColumns.get(i) + "' of table '"
                        + table.name() + "' must be among the columns read");
            }
            keyPositions[i] = position;
        }
        this.columnTypes = this.columns.stream().map(c -> table.column(c).orElseThrow()).toArray(ColumnMetadata[]::new);
        this.keyCodecs = new KeyCodec[keyPositions.length];
        this.codecByColumn = new KeyCodec[this.columns.size()];
        for (int i = 0; i < keyPositions.length; i++) {
            keyCodecs[i] = KeyCodec.of(table.name(), columnTypes[keyPositions[i]], dialect.product());
            codecByColumn[keyPositions[i]] = keyCodecs[i];
        }
        this.foldsKeys = java.util.Arrays.stream(keyCodecs).anyMatch(KeyCodec::folds);
        this.canonicalColumns = this.columns.stream().map(Row::canonical).toArray(String[]::new);
        this.layout = new Row.Layout(canonicalColumns);
        this.writable = new java.util.BitSet(this.columns.size());
        for (int i = 0; i < this.columns.size(); i++) {
            if (!table.isGenerated(this.columns.get(i))) {
                writable.set(i);
            }
        }
        this.required = new java.util.BitSet(this.columns.size());
        for (int position : keyPositions) {
            required.set(position);
        }
        if (this.versionColumn != null && this.columns.contains(this.versionColumn)) {
            required.set(this.columns.indexOf(this.versionColumn));
        }
        List<String> written = columnsOf(writable);
        this.upsertSql = dialect.guardedUpsert(table, written, this.keyColumns, this.versionColumn);
        this.overwriteSql = dialect.guardedUpsert(table, written, this.keyColumns, null);
        this.canonicalKeyColumns = this.keyColumns.stream().map(Row::canonical).toArray(String[]::new);
        this.deleteSql = dialect.deleteByKey(table, this.keyColumns);
        // An index over a column this mapping does not write cannot be looked up by a row's values; the index
        // over the key columns themselves (a table whose key is a unique constraint, not a primary key) is the
        // key, in which no other key's row can collide.
        this.uniqueKeys = table.uniqueKeys().stream().filter(this.columns::containsAll)
                .filter(unique -> !(unique.size() == this.keyColumns.size() && unique.containsAll(this.keyColumns)))
                .toList();
        List<String> holder = new ArrayList<>(this.keyColumns);
        uniqueKeys.forEach(unique -> unique.stream().filter(c -> !holder.contains(c)).forEach(holder::add));
        this.holderColumns = List.copyOf(holder);
        Dialect.Product product = dialect.product();
        this.verifyOwnRow = !uniqueKeys.isEmpty()
                && (product == Dialect.Product.MARIADB || product == Dialect.Product.MYSQL);
    }

    /**
     * Makes this the logical table of a sharded store: every statement that takes a connection then runs, with
     * this same dialect SQL, on the physical tables of {@code physical}, reached through the connection's
     * {@link ShardedStore}. Rows go to the shard the layout names for their sharding values; keys go to the one
     * shard they name when the key holds every sharding column, else to every shard. Reads by key and scans
     * merge the shards' answers; {@link #canCopy} is false (COPY's staging table is per session).
     *
     * @param layout the sharding engine's layout of this logical table
     * @param physical the operations of each physical table, made with the same columns, keys and version column
     * @return this
     * @throws IllegalStateException if this table is already sharded
     * @throws IllegalArgumentException if a shard of the layout has no operations, or they differ in columns
     */
    public TableOps shardedOver(ShardLayout layout, Map<ShardLayout.Shard, TableOps> physical) {
        if (sharded != null) {
            throw new IllegalStateException("table '" + table.name() + "' is already sharded");
        }
        for (Map.Entry<ShardLayout.Shard, TableOps> entry : physical.entrySet()) {
            if (!entry.getValue().columns.equals(columns) || !entry.getValue().keyColumns.equals(keyColumns)) {
                throw new IllegalArgumentException("logical table '" + table.name() + "': shard " + entry.getKey()
                        + " has columns " + entry.getValue().columns + " and key " + entry.getValue().keyColumns
                        + ", the logical table " + columns + " and key " + keyColumns);
            }
        }
        this.sharded = new ShardedOps(layout, physical, java.util.Arrays.asList(canonicalKeyColumns));
        return this;
    }

    /**
     * The table's row count from the store's statistics: of every physical table summed, when it is sharded.
     *
     * @param connection a connection to this table's store
     * @return the estimate, or -1 when unknown (for a sharded table: when any shard's is)
     * @throws SQLException on any database error
     */
    public long estimateRows(Connection connection) throws SQLException {
        ShardedOps shards = sharded;
        if (shards == null) {
            return dialect.estimateRows(connection, table);
        }
        long total = 0;
        for (ShardLayout.Shard shard : shards.layout().shards()) {
            long rows = shards.ops(shard).estimateRows(shards.connection(connection, shard));
            if (rows < 0) {
                return -1;
            }
            total += rows;
        }
        return total;
    }

    /** @return the sharding engine's layout of this table, when it is a sharded store's logical table */
    public java.util.Optional<ShardLayout> shardLayout() {
        ShardedOps shards = sharded;
        return shards == null ? java.util.Optional.empty() : java.util.Optional.of(shards.layout());
    }

    /**
     * The operations of one physical table of this sharded table, to read or write that shard directly (its
     * connection from {@link ShardedStore#shard}).
     *
     * @param shard a shard of {@link #shardLayout()}
     * @return its operations
     * @throws IllegalStateException if this table is not sharded
     * @throws IllegalArgumentException if the shard is not one of this table's
     */
    public TableOps shardOps(ShardLayout.Shard shard) {
        ShardedOps shards = sharded;
        if (shards == null) {
            throw new IllegalStateException("table '" + table.name() + "' is not sharded");
        }
        TableOps ops = shards.ops(shard);
        if (ops == null) {
            throw new IllegalArgumentException("shard " + shard + " is not a shard of table '" + table.name() + "'");
        }
        return ops;
    }

    /** @return the table */
    public TableMetadata table() {
        return table;
    }

    /** @return the dialect */
    public Dialect dialect() {
        return dialect;
    }

    /** @return the columns read and written, as stored */
    public List<String> columns() {
        return columns;
    }

    /** @return the key columns, as stored */
    public List<String> keyColumns() {
        return keyColumns;
    }

    /** @return the version column as stored, or {@code null} */
    public String versionColumn() {
        return versionColumn;
    }

    /**
     * The table's unique indexes besides the primary key whose columns are all among {@link #columns()}:
     * the ones a written row can collide in with another key's row.
     *
     * @return each index's stored column names; empty when the key is the only unique index
     */
    public List<List<String>> uniqueKeys() {
        return uniqueKeys;
    }

    /** @return the guarded upsert statement, for logs and tests */
    public String upsertSql() {
        return upsertSql;
    }

    /**
     * Returns a row's key, in canonical form.
     *
     * @param row a row of this table
     * @return its key
     * @throws IllegalArgumentException if a key value is null or does not fit its column
     */
    public RowKey keyOf(Row row) {
        List<Object> values = new ArrayList<>(canonicalKeyColumns.length);
        // A row this table read: its key values by position, without a name look-up per row.
        Object[] read = row.positional(layout);
        for (int i = 0; i < canonicalKeyColumns.length; i++) {
            Object value = read != null ? read[keyPositions[i]] : row.get(canonicalKeyColumns[i]);
            values.add(value == null ? null : keyCodecs[i].canonical(value));
        }
        return RowKey.of(values);
    }

    /**
     * Brings a key to the one form its columns' types give it (see {@link KeyCodec}): the form rows read
     * from this table have, so that keys recorded by an application, decoded from a library table's JSON
     * or mapped from the other store compare, hash and coalesce with the keys of the rows read.
     *
     * @param key a key of this table in any accepted form
     * @return the canonical key; the same instance when it already was
     * @throws IllegalArgumentException if the key has the wrong number of values, or a value does not fit
     *     its column (the message names the table, the column, its type and the value)
     */
    public RowKey canonicalKey(RowKey key) {
        checkSize(key);
        List<Object> values = null;
        for (int i = 0; i < key.size(); i++) {
            Object value = key.get(i);
            Object canonical = keyCodecs[i].canonical(value);
            if (values == null && canonical != value) {
                values = new ArrayList<>(key.values().subList(0, i));
            }
            if (values != null) {
                values.add(canonical);
            }
        }
        return values == null ? key : RowKey.of(values);
    }

    /** @return whether a key column's collation is not exact, so that {@link #foldedKey} differs from the key */
    public boolean foldsKeys() {
        return foldsKeys;
    }

    /**
     * The form this store compares a key by: text of key columns with a case-insensitive or PAD SPACE
     * collation folded (see {@link KeyCodec#folded}). Two keys with equal folded keys name one row here,
     * such as {@code 'Ab'} and {@code 'ab '} under {@code utf8mb4_general_ci}, so a row read back under one
     * spelling is the row asked for under the other.
     *
     * @param key a canonical key of this table
     * @return the folded key; the key itself when nothing folds
     */
    public RowKey foldedKey(RowKey key) {
        if (!foldsKeys()) {
            return key;
        }
        checkSize(key);
        List<Object> values = new ArrayList<>(key.size());
        for (int i = 0; i < key.size(); i++) {
            values.add(keyCodecs[i].folded(key.get(i)));
        }
        return RowKey.of(values);
    }

    /**
     * Finds the keys of this table's rows that a store comparing by {@code foldedBy}'s collations takes
     * for one of {@code keys}: on a case-sensitive target, the rows {@code 'Key-1'} and {@code 'KEY-1'} that a
     * source under {@code utf8mb4_general_ci} holds as one row. Keys correspond column by column; the SQL
     * narrows the rows read, and the caller compares what it reads by {@code foldedBy}'s own folding.
     *
     * @param connection the connection, in the caller's transaction
     * @param keys canonical keys of {@code foldedBy}'s table
     * @param foldedBy the table whose collations equate spellings
     * @return the keys of the rows found, in this table's canonical form
     * @throws SQLException on any database error
     */
    public List<RowKey> keysFoldedLike(Connection connection, Collection<RowKey> keys, TableOps foldedBy)
            throws SQLException {
        if (keys.isEmpty() || foldedBy.keyCodecs.length != keyCodecs.length) {
            return List.of();
        }
        ShardedOps shards = sharded;
        if (shards != null) {
            // Another spelling of a key may live on any shard: the sharding value of the spelling asked for says nothing.
            List<RowKey> found = new ArrayList<>();
            for (ShardLayout.Shard shard : shards.layout().shards()) {
                found.addAll(shards.ops(shard).keysFoldedLike(shards.connection(connection, shard), keys, foldedBy));
            }
            return found;
        }
        // Only text holds spellings: a uuid or a number compares exactly wherever it is kept.
        boolean[] fold = new boolean[keyCodecs.length];
        boolean any = false;
        for (int i = 0; i < keyCodecs.length; i++) {
            fold[i] = foldedBy.keyCodecs[i].folds() && keyCodecs[i].holdsText() && !keyCodecs[i].folds();
            any |= fold[i];
        }
        if (!any) {
            return List.of();
        }
        StringBuilder one = new StringBuilder("(");
        for (int i = 0; i < keyColumns.size(); i++) {
            String column = dialect.quote(keyColumns.get(i));
            one.append(i == 0 ? "" : " AND ").append(fold[i] ? foldedBy.keyCodecs[i].foldedSql(column) : column)
                    .append(" = ?");
        }
        one.append(')');
        List<RowKey> found = new ArrayList<>();
        List<RowKey> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += MAX_KEYS_PER_SELECT) {
            List<RowKey> slice = all.subList(from, Math.min(all.size(), from + MAX_KEYS_PER_SELECT));
            String sql = Dialect.MARKER + " SELECT " + String.join(", ", keyColumns.stream().map(dialect::quote).toList())
                    + " FROM " + dialect.tableName(table) + " WHERE "
                    + String.join(" OR ", java.util.Collections.nCopies(slice.size(), one));
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int index = 1;
                for (RowKey key : slice) {
                    for (int i = 0; i < key.size(); i++) {
                        Object value = fold[i] ? foldedBy.keyCodecs[i].foldedForSql(key.get(i))
                                : keyCodecs[i].bindable(keyCodecs[i].canonical(key.get(i)));
                        dialect.bind(statement, index++, value, columnTypes[keyPositions[i]]);
                    }
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        List<Object> values = new ArrayList<>(keyCodecs.length);
                        for (int i = 0; i < keyCodecs.length; i++) {
                            Object value = dialect.read(rs, i + 1, columnTypes[keyPositions[i]]);
                            values.add(value == null ? null : keyCodecs[i].canonical(value));
                        }
                        found.add(RowKey.of(values));
                    }
                }
            }
        }
        return found;
    }

    /**
     * Reads rows by key. With {@code lock}, the rows are share-locked until the caller's transaction
     * ends, and a row held by another writer fails the read at once with a lock conflict
     * ({@link Dialect#isLockConflict}) instead of waiting.
     *
     * @param connection the connection, in the caller's transaction when locking
     * @param keys the keys; missing rows are simply absent from the result
     * @param lock whether to take the non-waiting share lock
     * @return the rows found, keyed by their key
     * @throws DuplicateShardKeyException if the table is sharded and a key is on two of its shards
     * @throws SQLException on any database error, lock conflicts included
     */
    public Map<RowKey, Row> readByKeys(Connection connection, Collection<RowKey> keys, boolean lock)
            throws SQLException {
        ShardedOps shards = sharded;
        if (shards != null) {
            Map<RowKey, Row> found = new LinkedHashMap<>();
            Map<RowKey, ShardLayout.Shard> holders = new java.util.HashMap<>();
            for (Map.Entry<ShardLayout.Shard, List<RowKey>> group : shards.byShard(keys).entrySet()) {
                Map<RowKey, Row> rows = shards.ops(group.getKey()).readByKeys(
                        shards.connection(connection, group.getKey()), group.getValue(), lock);
                for (Map.Entry<RowKey, Row> row : rows.entrySet()) {
                    // A key asked of every shard may answer from two: report it, never let one copy win.
                    ShardLayout.Shard other = holders.putIfAbsent(row.getKey(), group.getKey());
                    if (other != null) {
                        throw new DuplicateShardKeyException(shards.layout().logicalTable(), row.getKey(),
                                List.of(other, group.getKey()));
                    }
                    found.put(row.getKey(), row.getValue());
                }
            }
            return found;
        }
        Map<RowKey, Row> found = new LinkedHashMap<>();
        List<RowKey> all = new ArrayList<>(keys);
        for (int from = 0; from < all.size(); from += MAX_KEYS_PER_SELECT) {
            List<RowKey> slice = all.subList(from, Math.min(all.size(), from + MAX_KEYS_PER_SELECT));
            Map<Integer, String> cache = lock ? lockedSelects : plainSelects;
            String sql = cache.computeIfAbsent(slice.size(),
                    n -> dialect.selectByKeys(table, columns, keyColumns, n, lock));
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int index = 1;
                for (RowKey key : slice) {
                    index = bindKey(statement, index, key);
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        Row row = readRow(rs);
                        found.put(keyOf(row), row);
                    }
                }
            }
        }
        return found;
    }

    /**
     * Makes this table's writes (upsert, overwrite, delete, COPY) on PostgreSQL carry a transactional logical
     * message with prefix {@code dualwrite} in the caller's transaction, which the logical-decoding
     * change-data capture of this store recognises as the library's own write (an echo) and skips. Set by
     * that capture while it runs; writes in autocommit mode carry none (their echo is a harmless extra apply).
     *
     * @param mark whether to mark writes
     */
    public void markWritesForLogicalDecoding(boolean mark) {
        this.markWritesForLogicalDecoding = mark && dialect.product() == Dialect.Product.POSTGRESQL;
        ShardedOps shards = sharded;
        if (shards != null) {
            shards.physical().forEach(ops -> ops.markWritesForLogicalDecoding(mark));
        }
    }

    private void markOwnWrite(Connection connection) throws SQLException {
        if (markWritesForLogicalDecoding && !connection.getAutoCommit()) {
            try (java.sql.Statement statement = connection.createStatement()) {
                statement.execute(Dialect.MARKER + " SELECT pg_logical_emit_message(true, 'dualwrite', '')");
            }
        }
    }

    /**
     * Writes rows with the version-guarded upsert in one JDBC batch: a missing row is inserted, a
     * stored row is replaced only when its version is not newer.
     *
     * @param connection the connection, in the caller's transaction
     * @param rows rows carrying the key and version columns and every column of {@link #columns()} the table
     *     does not fill itself (see {@link #overwrite}); at most one row per key
     * @throws java.sql.SQLNonTransientException if the table is sharded without a rule and a row's key is on no
     *     shard (the library does not pick a shard for a new key)
     * @throws SQLException on any database error
     */
    public void upsert(Connection connection, Collection<Row> rows) throws SQLException {
        if (writeSharded(connection, rows, true)) {
            return;
        }
        writeBatch(connection, rows, true);
    }

    /**
     * Writes rows in one JDBC batch, inserting missing rows and replacing stored rows that differ,
     * whatever their versions: for writers that are already ordered by the source's row locks, where
     * the latest commit must win even if the application gave it an older version (see
     * {@code model/README.md}). Identical rows are not rewritten.
     *
     * <p>Generated columns are never written. A row that leaves out a column (other than a key or the version
     * column) leaves it to the table: an insert gives it the column's default or {@code NULL}, an update keeps
     * the stored value.
     *
     * @param connection the connection, in the caller's transaction
     * @param rows rows carrying the key and version columns; at most one row per key
     * @throws SQLException on any database error
     */
    public void overwrite(Connection connection, Collection<Row> rows) throws SQLException {
        if (writeSharded(connection, rows, false)) {
            return;
        }
        writeBatch(connection, rows, false);
    }

    private boolean writeSharded(Connection connection, Collection<Row> rows, boolean guarded) throws SQLException {
        ShardedOps shards = sharded;
        if (shards == null) {
            return false;
        }
        for (Map.Entry<ShardLayout.Shard, List<Row>> group : shards.rowsByShard(connection, rows, this::keyOf)
                .entrySet()) {
            TableOps ops = shards.ops(group.getKey());
            Connection shard = shards.connection(connection, group.getKey());
            if (guarded) {
                ops.upsert(shard, group.getValue());
            } else {
                ops.overwrite(shard, group.getValue());
            }
        }
        return true;
    }

    /**
     * Writes rows in batches of consecutive rows that carry the same columns, keeping their order. A row may
     * leave out columns the table fills itself (a default, or {@code NULL}): they are not named in its
     * statement, so an insert gives them the table's value and an update keeps the stored one. Generated
     * columns are never written.
     */
    private void writeBatch(Connection connection, Collection<Row> rows, boolean guarded) throws SQLException {
        if (rows.isEmpty()) {
            return;
        }
        markOwnWrite(connection);
        List<Row> run = new ArrayList<>();
        java.util.BitSet runColumns = null;
        for (Row row : rows) {
            java.util.BitSet carried = carried(row);
            if (runColumns != null && !carried.equals(runColumns)) {
                writeRun(connection, run, runColumns, guarded);
                run = new ArrayList<>();
            }
            runColumns = carried;
            run.add(row);
        }
        writeRun(connection, run, runColumns, guarded);
        if (verifyOwnRow) {
            verifyOwnRows(connection, rows);
        }
    }

    /** @return the writable columns the row carries: {@link #writable} itself when it carries them all */
    private java.util.BitSet carried(Row row) {
        Map<String, Object> values = row.asMap();
        java.util.BitSet carried = null;
        for (int i = writable.nextSetBit(0); i >= 0; i = writable.nextSetBit(i + 1)) {
            if (!values.containsKey(canonicalColumns[i])) {
                if (required.get(i)) {
                    throw new IllegalArgumentException("a row of table '" + table.name() + "' has no value for its key"
                            + " or version column '" + columns.get(i) + "'");
                }
                if (carried == null) {
                    carried = (java.util.BitSet) writable.clone();
                }
                carried.clear(i);
            }
        }
        return carried == null ? writable : carried;
    }

    private void writeRun(Connection connection, List<Row> rows, java.util.BitSet written, boolean guarded)
            throws SQLException {
        String sql;
        if (written.equals(writable)) {
            sql = guarded ? upsertSql : overwriteSql;
        } else {
            String[] statements = partialWrites.computeIfAbsent(written, w -> new String[] {
                    dialect.guardedUpsert(table, columnsOf(w), keyColumns, versionColumn),
                    dialect.guardedUpsert(table, columnsOf(w), keyColumns, null)});
            sql = statements[guarded ? 0 : 1];
        }
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            for (Row row : rows) {
                int index = 1;
                for (int i = written.nextSetBit(0); i >= 0; i = written.nextSetBit(i + 1)) {
                    Object value = row.get(canonicalColumns[i]);
                    if (value != null && codecByColumn[i] != null) {
                        // A key value from the other store (a uuid for a CHAR(36), bytes for a uuid) in this one's form.
                        value = codecByColumn[i].bindable(codecByColumn[i].canonical(value));
                    }
                    dialect.bind(statement, index++, value, columnTypes[i]);
                }
                statement.addBatch();
            }
            statement.executeBatch();
        }
    }

    /**
     * Writes rows as {@link #upsert} ({@code guarded}) or {@link #overwrite} do, with the very same guard and
     * change test, but through PostgreSQL's {@code COPY}: the rows are streamed into a temporary staging table
     * of this session and merged into the table by one {@code INSERT ... SELECT ... ON CONFLICT} (see
     * {@code PostgresCopy}), or, when the table holds few of their keys, those missing straight into the table and
     * the others through the guarded statement ({@link #straightIn}). Identical rows are left alone, as by the
     * batched statements.
     *
     * <p>Only for a PostgreSQL table, through pgjdbc ({@link #canCopy}), rows that carry every writable
     * column, and values whose COPY text is exact (see {@code CopyText}); otherwise nothing is written and
     * the reason is returned. After a reason or an exception the caller's transaction may be aborted or hold
     * staging rows: roll it back to a savepoint taken before the call, then write the rows the batched way.
     *
     * @param connection the connection, in the caller's transaction, with a savepoint taken before the call
     * @param rows at most one row per key
     * @param guarded true for {@link #upsert}'s version guard, false for {@link #overwrite}'s
     * @return empty if the rows are written; else why this path does not take them
     * @throws SQLException on any database error, a bad value included (the whole call is to be rolled back)
     * @throws IllegalStateException if the table is not a PostgreSQL table
     */
    public java.util.Optional<String> copyUpsert(Connection connection, List<Row> rows, boolean guarded) throws SQLException {
        if (dialect.product() != Dialect.Product.POSTGRESQL) {
            throw new IllegalStateException("COPY is PostgreSQL's; table '" + table.name() + "' is on "
                    + dialect.product());
        }
        if (sharded != null) {
            return java.util.Optional.of("table '" + table.name() + "' is sharded: COPY's staging table is one session's");
        }
        if (rows.isEmpty()) {
            return java.util.Optional.empty();
        }
        Row.Layout sameLayout = sameLayout(rows);
        if (!carryEveryColumn(rows, sameLayout)) {
            return java.util.Optional.of("a row leaves a column of table '" + table.name() + "' to the table");
        }
        CopyStatements statements = copyStatements(connection);
        // A backfill copies into a store whose log a change-data capture may read (the target during RAMP):
        // its rows must be told apart as the library's own like every other write of this table.
        markOwnWrite(connection);
        int[] positions = statements.positions;
        CopyText.Kind[] kinds = statements.kinds;
        Row.Layout layoutRead = sameLayout;
        PostgresCopy.RowEncoder<Row> encoder = (row, text) -> {
            Object[] values = layoutRead == null ? null : row.positional(layoutRead);
            for (int p = 0; p < positions.length; p++) {
                int i = positions[p];
                if (p > 0) {
                    text.nextField();
                }
                text.append(bulkValue(row, values, i), kinds[p], columnTypes[i]);
            }
        };
        try {
            String merge = guarded ? statements.upsert : statements.overwrite;
            BulkWrite staged = staging -> PostgresCopy.copyAndMerge(connection, statements.create, statements.copy,
                    merge, staging, encoder);
            if (statements.direct != null && straightIn(connection, statements.probe, rows, guarded,
                    absent -> PostgresCopy.copy(connection, statements.direct, absent, encoder), staged)) {
                return java.util.Optional.empty();
            }
            staged.write(rows);
            return java.util.Optional.empty();
        } catch (CopyText.Unsupported unsupported) {
            return java.util.Optional.of(unsupported.getMessage());
        }
    }

    /** Writes rows through one of the bulk paths; its failure is the caller's, as {@link #straightIn} says. */
    @FunctionalInterface
    private interface BulkWrite {
        void write(List<Row> rows) throws SQLException;
    }

    /**
     * Writes the rows straight into the table (COPY or LOAD DATA into the table itself) when it holds none or few of
     * their keys' span: a row whose key is not in the table would be an insert of the guarded merge, with nothing for
     * the guard or the change test to compare. The few rows whose keys are there (mirrored already) then take the
     * guarded statement: the staging table's one merge when they are many, else the batched upsert. A row inserted
     * meanwhile by another transaction (a mirror apply) fails the straight write with a duplicate key (which {@code
     * LOAD DATA LOCAL} only warns of, and {@code MariaDbLoadData} turns into the error); it is then rolled back to a
     * savepoint, and the caller sends every row through the staging table and the guarded merge.
     *
     * @param probe the keys the table holds in a span ({@code low}, {@code high}, at most {@code limit}), in key order
     * @param straight writes rows into the table itself, failing with a duplicate key on a key that is there
     * @param staged writes rows through the staging table and the guarded merge
     * @return true if the rows are written; false (nothing written) if the caller must stage them all
     */
    private boolean straightIn(Connection connection, String probe, List<Row> rows, boolean guarded, BulkWrite straight,
            BulkWrite staged) throws SQLException {
        long[] keys = new long[rows.size()];
        long low = Long.MAX_VALUE;
        long high = Long.MIN_VALUE;
        for (int r = 0; r < keys.length; r++) {
            Row row = rows.get(r);
            Object[] values = row.positional(layout);
            Object key = keyCodecs[0].canonical(values != null ? values[keyPositions[0]]
                    : row.get(canonicalColumns[keyPositions[0]]));
            if (!(key instanceof Long || key instanceof Integer || key instanceof Short || key instanceof Byte)) {
                return false;
            }
            keys[r] = ((Number) key).longValue();
            low = Math.min(low, keys[r]);
            high = Math.max(high, keys[r]);
        }
        // More rows there than this, and the merge's one statement is the cheaper way.
        int mostPresent = Math.max(1, rows.size() / MAX_PRESENT_SHARE);
        java.util.Set<Long> present = new java.util.HashSet<>();
        try (PreparedStatement statement = connection.prepareStatement(probe)) {
            statement.setLong(1, low);
            statement.setLong(2, high);
            statement.setInt(3, mostPresent + 1);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    present.add(rs.getLong(1));
                }
            }
        }
        if (present.size() > mostPresent) {
            return false;
        }
        List<Row> absent = rows;
        List<Row> there = List.of();
        if (!present.isEmpty()) {
            absent = new ArrayList<>(rows.size());
            there = new ArrayList<>(present.size());
            for (int r = 0; r < keys.length; r++) {
                (present.contains(keys[r]) ? there : absent).add(rows.get(r));
            }
        }
        java.sql.Savepoint beforeStraight = connection.setSavepoint();
        try {
            straight.write(absent);
        } catch (SQLException e) {
            if (!dialect.isDuplicateKey(e)) {
                throw e;
            }
            connection.rollback(beforeStraight);
            return false;
        }
        connection.releaseSavepoint(beforeStraight);
        if (there.size() >= STAGED_MERGE_MIN_ROWS) {
            staged.write(there);
        } else {
            writeBatch(connection, there, guarded);
        }
        return true;
    }

    /**
     * Whether {@link #copyUpsert} can run on this connection: a PostgreSQL table reached through pgjdbc.
     *
     * @param connection a connection to this table's store
     * @return true if the COPY path is open
     */
    public boolean canCopy(Connection connection) {
        if (dialect.product() != Dialect.Product.POSTGRESQL || sharded != null) {
            return false;
        }
        try {
            return PostgresCopy.available(connection);
        } catch (LinkageError driverMissing) {
            return false;
        }
    }

    /** The layout the rows were read with when it is this table's own columns (a table copied as it is), else null. */
    private Row.Layout sameLayout(List<Row> rows) {
        // Rows read with this very column layout are read by position, not by name.
        Row.Layout sameLayout = rows.get(0).layout();
        return sameLayout != null && sameLayout.sameColumns(canonicalColumns) ? sameLayout : null;
    }

    /**
     * Column {@code i} of a row as the bulk paths encode it: by position when the row has this table's layout
     * ({@code values}, else null), converted as the batched upsert would bind it.
     */
    private Object bulkValue(Row row, Object[] values, int i) {
        Object value = values != null ? values[i] : row.get(canonicalColumns[i]);
        return value != null && codecByColumn[i] != null ? codecByColumn[i].bindable(codecByColumn[i].canonical(value))
                : value;
    }

    /** Whether every row carries every writable column: the bulk paths write whole rows only. */
    private boolean carryEveryColumn(List<Row> rows, Row.Layout sameLayout) {
        for (Row row : rows) {
            if ((sameLayout == null || row.layout() != sameLayout) && carried(row) != writable) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes rows as {@link #upsert} ({@code guarded}) or {@link #overwrite} do, with the very same guard, but
     * through MariaDB's {@code LOAD DATA LOCAL INFILE}: the rows are streamed from memory into a temporary staging
     * table of this session merged into the table by one {@code INSERT ... SELECT ... ON DUPLICATE KEY UPDATE} (see
     * {@code MariaDbLoadData}), or, when the table holds few of their keys, those missing straight into the table and
     * the others through the guarded statement ({@link #straightIn}). Identical rows are left alone, as by the
     * batched statement.
     *
     * <p>Only for a MariaDB or MySQL table reached through MariaDB Connector/J ({@link #canLoadData}), rows that
     * carry every writable column, and values whose text is exact (see {@code LoadDataText}); otherwise nothing is
     * written and the reason is returned. After a reason or an exception the caller's transaction may hold staging
     * rows: roll it back to a savepoint taken before the call, then write the rows the batched way.
     *
     * @param connection the connection, in the caller's transaction, with a savepoint taken before the call
     * @param rows at most one row per key
     * @param guarded true for {@link #upsert}'s version guard, false for {@link #overwrite}'s
     * @return empty if the rows are written; else why this path does not take them
     * @throws SQLException on any database error, a bad value or a load that left a warning included (the whole
     *     call is to be rolled back); {@link #isLoadDataRefused} tells the server's refusal of {@code LOCAL INFILE}
     * @throws IllegalStateException if the table is not a MariaDB or MySQL table
     */
    public java.util.Optional<String> loadDataUpsert(Connection connection, List<Row> rows, boolean guarded)
            throws SQLException {
        if (!(dialect instanceof MySqlDialect mysql)) {
            throw new IllegalStateException("LOAD DATA is MariaDB's; table '" + table.name() + "' is on "
                    + dialect.product());
        }
        if (sharded != null) {
            return java.util.Optional.of("table '" + table.name() + "' is sharded: the staging table is one session's");
        }
        if (rows.isEmpty()) {
            return java.util.Optional.empty();
        }
        Row.Layout layoutRead = sameLayout(rows);
        if (!carryEveryColumn(rows, layoutRead)) {
            return java.util.Optional.of("a row leaves a column of table '" + table.name() + "' to the table");
        }
        LoadStatements statements = loadStatements(mysql);
        int[] positions = statements.positions;
        LoadDataText.Kind[] kinds = statements.kinds;
        MariaDbLoadData.RowEncoder<Row> encoder = (row, text) -> {
            Object[] values = layoutRead == null ? null : row.positional(layoutRead);
            for (int p = 0; p < positions.length; p++) {
                int i = positions[p];
                if (p > 0) {
                    text.nextField();
                }
                text.append(bulkValue(row, values, i), kinds[p], columnTypes[i]);
            }
        };
        try {
            String merge = guarded ? statements.upsert : statements.overwrite;
            BulkWrite staged = staging -> MariaDbLoadData.loadAndMerge(connection, statements.drop, statements.create,
                    statements.load, merge, staging, encoder);
            if (statements.direct != null && straightIn(connection, statements.probe, rows, guarded,
                    absent -> MariaDbLoadData.load(connection, statements.direct, absent, encoder), staged)) {
                return java.util.Optional.empty();
            }
            staged.write(rows);
            return java.util.Optional.empty();
        } catch (LoadDataText.Unsupported unsupported) {
            return java.util.Optional.of(unsupported.getMessage());
        }
    }

    /**
     * Whether {@link #loadDataUpsert} can run on this connection: a MariaDB or MySQL table reached through MariaDB
     * Connector/J. Whether the server allows {@code LOAD DATA LOCAL} is known only by trying
     * ({@link #isLoadDataRefused}).
     *
     * @param connection a connection to this table's store
     * @return true if the LOAD DATA path is open
     */
    public boolean canLoadData(Connection connection) {
        if (!(dialect instanceof MySqlDialect) || sharded != null) {
            return false;
        }
        try {
            return MariaDbLoadData.available(connection);
        } catch (LinkageError driverMissing) {
            return false;
        }
    }

    /**
     * Whether {@link #loadDataUpsert} failed because the server ({@code local_infile=OFF}) or the client
     * ({@code allowLocalInfile=false} on the URL) refuses {@code LOAD DATA LOCAL INFILE}.
     *
     * @param e the failure
     * @return true for that refusal
     */
    public static boolean isLoadDataRefused(SQLException e) {
        try {
            return MariaDbLoadData.isRefused(e);
        } catch (LinkageError driverMissing) {
            return false;
        }
    }

    /**
     * The LOAD DATA path's SQL for this table, with the kind of every written column; {@code direct} (the load into
     * the table itself) and {@code probe} (the keys the table holds in a span) are null unless the key is one
     * integral column.
     */
    private record LoadStatements(String drop, String create, String load, String upsert, String overwrite,
            String direct, String probe, int[] positions, LoadDataText.Kind[] kinds) {
    }

    private LoadStatements loadStatements(MySqlDialect mysql) {
        LoadStatements statements = loadStatements;
        if (statements == null) {
            List<String> written = columnsOf(writable);
            String prefix = table.name().replaceAll("[^A-Za-z0-9_]", "_");
            String name = "dw_stage_" + (prefix.length() > 30 ? prefix.substring(0, 30) : prefix) + "_"
                    + String.format("%016x", hash64(String.valueOf(table.schema()) + "." + table.name() + ":"
                            + written));
            // In the table's own schema: a pooled session may have no current database.
            String staging = dialect.quote(table.schema() == null ? name : table.schema() + "." + name);
            int[] positions = writable.stream().toArray();
            LoadDataText.Kind[] kinds = new LoadDataText.Kind[positions.length];
            StringBuilder fields = new StringBuilder();
            StringBuilder unhex = new StringBuilder();
            for (int p = 0; p < positions.length; p++) {
                kinds[p] = LoadDataText.Kind.of(columnTypes[positions[p]]);
                String column = dialect.quote(columns.get(positions[p]));
                fields.append(p == 0 ? "" : ", ");
                if (kinds[p] == LoadDataText.Kind.BINARY) {
                    // Bytes travel as hex and never meet the load's character set.
                    fields.append("@dw_hex").append(p);
                    unhex.append(unhex.length() == 0 ? " SET " : ", ").append(column).append(" = UNHEX(@dw_hex")
                            .append(p).append(')');
                } else {
                    fields.append(column);
                }
            }
            String drop = Dialect.MARKER + " DROP TEMPORARY TABLE IF EXISTS " + staging;
            String create = Dialect.MARKER + " CREATE TEMPORARY TABLE " + staging + " AS SELECT "
                    + dialect.columnList(written, "") + " FROM " + dialect.tableName(table) + " LIMIT 0";
            // The file name is never opened: the driver sends the stream it was given.
            String format = " CHARACTER SET utf8mb4 FIELDS TERMINATED BY X'09' ESCAPED BY X'5C' LINES TERMINATED BY"
                    + " X'0A' (" + fields + ")" + unhex;
            String load = Dialect.MARKER + " LOAD DATA LOCAL INFILE 'dualwrite.tsv' INTO TABLE " + staging + format;
            String direct = null;
            String probe = null;
            int keyType = columnTypes[keyPositions[0]].jdbcType();
            if (keyColumns.size() == 1 && (keyType == java.sql.Types.BIGINT || keyType == java.sql.Types.INTEGER
                    || keyType == java.sql.Types.SMALLINT || keyType == java.sql.Types.TINYINT)) {
                String key = dialect.quote(keyColumns.get(0));
                direct = Dialect.MARKER + " LOAD DATA LOCAL INFILE 'dualwrite.tsv' INTO TABLE " + dialect.tableName(table)
                        + format;
                probe = Dialect.MARKER + " SELECT " + key + " FROM " + dialect.tableName(table) + " WHERE " + key
                        + " >= ? AND " + key + " <= ? ORDER BY " + key + " LIMIT ?";
            }
            statements = new LoadStatements(drop, create, load,
                    mysql.guardedMerge(table, written, keyColumns, versionColumn, staging),
                    mysql.guardedMerge(table, written, keyColumns, null, staging), direct, probe, positions, kinds);
            loadStatements = statements;
        }
        return statements;
    }

    /**
     * The COPY path's SQL for this table, with the kind of every written column; {@code direct} (the COPY into the
     * table itself) and {@code probe} (the keys the table holds in a span) are null unless the key is one integral column
     * and the table has no rules, which COPY would not apply where the merge fails on them.
     */
    private record CopyStatements(String create, String copy, String upsert, String overwrite, String direct,
            String probe, int[] positions, CopyText.Kind[] kinds) {
    }

    private CopyStatements copyStatements(Connection connection) throws SQLException {
        CopyStatements statements = copyStatements;
        if (statements == null) {
            PostgresDialect postgres = (PostgresDialect) dialect;
            List<String> written = columnsOf(writable);
            // One staging table per table and column layout in a session: the name carries a hash of both.
            StringBuilder layout = new StringBuilder(String.valueOf(table.schema())).append('.').append(table.name());
            for (int i = writable.nextSetBit(0); i >= 0; i = writable.nextSetBit(i + 1)) {
                layout.append(':').append(columns.get(i)).append(' ').append(columnTypes[i].typeName())
                        .append('(').append(columnTypes[i].size()).append(')');
            }
            String prefix = table.name().replaceAll("[^A-Za-z0-9_]", "_");
            String name = "dw_stage_" + (prefix.length() > 30 ? prefix.substring(0, 30) : prefix) + "_"
                    + String.format("%016x", hash64(layout.toString()));
            String staging = "pg_temp." + name;
            String create = Dialect.MARKER + " CREATE TEMPORARY TABLE IF NOT EXISTS " + dialect.quote(name)
                    + " ON COMMIT DELETE ROWS AS SELECT " + dialect.columnList(written, "") + " FROM "
                    + dialect.tableName(table) + " WITH NO DATA";
            String copy = Dialect.MARKER + " COPY " + dialect.quote(staging) + " (" + dialect.columnList(written, "")
                    + ") FROM STDIN";
            int[] positions = writable.stream().toArray();
            CopyText.Kind[] kinds = new CopyText.Kind[positions.length];
            for (int p = 0; p < positions.length; p++) {
                kinds[p] = CopyText.Kind.of(columnTypes[positions[p]]);
            }
            String direct = null;
            String probe = null;
            int keyType = columnTypes[keyPositions[0]].jdbcType();
            if (keyColumns.size() == 1 && (keyType == java.sql.Types.BIGINT || keyType == java.sql.Types.INTEGER
                    || keyType == java.sql.Types.SMALLINT) && !hasRules(connection)) {
                String key = dialect.quote(keyColumns.get(0));
                direct = Dialect.MARKER + " COPY " + dialect.tableName(table) + " (" + dialect.columnList(written, "")
                        + ") FROM STDIN";
                probe = Dialect.MARKER + " SELECT " + key + " FROM " + dialect.tableName(table) + " WHERE " + key
                        + " >= ? AND " + key + " <= ? ORDER BY " + key + " LIMIT ?";
            }
            statements = new CopyStatements(create, copy,
                    postgres.guardedMerge(table, written, keyColumns, versionColumn, staging),
                    postgres.guardedMerge(table, written, keyColumns, null, staging), direct, probe, positions, kinds);
            copyStatements = statements;
        }
        return statements;
    }

    private boolean hasRules(Connection connection) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER
                + " SELECT relhasrules FROM pg_class WHERE oid = to_regclass(?)")) {
            statement.setString(1, dialect.tableName(table));
            try (ResultSet rs = statement.executeQuery()) {
                // Unknown counts as having rules: the merge is the path that is always right.
                return !rs.next() || rs.getBoolean(1);
            }
        }
    }

    private static long hash64(String text) {
        long hash = 0xcbf29ce484222325L;
        for (int i = 0; i < text.length(); i++) {
            hash ^= text.charAt(i);
            hash *= 0x100000001b3L;
        }
        return hash;
    }

    private List<String> columnsOf(java.util.BitSet set) {
        List<String> names = new ArrayList<>(set.cardinality());
        for (int i = set.nextSetBit(0); i >= 0; i = set.nextSetBit(i + 1)) {
            names.add(columns.get(i));
        }
        return names;
    }

    /**
     * {@code ON DUPLICATE KEY UPDATE} fires on any unique index: a row whose key is new but whose unique
     * value another key still holds updates that other row and is reported written. Then its own key is
     * missing, which is what this checks (a row whose key existed meets its own row first, and a clash on
     * another index then fails loudly). The caller's transaction is still open: the failure rolls the
     * wrong update back.
     */
    private void verifyOwnRows(Connection connection, Collection<Row> rows) throws SQLException {
        List<RowKey> written = rows.stream().map(this::keyOf).toList();
        // Counted, then named as text: the driver may hand a key back in another Java type than the one written.
        int count = 0;
        java.util.Set<String> found = new java.util.HashSet<>();
        for (int from = 0; from < written.size(); from += MAX_KEYS_PER_SELECT) {
            List<RowKey> slice = written.subList(from, Math.min(written.size(), from + MAX_KEYS_PER_SELECT));
            String sql = dialect.selectByKeys(table, keyColumns, keyColumns, slice.size(), false);
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int index = 1;
                for (RowKey key : slice) {
                    index = bindKey(statement, index, key);
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        List<Object> values = new ArrayList<>(keyColumns.size());
                        for (int i = 0; i < keyColumns.size(); i++) {
                            values.add(String.valueOf(rs.getObject(i + 1)));
                        }
                        found.add(values.toString());
                        count++;
                    }
                }
            }
        }
        if (count < written.size()) {
            List<RowKey> missing = written.stream()
                    .filter(key -> !found.contains(key.values().stream().map(String::valueOf).toList().toString()))
                    .toList();
            throw new java.sql.SQLIntegrityConstraintViolationException("table '" + table.name() + "': the upsert of key"
                    + (missing.size() == 1 ? " " + missing.get(0) : "s " + missing) + " met another key's row in a"
                    + " unique index " + uniqueKeys + " instead of its own; this transaction must be rolled back",
                    "23000");
        }
    }

    /**
     * Reads the rows that currently hold any of the unique values of the given rows, in any unique index
     * of {@link #uniqueKeys()}: the given rows' own stored rows where their values have not changed,
     * and the rows of other keys a write of these rows would collide with. A {@code NULL} in an index
     * value never collides and is not looked up. The store compares with its own collation, so a value
     * that only differs in case is found where the index would refuse it.
     *
     * @param connection the connection
     * @param rows rows carrying every column of {@link #columns()}
     * @return the holders, each with the key columns and the unique indexes' columns only; empty when
     *     the table has no unique index besides its key
     * @throws SQLException on any database error
     */
    public List<Row> uniqueValueHolders(Connection connection, Collection<Row> rows) throws SQLException {
        List<Row> holders = new ArrayList<>();
        if (uniqueKeys.isEmpty() || rows.isEmpty()) {
            return holders;
        }
        ShardedOps shards = sharded;
        if (shards != null) {
            // Each physical table has its own index: a value given up by a row on one shard may be held on any other.
            for (ShardLayout.Shard shard : shards.layout().shards()) {
                holders.addAll(shards.ops(shard).uniqueValueHolders(shards.connection(connection, shard), rows));
            }
            return holders;
        }
        List<Row> all = new ArrayList<>(rows);
        for (int from = 0; from < all.size(); from += MAX_KEYS_PER_SELECT) {
            List<Row> slice = all.subList(from, Math.min(all.size(), from + MAX_KEYS_PER_SELECT));
            List<List<Row>> perIndex = new ArrayList<>();
            int[] counts = new int[uniqueKeys.size()];
            for (int i = 0; i < uniqueKeys.size(); i++) {
                List<String> unique = uniqueKeys.get(i);
                List<Row> withValues = slice.stream()
                        .filter(row -> unique.stream().allMatch(c -> row.get(Row.canonical(c)) != null)).toList();
                perIndex.add(withValues);
                counts[i] = withValues.size();
            }
            if (java.util.Arrays.stream(counts).allMatch(count -> count == 0)) {
                continue;
            }
            String sql = dialect.selectByUniqueValues(table, holderColumns, uniqueKeys, counts);
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                int index = 1;
                for (int i = 0; i < uniqueKeys.size(); i++) {
                    for (Row row : perIndex.get(i)) {
                        for (String column : uniqueKeys.get(i)) {
                            dialect.bind(statement, index++, row.get(Row.canonical(column)),
                                    columnTypes[this.columns.indexOf(column)]);
                        }
                    }
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        LinkedHashMap<String, Object> values = new LinkedHashMap<>(Row.capacity(holderColumns.size()));
                        for (int i = 0; i < holderColumns.size(); i++) {
                            String column = holderColumns.get(i);
                            values.put(Row.canonical(column),
                                    dialect.read(rs, i + 1, columnTypes[this.columns.indexOf(column)]));
                        }
                        holders.add(Row.ofCanonical(values));
                    }
                }
            }
        }
        return holders;
    }

    /**
     * Whether a stored row holds exactly the unique values a row to write carries, so that writing that
     * row over it in place moves no unique value. Values that compare unequal only because the drivers
     * chose different Java types count as different: the caller then takes the slower, always correct way.
     *
     * @param stored a row read with {@link #uniqueValueHolders}
     * @param row a row to write
     * @return true when every unique index column holds the same value
     */
    public boolean sameUniqueValues(Row stored, Row row) {
        for (List<String> unique : uniqueKeys) {
            for (String column : unique) {
                Object a = stored.get(Row.canonical(column));
                Object b = row.get(Row.canonical(column));
                boolean same = java.util.Objects.equals(a, b)
                        || a instanceof Number x && b instanceof Number y
                        && new java.math.BigDecimal(x.toString()).compareTo(new java.math.BigDecimal(y.toString())) == 0;
                if (!same) {
                    return false;
                }
            }
        }
        return true;
    }

    /**
     * Deletes rows by key in one JDBC batch.
     *
     * @param connection the connection, in the caller's transaction
     * @param keys the keys to delete; absent keys are no-ops
     * @throws SQLException on any database error
     */
    public void delete(Connection connection, Collection<RowKey> keys) throws SQLException {
        if (keys.isEmpty()) {
            return;
        }
        ShardedOps shards = sharded;
        if (shards != null) {
            for (Map.Entry<ShardLayout.Shard, List<RowKey>> group : shards.byShard(keys).entrySet()) {
                shards.ops(group.getKey()).delete(shards.connection(connection, group.getKey()), group.getValue());
            }
            return;
        }
        markOwnWrite(connection);
        try (PreparedStatement statement = connection.prepareStatement(deleteSql)) {
            for (RowKey key : keys) {
                bindKey(statement, 1, key);
                statement.addBatch();
            }
            statement.executeBatch();
        }
    }

    /**
     * Reads the next chunk of rows in key order (keyset pagination, never OFFSET).
     *
     * @param connection the connection
     * @param after the exclusive lower bound, or {@code null} to start at the first key
     * @param upTo the inclusive upper bound, or {@code null} for no bound
     * @param limit the most rows to return
     * @param lock whether to take the non-waiting share lock on the rows read
     * @param condition an extra condition (SQL with {@code ?} parameters), or {@code null}
     * @param conditionParameters the condition's parameters
     * @return the rows, in key order
     * @throws DuplicateShardKeyException if the table is sharded and a key is on two of its shards
     * @throws SQLException on any database error, lock conflicts included
     */
    public List<Row> scan(Connection connection, RowKey after, RowKey upTo, int limit, boolean lock, String condition,
            List<?> conditionParameters) throws SQLException {
        ShardedOps shards = sharded;
        if (shards != null) {
            return scanShards(shards, connection, after, upTo, limit, lock, condition, conditionParameters);
        }
        String sql = dialect.keysetScan(table, columns, keyColumns, after != null, upTo != null, condition, limit, lock);
        List<Row> rows = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(sql)) {
            int index = 1;
            if (after != null) {
                index = bindKey(statement, index, after);
            }
            if (upTo != null) {
                index = bindKey(statement, index, upTo);
            }
            for (Object parameter : conditionParameters) {
                statement.setObject(index++, parameter);
            }
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    rows.add(readRow(rs));
                }
            }
        }
        return rows;
    }

    /** Takes the rows of a {@link #stream}, one at a time, as the driver decodes them. */
    @FunctionalInterface
    public interface RowSink {
        /**
         * @param row the next row, in key order
         */
        void accept(Row row);
    }

    /**
     * Reads up to {@code limit} rows in key order after {@code after} through one statement whose rows are fetched
     * from the server {@code fetchSize} at a time and handed to {@code sink} as they are decoded, so the caller may
     * work on the first rows while the server still sends the rest. It takes no lock: a plain read (call it in
     * autocommit: inside a transaction, InnoDB's SERIALIZABLE would make it a locking read). On PostgreSQL, whose
     * driver fetches by a cursor only inside a transaction, an autocommit connection reads in a transaction of its
     * own, committed before this returns, so no snapshot outlives the statement; auto-commit is then set back on.
     *
     * @param connection the connection, used by nothing else until this returns (a streamed result holds it)
     * @param after the exclusive lower bound, or {@code null} to start at the first key
     * @param limit the most rows to read
     * @param fetchSize how many rows the driver fetches at a time
     * @param condition an extra condition (SQL with {@code ?} parameters), or {@code null}
     * @param conditionParameters the condition's parameters
     * @param sink takes each row; it must not use {@code connection}
     * @return the number of rows read
     * @throws UnsupportedOperationException if the table is sharded (read it with {@link #scan} instead)
     * @throws SQLException on any database error
     */
    public int stream(Connection connection, RowKey after, int limit, int fetchSize, String condition,
            List<?> conditionParameters, RowSink sink) throws SQLException {
        if (sharded != null) {
            throw new UnsupportedOperationException("table '" + table.name() + "' is sharded: a streamed read covers"
                    + " one physical table; read it chunk by chunk with scan()");
        }
        String sql = dialect.keysetScan(table, columns, keyColumns, after != null, false, condition, limit, false);
        // PostgreSQL's driver fetches by a cursor only inside a transaction: a read-only one of its own, when the
        // caller has none open, committed before this returns.
        boolean ownTransaction = dialect.product() == Dialect.Product.POSTGRESQL && connection.getAutoCommit();
        if (ownTransaction) {
            connection.setAutoCommit(false);
        }
        int read = 0;
        boolean done = false;
        try {
            try (PreparedStatement statement = connection.prepareStatement(sql, ResultSet.TYPE_FORWARD_ONLY,
                    ResultSet.CONCUR_READ_ONLY)) {
                statement.setFetchSize(fetchSize);
                int index = 1;
                if (after != null) {
                    index = bindKey(statement, index, after);
                }
                for (Object parameter : conditionParameters) {
                    statement.setObject(index++, parameter);
                }
                try (ResultSet rs = statement.executeQuery()) {
                    while (rs.next()) {
                        sink.accept(readRow(rs));
                        read++;
                    }
                }
            }
            done = true;
        } finally {
            if (ownTransaction) {
                try {
                    if (done) {
                        connection.commit();
                    } else {
                        connection.rollback();
                    }
                    connection.setAutoCommit(true);
                } catch (SQLException restore) {
                    if (done) {
                        throw restore;
                    }
                }
            }
        }
        return read;
    }

    /**
     * The next chunk in key order over every shard: each shard's own first {@code limit} rows after the bound,
     * merged, and the first {@code limit} of those kept, which are the first {@code limit} of the logical table.
     * Keys are merged in their Java order, which is the database's for numbers, dates and uuids; text keys under a
     * collation that orders otherwise may give a chunk out of the database's order, never a row twice or none.
     */
    private List<Row> scanShards(ShardedOps shards, Connection connection, RowKey after, RowKey upTo, int limit,
            boolean lock, String condition, List<?> conditionParameters) throws SQLException {
        List<Map.Entry<RowKey, Row>> merged = new ArrayList<>();
        Map<RowKey, ShardLayout.Shard> holders = new java.util.HashMap<>();
        for (ShardLayout.Shard shard : shards.layout().shards()) {
            for (Row row : shards.ops(shard).scan(shards.connection(connection, shard), after, upTo, limit, lock,
                    condition, conditionParameters)) {
                RowKey key = keyOf(row);
                ShardLayout.Shard other = holders.putIfAbsent(key, shard);
                if (other != null) {
                    throw new DuplicateShardKeyException(shards.layout().logicalTable(), key, List.of(other, shard));
                }
                merged.add(Map.entry(key, row));
            }
        }
        merged.sort((x, y) -> compareKeys(x.getKey(), y.getKey()));
        List<Row> rows = new ArrayList<>(Math.min(limit, merged.size()));
        for (int i = 0; i < merged.size() && i < limit; i++) {
            rows.add(merged.get(i).getValue());
        }
        return rows;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static int compareKeys(RowKey a, RowKey b) {
        for (int i = 0; i < Math.min(a.size(), b.size()); i++) {
            Object x = a.get(i);
            Object y = b.get(i);
            int c = x instanceof Comparable cx && y != null && x.getClass() == y.getClass() ? cx.compareTo(y)
                    : String.valueOf(x).compareTo(String.valueOf(y));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private Row readRow(ResultSet rs) throws SQLException {
        Object[] values = new Object[canonicalColumns.length];
        for (int i = 0; i < canonicalColumns.length; i++) {
            values[i] = dialect.read(rs, i + 1, columnTypes[i]);
        }
        return Row.ofPositional(layout, values);
    }

    private int bindKey(PreparedStatement statement, int index, RowKey key) throws SQLException {
        checkSize(key);
        for (int i = 0; i < key.size(); i++) {
            Object value = keyCodecs[i].bindable(keyCodecs[i].canonical(key.get(i)));
            dialect.bind(statement, index++, value, columnTypes[keyPositions[i]]);
        }
        return index;
    }

    private void checkSize(RowKey key) {
        if (key.size() != keyColumns.size()) {
            throw new IllegalArgumentException("key " + key + " has " + key.size() + " values but table '"
                    + table.name() + "' has " + keyColumns.size() + " key columns " + keyColumns);
        }
    }
}
