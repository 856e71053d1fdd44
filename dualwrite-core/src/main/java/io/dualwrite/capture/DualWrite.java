package io.dualwrite.capture;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Repeatable;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a method that writes rows of a mapped table, so those rows are mirrored after the
 * transaction commits. The key is a SpEL expression over the method's arguments (by name, or
 * {@code #p0}, {@code #a0}) and its return value ({@code #result}), evaluated after the method
 * returns so that generated ids can be used. Repeat the annotation for methods that write several
 * tables.
 *
 * <pre>{@code
 * @Transactional
 * @DualWrite(table = "t_order", key = "#order.id")
 * @DualWrite(table = "t_order_item", keys = "#order.items.![id]")
 * public void save(Order order) { ... }
 * }</pre>
 *
 * <p>A key that evaluates to {@code null} is an application bug: {@link DualWriteKeyException} is
 * thrown, which rolls the surrounding transaction back.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
@Repeatable(DualWrites.class)
public @interface DualWrite {

    /** @return the source table, as named in the table mappings */
    String table();

    /** @return a SpEL expression for one key (a value, or a list or array for a composite key) */
    String key() default "";

    /** @return a SpEL expression for a collection or array of keys */
    String keys() default "";

    /**
     * A SpEL expression over the method's arguments (not {@code #result}) for the request's routing key,
     * e.g. {@code "#order.userId"}. Bound in {@link io.dualwrite.routing.RoutingContext} before the
     * method and its transaction start, by {@link io.dualwrite.routing.RoutingKeyAspect}.
     *
     * @return the expression, or empty for none
     */
    String routingKey() default "";
}
