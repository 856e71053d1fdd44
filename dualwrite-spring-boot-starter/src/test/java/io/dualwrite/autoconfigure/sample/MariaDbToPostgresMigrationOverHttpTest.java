package io.dualwrite.autoconfigure.sample;

import io.dualwrite.testing.Store;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link MigrationOverHttpTest} from MariaDB to PostgreSQL, the migration the library exists for. */
class MariaDbToPostgresMigrationOverHttpTest extends MigrationOverHttpTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        stores(Store.MARIADB, Store.POSTGRESQL, registry);
    }
}
