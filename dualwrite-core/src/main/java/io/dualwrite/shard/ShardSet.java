package io.dualwrite.shard;

import io.dualwrite.jdbc.ShardLayout;
import java.util.Optional;
import javax.sql.DataSource;

/** What a {@link ShardedConnection} needs of its store: each logical table's layout, and each real database. */
interface ShardSet {

    /**
     * @param logicalTable the logical table's name, in any case
     * @return its layout; empty when the store does not shard it
     */
    Optional<ShardLayout> layout(String logicalTable);

    /**
     * @param dataSource a real database's name
     * @return its data source
     * @throws IllegalArgumentException if there is no such database
     */
    DataSource physical(String dataSource);
}
