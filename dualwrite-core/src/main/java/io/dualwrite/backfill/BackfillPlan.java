package io.dualwrite.backfill;

import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.springframework.scheduling.support.CronExpression;

/**
 * A staged backfill: a migration copied as an ordered series of stages rather than one big copy, for example
 * first a test region's rows, then the oldest tenth of six months, then the newest tenth, then the rest.
 * Immutable; build with {@link #builder(String)} and run with a {@link BackfillPlanRunner}.
 *
 * <pre>{@code
 * BackfillPlan plan = BackfillPlan.builder("orders")
 *     .tables("t_order", "t_order_item")
 *     .stage(BackfillPlan.Stage.builder("test-region").where("region = ?", "test").rowsPerSecond(200)
 *         .reconcileGate(true).approvalGate(true).build())
 *     .stage(BackfillPlan.Stage.builder("oldest").timeWindow("gmt_create", from, to).build())
 *     .stage(BackfillPlan.Stage.builder("rest").build())
 *     .trigger(BackfillPlan.Trigger.cron("0 0 22 * * *", ZoneId.of("Europe/Berlin")))
 *     .build();
 * }</pre>
 *
 * <p>Each stage is a backfill of every table of the plan, in the order given, restricted to the stage's
 * rows, with its own throttle and its own checkpoints; after it, its gates (a reconcile of the stage's rows
 * that must find no difference, an operator's approval) hold the next stage back. A stage's rows are those its
 * filter (time window, key range, condition) matches and no earlier stage took, so every row is copied by
 * one stage only; a last stage without a filter takes the rest.
 */
public final class BackfillPlan {

