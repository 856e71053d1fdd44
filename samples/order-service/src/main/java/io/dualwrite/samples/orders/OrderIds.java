package io.dualwrite.samples.orders;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.DualWriteRoutingDataSource;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.stereotype.Component;

/**
 * The highest order id either store holds at start-up, in the old id space, so that new ids are new in
 * both stores whichever one takes the insert.
 */
@Component
public class OrderIds {

    private final long highest;

    /**
     * @param application the application's data source (the routing one during a migration)
     * @param target the new store
     * @param tables the mappings, for the id offset
     */
    public OrderIds(DataSource application, @Qualifier(DualWriteAutoConfiguration.TARGET_DATA_SOURCE) DataSource target,
            MappedTables tables) {
        Long inSource = new JdbcTemplate(sourceOf(application)).queryForObject("SELECT MAX(id) FROM t_order",
                Long.class);
        Long inTarget = new JdbcTemplate(target).queryForObject("SELECT MAX(order_id) FROM orders", Long.class);
        long fromTarget = inTarget == null ? 0
                : ((Number) tables.get(OrderDao.TABLE).toSourceKey(RowKey.of(inTarget)).get(0)).longValue();
        this.highest = Math.max(inSource == null ? 0 : inSource, fromTarget);
    }

    /** @return the highest id in use */
    public long highest() {
        return highest;
    }

    /**
     * @param application the application's data source
     * @return the old store itself, beneath the routing data source if there is one
     */
    static DataSource sourceOf(DataSource application) {
        return application instanceof DualWriteRoutingDataSource routing ? routing.source() : application;
    }
}
