package io.dualwrite.autoconfigure;

import io.dualwrite.testing.TestDatabase;
import org.springframework.test.context.DynamicPropertyRegistry;

/** Points a test application at its two per-test databases: the source as its data source, the target as ours. */
public final class StoreProperties {

    private StoreProperties() {
    }

    /**
     * Registers {@code spring.datasource.*} for the source and {@code dualwrite.target.*} for the target.
     *
     * @param registry the test's dynamic properties
     * @param source the application's own database
     * @param target the database the migration moves to
     */
    public static void register(DynamicPropertyRegistry registry, TestDatabase source, TestDatabase target) {
        registry.add("spring.datasource.url", source::jdbcUrl);
        registry.add("spring.datasource.username", source::username);
        registry.add("spring.datasource.password", source::password);
        registry.add("dualwrite.target.url", target::jdbcUrl);
        registry.add("dualwrite.target.username", target::username);
        registry.add("dualwrite.target.password", target::password);
    }
}
