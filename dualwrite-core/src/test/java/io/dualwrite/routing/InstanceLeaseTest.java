package io.dualwrite.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The account of this instance's lease and promise that admissions and commits are judged by. */
class InstanceLeaseTest {

    private static final Duration LEASE = Duration.ofMillis(40);

    @Test
    void firstRenewal_isNoLapse() {
        InstanceLease lease = new InstanceLease(LEASE);
        long stamp = lease.stamp();
        assertThat(lease.valid()).isFalse();

        lease.renewed(lease.beforeWrite(true), true);

        assertThat(lease.valid()).isTrue();
        assertThat(lease.mayHaveBeenCountedOutSince(stamp)).isFalse();
    }

    @Test
    void lapseUnderAPromise_isRemembered_afterTheRenewal() throws InterruptedException {
        InstanceLease lease = new InstanceLease(LEASE);
        lease.renewed(lease.beforeWrite(true), true);
        long admitted = lease.stamp();

        Thread.sleep(LEASE.toMillis());
        assertThat(lease.mayHaveBeenCountedOutSince(admitted)).as("lapsed now").isTrue();
        lease.renewed(lease.beforeWrite(true), true);

        assertThat(lease.valid()).isTrue();
        assertThat(lease.mayHaveBeenCountedOutSince(admitted)).as("renewed, but lapsed since admission").isTrue();
        assertThat(lease.mayHaveBeenCountedOutSince(lease.stamp())).as("admitted after the renewal").isFalse();
    }

    @Test
    void lapseWithoutAPromise_countsOutNobody() throws InterruptedException {
        InstanceLease lease = new InstanceLease(LEASE);
        lease.renewed(lease.beforeWrite(false), false);
        long admitted = lease.stamp();

        Thread.sleep(LEASE.toMillis());
        assertThat(lease.mayHaveBeenCountedOutSince(admitted)).isFalse();
        lease.renewed(lease.beforeWrite(false), false);

        assertThat(lease.mayHaveBeenCountedOutSince(admitted)).isFalse();
    }

    @Test
    void promise_isWithdrawnOnlyOnceAWithdrawingHeartbeatIsWritten() {
        InstanceLease lease = new InstanceLease(LEASE);
        lease.renewed(lease.beforeWrite(true), true);

        lease.beforeWrite(false);
        assertThat(lease.promised()).as("a withdrawal sent, not known written").isTrue();
        long started = lease.beforeWrite(false);
        lease.renewed(started, false);

        assertThat(lease.promised()).isFalse();
        lease.beforeWrite(true);
        assertThat(lease.promised()).as("promised as soon as a promising heartbeat may land").isTrue();
    }
}
