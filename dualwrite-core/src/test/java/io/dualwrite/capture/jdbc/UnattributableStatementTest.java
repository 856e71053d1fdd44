package io.dualwrite.capture.jdbc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.metrics.DualWriteMetrics;
import io.dualwrite.metrics.MeterNames;
import io.dualwrite.testing.Store;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Statements on a mapped table whose keys cannot be told: under FAIL they never run and the message
 * names the statement and the property; under WARN they run, and each run is an event (counted, and
 * the starter schedules a reconcile). DDL on a mapped table follows its own policy and the phase
 * ({@link SchemaChangeTest}).
 */
class UnattributableStatementTest {

    private CaptureFixture f;

    @AfterEach
    void close() {
        if (f != null) {
            f.close();
        }
    }

    /** Each form, valid on the store, with a probe that tells whether it ran. */
    private record Form(String name, String sql, String ranProbe) {
    }

    private static List<Form> forms(Store store) {
        List<Form> forms = new ArrayList<>();
        forms.add(new Form("INSERT ... SELECT", "INSERT INTO t_order (id, user_id, status, gmt_modified)"
                + " SELECT id + 100, 1, 'SEL', CURRENT_TIMESTAMP FROM t_note",
                "SELECT COUNT(*) FROM t_order WHERE status = 'SEL'"));
        String multiTable = switch (store) {
            case MARIADB -> "UPDATE t_order o JOIN t_note n ON n.id = o.id SET o.status = 'JOINED'";
            case POSTGRESQL -> "UPDATE t_order SET status = 'JOINED' FROM t_note WHERE t_note.id = t_order.id";
            case H2 -> "MERGE INTO t_order o USING t_note n ON o.id = n.id WHEN MATCHED THEN UPDATE SET status = 'JOINED'";
        };
        forms.add(new Form("multi-table UPDATE", multiTable, "SELECT COUNT(*) FROM t_order WHERE status = 'JOINED'"));
        forms.add(new Form("CALL", store == Store.H2 ? "CALL touch_orders()" : "CALL touch_orders()",
                "SELECT COUNT(*) FROM t_order WHERE note = 'proc'"));
        return forms;
    }

    private void createProcedure(Store store) {
        switch (store) {
            case MARIADB -> f.source.execute("CREATE PROCEDURE touch_orders() UPDATE t_order SET note = 'proc'");
            case POSTGRESQL -> f.source.execute("CREATE PROCEDURE touch_orders() LANGUAGE SQL AS"
                    + " $$ UPDATE t_order SET note = 'proc' $$");
            case H2 -> f.source.execute("CREATE ALIAS touch_orders FOR \"" + H2Procedures.class.getName()
                    + ".touchOrders\"");
        }
    }

    private long ran(Form form) {
        try {
            return f.source.queryForObject(form.ranProbe(), Long.class);
        } catch (RuntimeException columnMissing) {
            return 0;
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void fail_refusesEachFormBeforeItRuns_namingTheStatementAndTheProperty(Store source, Store target)
            throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.FAIL);
        f.seed(1);
        f.source.execute("INSERT INTO t_note (id, body) VALUES (1, 'n')");
        createProcedure(source);
        for (Form form : forms(source)) {
            assertThatThrownBy(() -> f.jdbc.execute(form.sql())).as(form.name())
                    .hasRootCauseInstanceOf(SQLException.class)
                    .rootCause().hasMessageContaining("dualwrite.capture.unattributable=WARN")
                    .hasMessageContaining(form.sql());
            try (Connection connection = f.capturing.getConnection()) {
                assertThatThrownBy(() -> connection.prepareStatement(form.sql())).as(form.name() + " prepared")
                        .isInstanceOf(SQLException.class).hasMessageContaining("t_order");
            }
            assertThat(ran(form)).as(form.name() + " ran").isZero();
        }
        assertThatThrownBy(() -> f.jdbc.update("FROBNICATE t_order")).as("text that does not parse")
                .rootCause().hasMessageContaining("does not parse");
        assertThat(f.sink.afterCommit).isEmpty();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("io.dualwrite.testing.Stores#pairs")
    void warn_runsEachFormAndPublishesACountedEventPerRun(Store source, Store target) throws Exception {
        f = new CaptureFixture(source, target, UnattributablePolicy.WARN);
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        DualWriteMetrics metrics = new DualWriteMetrics(new AtomicInteger(), AtomicInteger::get);
        metrics.bindTo(registry);
        f.publisher.subscribe(metrics);
        f.seed(1);
        f.source.execute("INSERT INTO t_note (id, body) VALUES (1, 'n')");
        createProcedure(source);
        for (Form form : forms(source)) {
            f.jdbc.execute(form.sql());
            assertThat(ran(form)).as(form.name() + " ran").isPositive();
            assertThat(f.events).as(form.name()).contains(new DualWriteEvent.UnattributedWrite("t_order", form.sql()));
        }
        f.jdbc.execute(forms(source).get(0).sql().replace("id + 100", "id + 200"));
        assertThat(registry.get(MeterNames.CAPTURE_UNATTRIBUTED).tag("table", "t_order").counter().count())
                .as("every run counted, stored procedure calls count once per mapped table").isEqualTo(4.0);
    }
}
