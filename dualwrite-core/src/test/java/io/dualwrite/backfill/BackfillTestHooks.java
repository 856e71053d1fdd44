package io.dualwrite.backfill;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Reaches the runner's package-private test hooks from tests in other packages. */
public final class BackfillTestHooks {

    private BackfillTestHooks() {
    }

    /**
     * Holds the runner's next chunk after it read (and locked) its source rows, before it writes the target.
     *
     * @param runner the runner
     * @param reached counted down when a chunk is held
     * @param release what the held chunk waits for (at most 30 s)
     */
    public static void holdAfterRead(BackfillRunner runner, CountDownLatch reached, CountDownLatch release) {
        runner.hookForTesting((table, range, rows) -> {
            reached.countDown();
            try {
                release.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }
}
