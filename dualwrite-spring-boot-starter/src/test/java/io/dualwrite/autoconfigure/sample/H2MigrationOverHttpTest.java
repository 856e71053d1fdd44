package io.dualwrite.autoconfigure.sample;

import io.dualwrite.testing.Store;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link MigrationOverHttpTest} from H2 to H2. */
class H2MigrationOverHttpTest extends MigrationOverHttpTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        stores(Store.H2, Store.H2, registry);
    }
}
