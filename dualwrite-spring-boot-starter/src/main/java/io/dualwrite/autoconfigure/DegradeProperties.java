package io.dualwrite.autoconfigure;

import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code dualwrite.degraded.*}: taking rows out of the migration (see {@code io.dualwrite.degrade}). The marks
 * are reloaded every {@code dualwrite.control.poll-interval}; their table is created when
 * {@code dualwrite.schema.create=true}.
 */
@ConfigurationProperties(prefix = "dualwrite.degraded")
public class DegradeProperties {

    /** Whether rows can be marked as not mirrored (the marks table is then needed in the target). */
    private boolean enabled = true;

    /** The marks table in the target. */
    private String table = "dualwrite_degraded";

    /**
     * How old this instance's view of the marks may be and still skip changes; also how long an unmark waits
     * before it copies the rows again. Left out: three control poll intervals. Must exceed the poll interval.
     */
    private Duration staleAfter;

    /** Rows per purge batch and per re-copy batch. */
    private int batchSize = 500;

    /** How many rows per second a purge deletes, and a re-copy copies, at most. */
    private int rowsPerSecond = 2_000;

    /** How long an unmark's re-copy retries keys that writers hold. */
    private Duration recopyTimeout = Duration.ofMinutes(1);

    /** Creates the properties; Spring does. */
    public DegradeProperties() {
    }

    /** @return whether degradation is on */
    public boolean isEnabled() {
        return enabled;
    }

    /** @param enabled whether degradation is on */
    public void setEnabled(boolean enabled) {
        this.enabled = enabled;
    }

    /** @return the marks table */
    public String getTable() {
        return table;
    }

    /** @param table the marks table */
    public void setTable(String table) {
        this.table = table;
    }

    /** @return the oldest view that still skips, or null for three poll intervals */
    public Duration getStaleAfter() {
        return staleAfter;
    }

    /** @param staleAfter the oldest view that still skips */
    public void setStaleAfter(Duration staleAfter) {
        this.staleAfter = staleAfter;
    }

    /** @return rows per batch */
    public int getBatchSize() {
        return batchSize;
    }

    /** @param batchSize rows per batch */
    public void setBatchSize(int batchSize) {
        this.batchSize = batchSize;
    }

    /** @return rows per second at most */
    public int getRowsPerSecond() {
        return rowsPerSecond;
    }

    /** @param rowsPerSecond rows per second at most */
    public void setRowsPerSecond(int rowsPerSecond) {
        this.rowsPerSecond = rowsPerSecond;
    }

    /** @return how long a re-copy retries held keys */
    public Duration getRecopyTimeout() {
        return recopyTimeout;
    }

    /** @param recopyTimeout how long a re-copy retries held keys */
    public void setRecopyTimeout(Duration recopyTimeout) {
        this.recopyTimeout = recopyTimeout;
    }
}
