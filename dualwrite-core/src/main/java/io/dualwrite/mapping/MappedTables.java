package io.dualwrite.mapping;

import io.dualwrite.jdbc.ColumnMetadata;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.SchemaCatalog;
import io.dualwrite.jdbc.TableMetadata;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import io.dualwrite.jdbc.TableOps;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Types;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The set of table mappings of one migration, each checked against the source and target metadata.
 * Changes are recorded under the source table's configured name (case-insensitive). The target tables'
 * own behaviour (triggers, rules, foreign keys between mapped tables, identity columns) is checked too:
 * what fails every write is a problem, the rest a warning naming the object (see {@code TargetSchemaCheck}).
 */
public final class MappedTables {

    private static final org.apache.commons.logging.Log log =
            org.apache.commons.logging.LogFactory.getLog(MappedTables.class);

    private final Map<String, MappedTable> tables;
    private final Dialect sourceDialect;
    private final Dialect targetDialect;

    private MappedTables(Map<String, MappedTable> tables, Dialect sourceDialect, Dialect targetDialect) {
        this.tables = tables;
        this.sourceDialect = sourceDialect;
        this.targetDialect = targetDialect;
    }

    /**
     * Checks the mappings against both stores and resolves them, without creating any table: a
     * missing {@value KeyMapping#ID_MAP_TABLE} is reported as a problem that holds its DDL.
     *
     * @param mappings the declared mappings
     * @param source the source store
     * @param target the target store
     * @param requireRampReady whether every table must be able to take writes on both stores at once (RAMP
     *     with some requests on each store): a version column and a reversible mapping
     * @return the resolved mappings
     * @throws MappingException listing every problem found
     * @throws SQLException if either store's metadata cannot be read
     */
    public static MappedTables resolve(Collection<TableMapping> mappings, DataSource source, DataSource target,
            boolean requireRampReady) throws SQLException {
        return resolve(mappings, source, target, requireRampReady, false);
    }

    /**
     * Checks the mappings against both stores and resolves them. {@link KeyMapping#idMap()} mappings
     * are bound to {@code target} here, and need the table {@value KeyMapping#ID_MAP_TABLE} in it.
     *
     * @param mappings the declared mappings
     * @param source the source store
     * @param target the target store
     * @param requireRampReady whether every table must be able to take writes on both stores at once (RAMP
     *     with some requests on each store): a version column and a reversible mapping
     * @param createTables whether to create {@value KeyMapping#ID_MAP_TABLE} in the target when an id
     *     map needs it and it is missing ({@code dualwrite.schema.create}); if false, its absence is a
     *     problem whose message holds the DDL to run
     * @return the resolved mappings
     * @throws MappingException listing every problem found
     * @throws SQLException if either store's metadata cannot be read, or the id map table cannot be
     *     created
     */
    public static MappedTables resolve(Collection<TableMapping> mappings, DataSource source, DataSource target,
            boolean requireRampReady, boolean createTables) throws SQLException {
        try (Connection sourceConnection = source.getConnection();
                Connection targetConnection = target.getConnection()) {
            Dialect sourceDialect = Dialect.of(sourceConnection);
            Dialect targetDialect = Dialect.of(targetConnection);
            List<String> problems = new ArrayList<>();
            Map<String, MappedTable> resolved = new LinkedHashMap<>();
            IdMapBinder idMaps = new IdMapBinder(target, targetConnection, targetDialect, createTables);
            for (TableMapping mapping : mappings) {
                String name = mapping.sourceTable().toLowerCase(Locale.ROOT);
                if (resolved.containsKey(name)) {
                    problems.add("dualwrite.tables." + mapping.sourceTable() + ": the table is mapped twice");
                    continue;
                }
                resolveOne(mapping, sourceConnection, sourceDialect, targetConnection, targetDialect,
                        requireRampReady, idMaps, problems).ifPresent(table -> resolved.put(name, table));
            }
            TargetSchemaCheck.check(resolved.values(), targetConnection, targetDialect, problems);
            if (!problems.isEmpty()) {
                throw new MappingException(problems);
            }
            return new MappedTables(resolved, sourceDialect, targetDialect);
        }
    }

