package io.dualwrite.autoconfigure;

import static org.assertj.core.api.Assertions.assertThat;

import io.dualwrite.metrics.MeterNames;
import io.dualwrite.routing.RoutingContext;
import io.dualwrite.routing.RoutingValues;
import io.dualwrite.testing.OrderTable;
import io.dualwrite.testing.Store;
import io.dualwrite.testing.TestDatabase;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import jakarta.servlet.Filter;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration;
import org.springframework.boot.micrometer.metrics.autoconfigure.MetricsAutoConfiguration;
import org.springframework.boot.test.context.runner.WebApplicationContextRunner;
import org.springframework.mock.web.MockFilterChain;
import org.springframework.mock.web.MockHttpServletRequest;
import org.springframework.mock.web.MockHttpServletResponse;

/** The routing-key filter's wiring ({@code dualwrite.routing.web.*}) and the keys it binds, on H2. */
class RoutingKeyFilterTest {

    private TestDatabase source;
    private TestDatabase target;

    @BeforeEach
    void createStores() {
        source = TestDatabase.create(Store.H2, "web_src");
        target = TestDatabase.create(Store.H2, "web_tgt");
        source.execute(OrderTable.ddl(Store.H2, "t_order"));
        target.execute(OrderTable.ddl(Store.H2, "t_order"));
    }

    @AfterEach
    void dropStores() {
        source.close();
        target.close();
    }

    private WebApplicationContextRunner runner() {
        return new WebApplicationContextRunner()
                .withConfiguration(AutoConfigurations.of(DataSourceAutoConfiguration.class,
                        MetricsAutoConfiguration.class, DualWriteAutoConfiguration.class,
                        DualWriteMetricsAutoConfiguration.class, DualWriteRoutingKeyAutoConfiguration.class))
                .withPropertyValues("spring.datasource.url=" + source.jdbcUrl(), "spring.datasource.username=sa",
                        "dualwrite.target.url=" + target.jdbcUrl(), "dualwrite.target.username=sa",
                        "dualwrite.schema.create=true", "dualwrite.tables.t_order.routing-column=user_id");
    }

    @Test
    void noKeySourceConfigured_noFilter_butTheGuardAndMeters() {
        runner().withBean(MeterRegistry.class, SimpleMeterRegistry::new).run(context -> {
            assertThat(context).hasNotFailed().doesNotHaveBean("dualWriteRoutingKeyFilter")
                    .hasBean("dualWriteKeylessGuard");
            MeterRegistry meters = context.getBean(MeterRegistry.class);
            assertThat(meters.find(MeterNames.ROUTING_KEYLESS).functionCounter()).isNotNull();
            assertThat(meters.find(MeterNames.ROUTING_KEYLESS_SHARE).gauge()).isNotNull();
        });
    }

    @Test
    void pathPatternThenHeaderThenPrincipal() {
        runner().withPropertyValues("dualwrite.routing.web.path-patterns=/owners/{ownerId}/**,/users/{ownerId}",
                "dualwrite.routing.web.path-variable=ownerId", "dualwrite.routing.web.header=X-User-Id",
                "dualwrite.routing.web.principal=true").run(context -> {
                    assertThat(context).hasNotFailed();
                    Filter filter = context.getBean("dualWriteRoutingKeyFilter", Filter.class);
                    assertThat(((RoutingKeyFilter) filter).getOrder()).isEqualTo(-90);

                    assertThat(boundKey(filter, request("/shop", "/shop/owners/42/pets/7", "9", "5")))
                            .as("the path wins, below the context path").isEqualTo("42");
                    assertThat(boundKey(filter, request("", "/users/17", null, null))).isEqualTo("17");
                    assertThat(boundKey(filter, request("", "/vets", "9", "5"))).isEqualTo("9");
                    assertThat(boundKey(filter, request("", "/vets", null, "5"))).isEqualTo("5");
                    assertThat(boundKey(filter, request("", "/vets", null, null))).isNull();
                    assertThat(boundKey(filter, request("", "/owners/new", null, null)))
                            .as("MODULO has no bucket for 'new': no key, not a failing request").isNull();
                    assertThat(RoutingContext.currentKey()).as("unbound after the request").isNull();
                });
    }

