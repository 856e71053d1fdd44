package io.dualwrite.autoconfigure;

import io.dualwrite.backfill.BackfillPlan;
import io.dualwrite.backfill.BackfillPlanRunner;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.MigrationController;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.SQLException;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Staged backfill plans ({@code dualwrite.backfill.plans.*}): the {@link BackfillPlanRunner} on the library's
 * pools, with the backfill's settings, the routing controller's gate and the reconciler's settings for the
 * reconcile gates; it follows its plans from start-up. Each plan shows under {@code plans} on the endpoint,
 * which also takes the actions ({@code POST /actuator/dualwrite/plan}), and as the meters
 * {@code dualwrite.backfill.plan.rows} (per stage) and {@code dualwrite.backfill.plan.stage}.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBean(BackfillRunner.class)
@Conditional(DualWriteBackfillPlanAutoConfiguration.PlansConfigured.class)
@EnableConfigurationProperties(BackfillPlanProperties.class)
public class DualWriteBackfillPlanAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteBackfillPlanAutoConfiguration() {
    }

    /**
     * The plans' runner, its table checked (or created) here so that a missing one stops start-up.
     *
     * @param plans the plans' settings
     * @param properties the backfill's and the schema's settings
     * @param tables the mappings
     * @param source the library's source pool
     * @param target the library's target pool, where the plans' state is kept
     * @param events the publisher
     * @param mirror the mirror, whose lag the stages give way to as the backfill does
     * @param controller the controller, whose gate keeps chunks out of RAMP
     * @param reconcile the reconcile service, whose settings (dry run or repair) the reconcile gates use
     * @return the runner
     * @throws DualWriteSettingException naming the property to fix
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public BackfillPlanRunner dualWriteBackfillPlans(BackfillPlanProperties plans, DualWriteProperties properties,
            MappedTables tables, @Qualifier(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE) DataSource source,
            @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE) DataSource target, EventPublisher events,
            @Qualifier("dualWriteMirror") Mirror mirror, MigrationController controller,
            ObjectProvider<ReconcileService> reconcile) {
        List<BackfillPlan> built = new ArrayList<>();
        plans.getPlans().forEach((name, settings) -> built.add(plan(name, settings)));
        BackfillPlanRunner.Builder builder = BackfillPlanRunner.builder(tables, source, target)
                .backfill(DualWriteAutoConfiguration.backfillConfig(properties, mirror)).plans(built).events(events)
                .gate(controller.backfillGate());
        ReconcileService service = reconcile.getIfAvailable();
        if (service != null) {
            builder.check((plan, stage, table, condition, parameters) -> service.wholeTables().asStageCheck()
                    .check(plan, stage, table, condition, parameters));
        }
        BackfillPlanRunner runner;
        try {
            runner = builder.pollInterval(plans.getPlanPollInterval()).build();
        } catch (IllegalArgumentException e) {
            throw new DualWriteSettingException("dualwrite.backfill.plans", e.getMessage(),
                    "Fix the properties named above.", e);
        }
        try {
            runner.ensureTables();
        } catch (IllegalStateException missing) {
            throw new DualWriteSettingException("dualwrite.schema.create", missing.getMessage(), "Run the DDL above on"
                    + " the target database, or set dualwrite.schema.create=true to let dualwrite create it.", missing);
        } catch (SQLException e) {
            throw new DualWriteSettingException("dualwrite.target", "the target database could not be reached to"
                    + " check the backfill plans' table: " + e.getMessage(), "Check dualwrite.target.*.", e);
        }
        return runner;
    }

    /**
     * Starts following the plans once every bean is ready.
     *
     * @param runner the plans' runner
     * @return the starter
     */
    @Bean
    SmartInitializingSingleton dualWriteBackfillPlansOpen(BackfillPlanRunner runner) {
        return runner::open;
    }

    static BackfillPlan plan(String name, BackfillPlanProperties.Plan settings) {
        String property = "dualwrite.backfill.plans." + name;
        try {
            ZoneId zone = settings.getZone() == null ? ZoneId.systemDefault() : ZoneId.of(settings.getZone());
            BackfillPlan.Builder plan = BackfillPlan.builder(name)
                    .tables(settings.getTables().toArray(String[]::new))
                    .trigger(trigger(property + ".trigger", settings.getTrigger(), zone));
            List<BackfillPlanProperties.Stage> stages = settings.getStages();
            for (int i = 0; i < stages.size(); i++) {
                BackfillPlanProperties.Stage s = stages.get(i);
                String at = property + ".stages[" + i + "]";
                if (s.getName() == null) {
                    throw new IllegalArgumentException(at + ".name: give the stage a name");
                }
                BackfillPlan.StageBuilder stage = BackfillPlan.Stage.builder(s.getName())
                        .rowsPerSecond(s.getRowsPerSecond()).reconcileGate(s.isReconcileGate())
                        .approvalGate(s.isApprovalGate()).trigger(trigger(at + ".trigger", s.getTrigger(), zone));
                if (s.getTimeColumn() != null || s.getTimeFrom() != null || s.getTimeTo() != null) {
                    stage.timeWindow(s.getTimeColumn(), s.getTimeFrom(), s.getTimeTo());
                }
                if (s.getKeyFrom() != null || s.getKeyTo() != null) {
                    stage.keyRange(key(s.getKeyFrom()), key(s.getKeyTo()));
                }
                if (s.getWhere() != null) {
                    stage.where(s.getWhere(), s.getParameters().toArray());
                }
                plan.stage(stage.build());
            }
            return plan.build();
        } catch (IllegalArgumentException | DateTimeException e) {
            throw new DualWriteSettingException(property, property + ": " + e.getMessage(),
                    "Fix the properties named above, or remove " + property + ".", e);
        }
    }

    /** A whole number key as a number, so that it compares as one; anything else as text. */
    private static Object key(String value) {
        if (value == null) {
            return null;
        }
        try {
            return Long.parseLong(value.trim());
        } catch (NumberFormatException notANumber) {
            return value;
        }
    }

    static BackfillPlan.Trigger trigger(String property, String text, ZoneId zone) {
        String value = text == null ? "" : text.trim();
        String word = value.split("\\s+", 2)[0].toLowerCase(Locale.ROOT);
        String rest = value.length() > word.length() ? value.substring(word.length()).trim() : "";
        switch (word) {
            case "manual":
                return BackfillPlan.Trigger.manual();
            case "now":
                return BackfillPlan.Trigger.now();
            case "at":
                try {
                    return BackfillPlan.Trigger.at(Instant.parse(rest));
                } catch (DateTimeException e) {
                    throw new IllegalArgumentException(property + ": '" + rest + "' is not an instant such as"
                            + " 2026-03-01T22:00:00Z", e);
                }
            case "cron":
                return BackfillPlan.Trigger.cron(rest, zone);
            case "after":
                return BackfillPlan.Trigger.after(rest);
            default:
                throw new IllegalArgumentException(property + ": '" + text + "' is not a trigger; use manual, now,"
                        + " 'at <instant>', 'cron <expression>' or 'after <plan>'");
        }
    }

    /** The plans under {@code plans} on the endpoint, when it is there. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(name = "org.springframework.boot.actuate.endpoint.annotation.Endpoint")
    static class EndpointView {

        @Bean
        SmartInitializingSingleton dualWriteBackfillPlansOnEndpoint(BackfillPlanRunner runner,
                ObjectProvider<io.dualwrite.autoconfigure.actuate.DualWriteEndpoint> endpoint) {
            return () -> endpoint.ifAvailable(e -> e.showPlans(runner));
        }
    }

    /** Rows per stage and the current stage per plan, when the application has a registry. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(MeterRegistry.class)
    static class Metrics {

        @Bean
        SmartInitializingSingleton dualWriteBackfillPlanMeters(BackfillPlanRunner runner,
                ObjectProvider<MeterRegistry> registry) {
            return () -> registry.ifAvailable(meters -> {
                for (BackfillPlan plan : runner.plans()) {
                    Gauge.builder(MeterNames.BACKFILL_PLAN_STAGE, runner, r -> r.lastProgress(plan.name())
                            .map(p -> (double) p.currentStage()).orElse(Double.NaN)).tag("plan", plan.name())
                            .description("The index of the plan's current stage; the stage count once done")
                            .register(meters);
                    for (int i = 0; i < plan.stages().size(); i++) {
                        int stage = i;
                        Gauge.builder(MeterNames.BACKFILL_PLAN_ROWS, runner, r -> r.lastProgress(plan.name())
                                .map(p -> (double) p.stages().get(stage).rowsCopied()).orElse(Double.NaN))
                                .tag("plan", plan.name()).tag("stage", plan.stages().get(stage).name())
                                .description("Rows the stage copied, over its tables").register(meters);
                    }
                }
            });
        }
    }

    /** Matches when at least one plan is configured. */
    static final class PlansConfigured extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            boolean any = Binder.get(context.getEnvironment())
                    .bind("dualwrite.backfill.plans", Bindable.mapOf(String.class, Object.class))
                    .map(Map::isEmpty).map(empty -> !empty).orElse(false);
            return any ? ConditionOutcome.match("dualwrite.backfill.plans is set")
                    : ConditionOutcome.noMatch("no dualwrite.backfill.plans");
        }
    }
}
