package io.dualwrite.capture;

/**
 * A {@link DualWrite} key expression is wrong: it does not parse, fails, or yields {@code null}. The
 * message names the method and the expression.
 */
public class DualWriteKeyException extends IllegalStateException {

    private static final long serialVersionUID = 1L;

    /**
     * Creates the exception.
     *
     * @param message what is wrong, naming the method and expression
     * @param cause the underlying error, or {@code null}
     */
    public DualWriteKeyException(String message, Throwable cause) {
        super(message, cause);
    }
}
