package io.dualwrite.samples.orders;

import io.dualwrite.expiring.IncrementalMigration;
import io.dualwrite.routing.Route;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * Coupons expire, so they are migrated incrementally: a new coupon is created in the new store, an old one
 * is redeemed where it lives, and a user's valid coupons are read from both stores at once. Nothing is
 * copied; once the old store's last coupon has expired, its table can be archived.
 */
@Component
public class CouponService {

    private static final String TABLE = "coupon";

    private final IncrementalMigration migration;
    private final AtomicLong nextId = new AtomicLong();

    /** @param migration the incremental migration the starter builds from {@code dualwrite.incremental.*} */
    public CouponService(IncrementalMigration migration) {
        this.migration = migration;
    }

    /**
     * Issues a coupon, valid for a week, in the new store.
     *
     * @param userId its owner
     * @return its id
     */
    public long issue(long userId) {
        JdbcTemplate store = new JdbcTemplate(migration.store(migration.routeOfNew(TABLE)));
        long id = nextId.updateAndGet(last -> last != 0 ? last + 1 : firstId(store));
        Instant now = Instant.now();
        store.update("INSERT INTO coupon (id, user_id, code, redeemed, created_at, expires_at) VALUES (?, ?, ?, 0, ?, ?)",
                id, userId, "NEW-" + id, Timestamp.from(now), Timestamp.from(now.plus(Duration.ofDays(7))));
        return id;
    }

    /**
     * Redeems a coupon in the store that holds it.
     *
     * @param id the coupon
     * @return whether a valid, unredeemed coupon was redeemed
     * @throws SQLException if the new store cannot be asked where the coupon lives
     */
    public boolean redeem(long id) throws SQLException {
        Route route = migration.routeOf(TABLE, id);
        return new JdbcTemplate(migration.store(route)).update("UPDATE coupon SET redeemed = 1 WHERE id = ? AND"
                + " redeemed = 0 AND expires_at > ?", id, Timestamp.from(Instant.now())) == 1;
    }

    /**
     * @param userId a user
     * @return the user's valid, unredeemed coupons from both stores, by id
     * @throws SQLException if a store fails
     */
    public List<Map<String, Object>> validCoupons(long userId) throws SQLException {
        return migration.query(TABLE, "SELECT id, code, expires_at FROM {table} WHERE user_id = ? AND redeemed = 0"
                + " AND expires_at > ?", userId, Timestamp.from(Instant.now())).rows();
    }

    /** @return where the new store's ids start: above the boundary, after what it already holds */
    private static long firstId(JdbcTemplate store) {
        Long max = store.queryForObject("SELECT MAX(id) FROM coupon", Long.class);
        return Math.max(max == null ? 0 : max, 1_000_000L) + 1;
    }
}
