package io.dualwrite.autoconfigure;

/**
 * A {@code dualwrite.*} setting, or something it names, keeps the application from starting.
 * {@link DualWriteFailureAnalyzer} turns it into a description and an action.
 */
final class DualWriteSettingException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    private final String property;
    private final String action;

    /**
     * Creates the exception.
     *
     * @param property the property (or property prefix) to fix
     * @param description what is wrong, naming the bad value
     * @param action what to do about it
     */
    DualWriteSettingException(String property, String description, String action) {
        this(property, description, action, null);
    }

    /**
     * Creates the exception with its cause.
     *
     * @param property the property (or property prefix) to fix
     * @param description what is wrong, naming the bad value
     * @param action what to do about it
     * @param cause the underlying failure
     */
    DualWriteSettingException(String property, String description, String action, Throwable cause) {
        super(description, cause);
        this.property = property;
        this.action = action;
    }

    /** @return the property to fix */
    String property() {
        return property;
    }

    /** @return what to do */
    String action() {
        return action;
    }
}
