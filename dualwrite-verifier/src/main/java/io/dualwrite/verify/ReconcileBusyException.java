package io.dualwrite.verify;

/**
 * Another instance is reconciling the table (it holds the table's lease in the target), so this run did
 * not start, or stopped after its last checkpoint because the lease went to another instance. Nothing is
 * wrong: the table is being checked once, as it should be.
 */
public class ReconcileBusyException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    private final String owner;

    /**
     * @param message who holds the table and until when
     * @param owner the instance holding the lease
     */
    public ReconcileBusyException(String message, String owner) {
        super(message);
        this.owner = owner;
    }

    /** @return the instance holding the table's lease */
    public String owner() {
        return owner;
    }
}