    private static Optional<MappedTable> resolveOne(TableMapping mapping, Connection sourceConnection,
            Dialect sourceDialect, Connection targetConnection, Dialect targetDialect, boolean requireRampReady,
            IdMapBinder idMaps, List<String> problems) throws SQLException {
        String p = "dualwrite.tables." + mapping.sourceTable();
        int before = problems.size();
        // A sharded source (its connection a ShardedStore that shards this table) is read shard by shard like a
        // sharded target; the backfill and the reconciler then take each of its physical tables as a unit of work.
        Optional<ShardLayout> sourceLayout = shardLayout(sourceConnection, mapping.sourceTable());
        Map<ShardLayout.Shard, TableMetadata> sourceShards = new LinkedHashMap<>();
        Optional<TableMetadata> sourceTable = sourceLayout.isPresent()
                ? readShards(sourceConnection, sourceDialect, sourceLayout.get(), p, "source", sourceShards, problems)
                : readTable(sourceConnection, sourceDialect, mapping.sourceTable(), p, "source", problems);
        Optional<ShardLayout> layout = shardLayout(targetConnection, mapping.targetTable());
        Map<ShardLayout.Shard, TableMetadata> shards = new LinkedHashMap<>();
        Optional<TableMetadata> targetTable = layout.isPresent()
                ? readShards(targetConnection, targetDialect, layout.get(), p + ".target-table", "target", shards,
                        problems)
                : readTable(targetConnection, targetDialect, mapping.targetTable(), p + ".target-table", "target",
                        problems);
        if (sourceTable.isEmpty() || targetTable.isEmpty()) {
            return Optional.empty();
        }
        TableMetadata s = sourceTable.get();
        TableMetadata t = targetTable.get();
        String sName = "source table '" + mapping.sourceTable() + "'";
        String tName = "target table '" + mapping.targetTable() + "'";

        List<String> keyColumns = mapping.keyColumns().isEmpty() ? s.canonicalPrimaryKey() : mapping.keyColumns();
        if (keyColumns.isEmpty()) {
            problems.add(p + ".key-columns: " + sName + " has no primary key; set the key columns");
        }
        for (String key : keyColumns) {
            if (s.column(key).isEmpty()) {
                problems.add(p + ".key-columns: column '" + key + "' does not exist in " + sName);
            }
        }
        String version = mapping.versionColumn().orElse(null);
        if (version != null && s.column(version).isEmpty()) {
            problems.add(p + ".version-column: column '" + version + "' does not exist in " + sName
                    + "; name the column that holds the row's last-modified time, or, for a table without one, set "
                    + p + ".version-column=none (TableMapping.Builder.noVersionColumn() in code)");
        }
        if (version == null && requireRampReady) {
            problems.add(p + ".version-column: " + sName + " has no version column, so it cannot take writes on"
                    + " both stores at once (RAMP with some routing keys on each store); add one, or cut the table over"
                    + " in one barrier step to percent 100 with no deny-list");
        }
        mapping.routingColumn().filter(r -> s.column(r).isEmpty()).ifPresent(r -> problems.add(p
                + ".routing-column: column '" + r + "' does not exist in " + sName));
        for (String ignored : mapping.ignoredColumns()) {
            if (s.column(ignored).isEmpty()) {
                problems.add(p + ".ignore-columns: column '" + ignored + "' does not exist in " + sName);
            }
        }

        List<String> sourceColumns = new ArrayList<>();
        for (ColumnMetadata column : s.columns()) {
            if (!mapping.ignoredColumns().contains(column.canonicalName())) {
                sourceColumns.add(column.canonicalName());
            }
        }
        Map<String, String> columnMap = new LinkedHashMap<>();
        List<String> targetColumns = new ArrayList<>();
        if (mapping.transformer().isPresent()) {
            t.columns().forEach(c -> targetColumns.add(c.canonicalName()));
            if (requireRampReady && !mapping.transformer().get().reversible()) {
                problems.add(p + ".transformer: " + mapping.transformer().get().getClass().getName()
                        + " cannot map target rows back to the source, so table '" + s.name()
                        + "' is one-way and cannot enter RAMP");
            }
        } else {
            mapColumns(mapping, s, t, sourceColumns, columnMap, targetColumns,
                    () -> layout.isPresent() ? shardInsertTriggers(targetConnection, targetDialect, shards)
                            : insertTriggers(targetConnection, targetDialect, t), problems);
        }
        String targetVersion = version == null ? null : columnMap.getOrDefault(version, version);
        List<String> targetKeys = keyColumns.stream().map(k -> columnMap.getOrDefault(k, k)).toList();
        if (mapping.transformer().isEmpty()) {
            if (version != null && s.column(version).isPresent() && t.column(targetVersion).isEmpty()
                    && !mapping.renames().containsKey(version)) {
                problems.add(p + ".version-column: version column '" + targetVersion + "' does not exist in " + tName);
            }
            for (int i = 0; i < keyColumns.size(); i++) {
                if (s.column(keyColumns.get(i)).isPresent() && t.column(targetKeys.get(i)).isEmpty()
                        && !mapping.renames().containsKey(keyColumns.get(i))) {
                    problems.add(p + ".key-columns: key column '" + targetKeys.get(i) + "' does not exist in "
                            + tName);
                }
            }
        } else {
            if (targetVersion != null && t.column(targetVersion).isEmpty()) {
                problems.add(p + ".version-column: version column '" + targetVersion + "' does not exist in " + tName
                        + "; a transformer keeps the key and version column names");
            }
            for (String key : targetKeys) {
                if (t.column(key).isEmpty()) {
                    problems.add(p + ".key-columns: key column '" + key + "' does not exist in " + tName
                            + "; a transformer keeps the key and version column names");
                }
            }
        }
        checkKeyTypes(p, sName, s, keyColumns, problems);
        checkKeyTypes(p, tName, t, targetKeys, problems);
        KeyMapping keyMapping = checkKeyMapping(mapping, s, t, keyColumns, targetKeys, idMaps, problems);
        Map<String, ColumnConverter> implied = mapping.transformer().isPresent() ? Map.of()
                : checkColumnTypes(mapping, s, sourceDialect, t, targetDialect, columnMap, keyColumns, problems);
        if (problems.size() > before) {
            return Optional.empty();
        }
        if (t.primaryKey().isEmpty() && t.uniqueKeys().stream().noneMatch(unique -> sameColumns(unique, targetKeys))) {
            problems.add(p + ".target-table: " + tName + " has neither a primary key nor a unique key on "
                    + targetKeys + "; the guarded upsert needs one of them to find a key's row");
            return Optional.empty();
        }
        if (layout.isPresent()) {
            checkSharding(mapping, p, layout.get(), columnMap, targetColumns, targetKeys, problems);
            if (problems.size() > before) {
                return Optional.empty();
            }
        }
        try {
            TableOps sourceOps = new TableOps(sourceDialect, s, sourceColumns, keyColumns, version);
            TableOps targetOps = new TableOps(targetDialect, t, targetColumns, targetKeys, targetVersion);
            if (sourceLayout.isPresent()) {
                Map<ShardLayout.Shard, TableOps> physical = new LinkedHashMap<>();
                for (Map.Entry<ShardLayout.Shard, TableMetadata> shard : sourceShards.entrySet()) {
                    physical.put(shard.getKey(), new TableOps(sourceDialect, shard.getValue(), sourceColumns,
                            keyColumns, version));
                }
                sourceOps.shardedOver(sourceLayout.get(), physical);
            }
            if (layout.isPresent()) {
                Map<ShardLayout.Shard, TableOps> physical = new LinkedHashMap<>();
                for (Map.Entry<ShardLayout.Shard, TableMetadata> shard : shards.entrySet()) {
                    physical.put(shard.getKey(), new TableOps(targetDialect, shard.getValue(), targetColumns, targetKeys,
                            targetVersion));
                }
                targetOps.shardedOver(layout.get(), physical);
            }
            warnOnUniqueIndexesTheSourceLacks(p, s, targetOps, columnMap);
            return Optional.of(new MappedTable(mapping, sourceOps, targetOps, columnMap, keyMapping, implied));
        } catch (IllegalArgumentException invalid) {
            problems.add(p + ": " + invalid.getMessage());
            return Optional.empty();
        }
    }

