package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import java.sql.Connection;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * One reconcile of a table at a time across instances: a fleet whose instances all run the nightly
 * reconcile at the same minute must scan each table once, and only one of them may write its checkpoint.
 */
class ReconcileLeaseTest {

    private static final Instant NOW = Instant.parse("2026-11-22T03:00:00Z");

    private static ReconcileConfig config(String owner, Instant now) {
        return ReconcileConfig.builder().chunkSize(10).createTables(true).owner(owner).lease(Duration.ofMinutes(2))
                .clock(Clock.fixed(now, ZoneOffset.UTC)).build();
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void aTableLeasedByAnotherInstance_isNotReconciledAgain_untilTheLeaseRunsOut(Store store) throws Exception {
        try (VerifyFixture f = new VerifyFixture(store, store, "rc_lease")) {
            for (long id = 1; id <= 5; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                VerifyFixture.insert(f.target, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
            }
            Reconciler.create(config("first", NOW), f.tables(), f.source.dataSource(), f.target.dataSource(),
                    f.listener()).ensureTables();
            ReconcileLeases leases = new ReconcileLeases(f.tables().targetDialect(), config("a", NOW).leaseTable());
            try (Connection target = f.target.dataSource().getConnection()) {
                assertThat(leases.claim(target, "t_order", "instance-a", NOW.toEpochMilli(), 120_000)).isNull();
            }
            Reconciler second = Reconciler.create(config("instance-b", NOW.plusSeconds(60)), f.tables(),
                    f.source.dataSource(), f.target.dataSource(), f.listener());

            assertThatThrownBy(() -> second.run("t_order"))
                    .isInstanceOf(ReconcileBusyException.class)
                    .hasMessageContaining("table 't_order' is being reconciled by instance-a")
                    .satisfies(e -> assertThat(((ReconcileBusyException) e).owner()).isEqualTo("instance-a"));
            assertThat(f.target.queryForObject("SELECT COUNT(*) FROM dualwrite_reconcile_checkpoint", Long.class))
                    .as("checkpoints written by the run that did not start").isZero();

            // Instance a died: its lease ran out two minutes after it last renewed it.
            Reconciler later = Reconciler.create(config("instance-b", NOW.plusSeconds(121)), f.tables(),
                    f.source.dataSource(), f.target.dataSource(), f.listener());
            ReconcileReport report = later.run("t_order");

            assertThat(report.complete()).isTrue();
            assertThat(report.compared()).isEqualTo(5);
            try (Connection target = f.target.dataSource().getConnection()) {
                assertThat(leases.renew(target, "t_order", "instance-a", NOW.plusSeconds(122).toEpochMilli(), 120_000))
                        .as("a's renewal after b took the table over").isFalse();
                assertThat(leases.holder(target, "t_order"))
                        .as("b gave the lease back when its run ended")
                        .isEqualTo(new ReconcileLeases.Holder("instance-b", 0));
                assertThat(leases.claim(target, "t_order", "instance-a", NOW.plusSeconds(122).toEpochMilli(),
                        120_000)).as("a free lease is taken at once").isNull();
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Store.class)
    void instancesClaimingAtTheSameMoment_exactlyOneGetsTheTable(Store store) throws Exception {
        try (VerifyFixture f = new VerifyFixture(store, store, "rc_race")) {
            Reconciler.create(config("setup", NOW), f.tables(), f.source.dataSource(), f.target.dataSource(),
                    f.listener()).ensureTables();
            ReconcileLeases leases = new ReconcileLeases(f.tables().targetDialect(), config("a", NOW).leaseTable());
            for (int round = 0; round < 5; round++) {
                String table = "t_round_" + round;
                int claimants = 6;
                CountDownLatch start = new CountDownLatch(1);
                ExecutorService pool = Executors.newFixedThreadPool(claimants);
                List<Future<Boolean>> claims = new ArrayList<>();
                for (int i = 0; i < claimants; i++) {
                    String owner = "instance-" + i;
                    Callable<Boolean> claim = () -> {
                        try (Connection target = f.target.dataSource().getConnection()) {
                            target.setAutoCommit(true);
                            start.await();
                            return leases.claim(target, table, owner, NOW.toEpochMilli(), 120_000) == null;
                        }
                    };
                    claims.add(pool.submit(claim));
                }
                start.countDown();
                long winners = 0;
                for (Future<Boolean> claim : claims) {
                    winners += claim.get() ? 1 : 0;
                }
                pool.shutdown();
                assertThat(winners).as("instances holding " + table).isEqualTo(1);
            }
        }
    }
}
