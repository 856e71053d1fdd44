package io.dualwrite.samples.orders;

import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The order service. Run without arguments it plays a whole migration while simulated users shop and
 * exits 0 only if the stores are identical at the cut-over and no write failed; with {@code --serve} it
 * starts in DUAL_WRITE with its HTTP API and the actuator endpoint open, and keeps running.
 *
 * <pre>
 * ./mvnw -B -q -pl samples/order-service -am verify -DskipTests -Pdemo
 * ./mvnw -B -q -pl samples/order-service -am verify -DskipTests -Pdemo -Ddemo.args=--serve
 * ./mvnw -B -q -pl samples/order-service -am verify -DskipTests -Pdemo -Ddemo.args=--spring.profiles.active=mariadb-postgres
 * ./mvnw -B -q -pl samples/order-service -am verify -DskipTests -Pdemo -Ddemo.args=--demo.scenario=strategies
 * ./mvnw -B -q -pl samples/order-service -am verify -DskipTests -Pdemo -Ddemo.args=--spring.profiles.active=sharded
 * </pre>
 *
 * <p>The {@code sharded} profile (and {@code mariadb-sharded-postgres}) splits the new store's orders into 2 databases
 * x 4 tables with ShardingSphere-JDBC; its run is the whole migration, through RAMP and TARGET_ONLY, and before the
 * cut-over it compares every physical shard with the old store. Of the strategies, {@code user-moves} does not run on
 * it (moving a user does not go through ShardingSphere yet).
 *
 * <p>{@code --demo.scenario} chooses what runs: {@code migration} (the default, above), or the other strategies
 * of {@link StrategyScenarios}: {@code staged-plan}, {@code user-moves}, {@code degradation}, or
 * {@code strategies} for the three in a row; each exits non-zero when one of its checks fails.
 */
@SpringBootApplication
public class OrderServiceApplication {

    /**
     * Starts the service.
     *
     * @param args {@code --serve} to keep running; Spring Boot's {@code --name=value} settings
     * @throws Exception if the migration run fails to run at all
     */
    public static void main(String[] args) throws Exception {
        boolean serve = Arrays.asList(args).contains("--serve");
        SpringApplication application = new SpringApplication(OrderServiceApplication.class);
        DemoSetup setup = new DemoSetup();
        application.addListeners(setup);
        application.setDefaultProperties(Map.of("demo.serve", serve));
        if (!serve) {
            application.setWebApplicationType(WebApplicationType.NONE);
        }
        ConfigurableApplicationContext context;
        try {
            context = application.run(args);
        } catch (RuntimeException e) {
            setup.dropScratch();
            throw e;
        }
        if (serve) {
            Runtime.getRuntime().addShutdownHook(new Thread(setup::dropScratch, "drop-scratch-databases"));
            LoadGenerator load = context.getBean(LoadGenerator.class);
            load.viewOrders(false);
            load.start();
            openOrdersAfterBackfill(context.getBean(BackfillRunner.class), load);
            System.out.println("serving: http://localhost:" + context.getEnvironment().getProperty("local.server.port")
                    + "/actuator/dualwrite (simulated users are shopping; Ctrl-C stops)");
            return;
        }
        int exitCode;
        try {
            List<String> scenarios = List.of(context.getEnvironment().getProperty("demo.scenario", "migration")
                    .split("\\s*,\\s*"));
            if (scenarios.equals(List.of("migration"))) {
                MigrationReport report = context.getBean(MigrationScenario.class).run();
                report.print(System.out);
                exitCode = report.passed() ? 0 : 1;
            } else {
                exitCode = printStrategies(context.getBean(StrategyScenarios.class).run(scenarios)) ? 0 : 1;
            }
        } finally {
            context.close();
            setup.dropScratch();
        }
        System.exit(exitCode);
    }

    /** Prints each strategy scenario's verdict. @return whether all passed */
    private static boolean printStrategies(List<StrategyScenarios.Result> results) {
        System.out.println("================ dualwrite order-service strategies ================");
        boolean passed = true;
        for (StrategyScenarios.Result result : results) {
            System.out.printf("%-12s %s%n", result.name(), result.passed() ? "PASSED" : "FAILED");
            for (String problem : result.problems()) {
                System.out.println("             - " + problem);
            }
            passed &= result.passed();
        }
        System.out.println("result       " + (passed ? "PASSED" : "FAILED"));
        return passed;
    }

    /** As in the scenario: users open single orders (the double-read path) once the backfill is done. */
    private static void openOrdersAfterBackfill(BackfillRunner backfill, LoadGenerator load) {
        Thread watcher = new Thread(() -> {
            try {
                while (backfill.progress(OrderDao.TABLE).status() != BackfillStatus.DONE) {
                    Thread.sleep(1000);
                }
                load.viewOrders(true);
            } catch (SQLException e) {
                System.err.println("could not follow the backfill: " + e.getMessage());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "open-orders-after-backfill");
        watcher.setDaemon(true);
        watcher.start();
    }
}