    @Test
    void hashStrategy_keepsKeysThatAreNotNumbers() {
        runner().withPropertyValues("dualwrite.routing.strategy=HASH", "dualwrite.routing.web.header=X-User")
                .run(context -> assertThat(boundKey(context.getBean("dualWriteRoutingKeyFilter", Filter.class),
                        request("", "/x", "alice", null))).isEqualTo("alice"));
    }

    @Test
    void patternWithoutTheVariable_failsStartUpNamingTheProperty() {
        runner().withPropertyValues("dualwrite.routing.web.path-patterns=/owners/{id}/**",
                "dualwrite.routing.web.path-variable=ownerId").run(context -> {
                    assertThat(context).hasFailed();
                    assertThat(context.getStartupFailure()).rootCause().hasMessage("dualwrite.routing.web.path-patterns:"
                            + " '/owners/{id}/**' has no variable 'ownerId' (dualwrite.routing.web.path-variable)");
                });
        runner().withPropertyValues("dualwrite.routing.web.path-patterns=/owners/{id}/**").run(context ->
                assertThat(context.getStartupFailure()).rootCause().hasMessage("dualwrite.routing.web.path-patterns is"
                        + " set but dualwrite.routing.web.path-variable is not"));
    }

    @Test
    void maxKeylessShare_outsideZeroToOne_isRefused() {
        runner().withPropertyValues("dualwrite.routing.max-keyless-share=2").run(context ->
                assertThat(context.getStartupFailure()).rootCause().hasMessage(
                        "dualwrite.routing.max-keyless-share: must be between 0 and 1, was 2.0"));
    }

    @Test
    void routingThroughAForeignKey_isCheckedAgainstTheMappings() {
        runner().withPropertyValues("dualwrite.routing.through.t_order.table=users",
                "dualwrite.routing.through.t_order.column=owner_id").run(context -> {
                    assertThat(context).hasNotFailed();
                    assertThat(context.getBean(RoutingValues.class).resolve("other", 5L)).isEqualTo(5L);
                });
        runner().withPropertyValues("dualwrite.routing.through.visits.table=pets",
                "dualwrite.routing.through.visits.column=owner_id", "dualwrite.routing.through.t_order.table=users")
                .run(context -> assertThat(context.getStartupFailure()).rootCause().hasMessage(
                        "dualwrite.routing.through.visits: table 'visits' is not mapped (dualwrite.tables.visits);"
                                + " dualwrite.routing.through.t_order: set table, key and column (e.g. table=pets, key=id,"
                                + " column=owner_id)"));
    }

    private static MockHttpServletRequest request(String contextPath, String uri, String header, String user) {
        MockHttpServletRequest request = new MockHttpServletRequest("GET", uri);
        request.setContextPath(contextPath);
        if (header != null) {
            request.addHeader("X-User-Id", header);
            request.addHeader("X-User", header);
        }
        if (user != null) {
            request.setUserPrincipal(() -> user);
        }
        return request;
    }

    /** The routing key the rest of the chain ran with. */
    private static Object boundKey(Filter filter, MockHttpServletRequest request) throws Exception {
        AtomicReference<Object> seen = new AtomicReference<>("not called");
        filter.doFilter(request, new MockHttpServletResponse(), new MockFilterChain(new jakarta.servlet.http.HttpServlet() {
            @Override
            protected void service(jakarta.servlet.http.HttpServletRequest req,
                    jakarta.servlet.http.HttpServletResponse res) {
                seen.set(RoutingContext.currentKey());
            }
        }));
        assertThat(seen.get()).isNotEqualTo("not called");
        return seen.get();
    }

}
