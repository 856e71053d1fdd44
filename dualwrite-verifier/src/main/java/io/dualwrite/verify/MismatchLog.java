package io.dualwrite.verify;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;
import tools.jackson.databind.json.JsonMapper;

/**
 * Writes each confirmed mismatch as one JSON line on the logger {@value #LOGGER}, at most
 * {@code linesPerMinute} per table in each minute; the next line written for a table carries how many were
 * suppressed before it ({@code "suppressed"}). Values come from {@link Mismatch}, which never holds a masked
 * column's value. Thread-safe.
 */
final class MismatchLog {

    /** The logger developers read every morning. */
    static final String LOGGER = "dualwrite.mismatch";

    private static final long MINUTE_NANOS = 60_000_000_000L;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final Log log = LogFactory.getLog(LOGGER);
    private final int linesPerMinute;
    private final LongSupplier nanoTime;
    private final Map<String, Window> windows = new ConcurrentHashMap<>();

    /** One table's current minute. */
    private static final class Window {
        long start;
        int written;
        long suppressed;
    }

    MismatchLog(int linesPerMinute, LongSupplier nanoTime) {
        this.linesPerMinute = linesPerMinute;
        this.nanoTime = nanoTime;
    }

    /** @return true if the line was written, false if the table's rate limit suppressed it */
    boolean write(VerifyEvent.Check check, Mismatch mismatch) {
        Window window = windows.computeIfAbsent(mismatch.table().toLowerCase(Locale.ROOT), t -> {
            Window w = new Window();
            w.start = nanoTime.getAsLong();
            return w;
        });
        long suppressedBefore;
        synchronized (window) {
            long now = nanoTime.getAsLong();
            if (now - window.start >= MINUTE_NANOS) {
                window.start = now;
                window.written = 0;
            }
            if (window.written >= linesPerMinute) {
                window.suppressed++;
                return false;
            }
            window.written++;
            suppressedBefore = window.suppressed;
            window.suppressed = 0;
        }
        log.warn(line(check, mismatch, suppressedBefore));
        return true;
    }

    static String line(VerifyEvent.Check check, Mismatch mismatch, long suppressedBefore) {
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("check", check == VerifyEvent.Check.DOUBLE_READ ? "double-read" : "reconcile");
        line.put("table", mismatch.table());
        List<Object> key = new ArrayList<>();
        mismatch.key().values().forEach(v -> key.add(Values.forLog(v)));
        line.put("key", key.size() == 1 ? key.get(0) : key);
        line.put("kind", mismatch.kind().name());
        line.put("route", mismatch.primary().name());
        if (!mismatch.columns().isEmpty()) {
            line.put("columns", mismatch.columns());
        }
        if (!mismatch.maskedColumns().isEmpty()) {
            line.put("masked", mismatch.maskedColumns());
        }
        if (!mismatch.sourceValues().isEmpty()) {
            Map<String, Object> source = new LinkedHashMap<>();
            Map<String, Object> target = new LinkedHashMap<>();
            mismatch.sourceValues().forEach((column, value) -> {
                Object[] pair = Values.forLog(value, mismatch.targetValues().get(column));
                source.put(column, pair[0]);
                target.put(column, pair[1]);
            });
            line.put("source", source);
            line.put("target", target);
        }
        line.put("sourceVersion", Values.forLog(mismatch.sourceVersion()));
        line.put("targetVersion", Values.forLog(mismatch.targetVersion()));
        if (suppressedBefore > 0) {
            line.put("suppressed", suppressedBefore);
        }
        return JSON.writeValueAsString(line);
    }

}
