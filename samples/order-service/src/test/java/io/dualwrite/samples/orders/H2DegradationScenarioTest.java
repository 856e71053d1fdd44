package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.degrade.DegradeMark;
import io.dualwrite.degrade.Degradation;
import io.dualwrite.testing.Store;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** The degradation drill on embedded H2: mark, skip and count, purge, unmark and copy again. */
class H2DegradationScenarioTest extends StrategyScenarioTest {

    @Autowired
    Degradation degradation;

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException {
        stores(Store.H2, Store.H2, registry);
    }

    @Test
    void aMarkedUser_isSkippedAndCounted_purged_thenUnmarkedAndCopiedAgain() throws Exception {
        StrategyScenarios.Result drill = runAndCheck("degradation").get(0);

        assertThat(drill.lines()).anyMatch(line -> line.startsWith("while marked:")
                && line.contains("of the user's 3 new orders 0 reached the new store"))
                .anyMatch(line -> line.startsWith("purged:") && line.endsWith("the user has 0 orders there now"))
                .anyMatch(line -> line.startsWith("unmarked and copied again:") && line.endsWith(", 0 differ"));
        assertThat(degradation.skipped().get(OrderDao.TABLE)).as("skipped changes counted").isGreaterThanOrEqualTo(3);
        assertThat(degradation.marks()).as("no mark left in force").isEmpty();
        assertThat(degradation.history()).singleElement().satisfies(mark -> {
            assertThat(mark.kind()).isEqualTo(DegradeMark.Kind.ROUTING_VALUE);
            assertThat(mark.markedBy()).isEqualTo("demo-operator");
        });
    }
}
