package io.dualwrite.samples.orders;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.autoconfigure.VerifyStatus;
import io.dualwrite.backfill.BackfillProgress;
import io.dualwrite.backfill.BackfillRunner;
import io.dualwrite.backfill.BackfillStatus;
import io.dualwrite.expiring.IncrementalMigration;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.StepResult;
import io.dualwrite.shard.ShardingSphereTarget;
import io.dualwrite.verify.ReconcileReport;
import io.dualwrite.verify.Reconciler;
import java.io.PrintStream;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import javax.sql.DataSource;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;
import tools.jackson.databind.json.JsonMapper;

/**
 * Plays a whole migration in-process while the {@link LoadGenerator} writes, through the beans the
 * starter provides — the same calls the actuator endpoint makes:
 * DUAL_WRITE, backfill (with a progress line), reconcile, RAMP 1 -> 10 -> 50 -> 100 (a double-read
 * summary after each step), a rollback drill to 0 and forward again, then, with the users paused, the
 * go/no-go comparison of both stores and TARGET_ONLY.
 *
 * <p>With a sharded new store (the {@code sharded} profiles) the run is the same, through ShardingSphere-JDBC; before
 * the cut-over it also compares the old store with every physical shard, each read directly in its own database.
 */
@Component
public class MigrationScenario {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final OrderDao dao;
    private final OrderService orders;
    private final LoadGenerator load;
    private final LagRecorder lags;
    private final BackfillRunner backfill;
    private final ObjectProvider<Mirror> mirrors;
    private final ObjectProvider<MigrationController> controllers;
    private final ObjectProvider<Reconciler> reconcilers;
    private final ObjectProvider<VerifyStatus> verify;
    private final ObjectProvider<CouponService> coupons;
    private final ObjectProvider<IncrementalMigration> incremental;
    private final DataSource source;
    private final DataSource target;
    private final ObjectProvider<DataSource> libraryTarget;
    private final Duration soak;
    private final List<Integer> ramp;
    private final PrintStream out = System.out;

    /**
     * @param dao the DAO, whose readers compare the stores
     * @param orders the service, for the checks after the cut-over
     * @param load the simulated users
     * @param lags the mirror lag recorder
     * @param backfill the backfill
     * @param mirrors the forward and (with routing) reverse mirror
     * @param controllers the migration's controller, when routing is on
     * @param reconcilers the reconciler, when verification is on
     * @param verify what double reads and reconciles saw
     * @param coupons the expiring coupons, migrated incrementally
     * @param incremental their migration, whose live-row report the run prints
     * @param application the application's data source
     * @param target the new store
     * @param libraryTarget the new store as the library sees it: a {@code ShardingSphereTarget} when it is sharded
     * @param soak how long the users write at each step ({@code demo.step-duration})
     * @param ramp the ramp percents ({@code demo.ramp})
     */
    public MigrationScenario(OrderDao dao, OrderService orders, LoadGenerator load, LagRecorder lags,
            BackfillRunner backfill, ObjectProvider<Mirror> mirrors, ObjectProvider<MigrationController> controllers,
            ObjectProvider<Reconciler> reconcilers, ObjectProvider<VerifyStatus> verify,
            ObjectProvider<CouponService> coupons, ObjectProvider<IncrementalMigration> incremental,
            DataSource application,
            @Qualifier(DualWriteAutoConfiguration.TARGET_DATA_SOURCE) DataSource target,
            @Qualifier(DualWriteAutoConfiguration.TARGET_LIBRARY_DATA_SOURCE) ObjectProvider<DataSource> libraryTarget,
            @Value("${demo.step-duration:2s}") Duration soak, @Value("${demo.ramp:1,10,50,100}") List<Integer> ramp) {
        this.dao = dao;
        this.orders = orders;
        this.load = load;
        this.lags = lags;
        this.backfill = backfill;
        this.mirrors = mirrors;
        this.controllers = controllers;
        this.reconcilers = reconcilers;
        this.verify = verify;
        this.coupons = coupons;
        this.incremental = incremental;
        this.source = OrderIds.sourceOf(application);
        this.target = target;
        this.libraryTarget = libraryTarget;
        this.soak = soak;
        this.ramp = List.copyOf(ramp);
    }

