package io.dualwrite.autoconfigure;

import io.dualwrite.mapping.MappingException;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.diagnostics.FailureAnalysis;
import org.springframework.boot.diagnostics.FailureAnalyzer;
import org.springframework.boot.origin.Origin;
import org.springframework.boot.origin.PropertySourceOrigin;
import org.springframework.core.Ordered;

/**
 * Turns dualwrite's start-up failures into a description and an action that name the property to fix:
 * table mappings that do not fit the stores, a {@code dualwrite.*} value that does not bind (an unknown
 * phase or mirror mode, a percent outside 0..100), a setting the library refuses, and a missing library
 * table (with its DDL). Ordered first, so that a {@code dualwrite.*} binding failure gets this analysis
 * rather than Spring Boot's generic one.
 */
public class DualWriteFailureAnalyzer implements FailureAnalyzer, Ordered {

    private static final String PREFIX = "dualwrite.";

    @Override
    public FailureAnalysis analyze(Throwable failure) {
        for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof MappingException mapping) {
                return mapping(mapping);
            }
            if (cause instanceof io.dualwrite.cdc.CdcUnavailableException cdc) {
                return new FailureAnalysis(cdc.getMessage(), "Change the server settings or grants named above"
                        + " (log_bin needs a server restart), or set dualwrite.capture.cdc.required=false to start"
                        + " without change-data capture, or dualwrite.capture.cdc.enabled=false.", cdc);
            }
            if (cause instanceof DualWriteSettingException setting) {
                return new FailureAnalysis(setting.getMessage(), setting.action(), setting);
            }
            if (cause instanceof BindException bind && bind.getName().toString().startsWith(PREFIX)) {
                return binding(bind);
            }
        }
        return null;
    }

    @Override
    public int getOrder() {
        return Ordered.HIGHEST_PRECEDENCE;
    }

    private static FailureAnalysis mapping(MappingException mapping) {
        return new FailureAnalysis(mapping.getMessage(),
                "Fix each property named above (or the table it names), or map the table in code with a"
                        + " TableMapping bean; every problem found is listed, not only the first.", mapping);
    }

    private static FailureAnalysis binding(BindException bind) {
        String property = propertyName(bind);
        Object value = bind.getProperty() == null ? null : bind.getProperty().getValue();
        String reason = reason(bind);
        StringBuilder description = new StringBuilder(property).append(": ");
        if (value != null) {
            description.append("'").append(value).append("' is not a valid value");
        } else {
            description.append("the value is not valid");
        }
        if (reason != null) {
            description.append(": ").append(reason);
        }
        if (bind.getProperty() != null && bind.getProperty().getOrigin() != null) {
            description.append(" (set in ").append(bind.getProperty().getOrigin()).append(")");
        }
        Class<?> type = bind.getTarget().getType().resolve();
        String action;
        if (type != null && type.isEnum()) {
            action = "Set " + property + " to one of " + Arrays.stream(type.getEnumConstants())
                    .map(constant -> ((Enum<?>) constant).name()).collect(Collectors.joining(", ")) + ".";
        } else {
            action = "Correct " + property + " in the application's configuration.";
        }
        return new FailureAnalysis(description.toString(), action, bind);
    }

    /**
     * The property as the application wrote it. A refusing setter fails the enclosing bean's binding, so the
     * property, not the bean, names the key; and the binder's own name of it keeps only what its canonical
     * form holds (the underscore of a table name is dropped: {@code dualwrite.tables.acc_account.convert...}
     * was printed as {@code dualwrite.tables.accaccount.convert...}), while the origin keeps the source's key.
     */
    private static String propertyName(BindException bind) {
        if (bind.getProperty() == null) {
            return bind.getName().toString();
        }
        for (Origin origin = bind.getProperty().getOrigin(); origin != null; origin = origin.getParent()) {
            if (origin instanceof PropertySourceOrigin source) {
                return source.getPropertyName();
            }
        }
        return bind.getProperty().getName().toString();
    }

    /** The most specific message below the binding failure: ours when a setter refused the value. */
    private static String reason(BindException bind) {
        String reason = null;
        for (Throwable cause = bind.getCause(); cause != null; cause = cause.getCause()) {
            String message = cause.getMessage();
            if (message == null) {
                continue;
            }
            if (message.startsWith(PREFIX)) {
                int colon = message.indexOf(": ");
                return colon > 0 ? message.substring(colon + 2) : message;
            }
            reason = message;
        }
        return reason;
    }
}
