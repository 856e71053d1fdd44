package io.dualwrite.autoconfigure.actuate;

import io.dualwrite.degrade.DegradeMark;
import io.dualwrite.degrade.Degradation;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.MigrationController;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.springframework.boot.actuate.endpoint.web.WebEndpointResponse;

/**
 * The endpoint's degradation operations ({@code /actuator/dualwrite/degraded/...}): mark, purge, unmark, and
 * the marks in the status. A purge or an unmark's re-copy runs on a library thread; the request waits for it
 * a moment ({@link #ANSWER_WAIT}) and answers 202 with {@code RUNNING} if it goes on (the status shows its
 * progress; asked again, a purge goes on from its checkpoint).
 */
final class DegradeActions {

    /** How long a request waits for a purge or an unmark before it answers that it goes on. */
    static final Duration ANSWER_WAIT = Duration.ofSeconds(2);
    private static final int STATUS_ACCEPTED = 202;

    private final Degradation degradation;
    private final Mirror mirror;
    private final MigrationController controller;
    private final Duration recopyTimeout;
    private final ExecutorService jobs = Executors.newSingleThreadExecutor(runnable -> {
        Thread thread = new Thread(runnable, "dualwrite-degraded-jobs");
        thread.setDaemon(true);
        return thread;
    });
    /** The last outcome of each mark's job, for the status. */
    private final Map<Long, String> lastJob = new ConcurrentHashMap<>();

    DegradeActions(Degradation degradation, Mirror mirror, MigrationController controller, Duration recopyTimeout) {
        this.degradation = degradation;
        this.mirror = mirror;
        this.controller = controller;
        this.recopyTimeout = recopyTimeout;
    }

    /** @return the marks in force, the skip counts and the jobs' last outcomes */
    Map<String, Object> status() {
        Map<String, Object> status = new LinkedHashMap<>();
        status.put("marks", degradation.marks().stream().map(DegradeActions::mark).toList());
        status.put("skipped", degradation.skipped());
        Map<String, Object> jobsStatus = new LinkedHashMap<>();
        lastJob.forEach((id, outcome) -> jobsStatus.put(String.valueOf(id), outcome));
        status.put("jobs", jobsStatus);
        return status;
    }

    /**
     * Runs one action.
     *
     * @throws IllegalArgumentException for a bad request (400)
     * @throws IllegalStateException when the mark's state or the phase does not allow it (409)
     * @throws SQLException when a store cannot be reached (503)
     */
    WebEndpointResponse<Map<String, Object>> run(String action, String table, String key, String from, String to,
            String value, String id, String actor, String reason) throws SQLException {
        switch (action) {
            case "mark":
                return new WebEndpointResponse<>(Map.of("mark", mark(degradation.mark(selection(table, key, from, to,
                        value), actor, reason))), WebEndpointResponse.STATUS_OK);
            case "purge": {
                long markId = id(id);
                return job(markId, "purge", () -> {
                    Degradation.Purged purged = degradation.purge(markId, actor, reason, controller::state);
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("outcome", purged.finished() ? "PURGED" : "RUNNING");
                    body.put("id", markId);
                    body.put("purged", purged.purged());
                    body.put("refused", purged.refused());
                    body.put("refusedSample", purged.refusedSample().stream().map(RowKey::toJson).toList());
                    return body;
                });
            }
            case "unmark": {
                long markId = id(id);
                return job(markId, "unmark", () -> {
                    Degradation.Recopied recopied = degradation.unmark(markId, actor, reason,
                            (t, keys) -> mirror.repair(t, keys, recopyTimeout));
                    Map<String, Object> body = new LinkedHashMap<>();
                    body.put("outcome", recopied.notApplied().isEmpty() ? "UNMARKED" : "RECOPYING");
                    body.put("id", markId);
                    body.put("recopied", recopied.keys());
                    body.put("notApplied", recopied.notApplied().stream().map(RowKey::toJson).toList());
                    return body;
                });
            }
            default:
                throw new IllegalArgumentException("degraded: unknown action '" + action
                        + "'; expected one of [mark, purge, unmark]");
        }
    }

