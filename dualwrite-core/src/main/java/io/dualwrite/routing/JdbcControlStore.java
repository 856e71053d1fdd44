package io.dualwrite.routing;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import javax.sql.DataSource;

/**
 * A control store in two tables of the target database, shared by every instance of the service:
 * {@code dualwrite_control} (one row per migration: the active rules, the pending step and its
 * deadline, a version for compare-and-set) and {@code dualwrite_instance} (one row per live instance:
 * its lease, the version it has acknowledged, and whether it promised to fence itself). Every call runs on
 * its own auto-commit connection but {@link #finishStep}, which is one transaction holding row locks.
 *
 * <p>An instance table created by a version before the promise (issue 16) lacks the {@code fences} column;
 * {@link #open} adds it (every instance found there then counts as not promising, so no step counts it out
 * until it heartbeats again), or names the statement when it may not change the schema. Likewise a control table
 * from before per-user moves (issue 22) lacks the move columns, and {@link #open} adds them.
 *
 * <p>Per-user moves: {@code dualwrite_user_route} holds one row per moved user (routing key, route, the control
 * version that moved it). {@link #finishStep} writes the row in the same transaction as the control row that
 * activates the move, so an instance that reads the new version and then the user's route never sees one without
 * the other.
 */
public final class JdbcControlStore implements ControlStore {

    /** The control table's name. */
    public static final String CONTROL_TABLE = "dualwrite_control";
    /** The instance table's name. */
    public static final String INSTANCE_TABLE = "dualwrite_instance";
    /** The column added to the instance table by issue 16: whether the instance promised to fence itself. */
    static final String FENCES_COLUMN = "fences";
    /** The per-user route table's name (issue 22). */
    public static final String USER_ROUTE_TABLE = "dualwrite_user_route";
    /** The first of the move columns added to the control table by issue 22. */
    static final String MOVE_COLUMN = "move_key";
    private static final int MAX_TEXT = 1000;
    private static final String RULE_COLUMNS = "phase, percent, strategy, allow_list, deny_list, default_route,"
            + " move_key, move_route";
    private static final String PENDING_COLUMNS = "pending_phase, pending_percent, pending_strategy, pending_allow,"
            + " pending_deny, pending_default_route, pending_move_key, pending_move_route";
    /** Columns a rule set takes in the control row. */
    private static final int RULE_WIDTH = 8;

    private final DataSource dataSource;
    private final String migration;

    private JdbcControlStore(DataSource dataSource, String migration) {
        this.dataSource = dataSource;
        this.migration = migration;
    }

