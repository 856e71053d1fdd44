package io.dualwrite.samples.orders;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import java.io.IOException;
import java.sql.SQLException;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@link ShardedMigrationScenarioTest} on embedded H2, what the one-command {@code sharded} profile runs: the
 * profile's {@code sharding-h2.yaml}, its two in-memory databases replaced by this test's.
 */
class H2ShardedMigrationScenarioTest extends ShardedMigrationScenarioTest {

    private static final Pattern JDBC_URL = Pattern.compile("jdbcUrl: .*");
    private static final String LOCK_TIMEOUT = ";LOCK_TIMEOUT=10000";

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) throws SQLException, IOException {
        TestDatabase old = TestDatabase.create(Store.H2, "shs_old");
        CLOSEABLES.add(old);
        TestDatabase shard0 = TestDatabase.create(Store.H2, "shs_new0");
        CLOSEABLES.add(shard0);
        TestDatabase shard1 = TestDatabase.create(Store.H2, "shs_new1");
        CLOSEABLES.add(shard1);
        stores(old, List.of(shard0.dataSource(), shard1.dataSource()),
                onDatabases(resource("sharding-h2.yaml"), List.of(shard0.jdbcUrl(), shard1.jdbcUrl())), LOCK_TIMEOUT,
                "H2 -> sharded H2", registry);
    }

    /** The profile's YAML, its databases' URLs replaced by this test's, in order. */
    private static String onDatabases(String profile, List<String> urls) {
        Matcher matcher = JDBC_URL.matcher(profile);
        StringBuilder yaml = new StringBuilder();
        int next = 0;
        while (matcher.find()) {
            matcher.appendReplacement(yaml, Matcher.quoteReplacement("jdbcUrl: " + urls.get(next++) + LOCK_TIMEOUT));
        }
        matcher.appendTail(yaml);
        assertThat(next).as("data sources in sharding-h2.yaml").isEqualTo(urls.size());
        return yaml.toString();
    }
}
