package io.dualwrite.autoconfigure.sample;

import io.dualwrite.testing.Store;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link DegradationOverHttpTest} from MariaDB to PostgreSQL. */
class MariaDbToPostgresDegradationOverHttpTest extends DegradationOverHttpTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        stores(Store.MARIADB, Store.POSTGRESQL, registry);
    }
}
