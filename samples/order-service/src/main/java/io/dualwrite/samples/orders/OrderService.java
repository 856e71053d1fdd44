package io.dualwrite.samples.orders;

import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.stereotype.Service;

/**
 * The order service's business rules: create, pay, ship, cancel, list by user. Nothing here knows about
 * the migration.
 *
 * <p>Order ids are allocated here rather than by the database: the old schema's {@code AUTO_INCREMENT}
 * cannot serve a time when both stores take inserts (RAMP), so the service hands out ids that are new
 * in both. A real fleet uses an id service or snowflake ids; one process can count.
 */
@Service
public class OrderService {

    private static final EnumSet<OrderStatus> PAYABLE = EnumSet.of(OrderStatus.NEW);
    private static final EnumSet<OrderStatus> SHIPPABLE = EnumSet.of(OrderStatus.PAID);
    private static final EnumSet<OrderStatus> CANCELLABLE = EnumSet.of(OrderStatus.NEW, OrderStatus.PAID);

    private final OrderDao orders;
    private final AtomicLong lastId;
    private final Clock clock;

    /**
     * @param orders the DAO
     * @param ids where new ids start
     */
    public OrderService(OrderDao orders, OrderIds ids) {
        this.orders = orders;
        this.lastId = new AtomicLong(ids.highest());
        this.clock = Clock.systemUTC();
    }

    /**
     * Creates an order.
     *
     * @param userId the buyer
     * @param amountCents the amount in cents, positive
     * @param shipping the shipping address as JSON text, or null
     * @return the order
     * @throws IllegalArgumentException if the amount is not positive
     */
    public Order create(long userId, long amountCents, String shipping) {
        if (amountCents <= 0) {
            throw new IllegalArgumentException("amountCents: must be positive, was " + amountCents);
        }
        long id = lastId.incrementAndGet();
        Instant now = now();
        orders.insert(userId, id, amountCents, shipping, now);
        return new Order(id, userId, OrderStatus.NEW, amountCents, shipping, now, now);
    }

    /**
     * Pays a new order.
     *
     * @param userId the buyer
     * @param id the order
     * @return whether it was paid; false if it is not this user's new order
     */
    public boolean pay(long userId, long id) {
        return orders.changeStatus(userId, id, PAYABLE, OrderStatus.PAID, now());
    }

    /**
     * Ships a paid order.
     *
     * @param userId the buyer
     * @param id the order
     * @return whether it was shipped; false if it is not this user's paid order
     */
    public boolean ship(long userId, long id) {
        return orders.changeStatus(userId, id, SHIPPABLE, OrderStatus.SHIPPED, now());
    }

    /**
     * Cancels an order that has not shipped.
     *
     * @param userId the buyer
     * @param id the order
     * @return whether it was cancelled; false if it is not this user's, or it shipped or was cancelled
     */
    public boolean cancel(long userId, long id) {
        return orders.changeStatus(userId, id, CANCELLABLE, OrderStatus.CANCELLED, now());
    }

    /**
     * @param userId the buyer
     * @param id the order
     * @return the order, if it is this user's
     */
    public Optional<Order> find(long userId, long id) {
        return orders.find(userId, id);
    }

    /**
     * @param userId the buyer
     * @return the user's orders
     */
    public List<Order> listByUser(long userId) {
        return orders.listByUser(userId);
    }

    /** Both schemas keep milliseconds; a finer time would differ between the stores. */
    private Instant now() {
        return clock.instant().truncatedTo(ChronoUnit.MILLIS);
    }
}
