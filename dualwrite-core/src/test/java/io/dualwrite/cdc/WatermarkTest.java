package io.dualwrite.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class WatermarkTest {

    private static LogPosition at(long position) {
        return new LogPosition("binlog.000001", position);
    }

    @Test
    void aTransactionWhoseKeysWait_holdsTheWatermark_andThoseAfterIt() {
        Watermark watermark = new Watermark(at(4));
        List<Long> handed = new ArrayList<>();
        watermark.handOver(at(100), handed::add);
        watermark.passed(at(150));
        watermark.handOver(at(200), handed::add);
        watermark.passed(at(250));

        // The first transaction's keys still wait: nothing moves, though the second one's are done.
        assertThat(watermark.advance(() -> OptionalLong.of(handed.get(0)))).isEqualTo(at(4));
        // The first is applied, the second waits: up to the first, and the empty one after it.
        assertThat(watermark.advance(() -> OptionalLong.of(handed.get(1)))).isEqualTo(at(150));
        // Nothing waits: all the way.
        assertThat(watermark.advance(OptionalLong::empty)).isEqualTo(at(250));
        assertThat(watermark.oldestWaitingNanos()).isEmpty();
    }

    @Test
    void handOverTimes_strictlyIncrease_soThatTwoTransactionsNeverShareOne() {
        Watermark watermark = new Watermark(at(4));
        List<Long> handed = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            watermark.handOver(at(10 + i), handed::add);
        }
        for (int i = 1; i < handed.size(); i++) {
            assertThat(handed.get(i)).isGreaterThan(handed.get(i - 1));
        }
        // A key of the last transaction waits: everything before it is done, not it.
        assertThat(watermark.advance(() -> OptionalLong.of(handed.get(999)))).isEqualTo(at(10 + 998));
    }

    @Test
    void emptyTransactionsWithNothingWaiting_moveTheWatermarkAtOnce() {
        Watermark watermark = new Watermark(at(4));
        watermark.passed(at(50));
        assertThat(watermark.safe()).isEqualTo(at(50));
    }

    @Test
    void logPositions_orderByFileThenOffset_evenPastThePaddedCounter() {
        assertThat(new LogPosition("binlog.000002", 4)).isGreaterThan(new LogPosition("binlog.000001", 9999));
        assertThat(new LogPosition("binlog.1000000", 4)).isGreaterThan(new LogPosition("binlog.999999", 9999));
        assertThat(new LogPosition("binlog.000002", 5)).isGreaterThan(new LogPosition("binlog.000002", 4));
    }
}
