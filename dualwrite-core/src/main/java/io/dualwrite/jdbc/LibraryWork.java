package io.dualwrite.jdbc;

/**
 * Marks the statements the library runs for itself (a mirror apply, a backfill chunk) on the current
 * thread. Their lock conflicts are expected and retried — an apply reads under a share lock that fails
 * at once when a writer holds the row — yet a driver may log each one as a warning: MariaDB Connector/J
 * logs every error packet at WARN, dozens a minute under write load. A logging filter asks
 * {@link #inProgress()} to tell the library's own conflicts from the application's (the starter installs
 * one for Logback).
 */
public final class LibraryWork {

    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);

    private LibraryWork() {
    }

    /** @return whether the current thread is running the library's own statements */
    public static boolean inProgress() {
        return DEPTH.get()[0] > 0;
    }

    /**
     * Marks the current thread until the returned scope is closed; scopes nest.
     *
     * @return the scope, to close in a try-with-resources
     */
    public static Scope enter() {
        DEPTH.get()[0]++;
        return () -> DEPTH.get()[0]--;
    }

    /** The span of the library's own statements; closing it ends the mark. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