    /**
     * Runs the migration.
     *
     * @return the report; {@link MigrationReport#passed()} says whether it succeeded
     * @throws SQLException if a store cannot be reached
     * @throws InterruptedException if interrupted
     */
    public MigrationReport run() throws SQLException, InterruptedException {
        List<String> problems = new ArrayList<>();
        List<String> steps = new ArrayList<>();
        ShardingSphereTarget sharded = libraryTarget.getIfAvailable() instanceof ShardingSphereTarget shards ? shards
                : null;
        String stores = Dialect.of(source).product() + " -> " + (sharded == null ? "" : "sharded ")
                + Dialect.of(sharded == null ? target : sharded).product();
        long historyRows = count(source, "t_order");
        MigrationController controller = controllers.getIfAvailable();
        Reconciler reconciler = reconcilers.getIfAvailable();
        out.println("migrating t_order (" + stores + ") while " + "users shop; " + String.format("%,d", historyRows)
                + " orders of history");

        load.viewOrders(false);
        load.start();
        boolean routing = controller != null;
        if (routing && controller.rules().phase() == Phase.SOURCE_ONLY) {
            routing = step(controller.requestPhase(Phase.DUAL_WRITE, false), "DUAL_WRITE", steps, problems);
        }

        long started = System.nanoTime();
        backfill.start(OrderDao.TABLE);
        BackfillProgress progress = followBackfill();
        Duration backfillTook = Duration.ofNanos(System.nanoTime() - started);
        if (progress.status() != BackfillStatus.DONE) {
            problems.add("the backfill did not finish: " + progress);
        }

        load.viewOrders(true);
        long reconcileFound = 0;
        long reconcileRepaired = 0;
        if (reconciler != null) {
            ReconcileReport report = reconciler.run(OrderDao.TABLE);
            reconcileFound = report.differences();
            reconcileRepaired = report.repaired();
            out.println("reconcile: " + report);
        } else {
            out.println("reconcile: no Reconciler bean in this build of the starter; skipped");
        }

        boolean cutOver = false;
        if (routing) {
            routing = step(controller.requestPhase(Phase.RAMP, false), "RAMP 0%", steps, problems);
            for (int i = 0; routing && i < ramp.size(); i++) {
                routing = rampTo(controller, ramp.get(i), "RAMP " + ramp.get(i) + "%", steps, problems);
            }
            int top = ramp.isEmpty() ? 0 : ramp.get(ramp.size() - 1);
            if (routing) {
                routing = rampTo(controller, 0, "rollback drill: RAMP 0%", steps, problems)
                        && rampTo(controller, top, "forward again: RAMP " + top + "%", steps, problems);
            }
            cutOver = routing && top == 100;
        } else {
            out.println("ramp: no MigrationController bean in this build of the starter; the users stay on the"
                    + " old store");
        }

        load.stop();
        for (Mirror mirror : mirrors) {
            if (!mirror.awaitDrained(Duration.ofSeconds(30))) {
                problems.add("a mirror did not drain in 30 s: " + mirror.pending() + " keys pending");
            }
        }

        long finalDifferences = 0;
        if (reconciler != null) {
            ReconcileReport last = reconciler.run(OrderDao.TABLE);
            finalDifferences = last.differences();
            out.println("final reconcile: " + last);
        }
        List<Order> old = dao.readAll(new JdbcTemplate(source), Route.SOURCE);
        List<Order> next = dao.readAll(new JdbcTemplate(target), Route.TARGET);
        long differing = differing(old, next);
        if (finalDifferences != 0 || differing != 0 || old.size() != next.size()) {
            problems.add(String.format("the stores differ at the cut-over: reconciler %,d, t_order %,d rows, orders"
                    + " %,d rows, %,d orders differ", finalDifferences, old.size(), next.size(), differing));
        }
        List<ShardComparison.ShardCount> shards = sharded == null ? List.of()
                : ShardComparison.compare(dao, source, sharded);
        for (ShardComparison.ShardCount shard : shards) {
            out.println("shard " + shard);
            if (shard.differences() != 0) {
                problems.add("physical shard " + shard);
            }
        }

        couponDrill(problems);

        String afterCutOver;
        if (cutOver && problems.isEmpty()) {
            afterCutOver = cutOverAndCheck(controller, steps, problems);
        } else {
            afterCutOver = cutOver ? "not attempted: the stores must be identical first"
                    : "not reached: needs the routing beans (MigrationController) and a ramp to 100%";
            if (!cutOver && controller != null) {
                problems.add("TARGET_ONLY not reached");
            }
        }

        LoadGenerator.Stats stats = load.stats();
        if (stats.writeErrors() > 0) {
            problems.add(stats.writeErrors() + " application writes failed");
        }
        return new MigrationReport(stores, historyRows, progress.rowsCopied(), backfillTook, reconcileFound,
                reconcileRepaired, steps, count("readsCompared"), count("readMismatches"),
                count("rowsRepaired") - reconcileRepaired, lags.all(), stats, finalDifferences, old.size(),
                next.size(), differing, shards, afterCutOver, problems);
    }

