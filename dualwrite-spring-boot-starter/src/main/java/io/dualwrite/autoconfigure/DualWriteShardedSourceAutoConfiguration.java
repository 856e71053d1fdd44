package io.dualwrite.autoconfigure;

import com.zaxxer.hikari.HikariDataSource;
import io.dualwrite.shard.ShardedSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.io.ResourceLoader;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * A sharded source ({@code dualwrite.source.shards.*} or {@code dualwrite.source.sharding-sphere-config}): the
 * library's source, bean {@value DualWriteAutoConfiguration#SOURCE_DATA_SOURCE}, becomes an
 * {@link ShardedSource} over the source's real databases, so the mirror's apply, the backfill and the reconciler
 * read every physical table. Runs before {@link DualWriteAutoConfiguration}, whose copy of the application's pool
 * then backs off; the application's own data source is left as it is.
 */
@AutoConfiguration(before = DualWriteAutoConfiguration.class)
@ConditionalOnBooleanProperty(name = "dualwrite.enabled", matchIfMissing = true)
@Conditional(DualWriteShardedSourceAutoConfiguration.ShardedSourceConfigured.class)
@EnableConfigurationProperties(DualWriteProperties.class)
public class DualWriteShardedSourceAutoConfiguration {

    static final String SHARDS = "dualwrite.source.shards";
    static final String SHARDING_SPHERE = "dualwrite.source.sharding-sphere-config";

    /**
     * The sharded source and the pools it opened, closed with the context.
     *
     * @param properties the settings
     * @param resources where a ShardingSphere YAML is read from
     * @return the pools and the source
     * @throws DualWriteSettingException naming the property when the declaration is incomplete or invalid
     */
    @Bean(defaultCandidate = false)
    @ConditionalOnMissingBean(name = DualWriteAutoConfiguration.SOURCE_DATA_SOURCE)
    static ShardedSourcePools dualWriteShardedSourcePools(DualWriteProperties properties, ResourceLoader resources) {
        return ShardedSourcePools.create(properties.getSource(), resources);
    }

    /**
     * The library's source: the sharded source.
     *
     * @param pools the pools
     * @return the source
     */
    @Bean(name = DualWriteAutoConfiguration.SOURCE_DATA_SOURCE, defaultCandidate = false)
    @ConditionalOnMissingBean(name = DualWriteAutoConfiguration.SOURCE_DATA_SOURCE)
    static DataSource dualWriteShardedSourceDataSource(
            @Qualifier("dualWriteShardedSourcePools") ShardedSourcePools pools) {
        return pools.source();
    }

    /** Matches when either way of declaring a sharded source is set. */
    static final class ShardedSourceConfigured extends SpringBootCondition {

        @Override
        public ConditionOutcome getMatchOutcome(ConditionContext context, AnnotatedTypeMetadata metadata) {
            Binder binder = Binder.get(context.getEnvironment());
            boolean shards = binder.bind(SHARDS, Bindable.mapOf(String.class, Object.class)).isBound();
            boolean yaml = context.getEnvironment().containsProperty(SHARDING_SPHERE);
            return shards || yaml ? ConditionOutcome.match(SHARDS + ".* or " + SHARDING_SPHERE + " is set")
                    : ConditionOutcome.noMatch("no sharded source declared");
        }
    }

    /** The pools of a sharded source, closed when the context closes. */
    static final class ShardedSourcePools implements AutoCloseable {

        private final List<AutoCloseable> closeables;
        private final ShardedSource source;

        private ShardedSourcePools(List<AutoCloseable> closeables, ShardedSource source) {
            this.closeables = closeables;
            this.source = source;
        }

        ShardedSource source() {
            return source;
        }

