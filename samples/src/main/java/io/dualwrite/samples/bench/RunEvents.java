package io.dualwrite.samples.bench;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.DualWriteEventListener;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * What one mirror reported during a run: counts of applied, deferred, failed and parked keys, and the
 * commit-to-apply lags of the keys applied while recording is on.
 */
final class RunEvents implements DualWriteEventListener {

    private final AtomicLong applied = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final AtomicLong deferred = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong parked = new AtomicLong();
    private final AtomicReference<Throwable> lastFailure = new AtomicReference<>();
    private final LongSamples lags = new LongSamples(64 * 1024);
    private volatile boolean recording;

    @Override
    public void onEvent(DualWriteEvent event) {
        if (event instanceof DualWriteEvent.ChangesApplied done) {
            applied.addAndGet(done.lags().size());
            batches.incrementAndGet();
            if (recording) {
                synchronized (lags) {
                    for (Duration lag : done.lags()) {
                        lags.add(lag.toNanos());
                    }
                }
            }
        } else if (event instanceof DualWriteEvent.ApplyDeferred held) {
            deferred.addAndGet(held.keys());
        } else if (event instanceof DualWriteEvent.ApplyFailed failure) {
            failed.incrementAndGet();
            lastFailure.set(failure.cause());
        } else if (event instanceof DualWriteEvent.KeyParked) {
            parked.incrementAndGet();
        }
    }

    void recording(boolean on) {
        recording = on;
    }

    /** @return the lags recorded so far; call once the mirror has drained */
    LongSamples lags() {
        synchronized (lags) {
            return lags;
        }
    }

    long applied() {
        return applied.get();
    }

    /** @return how many applies reported keys: applied / batches is the mean batch size */
    long batches() {
        return batches.get();
    }

    long deferred() {
        return deferred.get();
    }

    long failed() {
        return failed.get();
    }

    long parked() {
        return parked.get();
    }

    Throwable lastFailure() {
        return lastFailure.get();
    }
}
