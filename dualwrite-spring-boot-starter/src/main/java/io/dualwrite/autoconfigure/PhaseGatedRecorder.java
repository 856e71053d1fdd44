package io.dualwrite.autoconfigure;

import io.dualwrite.capture.Change;
import io.dualwrite.capture.ChangeRecorder;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Collection;
import java.util.function.BooleanSupplier;

/** The programmatic recorder, recording only in phases that mirror, like the {@code @DualWrite} advisor. */
final class PhaseGatedRecorder implements ChangeRecorder {

    private final ChangeRecorder capture;
    private final BooleanSupplier capturing;

    PhaseGatedRecorder(ChangeRecorder capture, BooleanSupplier capturing) {
        this.capture = capture;
        this.capturing = capturing;
    }

    @Override
    public void record(String table, Object key) {
        if (capturing.getAsBoolean()) {
            capture.record(table, key);
        }
    }

    @Override
    public void recordAll(String table, Collection<?> keys) {
        if (capturing.getAsBoolean()) {
            capture.recordAll(table, keys);
        }
    }

    @Override
    public void recordAll(Collection<Change> changes) {
        if (capturing.getAsBoolean()) {
            capture.recordAll(changes);
        }
    }

    @Override
    public void recordCommitted(Collection<Change> changes) {
        if (capturing.getAsBoolean()) {
            capture.recordCommitted(changes);
        }
    }

    @Override
    public Runnable recordCommitting(Collection<Change> changes, Connection connection) throws SQLException {
        return capturing.getAsBoolean() ? capture.recordCommitting(changes, connection) : () -> { };
    }

    @Override
    public boolean writesBeforeCommit() {
        return capturing.getAsBoolean() && capture.writesBeforeCommit();
    }
}
