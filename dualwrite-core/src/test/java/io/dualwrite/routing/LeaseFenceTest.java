package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.FailingDataSource;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue 16, item 1: the lease fencing rule (see {@link MigrationController}'s class comment), with instances
 * that really lose the control store: their calls to it fail, so their leases really run out. The control
 * store is in memory, or the {@code dualwrite_control} tables in an H2 or a PostgreSQL target (the target of
 * MariaDB -> PostgreSQL).
 */
class LeaseFenceTest {

    private static final Duration POLL = Duration.ofMillis(100);
    private static final Duration LEASE = Duration.ofMillis(400);
    private static final Duration HOLD = Duration.ofMillis(300);

    /** Where the fleet keeps its control store. */
    enum Kind {
        MEMORY, H2, POSTGRESQL
    }

    private final List<AutoCloseable> resources = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void targetOnlyInstanceWithALapsedLease_holdsItsRequests_thenFailsThem(Kind kind) throws Exception {
        Fleet fleet = fleet(kind, "fto", rules(Phase.TARGET_ONLY, 100));
        Member b = fleet.member("b");
        MigrationController.Admission before = b.controller.admit(1L);
        assertThat(before.route()).isEqualTo(Route.TARGET);
        before.release();

        b.cut(true);
        await(() -> !b.controller.leaseValid(), "b's lease lapses");

        assertThatThrownBy(() -> b.controller.admit(1L)).isInstanceOf(RouteHeldException.class)
                .hasMessageContaining("(b) has not renewed its lease in the control store");
        b.cut(false);
        await(b.controller::leaseValid, "b renews its lease");
        assertThat(b.controller.admit(1L).route()).isEqualTo(Route.TARGET);
    }

    /**
     * R3: in DUAL_WRITE an instance that loses the control store goes on writing the source (invariant 1),
     * so nobody may count it out: a step waits for it and reverts at its deadline naming it and the operator's
     * action; once the operator drops it, the step goes through.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void dualWriteInstanceThatStopsHeartbeating_isNotCountedOut_untilAnOperatorDropsIt(Kind kind) throws Exception {
        Fleet fleet = fleet(kind, "fdw", rules(Phase.DUAL_WRITE, 0));
        Member a = fleet.member("a");
        Member b = fleet.member("b");

        b.cut(true);
        await(() -> !b.controller.leaseValid(), "b's lease lapses");
        Thread.sleep(LEASE.toMillis());
        MigrationController.Admission unfenced = b.controller.admit(7L);
        assertThat(unfenced.route()).as("b goes on writing the source without the control store").isEqualTo(Route.SOURCE);
        unfenced.release();
        assertThat(a.controller.instances()).filteredOn(i -> i.instanceId().equals("b"))
                .singleElement().satisfies(i -> assertThat(i.fences()).isFalse());

        StepResult refused = a.controller.requestPhase(Phase.RAMP, false);

        assertThat(refused.outcome()).isEqualTo(StepResult.Outcome.REVERTED);
        assertThat(refused.message()).contains("instance b has not renewed its lease since")
                .contains("did not promise to fence itself").contains("dropInstance(\"b\")")
                .contains("drop-instance");
        assertThat(a.controller.rules().phase()).isEqualTo(Phase.DUAL_WRITE);

        assertThat(a.controller.dropInstance("b")).contains("dropped instance b");
        assertThat(a.controller.instances()).extracting(InstanceStatus::instanceId).containsExactly("a");
        assertThat(a.controller.requestPhase(Phase.RAMP, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
    }

    /**
     * model/lease.pml, finding 8: a drop is a count-out by hand, so it waits, like one, until the mirrors have
     * applied what was committed before it (a dead instance's outbox rows among it); else the step it lets
     * through could move a key whose last change had not reached the new primary.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void dropInstance_waitsUntilWhatWasCommittedBeforeIsApplied(Kind kind) throws Exception {
        Fleet fleet = fleet(kind, "fdrain", rules(Phase.DUAL_WRITE, 0));
        Member a = fleet.member("a");
        Member b = fleet.member("b");
        AtomicBoolean applied = new AtomicBoolean(false);
        a.controller.addDrain((upTo, timeout) -> applied.get());
        b.cut(true);
        await(() -> !b.controller.leaseValid(), "b's lease lapses");
        Thread.sleep(LEASE.toMillis());

        assertThatThrownBy(() -> a.controller.dropInstance("b")).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("the mirrors have not applied").hasMessageContaining("instance b");
        assertThat(a.controller.instances()).extracting(InstanceStatus::instanceId).containsExactly("a", "b");

        applied.set(true);
        assertThat(a.controller.dropInstance("b")).contains("dropped instance b");
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void dropInstance_refusesALiveInstance_itself_andAnUnknownOne(Kind kind) throws Exception {
        Fleet fleet = fleet(kind, "fdrop", rules(Phase.DUAL_WRITE, 0));
        Member a = fleet.member("a");
        fleet.member("b");

        assertThatThrownBy(() -> a.controller.dropInstance("b")).isInstanceOf(IllegalStateException.class)
                .hasMessageStartingWith("dualwrite drop-instance: instance b holds its lease until");
        assertThatThrownBy(() -> a.controller.dropInstance("a")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is the instance asked to drop it");
        assertThatThrownBy(() -> a.controller.dropInstance("nobody")).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("dualwrite drop-instance: no instance 'nobody' in the control store");
        assertThat(a.controller.instances()).extracting(InstanceStatus::instanceId).containsExactly("a", "b");
    }

    /**
     * R4: b promised to fence itself in RAMP, then saw the rollback to DUAL_WRITE and lost the control store
     * before a heartbeat withdrew the promise. The others count it out on that promise and ramp user 7 to the
     * target; b, whose view is DUAL_WRITE, must still hold user 7 rather than send it to the source.
     */
    @ParameterizedTest(name = "{0}")
    @EnumSource(Kind.class)
    void promisedThenRolledBack_lapsingBeforeWithdrawing_staysFenced(Kind kind) throws Exception {
        Fleet fleet = fleet(kind, "fpr", rules(Phase.RAMP, 0));
        Member a = fleet.member("a");
        Member b = fleet.member("b");
        b.cutBeforeItWithdrawsItsPromise();

        assertThat(a.controller.requestPhase(Phase.DUAL_WRITE, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        await(() -> b.controller.rules().phase() == Phase.DUAL_WRITE, "b sees the rollback");
        await(() -> !b.controller.leaseValid(), "b's lease lapses");
        Thread.sleep(LEASE.toMillis());
        assertThat(a.controller.instances()).filteredOn(i -> i.instanceId().equals("b"))
                .singleElement().satisfies(i -> assertThat(i.fences()).as("b's last heartbeat promised").isTrue());

        assertThat(a.controller.requestPhase(Phase.RAMP, false).outcome()).as("b is counted out on its promise")
                .isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThat(a.controller.requestPercent(10, false).outcome()).isEqualTo(StepResult.Outcome.ACTIVATED);
        assertThat(a.controller.route(7L)).isEqualTo(Route.TARGET);

        assertThat(b.controller.rules().phase()).as("b's view").isEqualTo(Phase.DUAL_WRITE);
        assertThatThrownBy(() -> b.controller.admit(7L)).as("b holds user 7 instead of sending it to the source")
                .isInstanceOf(RouteHeldException.class).hasMessageContaining("(b) has not renewed its lease");
    }

    static RoutingRules rules(Phase phase, int percent) {
        return new RoutingRules(phase, percent, RoutingStrategy.MODULO, Set.of(), Set.of(), Route.SOURCE);
    }

    private Fleet fleet(Kind kind, String prefix, RoutingRules initial) {
        Fleet fleet = new Fleet(kind, prefix, initial);
        resources.add(fleet);
        return fleet;
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!condition.getAsBoolean()) {
            assertThat(System.nanoTime() - deadline).as(what + " within 10 s").isNegative();
            Thread.sleep(10);
        }
    }

    /** Instances sharing one control store, each reaching it through a connection the test can cut. */
    final class Fleet implements AutoCloseable {
        final Kind kind;
        final String prefix;
        final RoutingRules initial;
        final TestDatabase database;
        final PropertiesControlStore memory;
        final List<Member> members = new ArrayList<>();

        Fleet(Kind kind, String prefix, RoutingRules initial) {
            this.kind = kind;
            this.prefix = prefix;
            this.initial = initial;
            this.database = kind == Kind.MEMORY ? null
                    : TestDatabase.create(kind == Kind.H2 ? Store.H2 : Store.POSTGRESQL, prefix + "_ctl");
            this.memory = kind == Kind.MEMORY ? new PropertiesControlStore(initial) : null;
        }

        /** A store as seen by one instance, for the test's own reads and steps. */
        ControlStore store() throws SQLException {
            return memory != null ? memory : JdbcControlStore.open(database.dataSource(), prefix, initial, true);
        }

        Member member(String id) throws SQLException {
            return member(id, LEASE);
        }

        Member member(String id, Duration lease) throws SQLException {
            Member member = new Member(this, id, lease);
            members.add(member);
            return member;
        }

        @Override
        public void close() {
            members.forEach(m -> m.controller.close());
            if (database != null) {
                database.close();
            }
        }
    }

    /** One instance: a controller whose every call to the control store the test can make fail. */
    static final class Member {
        final MigrationController controller;
        private final AtomicBoolean cut = new AtomicBoolean();
        private final AtomicBoolean cutBeforeWithdrawing = new AtomicBoolean();
        private FailingDataSource connections;

        Member(Fleet fleet, String id, Duration lease) throws SQLException {
            ControlStore reached;
            if (fleet.memory != null) {
                reached = fleet.memory;
            } else {
                connections = new FailingDataSource(fleet.database.dataSource());
                reached = JdbcControlStore.open(connections, fleet.prefix, fleet.initial, true);
            }
            controller = MigrationController.builder(new CuttableStore(reached, this)).instanceId(id).pollInterval(POLL)
                    .lease(lease).holdTimeout(HOLD).stepTimeout(Duration.ofSeconds(3)).build();
            controller.start();
        }

        /** @param off whether this instance's calls to the control store fail from now on */
        void cut(boolean off) {
            cut.set(off);
            if (connections != null) {
                connections.setDown(off);
            }
        }

        /** Cuts this instance off just before it writes a heartbeat that withdraws its promise to fence itself. */
        void cutBeforeItWithdrawsItsPromise() {
            cutBeforeWithdrawing.set(true);
        }
    }

    /** The store as one instance reaches it: every call fails while the instance is cut off. */
    private static final class CuttableStore implements ControlStore {
        private final ControlStore delegate;
        private final Member member;

        CuttableStore(ControlStore delegate, Member member) {
            this.delegate = delegate;
            this.member = member;
        }

        private void check() throws SQLException {
            if (member.cut.get()) {
                throw new SQLException("control store unreachable (the test cut it)");
            }
        }

        @Override
        public ControlState read() throws SQLException {
            check();
            return delegate.read();
        }

        @Override
        public boolean compareAndSet(long expectedVersion, ControlState next) throws SQLException {
            check();
            return delegate.compareAndSet(expectedVersion, next);
        }

        @Override
        public ControlState finishStep(long expectedVersion, Function<List<InstanceStatus>, ControlState> decide)
                throws SQLException {
            check();
            return delegate.finishStep(expectedVersion, decide);
        }

        @Override
        public void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences)
                throws SQLException {
            if (!fences && member.cutBeforeWithdrawing.get()) {
                member.cut(true);
            }
            check();
            delegate.heartbeat(instanceId, acknowledged, leaseUntil, fences);
        }

        @Override
        public List<InstanceStatus> instances() throws SQLException {
            check();
            return delegate.instances();
        }

        @Override
        public void leave(String instanceId) throws SQLException {
            check();
            delegate.leave(instanceId);
        }

        @Override
        public boolean drop(String instanceId, Instant lapsedBefore) throws SQLException {
            check();
            return delegate.drop(instanceId, lapsedBefore);
        }
    }
}
