package io.dualwrite.jdbc;

import java.sql.Connection;
import java.sql.DatabaseMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What a table's store does on its own when rows are written to it, read from the store's catalog: triggers,
 * PostgreSQL rules, foreign keys and identity or serial columns. The mapping's start-up check reads it for
 * every mapped target table, and the backfill orders tables by the foreign keys. Each method runs one query
 * on the caller's connection; a store without such a catalog (H2 has no rules) gives an empty list.
 */
public final class SchemaCatalog {

    /**
     * A trigger on a table.
     *
     * @param name the trigger's name
     * @param timing when and on what it fires, as the store says it ({@code BEFORE UPDATE})
     * @param body the statements it runs where the catalog holds them (MariaDB's statement, the PostgreSQL
     *     function's source), else empty
     */
    public record Trigger(String name, String timing, String body) {
    }

    /**
     * A PostgreSQL rule on a table.
     *
     * @param name the rule's name
     * @param event {@code SELECT}, {@code UPDATE}, {@code INSERT} or {@code DELETE}
     */
    public record Rule(String name, String event) {
    }

    /**
     * A foreign key from one table to another.
     *
     * @param name the constraint's name
     * @param table the referencing table, as stored
     * @param columns the referencing columns, in key order
     * @param referencedTable the referenced table, as stored
     * @param deferrable whether the store may check it at commit ({@code DEFERRABLE})
     */
    public record ForeignKey(String name, String table, List<String> columns, String referencedTable,
            boolean deferrable) {
    }

    /**
     * A column whose values the store generates from a sequence unless given.
     *
     * @param column the column's stored name
     * @param always whether the store refuses an explicit value ({@code GENERATED ALWAYS AS IDENTITY})
     */
    public record Identity(String column, boolean always) {
    }

    private SchemaCatalog() {
    }

    /**
     * Reads a table's triggers.
     *
     * @param connection an open connection to the table's store
     * @param dialect the store's dialect
     * @param table the table
     * @return the triggers, by name
     * @throws SQLException if the catalog cannot be read
     */
    public static List<Trigger> triggers(Connection connection, Dialect dialect, TableMetadata table)
            throws SQLException {
        String sql = switch (dialect.product()) {
            case MARIADB, MYSQL -> "SELECT TRIGGER_NAME, CONCAT(ACTION_TIMING, ' ', EVENT_MANIPULATION),"
                    + " ACTION_STATEMENT FROM information_schema.TRIGGERS WHERE EVENT_OBJECT_SCHEMA ="
                    + " COALESCE(?, DATABASE()) AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME";
            case POSTGRESQL -> "SELECT t.tgname, pg_get_triggerdef(t.oid), p.prosrc FROM pg_trigger t"
                    + " JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " JOIN pg_proc p ON p.oid = t.tgfoid WHERE NOT t.tgisinternal"
                    + " AND n.nspname = COALESCE(?, current_schema()) AND c.relname = ? ORDER BY t.tgname";
            case H2 -> "SELECT TRIGGER_NAME, ACTION_TIMING || ' ' || EVENT_MANIPULATION, '' FROM"
                    + " INFORMATION_SCHEMA.TRIGGERS WHERE EVENT_OBJECT_SCHEMA = COALESCE(?, SCHEMA())"
                    + " AND EVENT_OBJECT_TABLE = ? ORDER BY TRIGGER_NAME";
        };
        List<Trigger> triggers = new ArrayList<>();
        for (String[] row : query(connection, sql, table)) {
            triggers.add(new Trigger(row[0], timing(row[1]), row[2] == null ? "" : row[2]));
        }
        return triggers;
    }

    /** PostgreSQL's trigger definition reads {@code CREATE TRIGGER t BEFORE UPDATE ON ...}: keep the middle. */
    private static String timing(String said) {
        if (said == null) {
            return "";
        }
        int on = said.indexOf(" ON ");
        if (said.startsWith("CREATE ") && on > 0) {
            String head = said.substring(0, on);
            for (String when : List.of(" BEFORE ", " AFTER ", " INSTEAD OF ")) {
                int at = head.indexOf(when);
                if (at > 0) {
                    return head.substring(at + 1);
                }
            }
        }
        return said;
    }

    /**
     * Reads a table's PostgreSQL rules; other stores have none.
     *
     * @param connection an open connection to the table's store
     * @param dialect the store's dialect
     * @param table the table
     * @return the rules, by name
     * @throws SQLException if the catalog cannot be read
     */
    public static List<Rule> rules(Connection connection, Dialect dialect, TableMetadata table) throws SQLException {
        if (dialect.product() != Dialect.Product.POSTGRESQL) {
            return List.of();
        }
        String sql = "SELECT r.rulename, CASE r.ev_type WHEN '1' THEN 'SELECT' WHEN '2' THEN 'UPDATE'"
                + " WHEN '3' THEN 'INSERT' WHEN '4' THEN 'DELETE' END FROM pg_rewrite r"
                + " JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE r.rulename <> '_RETURN' AND n.nspname = COALESCE(?, current_schema()) AND c.relname = ?"
                + " ORDER BY r.rulename";
        List<Rule> rules = new ArrayList<>();
        for (String[] row : query(connection, sql, table)) {
            rules.add(new Rule(row[0], row[1]));
        }
        return rules;
    }