    /** Whether a unique index is over exactly these columns, in any order and case. */
    private static boolean sameColumns(List<String> index, List<String> columns) {
        return index.size() == columns.size()
                && index.stream().allMatch(c -> columns.stream().anyMatch(c::equalsIgnoreCase));
    }

    /**
     * A unique index of the target is safe to mirror into when the source keeps the same values unique:
     * then one consistent state of the source never puts a value on two rows, and a value that moved
     * between keys is resolved by the apply. Where the source has no unique index over the same columns
     * (mapped back through the renames), two source rows may share a value the target refuses, and those
     * rows can never both arrive; it is not refused, as the application may keep the values unique itself.
     */
    private static void warnOnUniqueIndexesTheSourceLacks(String property, TableMetadata source, TableOps target,
            Map<String, String> columnMap) {
        Map<String, String> sourceOf = new LinkedHashMap<>();
        columnMap.forEach((sourceColumn, targetColumn) -> sourceOf.put(targetColumn.toLowerCase(Locale.ROOT),
                sourceColumn));
        List<List<String>> sourceUnique = new ArrayList<>(source.uniqueKeys());
        sourceUnique.add(source.primaryKey());
        for (List<String> unique : target.uniqueKeys()) {
            List<String> back = unique.stream().map(c -> sourceOf.get(c.toLowerCase(Locale.ROOT))).toList();
            if (back.contains(null)) {
                continue;
            }
            boolean kept = sourceUnique.stream().anyMatch(index -> !index.isEmpty() && index.stream()
                    .allMatch(column -> back.stream().anyMatch(column::equalsIgnoreCase)));
            if (!kept) {
                log.warn(property + ": target table '" + target.table().name() + "' has a unique index on " + unique
                        + " but source table '" + source.name() + "' keeps no unique index on " + back + ": two source"
                        + " rows sharing a value can never both reach the target, and their keys are parked");
            }
        }
    }

