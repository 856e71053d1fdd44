package io.dualwrite.samples.bench;

import io.dualwrite.mirror.MirrorMode;

/** What the application's write path does besides its own transaction in one latency run. */
enum Mode {

    /** The baseline: no mirror exists and nothing is recorded. */
    OFF(null),
    /** The key is recorded; after commit it is queued for the lanes. */
    ASYNC(MirrorMode.ASYNC),
    /** The key is recorded; after commit it is applied on the caller's thread. */
    SYNC(MirrorMode.SYNC),
    /** The key is recorded and written to the outbox before commit; the relay applies it. */
    OUTBOX(MirrorMode.OUTBOX);

    private final MirrorMode mirrorMode;

    Mode(MirrorMode mirrorMode) {
        this.mirrorMode = mirrorMode;
    }

    /** @return the library's mode, or {@code null} for {@link #OFF} */
    MirrorMode mirrorMode() {
        return mirrorMode;
    }
}
