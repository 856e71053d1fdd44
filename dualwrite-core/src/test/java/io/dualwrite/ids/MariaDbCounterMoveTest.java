package io.dualwrite.ids;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.TableMetadata;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Found by the clinic sample (issue 18): the step into RAMP moves MariaDB's {@code AUTO_INCREMENT} with
 * {@code ALTER TABLE}, whose metadata lock request queued behind an application transaction that had read the
 * table, and that transaction's next write queued behind the request: MariaDB failed the application's
 * statement with "Deadlock found when trying to get lock". The counter move now asks with NOWAIT and tries
 * again, so the application's transaction goes on and the move happens once it has ended.
 */
class MariaDbCounterMoveTest {

    private TestDatabase db;
    private final ExecutorService library = Executors.newSingleThreadExecutor();

    @AfterEach
    void close() {
        library.shutdownNow();
        if (db != null) {
            db.close();
        }
    }

    @Test
    void counterMove_whileATransactionReadThenWritesTheTable_givesWayAndHappensAfterIt() throws Exception {
        db = TestDatabase.create(Store.MARIADB, "ids_mdl");
        db.execute("CREATE TABLE pets (id BIGINT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(20) NOT NULL)",
                "INSERT INTO pets (name) VALUES ('Rex')");
        Dialect dialect = Dialect.of(db.dataSource());
        try (Connection app = db.dataSource().getConnection();
                Connection mover = db.dataSource().getConnection();
                Statement statement = app.createStatement()) {
            IdCounter counter = IdCounter.find(mover, dialect, TableMetadata.read(mover, "pets").orElseThrow(), "id")
                    .orElseThrow();
            app.setAutoCommit(false);
            statement.executeQuery("SELECT name FROM pets WHERE id = 1").close();

            Future<?> move = library.submit(() -> {
                counter.set(mover, 1_000, 1, 0);
                return null;
            });
            Thread.sleep(300);
            assertThat(move).as("the move waits for the open transaction").isNotDone();
            statement.executeUpdate("UPDATE pets SET name = 'Max' WHERE id = 1");
            app.commit();

            move.get(10, TimeUnit.SECONDS);
            assertThat(counter.read(mover).next()).isEqualTo(1_000);
        }
        assertThat(db.queryForObject("SELECT name FROM pets WHERE id = 1", String.class)).isEqualTo("Max");
    }
}
