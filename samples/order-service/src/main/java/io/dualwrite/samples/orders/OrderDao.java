package io.dualwrite.samples.orders;

import io.dualwrite.capture.DualWrite;
import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTable;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.Route;
import io.dualwrite.routing.RoutingKey;
import io.dualwrite.verify.DualRead;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.util.PGobject;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Repository;
import org.springframework.transaction.annotation.Transactional;

/**
 * The service's only data access: plain JdbcTemplate, one transaction per call. The dualwrite lines are
 * the annotations — {@code @DualWrite} on writes (what to mirror, and whose request it is),
 * {@code @RoutingKey} on reads, {@code @DualRead} on the single-row read that double reads sample.
 *
 * <p><b>Two schemas.</b> During RAMP a user's requests go to the store their routing key is routed to,
 * and the two stores do not share a schema: {@code t_order} (status codes, a decimal amount, JSON as
 * text) in the old one, {@code orders} (status text, cents, a JSON column, ids moved by an offset) in
 * the new one. So every method asks which store its transaction was admitted to and speaks that
 * store's schema. Ids stay the old ids throughout the service; the new schema's SQL maps them with the
 * migration's own key mapping, so the offset is written down once, in the properties.
 */
@Repository
public class OrderDao {

    /** The source table, as the mapping names it. */
    public static final String TABLE = "t_order";

    private static final String LEGACY_COLUMNS = "id, user_id, status, amount, ship_addr, gmt_create, gmt_modified";
    private static final String NEW_COLUMNS = "order_id, buyer_id, state, amount_cents, shipping, created_at,"
            + " updated_at";

    private final JdbcTemplate jdbc;
    private final ObjectProvider<MigrationController> controller;
    private final MappedTable mapping;
    private final Dialect.Product targetProduct;
    private final AtomicLong writesOnTarget = new AtomicLong();
    private final AtomicLong writesOnSource = new AtomicLong();
    private volatile WriteObserver writeObserver = (userId, route) -> { };

    /** Sees, inside each write transaction, whose write it is and which store it was admitted to. */
    @FunctionalInterface
    public interface WriteObserver {
        /**
         * @param userId the buyer, the write's routing key
         * @param route the store the transaction runs on
         */
        void written(long userId, Route route);
    }

    /**
     * @param jdbc the application's JdbcTemplate (over the routing data source during a migration)
     * @param tables the migration's mappings, for the id offset
     * @param controller the migration's controller, when routing is on
     */
    public OrderDao(JdbcTemplate jdbc, MappedTables tables, ObjectProvider<MigrationController> controller) {
        this.jdbc = jdbc;
        this.controller = controller;
        this.mapping = tables.get(TABLE);
        this.targetProduct = tables.targetDialect().product();
    }

    /**
     * A JSON text as the new schema's JSON column takes it on each store, bound to a plain {@code ?}: H2 parses bytes
     * as JSON (a string would be stored as a JSON string literal), PostgreSQL takes a {@code jsonb} object. Neither
     * {@code ? FORMAT JSON} (H2) nor {@code CAST(? AS jsonb)} goes through ShardingSphere's SQL parser and rewriter
     * in front of a sharded store, and ShardingSphere drops a parameter's SQL type, so the value carries its type.
     */
    private Object json(String text) {
        if (text == null) {
            return null;
        }
        switch (targetProduct) {
            case H2:
                return text.getBytes(StandardCharsets.UTF_8);
            case POSTGRESQL:
                PGobject jsonb = new PGobject();
                jsonb.setType("jsonb");
                try {
                    jsonb.setValue(text);
                } catch (SQLException e) {
                    throw new IllegalArgumentException("shipping: not a jsonb value: " + e.getMessage(), e);
                }
                return jsonb;
            default:
                return text;
        }
    }

