package io.dualwrite.samples.orders;

/**
 * Where an order stands. The old schema keeps the {@link #code()} in {@code t_order.status}; the new one
 * keeps the {@link #name()} in {@code orders.state}. The mapping's code table
 * ({@code dualwrite.tables.t_order.convert.status.codes.*}) must list the same pairs.
 */
public enum OrderStatus {
    /** Created, not paid. */
    NEW(0),
    /** Paid, waiting to ship. */
    PAID(1),
    /** Handed to the carrier. */
    SHIPPED(2),
    /** Cancelled before it shipped. */
    CANCELLED(3);

    private final int code;

    OrderStatus(int code) {
        this.code = code;
    }

    /** @return the old schema's integer code */
    public int code() {
        return code;
    }

    /**
     * @param code an old schema code
     * @return its status
     * @throws IllegalArgumentException for an unknown code
     */
    public static OrderStatus ofCode(int code) {
        for (OrderStatus status : values()) {
            if (status.code == code) {
                return status;
            }
        }
        throw new IllegalArgumentException("t_order.status: unknown code " + code);
    }
}