    /**
     * Expiring coupons are never copied: new ones are issued in the new store, old ones redeemed in the old
     * one, a user's valid coupons read from both; then the live-row report says how long the old table lives.
     */
    private void couponDrill(List<String> problems) throws SQLException {
        CouponService service = coupons.getIfAvailable();
        IncrementalMigration migration = incremental.getIfAvailable();
        if (service == null || migration == null) {
            out.println("coupons: no dualwrite.incremental.tables.coupon; skipped");
            return;
        }
        JdbcTemplate old = new JdbcTemplate(source);
        JdbcTemplate next = new JdbcTemplate(target);
        Map<String, Object> first = old.queryForList("SELECT id, user_id FROM coupon WHERE redeemed = 0 AND"
                + " expires_at > ? ORDER BY id", java.sql.Timestamp.from(java.time.Instant.now().plusSeconds(600)))
                .stream().findFirst().orElse(null);
        if (first == null) {
            problems.add("coupons: the old store holds no valid coupon to redeem (demo.history.coupons)");
            return;
        }
        long oldValid = ((Number) first.get("id")).longValue();
        long user = ((Number) first.get("user_id")).longValue();
        int before = service.validCoupons(user).size();
        long issued = service.issue(user);
        for (int i = 0; i < 99; i++) {
            service.issue(100_000 + i);
        }
        boolean redeemedOld = service.redeem(oldValid);
        boolean redeemedNew = service.redeem(issued);
        int after = service.validCoupons(user).size();
        long oldInNew = next.queryForObject("SELECT COUNT(*) FROM coupon WHERE id <= 1000000", Long.class);
        long newInOld = old.queryForObject("SELECT COUNT(*) FROM coupon WHERE id > 1000000", Long.class);
        Integer oldRedeemed = old.queryForObject("SELECT redeemed FROM coupon WHERE id = ?", Integer.class, oldValid);
        Integer newRedeemed = next.queryForObject("SELECT redeemed FROM coupon WHERE id = ?", Integer.class, issued);
        IncrementalMigration.LiveRows live = migration.liveRows("coupon");
        out.printf("coupons: 100 issued in the new store, coupon %d redeemed in the old one and %d in the new one;"
                + " user %d's valid coupons (both stores) %d -> %d; the old store still holds %,d live of %,d (last"
                + " expires %s), archivable: %s%n", oldValid, issued, user, before, after, live.liveInSource(),
                live.rowsInSource(), live.lastExpiryInSource(), live.archivable());
        if (!redeemedOld || !redeemedNew || oldRedeemed == null || oldRedeemed != 1 || newRedeemed == null
                || newRedeemed != 1 || oldInNew != 0 || newInOld != 0 || after != before - 1) {
            problems.add("coupons: a coupon was written to the store that does not hold it (redeemed old " + redeemedOld
                    + ", new " + redeemedNew + "; old ids in the new store " + oldInNew + ", new ids in the old store "
                    + newInOld + "; valid coupons " + before + " -> " + after + ", expected " + (before - 1) + ")");
        }
        if (live.liveInTarget() < 100 || live.archivable()) {
            problems.add("coupons: the live-row report is wrong: " + live);
        }
    }

    /** Prints a progress line a second until the backfill ends. */
    private BackfillProgress followBackfill() throws SQLException, InterruptedException {
        BackfillProgress progress = backfill.progress(OrderDao.TABLE);
        while (progress.status() == BackfillStatus.RUNNING || progress.status() == BackfillStatus.PENDING) {
            backfill.awaitCompletion(OrderDao.TABLE, Duration.ofSeconds(1));
            progress = backfill.progress(OrderDao.TABLE);
            out.println(progressLine(progress));
        }
        return progress;
    }

    static String progressLine(BackfillProgress progress) {
        long total = progress.estimatedTotal();
        int percent = progress.status() == BackfillStatus.DONE ? 100
                : total <= 0 ? 0 : (int) Math.min(99, progress.rowsCopied() * 100 / total);
        String bar = "#".repeat(percent / 5) + ".".repeat(20 - percent / 5);
        String eta = progress.eta().map(d -> d.toSeconds() + " s").orElse("?");
        return String.format("backfill %s [%s] %3d%%  %,d of ~%,d rows  %,.0f rows/s  ETA %s  %s", progress.table(),
                bar, percent, progress.rowsCopied(), Math.max(total, progress.rowsCopied()), progress.rowsPerSecond(),
                eta, progress.status());
    }

    private boolean rampTo(MigrationController controller, int percent, String label, List<String> steps,
            List<String> problems) throws SQLException, InterruptedException {
        return step(controller.requestPercent(percent, false), label, steps, problems);
    }