    /**
     * The declarative mapping: which target column each source column goes to (renamed or not), what
     * splits and constants fill, and whether every column needing a value gets one.
     */
    private static void mapColumns(TableMapping mapping, TableMetadata s, TableMetadata t, List<String> sourceColumns,
            Map<String, String> columnMap, List<String> targetColumns,
            java.util.function.Supplier<List<SchemaCatalog.Trigger>> insertTriggers, List<String> problems) {
        String p = "dualwrite.tables." + mapping.sourceTable();
        String sName = "source table '" + mapping.sourceTable() + "'";
        String tName = "target table '" + mapping.targetTable() + "'";
        for (Map.Entry<String, String> rename : mapping.renames().entrySet()) {
            if (s.column(rename.getKey()).isEmpty()) {
                problems.add(p + ".columns." + rename.getKey() + ": column '" + rename.getKey()
                        + "' does not exist in " + sName);
            }
            if (t.column(rename.getValue()).isEmpty()) {
                problems.add(p + ".columns." + rename.getKey() + ": column '" + rename.getValue()
                        + "' does not exist in " + tName);
            }
        }
        for (String column : mapping.converters().keySet()) {
            if (s.column(column).isEmpty()) {
                problems.add(p + ".columns." + column + ".converter: column '" + column + "' does not exist in "
                        + sName);
            }
        }
        // Target columns that splits and constants fill, and by what: a source column may not also go there.
        Map<String, String> filledOtherwise = new LinkedHashMap<>();
        mapping.splits().forEach((column, split) -> {
            if (s.column(column).isEmpty()) {
                problems.add(p + ".columns." + column + ".split: column '" + column + "' does not exist in " + sName);
            }
            for (String targetColumn : split.targetColumns()) {
                if (t.column(targetColumn).isEmpty()) {
                    problems.add(p + ".columns." + column + ".split: column '" + targetColumn + "' does not exist in "
                            + tName);
                }
                filledOtherwise.put(targetColumn, "the split of column '" + column + "'");
            }
        });
        mapping.constants().forEach((column, value) -> {
            if (t.column(column).isEmpty()) {
                problems.add(p + ".constants." + column + ": column '" + column + "' does not exist in " + tName);
            }
            filledOtherwise.put(column, "a constant");
        });
        for (String column : sourceColumns) {
            if (mapping.splits().containsKey(column)) {
                continue;
            }
            String targetColumn = mapping.renames().getOrDefault(column, column);
            if (t.column(targetColumn).isPresent() && filledOtherwise.containsKey(targetColumn)) {
                problems.add(p + ".columns." + column + ": column '" + column + "' of " + sName + " goes to column '"
                        + targetColumn + "' of " + tName + ", which " + filledOtherwise.get(targetColumn)
                        + " also writes; rename it or leave it out with " + p + ".ignore-columns");
            } else if (t.column(targetColumn).isPresent()) {
                columnMap.put(column, targetColumn);
                targetColumns.add(targetColumn);
            } else if (!mapping.renames().containsKey(column)) {
                problems.add(p + ".columns." + column + ": column '" + column + "' of " + sName
                        + " has no column of that name in " + tName + "; rename it with " + p + ".columns."
                        + column + " or leave it out with " + p + ".ignore-columns");
            }
        }
        filledOtherwise.keySet().stream().filter(c -> t.column(c).isPresent()).forEach(targetColumns::add);
        Set<String> filled = new LinkedHashSet<>(targetColumns);
        List<SchemaCatalog.Trigger> triggers = null;
        for (ColumnMetadata column : t.columns()) {
            if (column.requiresValue() && !filled.contains(column.canonicalName())) {
                triggers = triggers != null ? triggers : insertTriggers.get();
                Optional<SchemaCatalog.Trigger> filler = filler(triggers, column);
                if (filler.isPresent()) {
                    log.info(p + ".columns: column '" + column.name() + "' of " + tName + " is NOT NULL without a"
                            + " default and no source column maps to it; trigger '" + filler.get().name() + "' ("
                            + filler.get().timing() + ") names it, so it is left to the trigger to fill");
                    continue;
                }
                problems.add(p + ".columns: column '" + column.name() + "' of " + tName
                        + " is NOT NULL without a default and no source column maps to it; map one to it with "
                        + p + ".columns.<source-column>, fill it with " + p + ".constants." + column.canonicalName()
                        + ", or give it a default");
            }
        }
    }

