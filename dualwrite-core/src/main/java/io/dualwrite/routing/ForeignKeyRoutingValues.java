package io.dualwrite.routing;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.dualwrite.jdbc.Dialect;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * {@link RoutingValues#throughForeignKeys}: one keyed read of the referenced table per value not in the
 * cache, on the store given (the library's own pool, never the application's). A value the referenced table
 * does not hold is cached as unknown too, so a dangling reference costs one read per expiry.
 */
final class ForeignKeyRoutingValues implements RoutingValues {

    private static final Log log = LogFactory.getLog(ForeignKeyRoutingValues.class);
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z_][A-Za-z0-9_$]{0,62}(\\.[A-Za-z_][A-Za-z0-9_$]{0,62})?");

    private final DataSource store;
    private final Map<String, ForeignKey> hops = new TreeMap<>();
    private final Map<String, String> statements = new ConcurrentHashMap<>();
    private final Cache<CacheKey, Optional<Object>> cache;

    ForeignKeyRoutingValues(DataSource store, Map<String, ForeignKey> hops, long maximumSize, Duration expireAfterWrite) {
        this.store = Objects.requireNonNull(store, "store");
        hops.forEach((table, hop) -> {
            String property = "dualwrite.routing.through." + table;
            check(property + ".table", hop.table());
            check(property + ".key", hop.keyColumn());
            check(property + ".column", hop.routingColumn());
            this.hops.put(table.toLowerCase(Locale.ROOT), hop);
        });
        this.cache = Caffeine.newBuilder().maximumSize(maximumSize)
                .expireAfterWrite(Objects.requireNonNull(expireAfterWrite, "expireAfterWrite")).build();
    }

    private static void check(String property, String identifier) {
        if (!IDENTIFIER.matcher(identifier).matches()) {
            throw new IllegalArgumentException(property + ": '" + identifier + "' is not a valid identifier: use"
                    + " letters, digits, '_' and '$', optionally qualified as schema.name");
        }
    }

    @Override
    public Object resolve(String table, Object routingColumnValue) {
        ForeignKey hop = hops.get(table.toLowerCase(Locale.ROOT));
        if (hop == null || routingColumnValue == null) {
            return routingColumnValue;
        }
        CacheKey key = new CacheKey(table.toLowerCase(Locale.ROOT), TrafficRouter.text(routingColumnValue));
        Optional<Object> cached = cache.getIfPresent(key);
        if (cached != null) {
            return cached.orElse(null);
        }
        try {
            Optional<Object> found = Optional.ofNullable(lookUp(table, hop, routingColumnValue));
            cache.put(key, found);
            return found.orElse(null);
        } catch (SQLException e) {
            // Not cached: the next row tries again.
            log.warn("dualwrite: the routing value of " + table + " row with routing column value " + routingColumnValue
                    + " could not be read from " + hop.table() + " (dualwrite.routing.through." + table + "): "
                    + e.getMessage());
            return null;
        }
    }

    private Object lookUp(String table, ForeignKey hop, Object value) throws SQLException {
        try (Connection connection = store.getConnection()) {
            String sql = statements.computeIfAbsent(table.toLowerCase(Locale.ROOT), t -> statement(connection, hop));
            try (PreparedStatement statement = connection.prepareStatement(sql)) {
                statement.setObject(1, value);
                try (ResultSet rows = statement.executeQuery()) {
                    return rows.next() ? rows.getObject(1) : null;
                }
            }
        }
    }

    private static String statement(Connection connection, ForeignKey hop) {
        try {
            Dialect dialect = Dialect.of(connection);
            return Dialect.MARKER + " SELECT " + dialect.quote(hop.routingColumn()) + " FROM " + dialect.quote(hop.table())
                    + " WHERE " + dialect.quote(hop.keyColumn()) + " = ?";
        } catch (SQLException e) {
            throw new IllegalStateException("dualwrite could not tell the dialect of the store holding "
                    + hop.table() + ": " + e.getMessage(), e);
        }
    }

    private record CacheKey(String table, String value) {
    }
}
