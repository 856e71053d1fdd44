package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mirror.MirrorMode;
import io.dualwrite.testing.Store;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Issue 16, item 1, R5: a transaction admitted in RAMP whose instance then freezes (here: its control store
 * calls block) for longer than the lease may have been counted out, and a step may have moved its key; so
 * it is rolled back at commit, even though the lease was renewed after the freeze, with a retryable
 * {@link RouteHeldException}. Both ways a transaction commits: Spring's transaction manager and a raw
 * {@code Connection.commit()}. The negative controls (the check switched off) show the row committing. The
 * instance promises to fence itself only with an OUTBOX mirror, so these rigs use one.
 */
class CommitFenceTest {

    private static final long USER = 7;
    private static final long ORDER = 701;
    private static final Duration LEASE = Duration.ofMillis(600);

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void springTransactionAdmittedBeforeALapse_isRolledBackAtCommit(Store sourceStore, Store targetStore)
            throws Exception {
        Frozen control = new Frozen();
        try (RampRig rig = rig(sourceStore, targetStore, "cfspring", control)) {
            Throwable failure = springWriteAcrossAFreeze(rig, control);

            assertThat(causes(failure)).as("why the commit failed").anySatisfy(cause -> assertThat(cause)
                    .isInstanceOf(RouteHeldException.class)
                    .hasMessageContaining("rolled back this transaction (routing key 7")
                    .hasMessageContaining("lease in the control store lapsed after the transaction was admitted"));
            assertThat(rows(rig)).as("source/target rows of the order").isEqualTo("0/0");
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void withoutTheCommitCheck_theSpringTransactionCommitsAfterTheLapse(Store sourceStore, Store targetStore)
            throws Exception {
        Frozen control = new Frozen();
        try (RampRig rig = rig(sourceStore, targetStore, "cfspringneg", control)) {
            rig.controller.commitCheckForTesting(false);

            assertThat(springWriteAcrossAFreeze(rig, control)).isNull();
            assertThat(rig.drain()).isTrue();
            assertThat(rows(rig)).as("committed on its old route, and mirrored").isEqualTo("1/1");
        }
    }

    /**
     * An instance whose mirror keeps changes in memory (ASYNC) never promises to fence itself, so no step
     * counts it out (its unapplied changes would be lost or applied late) and its commits need no check: the
     * same freeze commits, and the step the others take in the meantime waits for it instead.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void withAnInMemoryMirror_theInstanceNeverPromises_soItsTransactionCommits(Store sourceStore, Store targetStore)
            throws Exception {
        Frozen control = new Frozen();
        try (RampRig rig = rig(sourceStore, targetStore, "cfasync", control, MirrorMode.ASYNC)) {
            assertThat(rig.controller.instances()).singleElement()
                    .satisfies(i -> assertThat(i.fences()).as("promised in RAMP with an ASYNC mirror").isFalse());

            assertThat(springWriteAcrossAFreeze(rig, control)).isNull();
            assertThat(rig.drain()).isTrue();
            assertThat(rows(rig)).isEqualTo("1/1");
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void rawCommitAdmittedBeforeALapse_isRolledBack(Store sourceStore, Store targetStore) throws Exception {
        Frozen control = new Frozen();
        try (RampRig rig = rig(sourceStore, targetStore, "cfraw", control)) {
            Throwable failure = rawWriteAcrossAFreeze(rig, control);

            assertThat(failure).isInstanceOf(RouteHeldException.class)
                    .hasMessageContaining("lease in the control store lapsed after the transaction was admitted");
            assertThat(rows(rig)).isEqualTo("0/0");
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void withoutTheCommitCheck_theRawCommitGoesThrough(Store sourceStore, Store targetStore) throws Exception {
        Frozen control = new Frozen();
        try (RampRig rig = rig(sourceStore, targetStore, "cfrawneg", control)) {
            rig.controller.commitCheckForTesting(false);

            assertThat(rawWriteAcrossAFreeze(rig, control)).isNull();
            assertThat(rig.source.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER))
                    .isEqualTo(1);
        }
    }

    /**
     * An auto-commit statement commits as it runs, with no {@code commit()} to check; within a routing scope,
     * its connection is the scope's admission reused. So a scope admitted before a lapse gets no connection
     * after it: its route may be stale.
     */
    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void scopeAdmittedBeforeALapse_getsNoFurtherConnection(Store sourceStore, Store targetStore) throws Exception {
        Frozen control = new Frozen();
        try (RampRig rig = rig(sourceStore, targetStore, "cfscope", control);
                RoutingContext.Scope scope = RoutingContext.open(USER)) {
            try (Connection first = rig.routing.getConnection()) {
                assertThat(first.getAutoCommit()).isTrue();
            }
            freezeAndThaw(rig, control);

            org.assertj.core.api.Assertions.assertThatThrownBy(() -> rig.routing.getConnection().close())
                    .isInstanceOf(RouteHeldException.class)
                    .hasMessageContaining("its routing scope (routing key 7, route SOURCE) was admitted before");
        }
    }

    private static RampRig rig(Store sourceStore, Store targetStore, String prefix, Frozen control) throws Exception {
        return rig(sourceStore, targetStore, prefix, control, MirrorMode.OUTBOX);
    }

    /** With OUTBOX the instance promises to fence itself (ASYNC keeps changes in memory and never does). */
    private static RampRig rig(Store sourceStore, Store targetStore, String prefix, Frozen control, MirrorMode mode)
            throws Exception {
        return new RampRig(sourceStore, targetStore, prefix, BarrierTest.rampAt(0), target -> target, target -> {
            control.setTargetDataSource(target);
            return control;
        }, LEASE, Duration.ofMillis(300), mode);
    }

    /** @return what the transaction threw, or null if it committed */
    private static Throwable springWriteAcrossAFreeze(RampRig rig, Frozen control) throws Exception {
        CountDownLatch wrote = new CountDownLatch(1);
        CountDownLatch mayCommit = new CountDownLatch(1);
        CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> rig.write(USER, ORDER, jdbc -> {
            jdbc.update("INSERT INTO t_order (id, user_id, status, amount, note, gmt_modified)"
                    + " VALUES (?, ?, 'NEW', 10.00, 'admitted before the freeze', ?)", ORDER, USER,
                    new Timestamp(System.currentTimeMillis()));
            wrote.countDown();
            await(mayCommit);
        }));
        assertThat(wrote.await(10, TimeUnit.SECONDS)).isTrue();
        freezeAndThaw(rig, control);
        mayCommit.countDown();
        try {
            writer.get(30, TimeUnit.SECONDS);
            return null;
        } catch (java.util.concurrent.ExecutionException e) {
            return e.getCause();
        }
    }

    /** @return what {@code commit()} threw, or null if it committed */
    private static Throwable rawWriteAcrossAFreeze(RampRig rig, Frozen control) throws Exception {
        try (RoutingContext.Scope scope = RoutingContext.open(USER);
                Connection connection = rig.routing.getConnection()) {
            connection.setAutoCommit(false);
            try (PreparedStatement insert = connection.prepareStatement("INSERT INTO t_order (id, user_id, status,"
                    + " amount, note, gmt_modified) VALUES (?, ?, 'NEW', 10.00, 'raw', ?)")) {
                insert.setLong(1, ORDER);
                insert.setLong(2, USER);
                insert.setTimestamp(3, new Timestamp(System.currentTimeMillis()));
                insert.executeUpdate();
            }
            freezeAndThaw(rig, control);
            try {
                connection.commit();
                return null;
            } catch (SQLException e) {
                return e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    /** The controller's calls to its control store block for longer than the lease; then it renews. */
    private static void freezeAndThaw(RampRig rig, Frozen control) throws InterruptedException {
        assertThat(rig.controller.leaseValid()).isTrue();
        control.frozen = new CountDownLatch(1);
        LeaseFenceTest.await(() -> !rig.controller.leaseValid(), "the lease lapses during the freeze");
        Thread.sleep(LEASE.toMillis());
        control.frozen.countDown();
        LeaseFenceTest.await(rig.controller::leaseValid, "the lease is renewed after the freeze");
    }

    private static String rows(RampRig rig) {
        return rig.source.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER) + "/"
                + rig.target.queryForObject("SELECT COUNT(*) FROM t_order WHERE id = ?", Long.class, ORDER);
    }

    private static List<Throwable> causes(Throwable failure) {
        List<Throwable> chain = new ArrayList<>();
        for (Throwable t = failure; t != null && !chain.contains(t); t = t.getCause()) {
            chain.add(t);
        }
        return chain;
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The control store's connections: while frozen, asking for one blocks, as in a long pause. */
    static final class Frozen extends DelegatingDataSource {
        volatile CountDownLatch frozen = new CountDownLatch(0);

        @Override
        public Connection getConnection() throws SQLException {
            await(frozen);
            return super.getConnection();
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            await(frozen);
            return super.getConnection(username, password);
        }
    }
}
