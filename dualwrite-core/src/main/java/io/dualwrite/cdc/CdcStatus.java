package io.dualwrite.cdc;

import java.time.Duration;
import java.util.Map;

/**
 * A snapshot of the change-data capture, for the health check, the endpoint and the metrics.
 *
 * @param state what the capture is doing
 * @param problem why it is {@link ChangeLogCapture.State#DISABLED} or {@link ChangeLogCapture.State#FAILED}, else null
 * @param read the end of the last transaction read, or null before start
 * @param stored the low watermark last stored in the position table, or null before start
 * @param head the end of the server's log when last looked at, or null
 * @param logLagBytes how many bytes of log the reader is behind the head (-1 while unknown): the log lag
 * @param applyLag how long the oldest transaction read has waited for the mirror to apply its keys: the
 *     apply lag
 * @param keysHanded keys handed to the mirror since start
 * @param keysNotHanded keys read while the migration did not mirror (see {@link ChangeLogCapture#handOverWhile})
 * @param echoesSkipped rows (binary log) or transactions (PostgreSQL) of the library's own writes skipped since start
 * @param transactions transactions read since start
 * @param stoppedTables per mapped table whose capture stopped, the reason
 */
public record CdcStatus(ChangeLogCapture.State state, String problem, LogPosition read, LogPosition stored,
        LogPosition head, long logLagBytes, Duration applyLag, long keysHanded, long keysNotHanded, long echoesSkipped,
        long transactions, Map<String, String> stoppedTables) {

    /** Copies the map. */
    public CdcStatus {
        stoppedTables = Map.copyOf(stoppedTables);
    }

    /** @return whether the capture runs, reads its log, and captures every mapped table */
    public boolean healthy() {
        return state == ChangeLogCapture.State.RUNNING && problem == null && stoppedTables.isEmpty();
    }
}