        static ShardedSourcePools create(DualWriteProperties.Source settings, ResourceLoader resources) {
            DualWriteProperties.Shards shards = settings.getShards();
            boolean listed = !shards.getDataSources().isEmpty() || !shards.getTables().isEmpty()
                    || shards.getHome() != null;
            if (settings.getShardingSphereConfig() != null) {
                if (listed) {
                    throw new DualWriteSettingException(SHARDING_SPHERE, SHARDING_SPHERE + " and " + SHARDS + ".* are"
                            + " both set; a sharded source is declared one way",
                            "Keep " + SHARDING_SPHERE + " (ShardingSphere's YAML lists the shards and the rule), or "
                                    + SHARDS + ".data-sources and " + SHARDS + ".tables, not both.");
                }
                DataSource shardingSphere = ShardingSphereTargets.create(SHARDING_SPHERE, settings
                        .getShardingSphereConfig(), resources);
                try {
                    return new ShardedSourcePools(List.of((AutoCloseable) shardingSphere),
                            ShardingSphereTargets.sourceOf(shardingSphere, SHARDING_SPHERE));
                } catch (RuntimeException e) {
                    closeQuietly((AutoCloseable) shardingSphere, e);
                    throw e;
                }
            }
            List<AutoCloseable> closeables = new ArrayList<>();
            try {
                ShardedSource.Builder builder = ShardedSource.builder();
                List<String> problems = new ArrayList<>();
                for (Map.Entry<String, DualWriteProperties.ShardDataSource> entry : shards.getDataSources().entrySet()) {
                    String property = SHARDS + ".data-sources." + entry.getKey();
                    DualWriteProperties.ShardDataSource declared = entry.getValue();
                    if (declared.getUrl() == null || declared.getUrl().isBlank()) {
                        problems.add(property + ".url: not set; give the JDBC URL of real database '"
                                + entry.getKey() + "'");
                        continue;
                    }
                    HikariDataSource pool = new HikariDataSource();
                    pool.setPoolName("dualwrite-source-" + entry.getKey());
                    pool.setJdbcUrl(declared.getUrl());
                    pool.setUsername(declared.getUsername());
                    pool.setPassword(declared.getPassword());
                    if (declared.getDriverClassName() != null) {
                        pool.setDriverClassName(declared.getDriverClassName());
                    }
                    pool.setMaximumPoolSize(declared.getMaximumPoolSize());
                    pool.setMinimumIdle(0);
                    closeables.add(pool);
                    builder.dataSource(entry.getKey(), pool);
                }
                for (Map.Entry<String, DualWriteProperties.ShardTable> entry : shards.getTables().entrySet()) {
                    String nodes = entry.getValue().getNodes();
                    if (nodes == null || nodes.isBlank()) {
                        problems.add(SHARDS + ".tables." + entry.getKey() + ".nodes: not set; list the physical"
                                + " tables, e.g. ds_${0..1}." + entry.getKey() + "_${0..7}");
                        continue;
                    }
                    builder.table(entry.getKey(), nodes);
                }
                if (shards.getHome() != null) {
                    builder.home(shards.getHome());
                }
                if (!problems.isEmpty()) {
                    throw new IllegalArgumentException("the sharded source is not valid:\n  "
                            + String.join("\n  ", problems));
                }
                return new ShardedSourcePools(closeables, builder.build());
            } catch (IllegalArgumentException invalid) {
                closeables.forEach(c -> closeQuietly(c, invalid));
                throw new DualWriteSettingException(SHARDS, invalid.getMessage(), "Declare every real database as "
                        + SHARDS + ".data-sources.<name>.url (with username and password) and each logical table's"
                        + " physical tables as " + SHARDS + ".tables.<table>.nodes, e.g. ds_${0..1}.t_order_${0..7}.",
                        invalid);
            }
        }

        private static void closeQuietly(AutoCloseable closeable, Exception cause) {
            try {
                closeable.close();
            } catch (Exception e) {
                cause.addSuppressed(e);
            }
        }

        @Override
        public void close() throws Exception {
            Exception failure = null;
            for (AutoCloseable closeable : closeables) {
                try {
                    closeable.close();
                } catch (Exception e) {
                    if (failure == null) {
                        failure = e;
                    } else {
                        failure.addSuppressed(e);
                    }
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
    }
}
