package io.dualwrite.mirror;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.testing.Store;
import java.math.BigDecimal;
import java.sql.Timestamp;
import javax.sql.DataSource;
import org.springframework.jdbc.core.JdbcTemplate;

/** An application service writing t_order, as a team would annotate it. Not final: it is proxied. */
public class OrderWriter {

    private final JdbcTemplate jdbc;
    private final String upsertSql;

    public OrderWriter(DataSource dataSource, Store store) {
        this.jdbc = new JdbcTemplate(dataSource);
        String columns = "(id, user_id, status, amount, note, gmt_modified)";
        this.upsertSql = switch (store) {
            case H2 -> "MERGE INTO t_order " + columns + " KEY (id) VALUES (?, ?, ?, ?, ?, ?)";
            case MARIADB -> "INSERT INTO t_order " + columns + " VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE"
                    + " user_id = VALUES(user_id), status = VALUES(status), amount = VALUES(amount),"
                    + " note = VALUES(note), gmt_modified = VALUES(gmt_modified)";
            case POSTGRESQL -> "INSERT INTO t_order " + columns + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE"
                    + " SET user_id = EXCLUDED.user_id, status = EXCLUDED.status, amount = EXCLUDED.amount,"
                    + " note = EXCLUDED.note, gmt_modified = EXCLUDED.gmt_modified";
        };
    }

    @DualWrite(table = "t_order", key = "#id")
    public void save(long id, long userId, String status, BigDecimal amount, String note, Timestamp modified) {
        jdbc.update(upsertSql, id, userId, status, amount, note, modified);
    }

    @DualWrite(table = "t_order", key = "#id")
    public int changeStatus(long id, String status, Timestamp modified) {
        return jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ?", status, modified, id);
    }

    @DualWrite(table = "t_order", key = "#id")
    public int remove(long id) {
        return jdbc.update("DELETE FROM t_order WHERE id = ?", id);
    }
}
