package io.dualwrite.cdc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL's readiness messages, locked: each names the setting or grant to change; and the key values
 * decoded from pgoutput's text output.
 */
class PgReadinessTest {

    @Test
    void walLevelReplica_namesWalLevel() {
        var problems = PgReadiness.judge(new PgReadiness.ServerSettings("replica", "app", true, 10, 0, false, 10),
                "dualwrite_cdc", "orders");
        assertThat(problems).containsExactly("wal_level is replica, logical decoding needs logical: run ALTER SYSTEM"
                + " SET wal_level = logical and restart the server");
    }

    @Test
    void aUserWithoutReplication_namesTheAttribute() {
        var problems = PgReadiness.judge(new PgReadiness.ServerSettings("logical", "app", false, 10, 0, false, 10),
                "dualwrite_cdc", "orders");
        assertThat(problems).containsExactly("user app lacks the REPLICATION attribute needed to read a replication"
                + " slot: ALTER ROLE app WITH REPLICATION (and let it open a replication connection to database"
                + " orders in pg_hba.conf)");
    }

    @Test
    void allSlotsInUse_namesMaxReplicationSlots_unlessTheSlotExists() {
        var problems = PgReadiness.judge(new PgReadiness.ServerSettings("logical", "app", true, 4, 4, false, 10),
                "dualwrite_cdc", "orders");
        assertThat(problems).singleElement().asString()
                .startsWith("max_replication_slots is 4 and all are in use, so slot 'dualwrite_cdc'"
                        + " (dualwrite.capture.cdc.slot-name) cannot be created")
                .contains("ALTER SYSTEM SET max_replication_slots = 5 and restart");
        // Its own slot is among the four: nothing more is needed.
        assertThat(PgReadiness.judge(new PgReadiness.ServerSettings("logical", "app", true, 4, 4, true, 10),
                "dualwrite_cdc", "orders")).isEmpty();
    }

    @Test
    void everyProblemIsListed_notTheFirstOnly() {
        var problems = PgReadiness.judge(new PgReadiness.ServerSettings("minimal", "app", false, 0, 0, false, 0),
                "dualwrite_cdc", "orders");
        assertThat(problems).hasSize(4);
    }

    @Test
    void keyValues_areDecodedToTheMirrorsKeyTypes() {
        assertThat(PgLogicalCapture.decode(23, "2000000000")).isEqualTo(2000000000L);
        assertThat(PgLogicalCapture.decode(20, "-9223372036854775808")).isEqualTo(Long.MIN_VALUE);
        assertThat(PgLogicalCapture.decode(21, "7")).isEqualTo(7L);
        assertThat(PgLogicalCapture.decode(1700, "12.50")).isEqualTo(new BigDecimal("12.50"));
        assertThat(PgLogicalCapture.decode(1043, "grüße")).isEqualTo("grüße");
        assertThat(PgLogicalCapture.decode(2950, "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"))
                .isEqualTo(UUID.fromString("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"));
        assertThatThrownBy(() -> PgLogicalCapture.decode(1266, "10:00:00+00"))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("oid 1266");
    }

    @Test
    void anLsnPosition_showsAsPostgresShowsIt() {
        assertThat(new LogPosition(PgLogicalCapture.LSN, 0x16B3748L)).hasToString("lsn:0/16B3748");
        assertThat(new LogPosition(PgLogicalCapture.LSN, (3L << 32) | 0xA0L)).hasToString("lsn:3/A0");
        assertThat(PgLogicalCapture.lsn(new LogPosition(PgLogicalCapture.LSN, 0x16B3748L))).isEqualTo("0/16B3748");
    }

    @Test
    void slotAndPublicationNames_areValidatedNamingTheProperty() {
        assertThatThrownBy(() -> CdcConfig.builder().slotName("Bad-Name"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("dualwrite.capture.cdc.slot-name: must be 1 to 63 lower-case letters");
        assertThatThrownBy(() -> CdcConfig.builder().publicationName(""))
                .hasMessageStartingWith("dualwrite.capture.cdc.publication-name:");
        // No server id for logical decoding; the database is what it needs instead.
        assertThat(CdcConfig.builder().server("pg", 5432).credentials("app", null).logicalDecoding("orders").build()
                .logicalDecoding()).isTrue();
        assertThatThrownBy(() -> CdcConfig.builder().server("db", 3306).credentials("app", null).build())
                .hasMessageContaining("dualwrite.capture.cdc.server-id");
        assertThatThrownBy(() -> CdcConfig.builder().server("pg", 5432).credentials("app", null)
                .logicalDecoding("orders").serverId(4711).build())
                .hasMessageStartingWith("dualwrite.capture.cdc.server-id: a PostgreSQL source is read through a"
                        + " logical replication slot");
    }
}
