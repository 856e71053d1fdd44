package io.dualwrite.ids;

import io.dualwrite.jdbc.Dialect;
import io.dualwrite.jdbc.TableMetadata;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The counter a store draws a table's generated ids from, in its own words: a PostgreSQL sequence (a
 * {@code serial} column's or an identity column's, found with {@code pg_get_serial_sequence}), the
 * {@code AUTO_INCREMENT} counter of a MariaDB or MySQL table, an H2 identity column. Reads what the next
 * generated id would be, without drawing one, and moves it.
 *
 * <p>The one difference that shapes every strategy: an insert with an explicit id moves MariaDB's counter
 * past that id ({@link #followsExplicitIds()}), never a sequence. So when the mirror copies a row with a
 * high id into a MariaDB table, that table's next generated id follows it.
 */
abstract class IdCounter {

    /** A quoted or plain name as {@code pg_get_serial_sequence} prints it, optionally schema-qualified. */
    private static final Pattern SEQUENCE_NAME = Pattern.compile(
            "(\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$]*)(\\.(\"(?:[^\"]|\"\")+\"|[A-Za-z_][A-Za-z0-9_$]*))?");

    /**
     * A counter as read at one moment.
     *
     * @param next the id the next insert without an id would get
     * @param increment the step between generated ids
     * @param cap the highest id the counter will hand out (a sequence's {@code MAXVALUE}); the column type's
     *     highest value when the counter has no cap of its own
     * @param typeMax the highest value the column and its counter can hold
     * @param maxId the highest id stored in the table, or 0 when it is empty
     */
    record Reading(long next, long increment, long cap, long typeMax, long maxId) {

        /** @return whether the counter stops before the column type does: a range given to it */
        boolean capped() {
            return cap < typeMax;
        }

        /** @return the lowest id that neither the table holds nor the counter has handed out */
        long free() {
            return Math.max(next, maxId + 1);
        }
    }

    final Dialect dialect;
    final TableMetadata table;
    final String column;

    IdCounter(Dialect dialect, TableMetadata table, String column) {
        this.dialect = dialect;
        this.table = table;
        this.column = column;
    }

    /**
     * Finds the counter behind a column.
     *
     * @param connection a connection to the table's store
     * @param dialect the store's dialect
     * @param table the table
     * @param column the column's stored name
     * @return the counter, or empty if the store does not generate the column's values
     * @throws SQLException if the store's catalog cannot be read
     */
    static Optional<IdCounter> find(Connection connection, Dialect dialect, TableMetadata table, String column)
            throws SQLException {
        return switch (dialect.product()) {
            case POSTGRESQL -> Postgres.find(connection, dialect, table, column);
            case MYSQL, MARIADB -> MariaDb.find(connection, dialect, table, column);
            case H2 -> H2.find(connection, dialect, table, column);
        };
    }

    /** @return whether an insert with an explicit id moves this counter past it */
    abstract boolean followsExplicitIds();

    /**
     * @param connection a connection to the store
     * @return the counter now
     * @throws SQLException if it cannot be read
     */
    abstract Reading read(Connection connection) throws SQLException;

    /**
     * Sets the counter. A counter is never moved back: {@code next} below the id it would hand out now is
     * left alone (the increment and cap still change).
     *
     * @param connection a connection to the store
     * @param next the id the next insert should get, or 0 to leave the position
     * @param increment the step between ids
     * @param cap the highest id to hand out, or 0 for none but the type's
     * @throws SQLException if the store refuses
     * @throws IllegalStateException if the store cannot do it (a cap or an increment on MariaDB)
     */
    abstract void set(Connection connection, long next, long increment, long cap) throws SQLException;

    /** @return the table and column, for messages */
    String describe() {
        return table.name() + "." + column + " (" + dialect.product().name().toLowerCase(Locale.ROOT) + ")";
    }

    long maxId(Connection connection) throws SQLException {
        try (Statement statement = connection.createStatement();
                ResultSet rs = statement.executeQuery(Dialect.MARKER + " SELECT MAX(" + dialect.quote(column) + ") FROM "
                        + dialect.tableName(table))) {
            rs.next();
            return rs.getLong(1);
        }
    }

    /**
     * The largest id below a bound: for the high store after its counter moved to {@code bound}, the ids it
     * handed out before the move, leaving out the inserts that already took the new range.
     *
     * @param connection a connection to the store
     * @param bound the first id of the new range
     * @return the largest id below it, or 0 if there is none
     * @throws SQLException if the table cannot be read
     */
    long maxIdBelow(Connection connection, long bound) throws SQLException {
        try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT MAX("
                + dialect.quote(column) + ") FROM " + dialect.tableName(table) + " WHERE " + dialect.quote(column)
                + " < ?")) {
            statement.setLong(1, bound);
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    static long typeMax(String typeName) {
        String type = typeName.toLowerCase(Locale.ROOT);
        boolean unsigned = type.contains("unsigned");
        if (type.startsWith("bigint") || type.startsWith("int8") || type.startsWith("bigserial")
                || type.startsWith("numeric") || type.startsWith("decimal")) {
            return Long.MAX_VALUE;
        }
        if (type.startsWith("mediumint")) {
            return unsigned ? 16_777_215L : 8_388_607L;
        }
        if (type.startsWith("smallint") || type.startsWith("int2") || type.startsWith("smallserial")) {
            return unsigned ? 65_535L : Short.MAX_VALUE;
        }
        if (type.startsWith("tinyint")) {
            return unsigned ? 255L : Byte.MAX_VALUE;
        }
        return unsigned ? 4_294_967_295L : Integer.MAX_VALUE;
    }

    private static void execute(Connection connection, String sql) throws SQLException {
        try (Statement statement = connection.createStatement()) {
            statement.execute(Dialect.MARKER + " " + sql);
        }
    }

    /** A {@code serial} or identity column: its sequence, named by {@code pg_get_serial_sequence}. */
    static final class Postgres extends IdCounter {

        private final String sequence;

        private Postgres(Dialect dialect, TableMetadata table, String column, String sequence) {
            super(dialect, table, column);
            this.sequence = sequence;
        }

        static Optional<IdCounter> find(Connection connection, Dialect dialect, TableMetadata table, String column)
                throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement(
                    Dialect.MARKER + " SELECT pg_get_serial_sequence(?, ?)")) {
                statement.setString(1, dialect.tableName(table));
                statement.setString(2, column);
                try (ResultSet rs = statement.executeQuery()) {
                    String name = rs.next() ? rs.getString(1) : null;
                    if (name == null) {
                        return Optional.empty();
                    }
                    if (!SEQUENCE_NAME.matcher(name).matches()) {
                        throw new IllegalStateException("dualwrite.ids: the sequence of " + table.name() + "." + column
                                + " is named '" + name + "', which dualwrite does not put into SQL");
                    }
                    return Optional.of(new Postgres(dialect, table, column, name));
                }
            }
        }

        @Override
        boolean followsExplicitIds() {
            return false;
        }

        @Override
        Reading read(Connection connection) throws SQLException {
            long increment;
            long cap;
            long typeMax;
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT seqincrement,"
                    + " seqmax, format_type(seqtypid, NULL) FROM pg_sequence WHERE seqrelid = CAST(? AS regclass)")) {
                statement.setString(1, sequence);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    increment = rs.getLong(1);
                    cap = rs.getLong(2);
                    typeMax = typeMax(rs.getString(3));
                }
            }
            long next;
            // last_value is the restart value until nextval is first called (is_called false).
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery(Dialect.MARKER + " SELECT last_value, is_called FROM "
                            + sequence)) {
                rs.next();
                next = rs.getBoolean(2) ? rs.getLong(1) + increment : rs.getLong(1);
            }
            return new Reading(next, increment, cap, typeMax, maxId(connection));
        }

        @Override
        void set(Connection connection, long next, long increment, long cap) throws SQLException {
            Reading now = read(connection);
            StringBuilder sql = new StringBuilder("ALTER SEQUENCE ").append(sequence)
                    .append(" INCREMENT BY ").append(increment)
                    .append(cap == 0 ? " NO MAXVALUE" : " MAXVALUE " + cap);
            if (next > now.next()) {
                sql.append(" RESTART WITH ").append(next);
            }
            execute(connection, sql.toString());
        }
    }

    /** A MariaDB or MySQL {@code AUTO_INCREMENT} column: the table's counter, which follows explicit ids. */
    static final class MariaDb extends IdCounter {

        /** How often the DDL asks for the table's metadata lock before it gives up. */
        static final int ALTER_ATTEMPTS = 100;
        private static final long ALTER_PAUSE_MILLIS = 50;
        private static final int ER_LOCK_WAIT_TIMEOUT = 1205;
        private static final int ER_LOCK_DEADLOCK = 1213;

        private final long typeMax;

        private MariaDb(Dialect dialect, TableMetadata table, String column, long typeMax) {
            super(dialect, table, column);
            this.typeMax = typeMax;
        }

        static Optional<IdCounter> find(Connection connection, Dialect dialect, TableMetadata table, String column)
                throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT EXTRA, COLUMN_TYPE"
                    + " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?"
                    + " AND COLUMN_NAME = ?")) {
                statement.setString(1, table.schema());
                statement.setString(2, table.name());
                statement.setString(3, column);
                try (ResultSet rs = statement.executeQuery()) {
                    if (!rs.next() || rs.getString(1) == null
                            || !rs.getString(1).toLowerCase(Locale.ROOT).contains("auto_increment")) {
                        return Optional.empty();
                    }
                    return Optional.of(new MariaDb(dialect, table, column, typeMax(rs.getString(2))));
                }
            }
        }

        @Override
        boolean followsExplicitIds() {
            return true;
        }

        @Override
        Reading read(Connection connection) throws SQLException {
            long next;
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT AUTO_INCREMENT"
                    + " FROM information_schema.TABLES WHERE TABLE_SCHEMA = COALESCE(?, DATABASE()) AND TABLE_NAME = ?")) {
                statement.setString(1, table.schema());
                statement.setString(2, table.name());
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    next = rs.getLong(1);
                }
            }
            long increment;
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery(Dialect.MARKER + " SELECT @@auto_increment_increment")) {
                rs.next();
                increment = rs.getLong(1);
            }
            return new Reading(next, increment, typeMax, typeMax, maxId(connection));
        }

        /**
         * {@code ALTER TABLE ... AUTO_INCREMENT}. It takes the table's metadata lock, so it runs only while no
         * transaction has the table open: once it returns, every id handed out before it is in a committed row
         * or gone with a rollback.
         *
         * <p>On MariaDB it asks for that lock with {@code NOWAIT} and tries again a moment later, for at most
         * {@link #ALTER_ATTEMPTS} attempts: a DDL that waits for the lock queues an exclusive request, and an
         * application transaction that read the table and then writes it waits behind that request while the
         * DDL waits for the transaction's read; MariaDB breaks that cycle by failing the application's statement
         * ({@code Deadlock found when trying to get lock}, seen in the clinic sample's step into RAMP). The library
         * gives way instead, as its applies do. MySQL has no {@code NOWAIT} for DDL, so there the statement waits.
         *
         * @throws SQLException if the table stayed busy for every attempt, or the store refused
         */
        @Override
        void set(Connection connection, long next, long increment, long cap) throws SQLException {
            if (cap != 0) {
                throw new IllegalStateException("a MariaDB AUTO_INCREMENT counter has no cap: " + describe());
            }
            if (next <= read(connection).next()) {
                return;
            }
            if (dialect.product() != Dialect.Product.MARIADB) {
                execute(connection, "ALTER TABLE " + dialect.tableName(table) + " AUTO_INCREMENT = " + next);
                return;
            }
            String alter = "ALTER TABLE " + dialect.tableName(table) + " NOWAIT AUTO_INCREMENT = " + next;
            for (int attempt = 1; ; attempt++) {
                try {
                    execute(connection, alter);
                    return;
                } catch (SQLException busy) {
                    if (!lockNotGranted(busy)) {
                        throw busy;
                    }
                    if (attempt == ALTER_ATTEMPTS) {
                        throw new SQLException("dualwrite could not move the AUTO_INCREMENT counter of " + describe()
                                + ": the table had open transactions at each of " + ALTER_ATTEMPTS + " attempts"
                                + " over about " + ALTER_ATTEMPTS * ALTER_PAUSE_MILLIS / 1000 + " s, and the library"
                                + " does not make the application's transactions wait for its DDL. Try the step again"
                                + " when the table is less busy", busy.getSQLState(), busy.getErrorCode(), busy);
                    }
                    try {
                        Thread.sleep(ALTER_PAUSE_MILLIS);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new SQLException("interrupted while moving the counter of " + describe(), e);
                    }
                }
            }
        }

        /** MariaDB's answers when NOWAIT found the metadata lock taken. */
        private static boolean lockNotGranted(SQLException e) {
            return e.getErrorCode() == ER_LOCK_WAIT_TIMEOUT || e.getErrorCode() == ER_LOCK_DEADLOCK;
        }

        /**
         * @param connection a connection from the pool the application inserts through
         * @return {@code auto_increment_increment} and {@code auto_increment_offset} of that session
         * @throws SQLException if they cannot be read
         */
        static long[] sessionSeries(Connection connection) throws SQLException {
            try (Statement statement = connection.createStatement();
                    ResultSet rs = statement.executeQuery(Dialect.MARKER
                            + " SELECT @@session.auto_increment_increment, @@session.auto_increment_offset")) {
                rs.next();
                return new long[] {rs.getLong(1), rs.getLong(2)};
            }
        }
    }

    /** An H2 identity column ({@code GENERATED ... AS IDENTITY}, {@code AUTO_INCREMENT}). */
    static final class H2 extends IdCounter {

        private H2(Dialect dialect, TableMetadata table, String column) {
            super(dialect, table, column);
        }

        static Optional<IdCounter> find(Connection connection, Dialect dialect, TableMetadata table, String column)
                throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT IS_IDENTITY FROM"
                    + " INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA = COALESCE(?, SCHEMA()) AND TABLE_NAME = ?"
                    + " AND COLUMN_NAME = ?")) {
                statement.setString(1, table.schema());
                statement.setString(2, table.name());
                statement.setString(3, column);
                try (ResultSet rs = statement.executeQuery()) {
                    return rs.next() && "YES".equalsIgnoreCase(rs.getString(1))
                            ? Optional.of(new H2(dialect, table, column)) : Optional.empty();
                }
            }
        }

        @Override
        boolean followsExplicitIds() {
            return false;
        }

        @Override
        Reading read(Connection connection) throws SQLException {
            try (PreparedStatement statement = connection.prepareStatement(Dialect.MARKER + " SELECT IDENTITY_BASE,"
                    + " IDENTITY_INCREMENT, IDENTITY_MAXIMUM, DATA_TYPE FROM INFORMATION_SCHEMA.COLUMNS WHERE TABLE_SCHEMA ="
                    + " COALESCE(?, SCHEMA()) AND TABLE_NAME = ? AND COLUMN_NAME = ?")) {
                statement.setString(1, table.schema());
                statement.setString(2, table.name());
                statement.setString(3, column);
                try (ResultSet rs = statement.executeQuery()) {
                    rs.next();
                    return new Reading(rs.getLong(1), rs.getLong(2), rs.getLong(3), typeMax(rs.getString(4)),
                            maxId(connection));
                }
            }
        }

        @Override
        void set(Connection connection, long next, long increment, long cap) throws SQLException {
            Reading now = read(connection);
            StringBuilder sql = new StringBuilder("ALTER TABLE ").append(dialect.tableName(table))
                    .append(" ALTER COLUMN ").append(dialect.quote(column));
            if (next > now.next()) {
                sql.append(" RESTART WITH ").append(next);
            }
            sql.append(" SET INCREMENT BY ").append(increment)
                    .append(cap == 0 ? " SET NO MAXVALUE" : " SET MAXVALUE " + cap);
            execute(connection, sql.toString());
        }
    }
}
