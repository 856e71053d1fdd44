package io.dualwrite.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.LocalDateTime;
import java.util.Map;

import javax.sql.DataSource;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.dao.DataAccessException;

class TestDatabaseTest {

    private static final LocalDateTime MODIFIED = LocalDateTime.of(2024, 7, 1, 12, 34, 56, 789_000_000);

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void create_onEachStore_roundTripsRowsAndTimes(Store store) throws SQLException {
        try (TestDatabase db = TestDatabase.create(store, "SelfTest")) {
            assertThat(db.store()).isEqualTo(store);
            assertThat(db.name()).matches("dw_selftest_[a-z0-9]{10}");
            db.execute(createProbeTable(store),
                    "INSERT INTO t_probe (id, name, gmt_modified) VALUES (1, 'one', TIMESTAMP '2024-07-01 12:34:56.789')");
            insert(db.dataSource(), 2, "two", MODIFIED);
            insert(db.dataSource(), 3, "three", Timestamp.valueOf(MODIFIED));

            assertThat(db.queryForList("SELECT id, name FROM t_probe ORDER BY id")).containsExactly(
                    Map.of("id", 1L, "name", "one"),
                    Map.of("id", 2L, "name", "two"),
                    Map.of("id", 3L, "name", "three"));
            assertThat(db.queryForObject("SELECT COUNT(*) FROM t_probe WHERE name LIKE ?", Integer.class, "t%"))
                    .isEqualTo(2);
            for (int id = 1; id <= 3; id++) {
                assertThat(db.queryForObject("SELECT gmt_modified FROM t_probe WHERE id = ?", LocalDateTime.class, id))
                        .as("row %d as LocalDateTime", id)
                        .isEqualTo(MODIFIED);
                assertThat(db.queryForObject("SELECT gmt_modified FROM t_probe WHERE id = ?", Timestamp.class, id))
                        .as("row %d as Timestamp", id)
                        .isEqualTo(Timestamp.valueOf(MODIFIED));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void create_onEachStore_serverClockReadsInTheJvmZone(Store store) {
        try (TestDatabase db = TestDatabase.create(store, "SelfTest")) {
            LocalDateTime serverNow = db.queryForObject("SELECT LOCALTIMESTAMP", LocalDateTime.class);

            assertThat(Duration.between(LocalDateTime.now(), serverNow).abs()).isLessThan(Duration.ofMinutes(1));
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void jdbcUrl_withUsernameAndPassword_opensAnotherPoolOnTheSameDatabase(Store store) {
        try (TestDatabase db = TestDatabase.create(store, "SelfTest")) {
            db.execute(createProbeTable(store));
            HikariConfig config = new HikariConfig();
            config.setJdbcUrl(db.jdbcUrl());
            config.setUsername(db.username());
            config.setPassword(db.password());
            config.setMaximumPoolSize(1);
            try (HikariDataSource other = new HikariDataSource(config)) {
                insert(other, 7, "seven", MODIFIED);
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }

            assertThat(db.queryForList("SELECT id, name FROM t_probe")).containsExactly(Map.of("id", 7L, "name", "seven"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void create_twice_givesDatabasesThatDoNotSeeEachOthersTables(Store store) {
        try (TestDatabase first = TestDatabase.create(store, "SelfTest");
                TestDatabase second = TestDatabase.create(store, "SelfTest")) {
            assertThat(first.name()).isNotEqualTo(second.name());
            first.execute(createProbeTable(store), "INSERT INTO t_probe (id, name) VALUES (1, 'first')");

            assertThatThrownBy(() -> second.queryForList("SELECT * FROM t_probe"))
                    .isInstanceOf(DataAccessException.class);

            second.execute(createProbeTable(store), "INSERT INTO t_probe (id, name) VALUES (2, 'second')");
            assertThat(first.queryForList("SELECT id, name FROM t_probe")).containsExactly(Map.of("id", 1L, "name", "first"));
            assertThat(second.queryForList("SELECT id, name FROM t_probe")).containsExactly(Map.of("id", 2L, "name", "second"));
        }
    }

    @ParameterizedTest
    @MethodSource("io.dualwrite.testing.Stores#all")
    void close_dropsTheDatabaseAndClosesThePool(Store store) {
        try (TestDatabase observer = TestDatabase.create(store, "Observer")) {
            TestDatabase db = TestDatabase.create(store, "SelfTest");
            db.execute(createProbeTable(store));
            assertThat(exists(observer, db.name())).as("%s before close", db.name()).isTrue();

            db.close();

            assertThat(exists(observer, db.name())).as("%s after close", db.name()).isFalse();
            assertThatThrownBy(() -> db.dataSource().getConnection()).isInstanceOf(SQLException.class);
            db.close();
        }
    }

    @Test
    void create_withPrefixOutsideLettersDigitsAndUnderscore_isRejected() {
        assertThatThrownBy(() -> TestDatabase.create(Store.H2, "drop-me; --"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("prefix must be letters, digits and '_', was 'drop-me; --'");
    }

    @Test
    void create_withPoolSizeBelowOne_isRejected() {
        assertThatThrownBy(() -> TestDatabase.create(Store.H2, "SelfTest", 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("maximumPoolSize must be at least 1, was 0");
    }

    private static String createProbeTable(Store store) {
        String timeType = store == Store.MARIADB ? "DATETIME(3)" : "TIMESTAMP(3)";
        return "CREATE TABLE t_probe (id BIGINT NOT NULL PRIMARY KEY, name VARCHAR(50) NOT NULL, gmt_modified "
                + timeType + ")";
    }

    private static void insert(DataSource dataSource, long id, String name, Object modified) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement insert =
                        connection.prepareStatement("INSERT INTO t_probe (id, name, gmt_modified) VALUES (?, ?, ?)")) {
            insert.setLong(1, id);
            insert.setString(2, name);
            insert.setObject(3, modified);
            insert.executeUpdate();
        }
    }

    /** Whether a database or schema of that name exists, seen from another database on the same store. */
    private static boolean exists(TestDatabase observer, String name) {
        return switch (observer.store()) {
            case H2 -> {
                try {
                    DriverManager.getConnection("jdbc:h2:mem:" + name + ";IFEXISTS=TRUE", "sa", "").close();
                    yield true;
                } catch (SQLException e) {
                    yield false;
                }
            }
            case MARIADB -> observer.queryForObject(
                    "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?", Integer.class, name) > 0;
            case POSTGRESQL -> observer.queryForObject(
                    "SELECT COUNT(*) FROM pg_namespace WHERE nspname = ?", Integer.class, name) > 0;
        };
    }
}
