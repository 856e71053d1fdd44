package io.dualwrite.samples;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.mirror.MirrorMode;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.springframework.aop.aspectj.annotation.AspectJProxyFactory;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.jdbc.datasource.DataSourceTransactionManager;
import org.springframework.transaction.support.TransactionTemplate;

/**
 * The dual-write phase of a migration, end to end on two embedded H2 databases: an order service keeps
 * writing its old store (t_order) while dualwrite mirrors every committed change into the new one
 * (orders, with a renamed column), then the two are compared row by row.
 *
 * <p>Run: {@code ./mvnw -B -q install -DskipTests && ./mvnw -B -q -pl samples exec:java}. Optional
 * arguments: the mirror mode ({@code ASYNC}, {@code SYNC} or {@code OUTBOX}) and the seconds to write.
 */
public final class H2MigrationDemo {

    private H2MigrationDemo() {
    }

    /**
     * Runs the demo.
     *
     * @param args optional: mode, seconds
     * @throws Exception if the demo fails; it exits with status 1 when the stores differ
     */
    public static void main(String[] args) throws Exception {
        MirrorMode mode = args.length > 0 ? MirrorMode.valueOf(args[0].toUpperCase(java.util.Locale.ROOT))
                : MirrorMode.ASYNC;
        int seconds = args.length > 1 ? Integer.parseInt(args[1]) : 5;
        try (HikariDataSource source = pool("jdbc:h2:mem:legacy;DB_CLOSE_DELAY=-1");
                HikariDataSource target = pool("jdbc:h2:mem:orders;DB_CLOSE_DELAY=-1")) {
            new JdbcTemplate(source).execute("CREATE TABLE t_order (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL,"
                    + " status VARCHAR(32) NOT NULL, amount DECIMAL(12,2), gmt_modified TIMESTAMP(3) NOT NULL)");
            new JdbcTemplate(target).execute("CREATE TABLE orders (id BIGINT PRIMARY KEY, user_id BIGINT NOT NULL,"
                    + " status VARCHAR(32) NOT NULL, total DECIMAL(12,2), gmt_modified TIMESTAMP(3) NOT NULL)");

            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order")
                    .targetTable("orders").rename("amount", "total").build()), source, target, false);
            AtomicLong applied = new AtomicLong();
            AtomicLong failures = new AtomicLong();
            EventPublisher events = new EventPublisher().subscribe(event -> {
                if (event instanceof DualWriteEvent.ChangesApplied done) {
                    applied.addAndGet(done.lags().size());
                } else if (event instanceof DualWriteEvent.ApplyFailed) {
                    failures.incrementAndGet();
                }
            });
            Mirror mirror = Mirror.create(MirrorConfig.builder().mode(mode).createOutboxTable(true).build(), tables,
                    source, target, events);
            mirror.start();
            System.out.printf("dualwrite demo: t_order (H2 'legacy') -> orders (H2 'orders'), mode %s, %d s of"
                    + " writes from 4 threads%n", mode, seconds);

            AspectJProxyFactory proxy = new AspectJProxyFactory(new OrderService(source));
            proxy.setProxyTargetClass(true);
            proxy.addAspect(mirror.aspect());
            OrderService orders = proxy.getProxy();
            TransactionTemplate transactions = new TransactionTemplate(new DataSourceTransactionManager(source));
            AtomicLong nextId = new AtomicLong();
            AtomicLong writes = new AtomicLong();
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            ExecutorService threads = Executors.newFixedThreadPool(4);
            for (int t = 0; t < 4; t++) {
                threads.submit(() -> {
                    ThreadLocalRandom random = ThreadLocalRandom.current();
                    while (System.nanoTime() < end) {
                        transactions.executeWithoutResult(status -> {
                            long known = nextId.get();
                            int choice = random.nextInt(10);
                            if (choice < 5 || known == 0) {
                                orders.place(nextId.incrementAndGet(), random.nextLong(1, 500),
                                        BigDecimal.valueOf(random.nextLong(100, 100_000), 2));
                            } else if (choice < 9) {
                                orders.changeStatus(random.nextLong(1, known + 1), random.nextBoolean() ? "PAID" : "SHIPPED");
                            } else {
                                orders.remove(random.nextLong(1, known + 1));
                            }
                        });
                        writes.incrementAndGet();
                    }
                    return null;
                });
            }
            threads.shutdown();
            threads.awaitTermination(seconds + 60L, TimeUnit.SECONDS);
            boolean drained = mirror.awaitDrained(Duration.ofSeconds(30));
            mirror.close();

            long differences = compare(source, target);
            long sourceRows = count(source, "t_order");
            System.out.printf("writes: %,d committed; mirror: %,d keys applied, %d failed attempts, drained: %s%n",
                    writes.get(), applied.get(), failures.get(), drained);
            System.out.printf("rows: legacy.t_order %,d, orders.orders %,d, differences: %d%n", sourceRows,
                    count(target, "orders"), differences);
            System.out.println(differences == 0 && drained ? "OK: the new store matches the old one row for row."
                    : "MISMATCH: see the differences above.");
            if (differences != 0 || !drained) {
                System.exit(1);
            }
        }
    }

    private static long compare(DataSource source, DataSource target) {
        Map<Long, String> left = snapshot(source, "SELECT id, user_id, status, amount, gmt_modified FROM t_order");
        Map<Long, String> right = snapshot(target, "SELECT id, user_id, status, total, gmt_modified FROM orders");
        long differences = 0;
        for (Map.Entry<Long, String> row : left.entrySet()) {
            if (!row.getValue().equals(right.get(row.getKey()))) {
                System.out.println("  differs: " + row.getValue() + " / " + right.get(row.getKey()));
                differences++;
            }
        }
        for (Long id : right.keySet()) {
            if (!left.containsKey(id)) {
                System.out.println("  extra in target: id " + id);
                differences++;
            }
        }
        return differences;
    }

    private static Map<Long, String> snapshot(DataSource dataSource, String sql) {
        Map<Long, String> rows = new java.util.TreeMap<>();
        new JdbcTemplate(dataSource).query(sql, rs -> {
            rows.put(rs.getLong(1), rs.getLong(1) + "|" + rs.getLong(2) + "|" + rs.getString(3) + "|"
                    + rs.getBigDecimal(4) + "|" + rs.getTimestamp(5));
        });
        return rows;
    }

    private static long count(DataSource dataSource, String table) {
        Long count = new JdbcTemplate(dataSource).queryForObject("SELECT COUNT(*) FROM " + table, Long.class);
        return count == null ? 0 : count;
    }

    private static HikariDataSource pool(String url) {
        HikariConfig config = new HikariConfig();
        config.setJdbcUrl(url);
        config.setUsername("sa");
        config.setMaximumPoolSize(12);
        return new HikariDataSource(config);
    }
}
