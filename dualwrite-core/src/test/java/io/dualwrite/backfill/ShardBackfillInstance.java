package io.dualwrite.backfill;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.event.DualWriteEvent;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.ChildJvm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * One instance of a service that backfills {@code t_order} from a sharded MariaDB source into PostgreSQL, as its
 * own JVM ({@link ShardBackfillAcrossJvmsTest} starts several and kills or freezes them). It builds the
 * {@link ShardedSource} from the real databases' URLs, runs the backfill to its end and reports on stdout through
 * {@link ChildJvm#report}:
 * <ul>
 * <li>{@code read shard= first= last= rows=}: a chunk read from a shard, before its write (the runner's test
 * hook);</li>
 * <li>{@code chunk shard= range= rows=}: a chunk committed (the {@code ChunkCopied} event);</li>
 * <li>{@code end status= rows= shards=shard:status:rows,...}: the job's progress once this instance's workers
 * stopped, in total and per shard.</li>
 * </ul>
 * Arguments are {@code key=value}: {@code owner}, {@code ds0}, {@code ds1} (MariaDB URLs), {@code tables} (physical
 * tables per database), {@code target} (PostgreSQL URL), {@code user.source}, {@code user.target}, {@code chunk},
 * {@code rate} (rows per second), {@code lease} (milliseconds), and {@code resume=false} to take shards over from
 * their start rather than their checkpoint (a negative control).
 */
public final class ShardBackfillInstance {

    private ShardBackfillInstance() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            options.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        String owner = options.get("owner");
        int tablesPerDatabase = Integer.parseInt(options.get("tables"));
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            ShardedSource.Builder sharded = ShardedSource.builder();
            List<ShardLayout.Shard> nodes = new ArrayList<>();
            for (int d = 0; options.containsKey("ds" + d); d++) {
                HikariDataSource pool = pool(options.get("ds" + d), options.get("user.source"));
                closeables.add(pool);
                sharded.dataSource("ds_" + d, pool);
                for (int t = 0; t < tablesPerDatabase; t++) {
                    nodes.add(new ShardLayout.Shard("ds_" + d, "t_order_" + t));
                }
            }
            ShardedSource source = sharded.table("t_order", nodes).build();
            HikariDataSource target = pool(options.get("target"), options.get("user.target"));
            closeables.add(target);
            MappedTables tables = MappedTables.resolve(List.of(TableMapping.builder("t_order").build()), source,
                    target, false);
            EventPublisher events = new EventPublisher().subscribe(event -> {
                if (event instanceof DualWriteEvent.ChunkCopied chunk) {
                    ChildJvm.report("chunk", "shard=" + chunk.shard(), "range=" + chunk.range(), "rows=" + chunk.rows());
                }
            });
            int chunk = Integer.parseInt(options.get("chunk"));
            BackfillRunner runner = BackfillRunner.create(BackfillConfig.builder().ownerId(owner).chunkSize(chunk)
                    .chunkSizeBounds(chunk, chunk).threads(1).rowsPerSecond(Long.parseLong(options.get("rate")))
                    .leaseDuration(Duration.ofMillis(Long.parseLong(options.get("lease")))).createTables(true)
                    .build(), tables, source, target, events);
            closeables.add(runner);
            // Only for a negative control of the test: a shard taken over starts again at its first key.
            runner.resumeFromCheckpointForTesting(!"false".equals(options.get("resume")));
            runner.hookForTesting((table, range, rows) -> ChildJvm.report("read", "range=" + range,
                    "first=" + (rows.isEmpty() ? "-" : rows.get(0).get("id")),
                    "last=" + (rows.isEmpty() ? "-" : rows.get(rows.size() - 1).get("id")), "rows=" + rows.size()));
            ChildJvm.report("started");
            runner.start("t_order");
            runner.awaitCompletion("t_order", Duration.ofSeconds(120));
            BackfillProgress progress = runner.progress("t_order");
            ChildJvm.report("end", "status=" + progress.status(), "rows=" + progress.rowsCopied(),
                    "shards=" + progress.shards().stream().map(s -> s.shard() + ":" + s.status() + ":" + s.rowsCopied())
                            .collect(Collectors.joining(",")));
        } finally {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
        }
        System.exit(0);
    }

    /** A pool as the service has one; {@code user} is {@code name:password} (the password may be empty). */
    private static HikariDataSource pool(String url, String user) {
        HikariDataSource pool = new HikariDataSource();
        pool.setJdbcUrl(url);
        int colon = user.indexOf(':');
        pool.setUsername(user.substring(0, colon));
        pool.setPassword(user.substring(colon + 1));
        pool.setMaximumPoolSize(4);
        return pool;
    }
}
