package io.dualwrite.verify;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that reads one row of a mapped table, so that a sampled share of its calls is compared on
 * both stores ({@link DoubleReader}). The key is a SpEL expression over the method's arguments (by name, or
 * {@code #p0}, {@code #a0}) and its return value ({@code #result}), evaluated after the method returns.
 * The method's result is never changed, and nothing the comparison does is thrown to the caller; a key that
 * does not evaluate is logged, not thrown.
 *
 * <pre>{@code
 * @DualRead(table = "t_order", key = "#id")
 * public Order find(long id) { ... }
 * }</pre>
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface DualRead {

    /** @return the source table, as named in the table mappings */
    String table();

    /** @return a SpEL expression for the row's source key (a value, or a list or array for a composite key) */
    String key();
}
