package io.dualwrite.samples;

import io.dualwrite.capture.DualWrite;
import java.math.BigDecimal;
import java.sql.Timestamp;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The application's own order service, as it looked before the migration, plus one {@link DualWrite}
 * annotation per write method. Not final: it is proxied.
 */
public class OrderService {

    private final JdbcTemplate jdbc;

    /** @param dataSource the application's (source) data source */
    public OrderService(DataSource dataSource) {
        this.jdbc = new JdbcTemplate(dataSource);
    }

    /**
     * Places an order.
     *
     * @param id the order id
     * @param userId the customer
     * @param amount the amount
     */
    @DualWrite(table = "t_order", key = "#id")
    public void place(long id, long userId, BigDecimal amount) {
        jdbc.update("INSERT INTO t_order (id, user_id, status, amount, gmt_modified) VALUES (?, ?, 'NEW', ?, ?)",
                id, userId, amount, now());
    }

    /**
     * Moves an order to a new status.
     *
     * @param id the order id
     * @param status the status
     * @return rows changed
     */
    @DualWrite(table = "t_order", key = "#id")
    public int changeStatus(long id, String status) {
        return jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?", status, now(), id);
    }

    /**
     * Cancels and removes an order.
     *
     * @param id the order id
     * @return rows removed
     */
    @DualWrite(table = "t_order", key = "#id")
    public int remove(long id) {
        return jdbc.update("DELETE FROM t_order WHERE id = ?", id);
    }

    private static Timestamp now() {
        return new Timestamp(System.currentTimeMillis());
    }
}