    /**
     * Reads the foreign keys of a table (those it declares, to any table), through {@link DatabaseMetaData}.
     *
     * @param connection an open connection to the table's store
     * @param table the table
     * @return the foreign keys, by name
     * @throws SQLException if the metadata cannot be read
     */
    public static List<ForeignKey> foreignKeys(Connection connection, TableMetadata table) throws SQLException {
        DatabaseMetaData meta = connection.getMetaData();
        String product = meta.getDatabaseProductName().toLowerCase(Locale.ROOT);
        boolean catalogs = product.contains("mysql") || product.contains("mariadb");
        String catalog = catalogs ? (table.schema() != null ? table.schema() : connection.getCatalog()) : null;
        String schema = catalogs ? null : (table.schema() != null ? table.schema() : connection.getSchema());
        Map<String, List<Object[]>> byName = new LinkedHashMap<>();
        try (ResultSet rs = meta.getImportedKeys(catalog, schema, table.name())) {
            while (rs.next()) {
                String name = rs.getString("FK_NAME");
                String key = name != null ? name : rs.getString("PKTABLE_NAME") + "#" + rs.getShort("KEY_SEQ");
                byName.computeIfAbsent(key, k -> new ArrayList<>()).add(new Object[] {rs.getShort("KEY_SEQ"),
                        rs.getString("FKCOLUMN_NAME"), rs.getString("PKTABLE_NAME"), rs.getShort("DEFERRABILITY")});
            }
        }
        List<ForeignKey> keys = new ArrayList<>();
        byName.forEach((name, parts) -> {
            parts.sort((a, b) -> Short.compare((Short) a[0], (Short) b[0]));
            List<String> columns = parts.stream().map(p -> (String) p[1]).toList();
            short deferrability = (Short) parts.get(0)[3];
            keys.add(new ForeignKey(name, table.name(), columns, (String) parts.get(0)[2],
                    deferrability != DatabaseMetaData.importedKeyNotDeferrable));
        });
        return keys;
    }

    /**
     * Reads a table's identity, serial and {@code AUTO_INCREMENT} columns.
     *
     * @param connection an open connection to the table's store
     * @param dialect the store's dialect
     * @param table the table
     * @return the columns, in declaration order
     * @throws SQLException if the catalog cannot be read
     */
    public static List<Identity> identities(Connection connection, Dialect dialect, TableMetadata table)
            throws SQLException {
        String sql = switch (dialect.product()) {
            case MARIADB, MYSQL -> "SELECT COLUMN_NAME, 'N' FROM information_schema.COLUMNS WHERE TABLE_SCHEMA ="
                    + " COALESCE(?, DATABASE()) AND TABLE_NAME = ? AND EXTRA LIKE '%auto_increment%'"
                    + " ORDER BY ORDINAL_POSITION";
            case POSTGRESQL -> "SELECT a.attname, CASE a.attidentity WHEN 'a' THEN 'Y' ELSE 'N' END FROM pg_attribute a"
                    + " JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace"
                    + " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                    + " WHERE a.attnum > 0 AND NOT a.attisdropped AND n.nspname = COALESCE(?, current_schema())"
                    + " AND c.relname = ? AND (a.attidentity IN ('a', 'd')"
                    + " OR pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%') ORDER BY a.attnum";
            case H2 -> "SELECT COLUMN_NAME, CASE WHEN IDENTITY_GENERATION = 'ALWAYS' THEN 'Y' ELSE 'N' END FROM"
                    + " INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, SCHEMA()) AND TABLE_NAME = ?"
                    + " AND IS_IDENTITY = 'YES' ORDER BY ORDINAL_POSITION";
        };
        List<Identity> identities = new ArrayList<>();
        for (String[] row : query(connection, sql, table)) {
            identities.add(new Identity(row[0], "Y".equals(row[1])));
        }
        return identities;
    }

    private static List<String[]> query(Connection connection, String sql, TableMetadata table) throws SQLException {
        List<String[]> rows = new ArrayList<>();
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " " + sql)) {
            statement.setString(1, table.schema());
            statement.setString(2, table.name());
            try (ResultSet rs = statement.executeQuery()) {
                int width = rs.getMetaData().getColumnCount();
                while (rs.next()) {
                    String[] row = new String[width];
                    for (int i = 0; i < width; i++) {
                        row[i] = rs.getString(i + 1);
                    }
                    rows.add(row);
                }
            }
        }
        return rows;
    }
}
