package io.dualwrite.jdbc;

import java.sql.BatchUpdateException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * Describes a failure as the database reported it, for the places that keep a failure as text (the backfill's
 * failure and checkpoint tables, a paused job's reason, the reconciler's report), which are often cut to a
 * column's width.
 *
 * <p>Drivers put the database's own words in different places: pgjdbc reports a failed batch as a
 * {@link BatchUpdateException} whose message starts with the whole statement (bound values and all) and holds
 * the server's error in its next exception; MariaDB Connector/J puts it in the cause. Cut to a thousand
 * characters, the statement alone was left. So the text starts with the SQLSTATE, the vendor code and the
 * server's message, and only then the outer message (the statement), and what went wrong afterwards (a pool
 * that had closed the connection, seen while rolling back) comes last.
 */
public final class SqlErrors {

    /** Deep enough for any driver's chain; a bound in case a chain loops through next exceptions. */
    private static final int MAX_DEPTH = 16;

    private SqlErrors() {
    }

    /**
     * Throws the failure of a task that ran on another thread as the task itself threw it: an
     * {@link SQLException}, a {@link RuntimeException} or an {@link Error} as it is.
     *
     * @param cause the cause of an {@code ExecutionException} or {@code CompletionException}
     * @return for any other cause, an {@link SQLException} wrapping it, for the caller to throw
     * @throws SQLException if the cause is one
     */
    public static SQLException rethrowCause(Throwable cause) throws SQLException {
        if (cause instanceof SQLException sql) {
            throw sql;
        }
        if (cause instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (cause instanceof Error error) {
            throw error;
        }
        return new SQLException(cause);
    }

    /**
     * Describes a failure on one line: {@code SQLSTATE 23514: ERROR: new row for relation "t" violates check
     * constraint "c" ... (BatchUpdateException: Batch entry 0 INSERT ...)}. A failure without an SQL exception
     * in it reads {@code ClassName: message}.
     *
     * @param failure the failure
     * @return the description, without line breaks
     */
    public static String describe(Throwable failure) {
        List<Throwable> chain = chain(failure);
        SQLException database = databaseError(chain);
        StringBuilder text = new StringBuilder();
        if (database == null) {
            text.append(plain(failure));
        } else {
            text.append(codes(database)).append(": ").append(message(database));
            if (database != failure) {
                text.append(" (").append(plain(failure)).append(')');
            }
        }
        for (Throwable later : failure.getSuppressed()) {
            text.append("; then ").append(plain(later));
        }
        return text.toString();
    }

    /**
     * The database's own error: the deepest SQL exception with an SQLSTATE that is not a batch wrapper, as
     * the wrapper repeats the statement; failing that, any with an SQLSTATE; failing that, the first.
     */
    private static SQLException databaseError(List<Throwable> chain) {
        SQLException withState = null;
        SQLException first = null;
        SQLException deepest = null;
        for (Throwable t : chain) {
            if (t instanceof SQLException sql) {
                first = first == null ? sql : first;
                if (sql.getSQLState() != null) {
                    withState = withState == null ? sql : withState;
                    if (!(sql instanceof BatchUpdateException)) {
                        deepest = sql;
                    }
                }
            }
        }
        return deepest != null ? deepest : withState != null ? withState : first;
    }

    /** The failure, its causes and the SQL exceptions chained as next exceptions, each once, outermost first. */
    private static List<Throwable> chain(Throwable failure) {
        Set<Throwable> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Throwable> chain = new ArrayList<>();
        List<Throwable> pending = new ArrayList<>();
        pending.add(failure);
        while (!pending.isEmpty() && chain.size() < MAX_DEPTH) {
            Throwable t = pending.remove(0);
            if (t == null || !seen.add(t)) {
                continue;
            }
            chain.add(t);
            if (t instanceof SQLException sql) {
                pending.add(sql.getNextException());
            }
            pending.add(t.getCause());
        }
        return chain;
    }

    private static String codes(SQLException sql) {
        String state = sql.getSQLState() == null ? "SQLSTATE unknown" : "SQLSTATE " + sql.getSQLState();
        return sql.getErrorCode() == 0 ? state : state + ", error " + sql.getErrorCode();
    }

    private static String plain(Throwable t) {
        String message = message(t);
        return t.getClass().getSimpleName() + (message.isEmpty() ? "" : ": " + message);
    }

    private static String message(Throwable t) {
        String message = t.getMessage();
        return message == null ? "" : message.replaceAll("\\s+", " ").trim();
    }
}
