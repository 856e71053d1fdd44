package io.dualwrite.verify;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.event.EventPublisher;
import io.dualwrite.jdbc.ShardLayout;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.mapping.TableMapping;
import io.dualwrite.mirror.Mirror;
import io.dualwrite.mirror.MirrorConfig;
import io.dualwrite.shard.ShardedSource;
import io.dualwrite.testing.ChildJvm;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * One instance of a service that reconciles {@code t_order} between a sharded MariaDB source and PostgreSQL, as its
 * own JVM ({@link ShardReconcileAcrossJvmsTest} starts several and kills or freezes them). It builds the
 * {@link ShardedSource} from the real databases' URLs, runs one reconcile (repairing through a mirror, or dry) and
 * reports on stdout through {@link ChildJvm#report}:
 * <ul>
 * <li>{@code chunk rows=}: a chunk compared (the {@code ChunkReconciled} event);</li>
 * <li>{@code end complete= compared= differences= repaired= units=unit:done:compared:differences:repaired,...}: the
 * round's report, in total and per unit;</li>
 * <li>{@code busy}: the run stopped because another instance took its unit over (exit code 3).</li>
 * </ul>
 * Arguments are {@code key=value}: {@code owner}, {@code ds0}, {@code ds1} (MariaDB URLs), {@code tables} (physical
 * tables per database), {@code target} (PostgreSQL URL), {@code user.source}, {@code user.target}, {@code chunk},
 * {@code rate} (rows per second), {@code lease} (milliseconds), {@code repair} ({@code true} or {@code false}).
 */
public final class ShardReconcileInstance {

    private ShardReconcileInstance() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new TreeMap<>();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            options.put(arg.substring(0, eq), arg.substring(eq + 1));
        }
        int tablesPerDatabase = Integer.parseInt(options.get("tables"));
        List<AutoCloseable> closeables = new ArrayList<>();
        int exit = 0;
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
            ReconcileConfig.Builder config = ReconcileConfig.builder().owner(options.get("owner"))
                    .chunkSize(Integer.parseInt(options.get("chunk"))).rowsPerSecond(Long.parseLong(options.get("rate")))
                    .lease(Duration.ofMillis(Long.parseLong(options.get("lease")))).createTables(true);
            if (Boolean.parseBoolean(options.get("repair"))) {
                Mirror mirror = Mirror.create(MirrorConfig.defaults(), tables, source, target, new EventPublisher());
                closeables.add(mirror);
                config.repairWith(Repairer.throughMirror(mirror, Duration.ofSeconds(10)));
            } else {
                config.dryRun(true);
            }
            Reconciler reconciler = Reconciler.create(config.build(), tables, source, target, event -> {
                if (event instanceof VerifyEvent.ChunkReconciled chunk) {
                    ChildJvm.report("chunk", "rows=" + chunk.rows());
                }
            });
            ChildJvm.report("started");
            try {
                ReconcileReport report = reconciler.run("t_order");
                ChildJvm.report("end", "complete=" + report.complete(), "compared=" + report.compared(),
                        "differences=" + report.differences(), "repaired=" + report.repaired(),
                        "units=" + report.shards().stream().map(unit -> unit.unit() + ":" + unit.done() + ":"
                                + unit.compared() + ":" + unit.differences() + ":" + unit.repaired())
                                .collect(Collectors.joining(",")));
            } catch (ReconcileBusyException busy) {
                ChildJvm.report("busy", "holder=" + busy.owner());
                exit = 3;
            }
        } finally {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
        }
        System.exit(exit);
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