    /**
     * Opens the store, creating its tables if allowed, and its row with the initial rules if no
     * instance has yet.
     *
     * @param dataSource the database that holds the tables (the target)
     * @param migration the migration's name, so that one database can serve several
     * @param initial the rules for a migration that has no row yet
     * @param createTables whether missing tables may be created
     * @return the store
     * @throws IllegalStateException if a table is missing and may not be created; the message holds the DDL
     * @throws SQLException if the database cannot be reached
     */
    public static JdbcControlStore open(DataSource dataSource, String migration, RoutingRules initial,
            boolean createTables) throws SQLException {
        Objects.requireNonNull(dataSource, "dataSource");
        Objects.requireNonNull(initial, "initial");
        if (migration == null || migration.isBlank() || migration.length() > 64) {
            throw new IllegalArgumentException("dualwrite.control.migration: a name of 1 to 64 characters is needed, not '"
                    + migration + "'");
        }
        JdbcControlStore store = new JdbcControlStore(dataSource, migration);
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            List<String> missing = new ArrayList<>();
            Optional<TableMetadata> control = TableMetadata.read(connection, CONTROL_TABLE);
            if (control.isEmpty()) {
                missing.add(ddl().get(0));
            } else if (control.get().column(MOVE_COLUMN).isEmpty()) {
                missing.addAll(moveUpgrade());
            }
            Optional<TableMetadata> instances = TableMetadata.read(connection, INSTANCE_TABLE);
            if (instances.isEmpty()) {
                missing.add(ddl().get(1));
            } else if (instances.get().column(FENCES_COLUMN).isEmpty()) {
                missing.add(upgrade());
            }
            if (TableMetadata.read(connection, USER_ROUTE_TABLE).isEmpty()) {
                missing.add(ddl().get(2));
            }
            if (!missing.isEmpty()) {
                if (!createTables) {
                    throw new IllegalStateException("dualwrite.control.store=TABLE needs these tables in the target"
                            + " database, as this version defines them. Create or upgrade them with:\n"
                            + String.join(";\n", missing)
                            + ";\nor set dualwrite.schema.create=true to let dualwrite do it.");
                }
                try (Statement statement = connection.createStatement()) {
                    for (String sql : missing) {
                        try {
                            statement.execute(sql);
                        } catch (SQLException e) {
                            if (!createdMeanwhile(connection, sql)) {
                                throw e;
                            }
                            // Another instance starting at the same time created or upgraded it first.
                        }
                    }
                }
            }
            store.insertIfAbsent(connection, ControlState.initial(initial));
        }
        return store;
    }

    /** Whether the table or column {@code sql} creates is there now, made by someone else since we looked. */
    private static boolean createdMeanwhile(Connection connection, String sql) throws SQLException {
        if (sql.equals(upgrade())) {
            return TableMetadata.read(connection, INSTANCE_TABLE).flatMap(t -> t.column(FENCES_COLUMN)).isPresent();
        }
        if (moveUpgrade().contains(sql)) {
            String column = sql.substring(sql.indexOf(" ADD COLUMN ") + 12).split(" ")[0];
            return TableMetadata.read(connection, CONTROL_TABLE).flatMap(t -> t.column(column)).isPresent();
        }
        String table = sql.startsWith("CREATE TABLE " + CONTROL_TABLE + " ") ? CONTROL_TABLE
                : sql.startsWith("CREATE TABLE " + USER_ROUTE_TABLE + " ") ? USER_ROUTE_TABLE : INSTANCE_TABLE;
        return TableMetadata.read(connection, table).isPresent();
    }

    /**
     * @return the statement that upgrades an instance table created before issue 16: it adds the
     *     {@code fences} column, every existing instance not promising
     */
    public static String upgrade() {
        return "ALTER TABLE " + INSTANCE_TABLE + " ADD COLUMN " + FENCES_COLUMN + " SMALLINT DEFAULT 0 NOT NULL";
    }

    /**
     * @return the statements that upgrade a control table created before per-user moves (issue 22): they add
     *     the columns of the active and the pending move, empty
     */
    public static List<String> moveUpgrade() {
        return List.of("ALTER TABLE " + CONTROL_TABLE + " ADD COLUMN move_key VARCHAR(" + UserRouteTable.MAX_KEY + ")",
                "ALTER TABLE " + CONTROL_TABLE + " ADD COLUMN move_route VARCHAR(16)",
                "ALTER TABLE " + CONTROL_TABLE + " ADD COLUMN pending_move_key VARCHAR(" + UserRouteTable.MAX_KEY + ")",
                "ALTER TABLE " + CONTROL_TABLE + " ADD COLUMN pending_move_route VARCHAR(16)");
    }

    /**
     * @return the DDL of the control, instance and user-route tables; the types are common to MariaDB,
     *     PostgreSQL and H2
     */
    public static List<String> ddl() {
        return List.of("CREATE TABLE " + CONTROL_TABLE + " (\n"
                + "  migration VARCHAR(64) NOT NULL PRIMARY KEY,\n"
                + "  version BIGINT NOT NULL,\n"
                + ruleColumns("") + ruleColumns("pending_")
                + "  deadline_ms BIGINT,\n"
                + "  changed_by VARCHAR(128),\n"
                + "  message VARCHAR(" + MAX_TEXT + "),\n"
                + "  updated_ms BIGINT NOT NULL\n"
                + ")",
                "CREATE TABLE " + INSTANCE_TABLE + " (\n"
                + "  migration VARCHAR(64) NOT NULL,\n"
                + "  instance_id VARCHAR(128) NOT NULL,\n"
                + "  acknowledged BIGINT NOT NULL,\n"
                + "  lease_until_ms BIGINT NOT NULL,\n"
                + "  " + FENCES_COLUMN + " SMALLINT DEFAULT 0 NOT NULL,\n"
                + "  PRIMARY KEY (migration, instance_id)\n"
                + ")",
                "CREATE TABLE " + USER_ROUTE_TABLE + " (\n"
                + "  migration VARCHAR(64) NOT NULL,\n"
                + "  routing_key VARCHAR(" + UserRouteTable.MAX_KEY + ") NOT NULL,\n"
                + "  route VARCHAR(16) NOT NULL,\n"
                + "  moved_version BIGINT NOT NULL,\n"
                + "  moved_by VARCHAR(128),\n"
                + "  moved_ms BIGINT NOT NULL,\n"
                + "  PRIMARY KEY (migration, routing_key)\n"
                + ")");
    }

    private static String ruleColumns(String prefix) {
        String list = prefix.isEmpty() ? "_list" : "";
        return "  " + prefix + "phase VARCHAR(16),\n  " + prefix + "percent INT,\n  " + prefix + "strategy VARCHAR(16),\n  "
                + prefix + "allow" + list + " VARCHAR(2000),\n  " + prefix + "deny" + list + " VARCHAR(2000),\n  "
                + prefix + "default_route VARCHAR(16),\n  " + prefix + "move_key VARCHAR(" + UserRouteTable.MAX_KEY
                + "),\n  " + prefix + "move_route VARCHAR(16),\n";
    }

    private void insertIfAbsent(Connection connection, ControlState state) throws SQLException {
        if (read(connection) != null) {
            return;
        }
        try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + CONTROL_TABLE
                + " (migration, version, " + RULE_COLUMNS + ", changed_by, message, updated_ms)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, migration);
            insert.setLong(2, state.version());
            bindRules(insert, 3, state.active());
            insert.setString(3 + RULE_WIDTH, state.changedBy());
            insert.setString(4 + RULE_WIDTH, clip(state.message()));
            insert.setLong(5 + RULE_WIDTH, System.currentTimeMillis());
            insert.executeUpdate();
        } catch (SQLException e) {
            if (!Dialect.of(connection).isDuplicateKey(e)) {
                throw e;
            }
            // Another instance created it first; its initial rules stand.
        }
    }

    @Override
    public ControlState read() throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            ControlState state = read(connection);
            if (state == null) {
                throw new IllegalStateException(CONTROL_TABLE + " has no row for migration '" + migration
                        + "'; it was deleted while the service ran");
            }
            return state;
        }
    }

    private ControlState read(Connection connection) throws SQLException {
        return read(connection, "");
    }

    /** @param lock {@code ""}, or {@code " FOR UPDATE"} to hold the row until the transaction ends */
    private ControlState read(Connection connection, String lock) throws SQLException {
        try (PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT version, " + RULE_COLUMNS
                + ", " + PENDING_COLUMNS + ", deadline_ms, changed_by, message FROM " + CONTROL_TABLE
                + " WHERE migration = ?" + lock)) {
            select.setString(1, migration);
            try (ResultSet rs = select.executeQuery()) {
                if (!rs.next()) {
                    return null;
                }
                int pendingAt = 2 + RULE_WIDTH;
                int deadlineAt = pendingAt + RULE_WIDTH;
                RoutingRules active = rules(rs, 2);
                RoutingRules pending = rs.getString(pendingAt) == null ? null : rules(rs, pendingAt);
                long deadline = rs.getLong(deadlineAt);
                return new ControlState(rs.getLong(1), active, pending,
                        pending == null ? null : Instant.ofEpochMilli(deadline), rs.getString(deadlineAt + 1),
                        rs.getString(deadlineAt + 2));
            }
        }
    }

    @Override
    public boolean compareAndSet(long expectedVersion, ControlState next) throws SQLException {
        if (next.version() != expectedVersion + 1) {
            return false;
        }
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            return update(connection, expectedVersion, next);
        }
    }

    /**
     * One transaction: the control row is locked first, then every instance row of the migration, in id
     * order (so two instances finishing the same step queue on the control row, and never deadlock); a
     * heartbeat's {@code UPDATE} of a locked instance row waits for the commit. A new instance's first
     * heartbeat is an {@code INSERT} that need not wait: it reads the state after registering, and finds the
     * step still pending or already decided, never a decision made without it that it cannot see.
     */
    @Override
    public ControlState finishStep(long expectedVersion, Function<List<InstanceStatus>, ControlState> decide)
            throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(false);
            try {
                ControlState current = read(connection, " FOR UPDATE");
                ControlState next = null;
                if (current != null && current.version() == expectedVersion) {
                    next = decide.apply(instances(connection, " FOR UPDATE"));
                }
                if (next == null || next.version() != expectedVersion + 1 || !update(connection, expectedVersion, next)) {
                    connection.rollback();
                    return null;
                }
                RoutingRules.UserMove move = current.moveActivatedBy(next);
                if (move != null) {
                    writeUserRoute(connection, move, next);
                }
                connection.commit();
                return next;
            } catch (SQLException | RuntimeException e) {
                connection.rollback();
                throw e;
            } finally {
                connection.setAutoCommit(true);
            }
        }
    }

    private boolean update(Connection connection, long expectedVersion, ControlState next) throws SQLException {
        try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + CONTROL_TABLE
                + " SET version = ?, phase = ?, percent = ?, strategy = ?, allow_list = ?, deny_list = ?,"
                + " default_route = ?, move_key = ?, move_route = ?, pending_phase = ?, pending_percent = ?,"
                + " pending_strategy = ?, pending_allow = ?, pending_deny = ?, pending_default_route = ?,"
                + " pending_move_key = ?, pending_move_route = ?, deadline_ms = ?,"
                + " changed_by = ?, message = ?, updated_ms = ? WHERE migration = ? AND version = ?")) {
            update.setLong(1, next.version());
            bindRules(update, 2, next.active());
            bindRules(update, 2 + RULE_WIDTH, next.pending());
            int at = 2 + 2 * RULE_WIDTH;
            if (next.deadline() == null) {
                update.setNull(at, java.sql.Types.BIGINT);
            } else {
                update.setLong(at, next.deadline().toEpochMilli());
            }
            update.setString(at + 1, clip(next.changedBy()));
            update.setString(at + 2, clip(next.message()));
            update.setLong(at + 3, System.currentTimeMillis());
            update.setString(at + 4, migration);
            update.setLong(at + 5, expectedVersion);
            return update.executeUpdate() == 1;
        }
    }

    /** Replaces the moved user's row: delete and insert, the same on every dialect, inside the caller's transaction. */
    private void writeUserRoute(Connection connection, RoutingRules.UserMove move, ControlState next)
            throws SQLException {
        try (PreparedStatement delete = connection.prepareStatement(Dialect.MARKER + " DELETE FROM " + USER_ROUTE_TABLE
                + " WHERE migration = ? AND routing_key = ?")) {
            delete.setString(1, migration);
            delete.setString(2, move.key());
            delete.executeUpdate();
        }
        try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + USER_ROUTE_TABLE
                + " (migration, routing_key, route, moved_version, moved_by, moved_ms) VALUES (?, ?, ?, ?, ?, ?)")) {
            insert.setString(1, migration);
            insert.setString(2, move.key());
            insert.setString(3, move.route().name());
            insert.setLong(4, next.version());
            insert.setString(5, next.changedBy().length() > 128 ? next.changedBy().substring(0, 128) : next.changedBy());
            insert.setLong(6, System.currentTimeMillis());
            insert.executeUpdate();
        }
    }

    @Override
    public Optional<Route> userRoute(String key) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT route FROM "
                        + USER_ROUTE_TABLE + " WHERE migration = ? AND routing_key = ?")) {
            select.setString(1, migration);
            select.setString(2, key);
            try (ResultSet rs = select.executeQuery()) {
                return rs.next() ? Optional.of(Route.valueOf(rs.getString(1))) : Optional.empty();
            }
        }
    }

    @Override
    public boolean routesUsersTo(Route route) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT 1 FROM "
                        + USER_ROUTE_TABLE + " WHERE migration = ? AND route = ?")) {
            select.setMaxRows(1);
            select.setString(1, migration);
            select.setString(2, route.name());
            try (ResultSet rs = select.executeQuery()) {
                return rs.next();
            }
        }
    }

    @Override
    public void heartbeat(String instanceId, long acknowledged, Instant leaseUntil, boolean fences)
            throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            connection.setAutoCommit(true);
            try (PreparedStatement update = connection.prepareStatement(Dialect.MARKER + " UPDATE " + INSTANCE_TABLE
                    + " SET acknowledged = ?, lease_until_ms = ?, " + FENCES_COLUMN + " = ?"
                    + " WHERE migration = ? AND instance_id = ?")) {
                update.setLong(1, acknowledged);
                update.setLong(2, leaseUntil.toEpochMilli());
                update.setInt(3, fences ? 1 : 0);
                update.setString(4, migration);
                update.setString(5, instanceId);
                if (update.executeUpdate() == 1) {
                    return;
                }
            }
            try (PreparedStatement insert = connection.prepareStatement(Dialect.MARKER + " INSERT INTO " + INSTANCE_TABLE
                    + " (migration, instance_id, acknowledged, lease_until_ms, " + FENCES_COLUMN + ")"
                    + " VALUES (?, ?, ?, ?, ?)")) {
                insert.setString(1, migration);
                insert.setString(2, instanceId);
                insert.setLong(3, acknowledged);
                insert.setLong(4, leaseUntil.toEpochMilli());
                insert.setInt(5, fences ? 1 : 0);
                insert.executeUpdate();
            }
        }
    }

    @Override
    public List<InstanceStatus> instances() throws SQLException {
        try (Connection connection = dataSource.getConnection()) {
            return instances(connection, "");
        }
    }

    /** @param lock {@code ""}, or {@code " FOR UPDATE"} to hold the rows until the transaction ends */
    private List<InstanceStatus> instances(Connection connection, String lock) throws SQLException {
        List<InstanceStatus> result = new ArrayList<>();
        try (PreparedStatement select = connection.prepareStatement(Dialect.MARKER + " SELECT instance_id,"
                + " acknowledged, lease_until_ms, " + FENCES_COLUMN + " FROM " + INSTANCE_TABLE + " WHERE migration = ?"
                + " ORDER BY instance_id" + lock)) {
            select.setString(1, migration);
            try (ResultSet rs = select.executeQuery()) {
                while (rs.next()) {
                    result.add(new InstanceStatus(rs.getString(1), rs.getLong(2), Instant.ofEpochMilli(rs.getLong(3)),
                            rs.getInt(4) != 0));
                }
            }
        }
        return result;
    }

    @Override
    public void leave(String instanceId) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement delete = connection.prepareStatement(Dialect.MARKER + " DELETE FROM " + INSTANCE_TABLE
                        + " WHERE migration = ? AND instance_id = ?")) {
            connection.setAutoCommit(true);
            delete.setString(1, migration);
            delete.setString(2, instanceId);
            delete.executeUpdate();
        }
    }

    @Override
    public boolean drop(String instanceId, Instant lapsedBefore) throws SQLException {
        try (Connection connection = dataSource.getConnection();
                PreparedStatement delete = connection.prepareStatement(Dialect.MARKER + " DELETE FROM " + INSTANCE_TABLE
                        + " WHERE migration = ? AND instance_id = ? AND lease_until_ms <= ?")) {
            connection.setAutoCommit(true);
            delete.setString(1, migration);
            delete.setString(2, instanceId);
            delete.setLong(3, lapsedBefore.toEpochMilli());
            return delete.executeUpdate() == 1;
        }
    }

    private static void bindRules(PreparedStatement statement, int first, RoutingRules rules) throws SQLException {
        if (rules == null) {
            for (int i = 0; i < RULE_WIDTH; i++) {
                statement.setNull(first + i, i == 1 ? java.sql.Types.INTEGER : java.sql.Types.VARCHAR);
            }
            return;
        }
        statement.setString(first, rules.phase().name());
        statement.setInt(first + 1, rules.percent());
        statement.setString(first + 2, rules.strategy().name());
        statement.setString(first + 3, join(rules.allow()));
        statement.setString(first + 4, join(rules.deny()));
        statement.setString(first + 5, rules.defaultRoute().name());
        statement.setString(first + 6, rules.move() == null ? null : rules.move().key());
        statement.setString(first + 7, rules.move() == null ? null : rules.move().route().name());
    }

    private static RoutingRules rules(ResultSet rs, int first) throws SQLException {
        return new RoutingRules(Phase.parse(rs.getString(first)), rs.getInt(first + 1),
                RoutingStrategy.valueOf(rs.getString(first + 2)), split(rs.getString(first + 3)),
                split(rs.getString(first + 4)), Route.valueOf(rs.getString(first + 5)),
                rs.getString(first + 6) == null ? null
                        : new RoutingRules.UserMove(rs.getString(first + 6), Route.valueOf(rs.getString(first + 7))));
    }

    private static String join(Set<String> keys) {
        String joined = String.join("\n", keys);
        if (joined.length() > 2000) {
            throw new IllegalArgumentException("dualwrite.routing.allow/deny: the lists hold " + joined.length()
                    + " characters, more than the control table's 2000; route large groups by percent instead");
        }
        return joined;
    }

    private static Set<String> split(String text) {
        if (text == null || text.isEmpty()) {
            return Set.of();
        }
        return Set.copyOf(Arrays.asList(text.split("\n")));
    }

    private static String clip(String text) {
        return text == null || text.length() <= MAX_TEXT ? text : text.substring(0, MAX_TEXT - 3) + "...";
    }
}
