package io.dualwrite.autoconfigure;

import dev.openfeature.sdk.Client;
import dev.openfeature.sdk.EventDetails;
import dev.openfeature.sdk.FlagEvaluationDetails;
import dev.openfeature.sdk.OpenFeatureAPI;
import dev.openfeature.sdk.ProviderEvent;
import io.dualwrite.routing.DesiredSettings;
import io.dualwrite.routing.Phase;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import org.apache.commons.logging.Log;
import org.apache.commons.logging.LogFactory;

/**
 * Reads the desired setting from OpenFeature flags ({@code dualwrite.flags.*}) when the provider is ready
 * and whenever it reports a configuration change, and offers it to {@link DesiredSettings}, which runs it
 * as ramp steps. A flag that is not found leaves its part of the setting as it is; one whose value cannot
 * be a phase, a percent or a list is logged (naming the flag) and left out.
 */
final class OpenFeatureSettings implements AutoCloseable {

    static final String SOURCE = "openfeature";
    private static final Log log = LogFactory.getLog(OpenFeatureSettings.class);

    private final DesiredSettings desired;
    private final DualWriteProperties.Flags flags;
    private final Client client;
    private final Consumer<EventDetails> handler = this::changed;

    OpenFeatureSettings(OpenFeatureAPI api, DualWriteProperties.Flags flags, DesiredSettings desired) {
        this.desired = Objects.requireNonNull(desired, "desired");
        this.flags = Objects.requireNonNull(flags, "flags");
        this.client = flags.getDomain() == null || flags.getDomain().isBlank() ? api.getClient()
                : api.getClient(flags.getDomain());
    }

    /** Starts following the flags; a provider already ready is read at once. */
    void start() {
        client.onProviderReady(handler);
        client.onProviderConfigurationChanged(handler);
    }

    private void changed(EventDetails details) {
        DesiredSettings.Desired wanted = read();
        if (!wanted.isEmpty()) {
            desired.offer(wanted, SOURCE + (details.getProviderName() == null ? "" : " (" + details.getProviderName()
                    + ")"));
        }
    }

    /** @return the desired setting the flags hold now */
    DesiredSettings.Desired read() {
        Phase phase = null;
        String phaseText = string(flags.getPhase());
        if (phaseText != null) {
            try {
                phase = Phase.valueOf(phaseText.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                log.warn("dualwrite: OpenFeature flag '" + flags.getPhase() + "' (dualwrite.flags.phase) holds '"
                        + phaseText + "', not one of " + Arrays.toString(Phase.values()) + "; the phase is left as it is");
            }
        }
        Integer percent = null;
        if (flags.getPercent() != null) {
            FlagEvaluationDetails<Integer> details = client.getIntegerDetails(flags.getPercent(), -1);
            if (details.getErrorCode() == null) {
                int value = details.getValue();
                if (value >= 0 && value <= 100) {
                    percent = value;
                } else {
                    log.warn("dualwrite: OpenFeature flag '" + flags.getPercent() + "' (dualwrite.flags.percent) holds "
                            + value + ", outside 0..100; the percent is left as it is");
                }
            } else {
                reportError(flags.getPercent(), "dualwrite.flags.percent", details);
            }
        }
        return new DesiredSettings.Desired(phase, percent, list(flags.getAllow()), list(flags.getDeny()));
    }

    private String string(String key) {
        if (key == null) {
            return null;
        }
        FlagEvaluationDetails<String> details = client.getStringDetails(key, "");
        if (details.getErrorCode() != null) {
            reportError(key, "dualwrite.flags", details);
            return null;
        }
        return details.getValue();
    }

    private Set<String> list(String key) {
        String text = string(key);
        if (text == null) {
            return null;
        }
        Set<String> keys = new LinkedHashSet<>();
        for (String part : text.split(",")) {
            if (!part.isBlank()) {
                keys.add(part.trim());
            }
        }
        return keys;
    }

    private static void reportError(String key, String property, FlagEvaluationDetails<?> details) {
        if (!"FLAG_NOT_FOUND".equals(details.getErrorCode().name())) {
            log.warn("dualwrite: OpenFeature flag '" + key + "' (" + property + ") could not be evaluated: "
                    + details.getErrorCode() + " " + details.getErrorMessage() + "; its part of the setting is left"
                    + " as it is");
        }
    }

    @Override
    public void close() {
        client.removeHandler(ProviderEvent.PROVIDER_READY, handler);
        client.removeHandler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED, handler);
    }
}