    /**
     * Inserts an order.
     *
     * @param userId the buyer
     * @param id the new order's id
     * @param amountCents the amount in cents
     * @param shipping the shipping address as JSON text, or null
     * @param now the creation time
     */
    @Transactional
    @DualWrite(table = TABLE, key = "#id", routingKey = "#userId")
    public void insert(long userId, long id, long amountCents, String shipping, Instant now) {
        Timestamp at = Timestamp.from(now);
        if (onTarget(userId)) {
            jdbc.update("INSERT INTO orders (" + NEW_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)", targetId(id), userId,
                    OrderStatus.NEW.name(), amountCents, json(shipping), at, at);
        } else {
            jdbc.update("INSERT INTO t_order (" + LEGACY_COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, ?)", id, userId,
                    OrderStatus.NEW.code(), BigDecimal.valueOf(amountCents, 2), shipping, at, at);
        }
    }

    /**
     * Moves an order of this user to a new status, if it is in one of the given ones.
     *
     * @param userId the buyer
     * @param id the order
     * @param from the statuses it may move from
     * @param to the new status
     * @param now the change time
     * @return whether the order moved; false if it does not exist, is another user's, or is in another status
     */
    @Transactional
    @DualWrite(table = TABLE, key = "#id", routingKey = "#userId")
    public boolean changeStatus(long userId, long id, Set<OrderStatus> from, OrderStatus to, Instant now) {
        Timestamp at = Timestamp.from(now);
        String in = String.join(", ", Collections.nCopies(from.size(), "?"));
        if (onTarget(userId)) {
            Object[] args = new Object[4 + from.size()];
            args[0] = to.name();
            args[1] = at;
            args[2] = targetId(id);
            args[3] = userId;
            int i = 4;
            for (OrderStatus status : from) {
                args[i++] = status.name();
            }
            return jdbc.update("UPDATE orders SET state = ?, updated_at = ? WHERE order_id = ? AND buyer_id = ?"
                    + " AND state IN (" + in + ")", args) == 1;
        }
        Object[] args = new Object[4 + from.size()];
        args[0] = to.code();
        args[1] = at;
        args[2] = id;
        args[3] = userId;
        int i = 4;
        for (OrderStatus status : from) {
            args[i++] = status.code();
        }
        return jdbc.update("UPDATE t_order SET status = ?, gmt_modified = ? WHERE id = ? AND user_id = ?"
                + " AND status IN (" + in + ")", args) == 1;
    }

    /**
     * Reads one order of a user; a sampled share of calls is compared on both stores.
     *
     * @param userId the buyer
     * @param id the order
     * @return the order, or empty if it does not exist or is another user's
     */
    @Transactional(readOnly = true)
    @DualRead(table = TABLE, key = "#id")
    public Optional<Order> find(@RoutingKey long userId, long id) {
        List<Order> found = onTarget()
                ? jdbc.query("SELECT " + NEW_COLUMNS + " FROM orders WHERE order_id = ? AND buyer_id = ?",
                        this::fromNew, targetId(id), userId)
                : jdbc.query("SELECT " + LEGACY_COLUMNS + " FROM t_order WHERE id = ? AND user_id = ?",
                        OrderDao::fromLegacy, id, userId);
        return found.stream().findFirst();
    }

    /**
     * Lists a user's orders.
     *
     * @param userId the buyer
     * @return the orders, oldest id first
     */
    @Transactional(readOnly = true)
    public List<Order> listByUser(@RoutingKey long userId) {
        return onTarget()
                ? jdbc.query("SELECT " + NEW_COLUMNS + " FROM orders WHERE buyer_id = ? ORDER BY order_id",
                        this::fromNew, userId)
                : jdbc.query("SELECT " + LEGACY_COLUMNS + " FROM t_order WHERE user_id = ? ORDER BY id",
                        OrderDao::fromLegacy, userId);
    }

    /**
     * Reads every order of one store, for comparing the stores after the migration.
     *
     * @param store a JdbcTemplate on one store itself, not on the routing data source
     * @param route which store it is
     * @return the orders, by id
     */
    List<Order> readAll(JdbcTemplate store, Route route) {
        return route == Route.TARGET
                ? store.query("SELECT " + NEW_COLUMNS + " FROM orders ORDER BY order_id", this::fromNew)
                : store.query("SELECT " + LEGACY_COLUMNS + " FROM t_order ORDER BY id", OrderDao::fromLegacy);
    }

    /**
     * Reads every order of one physical table of a sharded new store, read directly in its own database.
     *
     * @param database a JdbcTemplate on that real database
     * @param table the physical table, one shard of {@code orders}
     * @return its orders, by id
     */
    List<Order> readShard(JdbcTemplate database, String table) {
        return database.query("SELECT " + NEW_COLUMNS + " FROM " + table + " ORDER BY order_id", this::fromNew);
    }

    /**
     * The store this call's transaction was admitted to. Asked inside the transaction, so the answer is
     * the route its connection took, which no ramp step changes until the transaction ends.
     */
    private boolean onTarget() {
        return onTarget(false);
    }

    private boolean onTarget(boolean write) {
        MigrationController migration = controller.getIfAvailable();
        boolean target = migration != null && migration.currentRoute() == Route.TARGET;
        if (write) {
            (target ? writesOnTarget : writesOnSource).incrementAndGet();
        }
        return target;
    }

    /** As {@link #onTarget(boolean)} for a write, told to the write observer. */
    private boolean onTarget(long userId) {
        boolean target = onTarget(true);
        writeObserver.written(userId, target ? Route.TARGET : Route.SOURCE);
        return target;
    }

    /**
     * Sets who sees each write's user and store (the per-user move scenario checks every write took its user's
     * route).
     *
     * @param observer the observer; a no-op one to stop
     */
    public void observeWrites(WriteObserver observer) {
        this.writeObserver = java.util.Objects.requireNonNull(observer, "observer");
    }

    /** @return write transactions so far that the new store took, and that the old store took: {target, source} */
    public long[] writesByStore() {
        return new long[] {writesOnTarget.get(), writesOnSource.get()};
    }

    private long targetId(long id) {
        return ((Number) mapping.toTargetKey(RowKey.of(id)).get(0)).longValue();
    }

    private long sourceId(long orderId) {
        return ((Number) mapping.toSourceKey(RowKey.of(orderId)).get(0)).longValue();
    }

    private static Order fromLegacy(ResultSet rs, int row) throws SQLException {
        return new Order(rs.getLong("id"), rs.getLong("user_id"), OrderStatus.ofCode(rs.getInt("status")),
                rs.getBigDecimal("amount").movePointRight(2).longValueExact(), rs.getString("ship_addr"),
                rs.getTimestamp("gmt_create").toInstant(), rs.getTimestamp("gmt_modified").toInstant());
    }

    /**
     * A JSON column as text. H2 gives its JSON values as bytes, which H2's own driver turns into text on
     * {@code getString} but ShardingSphere's merged result set (a sharded new store) does not; PostgreSQL gives an
     * object whose text is the JSON.
     */
    private static String jsonText(ResultSet rs, String column) throws SQLException {
        Object value = rs.getObject(column);
        if (value == null) {
            return null;
        }
        return value instanceof byte[] bytes ? new String(bytes, java.nio.charset.StandardCharsets.UTF_8)
                : value.toString();
    }

    private Order fromNew(ResultSet rs, int row) throws SQLException {
        return new Order(sourceId(rs.getLong("order_id")), rs.getLong("buyer_id"),
                OrderStatus.valueOf(rs.getString("state")), rs.getLong("amount_cents"), jsonText(rs, "shipping"),
                rs.getTimestamp("created_at").toInstant(), rs.getTimestamp("updated_at").toInstant());
    }
}
