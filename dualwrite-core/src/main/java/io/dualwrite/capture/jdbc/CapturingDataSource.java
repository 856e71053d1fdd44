package io.dualwrite.capture.jdbc;

import io.dualwrite.capture.ChangeRecorder;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.Phase;
import io.dualwrite.routing.Route;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Objects;
import java.util.function.Supplier;
import javax.sql.DataSource;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Captures writes to mapped tables from the SQL itself, so that no write method needs
 * {@link io.dualwrite.capture.DualWrite}: it wraps one store's {@link DataSource}, reads each
 * statement on a mapped table (once per SQL text, with JSqlParser) and records the keys it writes
 * with the same semantics as the annotation.
 *
 * <pre>{@code
 * DataSource capturing = CapturingDataSource.builder(sourcePool, tables, mirror.recorder())
 *         .side(Route.SOURCE)
 *         .unattributable(UnattributablePolicy.FAIL)
 *         .build();
 * // the application, its JdbcTemplate and its transaction manager all use `capturing`
 * }</pre>
 *
 * <p>Keys come from the values the statement names ({@code WHERE id = ?}, {@code id IN (...)},
 * composite {@code a = ? AND b = ?}, INSERT column lists), from generated keys for inserts that leave
 * the key to the database (requested even when the application did not, and still served to it).
 * An UPDATE or DELETE whose rows a predicate chooses ({@code WHERE status = 'NEW'}) is exact on every
 * dialect and isolation level, although no database here locks a predicate:
 *
 * <table>
 *   <caption>Where a predicate UPDATE's or DELETE's keys come from</caption>
 *   <tr><th>source</th><th>UPDATE</th><th>DELETE</th><th>{@code ... LIMIT n}</th></tr>
 *   <tr><td>PostgreSQL, any isolation</td><td>RETURNING the keys, as generated keys</td>
 *       <td>RETURNING the keys</td><td>(no such syntax)</td></tr>
 *   <tr><td>MariaDB, REPEATABLE READ or READ COMMITTED</td><td>narrowed to the pre-read's keys</td>
 *       <td>narrowed</td><td>narrowed: the rows the pre-read locked</td></tr>
 *   <tr><td>H2</td><td>RETURNING the keys, as generated keys</td><td>narrowed</td><td>narrowed</td></tr>
 * </table>
 *
 * <p>Narrowed means: {@code SELECT key ... FOR UPDATE} with the statement's WHERE clause and values,
 * on the same connection in the same transaction, then the statement run as
 * {@code WHERE (<its predicate>) AND key IN (<the locked keys>)} with the application's values, its
 * update count and results served as the application's. A row another transaction moves into the
 * predicate after the pre-read is then left alone, as if the statement had run at its pre-read, which
 * READ COMMITTED allows; the package documentation gives the argument. PostgreSQL also narrows an
 * UPDATE that sets a key column (RETURNING shows only the new key) and a statement with its own
 * RETURNING. Costs: the pre-read, one more prepared statement per run, a prepared batch run row by
 * row. A predicate statement in a plain {@link java.sql.Statement} batch is unattributable.
 *
 * <p>An UPDATE that sets a key column records the
 * old and the new key. On the {@link Route#TARGET} side the SQL names target tables and keys, which
 * are mapped back to source keys, the form every change takes.
 *
 * <p>Where changes wait and when they are handed on, by who commits the write:
 * <ul>
 * <li>a Spring transaction (an actual one, whose transaction manager holds this connection, also behind
 *     the routing data source's proxy): in its change set; the OUTBOX rows are written just before it
 *     commits, the changes handed on after, dropped on rollback;
 * <li>a raw transaction: kept on the connection until {@code commit()}, which first writes their OUTBOX
 *     rows on the same connection (and rolls back and throws if it cannot), then commits and hands them
 *     on; dropped on {@code rollback()} or on close without commit;
 * <li>autocommit, also under {@code SUPPORTS}, {@code NOT_SUPPORTED} and {@code NEVER}: handed on after
 *     the statement; in OUTBOX mode the statement runs with its outbox rows in a short transaction of
 *     its own, so that a failed outbox write takes the statement back and the application sees the
 *     exception for a write that did not happen.
 * </ul>
 * The transaction manager must use this data source (or one that delegates to it, such as the routing
 * data source), not the pool behind it. The same table, with the annotation's rows, is in the
 * {@linkplain io.dualwrite.capture capture package map}.
 *
 * <p>Statements that name no mapped table pass through: a prepared statement is then the pool's own,
 * unwrapped. Statements on a mapped table whose keys cannot be told follow the
 * {@link UnattributablePolicy}; DDL on a mapped table follows the {@link SchemaChangePolicy} in phases that mirror
 * and runs in the others. The library's own statements (opening with
 * {@link io.dualwrite.jdbc.Dialect#MARKER}) are never captured.
 *
 * <p>Known limits: an upsert ({@code ON DUPLICATE KEY UPDATE}, {@code ON CONFLICT}, {@code REPLACE})
 * that collides on a unique key other than the primary key changes a row whose key the statement does
 * not name; a function called from a SELECT that writes tables is not seen. The reconciler covers both.
 */
public final class CapturingDataSource extends DelegatingDataSource {

    private final CaptureContext context;
    private final Route side;
    private final UnattributablePolicy policy;

    private CapturingDataSource(Builder builder) {
        super(builder.delegate);
        this.side = builder.side;
        this.policy = builder.policy;
        this.context = new CaptureContext(builder.tables, builder.side, builder.recorder, builder.policy,
                builder.schemaChanges, builder.phase, builder.events, builder.maximumCachedStatements);
    }

    /**
     * Starts a builder.
     *
     * @param delegate the physical store's data source (a pool)
     * @param tables the checked table mappings
     * @param recorder where captured changes go, usually {@code mirror.recorder()}
     * @return the builder
     */
    public static Builder builder(DataSource delegate, MappedTables tables, ChangeRecorder recorder) {
        return new Builder(delegate, tables, recorder);
    }

    /**
     * Returns a connection whose statements on mapped tables are captured.
     *
     * @return the connection
     * @throws SQLException if the pool cannot give one
     */
    @Override
    public Connection getConnection() throws SQLException {
        return CapturingConnection.wrap(obtainTargetDataSource().getConnection(), context);
    }

    /**
     * Returns a connection for the given user whose statements on mapped tables are captured.
     *
     * @param username the user
     * @param password the password
     * @return the connection
     * @throws SQLException if the pool cannot give one
     */
    @Override
    public Connection getConnection(String username, String password) throws SQLException {
        return CapturingConnection.wrap(obtainTargetDataSource().getConnection(username, password), context);
    }

    /** @return the store this data source wraps */
    public Route side() {
        return side;
    }

    /** @return what happens to statements whose keys cannot be told */
    public UnattributablePolicy unattributablePolicy() {
        return policy;
    }

    @Override
    public String toString() {
        return "CapturingDataSource[" + side + ", " + policy + ", " + getTargetDataSource() + "]";
    }

    /** Builds a {@link CapturingDataSource}; every setting but the three required ones has a default. */
    public static final class Builder {

        private final DataSource delegate;
        private final MappedTables tables;
        private final ChangeRecorder recorder;
        private Route side = Route.SOURCE;
        private UnattributablePolicy policy = UnattributablePolicy.FAIL;
        private SchemaChangePolicy schemaChanges = SchemaChangePolicy.FAIL;
        private Supplier<Phase> phase = () -> Phase.DUAL_WRITE;
        private EventPublisher events = new EventPublisher();
        private long maximumCachedStatements = 10_000;

        private Builder(DataSource delegate, MappedTables tables, ChangeRecorder recorder) {
            this.delegate = Objects.requireNonNull(delegate, "delegate");
            this.tables = Objects.requireNonNull(tables, "tables");
            this.recorder = Objects.requireNonNull(recorder, "recorder");
        }

        /**
         * Which store the delegate is: on {@link Route#TARGET}, statements name target tables and keys.
         * Default {@link Route#SOURCE}.
         *
         * @param side the store
         * @return this builder
         */
        public Builder side(Route side) {
            this.side = Objects.requireNonNull(side, "side");
            return this;
        }

        /**
         * What to do with statements whose keys cannot be told ({@code dualwrite.capture.unattributable}).
         * Default {@link UnattributablePolicy#FAIL}.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder unattributable(UnattributablePolicy policy) {
            this.policy = Objects.requireNonNull(policy, "dualwrite.capture.unattributable");
            return this;
        }

        /**
         * What to do with DDL on a mapped table in a phase that mirrors ({@code dualwrite.capture.schema-changes}).
         * Default {@link SchemaChangePolicy#FAIL}.
         *
         * @param policy the policy
         * @return this builder
         */
        public Builder schemaChanges(SchemaChangePolicy policy) {
            this.schemaChanges = Objects.requireNonNull(policy, "dualwrite.capture.schema-changes");
            return this;
        }

        /**
         * The migration's phase, asked for each DDL statement on a mapped table: where it does not mirror
         * (SOURCE_ONLY, TARGET_ONLY) such DDL runs, elsewhere {@link #schemaChanges} decides. Give the phase
         * being stepped into while a step into a mirroring phase is pending. Default: always DUAL_WRITE.
         *
         * @param phase supplies the phase in force
         * @return this builder
         */
        public Builder phase(Supplier<Phase> phase) {
            this.phase = Objects.requireNonNull(phase, "phase");
            return this;
        }

        /**
         * Where {@link io.dualwrite.event.DualWriteEvent.UnattributedWrite} goes; default a publisher
         * with no listeners.
         *
         * @param events the publisher
         * @return this builder
         */
        public Builder events(EventPublisher events) {
            this.events = Objects.requireNonNull(events, "events");
            return this;
        }

        /**
         * How many distinct SQL texts keep their analysis; default 10,000.
         *
         * @param maximum at least 1
         * @return this builder
         * @throws IllegalArgumentException if {@code maximum} is below 1
         */
        public Builder maximumCachedStatements(long maximum) {
            if (maximum < 1) {
                throw new IllegalArgumentException("dualwrite.capture.maximum-cached-statements: must be at least 1,"
                        + " was " + maximum);
            }
            this.maximumCachedStatements = maximum;
            return this;
        }

        /** @return the data source */
        public CapturingDataSource build() {
            return new CapturingDataSource(this);
        }
    }
}