    /**
     * The target table's triggers that run before an insert: one whose body names a NOT NULL column that nothing
     * maps fills it (a full-text {@code tsvector} computed from other columns, say), so the column needs no
     * value from the mapping. A catalog that cannot be read gives none, and the column is reported as before.
     */
    private static List<SchemaCatalog.Trigger> insertTriggers(Connection connection, Dialect dialect,
            TableMetadata table) {
        try {
            return SchemaCatalog.triggers(connection, dialect, table).stream()
                    .filter(trigger -> {
                        String timing = trigger.timing().toUpperCase(Locale.ROOT);
                        return timing.contains("BEFORE") && timing.contains("INSERT");
                    })
                    .toList();
        } catch (SQLException | RuntimeException unreadable) {
            log.debug("the triggers of table '" + table.name() + "' could not be read", unreadable);
            return List.of();
        }
    }

    /**
     * A sharded table's insert triggers, read on each physical table in its own database: only those that every
     * physical table has (by name) count, since a column one shard's trigger fills is still refused on the others.
     */
    private static List<SchemaCatalog.Trigger> shardInsertTriggers(Connection connection, Dialect dialect,
            Map<ShardLayout.Shard, TableMetadata> shards) {
        List<SchemaCatalog.Trigger> common = null;
        for (Map.Entry<ShardLayout.Shard, TableMetadata> shard : shards.entrySet()) {
            List<SchemaCatalog.Trigger> found;
            try {
                found = insertTriggers(connection.unwrap(ShardedStore.class).shard(shard.getKey().dataSource()),
                        dialect, shard.getValue());
            } catch (SQLException unreadable) {
                log.debug("the triggers of shard " + shard.getKey() + " could not be read", unreadable);
                return List.of();
            }
            Set<String> names = new java.util.HashSet<>();
            found.forEach(trigger -> names.add(trigger.name()));
            common = common == null ? found : common.stream().filter(trigger -> names.contains(trigger.name())).toList();
        }
        return common == null ? List.of() : common;
    }

    /** The first insert trigger whose body names the column as a whole word. */
    private static Optional<SchemaCatalog.Trigger> filler(List<SchemaCatalog.Trigger> triggers, ColumnMetadata column) {
        java.util.regex.Pattern named = java.util.regex.Pattern.compile("(?<![\\w$])" + java.util.regex.Pattern.quote(
                column.name()) + "(?![\\w$])", java.util.regex.Pattern.CASE_INSENSITIVE);
        return triggers.stream().filter(trigger -> named.matcher(trigger.body()).find()).findFirst();
    }

