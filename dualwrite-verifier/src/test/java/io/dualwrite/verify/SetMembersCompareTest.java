package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A MySQL {@code SET} is a set: MariaDB keeps its members in the order of the definition, whatever order they
 * were written in, while the other store keeps the order its writer used (a text column, or an array). The
 * comparison goes by members, so the two spellings of one set are no difference, and another set still is.
 * Both stores reached false mismatches before: a {@code SET} carried into PostgreSQL {@code text}, and an array
 * carried back into a {@code SET} (a PostgreSQL to MariaDB migration, or the reverse mirror's view of RAMP).
 */
class SetMembersCompareTest {

    private static final String SET = "SET('Trailers','Commentaries','Deleted Scenes','Behind the Scenes')";

    private final List<VerifyEvent> events = new CopyOnWriteArrayList<>();
    private TestDatabase mariadb;
    private TestDatabase postgres;

    @AfterEach
    void close() {
        mariadb.close();
        postgres.close();
    }

    @Test
    void setCarriedIntoText_membersInAnotherOrder_areNoDifference() throws Exception {
        stores("features TEXT");
        mariadb.execute("INSERT INTO t_tag VALUES (1, 'Deleted Scenes,Trailers', '2026-01-01 00:00:00'),"
                + " (2, 'Trailers', '2026-01-01 00:00:00'), (3, '', '2026-01-01 00:00:00')");
        postgres.execute("INSERT INTO t_tag VALUES (1, 'Deleted Scenes,Trailers', '2026-01-01 00:00:00'),"
                + " (2, 'Commentaries,Trailers', '2026-01-01 00:00:00'), (3, '', '2026-01-01 00:00:00')");
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_tag").build()),
                mariadb.dataSource(), postgres.dataSource(), false);

        ReconcileReport report = Reconciler.create(dryRun(), tables, mariadb.dataSource(), postgres.dataSource(),
                events::add).run("t_tag");

        assertThat(mariadb.queryForObject("SELECT features FROM t_tag WHERE id = 1", String.class))
                .as("MariaDB's own order").isEqualTo("Trailers,Deleted Scenes");
        assertThat(report.compared()).isEqualTo(3);
        assertThat(report.samples(Mismatch.Kind.DIFFERENT)).as("only the set with another member")
                .containsExactly(io.dualwrite.jdbc.RowKey.of(2L));
    }

    @Test
    void arrayCarriedIntoASet_membersInAnotherOrder_areNoDifference() throws Exception {
        stores("features text[]");
        postgres.execute("INSERT INTO t_tag VALUES (1, '{\"Deleted Scenes\",Trailers}', '2026-01-01 00:00:00'),"
                + " (2, '{Commentaries,Trailers}', '2026-01-01 00:00:00'), (3, '{}', '2026-01-01 00:00:00')");
        mariadb.execute("INSERT INTO t_tag VALUES (1, 'Deleted Scenes,Trailers', '2026-01-01 00:00:00'),"
                + " (2, 'Trailers', '2026-01-01 00:00:00'), (3, '', '2026-01-01 00:00:00')");
        MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_tag").build()),
                postgres.dataSource(), mariadb.dataSource(), false);

        ReconcileReport report = Reconciler.create(dryRun(), tables, postgres.dataSource(), mariadb.dataSource(),
                events::add).run("t_tag");

        assertThat(report.compared()).isEqualTo(3);
        assertThat(report.samples(Mismatch.Kind.DIFFERENT)).as("only the set with another member")
                .containsExactly(io.dualwrite.jdbc.RowKey.of(2L));
    }

    private void stores(String postgresColumn) {
        mariadb = TestDatabase.create(Store.MARIADB, "setcmp");
        postgres = TestDatabase.create(Store.POSTGRESQL, "setcmp");
        mariadb.execute("CREATE TABLE t_tag (id BIGINT NOT NULL PRIMARY KEY, features " + SET + ","
                + " gmt_modified DATETIME(3) NOT NULL)");
        postgres.execute("CREATE TABLE t_tag (id BIGINT NOT NULL PRIMARY KEY, " + postgresColumn + ","
                + " gmt_modified timestamp(3) NOT NULL)");
    }

    private static ReconcileConfig dryRun() {
        return ReconcileConfig.builder().chunkSize(10).createTables(true).dryRun(true).build();
    }
}