    /** A plan's or a stage's name: kept in the library tables, so short and plain. */
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,39}");

    /** Where a plan, or one of its stages, stands. */
    public enum Status {
        /** The plan was never started (its trigger has not fired). */
        NOT_STARTED,
        /** Started, waiting for its turn or its own trigger. */
        PENDING,
        /** Its rows are being copied. */
        RUNNING,
        /** Its rows are copied; waiting for its gates (the reconcile, the approval). */
        GATED,
        /** An operator approved it; the next stage starts. */
        APPROVED,
        /** Copied and through its gates. */
        DONE,
        /** Stopped by a gate that failed (a reconcile that found differences); restart it once fixed. */
        FAILED,
        /** Stopped by an operator or by the backfill's error breaker; resumable. */
        PAUSED
    }

    private final String name;
    private final List<String> tables;
    private final List<Stage> stages;
    private final Trigger trigger;

    private BackfillPlan(Builder b) {
        this.name = b.name;
        this.tables = List.copyOf(b.tables);
        this.stages = List.copyOf(b.stages);
        this.trigger = b.trigger;
    }

    /**
     * @param name the plan's name, 1 to 40 letters, digits, {@code _ . -}
     * @return a builder
     * @throws IllegalArgumentException if the name is not such
     */
    public static Builder builder(String name) {
        return new Builder(checkName("dualwrite.backfill.plans", name));
    }

    /** @return the plan's name */
    public String name() {
        return name;
    }

    /** @return the source tables, copied in this order within each stage */
    public List<String> tables() {
        return tables;
    }

    /** @return the stages, in order */
    public List<Stage> stages() {
        return stages;
    }

    /** @return what starts the plan */
    public Trigger trigger() {
        return trigger;
    }

    /**
     * Whether the plan's stages together take every row of its tables: its last stage has no filter of its own,
     * so it takes whatever the earlier stages left. Only such a plan marks its tables' own backfill DONE when it
     * is done ({@link BackfillPlanRunner}).
     *
     * @return true if the last stage has no filter
     */
    public boolean coversEveryRow() {
        return !stages.get(stages.size() - 1).filtered();
    }

    @Override
    public String toString() {
        return "plan " + name + " " + tables + ": " + stages.stream().map(Stage::name).toList() + ", " + trigger;
    }

    private static String checkName(String property, String name) {
        if (name == null || !NAME.matcher(name).matches()) {
            throw new IllegalArgumentException(property + ": '" + name + "' is not a valid name; use 1 to 40 letters,"
                    + " digits, '_', '.' or '-', starting with a letter or digit");
        }
        return name;
    }

    /** Builds a {@link BackfillPlan}. */
    public static final class Builder {

        private final String name;
        private final List<String> tables = new ArrayList<>();
        private final List<Stage> stages = new ArrayList<>();
        private Trigger trigger = Trigger.manual();

        private Builder(String name) {
            this.name = name;
        }

        /**
         * @param sourceTables the source tables as mapped, each copied in every stage in this order
         * @return this builder
         * @throws IllegalArgumentException if a name is blank or repeated
         */
        public Builder tables(String... sourceTables) {
            for (String table : sourceTables) {
                if (table == null || table.isBlank()) {
                    throw new IllegalArgumentException("dualwrite.backfill.plans." + name + ".tables: a table name is"
                            + " blank");
                }
                if (tables.stream().anyMatch(table.trim()::equalsIgnoreCase)) {
                    throw new IllegalArgumentException("dualwrite.backfill.plans." + name + ".tables: table '" + table
                            + "' is named twice");
                }
                tables.add(table.trim());
            }
            return this;
        }

        /**
         * @param stage the next stage
         * @return this builder
         * @throws IllegalArgumentException if a stage of that name is already in the plan
         */
        public Builder stage(Stage stage) {
            Objects.requireNonNull(stage, "stage");
            if (stages.stream().anyMatch(s -> s.name().equalsIgnoreCase(stage.name()))) {
                throw new IllegalArgumentException("dualwrite.backfill.plans." + name + ".stages: stage '"
                        + stage.name() + "' is named twice");
            }
            stages.add(stage);
            return this;
        }

        /**
         * @param trigger what starts the plan; default {@link Trigger#manual()}
         * @return this builder
         */
        public Builder trigger(Trigger trigger) {
            this.trigger = Objects.requireNonNull(trigger, "trigger");
            return this;
        }

        /**
         * @return the plan
         * @throws IllegalArgumentException if it has no table or no stage, a stage without a filter is not the
         *     last, or it waits for itself
         */
        public BackfillPlan build() {
            String property = "dualwrite.backfill.plans." + name;
            if (tables.isEmpty()) {
                throw new IllegalArgumentException(property + ".tables: name at least one source table");
            }
            if (stages.isEmpty()) {
                throw new IllegalArgumentException(property + ".stages: give at least one stage");
            }
            for (int i = 0; i < stages.size() - 1; i++) {
                if (!stages.get(i).filtered()) {
                    throw new IllegalArgumentException(property + ".stages." + stages.get(i).name() + ": a stage"
                            + " without a filter (time-window, key-range or where) takes every row left, so it must be"
                            + " the last; give it a filter or move it to the end");
                }
            }
            if (trigger.kind() == Trigger.Kind.AFTER_PLAN && trigger.plan().equalsIgnoreCase(name)) {
                throw new IllegalArgumentException(property + ".trigger: the plan cannot wait for itself");
            }
            for (Stage stage : stages) {
                if (stage.trigger().kind() == Trigger.Kind.AFTER_PLAN && stage.trigger().plan().equalsIgnoreCase(name)) {
                    throw new IllegalArgumentException(property + ".stages." + stage.name() + ".trigger: a stage"
                            + " cannot wait for its own plan");
                }
            }
            return new BackfillPlan(this);
        }
    }

    /**
     * One stage: which rows (a time window, a key range and a condition, all of them given; none for the rest),
     * how fast, what starts it once the stage before it is through, and its gates.
     */
    public static final class Stage {

        private final String name;
        private final String timeColumn;
        private final Object from;
        private final Object to;
        private final Object keyFrom;
        private final Object keyTo;
        private final String condition;
        private final List<Object> parameters;
        private final long rowsPerSecond;
        private final boolean reconcileGate;
        private final boolean approvalGate;
        private final Trigger trigger;

        private Stage(StageBuilder b) {
            this.name = b.name;
            this.timeColumn = b.timeColumn;
            this.from = b.from;
            this.to = b.to;
            this.keyFrom = b.keyFrom;
            this.keyTo = b.keyTo;
            this.condition = b.condition;
            this.parameters = Collections.unmodifiableList(new ArrayList<>(b.parameters));
            this.rowsPerSecond = b.rowsPerSecond;
            this.reconcileGate = b.reconcileGate;
            this.approvalGate = b.approvalGate;
            this.trigger = b.trigger;
        }

        /**
         * @param name the stage's name, 1 to 40 letters, digits, {@code _ . -}
         * @return a builder
         * @throws IllegalArgumentException if the name is not such
         */
        public static StageBuilder builder(String name) {
            return new StageBuilder(checkName("dualwrite.backfill.plans.<plan>.stages", name));
        }

        /** @return the stage's name */
        public String name() {
            return name;
        }

        /** @return the column of the stage's time window, if it has one */
        public Optional<String> timeColumn() {
            return Optional.ofNullable(timeColumn);
        }

        /** @return the time window's inclusive start, or {@code null} */
        public Object from() {
            return from;
        }

        /** @return the time window's exclusive end, or {@code null} */
        public Object to() {
            return to;
        }

        /** @return the key range's inclusive start (a single-column key), or {@code null} */
        public Object keyFrom() {
            return keyFrom;
        }

        /** @return the key range's exclusive end, or {@code null} */
        public Object keyTo() {
            return keyTo;
        }

        /** @return the stage's SQL condition with {@code ?} parameters, if it has one */
        public Optional<String> condition() {
            return Optional.ofNullable(condition);
        }

        /** @return the condition's parameters */
        public List<Object> parameters() {
            return parameters;
        }

        /** @return whether the stage has a filter; one without takes every row no earlier stage took */
        public boolean filtered() {
            return timeColumn != null || keyFrom != null || keyTo != null || condition != null;
        }

        /** @return the stage's rows per second; 0 for the backfill's own setting */
        public long rowsPerSecond() {
            return rowsPerSecond;
        }

        /** @return whether the stage's rows are reconciled after the copy and must show no difference */
        public boolean reconcileGate() {
            return reconcileGate;
        }

        /** @return whether an operator must approve the stage before the next one starts */
        public boolean approvalGate() {
            return approvalGate;
        }

        /** @return what starts the stage once the stage before it is through; {@link Trigger#now()} by default */
        public Trigger trigger() {
            return trigger;
        }

        @Override
        public String toString() {
            return "stage " + name;
        }
    }

    /** Builds a {@link Stage}. */
    public static final class StageBuilder {

        private final String name;
        private String timeColumn;
        private Object from;
        private Object to;
        private Object keyFrom;
        private Object keyTo;
        private String condition;
        private List<Object> parameters = List.of();
        private long rowsPerSecond;
        private boolean reconcileGate;
        private boolean approvalGate;
        private Trigger trigger = Trigger.now();

        private StageBuilder(String name) {
            this.name = name;
        }

        private String property(String key) {
            return "dualwrite.backfill.plans.<plan>.stages." + name + "." + key;
        }

        /**
         * Takes the rows whose {@code column} lies in {@code [from, to)}; either bound may be {@code null}.
         *
         * @param column a source column, such as {@code gmt_create}
         * @param from the inclusive start, or {@code null}
         * @param to the exclusive end, or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if both bounds are {@code null}
         */
        public StageBuilder timeWindow(String column, Object from, Object to) {
            if (column == null || column.isBlank() || from == null && to == null) {
                throw new IllegalArgumentException(property("time-window") + ": give a column and a start, an end,"
                        + " or both");
            }
            this.timeColumn = column;
            this.from = from;
            this.to = to;
            return this;
        }

        /**
         * Takes the rows whose (single-column) key lies in {@code [from, to)}; either bound may be {@code null}.
         *
         * @param from the inclusive start, or {@code null}
         * @param to the exclusive end, or {@code null}
         * @return this builder
         * @throws IllegalArgumentException if both bounds are {@code null}
         */
        public StageBuilder keyRange(Object from, Object to) {
            if (from == null && to == null) {
                throw new IllegalArgumentException(property("key-range") + ": give a start, an end, or both");
            }
            this.keyFrom = from;
            this.keyTo = to;
            return this;
        }

        /**
         * Takes the rows matching a condition, such as {@code region = ?}. The condition is SQL written by the
         * application's developers, never by its users: values are {@code ?} parameters.
         *
         * @param condition the condition, without {@code WHERE}
         * @param parameters its parameters
         * @return this builder
         * @throws IllegalArgumentException if the condition is blank, holds a {@code ;}, or its {@code ?} do not
         *     match the parameters
         */
        public StageBuilder where(String condition, Object... parameters) {
            if (condition == null || condition.isBlank() || condition.contains(";")) {
                throw new IllegalArgumentException(property("where") + ": a single condition without ';' is"
                        + " required, was '" + condition + "'");
            }
            long marks = condition.chars().filter(c -> c == '?').count();
            if (marks != parameters.length) {
                throw new IllegalArgumentException(property("where") + ": the condition '" + condition + "' has "
                        + marks + " '?' but " + parameters.length + " parameters were given");
            }
            this.condition = condition;
            this.parameters = List.of(parameters);
            return this;
        }

        /**
         * @param rows the stage's rows per second; 0 for the backfill's own {@code rows-per-second}
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public StageBuilder rowsPerSecond(long rows) {
            if (rows < 0) {
                throw new IllegalArgumentException(property("rows-per-second") + ": must not be negative, was " + rows);
            }
            this.rowsPerSecond = rows;
            return this;
        }

        /**
         * @param gate whether the stage's rows are reconciled once copied; a difference fails the plan there
         * @return this builder
         */
        public StageBuilder reconcileGate(boolean gate) {
            this.reconcileGate = gate;
            return this;
        }

        /**
         * @param gate whether an operator must approve the stage before the next one starts
         * @return this builder
         */
        public StageBuilder approvalGate(boolean gate) {
            this.approvalGate = gate;
            return this;
        }

        /**
         * @param trigger what starts the stage once the one before it is through; default {@link Trigger#now()}
         * @return this builder
         */
        public StageBuilder trigger(Trigger trigger) {
            this.trigger = Objects.requireNonNull(trigger, "trigger");
            return this;
        }

        /** @return the stage */
        public Stage build() {
            return new Stage(this);
        }
    }

    /** What starts a plan, or a stage once the stage before it is through. */
    public static final class Trigger {

        /** The kinds of trigger. */
        public enum Kind {
            /** Only a call of {@link BackfillPlanRunner#start}. */
            MANUAL,
            /** At once. */
            NOW,
            /** At an instant. */
            AT,
            /** At the next time a cron expression matches. */
            CRON,
            /** Once another plan is done. */
            AFTER_PLAN
        }

        private final Kind kind;
        private final Instant at;
        private final CronExpression cron;
        private final String cronText;
        private final ZoneId zone;
        private final String plan;

        private Trigger(Kind kind, Instant at, String cron, ZoneId zone, String plan) {
            this.kind = kind;
            this.at = at;
            this.cronText = cron;
            this.cron = cron == null ? null : CronExpression.parse(cron);
            this.zone = zone;
            this.plan = plan;
        }

        /** @return a trigger that waits for {@link BackfillPlanRunner#start} */
        public static Trigger manual() {
            return new Trigger(Kind.MANUAL, null, null, null, null);
        }

        /** @return a trigger that fires at once */
        public static Trigger now() {
            return new Trigger(Kind.NOW, null, null, null, null);
        }

        /**
         * @param instant when to fire
         * @return the trigger
         */
        public static Trigger at(Instant instant) {
            return new Trigger(Kind.AT, Objects.requireNonNull(instant, "instant"), null, null, null);
        }

        /**
         * @param expression a Spring cron expression (six fields, seconds first), such as {@code 0 0 22 * * *}
         * @param zone the zone the expression is read in
         * @return a trigger firing at the first match after the moment it starts waiting
         * @throws IllegalArgumentException if the expression does not parse; the message holds the parser's
         */
        public static Trigger cron(String expression, ZoneId zone) {
            try {
                return new Trigger(Kind.CRON, null, expression, Objects.requireNonNull(zone, "zone"), null);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("dualwrite.backfill.plans: cron '" + expression + "' does not"
                        + " parse: " + e.getMessage(), e);
            }
        }

        /**
         * @param plan the plan to wait for
         * @return a trigger firing once that plan is done
         * @throws IllegalArgumentException if the name is not a plan name
         */
        public static Trigger after(String plan) {
            return new Trigger(Kind.AFTER_PLAN, null, null, null, checkName("dualwrite.backfill.plans.<plan>.after",
                    plan));
        }

        /** @return the kind */
        public Kind kind() {
            return kind;
        }

        /** @return the other plan of {@link Kind#AFTER_PLAN}, else {@code null} */
        public String plan() {
            return plan;
        }

        /**
         * When the trigger fires for something that began waiting at {@code since}.
         *
         * @param since when the wait began
         * @return the instant, or empty for {@link Kind#MANUAL} and {@link Kind#AFTER_PLAN}, which do not fire
         *     on the clock
         */
        Optional<Instant> fireTime(Instant since) {
            return switch (kind) {
                case NOW -> Optional.of(since);
                case AT -> Optional.of(at);
                case CRON -> Optional.ofNullable(cron.next(since.atZone(zone))).map(t -> t.toInstant());
                case MANUAL, AFTER_PLAN -> Optional.empty();
            };
        }

        @Override
        public String toString() {
            return switch (kind) {
                case MANUAL -> "started by hand";
                case NOW -> "now";
                case AT -> "at " + at;
                case CRON -> "on cron '" + cronText + "' (" + zone + ")";
                case AFTER_PLAN -> "after plan " + plan;
            };
        }
    }
}
