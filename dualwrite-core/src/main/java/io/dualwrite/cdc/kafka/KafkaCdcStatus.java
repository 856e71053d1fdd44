package io.dualwrite.cdc.kafka;

import java.time.Duration;
import java.util.Map;

/**
 * A snapshot of the Debezium topic consumer, for the health check and the endpoint.
 *
 * @param state what the consumer is doing
 * @param problem why it is {@link DebeziumKafkaCapture.State#FAILED}, else null
 * @param committed per assigned partition ({@code topic-partition}), the offset committed: the low watermark
 * @param recordsBehind how many records the assigned partitions' ends are ahead of what was read, -1 while
 *     unknown: the log lag
 * @param applyLag how long the oldest records read have waited for the mirror to apply their keys: the apply
 *     lag
 * @param keysHanded keys handed to the mirror since start
 * @param keysNotHanded keys read while the migration did not mirror (see {@link DebeziumKafkaCapture#handOverWhile})
 * @param tombstones tombstone records read (handed over like deletes of their key)
 * @param echoesSkipped row changes the library itself wrote into the source (their {@code source.query} starts
 *     with the library's marker), not handed over
 * @param records records read since start
 * @param stoppedTables per mapped table whose capture stopped on a refused record, the reason
 */
public record KafkaCdcStatus(DebeziumKafkaCapture.State state, String problem, Map<String, Long> committed,
        long recordsBehind, Duration applyLag, long keysHanded, long keysNotHanded, long tombstones, long echoesSkipped, long records,
        Map<String, String> stoppedTables) {

    /** Copies the maps. */
    public KafkaCdcStatus {
        committed = Map.copyOf(committed);
        stoppedTables = Map.copyOf(stoppedTables);
    }

    /** @return whether the consumer runs and captures every mapped table */
    public boolean healthy() {
        return state == DebeziumKafkaCapture.State.RUNNING && problem == null && stoppedTables.isEmpty();
    }
}
