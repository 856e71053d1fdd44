package io.dualwrite.autoconfigure;

import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.MigrationController;
import io.dualwrite.routing.RampGuards;
import io.dualwrite.routing.RoutingValues;
import jakarta.servlet.Filter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.sql.DataSource;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.AnyNestedCondition;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnWebApplication;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.web.filter.OncePerRequestFilter;

/**
 * Routing keys: how requests get one, and what happens to those that carry none. A request without a
 * routing key takes the default route at every percent, so this configuration adds the ramp guard on the
 * share of keyless requests ({@code dualwrite.routing.max-keyless-share}) and, in a servlet web
 * application that configures {@code dualwrite.routing.web.*}, the filter that binds each request's key
 * ({@link RoutingKeyFilter}), and each row's routing value for tables that reach it through a foreign key
 * ({@code dualwrite.routing.through.*}). {@code @RoutingKey} parameters and entity members are bound by
 * {@link RoutingKeyAdvisor}, which {@link DualWriteAutoConfiguration} registers.
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBean(MigrationController.class)
public class DualWriteRoutingKeyAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteRoutingKeyAutoConfiguration() {
    }

    /**
     * Adds the guard that refuses a step into or within RAMP while more than
     * {@code dualwrite.routing.max-keyless-share} of this instance's requests of the last minute carried no
     * routing key; {@code force} overrides it (logged).
     *
     * @param controller the controller
     * @param properties the settings
     * @return a bean that adds the guard once every singleton exists
     */
    @Bean
    @ConditionalOnMissingBean(name = "dualWriteKeylessGuard")
    public SmartInitializingSingleton dualWriteKeylessGuard(MigrationController controller,
            DualWriteProperties properties) {
        double max = properties.getRouting().getMaxKeylessShare();
        return () -> controller.addGuard(RampGuards.keylessShareAtMost(controller.keylessRequests(), max));
    }

    /**
     * Each row's routing value from its routing column's value: the value itself, or, for the tables named in
     * {@code dualwrite.routing.through.*}, the value found through that foreign key in the source (cached for
     * {@code dualwrite.routing.through-cache-expiry}).
     *
     * @param properties the settings
     * @param tables the mapped tables, each named hop's table among them with a routing column
     * @param source the library's source pool, where the referenced tables are read
     * @return the routing values
     * @throws DualWriteSettingException naming the property, for a hop of an unmapped table, of a table without a
     *     routing column, or with a part missing or not an identifier
     */
    @Bean
    @ConditionalOnMissingBean
    public RoutingValues dualWriteRoutingValues(DualWriteProperties properties, MappedTables tables,
            @Qualifier(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE) DataSource source) {
        Map<String, DualWriteProperties.Through> through = properties.getRouting().getThrough();
        if (through.isEmpty()) {
            return RoutingValues.identity();
        }
        List<String> problems = new ArrayList<>();
        Map<String, RoutingValues.ForeignKey> hops = new LinkedHashMap<>();
        through.forEach((table, hop) -> {
            String property = "dualwrite.routing.through." + table;
            if (!tables.contains(table)) {
                problems.add(property + ": table '" + table + "' is not mapped (dualwrite.tables." + table + ")");
            } else if (tables.get(table).mapping().routingColumn().isEmpty()) {
                problems.add(property + ": table '" + table + "' has no routing column; set dualwrite.tables." + table
                        + ".routing-column to its foreign key");
            } else if (hop.getTable() == null || hop.getColumn() == null || hop.getKey() == null) {
                problems.add(property + ": set table, key and column (e.g. table=pets, key=id, column=owner_id)");
            } else {
                hops.put(table, new RoutingValues.ForeignKey(hop.getTable(), hop.getKey(), hop.getColumn()));
            }
        });
        if (!problems.isEmpty()) {
            throw new DualWriteSettingException("dualwrite.routing.through", String.join("; ", problems),
                    "Correct dualwrite.routing.through in the application's configuration.");
        }
        try {
            return RoutingValues.throughForeignKeys(source, hops, 100_000,
                    properties.getRouting().getThroughCacheExpiry());
        } catch (IllegalArgumentException refused) {
            throw new DualWriteSettingException("dualwrite.routing.through", refused.getMessage(),
                    "Correct dualwrite.routing.through in the application's configuration.", refused);
        }
    }

    /** The web binding, only in a servlet application that names where the key is. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnWebApplication(type = ConditionalOnWebApplication.Type.SERVLET)
    @ConditionalOnClass({Filter.class, OncePerRequestFilter.class})
    @Conditional(WebKeySourceConfigured.class)
    static class Web {

        /**
         * The filter binding each request's routing key ({@code dualwrite.routing.web.*}).
         *
         * @param properties the settings
         * @param controller the controller, for the strategy in force
         * @return the filter; Spring Boot registers it at {@code dualwrite.routing.web.filter-order}
         */
        @Bean
        @ConditionalOnMissingBean(name = "dualWriteRoutingKeyFilter")
        Filter dualWriteRoutingKeyFilter(DualWriteProperties properties, MigrationController controller) {
            return new RoutingKeyFilter(properties.getRouting().getWeb(), () -> controller.rules().strategy());
        }
    }

    /** At least one of {@code dualwrite.routing.web.path-patterns}, {@code header}, {@code principal} is set. */
    static class WebKeySourceConfigured extends AnyNestedCondition {

        WebKeySourceConfigured() {
            super(ConfigurationPhase.REGISTER_BEAN);
        }

        @ConditionalOnProperty("dualwrite.routing.web.path-patterns")
        static class PathPatterns {
        }

        @ConditionalOnProperty("dualwrite.routing.web.path-patterns[0]")
        static class PathPatternList {
        }

        @ConditionalOnProperty("dualwrite.routing.web.header")
        static class Header {
        }

        @ConditionalOnProperty(name = "dualwrite.routing.web.principal", havingValue = "true")
        static class Principal {
        }
    }
}
