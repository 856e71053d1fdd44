package io.dualwrite.mapping;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.SchemaCatalog;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.jdbc.ShardedStore;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * What the target schema does on its own that will fight the mirror, found in its catalog at start-up and
 * said once, naming the object. Two things fail every write, so they are problems that stop start-up: a
 * PostgreSQL {@code INSERT} or {@code UPDATE} rule (PostgreSQL refuses {@code INSERT ... ON CONFLICT}, the
 * mirror's upsert, on such a table) and a {@code GENERATED ALWAYS} identity column the mapping writes. The
 * rest are warnings: a trigger (loudest when its body names the version column, which orders every apply
 * and every comparison), a foreign key between two mapped tables (their changes are applied independently),
 * and an identity or serial column the mirror writes explicitly (its sequence does not follow).
 *
 * <p>On a sharded target each physical table is checked in the catalog of the real database that holds it, and
 * named with its data node and logical table; foreign keys between mapped tables are not looked for there.
 *
 * <p>A catalog the store does not have, or may not be read, is skipped with a DEBUG line: the check is help,
 * never a reason to refuse a migration that would work.
 */
final class TargetSchemaCheck {

    private static final Log log = LogFactory.getLog(TargetSchemaCheck.class);

    private TargetSchemaCheck() {
    }

    /**
     * Checks every mapped target table; logs warnings and adds the problems that stop start-up.
     *
     * @param tables the resolved tables
     * @param connection a connection to the target
     * @param dialect the target's dialect
     * @param problems where refusals go, with the property to fix
     */
    static void check(Collection<MappedTable> tables, Connection connection, Dialect dialect, List<String> problems) {
        Map<String, MappedTable> byTarget = new LinkedHashMap<>();
        tables.forEach(t -> byTarget.put(t.target().table().name().toLowerCase(Locale.ROOT), t));
        for (MappedTable table : tables) {
            String property = "dualwrite.tables." + table.name();
            TableMetadata target = table.target().table();
            Optional<ShardLayout> layout = table.target().shardLayout();
            if (layout.isPresent()) {
                checkShards(table, property, layout.get(), connection, dialect, problems);
                continue;
            }
            String named = "target table '" + target.name() + "'";
            try {
                triggers(table, property, named, connection, dialect, target);
                rules(property, named, connection, dialect, target, problems);
                foreignKeys(table, property, named, connection, target, byTarget);
                identities(table, property, named, connection, dialect, target, false, problems);
            } catch (SQLException | RuntimeException unreadable) {
                log.debug(property + ": the catalog of " + named + " could not be read; its triggers, rules and"
                        + " foreign keys are not checked", unreadable);
            }
        }
    }

    /**
     * A sharded table's triggers, rules and identities live on each physical table, in the catalog of the real
     * database that holds it: each is read there and named with its data node and logical table.
     */
    private static void checkShards(MappedTable table, String property, ShardLayout layout, Connection connection,
            Dialect dialect, List<String> problems) {
        for (ShardLayout.Shard shard : layout.shards()) {
            TableMetadata physical = table.target().shardOps(shard).table();
            String named = "physical table '" + shard.table() + "' (data node " + shard + " of logical table '"
                    + layout.logicalTable() + "')";
            try {
                Connection node = connection.unwrap(ShardedStore.class).shard(shard.dataSource());
                triggers(table, property, named, node, dialect, physical);
                rules(property, named, node, dialect, physical, problems);
                identities(table, property, named, node, dialect, physical, true, problems);
            } catch (SQLException | RuntimeException unreadable) {
                log.debug(property + ": the catalog of " + named + " could not be read; its triggers, rules and"
                        + " identities are not checked", unreadable);
            }
        }
    }

    private static void triggers(MappedTable table, String property, String named, Connection connection,
            Dialect dialect, TableMetadata target) throws SQLException {
        String version = table.target().versionColumn();
        Pattern versionWord = version == null ? null
                : Pattern.compile("\\b" + Pattern.quote(version) + "\\b", Pattern.CASE_INSENSITIVE);
        for (SchemaCatalog.Trigger trigger : SchemaCatalog.triggers(connection, dialect, target)) {
            String head = property + ": " + named + " has trigger '" + trigger.name() + "' (" + trigger.timing() + ")";
            if (versionWord != null && versionWord.matcher(trigger.body()).find()) {
                log.warn(head + ", whose body names the version column '" + version + "'. If it rewrites it (to now(),"
                        + " say), every target row looks newer or older than its source row: the reconciler and the"
                        + " double reads take real differences for lag, and the version guard refuses later"
                        + " changes. Drop the trigger, or make it leave '" + version + "' alone for the library's"
                        + " writes");
            } else {
                log.warn(head + ": it fires on every mirrored, backfilled and repaired row. If it changes columns"
                        + " the mapping writes, the reconciler reports those rows as different; leave such columns out"
                        + " with " + property + ".compare-ignore");
            }
        }
    }

    private static void rules(String property, String named, Connection connection, Dialect dialect,
            TableMetadata target, List<String> problems) throws SQLException {
        for (SchemaCatalog.Rule rule : SchemaCatalog.rules(connection, dialect, target)) {
            if (rule.event().equals("INSERT") || rule.event().equals("UPDATE")) {
                problems.add(property + ": " + named + " has rule '" + rule.name() + "' (ON " + rule.event() + "), and"
                        + " PostgreSQL refuses INSERT ... ON CONFLICT, the mirror's upsert, on a table with INSERT or"
                        + " UPDATE rules (\"INSERT with ON CONFLICT clause cannot be used with table that has INSERT or"
                        + " UPDATE rules\"); drop the rule (a trigger can do its work), or map another table with "
                        + property + ".target-table");
            } else {
                log.warn(property + ": " + named + " has rule '" + rule.name() + "' (ON " + rule.event() + "): the"
                        + " mirror's and the reconciler's " + rule.event() + " statements are rewritten by it");
            }
        }
    }

    private static void foreignKeys(MappedTable table, String property, String named, Connection connection,
            TableMetadata target, Map<String, MappedTable> byTarget) throws SQLException {
        for (SchemaCatalog.ForeignKey key : SchemaCatalog.foreignKeys(connection, target)) {
            MappedTable parent = byTarget.get(key.referencedTable().toLowerCase(Locale.ROOT));
            if (parent == null || parent == table) {
                continue;
            }
            log.warn(property + ": " + named + " has foreign key '" + key.name() + "' " + key.columns() + " to '"
                    + key.referencedTable() + "', the target of mapped table '" + parent.name() + "'. The mirror applies"
                    + " the two tables' changes independently, so a row may arrive before the row it references (or a"
                    + " delete after) and be refused until the other arrives: retried, and parked if that takes"
                    + " longer than the retries, for the reconciler to repair. The backfill copies '" + parent.name()
                    + "' first. Make the constraint DEFERRABLE INITIALLY DEFERRED, or add it after the migration");
        }
    }

    private static void identities(MappedTable table, String property, String named, Connection connection,
            Dialect dialect, TableMetadata target, boolean shard, List<String> problems) throws SQLException {
        for (SchemaCatalog.Identity identity : SchemaCatalog.identities(connection, dialect, target)) {
            String column = identity.column();
            boolean written = table.target().columns().stream().anyMatch(column::equalsIgnoreCase);
            if (!written) {
                continue;
            }
            if (identity.always()) {
                problems.add(property + ": column '" + column + "' of " + named + " is GENERATED ALWAYS AS IDENTITY,"
                        + " which refuses the values the mirror writes; make it GENERATED BY DEFAULT (ALTER TABLE "
                        + target.name() + " ALTER COLUMN " + column + " SET GENERATED BY DEFAULT)");
            } else if (dialect.product() == Dialect.Product.MARIADB || dialect.product() == Dialect.Product.MYSQL) {
                log.info(property + ": column '" + column + "' of " + named + " is AUTO_INCREMENT and the mirror"
                        + " writes its values; the counter follows the largest value written");
            } else if (shard) {
                // One setval per shard would make the shards hand out each other's ids: the spread is IdAlignment's.
                log.warn(property + ": column '" + column + "' of " + named + " is an identity or serial column and"
                        + " the mirror writes its values, which do not move its sequence: dualwrite.ids.strategy"
                        + " (DISJOINT by default) spreads every physical table's sequence over the target's ids when"
                        + " the target takes inserts of its own (RAMP, TARGET_ONLY); with dualwrite.ids.strategy=NONE,"
                        + " give each physical table a part of the ids of its own");
            } else {
                log.warn(property + ": column '" + column + "' of " + named + " is an identity or serial column and"
                        + " the mirror writes its values, which do not move its sequence: before the target takes"
                        + " inserts of its own (RAMP, TARGET_ONLY), move the sequence past the largest value"
                        + (dialect.product() == Dialect.Product.POSTGRESQL ? " (SELECT setval(pg_get_serial_sequence('"
                                + target.name() + "', '" + column + "'), (SELECT MAX(" + column + ") FROM "
                                + target.name() + ")))" : ""));
            }
        }
    }
}
