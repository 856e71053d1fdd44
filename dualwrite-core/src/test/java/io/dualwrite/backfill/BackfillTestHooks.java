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

    /**
     * Makes the runner die inside a chunk, after it read its source rows and before it writes them, like a killed
     * JVM: the chunk's transaction is never committed and its lease is left to expire.
     *
     * @param runner the runner
     * @param chunk the number of the chunk that fails, from 1
     */
    public static void crashInChunk(BackfillRunner runner, int chunk) {
        java.util.concurrent.atomic.AtomicInteger chunks = new java.util.concurrent.atomic.AtomicInteger();
        runner.hookForTesting((table, range, rows) -> {
            if (chunks.incrementAndGet() == chunk) {
                throw new IllegalStateException("simulated crash inside chunk " + chunk);
            }
        });
    }
}