    /** Records a step, lets the users write under it, and prints what the double reads saw meanwhile. */
    private boolean step(StepResult result, String label, List<String> steps, List<String> problems)
            throws InterruptedException {
        if (!result.inForce()) {
            String line = String.format("%-28s %s: %s", label, result.outcome(), result.message());
            steps.add(line);
            out.println(line);
            problems.add(label + " was " + result.outcome() + ": " + result.message());
            return false;
        }
        soak(label, String.valueOf(result.outcome()), steps);
        return true;
    }

    /** Lets the users write for {@code demo.step-duration} and records what they and the double reads did. */
    private void soak(String label, String outcome, List<String> steps) throws InterruptedException {
        long readsBefore = count("readsCompared");
        long mismatchesBefore = count("readMismatches");
        int lagMark = lags.mark();
        LoadGenerator.Stats before = load.stats();
        long[] storesBefore = dao.writesByStore();
        if (!load.running()) {
            String line = String.format("%-28s %s", label, outcome);
            steps.add(line);
            out.println(line);
            return;
        }
        Thread.sleep(soak.toMillis());
        LoadGenerator.Stats after = load.stats();
        long[] storesAfter = dao.writesByStore();
        long onTarget = storesAfter[0] - storesBefore[0];
        long all = onTarget + storesAfter[1] - storesBefore[1];
        String line = String.format("%-28s %s; %,d writes, %3d%% on the new store, %d errors; double reads %,d"
                + " compared, %,d mismatches; mirror lag %s", label, outcome, after.writes() - before.writes(),
                all == 0 ? 0 : Math.round(100.0 * onTarget / all), after.writeErrors() - before.writeErrors(),
                count("readsCompared") - readsBefore,
                count("readMismatches") - mismatchesBefore, lags.since(lagMark));
        steps.add(line);
        out.println(line);
    }

    /** The last step: every request to the new store, the old one left as it was at the cut-over. */
    private String cutOverAndCheck(MigrationController controller, List<String> steps, List<String> problems)
            throws SQLException, InterruptedException {
        if (!step(controller.requestPhase(Phase.TARGET_ONLY, false), "TARGET_ONLY", steps, problems)) {
            return "TARGET_ONLY refused";
        }
        long oldBefore = count(source, "t_order");
        long newBefore = count(target, "orders");
        Random random = new Random(7);
        int created = 0;
        for (int i = 0; i < 20; i++) {
            long user = 1 + random.nextInt(1000);
            Order order = orders.create(user, 1000 + i, DemoDatabases.address(random));
            if (orders.pay(user, order.id()) && orders.find(user, order.id()).isPresent()) {
                created++;
            }
        }
        long oldAfter = count(source, "t_order");
        long newAfter = count(target, "orders");
        if (created != 20 || oldAfter != oldBefore || newAfter != newBefore + 20) {
            problems.add(String.format("after TARGET_ONLY: %d of 20 orders created, paid and read; t_order %,d -> %,d,"
                    + " orders %,d -> %,d", created, oldBefore, oldAfter, newBefore, newAfter));
        }
        return String.format("TARGET_ONLY: %d orders created, paid and read back on the new store (orders %,d -> %,d);"
                + " t_order untouched (%,d rows)", created, newBefore, newAfter, oldAfter);
    }

    /** Orders that are not the same in both lists, comparing shipping addresses as JSON, not as text. */
    static long differing(List<Order> old, List<Order> next) {
        long differing = Math.abs(old.size() - next.size());
        for (int i = 0; i < Math.min(old.size(), next.size()); i++) {
            Order a = old.get(i);
            Order b = next.get(i);
            boolean same = a.id() == b.id() && a.userId() == b.userId() && a.status() == b.status()
                    && a.amountCents() == b.amountCents() && a.createdAt().equals(b.createdAt())
                    && a.updatedAt().equals(b.updatedAt()) && sameJson(a.shipping(), b.shipping());
            if (!same) {
                differing++;
            }
        }
        return differing;
    }

    private static boolean sameJson(String a, String b) {
        if (a == null || b == null) {
            return a == b;
        }
        return JSON.readTree(a).equals(JSON.readTree(b));
    }

    private static long count(DataSource store, String table) {
        return Objects.requireNonNull(new JdbcTemplate(store).queryForObject("SELECT COUNT(*) FROM " + table,
                Long.class));
    }

    /** One of {@link VerifyStatus#counts()}, or 0 without verification. */
    private long count(String name) {
        VerifyStatus status = verify.getIfAvailable();
        return status == null ? 0 : ((Number) status.counts().getOrDefault(name, 0L)).longValue();
    }
}
