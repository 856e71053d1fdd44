package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import dev.openfeature.sdk.OpenFeatureAPI;
import dev.openfeature.sdk.providers.memory.Flag;
import dev.openfeature.sdk.providers.memory.InMemoryProvider;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.RoutingRules;
import io.dualwrite.routing.StepResult;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.context.ApplicationEvent;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.core.env.MapPropertySource;

/**
 * Issue 18, feature flags and live settings, on H2: an OpenFeature flag change (the SDK's in-memory
 * provider) and a configuration refresh each become a guarded ramp step; the control store holds the
 * setting in force, and the outcome is reported.
 */
class DesiredSettingsAutoConfigurationTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "flags_src");
        target = TestDatabase.create(Store.H2, "flags_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    private ApplicationContextRunner runner() {
        return new ApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        MetricsAutoConfiguration.class, DualWriteAutoConfiguration.class,
                        DualWriteMetricsAutoConfiguration.class, DualWriteRoutingKeyAutoConfiguration.class,
                        DualWriteDesiredSettingsAutoConfiguration.class))
                .withBean(MeterRegistry.class, SimpleMeterRegistry::new)
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.schema.create=true", "dualwrite.tables.t_order.routing-column=user_id",
                        "dualwrite.phase=DUAL_WRITE", "dualwrite.backfill.auto-start=true",
                        "dualwrite.control.poll-interval=100ms", "dualwrite.routing.step-timeout=10s");
    }

    @Test
    void openFeatureFlagChange_becomesAGuardedStep_andItsOutcomeIsReported() throws Exception {
        String domain = "dualwrite-" + UUID.randomUUID();
        InMemoryProvider provider = new InMemoryProvider(new HashMap<>());
        OpenFeatureAPI.getInstance().setProviderAndWait(domain, provider);
        runner().withPropertyValues("dualwrite.flags.enabled=true", "dualwrite.flags.domain=" + domain).run(context -> {
            assertThat(context).hasNotFailed().hasSingleBean(OpenFeatureSettings.class);
            MigrationController controller = context.getBean(MigrationController.class);
            assertThat(context.getBean(BackfillRunner.class).awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
            assertThat(controller.rules().phase()).as("no flag set: nothing asked").isEqualTo(Phase.DUAL_WRITE);

            // Every report is kept: the provider may announce one change more than once, and the repeat is
            // rightly UNCHANGED, so the last report alone may no longer be the one that moved the phase.
            DesiredSettings desired = context.getBean(DesiredSettings.class);
            List<DesiredSettings.Report> reports = new CopyOnWriteArrayList<>();
            desired.onReport(reports::add);
            provider.updateFlags(Map.of("dualwrite-phase", flag("RAMP"), "dualwrite-percent", flag(30)));
            awaitRules(controller, rules -> rules.phase() == Phase.RAMP && rules.percent() == 30);
            DesiredSettings.Report report = awaitReport(reports, r -> Integer.valueOf(30).equals(r.desired().percent())
                    && r.outcome() == StepResult.Outcome.ACTIVATED);
            assertThat(report.steps()).isEqualTo(1);
            assertThat(report.source()).startsWith("openfeature");
            assertThat(controller.state().message()).contains("desired by openfeature");

            provider.updateFlag("dualwrite-allow", flag("7, 8"));
            awaitRules(controller, rules -> rules.allow().equals(Set.of("7", "8")));
            assertThat(controller.rules().percent()).as("a flag changes only its own part").isEqualTo(30);

            provider.updateFlag("dualwrite-percent", flag(130));
            Thread.sleep(500);
            assertThat(controller.rules().percent()).as("a percent outside 0..100 is left out").isEqualTo(30);

            MeterRegistry meters = context.getBean(MeterRegistry.class);
            assertThat(meters.get(MeterNames.ROUTING_DESIRED).tag("outcome", "ACTIVATED").functionCounter().count())
                    .isGreaterThanOrEqualTo(2);
        });
        OpenFeatureAPI.getInstance().setProviderAndWait(domain, new InMemoryProvider(Map.of()));
    }

    @Test
    void flagsDisabled_noFollower() {
        runner().run(context -> assertThat(context).hasNotFailed().doesNotHaveBean(OpenFeatureSettings.class)
                .hasSingleBean(DesiredSettings.class).hasSingleBean(RefreshedSettings.class));
    }

    @Test
    void configurationRefresh_ofThePercent_becomesAStep_andAnUnrelatedRefreshChangesNothing() throws Exception {
        runner().run(context -> {
            MigrationController controller = context.getBean(MigrationController.class);
            assertThat(context.getBean(BackfillRunner.class).awaitCompletion("t_order", Duration.ofSeconds(30))).isTrue();
            assertThat(controller.request(r -> r.withPhase(Phase.RAMP).withLists(Set.of("5"), Set.of()), false,
                    "operator").outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);

            refresh(context, Map.of("dualwrite.routing.percent", "40"), "dualwrite.routing.percent");
            awaitRules(controller, rules -> rules.percent() == 40);
            assertThat(controller.rules().allow()).as("the endpoint's allow-list stays").containsExactly("5");
            DesiredSettings.Report report = awaitReport(context.getBean(DesiredSettings.class),
                    r -> Integer.valueOf(40).equals(r.desired().percent()));
            assertThat(report.source()).isEqualTo("refreshed properties");

            controller.request(r -> r.withPercent(10), true, "operator");
            refresh(context, Map.of("spring.application.name", "other"), "spring.application.name");
            Thread.sleep(500);
            assertThat(controller.rules().percent()).as("a refresh of another key asks nothing").isEqualTo(10);
        });
    }

    /** Changes the environment and publishes what Spring Cloud's EnvironmentChangeEvent publishes: the keys. */
    private static void refresh(ConfigurableApplicationContext context, Map<String, Object> values, String... keys) {
        context.getEnvironment().getPropertySources()
                .addFirst(new MapPropertySource("refreshed-" + UUID.randomUUID(), values));
        context.publishEvent(new KeysChanged(context, Set.of(keys)));
    }

    /** Shaped like Spring Cloud's {@code EnvironmentChangeEvent}, which this project does not depend on. */
    public static final class KeysChanged extends ApplicationEvent {
        private static final long serialVersionUID = 1L;
        private final Set<String> keys;

        KeysChanged(Object source, Set<String> keys) {
            super(source);
            this.keys = keys;
        }

        public Set<String> getKeys() {
            return keys;
        }
    }

    private static <T> Flag<T> flag(T value) {
        return Flag.<T>builder().variant("on", value).defaultVariant("on").build();
    }

    private static void awaitRules(MigrationController controller, Predicate<RoutingRules> reached)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (!reached.test(controller.rules()) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertThat(reached.test(controller.rules())).as("rules reached, now " + controller.rules()).isTrue();
    }

    private static DesiredSettings.Report awaitReport(DesiredSettings desired, Predicate<DesiredSettings.Report> match)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (desired.last().filter(match).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return desired.last().filter(match).orElseThrow();
    }

    private static DesiredSettings.Report awaitReport(List<DesiredSettings.Report> reports,
            Predicate<DesiredSettings.Report> match) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (reports.stream().noneMatch(match) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        return reports.stream().filter(match).findFirst()
                .orElseThrow(() -> new AssertionError("no such report among " + reports));
    }
}
