package io.dualwrite.autoconfigure;

import java.time.Duration;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * {@code dualwrite.backfill.plans.*}: staged backfill plans (see {@link io.dualwrite.backfill.BackfillPlan}),
 * each a series of stages copied one after the other, with gates between them.
 */
@ConfigurationProperties(prefix = "dualwrite.backfill")
public class BackfillPlanProperties {

    /** Plan name to its tables, stages and trigger. */
    private Map<String, Plan> plans = new LinkedHashMap<>();

    /** How often each instance looks at the plans: triggers, finished stages, gates. */
    private Duration planPollInterval = Duration.ofSeconds(2);

    public Map<String, Plan> getPlans() {
        return plans;
    }

    public void setPlans(Map<String, Plan> plans) {
        this.plans = plans;
    }

    public Duration getPlanPollInterval() {
        return planPollInterval;
    }

    public void setPlanPollInterval(Duration planPollInterval) {
        this.planPollInterval = planPollInterval;
    }

    /** One plan. */
    public static class Plan {

        /** The source tables, as mapped; each stage copies them in this order (parents first). */
        private List<String> tables = new ArrayList<>();

        /** The stages, in order; a last stage without a filter takes every row no earlier stage took. */
        private List<Stage> stages = new ArrayList<>();

        /**
         * What starts the plan: 'manual' (the endpoint's 'start'), 'now', 'at 2026-03-01T22:00:00Z',
         * 'cron 0 0 22 * * *' (Spring cron, seconds first, read in the zone) or 'after other-plan'.
         */
        private String trigger = "manual";

        /** The zone cron triggers of this plan and its stages are read in; the system's by default. */
        private String zone;

        public List<String> getTables() {
            return tables;
        }

        public void setTables(List<String> tables) {
            this.tables = tables;
        }

        public List<Stage> getStages() {
            return stages;
        }

        public void setStages(List<Stage> stages) {
            this.stages = stages;
        }

        public String getTrigger() {
            return trigger;
        }

        public void setTrigger(String trigger) {
            this.trigger = trigger;
        }

        public String getZone() {
            return zone;
        }

        public void setZone(String zone) {
            this.zone = zone;
        }
    }

    /** One stage of a plan: its rows (all of its filters together), throttle, trigger and gates. */
    public static class Stage {

        /** The stage's name, shown on the endpoint and kept with its checkpoints. */
        private String name;

        /** A source column of a time window, such as gmt_create; with time-from and/or time-to. */
        private String timeColumn;

        /** The time window's inclusive start. */
        private LocalDateTime timeFrom;

        /** The time window's exclusive end. */
        private LocalDateTime timeTo;

        /** The inclusive start of a range of the (single-column) key. */
        private String keyFrom;

        /** The exclusive end of a range of the key. */
        private String keyTo;

        /** An SQL condition over the source table with '?' parameters, such as "region = ?". */
        private String where;

        /** The condition's parameters, in order. */
        private List<String> parameters = new ArrayList<>();

        /** Rows per second for this stage; 0 for dualwrite.backfill.rows-per-second. */
        private long rowsPerSecond;

        /**
         * Whether the stage's rows are reconciled once copied (repairing or dry as
         * dualwrite.verify.reconcile.repair says); any difference fails the stage and stops the plan there.
         */
        private boolean reconcileGate;

        /** Whether an operator must approve the stage (endpoint action 'approve') before the next one starts. */
        private boolean approvalGate;

        /** What starts the stage once the one before it is through; the same forms as the plan's trigger. */
        private String trigger = "now";

        public String getName() {
            return name;
        }

        public void setName(String name) {
            this.name = name;
        }

        public String getTimeColumn() {
            return timeColumn;
        }

        public void setTimeColumn(String timeColumn) {
            this.timeColumn = timeColumn;
        }

        public LocalDateTime getTimeFrom() {
            return timeFrom;
        }

        public void setTimeFrom(LocalDateTime timeFrom) {
            this.timeFrom = timeFrom;
        }

        public LocalDateTime getTimeTo() {
            return timeTo;
        }

        public void setTimeTo(LocalDateTime timeTo) {
            this.timeTo = timeTo;
        }

        public String getKeyFrom() {
            return keyFrom;
        }

        public void setKeyFrom(String keyFrom) {
            this.keyFrom = keyFrom;
        }

        public String getKeyTo() {
            return keyTo;
        }

        public void setKeyTo(String keyTo) {
            this.keyTo = keyTo;
        }

        public String getWhere() {
            return where;
        }

        public void setWhere(String where) {
            this.where = where;
        }

        public List<String> getParameters() {
            return parameters;
        }

        public void setParameters(List<String> parameters) {
            this.parameters = parameters;
        }

        public long getRowsPerSecond() {
            return rowsPerSecond;
        }

        public void setRowsPerSecond(long rowsPerSecond) {
            this.rowsPerSecond = rowsPerSecond;
        }

        public boolean isReconcileGate() {
            return reconcileGate;
        }

        public void setReconcileGate(boolean reconcileGate) {
            this.reconcileGate = reconcileGate;
        }

        public boolean isApprovalGate() {
            return approvalGate;
        }

        public void setApprovalGate(boolean approvalGate) {
            this.approvalGate = approvalGate;
        }

        public String getTrigger() {
            return trigger;
        }

        public void setTrigger(String trigger) {
            this.trigger = trigger;
        }
    }
}
