package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.Row;
import io.dualwrite.jdbc.RowKey;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Every apply writes the other store in key order, so that two instances applying overlapping batches
 * lock the same rows in the same order and cannot deadlock there.
 */
class ApplyKeyOrderTest {

    @Test
    void rowsAreWrittenInKeyOrderWithEachKeyWorkedOutOnce() {
        List<Row> rows = new ArrayList<>();
        for (long shop = 1; shop <= 5; shop++) {
            for (String code : List.of("b", "a", "c", "aa")) {
                rows.add(Row.of(Map.of("shop", shop, "code", code)));
            }
        }
        Collections.shuffle(rows, new Random(7));
        AtomicInteger keysWorkedOut = new AtomicInteger();

        List<Row> sorted = MirrorApplier.inKeyOrder(rows, row -> {
            keysWorkedOut.incrementAndGet();
            return RowKey.of(row.get("shop"), row.get("code"));
        });

        List<String> order = sorted.stream().map(r -> r.get("shop") + "/" + r.get("code")).toList();
        List<String> expected = new ArrayList<>();
        for (long shop = 1; shop <= 5; shop++) {
            for (String code : List.of("a", "aa", "b", "c")) {
                expected.add(shop + "/" + code);
            }
        }
        assertThat(order).containsExactlyElementsOf(expected);
        assertThat(keysWorkedOut).hasValue(rows.size());
    }

    @Test
    void numbersCompareAsNumbersNotAsText() {
        List<Row> rows = List.of(Row.of(Map.of("id", 10L)), Row.of(Map.of("id", 9L)), Row.of(Map.of("id", 100L)));

        List<Row> sorted = MirrorApplier.inKeyOrder(rows, row -> RowKey.of(row.get("id")));

        assertThat(sorted).extracting(r -> r.get("id")).containsExactly(9L, 10L, 100L);
    }
}
