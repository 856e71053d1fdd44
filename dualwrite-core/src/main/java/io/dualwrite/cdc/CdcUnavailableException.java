package io.dualwrite.cdc;

import java.util.List;

/**
 * The source's change log cannot be read: the binary log is off or not in ROW format, PostgreSQL's
 * {@code wal_level} is below logical, or the user lacks a grant or a free replication slot.
 * The message lists every problem found, each naming the server setting or grant to change.
 */
public final class CdcUnavailableException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final transient List<String> problems;

    /**
     * Creates the exception.
     *
     * @param problems each problem found, one sentence naming its fix
     */
    public CdcUnavailableException(List<String> problems) {
        this("the binary log", problems);
    }

    /**
     * Creates the exception for a log of another kind.
     *
     * @param logKind the log, such as {@code the write-ahead log}
     * @param problems each problem found, one sentence naming its fix
     */
    public CdcUnavailableException(String logKind, List<String> problems) {
        super("dualwrite.capture.cdc: the source's " + logKind.replaceFirst("^the ", "") + " cannot be read for"
                + " change-data capture:\n  - " + String.join("\n  - ", problems)
                + "\nFix the server, or set dualwrite.capture.cdc.required=false to run without change-data capture"
                + " (writes from outside the service are then mirrored only by the reconciler).");
        this.problems = List.copyOf(problems);
    }

    /** @return each problem found */
    public List<String> problems() {
        return problems;
    }
}
