package io.dualwrite.samples.orders;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.stereotype.Component;

/**
 * Users shopping while the migration runs: several threads, each picking a random user and creating,
 * paying, shipping, cancelling, listing or viewing that user's orders through the service. Every
 * exception the service throws is an application error, counted and kept; a refused business rule
 * (paying a shipped order) is not an error.
 */
@Component
public class LoadGenerator {

    private final OrderService orders;
    private final int threads;
    private final int users;
    private final Duration pause;
    private final AtomicBoolean running = new AtomicBoolean();
    private final List<Thread> workers = new ArrayList<>();
    private final AtomicLong writes = new AtomicLong();
    private final AtomicLong reads = new AtomicLong();
    private final AtomicLong writeErrors = new AtomicLong();
    private final AtomicLong readErrors = new AtomicLong();
    private final ConcurrentLinkedQueue<String> firstErrors = new ConcurrentLinkedQueue<>();
    private volatile boolean viewing = true;

    /**
     * @param orders the service
     * @param threads concurrent users ({@code demo.load.threads})
     * @param users how many users there are ({@code demo.users})
     * @param pause each thread's pause between operations ({@code demo.load.pause}), leaving the cores some
     *     room for the migration's own work
     */
    public LoadGenerator(OrderService orders, @Value("${demo.load.threads:4}") int threads,
            @Value("${demo.users:1000}") int users, @Value("${demo.load.pause:2ms}") Duration pause) {
        this.orders = orders;
        this.threads = threads;
        this.users = users;
        this.pause = pause;
    }

    /** Starts the threads; does nothing if they run. */
    public synchronized void start() {
        if (!running.compareAndSet(false, true)) {
            return;
        }
        workers.clear();
        for (int i = 0; i < threads; i++) {
            Thread worker = new Thread(this::shop, "shopper-" + i);
            worker.setDaemon(true);
            workers.add(worker);
            worker.start();
        }
    }

    /**
     * Stops the threads and waits for their last operation.
     *
     * @throws InterruptedException if interrupted while waiting
     */
    public synchronized void stop() throws InterruptedException {
        running.set(false);
        for (Thread worker : workers) {
            worker.join();
        }
        workers.clear();
    }

    /**
     * Whether users open single orders, the {@code @DualRead} path. A double read of a history row the
     * backfill has not copied yet is confirmed as missing in the target and counts against the ramp guard's
     * mismatch rate for ten minutes; so, as the runbook has operators turn sampling on after the backfill,
     * the scenario lets users open orders only from then on.
     *
     * @param open whether users open single orders
     */
    public void viewOrders(boolean open) {
        this.viewing = open;
    }

    /** @return whether the users are shopping */
    public boolean running() {
        return running.get();
    }

    /** @return what the users did so far */
    public Stats stats() {
        return new Stats(writes.get(), reads.get(), writeErrors.get(), readErrors.get(), List.copyOf(firstErrors));
    }

    private void shop() {
        while (running.get()) {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            long user = 1 + random.nextInt(users);
            int dice = random.nextInt(100);
            boolean write = dice < 30;
            try {
                if (write) {
                    orders.create(user, 100 + random.nextInt(50_000),
                            random.nextInt(5) == 0 ? null : DemoDatabases.address(random));
                    writes.incrementAndGet();
                } else {
                    List<Order> mine = orders.listByUser(user);
                    reads.incrementAndGet();
                    if (!mine.isEmpty()) {
                        Order order = mine.get(random.nextInt(mine.size()));
                        write = dice < 75 || !viewing;
                        if (write) {
                            act(order, random);
                        } else {
                            orders.find(user, order.id());
                            reads.incrementAndGet();
                        }
                    }
                }
            } catch (RuntimeException e) {
                (write ? writeErrors : readErrors).incrementAndGet();
                if (firstErrors.size() < 5) {
                    firstErrors.add(e.toString());
                }
            }
            LockSupport.parkNanos(pause.toNanos());
        }
    }

    private void act(Order order, ThreadLocalRandom random) {
        switch (order.status()) {
            case NEW:
                if (random.nextInt(4) == 0) {
                    orders.cancel(order.userId(), order.id());
                } else {
                    orders.pay(order.userId(), order.id());
                }
                break;
            case PAID:
                if (random.nextInt(5) == 0) {
                    orders.cancel(order.userId(), order.id());
                } else {
                    orders.ship(order.userId(), order.id());
                }
                break;
            default:
                // Shipped and cancelled orders are final; the user just looked.
                return;
        }
        writes.incrementAndGet();
    }

    /**
     * What the users did.
     *
     * @param writes orders created or moved
     * @param reads lists and views
     * @param writeErrors writes that threw
     * @param readErrors reads that threw
     * @param firstErrors the first few errors, as text
     */
    public record Stats(long writes, long reads, long writeErrors, long readErrors, List<String> firstErrors) {
    }
}
