package io.dualwrite.autoconfigure.sample;

import io.dualwrite.testing.Store;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/** {@link DegradationOverHttpTest} from H2 to H2. */
class H2DegradationOverHttpTest extends DegradationOverHttpTest {

    @DynamicPropertySource
    static void properties(DynamicPropertyRegistry registry) {
        stores(Store.H2, Store.H2, registry);
    }
}
