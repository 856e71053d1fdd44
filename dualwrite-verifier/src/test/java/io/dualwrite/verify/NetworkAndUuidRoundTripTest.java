package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.RowKey;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * MariaDB's {@code INET6} and {@code UUID} against PostgreSQL's {@code inet} and {@code uuid}, both ways: rows
 * the application wrote on PostgreSQL during RAMP (an IPv4 address among them, which MariaDB keeps as
 * {@code ::ffff:a.b.c.d}) reach MariaDB through the reverse mirror, and the reconciler finds no difference.
 */
class NetworkAndUuidRoundTripTest {

    private static final List<RowKey> KEYS = List.of(RowKey.of(1L), RowKey.of(2L), RowKey.of(3L));

    private final List<VerifyEvent> events = new CopyOnWriteArrayList<>();
    private TestDatabase mariadb;
    private TestDatabase postgres;

    @AfterEach
    void close() {
        mariadb.close();
        postgres.close();
    }

    @Test
    void inet6AndUuid_mirroredEitherWay_reconcileWithoutADifference() throws Exception {
        mariadb = TestDatabase.create(Store.MARIADB, "netrt");
        postgres = TestDatabase.create(Store.POSTGRESQL, "netrt");
        mariadb.execute("CREATE TABLE t_host (id BIGINT NOT NULL PRIMARY KEY, addr INET6, uid UUID,"
                + " gmt_modified DATETIME(3) NOT NULL)");
        postgres.execute("CREATE TABLE t_host (id BIGINT NOT NULL PRIMARY KEY, addr inet, uid uuid,"
                + " gmt_modified timestamp(3) NOT NULL)");
        mariadb.execute("INSERT INTO t_host VALUES (1, '2001:db8::1', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',"
                + " '2026-01-01 00:00:00'), (2, '::ffff:10.0.0.1', NULL, '2026-01-01 00:00:00'),"
                + " (3, NULL, '00000000-0000-0000-0000-000000000000', '2026-01-01 00:00:00')");
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_host").build()),
                mariadb.dataSource(), postgres.dataSource(), true);

        try (Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, mariadb.dataSource(),
                postgres.dataSource(), new EventPublisher())) {
            assertThat(mirror.repair("t_host", KEYS, Duration.ofSeconds(10))).isEmpty();
        }
        assertThat(reconcile(tables).differences()).as("after the forward mirror").isZero();

        postgres.execute("UPDATE t_host SET addr = '192.168.7.9', uid = 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A12',"
                + " gmt_modified = '2026-01-02 00:00:00' WHERE id = 1");
        postgres.execute("UPDATE t_host SET addr = '2001:DB8:0:0:0:0:0:2', gmt_modified = '2026-01-02 00:00:00'"
                + " WHERE id = 2");
        try (Mirror reverse = Mirror.create(MirrorConfig.defaults(), tables.reversed(), postgres.dataSource(),
                mariadb.dataSource(), new EventPublisher())) {
            assertThat(reverse.repair("t_host", KEYS, Duration.ofSeconds(10))).isEmpty();
        }
        assertThat(mariadb.queryForObject("SELECT CONCAT(addr, ' ', uid) FROM t_host WHERE id = 1", String.class))
                .isEqualTo("::ffff:192.168.7.9 a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a12");
        assertThat(reconcile(tables).differences()).as("after the reverse mirror: %s", events).isZero();
    }

    private ReconcileReport reconcile(MappedTables tables) throws Exception {
        ReconcileConfig dry = ReconcileConfig.builder().chunkSize(10).createTables(true).dryRun(true).build();
        return Reconciler.create(dry, tables, mariadb.dataSource(), postgres.dataSource(), events::add).run("t_host");
    }
}
