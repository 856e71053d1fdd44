package io.dualwrite.autoconfigure.rental;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.routing.RoutingKey;
import io.dualwrite.verify.DualRead;
import java.math.BigDecimal;
import java.time.LocalDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.springframework.jdbc.core.ConnectionCallback;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * The rental service's JdbcTemplate DAO. During RAMP its own SQL runs on PostgreSQL for the stores routed
 * there, so where the two stores spell a value differently (an enum type, an array, {@code jsonb},
 * {@code bit(n)}) it writes each store's own SQL, as an application that serves from both must; everything
 * else is one statement for both. The only dualwrite lines are the annotations: each write names the rows it
 * changes and the store whose route it takes; each read names the row it compares.
 */
@Repository
public class RentalDao {

    private final JdbcTemplate jdbc;

    public RentalDao(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    @DualWrite(table = "rental", key = "#rentalId", routingKey = "#storeId")
    @DualWrite(table = "payment", key = "#rentalId", routingKey = "#storeId")
    public void rent(long storeId, long rentalId, long inventoryId, long customerId, BigDecimal amount) {
        LocalDateTime now = now();
        jdbc.update("INSERT INTO rental (rental_id, store_id, inventory_id, customer_id, rental_date, gmt_modified)"
                + " VALUES (?, ?, ?, ?, ?, ?)", rentalId, storeId, inventoryId, customerId, now, now);
        jdbc.update("INSERT INTO payment (payment_id, store_id, rental_id, customer_id, amount, gmt_modified)"
                + " VALUES (?, ?, ?, ?, ?, ?)", rentalId, storeId, rentalId, customerId, amount, now);
    }

    @Transactional
    @DualWrite(table = "rental", key = "#rentalId", routingKey = "#storeId")
    public int giveBack(long storeId, long rentalId) {
        LocalDateTime now = now();
        return jdbc.update("UPDATE rental SET return_date = ?, gmt_modified = ? WHERE rental_id = ?", now, now,
                rentalId);
    }

    @Transactional
    @DualWrite(table = "payment", key = "#rentalId", routingKey = "#storeId")
    @DualWrite(table = "rental", key = "#rentalId", routingKey = "#storeId")
    public int cancel(long storeId, long rentalId) {
        jdbc.update("DELETE FROM payment WHERE payment_id = ?", rentalId);
        return jdbc.update("DELETE FROM rental WHERE rental_id = ?", rentalId);
    }

    @Transactional
    @DualWrite(table = "customer", key = "#customerId", routingKey = "#storeId")
    public int updateCustomer(long storeId, long customerId, boolean active, String prefs, int flags,
            BigDecimal loyaltyPoints, byte[] avatar) {
        boolean postgres = onPostgres();
        return jdbc.update("UPDATE customer SET active = ?, prefs = " + (postgres ? "CAST(? AS jsonb)" : "?")
                + ", flags = " + (postgres ? "CAST(? AS bit(5))" : "?") + ", loyalty_points = ?, avatar = ?,"
                + " gmt_modified = ? WHERE customer_id = ?", active, prefs, flags, loyaltyPoints, avatar,
                now(), customerId);
    }

    /** The features are written in the order given, which need not be the SET's own order. */
    @Transactional
    @DualWrite(table = "film", key = "#filmId", routingKey = "#storeId")
    public int updateFilm(long storeId, long filmId, String rating, List<String> features, Integer releaseYear) {
        boolean postgres = onPostgres();
        return jdbc.update("UPDATE film SET rating = " + (postgres ? "CAST(? AS mpaa_rating)" : "?")
                + ", special_features = " + (postgres ? "CAST(? AS text[])" : "?") + ", release_year = ?,"
                + " gmt_modified = ? WHERE film_id = ?", rating, features == null ? null : postgres
                        ? features.stream().map(f -> '"' + f + '"').collect(Collectors.joining(",", "{", "}"))
                        : String.join(",", features), releaseYear, now(), filmId);
    }

    @Transactional
    @DualWrite(table = "film", key = "#filmId", routingKey = "#storeId")
    @DualWrite(table = "inventory", key = "#filmId", routingKey = "#storeId")
    public void addFilm(long storeId, long filmId, String title, String rating) {
        LocalDateTime now = now();
        jdbc.update("INSERT INTO film (film_id, store_id, title, rating, gmt_modified) VALUES (?, ?, ?, "
                + (onPostgres() ? "CAST(? AS mpaa_rating)" : "?") + ", ?)", filmId, storeId, title, rating, now);
        jdbc.update("INSERT INTO inventory (inventory_id, store_id, film_id, gmt_modified) VALUES (?, ?, ?, ?)",
                filmId, storeId, filmId, now);
    }

    @Transactional(readOnly = true)
    @DualRead(table = "customer", key = "#customerId")
    public Map<String, Object> findCustomer(@RoutingKey long storeId, long customerId) {
        return jdbc.queryForMap("SELECT * FROM customer WHERE customer_id = ?", customerId);
    }

    @Transactional(readOnly = true)
    @DualRead(table = "film", key = "#filmId")
    public Map<String, Object> findFilm(@RoutingKey long storeId, long filmId) {
        return jdbc.queryForMap("SELECT film_id, title FROM film WHERE film_id = ?", filmId);
    }

    /** @return the store the current transaction's connection is on */
    public String store() {
        return jdbc.execute((ConnectionCallback<String>) connection -> connection.getMetaData().getDatabaseProductName());
    }

    private boolean onPostgres() {
        return store().toLowerCase(Locale.ROOT).contains("postgres");
    }

    /** The stores keep microseconds; a clock finer than that would round on one and cut on the other. */
    private static LocalDateTime now() {
        return LocalDateTime.now().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
    }
}
