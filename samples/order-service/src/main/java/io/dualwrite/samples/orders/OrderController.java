package io.dualwrite.samples.orders;

import java.util.List;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import tools.jackson.databind.JsonNode;

/**
 * The service's HTTP API, open with {@code --serve}:
 *
 * <pre>
 * POST /users/{userId}/orders            {"amountCents": 1250, "shipping": {"city": "Berlin"}}
 * GET  /users/{userId}/orders
 * GET  /users/{userId}/orders/{id}
 * POST /users/{userId}/orders/{id}/pay | ship | cancel
 * POST /users/{userId}/login             during RAMP: moves the user to the new store ({@link LoginService})
 * </pre>
 */
@RestController
public class OrderController {

    private final OrderService orders;
    private final LoginService logins;

    /**
     * @param orders the service
     * @param logins sign-in, which moves a user to the new store during RAMP
     */
    public OrderController(OrderService orders, LoginService logins) {
        this.orders = orders;
        this.logins = logins;
    }

    /**
     * @param userId the user signing in
     * @return where the user's requests go now and what the move did
     * @throws java.sql.SQLException if the control store cannot be reached
     * @throws InterruptedException if interrupted
     */
    @PostMapping("/users/{userId}/login")
    public LoginService.Login login(@PathVariable long userId) throws java.sql.SQLException, InterruptedException {
        return logins.login(userId);
    }

    /**
     * @param userId the buyer
     * @param body {@code amountCents} and optionally {@code shipping} (JSON text)
     * @return the new order
     */
    @PostMapping("/users/{userId}/orders")
    public Order create(@PathVariable long userId, @RequestBody JsonNode body) {
        JsonNode shipping = body.get("shipping");
        return orders.create(userId, body.path("amountCents").asLong(),
                shipping == null || shipping.isNull() ? null : shipping.toString());
    }

    /**
     * @param userId the buyer
     * @return the user's orders
     */
    @GetMapping("/users/{userId}/orders")
    public List<Order> list(@PathVariable long userId) {
        return orders.listByUser(userId);
    }

    /**
     * @param userId the buyer
     * @param id the order
     * @return the order, or 404
     */
    @GetMapping("/users/{userId}/orders/{id}")
    public ResponseEntity<Order> find(@PathVariable long userId, @PathVariable long id) {
        return ResponseEntity.of(orders.find(userId, id));
    }

    /**
     * @param userId the buyer
     * @param id the order
     * @param action pay, ship or cancel
     * @return 204, 409 if the order is not in a status that allows it, 404 for another action
     */
    @PostMapping("/users/{userId}/orders/{id}/{action}")
    public ResponseEntity<Void> act(@PathVariable long userId, @PathVariable long id, @PathVariable String action) {
        boolean done;
        switch (action) {
            case "pay":
                done = orders.pay(userId, id);
                break;
            case "ship":
                done = orders.ship(userId, id);
                break;
            case "cancel":
                done = orders.cancel(userId, id);
                break;
            default:
                return ResponseEntity.notFound().build();
        }
        return done ? ResponseEntity.noContent().build() : ResponseEntity.status(409).build();
    }
}
