package io.dualwrite.autoconfigure.actuate;

import io.dualwrite.autoconfigure.DualWriteProperties;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mirror.Mirror;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.actuate.endpoint.annotation.ReadOperation;
import org.springframework.boot.actuate.endpoint.annotation.Selector;
import org.springframework.boot.actuate.endpoint.annotation.WriteOperation;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;
import org.springframework.boot.actuate.endpoint.web.annotation.WebEndpoint;

/**
 * The {@code dualwrite} actuator endpoint: where the migration stands, and the operator's controls.
 *
 * <ul>
 *   <li>{@code GET /actuator/dualwrite}: phase, mirror mode, queue, lag and parked keys, and each
 *       table's backfill progress and ETA.</li>
 *   <li>{@code POST /actuator/dualwrite/backfill} with {@code {"action": "start|pause|resume",
 *       "table": "t_order", "reason": "..."}}: acts on one table, or on every mapped table when
 *       {@code table} is left out. Refused with 403 unless
 *       {@code dualwrite.management.write-enabled=true}.</li>
 * </ul>
 *
 * <p>The write operation's selector names what to change, so that later controls (phase, percent,
 * reconcile) are further values of it.
 */
@WebEndpoint(id = "dualwrite")
public class DualWriteEndpoint {

    /** The HTTP status of a refused write. */
    static final int STATUS_FORBIDDEN = 403;
    /** The HTTP status of a write the job's state does not allow. */
    static final int STATUS_CONFLICT = 409;
    /** How long a pause waits for the chunk in flight on this instance. */
    private static final Duration PAUSE_WAIT = Duration.ofSeconds(30);

    private final DualWriteProperties properties;
    private final Mirror mirror;
    private final MappedTables tables;
    private final BackfillRunner backfill;

    /**
     * Creates the endpoint.
     *
     * @param properties the settings (phase, whether writes are allowed)
     * @param mirror the mirror
     * @param tables the mapped tables
     * @param backfill the backfill runner
     */
    public DualWriteEndpoint(DualWriteProperties properties, Mirror mirror, MappedTables tables,
            BackfillRunner backfill) {
        this.properties = Objects.requireNonNull(properties, "properties");
        this.mirror = Objects.requireNonNull(mirror, "mirror");
        this.tables = Objects.requireNonNull(tables, "tables");
        this.backfill = Objects.requireNonNull(backfill, "backfill");
    }

    /**
     * Reports where the migration stands.
     *
     * @return phase, mirror state and per-table backfill progress
     */
    @ReadOperation
    public Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("phase", properties.getPhase().name());
        Map<String, Object> mirrorStatus = new LinkedHashMap<>();
        mirrorStatus.put("mode", mirror.mode().name());
        mirrorStatus.put("pending", mirror.pending());
        Duration lag = mirror.lag();
        mirrorStatus.put("lag", lag.toString());
        mirrorStatus.put("lagMillis", lag.toMillis());
        mirrorStatus.put("parked", mirror.parked());
        status.put("mirror", mirrorStatus);
        Map<String, Object> tablesStatus = new LinkedHashMap<>();
        for (MappedTable table : tables.all()) {
            Map<String, Object> tableStatus = new LinkedHashMap<>();
            tableStatus.put("targetTable", table.target().table().name());
            tableStatus.put("backfill", progress(table.name()));
            tablesStatus.put(table.name(), tableStatus);
        }
        status.put("tables", tablesStatus);
        status.put("writeEnabled", properties.getManagement().isWriteEnabled());
        return status;
    }

    private Map<String, Object> progress(String table) {
        Map<String, Object> result = new LinkedHashMap<>();
        BackfillProgress progress;
        try {
            progress = backfill.progress(table);
        } catch (SQLException e) {
            result.put("error", "the checkpoint table could not be read: " + e.getMessage());
            return result;
        }
        result.put("status", progress.status().name());
        result.put("rowsCopied", progress.rowsCopied());
        result.put("estimatedTotal", progress.estimatedTotal());
        result.put("failedRows", progress.failedRows());
        result.put("rowsPerSecond", Math.round(progress.rowsPerSecond()));
        result.put("rangesDone", progress.rangesDone());
        result.put("ranges", progress.ranges());
        progress.eta().ifPresent(eta -> {
            result.put("eta", eta.toString());
            result.put("etaSeconds", eta.toSeconds());
        });
        progress.lastError().ifPresent(error -> result.put("lastError", error));
        return result;
    }

    /**
     * Changes something; today the backfill ({@code operation = "backfill"}).
     *
     * @param operation what to change: {@code backfill}
     * @param action for {@code backfill}: {@code start}, {@code pause} or {@code resume}
     * @param table the source table, or {@code null} for every mapped table
     * @param reason why, for {@code pause}; kept in the checkpoint table
     * @return per table what happened; 403 when writes are not enabled, 400 for a bad request, 409 when
     *     a table's job is not in a state that allows the action
     */
    @WriteOperation
    public WebEndpointResponse<Map<String, Object>> write(@Selector String operation, @Nullable String action,
            @Nullable String table, @Nullable String reason) {
        if (!properties.getManagement().isWriteEnabled()) {
            return error(STATUS_FORBIDDEN, "dualwrite write operations are disabled; set"
                    + " dualwrite.management.write-enabled=true to allow '" + operation + "'");
        }
        if (!"backfill".equals(operation)) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "unknown operation '" + operation
                    + "'; expected one of [backfill]");
        }
        return backfill(action, table, reason);
    }

    private WebEndpointResponse<Map<String, Object>> backfill(String action, String table, String reason) {
        String verb = action == null ? "" : action.trim().toLowerCase(Locale.ROOT);
        if (!List.of("start", "pause", "resume").contains(verb)) {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "backfill: unknown action '" + action
                    + "'; expected one of [start, pause, resume]");
        }
        List<String> names = new ArrayList<>();
        if (table == null) {
            tables.all().forEach(t -> names.add(t.name()));
        } else if (tables.contains(table)) {
            names.add(tables.get(table).name());
        } else {
            return error(WebEndpointResponse.STATUS_BAD_REQUEST, "backfill: table '" + table + "' is not mapped;"
                    + " mapped tables: " + tables.all().stream().map(MappedTable::name).toList());
        }
        Map<String, Object> outcome = new LinkedHashMap<>();
        int status = WebEndpointResponse.STATUS_OK;
        for (String name : names) {
            try {
                switch (verb) {
                    case "start" -> backfill.start(name);
                    case "pause" -> pause(name, reason);
                    default -> backfill.resume(name);
                }
                outcome.put(name, progress(name));
            } catch (IllegalStateException refused) {
                outcome.put(name, Map.of("error", refused.getMessage()));
                status = STATUS_CONFLICT;
            } catch (SQLException e) {
                outcome.put(name, Map.of("error", "the store could not be reached: " + e.getMessage()));
                status = WebEndpointResponse.STATUS_SERVICE_UNAVAILABLE;
            }
        }
        return new WebEndpointResponse<>(outcome, status);
    }

    /**
     * Pauses, then waits for this instance's chunk in flight, so that the answer shows the job stopped
     * and an immediate resume does not find the old worker still running.
     */
    private void pause(String table, String reason) throws SQLException {
        backfill.pause(table, reason == null ? "paused through the dualwrite endpoint" : reason);
        try {
            backfill.awaitCompletion(table, PAUSE_WAIT);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static WebEndpointResponse<Map<String, Object>> error(int status, String message) {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("error", message);
        return new WebEndpointResponse<>(body, status);
    }
}
