package io.dualwrite.samples.clinic;

import io.dualwrite.autoconfigure.DualWriteAutoConfiguration;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.springframework.beans.factory.annotation.Qualifier;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.flyway.autoconfigure.FlywayMigrationStrategy;
import org.springframework.context.annotation.Bean;

/**
 * The clinic. Its only migration-specific code is the target's schema: Boot's Flyway migrates the
 * application's own store, and this strategy then migrates the target with the same settings and its own
 * scripts, inside Boot's Flyway initializer, so the library's mapping check runs after both.
 */
@SpringBootApplication
public class ClinicApplication {

    /**
     * Migrates the source, then the target.
     *
     * @param target the target pool dualwrite built from {@code dualwrite.target.*}
     * @param locations where the target's scripts are ({@code clinic.target-migrations})
     * @return the strategy
     */
    @Bean
    FlywayMigrationStrategy bothStores(@Qualifier(DualWriteAutoConfiguration.TARGET_DATA_SOURCE) DataSource target,
            @Value("${clinic.target-migrations}") String locations) {
        return flyway -> {
            flyway.migrate();
            Flyway.configure().configuration(flyway.getConfiguration()).dataSource(target).locations(locations)
                    .load().migrate();
        };
    }

    /**
     * Runs the clinic.
     *
     * @param args Spring Boot's arguments
     */
    public static void main(String[] args) {
        SpringApplication.run(ClinicApplication.class, args);
    }
}
