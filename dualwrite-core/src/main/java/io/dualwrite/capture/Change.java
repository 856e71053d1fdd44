package io.dualwrite.capture;

import io.dualwrite.jdbc.RowKey;
import java.util.Objects;

/**
 * One changed row: the source table's configured name and the row's key.
 *
 * @param table the source table, as named in the table mappings
 * @param key the row's key
 */
public record Change(String table, RowKey key) {

    /** Checks the parts. */
    public Change {
        Objects.requireNonNull(table, "table");
        Objects.requireNonNull(key, "key");
    }
}
