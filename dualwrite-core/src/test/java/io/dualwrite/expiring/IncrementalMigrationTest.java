package io.dualwrite.expiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.mapping.MappingException;
import io.dualwrite.routing.Route;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Issue 22, incremental-only migration of expiring data: no row is copied; a row's store follows from the
 * row (a key boundary or a creation-time cut-over); a merged read runs on both stores and merges by key;
 * the live-row report says when the source's table can be archived.
 */
class IncrementalMigrationTest {

    private static final ZoneId ZONE = ZoneId.of("Europe/Berlin");
    private static final Instant NOW = Instant.parse("2026-06-01T10:00:00Z");
    private static final Clock CLOCK = Clock.fixed(NOW, ZONE);

    private TestDatabase source;
    private TestDatabase target;
    private IncrementalMigration migration;

    static Stream<Arguments> pairs() {
        return Stream.of(Arguments.of(Store.H2, Store.H2), Arguments.of(Store.MARIADB, Store.POSTGRESQL),
                Arguments.of(Store.POSTGRESQL, Store.MARIADB));
    }

    @AfterEach
    void close() {
        if (migration != null) {
            migration.close();
        }
        if (source != null) {
            source.close();
        }
        if (target != null) {
            target.close();
        }
    }

    private void stores(Store sourceStore, Store targetStore) {
        source = TestDatabase.create(sourceStore, "inc_src");
        target = TestDatabase.create(targetStore, "inc_tgt");
        source.execute(ddl(sourceStore));
        target.execute(ddl(targetStore));
    }

    /** PostgreSQL keeps the expiry with its zone, the others without: both ways of binding "now" are run. */
    private static String ddl(Store store) {
        String time = switch (store) {
            case MARIADB -> "DATETIME(3) NULL";
            case POSTGRESQL -> "TIMESTAMPTZ(3) NULL";
            default -> "TIMESTAMP(3) NULL";
        };
        return "CREATE TABLE coupon (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL, code VARCHAR(32) NOT NULL,"
                + " created_at " + time + ", expires_at " + time + ")";
    }

