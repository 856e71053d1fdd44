package io.dualwrite.cdc;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The server a change log reader takes from a JDBC URL, shared by the sharded capture's checks and the starter. */
class LogServerTest {

    @Test
    void mariaDbAndMySqlUrls_giveHostPortAndDatabase_withTheDefaultPort() {
        assertThat(LogServer.of("jdbc:mariadb://db.example:3307/shop?useSSL=false"))
                .contains(new LogServer("db.example", 3307, "shop"));
        assertThat(LogServer.of("jdbc:mysql://db.example/shop")).contains(new LogServer("db.example", 3306, "shop"));
        assertThat(LogServer.of("jdbc:mariadb://app:secret@10.0.0.5")).contains(new LogServer("10.0.0.5", 3306, null));
        assertThat(LogServer.of("jdbc:mysql:replication://[::1]:3310/shop"))
                .contains(new LogServer("[::1]", 3310, "shop"));
    }

    @Test
    void postgresUrls_giveTheDatabaseBeforeTheParameters() {
        assertThat(LogServer.of("jdbc:postgresql://127.0.0.1:5432/postgres?currentSchema=s1"))
                .contains(new LogServer("127.0.0.1", 5432, "postgres"));
        assertThat(LogServer.of("jdbc:postgresql://pg/")).contains(new LogServer("pg", 5432, null));
    }

    @Test
    void urlsThatNameNoSingleServer_giveNothing() {
        assertThat(LogServer.of("jdbc:mariadb://a:3306,b:3306/shop")).isEmpty();
        assertThat(LogServer.of("jdbc:h2:mem:orders")).isEmpty();
        assertThat(LogServer.of(null)).isEmpty();
    }
}
