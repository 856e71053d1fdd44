package io.dualwrite.samples.orders;

import java.time.Instant;

/**
 * An order as the service sees it, whichever schema it was read from. Ids are the old schema's ids
 * everywhere in the service and its API; only the new schema's SQL adds the offset.
 *
 * @param id the order id (the old schema's key)
 * @param userId the buyer, also the routing key
 * @param status where the order stands
 * @param amountCents the amount in cents
 * @param shipping the shipping address as JSON text, or null
 * @param createdAt when the order was created, to the millisecond
 * @param updatedAt when it last changed, to the millisecond
 */
public record Order(long id, long userId, OrderStatus status, long amountCents, String shipping, Instant createdAt,
        Instant updatedAt) {
}