    private static void insert(TestDatabase db, long id, long user, String code, Instant created, Instant expires) {
        try (var connection = db.dataSource().getConnection();
                var statement = connection.prepareStatement(
                        "INSERT INTO coupon (id, user_id, code, created_at, expires_at) VALUES (?, ?, ?, ?, ?)")) {
            statement.setLong(1, id);
            statement.setLong(2, user);
            statement.setString(3, code);
            statement.setObject(4, time(db, created));
            statement.setObject(5, time(db, expires));
            statement.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Object time(TestDatabase db, Instant instant) {
        if (instant == null) {
            return null;
        }
        return db.store() == Store.POSTGRESQL ? OffsetDateTime.ofInstant(instant, ZoneOffset.UTC)
                : LocalDateTime.ofInstant(instant, ZONE);
    }

    private IncrementalMigration build(ExpiringTable table) throws SQLException {
        return IncrementalMigration.builder(source.dataSource(), target.dataSource()).table(table).clock(CLOCK)
                .queryTimeout(Duration.ofSeconds(5)).build();
    }

    private static ExpiringTable byKey(long boundary) {
        return ExpiringTable.builder("coupon").keyColumn("id").newKeysAbove(boundary).expiresColumn("expires_at").build();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void keyBoundary_routesEachRowToItsStore_andTheMergedReadReturnsBoth(Store from, Store to) throws Exception {
        stores(from, to);
        Instant later = NOW.plus(Duration.ofDays(30));
        insert(source, 1, 7, "old-a", NOW.minus(Duration.ofDays(40)), later);
        insert(source, 2, 8, "old-b", NOW.minus(Duration.ofDays(40)), later);
        insert(source, 3, 7, "old-c", NOW.minus(Duration.ofDays(40)), later);
        insert(target, 101, 7, "new-a", NOW, later);
        insert(target, 102, 8, "new-b", NOW, later);
        migration = build(byKey(100));

        assertThat(migration.routeOf("coupon", 3L)).isEqualTo(Route.SOURCE);
        assertThat(migration.routeOf("coupon", 100)).as("the boundary itself is the source's").isEqualTo(Route.SOURCE);
        assertThat(migration.routeOf("coupon", "101")).isEqualTo(Route.TARGET);
        assertThat(migration.routeOfNew("coupon")).isEqualTo(Route.TARGET);
        assertThat(migration.store(Route.SOURCE)).isSameAs(source.dataSource());

        // An update goes to the store that holds the row, so it is never lost to the other.
        try (var connection = migration.store(migration.routeOf("coupon", 1L)).getConnection();
                var statement = connection.prepareStatement("UPDATE coupon SET code = ? WHERE id = ?")) {
            statement.setString(1, "old-a2");
            statement.setLong(2, 1L);
            assertThat(statement.executeUpdate()).isEqualTo(1);
        }

        IncrementalMigration.MergedRows mine = migration.query("coupon",
                "SELECT id, code FROM {table} WHERE user_id = ?", 7L);
        assertThat(mine.rows()).extracting(row -> ((Number) row.get("id")).longValue()).containsExactly(1L, 3L, 101L);
        assertThat(mine.rows()).extracting(row -> row.get("code")).containsExactly("old-a2", "old-c", "new-a");
        assertThat(mine.fromSource()).isEqualTo(2);
        assertThat(mine.fromTarget()).isEqualTo(1);
        assertThat(mine.duplicates()).isZero();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void liveRows_countsWhatTheSourceStillHolds_untilItCanBeArchived(Store from, Store to) throws Exception {
        stores(from, to);
        insert(source, 1, 7, "expired", NOW.minus(Duration.ofDays(60)), NOW.minus(Duration.ofSeconds(1)));
        insert(source, 2, 7, "alive", NOW.minus(Duration.ofDays(60)), NOW.plus(Duration.ofHours(1)));
        insert(source, 3, 7, "alive-longer", NOW.minus(Duration.ofDays(60)), NOW.plus(Duration.ofDays(3)));
        insert(source, 4, 7, "forever", NOW.minus(Duration.ofDays(60)), null);
        insert(target, 201, 7, "new", NOW, NOW.plus(Duration.ofDays(3)));
        insert(target, 202, 7, "new-expired", NOW, NOW.minus(Duration.ofSeconds(5)));
        migration = build(byKey(200));

        IncrementalMigration.LiveRows report = migration.liveRows("coupon");
        assertThat(report.liveInSource()).isEqualTo(3);
        assertThat(report.neverExpiringInSource()).isEqualTo(1);
        assertThat(report.rowsInSource()).isEqualTo(4);
        assertThat(report.lastExpiryInSource()).isEqualTo(NOW.plus(Duration.ofDays(3)));
        assertThat(report.liveInTarget()).isEqualTo(1);
        assertThat(report.archivable()).isFalse();

        source.execute("DELETE FROM coupon WHERE id = 4");
        try (IncrementalMigration later = IncrementalMigration.builder(source.dataSource(), target.dataSource())
                .table(byKey(200)).clock(Clock.offset(CLOCK, Duration.ofDays(4))).build()) {
            IncrementalMigration.LiveRows afterExpiry = later.liveRows("coupon");
            assertThat(afterExpiry.liveInSource()).isZero();
            assertThat(afterExpiry.rowsInSource()).as("expired rows are still there to archive").isEqualTo(3);
            assertThat(afterExpiry.archivable()).isTrue();
        }
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("pairs")
    void creationCutover_asksTheTargetForAnExistingKey(Store from, Store to) throws Exception {
        stores(from, to);
        Instant cutover = NOW.minus(Duration.ofDays(1));
        insert(source, 5, 7, "old", cutover.minus(Duration.ofDays(2)), null);
        insert(target, 6, 7, "new", cutover.plus(Duration.ofHours(1)), null);
        migration = build(ExpiringTable.builder("coupon").keyColumn("id").createdFrom("created_at", cutover)
                .expiresColumn("expires_at").build());

        assertThat(migration.routeOf("coupon", 5L)).isEqualTo(Route.SOURCE);
        assertThat(migration.routeOf("coupon", 6L)).isEqualTo(Route.TARGET);
        assertThat(migration.routeOfCreated("coupon", cutover)).isEqualTo(Route.TARGET);
        assertThat(migration.routeOfCreated("coupon", cutover.minusMillis(1))).isEqualTo(Route.SOURCE);
        assertThat(migration.query("coupon", "SELECT * FROM {table}").rows())
                .extracting(row -> row.get("code")).containsExactly("old", "new");
    }

    @Test
    void aKeyInBothStores_isCountedAndTakenFromTheStoreItsRuleNames() throws Exception {
        stores(Store.H2, Store.H2);
        insert(source, 2, 7, "in-source", NOW, null);
        insert(target, 150, 7, "in-target", NOW, null);
        migration = build(byKey(100));
        insert(target, 2, 7, "copied-by-hand", NOW, null);
        insert(source, 150, 7, "copied-back", NOW, null);

        IncrementalMigration.MergedRows rows = migration.query("coupon", "SELECT * FROM {table} WHERE user_id = ?", 7L);
        assertThat(rows.rows()).extracting(row -> row.get("code")).containsExactly("in-source", "in-target");
        assertThat(rows.duplicates()).isEqualTo(2);
        assertThat(migration.duplicatesFound()).isEqualTo(2);
    }

    @Test
    void aStoreThatFails_failsTheMergedRead_neverHalfAResult() throws Exception {
        stores(Store.H2, Store.H2);
        insert(source, 1, 7, "a", NOW, null);
        migration = build(byKey(100));
        target.execute("DROP TABLE coupon");

        assertThatThrownBy(() -> migration.query("coupon", "SELECT * FROM {table}"))
                .isInstanceOf(SQLException.class).hasMessageContaining("the target failed a merged read of 'coupon'");
        assertThatThrownBy(() -> migration.query("coupon", "SELECT * FROM coupon"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("{table}");
        assertThatThrownBy(() -> migration.routeOf("orders", 1L))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("dualwrite.incremental.tables");
    }

    @Test
    void build_listsEveryProblem_withItsProperty() {
        stores(Store.H2, Store.H2);
        insert(source, 500, 7, "too-high", NOW, null);
        insert(target, 20, 7, "too-low", NOW, null);
        source.execute("CREATE TABLE session_token (token VARCHAR(40), user_id BIGINT)");
        target.execute("CREATE TABLE session_token (token VARCHAR(40) PRIMARY KEY, user_id BIGINT)");

        assertThatThrownBy(() -> IncrementalMigration.builder(source.dataSource(), target.dataSource())
                .table(byKey(100))
                .table(ExpiringTable.builder("session_token").keyColumn("token").newKeysAbove(5)
                        .expiresColumn("valid_until").build())
                .table(ExpiringTable.builder("t_order").keyColumn("id").newKeysAbove(5).expiresColumn("x").build())
                .mirroredTables(Set.of("t_order")).build())
                .isInstanceOf(MappingException.class)
                .satisfies(e -> assertThat(((MappingException) e).problems()).containsExactlyInAnyOrder(
                        "dualwrite.incremental.tables.coupon.new-keys-above: the source already holds key 500 above the"
                                + " boundary 100; set the boundary at or above the source's largest key, and stop the"
                                + " source creating rows of 'coupon'",
                        "dualwrite.incremental.tables.coupon.new-keys-above: the target holds key 20 at or below the"
                                + " boundary 100, which would be read as the source's; start the target's key generator"
                                + " above the boundary",
                        "dualwrite.incremental.tables.session_token.expires-column: column 'valid_until' does not exist"
                                + " in source table 'SESSION_TOKEN'",
                        "dualwrite.incremental.tables.session_token.expires-column: column 'valid_until' does not exist"
                                + " in target table 'SESSION_TOKEN'",
                        "dualwrite.incremental.tables.session_token.key-column: 'token' is not the whole primary key of"
                                + " source table 'SESSION_TOKEN' (its key: []); merged reads and routes need a"
                                + " single-column key",
                        "dualwrite.incremental.tables.t_order.: table 't_order' is also mapped for mirroring"
                                + " (dualwrite.tables.t_order); a table is either mirrored and backfilled or migrated"
                                + " incrementally, not both"));
    }

    @Test
    void table_refusesTwoSplitsOrNone_namingTheProperties() {
        assertThatThrownBy(() -> ExpiringTable.builder("coupon").keyColumn("id").newKeysAbove(5)
                .createdFrom("created_at", NOW).expiresColumn("expires_at").build())
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("dualwrite.incremental.tables.coupon.new-keys-above and")
                .hasMessageContaining("not both");
        assertThatThrownBy(() -> ExpiringTable.builder("coupon").build())
                .hasMessageContaining("dualwrite.incremental.tables.coupon.key-column")
                .hasMessageContaining("dualwrite.incremental.tables.coupon.expires-column")
                .hasMessageContaining("say how new rows are told from old ones");
        assertThat(List.of(byKey(1).split(), ExpiringTable.builder("c").keyColumn("id").createdFrom("c", NOW)
                .expiresColumn("e").build().split())).containsExactly(ExpiringTable.Split.KEY_BOUNDARY,
                        ExpiringTable.Split.CREATED_FROM);
    }
}
