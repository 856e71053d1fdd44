package io.dualwrite.degrade;

import io.dualwrite.jdbc.RowKey;
import java.math.BigDecimal;

/** The order of keys in a {@link DegradeMark.Kind#RANGE} mark, the same on every instance and every store. */
final class Keys {

    private Keys() {
    }

    /**
     * Compares column by column: numbers by value, text by UTF-16 code units, other values (dates, uuids)
     * by their text. A number sorts before text, so that a mixed range still has one order.
     */
    static int compare(RowKey a, RowKey b) {
        int size = Math.min(a.size(), b.size());
        for (int i = 0; i < size; i++) {
            int c = compareValues(a.get(i), b.get(i));
            if (c != 0) {
                return c;
            }
        }
        return Integer.compare(a.size(), b.size());
    }

    private static int compareValues(Object a, Object b) {
        if (a instanceof Number x && b instanceof Number y) {
            return new BigDecimal(x.toString()).compareTo(new BigDecimal(y.toString()));
        }
        if (a instanceof Number) {
            return -1;
        }
        if (b instanceof Number) {
            return 1;
        }
        return a.toString().compareTo(b.toString());
    }
}