    /**
     * Checks every mapped column's source type, target type and converter together (see {@link TypePairs}),
     * so that a pair that would fail every row it meets is reported now, with the property that fixes it.
     * Key columns are left to {@link io.dualwrite.jdbc.KeyCodec}, which brings keys to one form on each side.
     *
     * @return the converters the column pairs imply, by source column
     */
    private static Map<String, ColumnConverter> checkColumnTypes(TableMapping mapping, TableMetadata s,
            Dialect sourceDialect, TableMetadata t, Dialect targetDialect, Map<String, String> columnMap,
            List<String> keyColumns, List<String> problems) {
        String p = "dualwrite.tables." + mapping.sourceTable();
        Map<String, ColumnConverter> implied = new LinkedHashMap<>();
        columnMap.forEach((sourceColumn, targetColumn) -> {
            Optional<ColumnMetadata> from = s.column(sourceColumn);
            Optional<ColumnMetadata> to = t.column(targetColumn);
            if (from.isEmpty() || to.isEmpty() || keyColumns.contains(sourceColumn)) {
                return;
            }
            TypePairs.Verdict verdict = TypePairs.resolve(from.get(), sourceDialect.product(), to.get(),
                    targetDialect.product(), mapping.converters().get(sourceColumn));
            if (verdict.problem() != null) {
                problems.add(p + ".convert." + sourceColumn + ".type: column '" + from.get().name() + "' ("
                        + from.get().typeName() + ") of source table '" + mapping.sourceTable() + "' goes to column '"
                        + to.get().name() + "' (" + to.get().typeName() + ") of target table '" + mapping.targetTable()
                        + "': " + verdict.problem());
            } else if (verdict.implied() != null) {
                implied.put(sourceColumn, verdict.implied());
            }
        });
        return implied;
    }

    /**
     * Refuses key columns whose values have no one form to compare, hash and store them in (see
     * {@link io.dualwrite.jdbc.KeyCodec}): accepted, such a key would be read back unequal to the key
     * recorded, taken for absent, and retried forever.
     */
    private static void checkKeyTypes(String p, String tableName, TableMetadata table, List<String> keyColumns,
            List<String> problems) {
        for (String key : keyColumns) {
            table.column(key).ifPresent(column -> io.dualwrite.jdbc.KeyCodec.unsupported(column).ifPresent(reason ->
                    problems.add(p + ".key-columns: key column '" + column.name() + "' of " + tableName + " " + reason
                            + "; change the column's type, or name other key columns (a unique, not null set) with "
                            + p + ".key-columns")));
        }
    }

    /**
     * Checks a key mapping against the key columns, and binds an id map to the target.
     *
     * @return the key mapping the table uses
     */
    private static KeyMapping checkKeyMapping(TableMapping mapping, TableMetadata s, TableMetadata t,
            List<String> keyColumns, List<String> targetKeys, IdMapBinder idMaps, List<String> problems)
            throws SQLException {
        KeyMapping keyMapping = mapping.keyMapping();
        boolean idMap = keyMapping instanceof KeyMappings.IdMapDeclaration;
        if (!idMap && !(keyMapping instanceof KeyMappings.Offset)) {
            return keyMapping;
        }
        String p = "dualwrite.tables." + mapping.sourceTable() + ".key-mapping: " + keyMapping;
        if (keyColumns.size() != 1) {
            problems.add(p + " maps a single key column, but the key of source table '" + mapping.sourceTable()
                    + "' is " + keyColumns);
            return keyMapping;
        }
        if (mapping.converters().containsKey(keyColumns.get(0))) {
            problems.add(p + " maps the keys, and key column '" + keyColumns.get(0) + "' also has a converter; map"
                    + " the key one way");
        }
        Optional<ColumnMetadata> targetKey = t.column(targetKeys.get(0));
        if (targetKey.isPresent() && !isWholeNumber(targetKey.get())) {
            problems.add(p + " writes whole numbers, but key column '" + targetKey.get().name() + "' of target table '"
                    + mapping.targetTable() + "' is " + targetKey.get().typeName());
        }
        Optional<ColumnMetadata> sourceKey = s.column(keyColumns.get(0));
        if (!idMap && sourceKey.isPresent() && !isWholeNumber(sourceKey.get())) {
            problems.add(p + " adds to whole numbers, but key column '" + sourceKey.get().name() + "' of source table '"
                    + mapping.sourceTable() + "' is " + sourceKey.get().typeName() + "; map such keys with"
                    + " KeyMapping.idMap()");
        }
        if (!idMap) {
            return keyMapping;
        }
        KeyMappings.IdMapDeclaration declared = (KeyMappings.IdMapDeclaration) keyMapping;
        String namespace = declared.namespace() != null ? declared.namespace()
                : mapping.sourceTable().toLowerCase(Locale.ROOT);
        return idMaps.bind(namespace, declared.maximumCachedKeys(), "dualwrite.tables." + mapping.sourceTable()
                + ".key-mapping", problems);
    }

    private static boolean isWholeNumber(ColumnMetadata column) {
        return switch (column.jdbcType()) {
            case Types.BIGINT, Types.INTEGER, Types.SMALLINT, Types.TINYINT, Types.NUMERIC, Types.DECIMAL -> true;
            default -> false;
        };
    }