    @FunctionalInterface
    private interface Job {
        Map<String, Object> run() throws Exception;
    }

    private WebEndpointResponse<Map<String, Object>> job(long markId, String what, Job job) throws SQLException {
        Future<Map<String, Object>> running = jobs.submit(() -> {
            lastJob.put(markId, what + " running");
            try {
                Map<String, Object> body = job.run();
                lastJob.put(markId, what + " " + body.get("outcome"));
                return body;
            } catch (Exception e) {
                lastJob.put(markId, what + " failed: " + e.getMessage());
                throw e;
            }
        });
        try {
            return new WebEndpointResponse<>(running.get(ANSWER_WAIT.toMillis(), TimeUnit.MILLISECONDS),
                    WebEndpointResponse.STATUS_OK);
        } catch (TimeoutException goesOn) {
            Map<String, Object> body = new LinkedHashMap<>();
            body.put("outcome", "RUNNING");
            body.put("id", markId);
            body.put("message", what + " of mark " + markId + " goes on in the background; GET /actuator/dualwrite"
                    + " shows it under degraded");
            return new WebEndpointResponse<>(body, STATUS_ACCEPTED);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for the " + what + " of mark " + markId, e);
        } catch (ExecutionException failed) {
            Throwable cause = failed.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof SQLException sql) {
                throw sql;
            }
            throw new IllegalStateException(what + " of mark " + markId + " failed: " + cause, cause);
        }
    }

    private static DegradeMark selection(String table, String key, String from, String to, String value) {
        int given = (key != null ? 1 : 0) + (from != null || to != null ? 1 : 0) + (value != null ? 1 : 0);
        if (table == null || given != 1) {
            throw new IllegalArgumentException("degraded/mark: give \"table\" and one of \"key\", \"from\" with \"to\","
                    + " or \"value\" (a routing value)");
        }
        if (key != null) {
            return DegradeMark.key(table, key(key));
        }
        if (value != null) {
            return DegradeMark.routingValue(table, value);
        }
        if (from == null || to == null) {
            throw new IllegalArgumentException("degraded/mark: a key range needs both \"from\" and \"to\"");
        }
        return DegradeMark.range(table, key(from), key(to));
    }

    /** A key as the status shows it: {@code 7}, or a JSON array for a composite key ({@code ["eu",7]}). */
    private static RowKey key(String text) {
        String trimmed = text.trim();
        return trimmed.startsWith("[") ? RowKey.fromJson(trimmed) : RowKey.of(trimmed);
    }

    private static long id(String id) {
        if (id == null) {
            throw new IllegalArgumentException("degraded: give \"id\": the mark's id, as the status lists it");
        }
        try {
            return Long.parseLong(id.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("degraded: \"id\" must be a mark's id (a whole number), not '" + id + "'");
        }
    }

    static Map<String, Object> mark(DegradeMark mark) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("id", mark.id());
        json.put("table", mark.table());
        json.put("kind", mark.kind().name());
        if (mark.kind() == DegradeMark.Kind.KEY) {
            json.put("key", mark.from().toJson());
        } else if (mark.kind() == DegradeMark.Kind.RANGE) {
            json.put("from", mark.from().toJson());
            json.put("to", mark.to().toJson());
        } else {
            json.put("value", mark.value());
        }
        json.put("state", mark.state().name());
        json.put("markedBy", mark.markedBy());
        json.put("reason", mark.markReason());
        json.put("markedAt", String.valueOf(mark.markedAt()));
        json.put("purge", mark.purge().name());
        json.put("purgedRows", mark.purgedRows());
        json.put("refusedRows", mark.refusedRows());
        return json;
    }

    private static WebEndpointResponse<Map<String, Object>> ok(Map<String, Object> body) {
        return new WebEndpointResponse<>(body, WebEndpointResponse.STATUS_OK);
    }

    void close() {
        jobs.shutdownNow();
    }
}
