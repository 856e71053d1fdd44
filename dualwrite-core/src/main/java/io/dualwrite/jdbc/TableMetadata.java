package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * A table as the database reports it through {@link DatabaseMetaData}: its stored name, columns in
 * declaration order, primary key columns in key order, and its other unique indexes.
 *
 * @param name the table's name exactly as stored
 * @param schema the schema or catalog it was found in, or {@code null} for the connection's default
 * @param columns the columns in declaration order
 * @param primaryKey the primary key columns' stored names in key order; empty if there is none
 * @param uniqueKeys the unique indexes besides the primary key, each as its columns' stored names in
 *     index order; an index on an expression is left out, as no row value can be looked up in it, and a
 *     partial index counts as a whole (a look-up then finds more holders than collide, which is safe)
 * @param generatedColumns the columns the database computes from others ({@code GENERATED ALWAYS AS ...},
 *     MariaDB's {@code VIRTUAL} and {@code PERSISTENT}), lower case: they are read, never written
 */
public record TableMetadata(String name, String schema, List<ColumnMetadata> columns, List<String> primaryKey,
        List<List<String>> uniqueKeys, java.util.Set<String> generatedColumns) {

    /**
     * Creates table metadata.
     *
     * @throws IllegalArgumentException if a key column is not one of the columns
     */
    public TableMetadata {
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        uniqueKeys = uniqueKeys.stream().map(List::copyOf).toList();
        generatedColumns = generatedColumns.stream().map(c -> c.toLowerCase(Locale.ROOT))
                .collect(java.util.stream.Collectors.toUnmodifiableSet());
        for (String key : primaryKey) {
            if (columns.stream().noneMatch(c -> c.name().equalsIgnoreCase(key))) {
                throw new IllegalArgumentException("key column '" + key + "' is not a column of table '" + name + "'");
            }
        }
        for (List<String> unique : uniqueKeys) {
            for (String column : unique) {
                if (columns.stream().noneMatch(c -> c.name().equalsIgnoreCase(column))) {
                    throw new IllegalArgumentException("unique index column '" + column + "' is not a column of table '"
                            + name + "'");
                }
            }
        }
    }

    /**
     * Creates metadata of a table without generated columns.
     *
     * @throws IllegalArgumentException if a key column is not one of the columns
     */
    public TableMetadata(String name, String schema, List<ColumnMetadata> columns, List<String> primaryKey,
            List<List<String>> uniqueKeys) {
        this(name, schema, columns, primaryKey, uniqueKeys, java.util.Set.of());
    }

    /**
     * Whether the database computes a column from others, so that it is never written.
     *
     * @param column the name in any case
     * @return true for a generated column
     */
    public boolean isGenerated(String column) {
        return generatedColumns.contains(column.toLowerCase(Locale.ROOT));
    }

    /**
     * Creates metadata of a table with no unique index besides its primary key.
     *
     * @throws IllegalArgumentException if a key column is not one of the columns
     */
    public TableMetadata(String name, String schema, List<ColumnMetadata> columns, List<String> primaryKey) {
        this(name, schema, columns, primaryKey, List.of());
    }

    /**
     * Finds a column by name, ignoring case.
     *
     * @param column the name
     * @return the column, or empty if the table has none of that name
     */
    public Optional<ColumnMetadata> column(String column) {
        return columns.stream().filter(c -> c.name().equalsIgnoreCase(column)).findFirst();
    }

    /**
     * Returns a column's stored name.
     *
     * @param column the name in any case
     * @return the stored name
     * @throws IllegalArgumentException if the table has no such column
     */
    public String storedName(String column) {
        return column(column)
                .orElseThrow(() -> new IllegalArgumentException(
                        "column '" + column + "' does not exist in table '" + name + "'"))
                .name();
    }

    /**
     * Reads a table's metadata from the connection's current catalog and schema, or from the schema
     * named in {@code table} as {@code schema.table}. Names match ignoring case.
     *
     * @param connection an open connection
     * @param table the table name, optionally qualified with a schema
     * @return the metadata, or empty if no such table exists
     * @throws SQLException if the metadata cannot be read
     */
    public static Optional<TableMetadata> read(Connection connection, String table) throws SQLException {
        String schema = null;
        String bare = table;
        int dot = table.indexOf('.');
        if (dot >= 0) {
            schema = table.substring(0, dot);
            bare = table.substring(dot + 1);
        }
        DatabaseMetaData meta = connection.getMetaData();
        boolean catalogs = usesCatalogsAsSchemas(meta);
        String catalogFilter;
        String schemaFilter;
        if (catalogs) {
            catalogFilter = schema != null ? schema : connection.getCatalog();
            schemaFilter = null;
        } else {
            catalogFilter = null;
            schemaFilter = schema != null ? schema : connection.getSchema();
        }
        String stored = null;
        String storedCatalog = null;
        String storedSchema = null;
        try (ResultSet rs = meta.getTables(catalogFilter, matchingCaseOf(meta, schemaFilter), null,
                new String[] {"TABLE", "BASE TABLE", "PARTITIONED TABLE"})) {
            while (rs.next()) {
                String name = rs.getString("TABLE_NAME");
                String tableSchema = catalogs ? rs.getString("TABLE_CAT") : rs.getString("TABLE_SCHEM");
                if (name.equalsIgnoreCase(bare)
                        && (schemaFilter == null && catalogFilter == null || tableSchema == null
                        || tableSchema.equalsIgnoreCase(catalogs ? catalogFilter : schemaFilter))) {
                    stored = name;
                    storedCatalog = rs.getString("TABLE_CAT");
                    storedSchema = rs.getString("TABLE_SCHEM");
                    break;
                }
            }
        }
        if (stored == null) {
            return Optional.empty();
        }
        List<ColumnMetadata> columns = new ArrayList<>();
        java.util.Set<String> generatedColumns = new java.util.LinkedHashSet<>();
        try (ResultSet rs = meta.getColumns(storedCatalog, storedSchema, stored, null)) {
            while (rs.next()) {
                String name = rs.getString("COLUMN_NAME");
                String defaultValue = rs.getString("COLUMN_DEF");
                String autoIncrement = rs.getString("IS_AUTOINCREMENT");
                String generated = safeString(rs, "IS_GENERATEDCOLUMN");
                // MariaDB reports DEFAULT NULL for every nullable column; that is no default.
                boolean hasDefault = defaultValue != null && !"NULL".equalsIgnoreCase(defaultValue.trim())
                        || "YES".equalsIgnoreCase(autoIncrement)
                        || "YES".equalsIgnoreCase(generated);
                boolean nullable = rs.getInt("NULLABLE") != DatabaseMetaData.columnNoNulls;
                if ("YES".equalsIgnoreCase(generated)) {
                    generatedColumns.add(name);
                }
                columns.add(new ColumnMetadata(name, rs.getInt("DATA_TYPE"), rs.getString("TYPE_NAME"), nullable,
                        hasDefault, rs.getInt("COLUMN_SIZE"), rs.getInt("DECIMAL_DIGITS")));
            }
        }
        if (catalogs) {
            columns = withCollations(connection, storedCatalog, stored, columns);
        }
        Map<Integer, String> keyBySequence = new TreeMap<>();
        try (ResultSet rs = meta.getPrimaryKeys(storedCatalog, storedSchema, stored)) {
            while (rs.next()) {
                keyBySequence.put(rs.getInt("KEY_SEQ"), rs.getString("COLUMN_NAME"));
            }
        }
        List<String> primaryKey = new ArrayList<>(keyBySequence.values());
        return Optional.of(new TableMetadata(stored, schema == null ? null : (catalogs ? storedCatalog : storedSchema),
                columns, primaryKey, uniqueKeys(meta, storedCatalog, storedSchema, stored, columns, primaryKey),
                generatedColumns));
    }

    /**
     * The unique indexes other than the primary key. An index over the primary key's columns is the
     * primary key itself (or adds nothing to it), whatever the store names it; an index the driver reports
     * with an expression or no column for some position cannot be matched to row values, and is left out.
     */
    private static List<List<String>> uniqueKeys(DatabaseMetaData meta, String catalog, String schema, String table,
            List<ColumnMetadata> columns, List<String> primaryKey) throws SQLException {
        Map<String, TreeMap<Integer, String>> byIndex = new LinkedHashMap<>();
        try (ResultSet rs = meta.getIndexInfo(catalog, schema, table, true, true)) {
            while (rs.next()) {
                String index = rs.getString("INDEX_NAME");
                if (index == null || rs.getBoolean("NON_UNIQUE")
                        || rs.getShort("TYPE") == DatabaseMetaData.tableIndexStatistic) {
                    continue;
                }
                byIndex.computeIfAbsent(index, i -> new TreeMap<>())
                        .put((int) rs.getShort("ORDINAL_POSITION"), rs.getString("COLUMN_NAME"));
            }
        }
        List<List<String>> unique = new ArrayList<>();
        for (TreeMap<Integer, String> indexColumns : byIndex.values()) {
            List<String> stored = new ArrayList<>();
            for (String column : indexColumns.values()) {
                columns.stream().filter(c -> c.name().equalsIgnoreCase(column)).findFirst()
                        .ifPresent(c -> stored.add(c.name()));
            }
            boolean plainColumns = stored.size() == indexColumns.size();
            boolean isPrimaryKey = stored.size() == primaryKey.size()
                    && stored.stream().allMatch(c -> primaryKey.stream().anyMatch(c::equalsIgnoreCase));
            if (plainColumns && !isPrimaryKey && !unique.contains(stored)) {
                unique.add(List.copyOf(stored));
            }
        }
        return unique;
    }

    /**
     * MySQL and MariaDB collate each text column on its own, and {@link DatabaseMetaData} does not say how;
     * keys compared under a {@code _ci} collation must be folded the same way (see {@link KeyCodec#folded}).
     */
    private static List<ColumnMetadata> withCollations(Connection connection, String catalog, String table,
            List<ColumnMetadata> columns) throws SQLException {
        Map<String, String> collations = new java.util.HashMap<>();
        try (java.sql.PreparedStatement statement = connection.prepareStatement(Dialect.MARKER
                + " SELECT COLUMN_NAME, COLLATION_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                + " COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND COLLATION_NAME IS NOT NULL")) {
            statement.setString(1, catalog);
            statement.setString(2, table);
            try (ResultSet rs = statement.executeQuery()) {
                while (rs.next()) {
                    collations.put(rs.getString(1).toLowerCase(Locale.ROOT), rs.getString(2));
                }
            }
        }
        List<ColumnMetadata> collated = new ArrayList<>(columns.size());
        for (ColumnMetadata column : columns) {
            String collation = collations.get(column.canonicalName());
            collated.add(collation == null ? column : column.withCollation(collation));
        }
        return collated;
    }

    private static String safeString(ResultSet rs, String column) {
        try {
            return rs.getString(column);
        } catch (SQLException notReported) {
            return null;
        }
    }

    private static boolean usesCatalogsAsSchemas(DatabaseMetaData meta) throws SQLException {
        String product = meta.getDatabaseProductName().toLowerCase(Locale.ROOT);
        return product.contains("mysql") || product.contains("mariadb");
    }

    private static String matchingCaseOf(DatabaseMetaData meta, String schema) throws SQLException {
        if (schema == null) {
            return null;
        }
        if (meta.storesUpperCaseIdentifiers()) {
            return schema.toUpperCase(Locale.ROOT);
        }
        if (meta.storesLowerCaseIdentifiers()) {
            return schema.toLowerCase(Locale.ROOT);
        }
        return schema;
    }

    /** @return the primary key columns in lower case */
    public List<String> canonicalPrimaryKey() {
        List<String> keys = new ArrayList<>();
        primaryKey.forEach(k -> keys.add(k.toLowerCase(Locale.ROOT)));
        return Collections.unmodifiableList(keys);
    }

    /** @return lower-case column name to column, in declaration order */
    public Map<String, ColumnMetadata> columnsByCanonicalName() {
        Map<String, ColumnMetadata> map = new LinkedHashMap<>();
        columns.forEach(c -> map.put(c.canonicalName(), c));
        return Collections.unmodifiableMap(map);
    }
}