    /** Binds id maps to the target, checking once that their table is there (or creating it). */
    private static final class IdMapBinder {

        private final DataSource target;
        private final Connection connection;
        private final Dialect dialect;
        private final boolean createTables;
        private final Set<String> namespaces = new LinkedHashSet<>();
        private Boolean present;

        IdMapBinder(DataSource target, Connection connection, Dialect dialect, boolean createTables) {
            this.target = target;
            this.connection = connection;
            this.dialect = dialect;
            this.createTables = createTables;
        }

        KeyMapping bind(String namespace, long maximumCachedKeys, String property, List<String> problems)
                throws SQLException {
            if (!namespaces.add(namespace)) {
                problems.add(property + ": another table already keeps its keys in " + KeyMapping.ID_MAP_TABLE
                        + " under namespace '" + namespace + "'; give each table its own with KeyMapping.idMap(namespace,"
                        + " maximumCachedKeys)");
            }
            if (present == null) {
                present = IdMap.exists(connection);
                if (!present && createTables) {
                    IdMap.create(connection, dialect);
                    present = true;
                } else if (!present) {
                    problems.add(property + ": KeyMapping.idMap() needs table '" + KeyMapping.ID_MAP_TABLE
                            + "' in the target database. Create it with:\n" + IdMap.ddl(dialect)
                            + "\nor set dualwrite.schema.create=true to let dualwrite create it.");
                }
            }
            return new IdMap(target, dialect, namespace, maximumCachedKeys);
        }
    }

    private static Optional<ShardLayout> shardLayout(Connection connection, String table) throws SQLException {
        if (!connection.isWrapperFor(ShardedStore.class)) {
            return Optional.empty();
        }
        return connection.unwrap(ShardedStore.class).layout(table);
    }

    /**
     * Reads every physical table of a sharded logical table: each must exist with the columns and key of the first,
     * whose metadata, under the logical name, is the logical table's.
     */
    private static Optional<TableMetadata> readShards(Connection connection, Dialect dialect, ShardLayout layout,
            String property, String side, Map<ShardLayout.Shard, TableMetadata> shards, List<String> problems)
            throws SQLException {
        ShardedStore store = connection.unwrap(ShardedStore.class);
        int before = problems.size();
        TableMetadata first = null;
        for (ShardLayout.Shard shard : layout.shards()) {
            Optional<TableMetadata> physical = readTable(store.shard(shard.dataSource()), dialect, shard.table(),
                    property, side + " data source '" + shard.dataSource() + "' (shard of logical table '"
                    + layout.logicalTable() + "')", problems);
            if (physical.isEmpty()) {
                continue;
            }
            TableMetadata table = physical.get();
            if (first == null) {
                first = table;
            } else if (!table.columnsByCanonicalName().keySet().equals(first.columnsByCanonicalName().keySet())
                    || !table.canonicalPrimaryKey().equals(first.canonicalPrimaryKey())) {
                problems.add(property + ": shard " + shard + " of logical table '" + layout.logicalTable() + "' has"
                        + " columns " + table.columnsByCanonicalName().keySet() + " and primary key "
                        + table.canonicalPrimaryKey() + ", shard " + layout.shards().get(0) + " has "
                        + first.columnsByCanonicalName().keySet() + " and " + first.canonicalPrimaryKey()
                        + "; every shard must have the same columns and key");
            }
            shards.put(shard, table);
        }
        if (first == null || problems.size() > before) {
            return Optional.empty();
        }
        return Optional.of(new TableMetadata(layout.logicalTable(), first.schema(), first.columns(), first.primaryKey(),
                first.uniqueKeys(), first.generatedColumns()));
    }

