package io.dualwrite.autoconfigure;

import io.dualwrite.ids.IdAlignment;
import io.dualwrite.ids.SegmentIdGenerator;
import io.dualwrite.mapping.MappedTables;
import io.dualwrite.routing.MigrationController;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;

/**
 * Generated ids during a migration: {@link IdAlignment} on the controller ({@code dualwrite.ids.strategy},
 * {@code dualwrite.ids.range}), and the segment id generator ({@code dualwrite.ids.segment.*}).
 */
@AutoConfiguration(after = DualWriteAutoConfiguration.class)
@ConditionalOnBean(MigrationController.class)
public class DualWriteIdsAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteIdsAutoConfiguration() {
    }

    /**
     * Moves the stores' identity and sequence counters apart at the steps where the target starts taking
     * inserts, and refuses steps within RAMP that could make them collide. Registered on the controller as
     * the bean is created, so before the seeded setting is checked at start-up (which runs them too).
     *
     * @param properties the settings
     * @param tables the mappings
     * @param source the source, through the library's pool (a copy of the application's settings, its
     *     session variables included)
     * @param target the target pool requests routed to the target use
     * @param controller the controller
     * @return the alignment
     */
    @Bean
    @ConditionalOnMissingBean
    public IdAlignment dualWriteIdAlignment(DualWriteProperties properties, MappedTables tables,
            @Qualifier(DualWriteAutoConfiguration.SOURCE_DATA_SOURCE) DataSource source,
            @Qualifier(DualWriteAutoConfiguration.TARGET_DATA_SOURCE) DataSource target, MigrationController controller) {
        DualWriteProperties.Ids ids = properties.getIds();
        IdAlignment alignment;
        try {
            alignment = IdAlignment.builder(tables, source, ShardingSphereTargets.forLibrary(target))
                    .strategy(ids.getStrategy()).range(ids.getRange())
                    .build();
        } catch (IllegalArgumentException e) {
            throw new DualWriteSettingException("dualwrite.ids.range", e.getMessage(),
                    "Set dualwrite.ids.range to at least 10000.", e);
        }
        controller.addGuard(alignment.guard());
        controller.addPreparation(alignment.preparation());
        return alignment;
    }

    /**
     * Leases blocks of ids from {@value SegmentIdGenerator#TABLE} in the control store's database, for
     * JDBC code ({@link SegmentIdGenerator#next}) and entities whose id is annotated with
     * {@link io.dualwrite.ids.SegmentId} (it is installed for them).
     *
     * @param properties the settings
     * @param control the control store's pool
     * @return the generator
     */
    @Bean(destroyMethod = "")
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty("dualwrite.ids.segment.enabled")
    public SegmentIdGenerator dualWriteSegmentIdGenerator(DualWriteProperties properties,
            @Qualifier(DualWriteAutoConfiguration.CONTROL_DATA_SOURCE) DataSource control) {
        DualWriteProperties.Ids.Segment segment = properties.getIds().getSegment();
        try {
            SegmentIdGenerator generator = SegmentIdGenerator.open(control, segment.getBlockSize(), segment.getStart(),
                    properties.getSchema().isCreate());
            SegmentIdGenerator.install(generator);
            return generator;
        } catch (IllegalArgumentException e) {
            throw new DualWriteSettingException("dualwrite.ids.segment", e.getMessage(),
                    "Correct the property named in the description.", e);
        } catch (IllegalStateException e) {
            throw new DualWriteSettingException("dualwrite.schema.create", e.getMessage(), "Run the DDL above on the"
                    + " control store's database, or set dualwrite.schema.create=true to let dualwrite create it.", e);
        } catch (SQLException e) {
            throw new DualWriteSettingException("dualwrite.ids.segment.enabled", "dualwrite could not reach the control"
                    + " store's database for the segment id generator: " + e.getMessage(),
                    "Check that the target database is reachable, or set dualwrite.ids.segment.enabled=false.", e);
        }
    }
}
