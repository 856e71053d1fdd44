package io.dualwrite.mapping;

import io.dualwrite.jdbc.RowKey;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * How a row's key changes between the stores. Set with
 * {@link TableMapping.Builder#keyMapping(KeyMapping)}; the default is {@link #identity()}.
 *
 * <ul>
 *   <li>{@link #identity()}: the target key is the source key.</li>
 *   <li>{@link #offset(long)}: target id = source id + offset, to merge several old systems whose id
 *       ranges collide into one table.</li>
 *   <li>{@link #idMap()}: a generated number per source key, kept in the table
 *       {@value #ID_MAP_TABLE} in the target; for source keys, such as text codes, that do not fit
 *       the target's numeric id.</li>
 * </ul>
 *
 * <p>The mapped key is written into the target row's key columns and used for the target's deletes;
 * {@link #toSource} takes it back for rows mirrored from the target during RAMP. Implementations must
 * be thread-safe, and map each key to the same key every time, in every instance of the service.
 */
public interface KeyMapping {

    /** The table the {@link #idMap()} mappings keep their keys in, in the target database. */
    String ID_MAP_TABLE = "dualwrite_id_map";

    /**
     * Maps a source key to the target key.
     *
     * @param sourceKey the source row's key
     * @return the target row's key
     * @throws IllegalArgumentException if the key cannot be mapped; the row then fails and is parked
     */
    RowKey toTarget(RowKey sourceKey);

    /**
     * Maps a target key back to the source key.
     *
     * @param targetKey the target row's key
     * @return the source row's key
     * @throws IllegalArgumentException if the key cannot be mapped back
     */
    RowKey toSource(RowKey targetKey);

    /**
     * Maps many source keys at once; mappings that look keys up somewhere override it to do so in
     * few round trips.
     *
     * @param sourceKeys the source keys
     * @return every source key with its target key
     * @throws IllegalArgumentException if a key cannot be mapped
     */
    default Map<RowKey, RowKey> toTargetAll(Collection<RowKey> sourceKeys) {
        Map<RowKey, RowKey> mapped = new LinkedHashMap<>();
        for (RowKey key : sourceKeys) {
            mapped.put(key, toTarget(key));
        }
        return mapped;
    }

    /**
     * The target key is the source key.
     *
     * @return the identity mapping
     */
    static KeyMapping identity() {
        return KeyMappings.IDENTITY;
    }

    /**
     * Target id = source id + {@code offset}, for a table with a single whole-number key column. Old
     * systems merged into one table each get their own offset, chosen above the others' largest id.
     *
     * @param offset added on the way to the target, subtracted on the way back
     * @return the mapping
     */
    static KeyMapping offset(long offset) {
        return new KeyMappings.Offset(offset);
    }

    /**
     * A generated number per source key, kept in {@value #ID_MAP_TABLE} in the target under the
     * source table's name, and cached, up to 100,000 keys, in both directions. See
     * {@link #idMap(String, long)}.
     *
     * @return the mapping, bound to the target database by {@link MappedTables#resolve}
     */
    static KeyMapping idMap() {
        return new KeyMappings.IdMapDeclaration(null, KeyMappings.DEFAULT_CACHED_KEYS);
    }

    /**
     * A generated number per source key, kept in {@value #ID_MAP_TABLE} in the target: the first time
     * a source key is seen, a number is generated for it, atomically across threads and instances
     * (every instance that sees the key at the same moment gets the same number), and it never changes
     * afterwards. For a table with a single key column, whole-number in the target; the source
     * key's value may be text or a number.
     *
     * <p>Numbers come from one sequence shared by every table that uses the id map, starting at 1.
     * Before the target takes inserts of its own for such a table (RAMP, TARGET_ONLY), start the
     * table's own id sequence above the largest mapped number. A row created in the target has no
     * source key, and cannot be mirrored back to the source.
     *
     * @param namespace the name keys are kept under, or {@code null} for the source table's name;
     *     set one when two migrations map same-named source tables into one target
     * @param maximumCachedKeys how many keys to cache in each direction, at least 1
     * @return the mapping, bound to the target database by {@link MappedTables#resolve}
     * @throws IllegalArgumentException if the namespace is blank or too long, or the cache size below 1
     */
    static KeyMapping idMap(String namespace, long maximumCachedKeys) {
        if (namespace != null && (namespace.isBlank() || namespace.length() > KeyMappings.MAX_NAMESPACE_LENGTH)) {
            throw new IllegalArgumentException("idMap: the namespace must be 1.." + KeyMappings.MAX_NAMESPACE_LENGTH
                    + " characters, was '" + namespace + "'");
        }
        if (maximumCachedKeys < 1) {
            throw new IllegalArgumentException("idMap: maximumCachedKeys must be at least 1, was " + maximumCachedKeys);
        }
        return new KeyMappings.IdMapDeclaration(namespace, maximumCachedKeys);
    }
}