    /**
     * What a sharded target needs of a mapping: the routing column is the sharding column, so that one routing
     * key's rows live on the shards of one route; a key that holds the sharding column, or the promise that it never
     * changes, so that a row never moves between shards behind the library; and no key generator of ShardingSphere's
     * on a key column, whose values would fight the keys the library copies from the source.
     */
    private static void checkSharding(TableMapping mapping, String p, ShardLayout layout, Map<String, String> columnMap,
            List<String> targetColumns, List<String> targetKeys, List<String> problems) {
        String logical = "logical table '" + layout.logicalTable() + "' (shards " + describe(layout) + ")";
        List<String> sharding = layout.shardingColumns();
        for (String column : sharding) {
            if (!targetColumns.contains(column)) {
                problems.add(p + ".target-table: sharding column '" + column + "' of " + logical
                        + " is not written by this mapping; map a source column to it");
            }
        }
        mapping.routingColumn().ifPresent(routing -> {
            String target = columnMap.getOrDefault(routing, routing);
            if (!sharding.equals(List.of(target))) {
                problems.add(p + ".routing-column: routing column '" + routing + "' (target column '" + target
                        + "') is not the sharding column of " + logical + ", which shards by " + sharding
                        + "; set the routing column to the source column of " + sharding
                        + ", or shard the target by the routing column");
            }
        });
        List<String> outsideKey = sharding.stream().filter(c -> !targetKeys.contains(c)).toList();
        if (!outsideKey.isEmpty() && !mapping.immutableShardingColumn()) {
            problems.add(p + ".immutable-sharding-column: sharding column " + outsideKey + " of " + logical
                    + " is not part of the key " + targetKeys + ", so an update could change it and move the row to"
                    + " another shard, leaving its old copy behind; set " + p + ".immutable-sharding-column=true if the"
                    + " application never changes it, or make it part of the key (" + p + ".key-columns)");
        }
        layout.keyGeneratorColumn().filter(targetKeys::contains).ifPresent(column -> problems.add(p
                + ".target-table: " + logical + " has ShardingSphere's key generator on key column '" + column
                + "': rows inserted through ShardingSphere would take generated keys while the library copies the"
                + " source's; remove keyGenerateStrategy from the table's rule in the ShardingSphere YAML"
                + " (rules: !SHARDING tables." + layout.logicalTable() + ")"));
    }

    private static String describe(ShardLayout layout) {
        List<ShardLayout.Shard> shards = layout.shards();
        return shards.size() <= 2 ? shards.toString()
                : "[" + shards.get(0) + " .. " + shards.get(shards.size() - 1) + ", " + shards.size() + " in all]";
    }

    private static Optional<TableMetadata> readTable(Connection connection, Dialect dialect, String table,
            String property, String side, List<String> problems) throws SQLException {
        try {
            dialect.quote(table);
        } catch (IllegalArgumentException invalid) {
            problems.add(property + ": " + invalid.getMessage());
            return Optional.empty();
        }
        Optional<TableMetadata> metadata = TableMetadata.read(connection, table);
        if (metadata.isEmpty()) {
            problems.add(property + ": table '" + table + "' does not exist in the " + side + " database");
        }
        return metadata;
    }

    /**
     * Finds the mapping of a source table.
     *
     * @param sourceTable the source table's configured name, in any case
     * @return the mapped table
     * @throws IllegalArgumentException if no mapping names that table
     */
    public MappedTable get(String sourceTable) {
        MappedTable table = tables.get(sourceTable.toLowerCase(Locale.ROOT));
        if (table == null) {
            throw new IllegalArgumentException("table '" + sourceTable + "' is not mapped; add dualwrite.tables."
                    + sourceTable + " (mapped tables: " + tables.keySet() + ")");
        }
        return table;
    }

    /**
     * Whether a source table is mapped.
     *
     * @param sourceTable the source table's configured name, in any case
     * @return true if mapped
     */
    public boolean contains(String sourceTable) {
        return tables.containsKey(sourceTable.toLowerCase(Locale.ROOT));
    }

    /** @return every mapped table, in declaration order */
    public Collection<MappedTable> all() {
        return tables.values();
    }

    /**
     * The same mappings with the stores' roles swapped (see {@link MappedTable#reversed()}), for the
     * mirror that carries target-routed writes back to the source during RAMP. Tables are still looked
     * up by their source table's configured name.
     *
     * @return the reversed mappings
     * @throws IllegalStateException naming the tables whose mapping is one-way
     */
    public MappedTables reversed() {
        List<String> oneWay = tables.values().stream().filter(t -> !t.reversible()).map(MappedTable::name).toList();
        if (!oneWay.isEmpty()) {
            throw new IllegalStateException("tables " + oneWay + " cannot be mirrored from the target back to the"
                    + " source: their dualwrite.tables.<table>.transformer does not implement RowTransformer.toSource");
        }
        Map<String, MappedTable> view = new LinkedHashMap<>();
        tables.forEach((name, table) -> view.put(name, table.reversed()));
        return new MappedTables(view, targetDialect, sourceDialect);
    }

    /** @return the source store's dialect */
    public Dialect sourceDialect() {
        return sourceDialect;
    }

    /** @return the target store's dialect */
    public Dialect targetDialect() {
        return targetDialect;
    }
}
