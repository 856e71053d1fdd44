package io.dualwrite.mapping;

import io.dualwrite.jdbc.RowKey;

/** The built-in {@link KeyMapping}s other than the bound id map ({@link IdMap}). */
final class KeyMappings {

    static final long DEFAULT_CACHED_KEYS = 100_000;
    static final int MAX_NAMESPACE_LENGTH = 128;

    static final KeyMapping IDENTITY = new KeyMapping() {
        @Override
        public RowKey toTarget(RowKey sourceKey) {
            return sourceKey;
        }

        @Override
        public RowKey toSource(RowKey targetKey) {
            return targetKey;
        }

        @Override
        public String toString() {
            return "KeyMapping.identity()";
        }
    };

    private KeyMappings() {
    }

    /** Target id = source id + offset. */
    record Offset(long offset) implements KeyMapping {

        @Override
        public RowKey toTarget(RowKey sourceKey) {
            return RowKey.of(add(sourceKey, offset));
        }

        @Override
        public RowKey toSource(RowKey targetKey) {
            return RowKey.of(add(targetKey, -offset));
        }

        private static long add(RowKey key, long delta) {
            if (key.size() != 1 || !(key.get(0) instanceof Long id)) {
                throw new IllegalArgumentException("key " + key + " is not a single whole number, so it cannot be"
                        + " offset");
            }
            try {
                return Math.addExact(id, delta);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException("key " + id + " offset by " + delta + " is beyond the range of a"
                        + " BIGINT");
            }
        }

        @Override
        public String toString() {
            return "KeyMapping.offset(" + offset + ")";
        }
    }

    /**
     * What {@link KeyMapping#idMap()} returns: the settings only. {@link MappedTables#resolve} replaces
     * it with an {@link IdMap} bound to the target database.
     */
    record IdMapDeclaration(String namespace, long maximumCachedKeys) implements KeyMapping {

        @Override
        public RowKey toTarget(RowKey sourceKey) {
            throw unbound();
        }

        @Override
        public RowKey toSource(RowKey targetKey) {
            throw unbound();
        }

        private static IllegalStateException unbound() {
            return new IllegalStateException("KeyMapping.idMap() maps keys once MappedTables.resolve has bound it"
                    + " to the target database; use the MappedTable it returns");
        }

        @Override
        public String toString() {
            return "KeyMapping.idMap()";
        }
    }
}
