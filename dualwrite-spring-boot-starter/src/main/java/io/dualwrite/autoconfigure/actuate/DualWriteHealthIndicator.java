package io.dualwrite.autoconfigure.actuate;

import io.dualwrite.autoconfigure.DualWriteProperties;
import io.dualwrite.mirror.Mirror;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;

/**
 * DOWN when the mirrors (forward, and back during RAMP) have parked more keys than
 * {@code dualwrite.health.max-parked}, lag more than {@code dualwrite.health.max-lag}, or have failed every
 * apply for longer than {@code dualwrite.health.max-failing} (OUT_OF_SERVICE instead when
 * {@code dualwrite.health.exceeded-status=OUT_OF_SERVICE}); details carry the mode, queue, lag, parked and
 * spilled counts, the failure under way, and whether keys are being parked because a full queue had no
 * outbox table to spill to.
 *
 * <p>A DOWN here says the target is falling behind, not that the application cannot serve: keep this
 * indicator out of the readiness and liveness groups, or a target outage takes the service out of
 * rotation too.
 */
public class DualWriteHealthIndicator implements HealthIndicator {

    private final Mirror mirror;
    private final Mirror reverse;
    private final DualWriteProperties.Health thresholds;

    /**
     * Creates the indicator.
     *
     * @param mirror the mirror
     * @param thresholds the limits above which health is DOWN
     */
    public DualWriteHealthIndicator(Mirror mirror, DualWriteProperties.Health thresholds) {
        this(mirror, null, thresholds);
    }

    /**
     * Creates the indicator over both mirrors of RAMP.
     *
     * @param mirror the forward mirror
     * @param reverse the mirror from the target back to the source, or null
     * @param thresholds the limits above which health is DOWN
     */
    public DualWriteHealthIndicator(Mirror mirror, Mirror reverse, DualWriteProperties.Health thresholds) {
        this.mirror = Objects.requireNonNull(mirror, "mirror");
        this.reverse = reverse;
        this.thresholds = Objects.requireNonNull(thresholds, "thresholds");
    }

    @Override
    public Health health() {
        long parked = mirror.parked() + (reverse == null ? 0 : reverse.parked());
        Duration lag = mirror.lag();
        if (reverse != null && reverse.lag().compareTo(lag) > 0) {
            lag = reverse.lag();
        }
        List<String> problems = new ArrayList<>();
        if (parked > thresholds.getMaxParked()) {
            problems.add(parked + " parked keys exceed dualwrite.health.max-parked=" + thresholds.getMaxParked()
                    + "; the reconciler repairs them");
        }
        if (lag.compareTo(thresholds.getMaxLag()) > 0) {
            problems.add("mirror lag " + lag + " exceeds dualwrite.health.max-lag=" + thresholds.getMaxLag());
        }
        failingTooLong("mirror", mirror, problems);
        if (reverse != null) {
            failingTooLong("reverse mirror", reverse, problems);
        }
        Health.Builder health = problems.isEmpty() ? Health.up()
                : thresholds.getExceededStatus() == DualWriteProperties.Health.ExceededStatus.OUT_OF_SERVICE
                        ? Health.outOfService() : Health.down();
        health.withDetail("mode", mirror.mode().name())
                .withDetail("pending", mirror.pending() + (reverse == null ? 0 : reverse.pending()))
                .withDetail("lag", lag.toString())
                .withDetail("parked", parked)
                .withDetail("spilled", mirror.spilled() + (reverse == null ? 0 : reverse.spilled()));
        if (!problems.isEmpty()) {
            health.withDetail("problems", problems);
        }
        // Said, not judged: the thresholds above decide UP or DOWN, since a target outage in DUAL_WRITE must
        // not take the application out of its load balancer.
        mirror.currentFailure().ifPresent(failure -> health.withDetail("mirrorFailing", failure));
        mirror.overflowParking().ifPresent(parking -> health.withDetail("mirrorParkingOverflow", parking));
        if (reverse != null) {
            reverse.currentFailure().ifPresent(failure -> health.withDetail("reverseMirrorFailing", failure));
            reverse.overflowParking().ifPresent(parking -> health.withDetail("reverseMirrorParkingOverflow", parking));
        }
        return health.build();
    }

    private void failingTooLong(String which, Mirror checked, List<String> problems) {
        Duration failing = checked.failingFor();
        if (thresholds.getMaxFailing() != null && failing.compareTo(thresholds.getMaxFailing()) > 0) {
            problems.add(which + " applies have failed for " + failing.withNanos(0) + ", more than"
                    + " dualwrite.health.max-failing=" + thresholds.getMaxFailing() + "; the application's writes go on"
                    + " and their changes wait (see " + (which.equals("mirror") ? "mirrorFailing" : "reverseMirrorFailing")
                    + ")");
        }
    }
}
