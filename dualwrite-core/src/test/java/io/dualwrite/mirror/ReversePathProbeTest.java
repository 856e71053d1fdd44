package io.dualwrite.mirror;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reverse path's probe (a ramp step's guard) under the race a live service makes: the source deleted a
 * rental and its payment, and the forward mirror has not yet deleted them on the target, so the target's first rows
 * hold a payment whose rental the source no longer has.
 */
class ReversePathProbeTest {

    @Test
    void aRowJustDeletedOnTheSourceWithItsParent_doesNotFailTheProbe_butAPathThatCannotWriteStillDoes()
            throws Exception {
        try (TestDatabase source = TestDatabase.create(Store.MARIADB, "probe_src");
                TestDatabase target = TestDatabase.create(Store.POSTGRESQL, "probe_tgt")) {
            for (TestDatabase db : List.of(source, target)) {
                String time = db.store() == Store.MARIADB ? "DATETIME(3)" : "TIMESTAMP(3)";
                db.execute("CREATE TABLE rental (rental_id BIGINT PRIMARY KEY)",
                        "CREATE TABLE payment (payment_id BIGINT PRIMARY KEY, rental_id BIGINT NOT NULL,"
                                + " amount DECIMAL(8,2) NOT NULL, gmt_modified " + time + " NOT NULL,"
                                + " CONSTRAINT fk_payment_rental FOREIGN KEY (rental_id) REFERENCES rental (rental_id))",
                        "INSERT INTO rental VALUES (1), (2), (3), (4)");
                for (int id = 1; id <= 4; id++) {
                    db.execute("INSERT INTO payment VALUES (" + id + ", " + id + ", " + id + ".00,"
                            + " TIMESTAMP '2025-03-01 10:00:00')");
                }
            }
            // Cancelled on the source; the forward mirror's delete of both rows has not reached the target yet.
            source.execute("DELETE FROM payment WHERE payment_id = 1", "DELETE FROM rental WHERE rental_id = 1");
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("payment").build()),
                    source.dataSource(), target.dataSource(), false);

            try (Mirror reverse = Mirror.create(MirrorConfig.defaults(), tables.reversed(), target.dataSource(),
                    source.dataSource(), new EventPublisher())) {
                assertThat(reverse.probe("payment")).as("the target's first three payments were read").isEqualTo(3);
                assertThat(source.queryForObject("SELECT COUNT(*) FROM payment", Long.class))
                        .as("nothing a probe writes stays").isEqualTo(3);

                // A source that can no longer take the target's rows still fails it.
                source.execute("ALTER TABLE payment DROP COLUMN amount");
                assertThatThrownBy(() -> reverse.probe("payment")).hasMessageContaining("amount");
            }
        }
    }
}
