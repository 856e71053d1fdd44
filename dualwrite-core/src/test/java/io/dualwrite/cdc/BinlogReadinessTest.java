package io.dualwrite.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The readiness messages, locked: each names the server setting or grant to change. */
class BinlogReadinessTest {

    private static final List<String> GRANTED = List.of("REPLICATION SLAVE", "BINLOG MONITOR");

    @Test
    void statementFormat_namesBinlogFormat() {
        var verdict = BinlogReadiness.judge(new BinlogReadiness.ServerSettings(true, "MIXED", "FULL", true,
                "app@%", GRANTED));
        assertThat(verdict.problems()).containsExactly("binlog_format is MIXED, change-data capture needs ROW: run SET"
                + " GLOBAL binlog_format=ROW and put binlog_format=ROW in the server's configuration");
    }

    @Test
    void minimalRowImage_namesBinlogRowImage() {
        var verdict = BinlogReadiness.judge(new BinlogReadiness.ServerSettings(true, "ROW", "MINIMAL", true,
                "app@%", GRANTED));
        assertThat(verdict.problems()).singleElement().asString().startsWith("binlog_row_image is MINIMAL")
                .contains("SET GLOBAL binlog_row_image=FULL");
    }

    @Test
    void annotationsOff_isOnlyAWarning() {
        var verdict = BinlogReadiness.judge(new BinlogReadiness.ServerSettings(true, "ROW", "FULL", false,
                "app@%", GRANTED));
        assertThat(verdict.problems()).isEmpty();
        assertThat(verdict.warnings()).singleElement().asString()
                .startsWith("binlog_annotate_row_events is OFF");
    }

    @Test
    void everyProblem_isListed_notTheFirstOnly() {
        var verdict = BinlogReadiness.judge(new BinlogReadiness.ServerSettings(false, "STATEMENT", "FULL", true,
                "app@10.0.0.%", List.of("SELECT")));
        assertThat(verdict.problems()).hasSize(3);
        assertThat(verdict.problems().get(1)).isEqualTo("user app@10.0.0.% lacks the REPLICATION SLAVE grant needed"
                + " to read the binary log: GRANT REPLICATION SLAVE ON *.* TO 'app'@'10.0.0.%'");
        assertThat(new CdcUnavailableException(verdict.problems()).getMessage())
                .startsWith("dualwrite.capture.cdc: the source's binary log cannot be read for change-data capture:")
                .contains("dualwrite.capture.cdc.required=false");
    }

    @Test
    void allPrivileges_coverBothGrants() {
        var verdict = BinlogReadiness.judge(new BinlogReadiness.ServerSettings(true, "ROW", "FULL", true,
                "root@localhost", List.of("ALL PRIVILEGES")));
        assertThat(verdict.problems()).isEmpty();
    }
}
