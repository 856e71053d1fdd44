package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.routing.Phase;
import io.dualwrite.testing.Store;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * Issue 18: DDL on a mapped table, decided by phase. In SOURCE_ONLY and TARGET_ONLY nothing is mirrored, so it
 * runs (a schema tool's {@code CREATE TABLE IF NOT EXISTS} was refused in SOURCE_ONLY before); in DUAL_WRITE and
 * RAMP it is a schema change the migration must know about: refused under {@code schema-changes=FAIL} with what to
 * do, run under WARN with an event that schedules a reconcile. The unattributable policy does not decide it.
 */
class SchemaChangeTest {

    private static final String ADD_COLUMN = "ALTER TABLE t_order ADD COLUMN extra INT";

    private CaptureFixture f;
    private final AtomicReference<Phase> phase = new AtomicReference<>(Phase.SOURCE_ONLY);

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
    }

    private JdbcTemplate capturing(SchemaChangePolicy schemaChanges) {
        return new JdbcTemplate(CapturingDataSource.builder(f.raw(), f.tables, f.capture).phase(phase::get)
                .schemaChanges(schemaChanges).unattributable(UnattributablePolicy.WARN).events(f.publisher).build());
    }

    private boolean hasExtraColumn() {
        try {
            f.source.queryForObject("SELECT COUNT(extra) FROM t_order", Long.class);
            return true;
        } catch (RuntimeException missing) {
            return false;
        }
    }

    private List<DualWriteEvent> unattributed() {
        return f.events.stream().filter(DualWriteEvent.UnattributedWrite.class::isInstance).toList();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void sourceOnlyAndTargetOnly_runDdlOnAMappedTable_unreported(Store source, Store target) throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        JdbcTemplate jdbc = capturing(SchemaChangePolicy.FAIL);

        jdbc.execute("CREATE TABLE IF NOT EXISTS t_order (id BIGINT NOT NULL PRIMARY KEY)");
        jdbc.execute("CREATE INDEX ix_order_status ON t_order (status)");
        jdbc.execute(ADD_COLUMN);
        assertThat(hasExtraColumn()).isTrue();

        phase.set(Phase.TARGET_ONLY);
        jdbc.execute("ALTER TABLE t_order DROP COLUMN extra");
        assertThat(hasExtraColumn()).isFalse();
        assertThat(unattributed()).as("nothing is mirrored, so nothing needs a reconcile").isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void dualWriteAndRamp_fail_refusesBeforeItRuns_sayingHowToRollTheChangeOut(Store source, Store target)
            throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.WARN);
        JdbcTemplate jdbc = capturing(SchemaChangePolicy.FAIL);

        for (Phase mirroring : List.of(Phase.DUAL_WRITE, Phase.RAMP)) {
            phase.set(mirroring);
            assertThatThrownBy(() -> jdbc.execute(ADD_COLUMN)).as(mirroring.name())
                    .rootCause().isInstanceOf(SQLException.class)
                    .hasMessageStartingWith("dualwrite refuses DDL on mapped table 't_order' in phase " + mirroring)
                    .hasMessageContaining(ADD_COLUMN)
                    .hasMessageContaining("change the target first")
                    .hasMessageContaining("restart the instances with dualwrite.tables.* updated")
                    .hasMessageContaining("README: \"Schema tools and schema changes\"")
                    .hasMessageContaining("set dualwrite.capture.schema-changes=WARN");
            assertThat(hasExtraColumn()).as(mirroring + ": refused before it ran").isFalse();
        }
        assertThatThrownBy(() -> jdbc.execute("TRUNCATE TABLE t_order")).as("TRUNCATE deletes rows unseen")
                .rootCause().hasMessageContaining("dualwrite.capture.schema-changes=WARN");
        // The mapped table second in the list: the parser's first name is tmp_x, and this once ran unseen.
        assertThatThrownBy(() -> jdbc.execute("DROP TABLE IF EXISTS tmp_x, t_order")).as("DROP of several tables")
                .rootCause().hasMessageStartingWith("dualwrite refuses DDL on mapped table 't_order'");
        assertThat(f.source.queryForObject("SELECT COUNT(*) FROM t_order", Long.class)).as("t_order still there")
                .isNotNull();
        assertThat(unattributed()).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void dualWrite_warn_runsTheDdl_andSchedulesAReconcileOfTheTable(Store source, Store target) throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        phase.set(Phase.DUAL_WRITE);
        JdbcTemplate jdbc = capturing(SchemaChangePolicy.WARN);

        jdbc.execute(ADD_COLUMN);

        assertThat(hasExtraColumn()).isTrue();
        assertThat(unattributed()).containsExactly(new DualWriteEvent.UnattributedWrite("t_order", ADD_COLUMN));
    }
}
