package io.dualwrite.verify;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.dualwrite.testing.Store;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;

/** The read-ahead threads of a reconcile run end before the run's connections close, however the run ends. */
class ReconcileReadersTest {

    /** The readers' thread names begin so. */
    private static final String READER = "dualwrite-reconcile-";

    /**
     * An application shutting down interrupts the thread that runs the reconcile while the readers read the chunks
     * ahead. The run failed at its next wait for a read, but then gave up waiting for its readers at once, for it was
     * interrupted, and its caller closed the connections under the read still going on.
     */
    @Test
    void aRunInterruptedWhileReadingAhead_waitsForItsReaders_beforeItsConnectionsClose() throws Exception {
        try (VerifyFixture f = new VerifyFixture(Store.H2, Store.H2, "rc_readers")) {
            for (long id = 1; id <= 100; id++) {
                VerifyFixture.insert(f.source, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
                VerifyFixture.insert(f.target, id, "PAID", "1.00", null, "2025-03-01 10:00:00");
            }
            // A read that a thread's interrupt does not cut short, as a driver's socket read; shorter than the second
            // between checkpoints, whose wait for every read ahead would leave none going on when the run fails.
            Watched watched = new Watched(Duration.ofMillis(300));
            AtomicInteger chunks = new AtomicInteger();
            VerifyEvent.Listener interruptAtTheSecondChunk = event -> {
                if (event instanceof VerifyEvent.ChunkReconciled && chunks.incrementAndGet() == 2) {
                    Thread.currentThread().interrupt();
                }
            };
            Reconciler reconciler = Reconciler.create(ReconcileConfig.builder().chunkSize(10).checksums(false)
                    .createTables(true).build(), f.tables(), watched.wrap(f.source.dataSource()),
                    watched.wrap(f.target.dataSource()), interruptAtTheSecondChunk);

            assertThatThrownBy(() -> reconciler.run("t_order")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("interrupted while reading the next chunk");
            int readsGoingOn = watched.readsGoingOn.get();
            assertThat(Thread.interrupted()).as("the run keeps its caller's interrupt").isTrue();
            assertThat(readsGoingOn).as("reads still going on once the run has failed").isZero();
            // A read left going on would reach its closed connection by now.
            Thread.sleep(1_000);
            assertThat(watched.usesAfterClose).isEmpty();
            // Chunk by chunk, a statement per chunk; streamed, a statement per segment of two chunks.
            assertThat(watched.reads.get()).as("the readers had read ahead").isGreaterThan(2);
        }
    }

    /**
     * Data sources whose connections, their statements and result sets note every use after the connection was
     * closed, and whose statements executed on a reader thread take a while.
     */
    private static final class Watched {

        final List<String> usesAfterClose = new CopyOnWriteArrayList<>();
        final AtomicInteger readsGoingOn = new AtomicInteger();
        final AtomicInteger reads = new AtomicInteger();
        private final Duration readerDelay;

        Watched(Duration readerDelay) {
            this.readerDelay = readerDelay;
        }

        DataSource wrap(DataSource real) {
            return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                    (proxy, method, args) -> {
                        Object result = invoke(real, method, args);
                        return result instanceof Connection connection
                                ? watch(connection, Connection.class, new AtomicBoolean()) : result;
                    });
        }

        private Object watch(Object target, Class<?> type, AtomicBoolean connectionClosed) {
            return Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {type}, (proxy, method, args) -> {
                String name = method.getName();
                boolean read = target instanceof Statement && name.startsWith("execute")
                        && Thread.currentThread().getName().startsWith(READER);
                if (read) {
                    readsGoingOn.incrementAndGet();
                    reads.incrementAndGet();
                }
                try {
                    if (read) {
                        long until = System.nanoTime() + readerDelay.toNanos();
                        while (System.nanoTime() < until) {
                            LockSupport.parkNanos(until - System.nanoTime());
                        }
                    }
                    if (connectionClosed.get() && !name.equals("close") && !name.equals("isClosed")) {
                        usesAfterClose.add(type.getSimpleName() + "." + name + " on " + Thread.currentThread().getName());
                    }
                    if (target instanceof Connection && name.equals("close")) {
                        connectionClosed.set(true);
                    }
                    Object result = invoke(target, method, args);
                    for (Class<?> watched : List.of(java.sql.PreparedStatement.class, Statement.class, ResultSet.class)) {
                        if (watched.isInstance(result) && watched == method.getReturnType()) {
                            return watch(result, watched, connectionClosed);
                        }
                    }
                    return result;
                } finally {
                    if (read) {
                        readsGoingOn.decrementAndGet();
                    }
                }
            });
        }

        private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
            try {
                return method.invoke(target, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        }
    }
}
