package io.dualwrite.autoconfigure.sample;

import io.dualwrite.capture.DualWrite;
import java.sql.Timestamp;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * A plain JdbcTemplate DAO; the only dualwrite line is the annotation on each write, which names the
 * changed row and the user whose route the transaction takes.
 */
@Repository
public class OrderDao {

    private final JdbcTemplate jdbc;

    public OrderDao(JdbcTemplate jdbc) {
        this.jdbc = jdbc;
    }

    @Transactional
    @DualWrite(table = "t_order", key = "#id", routingKey = "#userId")
    public void insert(long id, long userId, String status) {
        jdbc.update("INSERT INTO t_order (id, user_id, status, amount, gmt_modified) VALUES (?, ?, ?, 10.50, ?)", id,
                userId, status, now());
    }

    @Transactional
    @DualWrite(table = "t_order", key = "#id", routingKey = "#userId")
    public int updateStatus(long id, long userId, String status) {
        return jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?", status, now(), id);
    }

    @Transactional
    @DualWrite(table = "t_order", key = "#id", routingKey = "#userId")
    public int delete(long id, long userId) {
        return jdbc.update("DELETE FROM t_order WHERE id = ?", id);
    }

    private static Timestamp now() {
        return new Timestamp(System.currentTimeMillis());
    }
}
