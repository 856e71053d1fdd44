package io.dualwrite.autoconfigure;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code dualwrite.incremental.*}: tables of expiring data migrated incrementally, with no backfill and no
 * mirror (see {@link io.dualwrite.expiring.IncrementalMigration}).
 */
@ConfigurationProperties(prefix = "dualwrite.incremental")
public class IncrementalProperties {

    /** Table name to how its new rows are told from old ones; a table here must not be in dualwrite.tables. */
    private Map<String, Table> tables = new LinkedHashMap<>();

    /** The longest either store may take to answer one query of a merged read or of the live-row report. */
    private Duration queryTimeout = Duration.ofSeconds(10);

    /** How often the live-row report (endpoint section 'incremental', meter dualwrite.incremental.live.rows) is counted. */
    private Duration reportInterval = Duration.ofMinutes(5);

    public Map<String, Table> getTables() {
        return tables;
    }

    public void setTables(Map<String, Table> tables) {
        this.tables = tables;
    }

    public Duration getQueryTimeout() {
        return queryTimeout;
    }

    public void setQueryTimeout(Duration queryTimeout) {
        this.queryTimeout = queryTimeout;
    }

    public Duration getReportInterval() {
        return reportInterval;
    }

    public void setReportInterval(Duration reportInterval) {
        this.reportInterval = reportInterval;
    }

    /** One incrementally migrated table. */
    public static class Table {

        /** The table's name in the source, when it differs from the configured name. */
        private String sourceTable;

        /** The table's name in the target, when it differs from the configured name. */
        private String targetTable;

        /** The single key column, the same in both stores. */
        private String keyColumn;

        /** The largest key the source may hold: rows with a key above it were created in the target. */
        private BigDecimal newKeysAbove;

        /** The creation-time column, for a split by creation time (with created-from). */
        private String createdColumn;

        /** When new rows began to be created in the target, for a split by creation time (with created-column). */
        private Instant createdFrom;

        /** The column after whose time a row is no longer alive; a null value never expires. */
        private String expiresColumn;

        public String getSourceTable() {
            return sourceTable;
        }

        public void setSourceTable(String sourceTable) {
            this.sourceTable = sourceTable;
        }

        public String getTargetTable() {
            return targetTable;
        }

        public void setTargetTable(String targetTable) {
            this.targetTable = targetTable;
        }

        public String getKeyColumn() {
            return keyColumn;
        }

        public void setKeyColumn(String keyColumn) {
            this.keyColumn = keyColumn;
        }

        public BigDecimal getNewKeysAbove() {
            return newKeysAbove;
        }

        public void setNewKeysAbove(BigDecimal newKeysAbove) {
            this.newKeysAbove = newKeysAbove;
        }

        public String getCreatedColumn() {
            return createdColumn;
        }

        public void setCreatedColumn(String createdColumn) {
            this.createdColumn = createdColumn;
        }

        public Instant getCreatedFrom() {
            return createdFrom;
        }

        public void setCreatedFrom(Instant createdFrom) {
            this.createdFrom = createdFrom;
        }

        public String getExpiresColumn() {
            return expiresColumn;
        }

        public void setExpiresColumn(String expiresColumn) {
            this.expiresColumn = expiresColumn;
        }
    }
}
