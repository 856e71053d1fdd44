package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.RowKey;
import io.dualwrite.routing.Route;
import io.dualwrite.verify.Mismatch;
import io.dualwrite.verify.VerifyEvent;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class VerifyStatusTest {

    @Test
    void firstComparisonThatDiffers_isNotAMismatchUntilConfirmed() {
        VerifyStatus status = new VerifyStatus();
        for (int i = 0; i < 4; i++) {
            // during a backfill most rows are still missing in the target: lag candidates, re-checked later
            status.onEvent(new VerifyEvent.ReadCompared("t_order", false));
            status.onEvent(new VerifyEvent.LagRecheck("t_order", 1));
        }

        assertThat(status.recentMismatchRate()).isZero();
        assertThat(status.counts()).containsEntry("readsCompared", 4L).containsEntry("readMismatches", 0L);
    }

    @Test
    void confirmedMismatch_countsAgainstTheRate() {
        VerifyStatus status = new VerifyStatus();
        for (int i = 0; i < 4; i++) {
            status.onEvent(new VerifyEvent.ReadCompared("t_order", i != 0));
        }
        status.onEvent(new VerifyEvent.MismatchFound("t_order", VerifyEvent.Check.DOUBLE_READ, new Mismatch("t_order",
                RowKey.of(1L), Mismatch.Kind.DIFFERENT, Route.SOURCE, List.of("state"), Set.of(), Map.of(), Map.of(),
                null, null), true));

        assertThat(status.recentMismatchRate()).isEqualTo(0.25);
        assertThat(status.counts()).containsEntry("readMismatches", 1L);
    }
}
