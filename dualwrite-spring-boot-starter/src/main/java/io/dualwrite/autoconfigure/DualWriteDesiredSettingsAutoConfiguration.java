package io.dualwrite.autoconfigure;

import dev.openfeature.sdk.OpenFeatureAPI;
import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.MigrationController;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.beans.factory.SmartInitializingSingleton;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBooleanProperty;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.env.Environment;

/**
 * Desired settings: a feature-flag system (OpenFeature, {@code dualwrite.flags.*}) or a refreshed
 * configuration ({@code dualwrite.routing.follow-refresh}) says what the phase, percent and lists should be,
 * and {@link DesiredSettings} asks the controller for it as ramp steps — the same barrier, the same guards,
 * never forced. The control store keeps the setting in force; the endpoint ({@code routing.desired}), the log
 * and the {@code dualwrite.routing.desired} meter say what became of each desire.
 */
// After the guards' configurations: the first desire (a provider already ready) must meet every guard.
@AutoConfiguration(after = {DualWriteAutoConfiguration.class, DualWriteRoutingKeyAutoConfiguration.class})
@ConditionalOnBean(MigrationController.class)
public class DualWriteDesiredSettingsAutoConfiguration {

    /** Creates the configuration; Spring does. */
    public DualWriteDesiredSettingsAutoConfiguration() {
    }

    /**
     * The executor of desired settings; it waits up to {@code dualwrite.routing.step-timeout} for a step
     * another instance runs.
     *
     * @param controller the controller
     * @param properties the settings
     * @return the executor, closed at shutdown
     */
    @Bean(destroyMethod = "close")
    @ConditionalOnMissingBean
    public DesiredSettings dualWriteDesiredSettings(MigrationController controller, DualWriteProperties properties) {
        return new DesiredSettings(controller, properties.getRouting().getStepTimeout());
    }

    /**
     * Asks for the change when a configuration refresh changes {@code dualwrite.phase} or
     * {@code dualwrite.routing.percent}, {@code allow} or {@code deny}.
     *
     * @param environment the environment the new values are read from
     * @param desired the executor
     * @return the listener
     */
    @Bean
    @ConditionalOnMissingBean
    @ConditionalOnBooleanProperty(name = "dualwrite.routing.follow-refresh", matchIfMissing = true)
    RefreshedSettings dualWriteRefreshedSettings(Environment environment, DesiredSettings desired) {
        return new RefreshedSettings(environment, desired);
    }

    /** OpenFeature flags, when the SDK is present and {@code dualwrite.flags.enabled=true}. */
    @Configuration(proxyBeanMethods = false)
    @ConditionalOnClass(OpenFeatureAPI.class)
    @ConditionalOnBooleanProperty("dualwrite.flags.enabled")
    static class OpenFeature {

        /**
         * Follows the flags of the application's OpenFeature API (a bean of that type, or the global instance).
         *
         * @param properties the settings
         * @param desired the executor
         * @param api the application's OpenFeature API, if it is a bean
         * @return the follower, closed at shutdown
         */
        @Bean(destroyMethod = "close")
        @ConditionalOnMissingBean
        OpenFeatureSettings dualWriteOpenFeatureSettings(DualWriteProperties properties, DesiredSettings desired,
                ObjectProvider<OpenFeatureAPI> api) {
            return new OpenFeatureSettings(api.getIfAvailable(OpenFeatureAPI::getInstance), properties.getFlags(),
                    desired);
        }

        /**
         * Subscribes to the flags once every singleton exists, so that the first desire finds the controller
         * and its guards in place.
         *
         * @param settings the follower
         * @return the starter
         */
        @Bean
        @ConditionalOnMissingBean(name = "dualWriteOpenFeatureStart")
        SmartInitializingSingleton dualWriteOpenFeatureStart(OpenFeatureSettings settings) {
            return settings::start;
        }
    }
}
