package io.dualwrite.capture.jdbc;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.function.Supplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * What every connection of one {@link CapturingDataSource} shares: the plans, the policies (with the phase that
 * decides DDL on a mapped table) and the recorder.
 */
final class CaptureContext {

    private static final Log log = LogFactory.getLog(CapturingDataSource.class);

    static final String POLICY_PROPERTY = "dualwrite.capture.unattributable";
    static final String SCHEMA_CHANGES_PROPERTY = "dualwrite.capture.schema-changes";
    static final String SCHEMA_CHANGES_ADVICE = "A schema change during a migration reaches both stores and the"
            + " mapping: change the target first in a form both versions of the application accept (a nullable or"
            + " defaulted column), then the source, then restart the instances with dualwrite.tables.* updated, and"
            + " reconcile the table (README: \"Schema tools and schema changes\")";

    private final Route side;
    private final Dialect dialect;
    private final ChangeRecorder recorder;
    private final UnattributablePolicy policy;
    private final SchemaChangePolicy schemaChanges;
    private final Supplier<Phase> phase;
    private final EventPublisher events;
    private final SqlAnalyzer analyzer;
    private final Cache<String, StatementPlan> plans;

    CaptureContext(MappedTables tables, Route side, ChangeRecorder recorder, UnattributablePolicy policy,
            SchemaChangePolicy schemaChanges, Supplier<Phase> phase, EventPublisher events,
            long maximumCachedStatements) {
        this.side = side;
        this.schemaChanges = schemaChanges;
        this.phase = phase;
        this.dialect = side == Route.SOURCE ? tables.sourceDialect() : tables.targetDialect();
        this.recorder = recorder;
        this.policy = policy;
        this.events = events;
        List<CapturedTable> captured = new ArrayList<>();
        for (MappedTable table : tables.all()) {
            captured.add(new CapturedTable(table, side));
        }
        this.analyzer = new SqlAnalyzer(captured);
        this.plans = Caffeine.newBuilder().maximumSize(maximumCachedStatements).build();
    }

    Route side() {
        return side;
    }

    Dialect dialect() {
        return dialect;
    }

    ChangeRecorder recorder() {
        return recorder;
    }

    /** @return the plan for this text, parsed once while it stays in the cache */
    StatementPlan plan(String sql) {
        return plans.get(sql, analyzer::analyse);
    }

    /**
     * Under FAIL, refuses an unattributable statement before it runs.
     *
     * @throws SQLException naming the statement, the reason and the property that lets it run
     */
    void refuseIfFailing(StatementPlan plan) throws SQLException {
        if (plan.isSchemaChange()) {
            Phase now = phase.get();
            if (now.mirrors() && schemaChanges == SchemaChangePolicy.FAIL) {
                throw new SQLException("dualwrite refuses DDL on mapped " + describe(plan.unattributedTables())
                        + " in phase " + now + ", while its changes are mirrored between the stores: "
                        + SqlAnalyzer.shown(plan.sql()) + ". " + SCHEMA_CHANGES_ADVICE + ". In SOURCE_ONLY and"
                        + " TARGET_ONLY such DDL runs; to run it here anyway, set " + SCHEMA_CHANGES_PROPERTY
                        + "=WARN.", "0A000");
            }
            return;
        }
        if (plan.kind() == StatementPlan.Kind.UNATTRIBUTABLE && policy == UnattributablePolicy.FAIL) {
            throw new SQLException("dualwrite cannot tell which rows of " + describe(plan.unattributedTables())
                    + " this statement writes (" + plan.reason() + "), so the other store would silently miss them: "
                    + SqlAnalyzer.shown(plan.sql()) + ". Write the mapped table with statements that name their rows,"
                    + " or set " + POLICY_PROPERTY + "=WARN to run such statements and reconcile the table.",
                    "0A000");
        }
    }

    /** Under WARN: logged once per text, and an event per run (counted, and a reconcile scheduled). */
    void reportUnattributed(StatementPlan plan) {
        if (plan.isSchemaChange()) {
            Phase now = phase.get();
            if (!now.mirrors()) {
                return;
            }
            if (plan.firstWarning()) {
                log.warn("dualwrite ran DDL on mapped " + describe(plan.unattributedTables()) + " in phase " + now
                        + " because " + SCHEMA_CHANGES_PROPERTY + "=WARN: " + SqlAnalyzer.shown(plan.sql()) + ". "
                        + SCHEMA_CHANGES_ADVICE + ".");
            }
            for (CapturedTable table : plan.unattributedTables()) {
                events.publish(new DualWriteEvent.UnattributedWrite(table.name(), plan.sql()));
            }
            return;
        }
        if (plan.firstWarning()) {
            log.warn("dualwrite cannot tell which rows of " + describe(plan.unattributedTables())
                    + " this statement writes (" + plan.reason() + "); it runs because " + POLICY_PROPERTY
                    + "=WARN, and the table needs a reconcile: " + SqlAnalyzer.shown(plan.sql()));
        }
        for (CapturedTable table : plan.unattributedTables()) {
            events.publish(new DualWriteEvent.UnattributedWrite(table.name(), plan.sql()));
        }
    }

    /**
     * Turns captured keys into changes. A target key that does not map back to the source (an id-mapped
     * row created in the target) cannot be mirrored by key: it is reported like an unattributed write.
     */
    List<Change> changes(CapturedTable table, Collection<RowKey> keys, String sql) {
        List<Change> changes = new ArrayList<>(keys.size());
        for (RowKey key : keys) {
            try {
                changes.add(table.change(key));
            } catch (RuntimeException unmappable) {
                log.warn("dualwrite captured key " + key + " of table '" + table.sideName() + "' but cannot map it"
                        + " back to the source (" + unmappable.getMessage() + "); the table needs a reconcile");
                events.publish(new DualWriteEvent.UnattributedWrite(table.name(), sql));
            }
        }
        return changes;
    }

    /** Generated keys that did not hold the key: the write happened, the keys are lost, reconcile. */
    void reportMissingGeneratedKeys(StatementPlan plan, String why) {
        log.warn("dualwrite could not read the generated keys of a write to table '" + plan.table().sideName() + "' ("
                + why + "); the table needs a reconcile: " + SqlAnalyzer.shown(plan.sql()));
        events.publish(new DualWriteEvent.UnattributedWrite(plan.table().name(), plan.sql()));
    }

    private static String describe(List<CapturedTable> tables) {
        if (tables.size() == 1) {
            return "table '" + tables.get(0).sideName() + "'";
        }
        List<String> names = new ArrayList<>();
        tables.forEach(t -> names.add(t.sideName()));
        return "tables " + names;
    }
}
